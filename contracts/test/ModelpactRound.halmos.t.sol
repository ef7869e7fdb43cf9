// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {RoundMath} from "../src/libraries/RoundMath.sol";

/// @notice Money-rule properties proven for ALL inputs by halmos (symbolic execution); forge does
///         not run `check_` functions. Run with halmos in its own venv (see contracts/HALMOS.md):
///             halmos --root . --forge-build-out contracts/out --contract RoundMathProofs
/// @dev    Bonds are below 2^96 (initialize refuses more), ratios and shortfalls at most
///         1e18. What halmos does NOT finish here (each tried with a 120-300 s solver budget,
///         yices and z3; bitwuzla cannot be downloaded on these machines): anything dividing by a
///         symbolic divisor (the allot (B - reward) / d, a forfeit share f * b / r, B / J), even
///         the fraud reward's division of a symbolic bond by 10,000, or
///         multiplying two symbolic counts (sum over options of deliverers x compensation, r x
///         (b + share) <= J x b). Those sums follow from the lemmas below by summation and from
///         d * floor(X / d) <= X, and are checked by testFuzz_money_entitlementsFitTheBond and the
///         invariant suite (contracts/HALMOS.md has the runs).
contract RoundMathProofs is Test {
    uint256 internal constant WAD = 1e18;

    /// A curve compensation never exceeds its cap (the allot), whatever the ratio, shortfall and
    /// price (the code, mulDiv included).
    function check_curveCompensationIsCapped(uint64 ratio, uint64 shortfall, uint256 rho, uint256 cap) public pure {
        vm.assume(ratio <= WAD && shortfall <= WAD);
        assert(RoundMath.curveCompensation(ratio, shortfall, rho, cap) <= cap);
    }

    /// The curve check's shortfall is max(0, predicted - tolerance - measured): never more than
    /// the prediction, zero exactly when the measured accuracy is within tolerance.
    function check_shortfallIsTheExcessBelowTolerance(uint64 predicted, uint64 measured, uint64 tolerance) public pure {
        uint256 s = RoundMath.shortfall(predicted, measured, tolerance);
        assert(s <= predicted);
        assert((s == 0) == (uint256(predicted) <= uint256(measured) + tolerance));
        if (s > 0) assert(s + measured + tolerance == predicted);
    }
}
