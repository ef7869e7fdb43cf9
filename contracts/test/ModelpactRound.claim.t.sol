// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ModelpactFactory} from "../src/ModelpactFactory.sol";
import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundMath} from "../src/libraries/RoundMath.sol";
import {RoundFixture} from "./ModelpactRound.base.t.sol";

/// @dev A participant contract: joins, reveals and claims with a fixed secret and key; refuses ETH
///      unless `accepts`, and can try to re-enter `claim` and `withdrawCompensation` from `receive`.
contract ContractParticipant {
    IModelpactRound internal target;
    bytes32 internal secret;
    uint256 internal keyX = 1;
    uint256 internal keyY = 2;
    bool public accepts;
    bool public reenter;
    bool internal attacked;
    bytes public caught;

    constructor(IModelpactRound r, bytes32 secret_, bool accepts_, bool reenter_) {
        target = r;
        secret = secret_;
        accepts = accepts_;
        reenter = reenter_;
    }

    function commitment() public view returns (bytes32) {
        return keccak256(abi.encode(secret, keyX, keyY, address(this), address(target), block.chainid));
    }

    function root() public view returns (bytes32) {
        return keccak256(abi.encode("root", address(this)));
    }

    function join() external payable {
        target.join{value: msg.value}(0, root(), 100, commitment());
    }

    function reveal() external {
        target.reveal(root(), secret, keyX, keyY);
    }

    function claim() external {
        target.claim(root(), secret, keyX, keyY);
    }

    receive() external payable {
        if (!accepts) revert("no ETH");
        if (!reenter || attacked) return;
        attacked = true;
        try target.claim(root(), secret, keyX, keyY) {}
        catch (bytes memory err) {
            caught = err;
        }
    }
}

