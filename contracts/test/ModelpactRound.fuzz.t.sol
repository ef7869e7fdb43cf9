// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundFixture, RoundHarness} from "./ModelpactRound.base.t.sol";

contract ModelpactRoundFuzzTest is RoundFixture {
    /// @dev Builds a round whose single option has `ratio`, sets `n` ascending tiers below
    ///      `collective` derived from `tierSeed` as its rungs (any WAD accuracies: a post takes
    ///      only exact counts over T <= MAX_TEST_ROWS = 4,096 rows, so the harness sets them), and returns the
    ///      harness and the tier accuracies.
    function _postedRound(uint64 ratio, uint64 collective, uint256 n, uint256 tierSeed)
        internal
        returns (RoundHarness r, uint256[] memory accs)
    {
        IModelpactRound.Option[] memory menu = new IModelpactRound.Option[](1);
        menu[0] = IModelpactRound.Option(10, ratio, ratio, 1e18);
        IModelpactRound.Config memory cfg = _config(1);
        r = _deploy(menu, cfg, new IModelpactRound.CurveKnot[](0));
        vm.prank(_actor(1));
        r.join{value: BOND}(0, bytes32(uint256(1)), 10, bytes32(uint256(2)));
        vm.warp(joinAt + 1 hours + 1);
        vm.startPrank(coordinatorAddr);
        r.revealCoordinator(COORD_SECRET);
        // n strictly ascending accuracies in (0, collective): spread the gaps from the seed.
        n = n > collective - 1 ? collective - 1 : n;
        IModelpactRound.PostedModel[] memory tiers = new IModelpactRound.PostedModel[](n);
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
            tiers[i] = IModelpactRound.PostedModel(keccak256(abi.encode(i)), uint64(prev), bytes32(i + 1));
        }
        vm.stopPrank();
        r.exposedSetRungs(collective, accs);
        tiers;
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

    function testFuzz_reveal_onlyTheCommittedSecretAndKeyOpen(bytes32 secret, uint256 x, uint256 y) public {
        address[] memory actors = _toReveal(1);
        (uint256 kx, uint256 ky) = _key(actors[0]);
        vm.assume(secret != _secret(actors[0]) || x != kx || y != ky);
        vm.expectPartialRevert(IModelpactRound.RevealMismatch.selector);
        vm.prank(actors[0]);
        round.reveal(_dataRoot(actors[0]), secret, x, y);
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
        round.sweep();
        assertEq(address(round).balance, 0);
    }

    /// Section 4: for any bond, shortfall price, measured accuracy and undelivered set, the
    /// entitlements add up to the liability, never exceed B minus the fraud reward, each is at most
    /// the allot; the sweep pays exactly B minus the liability; after fraud the challenger's reward
    /// plus every allot still fits in B.
    function testFuzz_money_entitlementsFitTheBond(
        uint96 coordBond,
        uint256 rho,
        uint64 measured,
        uint8 n,
        uint8 lostMask,
        bool fraud
    ) public {
        coordBond = uint96(bound(coordBond, 0, 1e24));
        n = uint8(bound(n, 1, 5));
        address[] memory kept =
            _postFuzzedRound(coordBond, bound(rho, 0, 1e40), uint64(bound(measured, 1, TEST_ROWS)), n, lostMask);
        uint256 sum = _checkEntitlements(kept, coordBond);
        if (fraud) {
            uint256 before = address(this).balance;
            round.exposedProveFraud(IModelpactRound.FraudKind.BrokenCount, 1, 0);
            (, uint256 allot) = round.shortfall();
            assertLe(address(this).balance - before + kept.length * allot, coordBond, "reward + every allot <= B");
        }
        vm.warp(_claimDeadline() + 1);
        uint256 coordBefore = coordinatorAddr.balance;
        round.sweep();
        assertEq(coordinatorAddr.balance - coordBefore, fraud ? 0 : coordBond - sum, "sweep = B - liability");
        for (uint256 i = 0; i < kept.length; ++i) {
            (uint256 e,) = round.entitlement(kept[i]);
            if (e > 0) {
                vm.prank(kept[i]);
                round.withdrawCompensation();
            }
        }
        // Nobody revealed: every participant bond is burned; of B only the floor dust may remain.
        assertGe(address(round).balance, n * BOND);
        assertLe(address(round).balance, n * BOND + kept.length);
    }

    function _postFuzzedRound(uint96 coordBond, uint256 rho, uint64 measured, uint256 n, uint8 lostMask)
        internal
        returns (address[] memory kept)
    {
        IModelpactRound.Config memory cfg = _config(5);
        cfg.shortfallWeiPerWad = rho;
        vm.deal(coordinatorAddr, coordBond);
        vm.prank(coordinatorAddr);
        round = _newHarness(coordBond, _menu(), cfg, _curve());
        address[] memory lost;
        (lost, kept) = _split(_joinMany(n), lostMask);
        _toPost();
        _revealCoordinator();
        vm.prank(coordinatorAddr);
        round.postModels(
            _model("c", measured), new IModelpactRound.PostedModel[](0), _sorted(lost), _logs(0, TEST_ROWS)
        );
    }

    /// @dev Each entitlement <= allot; their sum is the liability and fits B minus the reward.
    function _checkEntitlements(address[] memory kept, uint256 coordBond) internal view returns (uint256 sum) {
        (, uint256 allot) = round.shortfall();
        for (uint256 i = 0; i < kept.length; ++i) {
            (uint256 e,) = round.entitlement(kept[i]);
            assertLe(e, allot, "capped by the allot");
            sum += e;
        }
        assertEq(sum, round.liability(), "the liability is the sum of entitlements");
        assertLe(sum + coordBond / 10, coordBond, "entitlements + fraud reward <= B");
    }

    function _split(address[] memory actors, uint8 mask)
        internal
        pure
        returns (address[] memory lost, address[] memory kept)
    {
        uint256 nLost;
        for (uint256 i = 0; i < actors.length; ++i) {
            if (mask & (1 << i) != 0) ++nLost;
        }
        if (nLost == actors.length) {
            // Keep at least one deliverer (quorum 1).
            mask &= ~uint8(1);
            --nLost;
        }
        lost = new address[](nLost);
        kept = new address[](actors.length - nLost);
        uint256 a;
        uint256 b;
        for (uint256 i = 0; i < actors.length; ++i) {
            if (mask & (1 << i) != 0) lost[a++] = actors[i];
            else kept[b++] = actors[i];
        }
    }

    receive() external payable {}
}
