// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {RoundMath} from "../src/libraries/RoundMath.sol";

/// @notice Money-rule properties proven for ALL inputs by halmos (symbolic execution); forge does
///         not run `check_` functions. Run with halmos in its own venv (see contracts/HALMOS.md):
///             halmos --root . --forge-build-out contracts/out --contract RoundMathProofs
/// @dev    Bonds are below 2^96 (the constructor refuses more), counts below 2^32 (capacity),
///         ratios and shortfalls at most 1e18. A division by a SYMBOLIC divisor (the allot
///         (B - reward) / d, a forfeit share f * b / r, B / J) does not finish within minutes with
///         the solvers available here (yices, z3); those proofs take the quotient q as a free
///         variable constrained by what every floor division satisfies (d * q <= X), and the
///         fuzz and invariant tests check the Solidity divisions against them.
contract RoundMathProofs is Test {
    uint256 internal constant WAD = 1e18;

    /// The challenger's reward is floor(B / 10): never more than the bond.
    function check_fraudRewardIsATenthOfTheBond(uint96 bond) public pure {
        uint256 reward = RoundMath.fraudReward(bond);
        assert(10 * reward <= bond && bond < 10 * (reward + 1));
    }

    /// A curve compensation never exceeds its cap (the allot), whatever the ratio, shortfall and
    /// price (the code, mulDiv included).
    function check_curveCompensationIsCapped(uint64 ratio, uint64 shortfall, uint256 rho, uint256 cap) public pure {
        vm.assume(ratio <= WAD && shortfall <= WAD);
        assert(RoundMath.curveCompensation(ratio, shortfall, rho, cap) <= cap);
    }

    /// Three options' deliverers, each owed its option's capped compensation, with `allot` any
    /// value with d * allot <= B - reward (as floor((B - reward) / d) is): the liability the sweep
    /// leaves, plus the fraud reward, fits B. After a fraud every entitlement is the allot, the
    /// same bound with equality allowed.
    function check_curveLiabilityFitsTheBond(
        uint96 bond,
        uint32 d1,
        uint32 d2,
        uint32 d3,
        uint64 r1,
        uint64 r2,
        uint64 r3,
        uint64 shortfall,
        uint128 rho,
        uint96 allot
    ) public pure {
        uint256 delivered = uint256(d1) + d2 + d3;
        uint256 reward = RoundMath.fraudReward(bond);
        vm.assume(r1 <= WAD && r2 <= WAD && r3 <= WAD && shortfall <= WAD);
        vm.assume(delivered * allot + reward <= bond);
        uint256 liability = d1 * RoundMath.curveCompensation(r1, shortfall, rho, allot) + d2
            * RoundMath.curveCompensation(r2, shortfall, rho, allot) + d3
            * RoundMath.curveCompensation(r3, shortfall, rho, allot);
        assert(liability + reward <= bond);
    }

    /// A failed delivery raises the liability by (allot - compensation): `failed` deliverers of an
    /// option at their allot and the rest at their compensation stay within d allots.
    function check_failedDeliveriesKeepTheLiabilityWithinTheAllots(
        uint32 delivered,
        uint32 failed,
        uint64 ratio,
        uint64 shortfall,
        uint128 rho,
        uint96 allot
    ) public pure {
        vm.assume(failed <= delivered && ratio <= WAD && shortfall <= WAD);
        uint256 comp = RoundMath.curveCompensation(ratio, shortfall, rho, allot);
        uint256 liability = uint256(delivered - failed) * comp + uint256(failed) * allot;
        assert(liability <= uint256(delivered) * allot);
    }

    /// Forfeit shares: with `share` any value with recipients * share <= forfeited * b (as
    /// floor(forfeited * b / recipients) is), the recipients' bonds plus shares are at most every
    /// joiner's bond: participants' bonds alone pay every claim and refund.
    function check_bondsAndSharesFitTheBonds(uint32 joined, uint32 recipients, uint96 bond, uint256 share) public pure {
        vm.assume(recipients <= joined);
        uint256 forfeited = joined - recipients;
        vm.assume(uint256(recipients) * share <= forfeited * bond);
        assert(uint256(recipients) * (bond + share) <= uint256(joined) * bond);
    }
}
