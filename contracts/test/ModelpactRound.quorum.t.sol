// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundFixture} from "./ModelpactRound.base.t.sol";

/// Issue 13 quorum: below it the round is cancelled with refunds to the wei; between the quorum
/// and the capacity the round runs as usual.
contract ModelpactRoundQuorumTest is RoundFixture {
    event RoundCancelled(uint256 joined, uint256 delivered, uint256 quorum, uint256 burned);
    event CancelRefunded(address indexed participant, uint256 bond, uint256 compensation);
    event Swept(address indexed to, uint256 amount, uint256 liability);

    address[] internal actors;

    function setUp() public override {
        super.setUp();
        round = _deploy(_menu(), _configQ(5, 3), _curve());
    }

    function test_quorum_belowAtJoinCloseCancelsWithFullRefundsToTheWei() public {
        actors = _joinMany(2);
        _phaseIs(IModelpactRound.Phase.Join);
        vm.warp(joinAt + 1);
        _phaseIs(IModelpactRound.Phase.Cancelled); // no call needed
        for (uint256 i = 0; i < 2; ++i) {
            uint256 before = actors[i].balance;
            assertEq(round.owed(actors[i]), BOND);
            vm.expectEmit(true, false, false, true, address(round));
            emit CancelRefunded(actors[i], BOND, 0);
            vm.prank(actors[i]);
            round.withdrawAfterCancel();
            assertEq(actors[i].balance, before + BOND, "exactly the bond back");
        }
        uint256 coordBefore = coordinatorAddr.balance;
        vm.expectEmit(true, false, false, true, address(round));
        emit Swept(coordinatorAddr, COORD_BOND, 0);
        round.sweep();
        assertEq(coordinatorAddr.balance, coordBefore + COORD_BOND, "the coordinator takes back B at once");
        assertEq(address(round).balance, 0);
        assertEq(round.burned(), 0, "nothing burned below the quorum");
    }

    function test_quorum_nobodyJoinedIsCancelledAndSweepsAtOnce() public {
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.SweepTooEarly.selector, block.timestamp, joinAt + 1));
        round.sweep();
        vm.warp(joinAt + 1);
        round.sweep();
        assertEq(address(round).balance, 0);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AlreadySwept.selector));
        round.sweep();
    }

    /// The coordinator's cancel (J = 4 >= Q = 3, two named undelivered) gives each participant
    /// not named exactly its bond b; the named bonds and all of B are burned: kept in the
    /// contract, reported by burned() and the event, never swept (not even the dust of B / J).
    function test_quorum_cancelBelowQuorumAfterUndelivered() public {
        actors = _joinMany(4);
        _toPost();
        address[] memory lost = _sorted(_two(actors[1], actors[3]));
        vm.expectEmit(false, false, false, true, address(round));
        emit RoundCancelled(4, 2, 3, 2 * BOND + COORD_BOND);
        vm.prank(coordinatorAddr);
        round.cancelBelowQuorum(lost);
        _phaseIs(IModelpactRound.Phase.Cancelled);
        assertEq(round.deliveredCount(), 2);
        assertEq(round.burned(), 2 * BOND + COORD_BOND);
        for (uint256 i = 0; i < 4; i += 2) {
            uint256 before = actors[i].balance;
            assertEq(round.owed(actors[i]), BOND);
            vm.expectEmit(true, false, false, true, address(round));
            emit CancelRefunded(actors[i], BOND, 0);
            vm.prank(actors[i]);
            round.withdrawAfterCancel();
            assertEq(actors[i].balance, before + BOND, "exactly the bond, to the wei");
        }
        assertEq(round.owed(actors[1]), 0);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.ParticipantUndelivered.selector, actors[1]));
        vm.prank(actors[1]);
        round.withdrawAfterCancel();
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AlreadyClaimed.selector, actors[0]));
        vm.prank(actors[0]);
        round.withdrawAfterCancel();
        uint256 coordBefore = coordinatorAddr.balance;
        vm.expectEmit(true, false, false, true, address(round));
        emit Swept(coordinatorAddr, 0, 0);
        round.sweep();
        assertEq(coordinatorAddr.balance, coordBefore, "the coordinator sweeps nothing of B");
        assertEq(address(round).balance, 2 * BOND + COORD_BOND, "the named bonds and B, burned");
        assertEq(address(round).balance, round.burned(), "balance reconciles to the wei");
    }

    function test_quorum_cancelWithEveryoneUndeliveredBurnsTheBonds() public {
        actors = _joinMany(3);
        _toPost();
        vm.prank(coordinatorAddr);
        round.cancelBelowQuorum(_sorted(actors));
        round.sweep();
        assertEq(address(round).balance, 3 * BOND + COORD_BOND, "burned: nobody's, never swept");
        assertEq(round.burned(), address(round).balance);
    }

    /// Issue 11.7: no cancel (nor post) inside the data window: MIN_WINDOW after the join
    /// deadline, or after the join that filled the round.
    function test_quorum_cancelWaitsForTheDataWindow() public {
        actors = _joinMany(3);
        vm.warp(joinAt + 1 hours);
        assertEq(round.dataDeadline(), joinAt + 1 hours);
        vm.expectRevert(
            abi.encodeWithSelector(IModelpactRound.DataWindowOpen.selector, joinAt + 1 hours, joinAt + 1 hours)
        );
        vm.prank(coordinatorAddr);
        round.cancelBelowQuorum(_one(actors[0]));
        vm.warp(joinAt + 1 hours + 1);
        vm.prank(coordinatorAddr);
        round.cancelBelowQuorum(_one(actors[0]));
    }

    function test_quorum_cancelRevertsWhenQuorumReached() public {
        actors = _joinMany(4);
        _toPost();
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.QuorumReached.selector, 3, 3));
        vm.prank(coordinatorAddr);
        round.cancelBelowQuorum(_one(actors[0]));
    }

    function test_quorum_cancelRevertsForOthersAndOutsidePost() public {
        actors = _joinMany(3);
        vm.expectRevert(_wrongPhase(IModelpactRound.Phase.Join, IModelpactRound.Phase.Post));
        vm.prank(coordinatorAddr);
        round.cancelBelowQuorum(_one(actors[0]));
        _toPost();
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotCoordinator.selector, actors[0]));
        vm.prank(actors[0]);
        round.cancelBelowQuorum(_one(actors[0]));
        vm.warp(postAt + 1);
        vm.expectRevert(_wrongPhase(IModelpactRound.Phase.Aborted, IModelpactRound.Phase.Post));
        vm.prank(coordinatorAddr);
        round.cancelBelowQuorum(_one(actors[0]));
    }

    function test_quorum_nothingElseWorksAfterACancel() public {
        actors = _joinMany(2);
        vm.warp(joinAt + 1);
        vm.startPrank(coordinatorAddr);
        vm.expectRevert(_wrongPhase(IModelpactRound.Phase.Cancelled, IModelpactRound.Phase.Post));
        round.revealCoordinator(COORD_SECRET);
        vm.stopPrank();
        vm.expectRevert(_wrongPhase(IModelpactRound.Phase.Cancelled, IModelpactRound.Phase.Aborted));
        vm.prank(actors[0]);
        round.withdrawAfterDefault();
        vm.expectRevert(_wrongPhase(IModelpactRound.Phase.Cancelled, IModelpactRound.Phase.Reveal));
        vm.prank(actors[0]);
        round.withdrawCompensation();
        vm.warp(postAt + 365 days);
        _phaseIs(IModelpactRound.Phase.Cancelled); // final
    }

    function test_quorum_betweenQuorumAndCapacityTheRoundRuns() public {
        actors = _joinMany(3); // Q = 3 <= 3 < N = 5
        _toPost();
        _phaseIs(IModelpactRound.Phase.Post);
        _revealCoordinator();
        _post();
        for (uint256 i = 0; i < 3; ++i) {
            _reveal(actors[i]);
        }
        for (uint256 i = 0; i < 3; ++i) {
            uint256 before = actors[i].balance;
            _claim(actors[i]);
            assertEq(actors[i].balance, before + BOND);
        }
    }

    function _two(address a, address b) internal pure returns (address[] memory list) {
        list = new address[](2);
        list[0] = a;
        list[1] = b;
    }
}
