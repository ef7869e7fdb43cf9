// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundFixture} from "./ModelpactRound.base.t.sol";

/// Issue 11.1: no deadline trap. Windows are at least MIN_WINDOW and measured from the post, so a
/// post at the last allowed second still leaves the full reveal window; claims and refunds never
/// expire; the sweep never takes what a participant is owed.
contract ModelpactRoundWindowsTest is RoundFixture {
    uint64 internal constant MIN = 1 hours;
    address[] internal actors;

    /// @dev The tightest schedule createRound accepts: the data window (MIN_WINDOW after the
    ///      join deadline), a one-second post window and every later window at MIN_WINDOW.
    function setUp() public override {
        super.setUp();
        IModelpactRound.Config memory cfg = _config(5);
        postAt = joinAt + MIN + 1;
        cfg.schedule = IModelpactRound.Schedule(joinAt, postAt, MIN, MIN, MIN);
        round = _deploy(_menu(), cfg, _curve());
        actors = _joinMany(3);
    }

    function _postAtLastSecond() internal {
        vm.warp(postAt);
        _revealCoordinator();
        _post();
    }

    function test_windows_atMinimumWithAPostAtTheLastSecond() public {
        _postAtLastSecond();
        IModelpactRound.Deadlines memory d = round.deadlines();
        assertEq(d.reveal, postAt + MIN, "the reveal window starts at the post");
        assertEq(d.delivery, postAt + 2 * MIN);
        assertEq(d.claim, postAt + 3 * MIN);
        vm.warp(postAt + MIN); // the last second of the reveal window
        _phaseIs(IModelpactRound.Phase.Reveal);
        _reveal(actors[0]);
        vm.warp(postAt + MIN + 1);
        _phaseIs(IModelpactRound.Phase.Claim);
        vm.expectRevert(_wrongPhase(IModelpactRound.Phase.Claim, IModelpactRound.Phase.Reveal));
        _reveal(actors[1]);
        vm.warp(postAt + 3 * MIN);
        _phaseIs(IModelpactRound.Phase.Claim);
        vm.warp(postAt + 3 * MIN + 1);
        _phaseIs(IModelpactRound.Phase.Closed);
    }

    function test_windows_postOneSecondLateIsADefault() public {
        vm.warp(postAt);
        _revealCoordinator();
        vm.warp(postAt + 1);
        vm.expectRevert(_wrongPhase(IModelpactRound.Phase.Aborted, IModelpactRound.Phase.Post));
        _post();
    }

    /// The deadline trap of issue 11: the coordinator deploys with the shortest windows, posts at
    /// the last second and sweeps at the first second it can. Participants who act within the
    /// windows miss nothing, and the sweep takes exactly B, nothing owed to a participant.
    function test_windows_deadlineTrapAttemptTakesNothingOwed() public {
        _postAtLastSecond();
        vm.warp(postAt + MIN); // participants reveal in the last second of the hour
        _reveal(actors[0]);
        _reveal(actors[1]);
        vm.warp(postAt + 3 * MIN + 1); // the first second the sweep opens: nobody has claimed yet
        uint256 owedToParticipants = round.owed(actors[0]) + round.owed(actors[1]) + round.owed(actors[2]);
        assertEq(owedToParticipants, 2 * BOND, "both revealers: their bonds (the third is burned)");
        uint256 before = coordinatorAddr.balance;
        round.sweep();
        assertEq(coordinatorAddr.balance - before, COORD_BOND, "B only");
        assertEq(address(round).balance, owedToParticipants + BOND, "owed + the burned bond");
        vm.warp(block.timestamp + 30 days); // late claimers still get everything
        uint256 a0 = actors[0].balance;
        _claim(actors[0]);
        _claim(actors[1]);
        assertEq(actors[0].balance - a0, BOND);
        assertEq(address(round).balance, BOND, "the non-revealer's bond, burned: nobody's");
    }

    /// A coordinator that defaults cannot wait out a refund window: refunds never expire.
    function test_windows_defaultRefundsNeverExpire() public {
        vm.warp(postAt + 1);
        uint256 before = coordinatorAddr.balance;
        round.sweep();
        assertEq(coordinatorAddr.balance - before, COORD_BOND % 3, "only the rounding dust of B / J");
        vm.warp(postAt + 100 * 365 days);
        uint256 a0 = actors[0].balance;
        vm.prank(actors[0]);
        round.withdrawAfterDefault();
        assertEq(actors[0].balance - a0, BOND + COORD_BOND / 3);
    }
}
