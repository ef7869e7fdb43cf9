// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {ModelpactRound} from "../src/ModelpactRound.sol";
import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";

/// @dev Exposes internal assignment for golden-vector and property tests.
contract RoundHarness is ModelpactRound {
    constructor(Option[] memory menu_, Config memory config_, CurveKnot[] memory curve_)
        payable
        ModelpactRound(menu_, config_, curve_)
    {}

    function exposedAssign(uint256 ratioWad, bytes32 seed) external view returns (uint256, uint256, uint256) {
        return _assign(_stateView(), ratioWad, seed);
    }
}

/// @dev Shared fixtures: a three-option menu, a curve, deadlines, funded actors and helpers that
///      drive a round through its phases with commitments built exactly as `modelpact.encoding`.
abstract contract RoundFixture is Test {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant BOND = 0.1 ether;
    uint256 internal constant COORD_BOND = 1 ether;
    bytes32 internal constant SCENARIO = keccak256("scenario");
    bytes32 internal constant TEST_SET = keccak256("test-set");
    bytes32 internal constant COORD_SECRET = keccak256("coordinator-secret");

    address internal coordinatorAddr = makeAddr("coordinator");
    uint64 internal joinAt;
    uint64 internal postAt;
    uint64 internal revealAt;
    uint64 internal claimAt;

    RoundHarness internal round;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        joinAt = uint64(block.timestamp + 1 days);
        postAt = joinAt + 1 days;
        revealAt = postAt + 1 days;
        claimAt = revealAt + 1 days;
        vm.deal(coordinatorAddr, 100 ether);
        round = _deploy(_menu(), _config(5), _curve());
    }

    // --------------------------------------------------------------------- builders

    function _menu() internal pure returns (IModelpactRound.Option[] memory menu) {
        menu = new IModelpactRound.Option[](3);
        menu[0] = IModelpactRound.Option(100, 3e17, 20e18, 60e18);
        menu[1] = IModelpactRound.Option(200, 6e17, 45e18, 75e18);
        menu[2] = IModelpactRound.Option(400, 1e18, 80e18, 80e18);
    }

    function _config(uint32 capacity) internal view returns (IModelpactRound.Config memory) {
        return IModelpactRound.Config({
            capacity: capacity,
            participantBond: BOND,
            scenarioHash: SCENARIO,
            testSetCommitment: TEST_SET,
            coordinatorCommitment: _coordCommitment(COORD_SECRET, coordinatorAddr),
            deadlines: IModelpactRound.Deadlines(joinAt, postAt, revealAt, claimAt)
        });
    }

    function _curve() internal pure returns (IModelpactRound.CurveKnot[] memory curve) {
        curve = new IModelpactRound.CurveKnot[](2);
        curve[0] = IModelpactRound.CurveKnot(100, 2e17);
        curve[1] = IModelpactRound.CurveKnot(1000, 8e17);
    }

    function _tiers() internal pure returns (IModelpactRound.Tier[] memory tiers) {
        tiers = new IModelpactRound.Tier[](2);
        tiers[0] = IModelpactRound.Tier(keccak256("tier-1"), 2e17);
        tiers[1] = IModelpactRound.Tier(keccak256("tier-2"), 5e17);
    }

    function _deploy(
        IModelpactRound.Option[] memory menu,
        IModelpactRound.Config memory cfg,
        IModelpactRound.CurveKnot[] memory curve
    ) internal returns (RoundHarness r) {
        vm.prank(coordinatorAddr);
        r = new RoundHarness{value: COORD_BOND}(menu, cfg, curve);
    }

    // --------------------------------------------------------------------- encodings

    function _coordCommitment(bytes32 secret, address who) internal view returns (bytes32) {
        return keccak256(abi.encode(secret, who, SCENARIO, block.chainid));
    }

    function _secret(address who) internal pure returns (bytes32) {
        return keccak256(abi.encode("participant-secret", who));
    }

    function _commitment(address who) internal view returns (bytes32) {
        return keccak256(abi.encode(_secret(who), who, address(round), block.chainid));
    }

    function _dataRoot(address who) internal pure returns (bytes32) {
        return keccak256(abi.encode("data", who));
    }

    // --------------------------------------------------------------------- actors and phases

    function _actor(uint256 i) internal returns (address a) {
        a = makeAddr(string.concat("participant-", vm.toString(i)));
        vm.deal(a, 10 ether);
    }

    function _join(address who, uint8 optionId) internal {
        uint64 rows = round.option(optionId).dataCount;
        vm.prank(who);
        round.join{value: BOND}(optionId, _dataRoot(who), rows, _commitment(who));
    }

    function _joinMany(uint256 n) internal returns (address[] memory actors) {
        actors = new address[](n);
        for (uint256 i = 0; i < n; ++i) {
            actors[i] = _actor(i);
            _join(actors[i], uint8(i % 3));
        }
    }

    function _toPost() internal {
        vm.warp(joinAt + 1);
    }

    function _revealCoordinator() internal {
        vm.prank(coordinatorAddr);
        round.revealCoordinator(COORD_SECRET);
    }

    function _post() internal {
        vm.prank(coordinatorAddr);
        round.postModels(keccak256("collective"), 9e17, _tiers());
    }

    /// @dev Join `n`, close joining, coordinator reveals and posts: the round is in Reveal.
    function _toReveal(uint256 n) internal returns (address[] memory actors) {
        actors = _joinMany(n);
        _toPost();
        _revealCoordinator();
        _post();
    }

    function _reveal(address who) internal {
        vm.prank(who);
        round.reveal(_secret(who));
    }
}
