// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundFixture} from "./ModelpactRound.base.t.sol";

contract ModelpactRoundConstructorTest is RoundFixture {
    event RoundPublished(
        address indexed coordinator,
        bytes32 indexed scenarioHash,
        IModelpactRound.Option[] menu,
        IModelpactRound.Config config,
        IModelpactRound.CurveKnot[] curve,
        uint256 coordinatorBond
    );

    function test_constructor_storesMenuConfigCurveAndBond() public view {
        assertEq(round.coordinator(), coordinatorAddr);
        assertEq(round.coordinatorBond(), COORD_BOND);
        assertEq(address(round).balance, COORD_BOND);
        assertEq(round.optionCount(), 3);
        IModelpactRound.Option memory o = round.option(1);
        assertEq(o.dataCount, 200);
        assertEq(o.ratioWad, 6e17);
        assertEq(o.promisedValueWad, 45e18);
        assertEq(o.budgetValueWad, 75e18);
        IModelpactRound.Config memory c = round.config();
        assertEq(c.capacity, 5);
        assertEq(c.participantBond, BOND);
        assertEq(c.scenarioHash, SCENARIO);
        assertEq(c.testSetCommitment, TEST_SET);
        assertEq(c.deadlines.claim, claimAt);
        assertEq(uint8(round.phase()), uint8(IModelpactRound.Phase.Join));
        assertEq(round.predictedAccuracy(550), 5e17);
    }

    function test_constructor_emitsRoundPublished() public {
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

    function test_constructor_revertsOnEmptyMenu() public {
        _expectDeployRevert(
            abi.encodeWithSelector(IModelpactRound.EmptyMenu.selector),
            new IModelpactRound.Option[](0),
            _config(5),
            _curve()
        );
    }

    function test_constructor_revertsOnMenuTooLarge() public {
        IModelpactRound.Option[] memory menu = new IModelpactRound.Option[](65);
        for (uint256 i = 0; i < 65; ++i) {
            menu[i] = IModelpactRound.Option(uint64(i + 1), 1e17, 0, 0);
        }
        _expectDeployRevert(
            abi.encodeWithSelector(IModelpactRound.MenuTooLarge.selector, 65, 64), menu, _config(5), _curve()
        );
    }

    function test_constructor_revertsOnRatioAboveOne() public {
        IModelpactRound.Option[] memory menu = _menu();
        menu[2].ratioWad = 1e18 + 1;
        _expectDeployRevert(
            abi.encodeWithSelector(IModelpactRound.RatioAboveOne.selector, 2, 1e18 + 1), menu, _config(5), _curve()
        );
    }

    function test_constructor_revertsOnUnsortedDataCount() public {
        IModelpactRound.Option[] memory menu = _menu();
        menu[1].dataCount = 50;
        _expectDeployRevert(
            abi.encodeWithSelector(IModelpactRound.OptionsNotSorted.selector, 1), menu, _config(5), _curve()
        );
    }

    function test_constructor_revertsOnUnsortedRatioAtEqualDataCount() public {
        IModelpactRound.Option[] memory menu = _menu();
        menu[1].dataCount = 100;
        menu[1].ratioWad = 2e17;
        _expectDeployRevert(
            abi.encodeWithSelector(IModelpactRound.OptionsNotSorted.selector, 1), menu, _config(5), _curve()
        );
    }

    function test_constructor_acceptsPooledOptions() public {
        IModelpactRound.Option[] memory menu = _menu();
        menu[1] = menu[0];
        assertEq(_deploy(menu, _config(5), _curve()).optionCount(), 3);
    }

    function test_constructor_revertsOnZeroDataCount() public {
        IModelpactRound.Option[] memory menu = _menu();
        menu[0].dataCount = 0;
        _expectDeployRevert(
            abi.encodeWithSelector(IModelpactRound.ZeroDataCount.selector, 0), menu, _config(5), _curve()
        );
    }

    function test_constructor_revertsOnZeroCapacity() public {
        _expectDeployRevert(
            abi.encodeWithSelector(IModelpactRound.ZeroCapacity.selector), _menu(), _config(0), _curve()
        );
    }

    function test_constructor_revertsOnDeadlinesOutOfOrder() public {
        IModelpactRound.Config memory cfg = _config(5);
        cfg.deadlines.reveal = cfg.deadlines.post;
        _expectDeployRevert(
            abi.encodeWithSelector(IModelpactRound.DeadlinesInconsistent.selector, joinAt, postAt, postAt, claimAt),
            _menu(),
            cfg,
            _curve()
        );
    }

    function test_constructor_revertsOnJoinDeadlineInThePast() public {
        IModelpactRound.Config memory cfg = _config(5);
        cfg.deadlines.join = uint64(block.timestamp);
        _expectDeployRevert(
            abi.encodeWithSelector(
                IModelpactRound.DeadlinesInconsistent.selector, uint64(block.timestamp), postAt, revealAt, claimAt
            ),
            _menu(),
            cfg,
            _curve()
        );
    }

    function test_constructor_revertsOnCurveNotAscending() public {
        IModelpactRound.CurveKnot[] memory curve = _curve();
        curve[1].dataCount = 100;
        _expectDeployRevert(
            abi.encodeWithSelector(IModelpactRound.CurveNotAscending.selector, 1), _menu(), _config(5), curve
        );
    }

    function test_constructor_revertsOnCurveAccuracyAboveOne() public {
        IModelpactRound.CurveKnot[] memory curve = _curve();
        curve[0].accuracyWad = 1e18 + 1;
        _expectDeployRevert(
            abi.encodeWithSelector(IModelpactRound.CurveNotAscending.selector, 0), _menu(), _config(5), curve
        );
    }

    function test_constructor_revertsOnCurveTooLong() public {
        IModelpactRound.CurveKnot[] memory curve = new IModelpactRound.CurveKnot[](65);
        for (uint256 i = 0; i < 65; ++i) {
            curve[i] = IModelpactRound.CurveKnot(uint64(i + 1), 1e17);
        }
        _expectDeployRevert(
            abi.encodeWithSelector(IModelpactRound.CurveTooLong.selector, 65, 64), _menu(), _config(5), curve
        );
    }

    function test_views_revertOnUnknownIndices() public {
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.UnknownOption.selector, 3, 3));
        round.option(3);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.UnknownOption.selector, 7, 3));
        round.optionJoinCount(7);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.TierOutOfRange.selector, 0, 0));
        round.tier(0);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotParticipant.selector, address(this)));
        round.participant(address(this));
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelpactRound.WrongPhase.selector, IModelpactRound.Phase.Join, IModelpactRound.Phase.Reveal
            )
        );
        round.assignment(address(this));
    }

    function test_predictedAccuracy_piecewiseLinear() public {
        assertEq(round.predictedAccuracy(0), 0);
        assertEq(round.predictedAccuracy(50), 1e17); // (0,0) -> (100, 0.2)
        assertEq(round.predictedAccuracy(100), 2e17);
        assertEq(round.predictedAccuracy(1000), 8e17);
        assertEq(round.predictedAccuracy(1e12), 8e17); // flat beyond the last knot
        _assertNoCurvePredictsZero();
    }

    function _assertNoCurvePredictsZero() internal {
        assertEq(_deploy(_menu(), _config(5), new IModelpactRound.CurveKnot[](0)).predictedAccuracy(500), 0);
    }
}
