// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {ModelpactRound} from "../src/ModelpactRound.sol";

/// @dev Drives one round with random actions in random order and keeps ghost accounting.
contract RoundHandler is Test {
    uint256 internal constant BOND = 0.1 ether;
    uint256 internal constant ACTORS = 8;

    ModelpactRound public immutable round;
    address public immutable coordinator;
    bytes32 internal immutable coordinatorSecret;

    address[] public actors;
    mapping(address => bool) public ghostJoined;
    mapping(address => bool) public ghostPaid;
    uint256 public ghostPaidOut; // wei sent to participants
    uint256 public ghostSwept; // wei sent to the coordinator
    uint256 public ghostClaims;
    uint256 public ghostRefunds;
    uint256 public ghostDoubleClaims; // a second claim/refund that did NOT revert
    uint256 public ghostAboveCollective; // an assigned accuracy above the collective model
    uint256 public ghostBracketViolations; // a draw outside its two neighbouring rungs
    uint256 public ghostClaimedAccuracySum;
    uint256 public ghostTargetSum;

    constructor(ModelpactRound round_, address coordinator_, bytes32 coordinatorSecret_) {
        round = round_;
        coordinator = coordinator_;
        coordinatorSecret = coordinatorSecret_;
        for (uint256 i = 0; i < ACTORS; ++i) {
            address a = makeAddr(string.concat("inv-actor-", vm.toString(i)));
            vm.deal(a, 100 ether);
            actors.push(a);
        }
    }

    function secretOf(address a) public pure returns (bytes32) {
        return keccak256(abi.encode("inv-secret", a));
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % ACTORS];
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 0, 1.5 days));
    }

    function join(uint256 actorSeed, uint8 optionId) external {
        address a = _actor(actorSeed);
        uint8 o = uint8(optionId % 3);
        uint64 rows = round.option(o).dataCount;
        bytes32 commitment = keccak256(abi.encode(secretOf(a), a, address(round), block.chainid));
        vm.prank(a);
        try round.join{value: BOND}(o, keccak256(abi.encode(a)), rows, commitment) {
            ghostJoined[a] = true;
        } catch {}
    }

    function revealCoordinator() external {
        vm.prank(coordinator);
        try round.revealCoordinator(coordinatorSecret) {} catch {}
    }

    function postModels(uint64 collective, uint8 n, uint256 tierSeed) external {
        collective = uint64(bound(collective, 1000, 1e18));
        uint256 count = bound(n, 0, 8);
        IModelpactRound.Tier[] memory tiers = new IModelpactRound.Tier[](count);
        uint256 prev;
        uint256 gap = collective / (count + 1);
        for (uint256 i = 0; i < count; ++i) {
            prev += 1 + uint256(keccak256(abi.encode(tierSeed, i))) % gap;
            tiers[i] = IModelpactRound.Tier(keccak256(abi.encode(tierSeed, i, "h")), uint64(prev));
        }
        vm.prank(coordinator);
        try round.postModels(keccak256(abi.encode(tierSeed)), collective, tiers) {} catch {}
    }

    function reveal(uint256 actorSeed) external {
        address a = _actor(actorSeed);
        vm.prank(a);
        try round.reveal(secretOf(a)) {} catch {}
    }

    function claim(uint256 actorSeed) external {
        address a = _actor(actorSeed);
        bool paidBefore = ghostPaid[a];
        uint256 before = a.balance;
        (bool haveAssignment, uint256 acc, uint256 target) = _assignment(a);
        vm.prank(a);
        try round.claim() {
            if (paidBefore) ++ghostDoubleClaims;
            ghostPaid[a] = true;
            ++ghostClaims;
            ghostPaidOut += a.balance - before;
            if (haveAssignment) {
                ghostClaimedAccuracySum += acc;
                ghostTargetSum += target;
            }
        } catch {}
    }

    function _assignment(address a) internal returns (bool, uint256, uint256) {
        try round.assignment(a) returns (uint256 rung, uint256 acc, uint256 target) {
            uint256 collective = round.collectiveModel().accuracyWad;
            if (acc > collective || rung > round.tierCount() + 1) ++ghostAboveCollective;
            // The drawn rung and its neighbour bracket the target.
            // Drawn up: the rung below is under the target. Drawn down: the rung above is over it.
            uint256 other = acc >= target ? (rung == 0 ? 0 : _rungAccuracy(rung - 1)) : _rungAccuracy(rung + 1);
            bool ok = acc >= target ? (other <= target) : (other >= target);
            if (target == 0) ok = rung == 0;
            if (!ok) ++ghostBracketViolations;
            return (true, acc, target);
        } catch {
            return (false, 0, 0);
        }
    }

    function _rungAccuracy(uint256 rung) internal view returns (uint256) {
        if (rung == 0) return 0;
        uint256 n = round.tierCount();
        if (rung > n) return round.collectiveModel().accuracyWad;
        return round.tier(rung - 1).accuracyWad;
    }

    function withdrawAfterDefault(uint256 actorSeed) external {
        address a = _actor(actorSeed);
        bool paidBefore = ghostPaid[a];
        uint256 before = a.balance;
        vm.prank(a);
        try round.withdrawAfterDefault() {
            if (paidBefore) ++ghostDoubleClaims;
            ghostPaid[a] = true;
            ++ghostRefunds;
            ghostPaidOut += a.balance - before;
        } catch {}
    }

    function sweep() external {
        uint256 before = coordinator.balance;
        try round.sweep() {
            ghostSwept += coordinator.balance - before;
        } catch {}
    }
}

