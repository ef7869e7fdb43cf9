// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title RoundMath
/// @notice Pure integer arithmetic of a modelpact round: the assignment target, the draw between
///         two neighbouring rungs, the piecewise-linear accuracy curve, and the money rules (forfeit
///         shares, the coordinator bond's allot and the curve compensation). Mirrored byte for
///         byte by `modelpact.encoding` (golden vectors in contracts/test/vectors/ are checked on
///         both sides).
/// @dev    All accuracies, ratios and shortfalls are WAD fractions (1e18 = 1). Every division
///         floors. No floating point anywhere.
library RoundMath {
    /// @dev The fixed-point scale of ratios and accuracies.
    uint256 internal constant WAD = 1e18;

    /// @dev Share of the coordinator's bond paid to whoever proves a posted claim false (10%).
    uint256 internal constant FRAUD_REWARD_BPS = 1000;

    /// @notice The accuracy a participant is owed in expectation: ratio x collective, floored.
    function target(uint256 ratioWad, uint256 collectiveAccuracyWad) internal pure returns (uint256) {
        return Math.mulDiv(ratioWad, collectiveAccuracyWad, WAD);
    }

    /// @notice Whether the draw picks the upper rung `hiAccuracy` over `loAccuracy` for `targetAccuracy`.
    /// @dev    Requires lo <= target <= hi. With lo == hi the assignment is deterministic (true).
    ///         P(true) over the residue uint256(seed) % (hi - lo) is exactly (target - lo) / (hi - lo),
    ///         so lo + (hi - lo) * P = target: the expected accuracy equals the target.
    function drawsHigh(bytes32 seed, uint256 loAccuracy, uint256 hiAccuracy, uint256 targetAccuracy)
        internal
        pure
        returns (bool)
    {
        if (hiAccuracy == loAccuracy) return true;
        return uint256(seed) % (hiAccuracy - loAccuracy) < targetAccuracy - loAccuracy;
    }

    /// @notice Linear interpolation between (x0, y0) and (x1, y1) at x0 <= x <= x1 (x0 < x1).
    /// @dev    The change y1 - y0 is scaled by (x - x0) / (x1 - x0) and its magnitude floored, so the
    ///         result is rounded toward y0 (down on a rising segment, up on a falling one).
    function interpolate(uint256 x0, uint256 y0, uint256 x1, uint256 y1, uint256 x) internal pure returns (uint256) {
        if (y1 >= y0) return y0 + Math.mulDiv(y1 - y0, x - x0, x1 - x0);
        return y0 - Math.mulDiv(y0 - y1, x - x0, x1 - x0);
    }

    /// @notice The accuracy of `correctCount` right answers out of `testRowCount`: floor(c * WAD / T).
    /// @dev    Injective in the count for T <= WAD (consecutive counts differ by WAD / T >= 1).
    function accuracyOfCount(uint256 correctCount, uint256 testRowCount) internal pure returns (uint256) {
        // Counts are at most T <= 1e18 (and any uint64): the product fits 256 bits.
        return (correctCount * WAD) / testRowCount;
    }

    /// @notice Equal share of `forfeited` bonds of `bond` wei among `recipients` (floor; 0 for none).
    function share(uint256 forfeited, uint256 bond, uint256 recipients) internal pure returns (uint256) {
        if (recipients == 0) return 0;
        return (forfeited * bond) / recipients;
    }

    /// @notice The challenger's reward out of a coordinator bond of `bond` wei.
    /// @dev    Bonds are below 2^96 (the round's initialize refuses more): the product fits.
    function fraudReward(uint256 bond) internal pure returns (uint256) {
        return (bond * FRAUD_REWARD_BPS) / 10_000;
    }

    /// @notice Each of `delivered` deliverers' allot of the coordinator's bond: what a proven fraud
    ///         or a failed delivery pays it, and the cap of its curve compensation.
    /// @dev    floor((bond - fraudReward) / delivered); delivered > 0.
    function allot(uint256 bond, uint256 delivered) internal pure returns (uint256) {
        return (bond - fraudReward(bond)) / delivered;
    }

    /// @notice How far the measured accuracy falls below the prediction beyond the tolerance:
    ///         max(0, predicted - tolerance - measured).
    function shortfall(uint256 predictedWad, uint256 measuredWad, uint256 toleranceWad)
        internal
        pure
        returns (uint256)
    {
        uint256 floor_ = measuredWad + toleranceWad;
        return predictedWad > floor_ ? predictedWad - floor_ : 0;
    }

    /// @notice Curve compensation of an option with `ratioWad`: min(cap, floor(ratio * shortfall *
    ///         weiPerWad / 1e36)) wei.
    /// @dev    ratio and shortfall are <= 1e18, so their product fits; mulDiv keeps the full
    ///         512-bit product with `weiPerWad` and floors once.
    function curveCompensation(uint256 ratioWad, uint256 shortfallWad, uint256 weiPerWad, uint256 cap)
        internal
        pure
        returns (uint256)
    {
        uint256 comp = Math.mulDiv(ratioWad * shortfallWad, weiPerWad, WAD * WAD);
        return comp < cap ? comp : cap;
    }
}
