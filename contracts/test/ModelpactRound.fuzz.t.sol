// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundFixture, RoundHarness} from "./ModelpactRound.base.t.sol";

contract ModelpactRoundFuzzTest is RoundFixture {
    /// @dev Builds a round whose single option has `ratio`, posts `n` ascending tiers below
    ///      `collective` derived from `tierSeed`, and returns the harness and the tier accuracies.
    function _postedRound(uint64 ratio, uint64 collective, uint256 n, uint256 tierSeed)
        internal
        returns (RoundHarness r, uint256[] memory accs)
    {
        IModelpactRound.Option[] memory menu = new IModelpactRound.Option[](1);
        menu[0] = IModelpactRound.Option(10, ratio, 0, 0);
        r = _deploy(menu, _config(1), new IModelpactRound.CurveKnot[](0));
        vm.prank(_actor(1));
        r.join{value: BOND}(0, bytes32(uint256(1)), 10, bytes32(uint256(2)));
        vm.warp(joinAt + 1);
        vm.startPrank(coordinatorAddr);
        r.revealCoordinator(COORD_SECRET);
        // n strictly ascending accuracies in (0, collective): spread the gaps from the seed.
        n = n > collective - 1 ? collective - 1 : n;
        IModelpactRound.Tier[] memory tiers = new IModelpactRound.Tier[](n);
        accs = new uint256[](n);
        uint256 prev;
        for (uint256 i = 0; i < n; ++i) {
            // Largest step that leaves one unit for each later tier below the collective model;
            // room >= 1 holds inductively since n <= collective - 1.
            uint256 room = collective - 1 - prev - (n - 1 - i);
            uint256 spread = room / (n - i) == 0 ? 1 : room / (n - i);
            uint256 step = 1 + uint256(keccak256(abi.encode(tierSeed, i))) % spread;
            prev += step;
            accs[i] = prev;
            tiers[i] = IModelpactRound.Tier(keccak256(abi.encode(i)), uint64(prev));
        }
        r.postModels(keccak256("c"), collective, tiers);
        vm.stopPrank();
    }

    function testFuzz_assign_drawBracketsTargetAndFollowsResidueRule(
        uint64 ratio,
        uint64 collective,
        uint8 n,
        uint256 tierSeed,
        bytes32 seed
    ) public {
        ratio = uint64(bound(ratio, 0, 1e18));
        collective = uint64(bound(collective, 2, 1e18));
        (RoundHarness r, uint256[] memory accs) = _postedRound(ratio, collective, bound(n, 0, 32), tierSeed);
        (uint256 rung, uint256 acc, uint256 target) = r.exposedAssign(ratio, seed);

        assertEq(target, uint256(ratio) * collective / 1e18);
        assertLe(acc, collective, "never above the collective model");
        // Independent bracket: rungs [0, accs..., collective]; hi = first rung >= target.
        uint256 hiRung = accs.length + 1;
        uint256 hiAcc = collective;
        uint256 loAcc;
        for (uint256 i = 0; i < accs.length; ++i) {
            if (accs[i] >= target) {
                hiRung = i + 1;
                hiAcc = accs[i];
                break;
            }
            loAcc = accs[i];
        }
        if (target == 0) {
            assertEq(rung, 0);
            return;
        }
        assertLe(loAcc, target);
        assertGe(hiAcc, target);
        bool high = uint256(seed) % (hiAcc - loAcc) < target - loAcc;
        assertEq(rung, high ? hiRung : hiRung - 1);
        assertEq(acc, high ? hiAcc : loAcc);
        // Expected value over the integer probability equals the target exactly.
        assertEq(loAcc * (hiAcc - loAcc) + (hiAcc - loAcc) * (target - loAcc), target * (hiAcc - loAcc));
    }

    function testFuzz_join_rejectsAnyOtherRowCount(uint8 optionId, uint64 rows) public {
        optionId = uint8(bound(optionId, 0, 2));
        uint64 required = round.option(optionId).dataCount;
        vm.assume(rows != required);
        address a = _actor(1);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.WrongRowCount.selector, optionId, required, rows));
        vm.prank(a);
        round.join{value: BOND}(optionId, _dataRoot(a), rows, _commitment(a));
    }

    function testFuzz_reveal_onlyTheCommittedSecretOpens(bytes32 secret) public {
        address[] memory actors = _toReveal(1);
        vm.assume(secret != _secret(actors[0]));
        vm.expectPartialRevert(IModelpactRound.RevealMismatch.selector);
        vm.prank(actors[0]);
        round.reveal(secret);
    }

    function testFuzz_predictedAccuracy_staysBetweenNeighbouringKnots(uint256 x) public view {
        x = bound(x, 0, 1e9);
        uint256 y = round.predictedAccuracy(x);
        if (x <= 100) {
            assertEq(y, x * 2e17 / 100);
        } else if (x < 1000) {
            assertGe(y, 2e17);
            assertLe(y, 8e17);
            assertLe(round.predictedAccuracy(x - 1), y, "monotone on a rising curve");
        } else {
            assertEq(y, 8e17);
        }
    }

    function testFuzz_defaultCompensationSplitsCoordinatorBond(uint8 joined) public {
        uint256 n = bound(joined, 1, 5);
        address[] memory actors = _joinMany(n);
        vm.warp(postAt + 1);
        for (uint256 i = 0; i < n; ++i) {
            vm.prank(actors[i]);
            round.withdrawAfterDefault();
        }
        assertEq(address(round).balance, COORD_BOND % n);
    }
}