contract ModelpactRoundInvariantTest is Test {
    uint256 internal constant BOND = 0.1 ether;
    uint256 internal constant COORD_BOND = 1 ether + 7; // odd: exercises rounding dust
    bytes32 internal constant SCENARIO = keccak256("scenario");
    bytes32 internal constant COORD_SECRET = keccak256("inv-coordinator");

    ModelpactRound internal round;
    RoundHandler internal handler;
    address internal coordinatorAddr = makeAddr("inv-coordinator");

    function setUp() public {
        vm.warp(1_700_000_000);
        IModelpactRound.Option[] memory menu = new IModelpactRound.Option[](3);
        menu[0] = IModelpactRound.Option(100, 3e17, 0, 0);
        menu[1] = IModelpactRound.Option(200, 6e17 + 1, 0, 0);
        menu[2] = IModelpactRound.Option(400, 1e18, 0, 0);
        uint64 j = uint64(block.timestamp + 1 days);
        IModelpactRound.Config memory cfg = IModelpactRound.Config({
            capacity: 6,
            participantBond: BOND,
            scenarioHash: SCENARIO,
            testSetCommitment: keccak256("t"),
            coordinatorCommitment: keccak256(abi.encode(COORD_SECRET, coordinatorAddr, SCENARIO, block.chainid)),
            deadlines: IModelpactRound.Deadlines(j, j + 1 days, j + 2 days, j + 3 days)
        });
        vm.deal(coordinatorAddr, COORD_BOND);
        vm.prank(coordinatorAddr);
        round = new ModelpactRound{value: COORD_BOND}(menu, cfg, new IModelpactRound.CurveKnot[](0));
        handler = new RoundHandler(round, coordinatorAddr, COORD_SECRET);
        targetContract(address(handler));
    }

    /// ETH held == what is still owed, to the wei: every participant's unpaid entitlement plus
    /// the coordinator's residual (its bond, forfeited bonds and rounding dust), and nothing
    /// leaves except through the ghost-tracked payments.
    function invariant_ethHeldEqualsBondsStillOwed() public view {
        uint256 joined = round.joinedCount();
        uint256 revealed = round.revealedCount();
        uint256 balance = address(round).balance;
        assertEq(balance, COORD_BOND + joined * BOND - handler.ghostPaidOut() - handler.ghostSwept(), "conservation");
        if (handler.ghostSwept() > 0) {
            assertEq(balance, 0, "sweep empties the round");
            return;
        }
        IModelpactRound.Phase p = round.phase();
        if (joined == 0) {
            assertEq(balance, COORD_BOND, "an empty round holds only the coordinator's bond");
        } else if (p == IModelpactRound.Phase.Aborted || (handler.ghostRefunds() > 0)) {
            uint256 comp = COORD_BOND / joined;
            assertEq(handler.ghostPaidOut(), handler.ghostRefunds() * (BOND + comp), "refund entitlement");
            assertEq(balance, (joined - handler.ghostRefunds()) * (BOND + comp) + (COORD_BOND - joined * comp));
        } else if (handler.ghostClaims() > 0 || p == IModelpactRound.Phase.Claim || p == IModelpactRound.Phase.Closed) {
            uint256 share = revealed == 0 ? 0 : ((joined - revealed) * BOND) / revealed;
            assertEq(handler.ghostPaidOut(), handler.ghostClaims() * (BOND + share), "claim entitlement");
            uint256 owedToRevealers = (revealed - handler.ghostClaims()) * (BOND + share);
            uint256 coordinatorResidual = COORD_BOND + (joined - revealed) * BOND - revealed * share;
            assertEq(balance, owedToRevealers + coordinatorResidual);
        } else {
            assertEq(balance, COORD_BOND + joined * BOND, "nothing paid before claims");
        }
    }

    function invariant_nobodyClaimsTwice() public view {
        assertEq(handler.ghostDoubleClaims(), 0);
        assertLe(handler.ghostClaims(), round.revealedCount());
        assertLe(handler.ghostRefunds(), round.joinedCount());
    }

    function invariant_noRungAboveCollectiveModel() public view {
        assertEq(handler.ghostAboveCollective(), 0);
    }

    function invariant_drawBracketsTheTarget() public view {
        assertEq(handler.ghostBracketViolations(), 0);
    }

    function invariant_countsAreConsistent() public view {
        uint256 sum;
        for (uint256 i = 0; i < 3; ++i) {
            sum += round.optionJoinCount(i);
        }
        assertEq(sum, round.joinedCount());
        assertLe(round.revealedCount(), round.joinedCount());
        assertLe(round.joinedCount(), 6);
    }
}
