// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundFixture} from "./ModelpactRound.base.t.sol";

contract ModelpactRoundPostTest is RoundFixture {
    event CoordinatorRevealed(bytes32 secret);
    event ModelsPosted(
        bytes32 collectiveModelHash,
        uint256 collectiveAccuracyWad,
        IModelpactRound.Tier[] tiers,
        uint256 totalData,
        uint256 predictedAccuracyWad
    );

    function setUp() public override {
        super.setUp();
        _joinMany(3); // options 0, 1, 2: 700 rows
        _toPost();
    }

    function _phase(IModelpactRound.Phase p) internal pure returns (uint8) {
        return uint8(p);
    }

    function _wrongPhase(IModelpactRound.Phase current, IModelpactRound.Phase required)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(IModelpactRound.WrongPhase.selector, current, required);
    }

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

    function test_postModels_storesTiersAndEmitsPrediction() public {
        _revealCoordinator();
        vm.expectEmit(false, false, false, true, address(round));
        emit ModelsPosted(keccak256("collective"), 9e17, _tiers(), 700, round.predictedAccuracy(700));
        _post();
        assertEq(round.tierCount(), 2);
        assertEq(round.tier(1).modelHash, keccak256("tier-2"));
        assertEq(round.tier(1).accuracyWad, 5e17);
        assertEq(round.collectiveModel().accuracyWad, 9e17);
        assertEq(_phase(round.phase()), _phase(IModelpactRound.Phase.Reveal));
    }

    function test_postModels_revertsBeforeCoordinatorReveal() public {
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.CoordinatorNotRevealed.selector));
        _post();
    }

    function test_postModels_revertsForOthers() public {
        _revealCoordinator();
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotCoordinator.selector, address(this)));
        round.postModels(keccak256("c"), 9e17, _tiers());
    }

    function test_postModels_revertsTwice() public {
        _revealCoordinator();
        _post();
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.ModelsAlreadyPosted.selector));
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
        IModelpactRound.Tier[] memory tiers = _tiers();
        tiers[1].accuracyWad = 9e17;
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.TierAboveCollective.selector, 1, 9e17, 9e17));
        vm.prank(coordinatorAddr);
        round.postModels(keccak256("collective"), 9e17, tiers);
    }

    function test_postModels_revertsOnTiersNotAscending() public {
        _revealCoordinator();
        IModelpactRound.Tier[] memory tiers = _tiers();
        tiers[1].accuracyWad = 2e17;
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.TiersNotAscending.selector, 1));
        vm.prank(coordinatorAddr);
        round.postModels(keccak256("collective"), 9e17, tiers);
    }

    function test_postModels_revertsOnZeroTier() public {
        _revealCoordinator();
        IModelpactRound.Tier[] memory tiers = _tiers();
        tiers[0].accuracyWad = 0;
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.TiersNotAscending.selector, 0));
        vm.prank(coordinatorAddr);
        round.postModels(keccak256("collective"), 9e17, tiers);
        tiers[0].accuracyWad = 1e17;
        tiers[0].modelHash = bytes32(0);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.TiersNotAscending.selector, 0));
        vm.prank(coordinatorAddr);
        round.postModels(keccak256("collective"), 9e17, tiers);
    }

    function test_postModels_revertsOnAccuracyOutOfRange() public {
        _revealCoordinator();
        vm.startPrank(coordinatorAddr);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AccuracyOutOfRange.selector, 0));
        round.postModels(keccak256("c"), 0, new IModelpactRound.Tier[](0));
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AccuracyOutOfRange.selector, 1e18 + 1));
        round.postModels(keccak256("c"), 1e18 + 1, new IModelpactRound.Tier[](0));
        vm.stopPrank();
    }

    function test_postModels_revertsOnZeroCollectiveHash() public {
        _revealCoordinator();
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.ZeroCommitment.selector));
        vm.prank(coordinatorAddr);
        round.postModels(bytes32(0), 9e17, _tiers());
    }

    function test_postModels_revertsOnTooManyTiers() public {
        _revealCoordinator();
        IModelpactRound.Tier[] memory tiers = new IModelpactRound.Tier[](33);
        for (uint256 i = 0; i < 33; ++i) {
            tiers[i] = IModelpactRound.Tier(keccak256(abi.encode(i)), uint64(1e16 * (i + 1)));
        }
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.TooManyTiers.selector, 33, 32));
        vm.prank(coordinatorAddr);
        round.postModels(keccak256("c"), 9e17, tiers);
    }

    function test_postModels_acceptsThirtyTwoTiersPackedFourPerSlot() public {
        _revealCoordinator();
        IModelpactRound.Tier[] memory tiers = new IModelpactRound.Tier[](32);
        for (uint256 i = 0; i < 32; ++i) {
            tiers[i] = IModelpactRound.Tier(keccak256(abi.encode(i)), uint64(1e16 * (i + 1) + i));
        }
        vm.prank(coordinatorAddr);
        round.postModels(keccak256("c"), 9e17, tiers);
        for (uint256 i = 0; i < 32; ++i) {
            assertEq(round.tier(i).accuracyWad, tiers[i].accuracyWad);
            assertEq(round.tier(i).modelHash, tiers[i].modelHash);
        }
    }
}
