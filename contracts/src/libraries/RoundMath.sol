// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title RoundMath
/// @notice Pure integer arithmetic of a modelpact round: the assignment target, the draw between
///         two neighbouring rungs, and the piecewise-linear accuracy curve. Mirrored byte for byte
///         by `modelpact.encoding` (golden vectors in contracts/test/vectors/ are checked on both
///         sides).
/// @dev    All accuracies and ratios are WAD fractions (1e18 = 1). No floating point anywhere.
library RoundMath {
    /// @dev The fixed-point scale of ratios and accuracies.
    uint256 internal constant WAD = 1e18;

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
}
