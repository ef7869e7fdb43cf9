// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundFixture} from "./ModelpactRound.base.t.sol";

contract ModelpactRoundRevealTest is RoundFixture {
    event Revealed(address indexed participant, uint256 indexed index, bytes32 secret, bytes32 drawSeed);

    address[] internal actors;

    function setUp() public override {
        super.setUp();
        actors = _toReveal(3);
    }

    function test_reveal_storesSeedFromBothSecrets() public {
        address a = actors[1];
        bytes32 seed = keccak256(abi.encode(COORD_SECRET, _secret(a), address(round), uint256(1)));
        vm.expectEmit(true, true, false, true, address(round));
        emit Revealed(a, 1, _secret(a), seed);
        _reveal(a);
        IModelpactRound.Participant memory p = round.participant(a);
        assertTrue(p.revealed);
        assertEq(p.drawSeed, seed);
        assertEq(p.commitment, bytes32(0));
        assertEq(round.revealedCount(), 1);
    }

    function test_reveal_allRevealedEndsRevealEarly() public {
        for (uint256 i = 0; i < 3; ++i) {
            _reveal(actors[i]);
        }
        assertEq(uint8(round.phase()), uint8(IModelpactRound.Phase.Claim));
    }

    function test_reveal_revertsBeforeModelsPosted() public {
        RoundFixture.setUp();
        address a = _actor(1);
        _join(a, 0);
        _toPost();
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelpactRound.WrongPhase.selector, IModelpactRound.Phase.Post, IModelpactRound.Phase.Reveal
            )
        );
        _reveal(a);
    }

    function test_reveal_revertsAfterDeadline() public {
        vm.warp(revealAt + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelpactRound.WrongPhase.selector, IModelpactRound.Phase.Claim, IModelpactRound.Phase.Reveal
            )
        );
        _reveal(actors[0]);
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
        bytes32 computed = keccak256(abi.encode(wrong, a, address(round), block.chainid));
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.RevealMismatch.selector, a, _commitment(a), computed));
        vm.prank(a);
        round.reveal(wrong);
    }

    function test_assignment_revertsBeforeReveal() public {
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotRevealed.selector, actors[0]));
        round.assignment(actors[0]);
    }
}
