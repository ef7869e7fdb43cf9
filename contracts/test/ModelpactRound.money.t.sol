// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundFixture, RoundHarness} from "./ModelpactRound.base.t.sol";

/// Section 4 of the v2 design: who is owed what. Undelivered participants forfeit to revealers,
/// never to the coordinator; forfeits nobody can take are burned; the curve shortfall is paid from
/// the coordinator's bond per the rule, capped by the allot; the sweep pays exactly B minus what
/// participants are owed; a proven fraud or a failed delivery raises entitlements to the allot.
contract ModelpactRoundMoneyTest is RoundFixture {
    event CompensationPaid(address indexed participant, uint256 amount, uint256 paidFromBond);
    event FraudProven(
        IModelpactRound.FraudKind kind, uint256 rung, uint256 row, address indexed challenger, uint256 reward
    );
    event DeliveryFailed(address indexed participant, IModelpactRound.DeliveryFailure reason, uint256 entitlement);
    event Swept(address indexed to, uint256 amount, uint256 liability);

    uint256 internal constant FRAUD_REWARD = COORD_BOND / 10;
    address[] internal actors;

    /// @dev Posts a collective model scoring `count` / 1000 with tiers at a quarter and a half of it.
    function _postCollective(uint64 count, address[] memory undelivered) internal {
        IModelpactRound.PostedModel[] memory tiers = new IModelpactRound.PostedModel[](2);
        tiers[0] = _model("low", count / 4);
        tiers[1] = _model("mid", count / 2);
        vm.prank(coordinatorAddr);
        round.postModels(_model("collective", count), tiers, undelivered, _logs(2, TEST_ROWS));
    }

    function _start(uint256 n, uint64 collectiveCount, address[] memory undelivered) internal {
        actors = _joinMany(n);
        _toPost();
        _revealCoordinator();
        _postCollective(collectiveCount, undelivered);
    }

    function _sweepGain() internal returns (uint256) {
        uint256 before = coordinatorAddr.balance;
        round.sweep();
        return coordinatorAddr.balance - before;
    }

    function _gain(address who, function(address) internal action) internal returns (uint256) {
        uint256 before = who.balance;
        action(who);
        return who.balance - before;
    }

    function _withdraw(address who) internal {
        vm.prank(who);
        round.withdrawCompensation();
    }

    // --------------------------------------------------------------------- forfeits

    /// Issue 11.2: an undelivered participant gets no model, cannot reveal or claim, and its bond
    /// is burned: paid neither to the coordinator nor to anyone the coordinator could control.
    /// A deliverer that does not reveal forfeits its bond, burned too (review hole 3).
    function test_money_undeliveredBondIsBurnedNeverPaid() public {
        actors = _joinMany(4); // options 0, 1, 2, 0
        _toPost();
        _revealCoordinator();
        _postCollective(900, _one(actors[3]));
        _reveal(actors[0]);
        _reveal(actors[1]); // actors[2] delivered but does not reveal
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.ParticipantUndelivered.selector, actors[3]));
        _reveal(actors[3]);
        vm.warp(_revealDeadline() + 1);
        assertEq(round.slashShare(), 0, "forfeits are never shared");
        assertEq(_gain(actors[0], _claim), BOND);
        assertEq(_gain(actors[1], _claim), BOND);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotRevealed.selector, actors[3]));
        _claim(actors[3]);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.ParticipantUndelivered.selector, actors[3]));
        _withdraw(actors[3]);
        assertEq(round.owed(actors[3]), 0);
        vm.warp(_claimDeadline() + 1);
        assertEq(_sweepGain(), COORD_BOND, "exactly B");
        assertEq(address(round).balance, 2 * BOND, "the undelivered and the unrevealed bond, burned");
    }

    /// The attack that burning stops: a coordinator holding a participant account of its own names
    /// every honest participant undelivered. Its account reveals and claims: it gets its own bond
    /// back and nothing of theirs; the coordinator sweeps B; the honest bonds are burned.
    function test_money_falseExclusionPaysTheCoordinatorsOwnAccountNothing() public {
        actors = _joinMany(4);
        address sybil = actors[3];
        _toPost();
        _revealCoordinator();
        _postCollective(900, _sorted(_three(actors[0], actors[1], actors[2])));
        _reveal(sybil);
        assertEq(round.slashShare(), 0);
        assertEq(_gain(sybil, _claim), BOND, "its own bond, no honest bond");
        vm.warp(_claimDeadline() + 1);
        assertEq(_sweepGain(), COORD_BOND);
        assertEq(address(round).balance, 3 * BOND);
    }

    function _three(address a, address b, address c) internal pure returns (address[] memory list) {
        list = new address[](3);
        (list[0], list[1], list[2]) = (a, b, c);
    }

    /// Issue 11.1: when nobody reveals, the forfeited bonds are burned, not swept.
    function test_money_nobodyRevealedBurnsTheBonds() public {
        _start(3, 900, new address[](0));
        vm.warp(_claimDeadline() + 1);
        vm.expectEmit(true, false, false, true, address(round));
        emit Swept(coordinatorAddr, COORD_BOND, 0);
        assertEq(_sweepGain(), COORD_BOND);
        assertEq(address(round).balance, 3 * BOND, "burned: they stay in the contract for ever");
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(round.owed(actors[i]), 0);
        }
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AlreadySwept.selector));
        round.sweep();
    }

    function test_money_sweepOpensOnlyAfterTheClaimDeadline() public {
        _start(2, 900, new address[](0));
        uint256 opens = _claimDeadline() + 1;
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.SweepTooEarly.selector, block.timestamp, opens));
        round.sweep();
        vm.warp(_claimDeadline());
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.SweepTooEarly.selector, block.timestamp, opens));
        round.sweep();
        vm.warp(opens);
        round.sweep();
    }

    // --------------------------------------------------------------------- curve compensation

    /// Issue 13: 700 delivered rows predict 0.6; the collective model measures 0.5; tolerance 0.02:
    /// shortfall 0.08. Each deliverer is owed ratio * 0.08 * rho, paid at claim (or withdrawn by a
    /// non-revealer), and the sweep leaves exactly that liability in the contract.
    function test_money_curveShortfallIsCompensatedPerTheRule() public {
        _start(3, 500, new address[](0));
        (uint256 s, uint256 allot) = round.shortfall();
        assertEq(s, 8e16);
        assertEq(allot, (COORD_BOND - FRAUD_REWARD) / 3);
        uint256[3] memory comp =
            [uint256(25e16) * 8e16 * RHO / 1e36, 6e17 * 8e16 * RHO / 1e36, 1e18 * 8e16 * RHO / 1e36];
        assertEq(comp[1], 4.8e14);
        uint256 liability = comp[0] + comp[1] + comp[2];
        assertEq(round.liability(), liability);
        for (uint256 i = 0; i < 3; ++i) {
            (uint256 owedFromBond, uint256 paid) = round.entitlement(actors[i]);
            assertEq(owedFromBond, comp[i]);
            assertEq(paid, 0);
        }
        _reveal(actors[0]);
        _reveal(actors[1]);
        vm.warp(_revealDeadline() + 1);
        uint256 share = 0; // the non-revealer's bond is burned, not shared
        assertEq(_gain(actors[0], _claim), BOND + share + comp[0]);
        assertEq(_gain(actors[1], _claim), BOND + share + comp[1]);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NothingOwed.selector, actors[1]));
        _withdraw(actors[1]);
        vm.warp(_claimDeadline() + 1);
        assertEq(_sweepGain(), COORD_BOND - liability, "B minus the liability");
        // The non-revealing deliverer's compensation is still there, with no deadline.
        vm.warp(block.timestamp + 365 days);
        vm.expectEmit(true, false, false, true, address(round));
        emit CompensationPaid(actors[2], comp[2], comp[2]);
        assertEq(_gain(actors[2], _withdraw), comp[2]);
        assertEq(address(round).balance, BOND, "its unrevealed bond, burned");
    }

    function test_money_curveCompensationIsCappedByTheAllot() public {
        IModelpactRound.Config memory cfg = _config(5);
        cfg.shortfallWeiPerWad = 1e19; // 10 ether per 1.0 of shortfall
        round = _deploy(_menu(), cfg, _curve());
        _start(3, 500, new address[](0));
        uint256 allot = 3e17;
        // ratio 0.25 -> 0.2 ether; ratio 0.6 -> 0.48 ether, capped; ratio 1 -> 0.8 ether, capped.
        (uint256 e0,) = round.entitlement(actors[0]);
        (uint256 e1,) = round.entitlement(actors[1]);
        (uint256 e2,) = round.entitlement(actors[2]);
        assertEq(e0, 2e17);
        assertEq(e1, allot);
        assertEq(e2, allot);
        assertEq(round.liability(), 2e17 + 2 * allot);
        vm.warp(_claimDeadline() + 1);
        assertEq(_sweepGain(), COORD_BOND - 8e17);
        for (uint256 i = 0; i < 3; ++i) {
            _withdraw(actors[i]);
        }
        assertEq(address(round).balance, 3 * BOND, "only the burned bonds (nobody revealed) remain");
    }

    function test_money_undeliveredParticipantsOweNoCompensationAndShrinkThePrediction() public {
        actors = _joinMany(3);
        _toPost();
        _revealCoordinator();
        // Without actors[2] (400 rows): 300 rows predict 0.2 + 0.6 * 200 / 900 = 0.3333...;
        // measured 0.25, tolerance 0.02: shortfall 0.0633...
        _postCollective(250, _one(actors[2]));
        (uint256 s, uint256 allot) = round.shortfall();
        uint256 predicted = 2e17 + uint256(6e17) * 200 / 900;
        assertEq(s, predicted - 2e16 - 25e16);
        assertEq(allot, 45e16);
        (uint256 e2,) = round.entitlement(actors[2]);
        assertEq(e2, 0);
        (uint256 e0,) = round.entitlement(actors[0]);
        (uint256 e1,) = round.entitlement(actors[1]);
        assertEq(round.liability(), e0 + e1);
        assertEq(e1, uint256(6e17) * s * RHO / 1e36);
    }

    function test_money_withdrawCompensationErrors() public {
        actors = _joinMany(2);
        vm.expectRevert(_wrongPhase(IModelpactRound.Phase.Join, IModelpactRound.Phase.Reveal));
        _withdraw(actors[0]);
        _toPost();
        _revealCoordinator();
        _postCollective(900, new address[](0));
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NothingOwed.selector, actors[0]));
        _withdraw(actors[0]);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotParticipant.selector, address(this)));
        round.withdrawCompensation();
    }

    // --------------------------------------------------------------------- fraud and delivery hooks

    /// Issue 14 money rule: a proven fraud pays the challenger 10% of B at once, raises every
    /// deliverer's entitlement to its allot (revealed or not), and leaves the coordinator nothing.
    function test_money_fraudGivesTheBondToChallengerAndDeliverers() public {
        _start(3, 900, new address[](0));
        _reveal(actors[0]);
        _reveal(actors[1]);
        vm.warp(_revealDeadline() + 1);
        _claim(actors[0]); // claimed before the fraud: gets the increase later
        address challenger = _actor(42);
        vm.expectEmit(true, false, false, true, address(round));
        emit FraudProven(IModelpactRound.FraudKind.WrongPrediction, 3, 17, challenger, FRAUD_REWARD);
        uint256 before = challenger.balance;
        vm.prank(challenger);
        round.exposedProveFraud(IModelpactRound.FraudKind.WrongPrediction, 3, 17);
        assertEq(challenger.balance - before, FRAUD_REWARD);
        assertTrue(round.fraudProven());
        assertEq(round.liability(), COORD_BOND);
        uint256 allot = 3e17;
        assertEq(_gain(actors[0], _withdraw), allot);
        assertEq(_gain(actors[1], _claim), BOND + allot);
        assertEq(_gain(actors[2], _withdraw), allot, "a deliverer that did not reveal");
        vm.warp(_claimDeadline() + 1);
        assertEq(_sweepGain(), 0, "the coordinator gets nothing back after fraud");
        assertEq(address(round).balance, BOND, "the non-revealer's bond, burned");
    }

    /// Issue 15 money rule: a failed delivery tops the participant up to its allot at once and adds
    /// (allot - curve compensation) to the liability the sweep respects.
    function test_money_failedDeliveryPaysTheAllotAtOnce() public {
        _start(3, 500, new address[](0)); // shortfall: compensation > 0
        _reveal(actors[1]);
        _reveal(actors[2]);
        vm.warp(_revealDeadline() + 1);
        _claim(actors[1]);
        (uint256 comp1,) = round.entitlement(actors[1]);
        uint256 liabilityBefore = round.liability();
        uint256 allot = 3e17;
        vm.expectEmit(true, false, false, true, address(round));
        emit DeliveryFailed(actors[1], IModelpactRound.DeliveryFailure.WrongModel, allot);
        uint256 before = actors[1].balance;
        vm.prank(actors[1]);
        round.exposedFailDelivery(IModelpactRound.DeliveryFailure.WrongModel);
        assertEq(actors[1].balance - before, allot - comp1, "topped up to the allot");
        assertTrue(round.participant(actors[1]).deliveryFailed);
        assertEq(round.liability(), liabilityBefore + allot - comp1);
        // Before its claim: the failure pays the whole allot; the claim then pays the bond.
        vm.prank(actors[2]);
        round.exposedFailDelivery(IModelpactRound.DeliveryFailure.NotDelivered);
        assertEq(_gain(actors[2], _claim), BOND);
        vm.warp(_claimDeadline() + 1);
        uint256 liability = round.liability();
        assertEq(_sweepGain(), COORD_BOND - liability);
        (uint256 comp0,) = round.entitlement(actors[0]);
        assertEq(_gain(actors[0], _withdraw), comp0);
        assertEq(address(round).balance, BOND, "every wei paid to whom it was owed; the forfeit burned");
    }

    function test_money_fraudAfterAFailedDeliveryOwesEachDelivererOneAllot() public {
        _start(3, 900, new address[](0));
        _reveal(actors[0]);
        vm.prank(actors[0]);
        round.exposedFailDelivery(IModelpactRound.DeliveryFailure.NotDelivered);
        vm.prank(_actor(9));
        round.exposedProveFraud(IModelpactRound.FraudKind.WrongAccuracy, 1, 999);
        (uint256 e0, uint256 p0) = round.entitlement(actors[0]);
        assertEq(e0, 3e17);
        assertEq(p0, 3e17);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NothingOwed.selector, actors[0]));
        _withdraw(actors[0]);
        assertEq(_gain(actors[1], _withdraw), 3e17);
        // A failed delivery after fraud raises nothing more.
        _reveal(actors[2]);
        uint256 before = actors[2].balance;
        _withdraw(actors[2]);
        vm.prank(actors[2]);
        round.exposedFailDelivery(IModelpactRound.DeliveryFailure.WrongModel);
        assertEq(actors[2].balance - before, 3e17);
        assertEq(round.liability(), COORD_BOND);
    }
}
