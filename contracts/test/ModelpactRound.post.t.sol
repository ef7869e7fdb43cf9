// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundFixture} from "./ModelpactRound.base.t.sol";

contract ModelpactRoundPostTest is RoundFixture {
    event CoordinatorRevealed(bytes32 secret);
    event ModelsPosted(
        IModelpactRound.PostedModel collective,
        IModelpactRound.PostedModel[] tiers,
        uint256 delivered,
        uint256 deliveredRows,
        uint256 revealDeadline
    );
    event CurveChecked(
        uint256 deliveredRows,
        uint256 predictedAccuracyWad,
        uint256 measuredAccuracyWad,
        uint256 toleranceWad,
        uint256 shortfallWad,
        uint256 allot,
        uint256 liability
    );
    event Undelivered(address indexed participant, uint256 indexed index);

    address[] internal actors;

    function setUp() public override {
        super.setUp();
        actors = _joinMany(3); // options 0, 1, 2: 700 rows
        _toPost();
    }

    function _postTiers(IModelpactRound.PostedModel[] memory tiers) internal {
        vm.prank(coordinatorAddr);
        round.postModels(_collective(), tiers, new address[](0));
    }

    function _expectPostRevert(bytes memory err, IModelpactRound.PostedModel[] memory tiers) internal {
        vm.expectRevert(err);
        _postTiers(tiers);
    }

    // --------------------------------------------------------------------- coordinator reveal

    function test_revealCoordinator_storesSecretAndEmits() public {
        vm.expectEmit(false, false, false, true, address(round));
        emit CoordinatorRevealed(COORD_SECRET);
        _revealCoordinator();
        assertEq(round.coordinatorSecret(), COORD_SECRET);
    }

    function test_revealCoordinator_revertsForOthers() public {
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotCoordinator.selector, address(this)));
        round.revealCoordinator(COORD_SECRET);
    }

    function test_revealCoordinator_revertsDuringJoin() public {
        RoundFixture.setUp(); // fresh round, still in Join
        vm.expectRevert(_wrongPhase(IModelpactRound.Phase.Join, IModelpactRound.Phase.Post));
        vm.prank(coordinatorAddr);
        round.revealCoordinator(COORD_SECRET);
    }

    function test_revealCoordinator_revertsOnMismatch() public {
        bytes32 wrong = keccak256("wrong");
        bytes32 computed = keccak256(abi.encode(wrong, coordinatorAddr, SCENARIO, block.chainid));
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelpactRound.CoordinatorRevealMismatch.selector,
                _coordCommitment(COORD_SECRET, coordinatorAddr),
                computed
            )
        );
        vm.prank(coordinatorAddr);
        round.revealCoordinator(wrong);
    }

    function test_revealCoordinator_revertsTwice() public {
        _revealCoordinator();
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.CoordinatorAlreadyRevealed.selector));
        vm.prank(coordinatorAddr);
        round.revealCoordinator(COORD_SECRET);
    }

    // --------------------------------------------------------------------- posting

    function test_postModels_storesModelsAndEmitsPostAndCurveCheck() public {
        _revealCoordinator();
        uint256 allot = (COORD_BOND - COORD_BOND / 10) / 3;
        vm.expectEmit(false, false, false, true, address(round));
        // 700 rows: the curve predicts 0.2 + 0.6 * 600 / 900 = 0.6; measured 0.9: no shortfall.
        emit CurveChecked(700, 6e17, 9e17, TOLERANCE, 0, allot, 0);
        vm.expectEmit(false, false, false, true, address(round));
        emit ModelsPosted(_collective(), _tiers(), 3, 700, block.timestamp + WINDOW);
        _post();
        assertEq(round.tierCount(), 2);
        assertEq(abi.encode(round.tier(1)), abi.encode(_model("tier-2", 500)));
        assertEq(abi.encode(round.collectiveModel()), abi.encode(_collective()));
        assertEq(abi.encode(round.rungModel(1)), abi.encode(_model("tier-1", 200)));
        assertEq(abi.encode(round.rungModel(3)), abi.encode(_collective()));
        (uint256 s, uint256 a) = round.shortfall();
        assertEq(s, 0);
        assertEq(a, allot);
        assertEq(round.liability(), 0);
        _phaseIs(IModelpactRound.Phase.Reveal);
        IModelpactRound.Deadlines memory d = round.deadlines();
        assertEq(d.reveal, block.timestamp + WINDOW);
        assertEq(d.delivery, block.timestamp + 2 * WINDOW);
        assertEq(d.claim, block.timestamp + 3 * WINDOW);
    }

    function test_postModels_revertsBeforeCoordinatorReveal() public {
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.CoordinatorNotRevealed.selector));
        _post();
    }

    function test_postModels_revertsForOthers() public {
        _revealCoordinator();
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotCoordinator.selector, address(this)));
        round.postModels(_collective(), _tiers(), new address[](0));
    }

    function test_postModels_revertsTwice() public {
        _revealCoordinator();
        _post();
        vm.expectRevert(_wrongPhase(IModelpactRound.Phase.Reveal, IModelpactRound.Phase.Post));
        _post();
    }

    function test_postModels_revertsAfterPostDeadline() public {
        _revealCoordinator();
        vm.warp(postAt + 1);
        vm.expectRevert(_wrongPhase(IModelpactRound.Phase.Aborted, IModelpactRound.Phase.Post));
        _post();
    }

    function test_postModels_revertsOnTierAtCollective() public {
        _revealCoordinator();
        IModelpactRound.PostedModel[] memory tiers = _tiers();
        tiers[1] = _model("tier-2", 900);
        _expectPostRevert(abi.encodeWithSelector(IModelpactRound.TierAboveCollective.selector, 1, 9e17, 9e17), tiers);
    }

    function test_postModels_revertsOnTiersNotAscending() public {
        _revealCoordinator();
        IModelpactRound.PostedModel[] memory tiers = _tiers();
        tiers[1] = _model("tier-2", 200);
        _expectPostRevert(abi.encodeWithSelector(IModelpactRound.TiersNotAscending.selector, 1), tiers);
    }

    function test_postModels_revertsOnZeroAccuracyTier() public {
        _revealCoordinator();
        IModelpactRound.PostedModel[] memory tiers = _tiers();
        tiers[0] = _model("tier-1", 0); // no correct row: not a posted model
        _expectPostRevert(abi.encodeWithSelector(IModelpactRound.AccuracyNotCount.selector, 1, 0, TEST_ROWS), tiers);
    }

    function test_postModels_revertsOnZeroHashOrLogRoot() public {
        _revealCoordinator();
        IModelpactRound.PostedModel[] memory tiers = _tiers();
        tiers[0].modelHash = bytes32(0);
        _expectPostRevert(abi.encodeWithSelector(IModelpactRound.ZeroCommitment.selector), tiers);
        tiers = _tiers();
        tiers[1].logRoot = bytes32(0);
        _expectPostRevert(abi.encodeWithSelector(IModelpactRound.ZeroCommitment.selector), tiers);
        IModelpactRound.PostedModel memory c = _collective();
        c.logRoot = bytes32(0);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.ZeroCommitment.selector));
        _postWith(c, new address[](0));
    }

    /// Issue 14: a posted accuracy is floor(count * 1e18 / T) for some count 1..T, exactly.
    function test_postModels_revertsOnAccuracyThatIsNotACount() public {
        _revealCoordinator();
        IModelpactRound.PostedModel[] memory tiers = _tiers();
        tiers[1].accuracyWad += 1; // 500 / 1000 + 1 wei: no count gives it
        _expectPostRevert(
            abi.encodeWithSelector(IModelpactRound.AccuracyNotCount.selector, 2, 5e17 + 1, TEST_ROWS), tiers
        );
        IModelpactRound.PostedModel memory c = _collective();
        c.accuracyWad = 1e18 + 1e15; // 1001 of 1000 rows
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AccuracyNotCount.selector, 3, c.accuracyWad, TEST_ROWS));
        _postWith(c, new address[](0));
        c = _model("collective", 0);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AccuracyNotCount.selector, 3, 0, TEST_ROWS));
        _postWith(c, new address[](0));
    }

    function test_postModels_acceptsAnExactCountWithRounding() public {
        // T = 7: 3 / 7 = 0.428571428571428571428..., floored to 428571428571428571.
        vm.warp(1_700_000_000);
        IModelpactRound.Config memory cfg = _config(5);
        cfg.testRowCount = 7;
        round = _deploy(_menu(), cfg, _curve());
        _join(_actor(1), 2);
        _toPost();
        _revealCoordinator();
        IModelpactRound.PostedModel[] memory tiers = new IModelpactRound.PostedModel[](1);
        tiers[0] = IModelpactRound.PostedModel(keccak256("t"), 428571428571428571, keccak256("l"));
        IModelpactRound.PostedModel memory c =
            IModelpactRound.PostedModel(keccak256("c"), 857142857142857142, keccak256("lc"));
        // One wei more or less is no count of 7.
        c.accuracyWad += 1;
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AccuracyNotCount.selector, 2, c.accuracyWad, 7));
        vm.prank(coordinatorAddr);
        round.postModels(c, tiers, new address[](0));
        c.accuracyWad -= 2;
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AccuracyNotCount.selector, 2, c.accuracyWad, 7));
        vm.prank(coordinatorAddr);
        round.postModels(c, tiers, new address[](0));
        c.accuracyWad += 1;
        vm.prank(coordinatorAddr);
        round.postModels(c, tiers, new address[](0));
        assertEq(round.collectiveModel().accuracyWad, 857142857142857142);
    }

    /// Issue 11.7: every posted model hash is distinct.
    function test_postModels_refusesDuplicateTierHashes() public {
        _revealCoordinator();
        IModelpactRound.PostedModel[] memory tiers = _tiers();
        tiers[1].modelHash = tiers[0].modelHash;
        _expectPostRevert(
            abi.encodeWithSelector(IModelpactRound.DuplicateModelHash.selector, 2, tiers[0].modelHash), tiers
        );
        tiers = _tiers();
        tiers[0].modelHash = _collective().modelHash;
        _expectPostRevert(
            abi.encodeWithSelector(IModelpactRound.DuplicateModelHash.selector, 1, _collective().modelHash), tiers
        );
    }

    function test_postModels_revertsOnTooManyTiers() public {
        _revealCoordinator();
        IModelpactRound.PostedModel[] memory tiers = new IModelpactRound.PostedModel[](33);
        for (uint256 i = 0; i < 33; ++i) {
            tiers[i] = _model(vm.toString(i), uint64(10 * (i + 1)));
        }
        _expectPostRevert(abi.encodeWithSelector(IModelpactRound.TooManyTiers.selector, 33, 32), tiers);
    }

    function test_postModels_acceptsThirtyTwoTiersPackedFourPerSlot() public {
        _revealCoordinator();
        IModelpactRound.PostedModel[] memory tiers = new IModelpactRound.PostedModel[](32);
        for (uint256 i = 0; i < 32; ++i) {
            tiers[i] = _model(vm.toString(i), uint64(10 * (i + 1) + i % 7));
        }
        _postTiers(tiers);
        for (uint256 i = 0; i < 32; ++i) {
            assertEq(abi.encode(round.tier(i)), abi.encode(tiers[i]));
            assertEq(abi.encode(round.rungModel(i + 1)), abi.encode(tiers[i]));
        }
        assertEq(abi.encode(round.rungModel(33)), abi.encode(_collective()));
        assertEq(round.collectiveModel().accuracyWad, 9e17);
    }

    function test_postModels_atTheLastSecondLeavesTheFullRevealWindow() public {
        _revealCoordinator();
        vm.warp(postAt);
        _post();
        assertEq(_revealDeadline(), postAt + WINDOW);
        vm.warp(postAt + WINDOW);
        _phaseIs(IModelpactRound.Phase.Reveal);
        _reveal(actors[0]);
    }

    // --------------------------------------------------------------------- undelivered and quorum

    function test_postModels_flagsUndeliveredAndSubtractsTheirRows() public {
        _revealCoordinator();
        address[] memory list = _sorted(_pair(actors[0], actors[2])); // options 0 and 2: 500 rows
        vm.expectEmit(true, true, false, false, address(round));
        emit Undelivered(list[0], list[0] == actors[0] ? 0 : 2);
        _postWith(_collective(), list);
        assertTrue(round.participant(actors[0]).undelivered);
        assertTrue(round.participant(actors[2]).undelivered);
        assertFalse(round.participant(actors[1]).undelivered);
        assertEq(round.deliveredCount(), 1);
        assertEq(round.joinedCount(), 3);
        assertEq(round.totalData(), 200);
    }

    function test_postModels_revertsOnInvalidUndeliveredList() public {
        _revealCoordinator();
        address[] memory list = _sorted(_pair(actors[0], actors[1]));
        (list[0], list[1]) = (list[1], list[0]); // descending
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.UndeliveredListInvalid.selector, 1, list[1]));
        _postWith(_collective(), list);
        list = _pair(actors[0], actors[0]); // duplicate
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.UndeliveredListInvalid.selector, 1, actors[0]));
        _postWith(_collective(), list);
        address stranger = address(uint160(type(uint160).max));
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.UndeliveredListInvalid.selector, 0, stranger));
        _postWith(_collective(), _one(stranger));
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.UndeliveredListInvalid.selector, 0, address(0)));
        _postWith(_collective(), _one(address(0)));
    }

    function test_postModels_revertsBelowQuorum() public {
        vm.warp(1_700_000_000);
        round = _deploy(_menu(), _configQ(5, 3), _curve());
        actors = _joinMany(3);
        _toPost();
        _revealCoordinator();
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.BelowQuorum.selector, 2, 3));
        _postWith(_collective(), _one(actors[1]));
    }

    function _pair(address a, address b) internal pure returns (address[] memory list) {
        list = new address[](2);
        list[0] = a;
        list[1] = b;
    }
}
