// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundMath} from "../src/libraries/RoundMath.sol";
import {RoundFixture} from "./ModelpactRound.base.t.sol";
import {ModelpactRound as ModelpactRoundForTest} from "../src/ModelpactRound.sol";

/// @dev Refuses ETH: for TransferFailed paths.
contract Rejecter {
    function join(IModelpactRound r, uint64 rows, bytes32 root, bytes32 commitment) external payable {
        r.join{value: msg.value}(0, root, rows, commitment);
    }

    function reveal(IModelpactRound r, bytes32 secret) external {
        r.reveal(secret);
    }

    function claim(IModelpactRound r) external {
        r.claim();
    }
}

/// @dev Tries to claim again from inside the ETH transfer.
contract Reenterer {
    IModelpactRound internal target;
    bool internal attacked;
    bytes internal caught;

    function join(IModelpactRound r, bytes32 commitment) external payable {
        target = r;
        r.join{value: msg.value}(0, keccak256("root"), 100, commitment);
    }

    function reveal(bytes32 secret) external {
        target.reveal(secret);
    }

    function claim() external {
        target.claim();
    }

    function lastError() external view returns (bytes memory) {
        return caught;
    }

    receive() external payable {
        if (attacked) return;
        attacked = true;
        try target.claim() {}
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
        uint256 slashShare
    );
    event DefaultRefunded(address indexed participant, uint256 bond, uint256 compensation);
    event Swept(address indexed to, uint256 amount);

    address[] internal actors;

    function _toClaimWithRevealers(uint256 joined, uint256 revealers) internal {
        actors = _toReveal(joined);
        for (uint256 i = 0; i < revealers; ++i) {
            _reveal(actors[i]);
        }
        vm.warp(revealAt + 1);
    }

    function test_claim_paysBondPlusSlashShareAndRecordsRung() public {
        _toClaimWithRevealers(5, 3);
        uint256 share = (2 * BOND) / 3;
        assertEq(round.slashShare(), share);
        address a = actors[1]; // option 1: ratio 0.6 -> target 0.54, between tiers 0.5 and 0.9
        (uint256 rung, uint256 acc, uint256 target) = round.assignment(a);
        assertEq(target, 54e16);
        bytes32 hash = rung == 2 ? keccak256("tier-2") : keccak256("collective");
        uint256 before = a.balance;
        vm.expectEmit(true, true, false, true, address(round));
        emit Claimed(a, 1, 1, target, rung, acc, hash, BOND, share);
        vm.prank(a);
        round.claim();
        assertEq(a.balance, before + BOND + share);
        assertTrue(round.participant(a).claimed);
    }

    function test_claim_fullRatioGetsTheCollectiveModel() public {
        _toClaimWithRevealers(3, 3);
        (uint256 rung, uint256 acc, uint256 target) = round.assignment(actors[2]); // ratio 1
        assertEq(rung, 3);
        assertEq(acc, 9e17);
        assertEq(target, 9e17);
    }

    function test_claim_revertsBeforeClaimPhase() public {
        actors = _toReveal(2);
        _reveal(actors[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelpactRound.WrongPhase.selector, IModelpactRound.Phase.Reveal, IModelpactRound.Phase.Claim
            )
        );
        vm.prank(actors[0]);
        round.claim();
    }

    function test_claim_revertsAfterClaimDeadline() public {
        _toClaimWithRevealers(2, 2);
        vm.warp(claimAt + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelpactRound.WrongPhase.selector, IModelpactRound.Phase.Closed, IModelpactRound.Phase.Claim
            )
        );
        vm.prank(actors[0]);
        round.claim();
    }

    function test_claim_revertsForNonParticipant() public {
        _toClaimWithRevealers(2, 2);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotParticipant.selector, address(this)));
        round.claim();
    }

    function test_claim_revertsForNonRevealer() public {
        _toClaimWithRevealers(2, 1);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotRevealed.selector, actors[1]));
        vm.prank(actors[1]);
        round.claim();
    }

    function test_claim_revertsTwice() public {
        _toClaimWithRevealers(2, 2);
        vm.prank(actors[0]);
        round.claim();
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AlreadyClaimed.selector, actors[0]));
        vm.prank(actors[0]);
        round.claim();
    }

    function test_claim_revertsWhenReceiverRejectsEth() public {
        Rejecter rej = new Rejecter();
        bytes32 secret = keccak256("rej");
        bytes32 commitment = keccak256(abi.encode(secret, address(rej), address(round), block.chainid));
        rej.join{value: BOND}(round, 100, keccak256("root"), commitment);
        _toPost();
        _revealCoordinator();
        _post();
        rej.reveal(round, secret);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.TransferFailed.selector, address(rej), BOND));
        rej.claim(round);
    }

    function test_claim_isNotReentrant() public {
        Reenterer re = new Reenterer();
        bytes32 secret = keccak256("re");
        re.join{value: BOND}(round, keccak256(abi.encode(secret, address(re), address(round), block.chainid)));
        _toPost();
        _revealCoordinator();
        _post();
        re.reveal(secret);
        re.claim();
        assertEq(re.lastError(), abi.encodeWithSignature("ReentrancyGuardReentrantCall()"));
        assertEq(address(re).balance, BOND);
    }

    function test_default_refundsBondAndCoordinatorShare() public {
        actors = _joinMany(3);
        vm.warp(postAt + 1);
        assertEq(uint8(round.phase()), uint8(IModelpactRound.Phase.Aborted));
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
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelpactRound.WrongPhase.selector, IModelpactRound.Phase.Reveal, IModelpactRound.Phase.Aborted
            )
        );
        vm.prank(actors[0]);
        round.withdrawAfterDefault();
    }

    function test_default_refundWindowClosesAtClaimDeadline() public {
        actors = _joinMany(2);
        vm.warp(claimAt + 1);
        assertEq(uint8(round.phase()), uint8(IModelpactRound.Phase.Closed));
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelpactRound.WrongPhase.selector, IModelpactRound.Phase.Closed, IModelpactRound.Phase.Aborted
            )
        );
        vm.prank(actors[0]);
        round.withdrawAfterDefault();
        round.sweep();
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

    function test_sweep_sendsEverythingLeftToCoordinator() public {
        _toClaimWithRevealers(4, 3);
        for (uint256 i = 0; i < 2; ++i) {
            vm.prank(actors[i]);
            round.claim();
        }
        vm.warp(claimAt + 1);
        uint256 left = address(round).balance;
        assertEq(left, COORD_BOND + 4 * BOND - 2 * (BOND + BOND / 3));
        uint256 before = coordinatorAddr.balance;
        vm.expectEmit(true, false, false, true, address(round));
        emit Swept(coordinatorAddr, left);
        round.sweep();
        assertEq(coordinatorAddr.balance, before + left);
        assertEq(address(round).balance, 0);
    }

    function test_sweep_revertsTooEarly() public {
        _toClaimWithRevealers(2, 2);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.SweepTooEarly.selector, block.timestamp, claimAt + 1));
        round.sweep();
    }

    function test_sweep_emptyRoundOpensAfterJoinDeadline() public {
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.SweepTooEarly.selector, block.timestamp, joinAt + 1));
        round.sweep();
        vm.warp(joinAt + 1);
        round.sweep();
        assertEq(address(round).balance, 0);
    }

    function test_sweep_revertsWhenCoordinatorRejectsEth() public {
        // The coordinator is the deploying contract, which cannot receive ETH.
        IModelpactRound r = new ModelpactRoundProxyDeployer().deploy{value: COORD_BOND}(_menu(), _config(5), _curve());
        vm.warp(joinAt + 1);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.TransferFailed.selector, r.coordinator(), COORD_BOND));
        r.sweep();
    }

    function test_roundMath_drawsHighIsExactOverResidues() public pure {
        // lo = 3, hi = 10, target = 7: residues 0..6, exactly 4 pick hi.
        uint256 hits;
        for (uint256 r = 0; r < 7; ++r) {
            if (RoundMath.drawsHigh(bytes32(r), 3, 10, 7)) ++hits;
        }
        assertEq(hits, 4);
    }
}

/// @dev A coordinator that cannot receive ETH (no receive/fallback).
contract ModelpactRoundProxyDeployer {
    function deploy(
        IModelpactRound.Option[] memory menu,
        IModelpactRound.Config memory cfg,
        IModelpactRound.CurveKnot[] memory curve
    ) external payable returns (IModelpactRound) {
        return IModelpactRound(address(new ModelpactRoundForTest{value: msg.value}(menu, cfg, curve)));
    }
}
