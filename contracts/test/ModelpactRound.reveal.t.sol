// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundFixture} from "./ModelpactRound.base.t.sol";

contract ModelpactRoundRevealTest is RoundFixture {
    event Revealed(
        address indexed participant,
        uint256 indexed index,
        bytes32 secret,
        uint256 deliveryKeyX,
        uint256 deliveryKeyY,
        bytes32 drawSeed
    );

    address[] internal actors;

    function setUp() public override {
        super.setUp();
        actors = _toReveal(3);
    }

    function test_reveal_emitsSecretKeyAndSeedFromBothSecrets() public {
        address a = actors[1];
        bytes32 seed = keccak256(abi.encode(COORD_SECRET, _secret(a), address(round), uint256(1)));
        (uint256 x, uint256 y) = _key(a);
        vm.expectEmit(true, true, false, true, address(round));
        emit Revealed(a, 1, _secret(a), x, y, seed);
        _reveal(a);
        IModelpactRound.Participant memory p = round.participant(a);
        assertTrue(p.revealed);
        assertEq(round.revealedCount(), 1);
        assertEq(round.commitmentOf(_dataRoot(a)), _stored(_commitment(a), a), "the commitment stays");
        (uint256 rung,, uint256 target) = round.assignment(a, _secret(a));
        (uint256 rung2,, uint256 target2) = round.exposedAssign(6e17, seed);
        assertEq(rung, rung2);
        assertEq(target, target2);
    }

    function test_reveal_allRevealedEndsRevealEarly() public {
        for (uint256 i = 0; i < 3; ++i) {
            _reveal(actors[i]);
        }
        _phaseIs(IModelpactRound.Phase.Claim);
    }

    function test_reveal_revertsBeforeModelsPosted() public {
        RoundFixture.setUp();
        address a = _actor(1);
        _join(a, 0);
        _toPost();
        vm.expectRevert(_wrongPhase(IModelpactRound.Phase.Post, IModelpactRound.Phase.Reveal));
        _reveal(a);
    }

    function test_reveal_revertsAfterDeadline() public {
        vm.warp(_revealDeadline() + 1);
        vm.expectRevert(_wrongPhase(IModelpactRound.Phase.Claim, IModelpactRound.Phase.Reveal));
        _reveal(actors[0]);
    }

    function test_reveal_acceptsAtTheDeadlineSecond() public {
        vm.warp(_revealDeadline());
        _reveal(actors[0]);
        assertTrue(round.participant(actors[0]).revealed);
    }

    function test_reveal_revertsForNonParticipant() public {
        address stranger = _actor(77);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotParticipant.selector, stranger));
        _reveal(stranger);
    }

    function test_reveal_revertsTwice() public {
        _reveal(actors[0]);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AlreadyRevealed.selector, actors[0]));
        _reveal(actors[0]);
    }

    function test_reveal_revertsOnWrongSecret() public {
        address a = actors[0];
        bytes32 wrong = keccak256("wrong");
        (uint256 x, uint256 y) = _key(a);
        bytes32 computed = _stored(keccak256(abi.encode(wrong, x, y, a, address(round), block.chainid)), a);
        vm.expectRevert(
            abi.encodeWithSelector(IModelpactRound.RevealMismatch.selector, a, _stored(_commitment(a), a), computed)
        );
        vm.prank(a);
        round.reveal(_dataRoot(a), wrong, x, y);
    }

    function test_reveal_revertsOnAnotherDeliveryKey() public {
        address a = actors[0];
        (uint256 x, uint256 y) = _key(actors[1]);
        vm.expectPartialRevert(IModelpactRound.RevealMismatch.selector);
        vm.prank(a);
        round.reveal(_dataRoot(a), _secret(a), x, y);
    }

    /// Issue 11.6: presenting another participant's data root (and even its published secret and
    /// key) fails, because the stored commitment binds that participant's address.
    function test_reveal_anotherParticipantsRootCannotBeUsed() public {
        address victim = actors[0];
        address copier = actors[1];
        _reveal(victim); // secret and key now public
        (uint256 x, uint256 y) = _key(victim);
        bytes32 computed =
            _stored(keccak256(abi.encode(_secret(victim), x, y, copier, address(round), block.chainid)), copier);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelpactRound.RevealMismatch.selector, copier, _stored(_commitment(victim), victim), computed
            )
        );
        vm.prank(copier);
        round.reveal(_dataRoot(victim), _secret(victim), x, y);
    }

    function test_reveal_revertsOnDeliveryKeyOffTheCurve() public {
        RoundFixture.setUp();
        address a = _actor(1);
        uint256[2][3] memory bad = [
            [uint256(1), uint256(3)],
            [uint256(0), uint256(0)],
            [uint256(1), uint256(2) + 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47]
        ];
        for (uint256 i = 0; i < 3; ++i) {
            RoundFixture.setUp();
            bytes32 commitment =
                keccak256(abi.encode(_secret(a), bad[i][0], bad[i][1], a, address(round), block.chainid));
            vm.prank(a);
            round.join{value: BOND}(0, _dataRoot(a), 100, commitment);
            _toPost();
            _revealCoordinator();
            _post();
            vm.expectRevert(abi.encodeWithSelector(IModelpactRound.InvalidDeliveryKey.selector, bad[i][0], bad[i][1]));
            vm.prank(a);
            round.reveal(_dataRoot(a), _secret(a), bad[i][0], bad[i][1]);
        }
    }

    function test_reveal_undeliveredParticipantCannotReveal() public {
        RoundFixture.setUp();
        address[] memory a = _joinMany(3);
        _toPost();
        _revealCoordinator();
        _postWith(_collective(), _one(a[2]));
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.ParticipantUndelivered.selector, a[2]));
        _reveal(a[2]);
        _reveal(a[0]);
        _reveal(a[1]);
        _phaseIs(IModelpactRound.Phase.Claim); // every deliverer revealed: Reveal ends early
    }

    function test_assignment_needsAPost() public view {
        round.assignment(actors[0], _secret(actors[0])); // posted: computable for anyone
    }
}
