// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundFixture, RoundHarness} from "./ModelpactRound.base.t.sol";

/// @notice What the constructor checked before issue 17, now checked by createRound (the
///         factory's clone + initialize) with the same custom errors.
contract ModelpactRoundCreateRoundTest is RoundFixture {
    event RoundPublished(
        address indexed coordinator,
        bytes32 indexed scenarioHash,
        IModelpactRound.Option[] menu,
        IModelpactRound.Config config,
        IModelpactRound.CurveKnot[] curve,
        uint256 coordinatorBond
    );

    function test_createRound_storesMenuConfigCurveAndBond() public view {
        assertEq(round.coordinator(), coordinatorAddr);
        assertEq(round.coordinatorBond(), COORD_BOND);
        assertEq(address(round).balance, COORD_BOND);
        assertEq(round.optionCount(), 3);
        IModelpactRound.Option memory o = round.option(1);
        assertEq(o.dataCount, 200);
        assertEq(o.ratioWad, 6e17);
        assertEq(o.promisedValueWad, 48e18);
        assertEq(o.budgetValueWad, 80e18);
        IModelpactRound.Config memory c = round.config();
        assertEq(abi.encode(c), abi.encode(_config(5)), "config round-trips");
        IModelpactRound.Deadlines memory d = round.deadlines();
        assertEq(d.join, joinAt);
        assertEq(d.post, postAt);
        assertEq(d.reveal, 0, "unknown before the post");
        assertEq(d.claim, 0);
        _phaseIs(IModelpactRound.Phase.Join);
        assertEq(round.predictedAccuracy(550), 5e17);
        assertEq(round.MIN_WINDOW(), 1 hours);
        assertEq(round.FRAUD_REWARD_BPS(), 1000);
    }

    function test_createRound_emitsRoundPublished() public {
        IModelpactRound.Config memory cfg = _config(5);
        vm.expectEmit(true, true, false, true);
        emit RoundPublished(coordinatorAddr, SCENARIO, _menu(), cfg, _curve(), COORD_BOND);
        _deploy(_menu(), cfg, _curve());
    }

    function _expectDeployRevert(
        bytes memory err,
        IModelpactRound.Option[] memory menu,
        IModelpactRound.Config memory cfg,
        IModelpactRound.CurveKnot[] memory curve
    ) internal {
        vm.expectRevert(err);
        _deploy(menu, cfg, curve);
    }

    function _expectConfigRevert(bytes memory err, IModelpactRound.Config memory cfg) internal {
        _expectDeployRevert(err, _menu(), cfg, _curve());
    }

    function _expectMenuRevert(bytes memory err, IModelpactRound.Option[] memory menu) internal {
        _expectDeployRevert(err, menu, _config(5), _curve());
    }

    // --------------------------------------------------------------------- menu

    function test_createRound_revertsOnEmptyMenu() public {
        _expectMenuRevert(abi.encodeWithSelector(IModelpactRound.EmptyMenu.selector), new IModelpactRound.Option[](0));
    }

    function test_createRound_revertsOnMenuTooLarge() public {
        IModelpactRound.Option[] memory menu = new IModelpactRound.Option[](65);
        for (uint256 i = 0; i < 65; ++i) {
            menu[i] = IModelpactRound.Option(uint64(i + 1), 1e17, 1e18, 10e18);
        }
        _expectMenuRevert(abi.encodeWithSelector(IModelpactRound.MenuTooLarge.selector, 65, 64), menu);
    }

    function test_createRound_revertsOnRatioAboveOne() public {
        IModelpactRound.Option[] memory menu = _menu();
        menu[2].ratioWad = 1e18 + 1;
        _expectMenuRevert(abi.encodeWithSelector(IModelpactRound.RatioAboveOne.selector, 2, 1e18 + 1), menu);
    }

    function test_createRound_revertsOnUnsortedDataCount() public {
        IModelpactRound.Option[] memory menu = _menu();
        menu[1].dataCount = 50;
        _expectMenuRevert(abi.encodeWithSelector(IModelpactRound.OptionsNotSorted.selector, 1), menu);
    }

    function test_createRound_revertsOnUnsortedRatioAtEqualDataCount() public {
        IModelpactRound.Option[] memory menu = _menu();
        menu[1] = IModelpactRound.Option(100, 2e17, 16e18, 80e18);
        _expectMenuRevert(abi.encodeWithSelector(IModelpactRound.OptionsNotSorted.selector, 1), menu);
    }

    function test_createRound_acceptsPooledOptions() public {
        IModelpactRound.Option[] memory menu = _menu();
        menu[1] = menu[0];
        assertEq(_deploy(menu, _config(5), _curve()).optionCount(), 3);
    }

    function test_createRound_revertsOnZeroDataCount() public {
        IModelpactRound.Option[] memory menu = _menu();
        menu[0].dataCount = 0;
        _expectMenuRevert(abi.encodeWithSelector(IModelpactRound.ZeroDataCount.selector, 0), menu);
    }

    function test_createRound_revertsOnPromiseAboveBudget() public {
        IModelpactRound.Option[] memory menu = _menu();
        menu[2].promisedValueWad = 80e18 + 1; // t > t_bar, even though ratio = 1
        _expectMenuRevert(
            abi.encodeWithSelector(IModelpactRound.PromiseInconsistent.selector, 2, 80e18 + 1, 80e18, 1e18), menu
        );
    }

    function test_createRound_revertsOnRatioNotPromiseOverBudget() public {
        IModelpactRound.Option[] memory menu = _menu();
        menu[1].ratioWad = 6e17 + 2; // floor(48 / 80 * 1e18) = 6e17: two units off
        _expectMenuRevert(
            abi.encodeWithSelector(IModelpactRound.PromiseInconsistent.selector, 1, 48e18, 80e18, 6e17 + 2), menu
        );
        menu[1].ratioWad = 6e17 - 2;
        _expectMenuRevert(
            abi.encodeWithSelector(IModelpactRound.PromiseInconsistent.selector, 1, 48e18, 80e18, 6e17 - 2), menu
        );
    }

    function test_createRound_acceptsRatioWithinOneUnit() public {
        IModelpactRound.Option[] memory menu = _menu();
        menu[1].ratioWad = 6e17 + 1;
        _deploy(menu, _config(5), _curve());
        menu[1].ratioWad = 6e17 - 1;
        _deploy(menu, _config(5), _curve());
        // t / t_bar = 1 / 3: floor is 333...333; the rounded-up ratio is within one unit too.
        menu[1] = IModelpactRound.Option(200, 333333333333333334, 1e18, 3e18);
        _deploy(menu, _config(5), _curve());
    }

    function test_createRound_zeroBudgetNeedsZeroPromiseAndRatio() public {
        IModelpactRound.Option[] memory menu = _menu();
        menu[0] = IModelpactRound.Option(100, 0, 0, 0);
        _deploy(menu, _config(5), _curve()); // a pure-data option is allowed
        menu[0] = IModelpactRound.Option(100, 1, 0, 0);
        _expectMenuRevert(abi.encodeWithSelector(IModelpactRound.PromiseInconsistent.selector, 0, 0, 0, 1), menu);
        menu[0] = IModelpactRound.Option(100, 0, 1, 0);
        _expectMenuRevert(abi.encodeWithSelector(IModelpactRound.PromiseInconsistent.selector, 0, 1, 0, 0), menu);
    }

    function test_createRound_revertsWhenCapacityTimesRowsOverflowsTheTotal() public {
        IModelpactRound.Option[] memory menu = _menu();
        menu[2].dataCount = uint64(type(uint64).max / 5 + 1);
        _expectMenuRevert(
            abi.encodeWithSelector(IModelpactRound.DataTotalOverflow.selector, 5, uint256(type(uint64).max / 5 + 1)),
            menu
        );
        menu[2].dataCount = uint64(type(uint64).max / 5);
        _deploy(menu, _config(5), _curve()); // exactly fits
    }

    // --------------------------------------------------------------------- config

    function test_createRound_revertsOnZeroCapacity() public {
        IModelpactRound.Config memory cfg = _config(0);
        cfg.quorum = 0;
        _expectConfigRevert(abi.encodeWithSelector(IModelpactRound.ZeroCapacity.selector), cfg);
    }

    function test_createRound_revertsOnCapacityAboveTheMaximum() public {
        _expectConfigRevert(
            abi.encodeWithSelector(IModelpactRound.CapacityTooLarge.selector, 2001, 2000), _configQ(2001, 1)
        );
        _deploy(_menu(), _configQ(2000, 1), _curve());
    }

    function test_createRound_revertsOnQuorumOutOfRange() public {
        _expectConfigRevert(abi.encodeWithSelector(IModelpactRound.QuorumOutOfRange.selector, 0, 5), _configQ(5, 0));
        _expectConfigRevert(abi.encodeWithSelector(IModelpactRound.QuorumOutOfRange.selector, 6, 5), _configQ(5, 6));
        _deploy(_menu(), _configQ(5, 5), _curve()); // Q = N is allowed
    }

    function test_createRound_revertsOnJoinDeadlineNotInTheFuture() public {
        IModelpactRound.Config memory cfg = _config(5);
        cfg.schedule.joinDeadline = uint64(block.timestamp);
        _expectConfigRevert(
            abi.encodeWithSelector(
                IModelpactRound.ScheduleInconsistent.selector, block.timestamp, block.timestamp, postAt
            ),
            cfg
        );
    }

    function test_createRound_revertsOnPostDeadlineNotAfterJoin() public {
        IModelpactRound.Config memory cfg = _config(5);
        cfg.schedule.postDeadline = joinAt;
        _expectConfigRevert(
            abi.encodeWithSelector(IModelpactRound.ScheduleInconsistent.selector, block.timestamp, joinAt, joinAt), cfg
        );
    }

    function test_createRound_revertsOnEachWindowBelowMinimum() public {
        uint256 min = 1 hours;
        IModelpactRound.Config memory cfg = _config(5);
        cfg.schedule.revealWindow = uint64(min - 1);
        _expectConfigRevert(
            abi.encodeWithSelector(
                IModelpactRound.WindowTooShort.selector, IModelpactRound.Window.Reveal, min - 1, min
            ),
            cfg
        );
        cfg = _config(5);
        cfg.schedule.deliveryWindow = 0;
        _expectConfigRevert(
            abi.encodeWithSelector(IModelpactRound.WindowTooShort.selector, IModelpactRound.Window.Delivery, 0, min),
            cfg
        );
        cfg = _config(5);
        cfg.schedule.claimWindow = 1;
        _expectConfigRevert(
            abi.encodeWithSelector(IModelpactRound.WindowTooShort.selector, IModelpactRound.Window.Claim, 1, min), cfg
        );
    }

    /// Issue 11.7: the post deadline must leave the data window (MIN_WINDOW after the join
    /// deadline) and at least one second to post.
    function test_createRound_revertsOnPostDeadlineInsideTheDataWindow() public {
        uint256 min = 1 hours;
        IModelpactRound.Config memory cfg = _config(5);
        cfg.schedule.postDeadline = uint64(joinAt + min);
        _expectConfigRevert(
            abi.encodeWithSelector(IModelpactRound.WindowTooShort.selector, IModelpactRound.Window.Data, min, min + 1),
            cfg
        );
    }

    function test_createRound_acceptsWindowsAtTheMinimum() public {
        IModelpactRound.Config memory cfg = _config(5);
        cfg.schedule = IModelpactRound.Schedule(joinAt, joinAt + 1 hours + 1, 1 hours, 1 hours, 1 hours);
        RoundHarness r = _deploy(_menu(), cfg, _curve());
        assertEq(r.config().schedule.revealWindow, 1 hours);
    }

    function test_createRound_revertsOnTestRowCountOutOfRange() public {
        IModelpactRound.Config memory cfg = _config(5);
        cfg.testRowCount = 0;
        _expectConfigRevert(abi.encodeWithSelector(IModelpactRound.TestRowCountOutOfRange.selector, 0), cfg);
        cfg.testRowCount = 1e18 + 1;
        _expectConfigRevert(abi.encodeWithSelector(IModelpactRound.TestRowCountOutOfRange.selector, 1e18 + 1), cfg);
        // A log-root fraud proof rebuilds T rows within a block: at most MAX_TEST_ROWS (issue 14).
        cfg.testRowCount = 4097;
        _expectConfigRevert(abi.encodeWithSelector(IModelpactRound.TooManyTestRows.selector, 4097, 4096), cfg);
        cfg.testRowCount = 4096;
        _deploy(_menu(), cfg, _curve());
    }

    function test_createRound_revertsOnToleranceAboveOne() public {
        IModelpactRound.Config memory cfg = _config(5);
        cfg.curveToleranceWad = 1e18 + 1;
        _expectConfigRevert(abi.encodeWithSelector(IModelpactRound.ToleranceOutOfRange.selector, 1e18 + 1), cfg);
    }

    function test_createRound_revertsOnBondsTooLargeToAccount() public {
        IModelpactRound.Config memory cfg = _config(5);
        cfg.participantBond = uint256(type(uint96).max) + 1;
        _expectConfigRevert(
            abi.encodeWithSelector(
                IModelpactRound.BondTooLarge.selector, uint256(type(uint96).max) + 1, type(uint96).max
            ),
            cfg
        );
        uint256 huge = uint256(type(uint96).max) + 1;
        vm.deal(coordinatorAddr, huge);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.BondTooLarge.selector, huge, type(uint96).max));
        vm.prank(coordinatorAddr);
        _newHarness(huge, _menu(), _config(5), _curve());
    }

    // --------------------------------------------------------------------- curve

    function test_createRound_revertsOnCurveNotAscending() public {
        IModelpactRound.CurveKnot[] memory curve = _curve();
        curve[1].dataCount = 100;
        _expectDeployRevert(
            abi.encodeWithSelector(IModelpactRound.CurveNotAscending.selector, 1), _menu(), _config(5), curve
        );
    }

    function test_createRound_revertsOnCurveAccuracyAboveOne() public {
        IModelpactRound.CurveKnot[] memory curve = _curve();
        curve[0].accuracyWad = 1e18 + 1;
        _expectDeployRevert(
            abi.encodeWithSelector(IModelpactRound.CurveNotAscending.selector, 0), _menu(), _config(5), curve
        );
    }

    function test_createRound_revertsOnCurveTooLong() public {
        IModelpactRound.CurveKnot[] memory curve = new IModelpactRound.CurveKnot[](65);
        for (uint256 i = 0; i < 65; ++i) {
            curve[i] = IModelpactRound.CurveKnot(uint64(i + 1), 1e17);
        }
        _expectDeployRevert(
            abi.encodeWithSelector(IModelpactRound.CurveTooLong.selector, 65, 64), _menu(), _config(5), curve
        );
    }

    // --------------------------------------------------------------------- views

    function test_views_revertOnUnknownIndices() public {
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.UnknownOption.selector, 3, 3));
        round.option(3);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.UnknownOption.selector, 7, 3));
        round.optionJoinCount(7);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.TierOutOfRange.selector, 0, 0));
        round.tier(0);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.TierOutOfRange.selector, 1, 0));
        round.rungModel(1);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotParticipant.selector, address(this)));
        round.participant(address(this));
        vm.expectRevert(_wrongPhase(IModelpactRound.Phase.Join, IModelpactRound.Phase.Reveal));
        round.assignment(address(this), bytes32(0));
        assertEq(round.collectiveModel().modelHash, bytes32(0));
        assertEq(round.owed(address(this)), 0);
        (uint256 owedFromBond, uint256 paid) = round.entitlement(address(this));
        assertEq(owedFromBond + paid, 0);
    }

    function test_predictedAccuracy_piecewiseLinear() public {
        assertEq(round.predictedAccuracy(0), 0);
        assertEq(round.predictedAccuracy(50), 1e17); // (0,0) -> (100, 0.2)
        assertEq(round.predictedAccuracy(100), 2e17);
        assertEq(round.predictedAccuracy(1000), 8e17);
        assertEq(round.predictedAccuracy(1e12), 8e17); // flat beyond the last knot
        assertEq(_deploy(_menu(), _config(5), new IModelpactRound.CurveKnot[](0)).predictedAccuracy(500), 0);
    }
}
