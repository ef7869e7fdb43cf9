// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundFixture} from "./ModelpactRound.base.t.sol";

/// Hostile review of issues 11 and 13 on v2 (the "Open holes" of SECURITY.md). Each test first
/// passed while its attack worked (branch review11); here each plays the same attack against the
/// fixed rules and shows, to the wei, that the attacker (the coordinator with the accounts it
/// holds, or a griefer with its own) ends no better off than by acting honestly.
contract ModelpactRoundReview11Test is RoundFixture {
    address[] internal actors;

    function _postCount(uint64 count, address[] memory undelivered) internal {
        IModelpactRound.PostedModel[] memory tiers = new IModelpactRound.PostedModel[](2);
        tiers[0] = _model("low", count / 4);
        tiers[1] = _model("mid", count / 2);
        vm.prank(coordinatorAddr);
        round.postModels(_model("collective", count), tiers, undelivered, _logs(2, TEST_ROWS));
    }

    function _sweepGain() internal returns (uint256) {
        uint256 before = coordinatorAddr.balance;
        round.sweep();
        return coordinatorAddr.balance - before;
    }

    /// What `who` collects after a default (withdrawAfterDefault) or a cancel (withdrawAfterCancel;
    /// 0 when it was named undelivered).
    function _refund(address who, bool afterDefault) internal returns (uint256) {
        if (round.owed(who) == 0) return 0;
        uint256 before = who.balance;
        vm.prank(who);
        if (afterDefault) round.withdrawAfterDefault();
        else round.withdrawAfterCancel();
        return who.balance - before;
    }

    /// Hole 1, closed, and the cancel rule that burns B. Above the quorum, a coordinator that
    /// would rather not post names two honest deliverers undelivered to fall below Q and cancels.
    /// Before hole 1's fix it took back all of B. Now the cancel burns B: the coordinator holds
    /// two seats (the Sybils actors[2] and actors[3]) and collects through them exactly their
    /// bonds, nothing of B, and the sweep pays it nothing. The false cancel costs it all of B,
    /// never less than a default (where its Sybils would even collect their floor(B / J)).
    function test_review_falseCancelIsNoCheaperThanADefault() public {
        round = _deploy(_menu(), _configQ(4, 3), _curve());
        actors = _joinMany(4);
        _toPost();
        uint256 snap = vm.snapshotState();
        // Honest comparison: the coordinator simply does not post.
        vm.warp(postAt + 1);
        _phaseIs(IModelpactRound.Phase.Aborted);
        uint256 defaultGain = _sweepGain() + _refund(actors[2], true) + _refund(actors[3], true);
        assertEq(defaultGain, COORD_BOND % 4 + 2 * (BOND + COORD_BOND / 4));
        vm.revertToState(snap);
        // Attack: name the two honest deliverers undelivered and cancel.
        vm.prank(coordinatorAddr);
        round.cancelBelowQuorum(_sorted(_two(actors[0], actors[1])));
        uint256 cancelGain = _sweepGain() + _refund(actors[2], false) + _refund(actors[3], false);
        assertEq(cancelGain, 2 * BOND, "the Sybils' own bonds only: the false cancel costs the coordinator B");
        assertLe(cancelGain, defaultGain, "never cheaper than a default");
        assertEq(round.owed(actors[0]), 0, "the named honest bonds are burned, not collected");
        assertEq(address(round).balance, 2 * BOND + COORD_BOND, "burned: nobody's");
        assertEq(round.burned(), address(round).balance);
    }

    /// Hole 1, the griefer's side. Exactly Q = 3 joined; a griefer holds two seats: one delivers
    /// (actors[1]), one does not (actors[2]). The honest coordinator names the non-deliverer and
    /// must cancel. The named seat loses its bond; the delivering seat gets exactly its bond
    /// back, nothing of B. The griefer's pair nets -b: griefing is spite (it destroys the round
    /// and the coordinator's B), never profit, however many delivering seats it adds.
    function test_review_griefedCancelPaysTheNamedNothing() public {
        round = _deploy(_menu(), _configQ(4, 3), _curve());
        actors = _joinMany(3);
        _toPost();
        vm.prank(coordinatorAddr);
        round.cancelBelowQuorum(_one(actors[2]));
        assertEq(round.owed(actors[2]), 0, "the named griefer: no bond, no share of B");
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.ParticipantUndelivered.selector, actors[2]));
        vm.prank(actors[2]);
        round.withdrawAfterCancel();
        uint256 pair = _refund(actors[1], false);
        assertEq(pair, BOND, "the delivering seat: its bond, nothing of B");
        // Both seats paid 2b to join: the pair's net is -b.
        assertEq(int256(pair) - int256(2 * BOND), -int256(BOND));
        assertEq(_refund(actors[0], false), BOND, "the honest deliverer: its bond");
        assertEq(_sweepGain(), 0, "the coordinator: nothing of B");
        assertEq(address(round).balance, BOND + COORD_BOND, "the griefer's bond and B, burned");
        assertEq(round.burned(), address(round).balance);
    }

    /// Attack on the cancel rule: after the coordinator's cancel, neither the coordinator nor its
    /// Sybil seats (named or not) can reach any part of B or of a named bond by any entry point:
    /// a default refund, compensation, a reveal, a second cancel, a post, a non-delivery proof,
    /// a second sweep, a year later. The balance stays exactly what burned() reports.
    function test_review_nothingReachesTheBurnedAmountAfterACancel() public {
        round = _deploy(_menu(), _configQ(4, 3), _curve());
        actors = _joinMany(4);
        _toPost();
        _revealCoordinator();
        vm.prank(coordinatorAddr);
        round.cancelBelowQuorum(_sorted(_two(actors[0], actors[1])));
        uint256 burnedAtCancel = round.burned();
        assertEq(burnedAtCancel, 2 * BOND + COORD_BOND);
        assertEq(_refund(actors[2], false), BOND, "a Sybil seat not named: its bond only");
        assertEq(_sweepGain(), 0, "the sweep: nothing");
        for (uint256 i = 0; i < 4; ++i) {
            vm.startPrank(actors[i]);
            vm.expectRevert();
            round.withdrawAfterDefault();
            vm.expectRevert();
            round.withdrawCompensation();
            if (i < 3) {
                vm.expectRevert(); // named: undelivered; actors[2]: already refunded
                round.withdrawAfterCancel();
            }
            (uint256 x, uint256 y) = _key(actors[i]);
            vm.expectRevert();
            round.reveal(_dataRoot(actors[i]), _secret(actors[i]), x, y);
            vm.expectRevert();
            round.proveNonDelivery(_dataRoot(actors[i]), _secret(actors[i]), x, y);
            vm.stopPrank();
        }
        vm.startPrank(coordinatorAddr);
        vm.expectRevert();
        round.cancelBelowQuorum(new address[](0));
        vm.expectRevert();
        round.postModels(_collective(), _tiers(), new address[](0), _logs(2, TEST_ROWS));
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AlreadySwept.selector));
        round.sweep();
        vm.warp(block.timestamp + 365 days);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AlreadySwept.selector));
        round.sweep();
        assertEq(_refund(actors[3], false), BOND, "the other Sybil: its bond only");
        assertEq(round.burned(), burnedAtCancel, "burned never changes");
        assertEq(address(round).balance, burnedAtCancel, "exactly the burned amount stays");
    }

    /// Hole 2, trusted (SECURITY.md "Curve compensation: what a false exclusion saves"). A
    /// coordinator whose collective model falls short of its curve names an honest 400-row
    /// deliverer undelivered: the prediction it is held to falls with the delivered rows and the
    /// compensation vanishes. The test pins the exact bound: what it saves is exactly the
    /// liability an honest post would have had (never more), the excluded participant's bond is
    /// burned (paid to nobody), and nothing else moves.
    function test_review_falseExclusionSavesAtMostTheHonestCompensation() public {
        IModelpactRound.Config memory cfg = _configQ(4, 1);
        cfg.shortfallWeiPerWad = 1 ether;
        round = _deploy(_menu(), cfg, _curve());
        actors = _joinMany(4); // options 0, 1, 2, 0: 800 rows, predicted 0.6667
        _toPost();
        _revealCoordinator();
        uint256 snap = vm.snapshotState();
        _postCount(500, new address[](0)); // measured 0.5: shortfall 0.1467 beyond tolerance
        uint256 honestLiability = round.liability();
        assertGt(honestLiability, 0.3 ether, "honest post: compensation owed");
        vm.warp(_claimDeadline() + 1);
        uint256 honestSweep = _sweepGain();
        assertEq(honestSweep, COORD_BOND - honestLiability);
        vm.revertToState(snap);
        _postCount(500, _one(actors[2])); // the 400-row deliverer named undelivered
        assertEq(round.liability(), 0, "false exclusion: no compensation");
        vm.warp(_claimDeadline() + 1);
        uint256 falseSweep = _sweepGain();
        assertEq(falseSweep - honestSweep, honestLiability, "it saves exactly the honest liability");
        assertEq(round.owed(actors[2]), 0);
        assertEq(address(round).balance, 4 * BOND, "three unclaimed bonds and the burned one");
    }

    /// Hole 3, closed. The coordinator holds a participant seat (a Sybil that "delivers": its word).
    /// An honest deliverer misses the reveal window; its bond is burned, so the Sybil gets its own
    /// bond back and nothing more (before the fix: b + b / 2).
    function test_review_sybilSeatCollectsNoMissedRevealBond() public {
        actors = _joinMany(3);
        address sybil = actors[2];
        _toPost();
        _revealCoordinator();
        _post();
        _reveal(actors[0]);
        _reveal(sybil); // actors[1] misses the window
        vm.warp(_revealDeadline() + 1);
        uint256 before = sybil.balance;
        _claim(sybil);
        assertEq(sybil.balance - before, BOND, "its own bond only");
        _claim(actors[0]);
        vm.warp(_claimDeadline() + 1);
        assertEq(_sweepGain(), COORD_BOND, "B, nothing of the missed bond");
        assertEq(address(round).balance, BOND, "the missed bond, burned");
    }

    /// Hole 7, closed. Capacity fills at once; a participant that delivers after its join (not
    /// with `join --inbox`) cannot be excluded by an immediate post: posting and cancelling open
    /// MIN_WINDOW after the join that filled the round.
    function test_review_noPostBeforeTheDataWindowCloses() public {
        round = _deploy(_menu(), _configQ(3, 1), _curve());
        actors = _joinMany(3); // fills the round now
        uint256 closedAt = block.timestamp;
        _phaseIs(IModelpactRound.Phase.Post);
        assertEq(round.dataDeadline(), closedAt + 1 hours);
        _revealCoordinator(); // allowed: the coordinator's secret is not about the data
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.DataWindowOpen.selector, closedAt, closedAt + 1 hours));
        _postWith(_collective(), _one(actors[2]));
        vm.warp(closedAt + 1 hours);
        vm.expectRevert(
            abi.encodeWithSelector(IModelpactRound.DataWindowOpen.selector, closedAt + 1 hours, closedAt + 1 hours)
        );
        vm.prank(coordinatorAddr);
        round.cancelBelowQuorum(_sorted(actors));
        vm.warp(closedAt + 1 hours + 1); // the first second after the window
        _post();
        _phaseIs(IModelpactRound.Phase.Reveal);
    }

    /// Hole 7, the coordinator's variant: it fills the remaining seats with its own accounts right
    /// after an honest participant joins, to close joining early. The data window runs from that
    /// fill, so the honest joiner still has the whole hour to deliver.
    function test_review_sybilFillRightAfterAJoinStillLeavesTheHour() public {
        round = _deploy(_menu(), _configQ(3, 1), _curve());
        actors = _joinMany(1);
        uint256 honestJoin = block.timestamp;
        vm.warp(honestJoin + 1);
        address s1 = _actor(101);
        address s2 = _actor(102);
        _join(s1, 0);
        _join(s2, 0); // the round is full one second after the honest join
        assertEq(round.dataDeadline(), honestJoin + 1 + 1 hours);
        _revealCoordinator();
        vm.warp(honestJoin + 1 hours);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelpactRound.DataWindowOpen.selector, honestJoin + 1 hours, honestJoin + 1 + 1 hours
            )
        );
        _postWith(_collective(), _one(actors[0]));
    }

    /// Hole 4 (documented, not a contract rule): with quorum = capacity, one joiner that never
    /// delivers forces the round below quorum. The cancel then burns the honest coordinator's B
    /// (what a default costs it) and the griefer's bond: spite, not profit; the planning default keeps
    /// Q = N only where the menu's promises need every seat (SECURITY.md, "Quorum").
    function test_review_singleGriefAtQuorumCapacityCostsTheGrieferItsBond() public {
        round = _deploy(_menu(), _configQ(3, 3), _curve());
        actors = _joinMany(3);
        _toPost();
        _revealCoordinator();
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.BelowQuorum.selector, 2, 3));
        vm.prank(coordinatorAddr);
        round.postModels(_collective(), _tiers(), _one(actors[2]), _logs(2, TEST_ROWS));
        vm.prank(coordinatorAddr);
        round.cancelBelowQuorum(_one(actors[2]));
        _phaseIs(IModelpactRound.Phase.Cancelled);
        assertEq(round.owed(actors[2]), 0, "the griefer collects nothing");
        assertEq(round.owed(actors[0]), BOND, "the others: exactly their bonds");
    }

    function _two(address a, address b) internal pure returns (address[] memory list) {
        list = new address[](2);
        (list[0], list[1]) = (a, b);
    }
}