contract ModelpactRoundClaimTest is RoundFixture {
    event Claimed(
        address indexed participant,
        uint256 indexed index,
        uint256 optionId,
        uint256 targetAccuracyWad,
        uint256 rung,
        uint256 accuracyWad,
        bytes32 modelHash,
        uint256 bondRefund,
        uint256 slashShare,
        uint256 compensation
    );
    event DefaultRefunded(address indexed participant, uint256 bond, uint256 compensation);

    address[] internal actors;

    function _toClaimWithRevealers(uint256 joined, uint256 revealers) internal {
        actors = _toReveal(joined);
        for (uint256 i = 0; i < revealers; ++i) {
            _reveal(actors[i]);
        }
        vm.warp(_revealDeadline() + 1);
    }

    /// Two of five deliverers do not reveal: their bonds are burned, never shared (review hole 3),
    /// so a revealer gets exactly its bond (and no compensation without a shortfall).
    function test_claim_paysTheBondAndRecordsRung() public {
        _toClaimWithRevealers(5, 3);
        uint256 share = 0;
        assertEq(round.slashShare(), share);
        address a = actors[1]; // option 1: ratio 0.6 -> target 0.54, between tiers 0.5 and 0.9
        (uint256 rung, uint256 acc, uint256 target) = round.assignment(a, _secret(a));
        assertEq(target, 54e16);
        bytes32 hash = rung == 2 ? keccak256("tier-2") : keccak256("collective");
        uint256 before = a.balance;
        assertEq(round.owed(a), BOND + share);
        vm.expectEmit(true, true, false, true, address(round));
        emit Claimed(a, 1, 1, target, rung, acc, hash, BOND, share, 0);
        _claim(a);
        assertEq(a.balance, before + BOND + share);
        assertTrue(round.participant(a).claimed);
        assertEq(round.owed(a), 0);
    }

    function test_claim_fullRatioGetsTheCollectiveModel() public {
        _toClaimWithRevealers(3, 3);
        (uint256 rung, uint256 acc, uint256 target) = round.assignment(actors[2], _secret(actors[2])); // ratio 1
        assertEq(rung, 3);
        assertEq(acc, 9e17);
        assertEq(target, 9e17);
    }

    function test_claim_opensOnceEveryDelivererRevealed() public {
        actors = _toReveal(2);
        _reveal(actors[0]);
        vm.expectRevert(_wrongPhase(IModelpactRound.Phase.Reveal, IModelpactRound.Phase.Claim));
        _claim(actors[0]);
        _reveal(actors[1]);
        _claim(actors[0]); // before the reveal deadline: everyone revealed
    }

    /// Claims have no deadline: a late claimer gets its bond after the claim deadline.
    function test_claim_lateClaimerAfterTheClaimDeadlineStillGetsItsBond() public {
        _toClaimWithRevealers(4, 2);
        vm.warp(_claimDeadline() + 365 days);
        _phaseIs(IModelpactRound.Phase.Closed);
        round.sweep(); // the coordinator's sweep happens first and takes nothing owed
        uint256 before = actors[0].balance;
        _claim(actors[0]);
        assertEq(actors[0].balance, before + BOND, "its bond; the two forfeited bonds are burned");
        _claim(actors[1]);
        assertEq(address(round).balance, 2 * BOND, "nothing left but the burned forfeits");
    }

    function test_claim_revertsForNonParticipant() public {
        _toClaimWithRevealers(2, 2);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotParticipant.selector, address(this)));
        round.claim(bytes32(0), bytes32(0), 0, 0);
    }

    function test_claim_revertsForNonRevealer() public {
        _toClaimWithRevealers(2, 1);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotRevealed.selector, actors[1]));
        _claim(actors[1]);
    }

    function test_claim_revertsTwice() public {
        _toClaimWithRevealers(2, 2);
        _claim(actors[0]);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AlreadyClaimed.selector, actors[0]));
        _claim(actors[0]);
    }

    /// The secret decides the rung, so a claim must present the committed one: a revealed
    /// participant cannot shop for a better rung with another secret.
    function test_claim_revertsOnAnotherSecret() public {
        _toClaimWithRevealers(2, 2);
        address a = actors[0];
        (uint256 x, uint256 y) = _key(a);
        vm.expectPartialRevert(IModelpactRound.RevealMismatch.selector);
        vm.prank(a);
        round.claim(_dataRoot(a), keccak256("better"), x, y);
    }

    /// Issue 11.6: a revealed copier cannot claim with the victim's root and published secret.
    function test_claim_anotherParticipantsRootCannotBeUsed() public {
        _toClaimWithRevealers(2, 2);
        (uint256 x, uint256 y) = _key(actors[0]);
        vm.expectPartialRevert(IModelpactRound.RevealMismatch.selector);
        vm.prank(actors[1]);
        round.claim(_dataRoot(actors[0]), _secret(actors[0]), x, y);
    }

    function test_claim_revertsWhenReceiverRejectsEth() public {
        ContractParticipant rej = new ContractParticipant(round, keccak256("rej"), false, false);
        rej.join{value: BOND}();
        _toPost();
        _revealCoordinator();
        _post();
        rej.reveal();
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.TransferFailed.selector, address(rej), BOND));
        rej.claim();
        assertEq(address(round).balance, COORD_BOND + BOND, "the bond stays claimable");
    }

    function test_claim_isNotReentrant() public {
        ContractParticipant re = new ContractParticipant(round, keccak256("re"), true, true);
        re.join{value: BOND}();
        _toPost();
        _revealCoordinator();
        _post();
        re.reveal();
        re.claim();
        assertEq(re.caught(), abi.encodeWithSignature("ReentrancyGuardReentrantCall()"));
        assertEq(address(re).balance, BOND);
    }

    // --------------------------------------------------------------------- coordinator default

    function test_default_refundsBondAndCoordinatorShare() public {
        actors = _joinMany(3);
        vm.warp(postAt + 1);
        _phaseIs(IModelpactRound.Phase.Aborted);
        uint256 compensation = COORD_BOND / 3;
        uint256 before = actors[0].balance;
        vm.expectEmit(true, false, false, true, address(round));
        emit DefaultRefunded(actors[0], BOND, compensation);
        vm.prank(actors[0]);
        round.withdrawAfterDefault();
        assertEq(actors[0].balance, before + BOND + compensation);
    }

    function test_default_revertsWhenCoordinatorPosted() public {
        actors = _toReveal(2);
        vm.warp(postAt + 1);
        vm.expectRevert(_wrongPhase(IModelpactRound.Phase.Reveal, IModelpactRound.Phase.Aborted));
        vm.prank(actors[0]);
        round.withdrawAfterDefault();
    }

    /// Refunds after a default have no deadline; the sweep takes only the rounding dust.
    function test_default_refundHasNoDeadlineAndSweepTakesOnlyDust() public {
        actors = _joinMany(3);
        vm.warp(postAt + 1);
        uint256 before = coordinatorAddr.balance;
        round.sweep();
        assertEq(coordinatorAddr.balance - before, COORD_BOND - 3 * (COORD_BOND / 3), "dust only");
        vm.warp(postAt + 10 * 365 days);
        for (uint256 i = 0; i < 3; ++i) {
            vm.prank(actors[i]);
            round.withdrawAfterDefault();
        }
        assertEq(address(round).balance, 0);
    }

    function test_default_revertsForNonParticipantAndTwice() public {
        actors = _joinMany(2);
        vm.warp(postAt + 1);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotParticipant.selector, address(this)));
        round.withdrawAfterDefault();
        vm.prank(actors[0]);
        round.withdrawAfterDefault();
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AlreadyClaimed.selector, actors[0]));
        vm.prank(actors[0]);
        round.withdrawAfterDefault();
    }

    function test_roundMath_drawsHighIsExactOverResidues() public pure {
        // lo = 3, hi = 10, target = 7: residues 0..6, exactly 4 pick hi.
        uint256 hits;
        for (uint256 r = 0; r < 7; ++r) {
            if (RoundMath.drawsHigh(bytes32(r), 3, 10, 7)) ++hits;
        }
        assertEq(hits, 4);
    }

    function test_sweep_revertsWhenCoordinatorRejectsEth() public {
        // The coordinator is the deploying contract, which cannot receive ETH.
        IModelpactRound.Config memory cfg = _config(5);
        RoundDeployer deployer = new RoundDeployer();
        cfg.coordinatorCommitment = keccak256(abi.encode(COORD_SECRET, address(deployer), SCENARIO, block.chainid));
        IModelpactRound r = deployer.deploy{value: COORD_BOND}(factory, _menu(), cfg, _curve());
        vm.warp(joinAt + 1); // nobody joined: below quorum, Cancelled, B sweepable at once
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.TransferFailed.selector, r.coordinator(), COORD_BOND));
        r.sweep();
    }
}

/// @dev A coordinator that cannot receive ETH (no receive/fallback).
contract RoundDeployer {
    function deploy(
        ModelpactFactory factory_,
        IModelpactRound.Option[] memory menu,
        IModelpactRound.Config memory cfg,
        IModelpactRound.CurveKnot[] memory curve
    ) external payable returns (IModelpactRound) {
        return IModelpactRound(factory_.createRound{value: msg.value}(menu, cfg, curve));
    }
}
