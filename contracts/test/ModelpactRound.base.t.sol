// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {ModelpactFactory} from "../src/ModelpactFactory.sol";
import {ModelpactRound} from "../src/ModelpactRound.sol";
import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";

/// @dev Exposes internal assignment and the stage-2 hooks (fraud, failed delivery) so the money
///      rules they feed are tested before the challenge and dispute entry points exist. It is the
///      implementation the fixtures' factory clones (a round of the tests is a clone of it).
contract RoundHarness is ModelpactRound {
    constructor(address proofs_) ModelpactRound(proofs_) {}

    function exposedAssign(uint256 ratioWad, bytes32 seed) external view returns (uint256, uint256, uint256) {
        return _assign(_stateView(), ratioWad, seed);
    }

    function exposedProveFraud(FraudKind kind, uint256 rung, uint256 row) external nonReentrant {
        _proveFraud(kind, rung, row);
    }

    function exposedFailDelivery(DeliveryFailure reason) external nonReentrant {
        _failDelivery(reason);
    }

    /// @dev Sets the rungs the draw reads (collective model and ascending tier accuracies)
    ///      without a post: any WAD accuracy, where a post only takes exact counts over T <= MAX_TEST_ROWS.
    function exposedSetRungs(uint256 collective, uint256[] calldata tiers) external {
        uint256[(MAX_TIERS + 4) / 4] memory words;
        words[0] = collective;
        for (uint256 i = 0; i < tiers.length; ++i) {
            uint256 rung = i + 1;
            words[rung >> 2] |= tiers[i] << ((rung & 3) * 64);
        }
        for (uint256 w = 0; w < words.length; ++w) {
            _accuracyWords[w] = words[w];
        }
        _state.tierCount = uint8(tiers.length);
        _state.posted = true;
    }
}

/// @dev Shared fixtures: a three-option menu, a curve, a schedule, funded actors and helpers that
///      drive a round through its phases with commitments built exactly as `modelpact.encoding`.
abstract contract RoundFixture is Test {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant BOND = 0.1 ether;
    uint256 internal constant COORD_BOND = 1 ether;
    uint64 internal constant TEST_ROWS = 1000;
    uint64 internal constant TOLERANCE = 2e16; // 0.02
    uint256 internal constant RHO = 1e16; // wei per 1.0 of ratio-weighted shortfall
    uint64 internal constant WINDOW = 1 days;
    bytes32 internal constant SCENARIO = keccak256("scenario");
    bytes32 internal constant TEST_SET = keccak256("test-set");
    bytes32 internal constant COORD_SECRET = keccak256("coordinator-secret");
    /// @dev Order of the alt_bn128 group (keys are scalars below it).
    uint256 internal constant BN128_N = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    address internal coordinatorAddr = makeAddr("coordinator");
    uint64 internal joinAt;
    uint64 internal postAt;

    RoundHarness internal round;
    /// @dev The shared contracts (issue 17): one ModelpactProofs, one RoundHarness implementation
    ///      and the factory that clones it; every round of the tests is created by `factory`.
    address internal proofsImpl;
    address internal harnessImpl;
    ModelpactFactory internal factory;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        joinAt = uint64(block.timestamp + 1 days);
        postAt = joinAt + 1 days;
        vm.deal(coordinatorAddr, 100 ether);
        _deployShared();
        round = _deploy(_menu(), _config(5), _curve());
    }

    /// @dev Deploys the shared contracts once, from their compiled artifacts (see `_create`).
    function _deployShared() internal {
        proofsImpl = _create("ModelpactProofs.sol:ModelpactProofs", "", 0);
        harnessImpl = _create("ModelpactRound.base.t.sol:RoundHarness", abi.encode(proofsImpl), 0);
        factory = ModelpactFactory(_create("ModelpactFactory.sol:ModelpactFactory", abi.encode(harnessImpl), 0));
    }

    // --------------------------------------------------------------------- builders

    function _menu() internal pure returns (IModelpactRound.Option[] memory menu) {
        menu = new IModelpactRound.Option[](3);
        menu[0] = IModelpactRound.Option(100, 25e16, 20e18, 80e18);
        menu[1] = IModelpactRound.Option(200, 6e17, 48e18, 80e18);
        menu[2] = IModelpactRound.Option(400, 1e18, 80e18, 80e18);
    }

    function _config(uint32 capacity) internal view returns (IModelpactRound.Config memory) {
        return _configQ(capacity, 1);
    }

    function _configQ(uint32 capacity, uint32 quorum) internal view returns (IModelpactRound.Config memory) {
        return IModelpactRound.Config({
            capacity: capacity,
            quorum: quorum,
            participantBond: BOND,
            scenarioHash: SCENARIO,
            testSetCommitment: TEST_SET,
            testRowCount: TEST_ROWS,
            coordinatorCommitment: _coordCommitment(COORD_SECRET, coordinatorAddr),
            curveToleranceWad: TOLERANCE,
            shortfallWeiPerWad: RHO,
            schedule: IModelpactRound.Schedule(joinAt, postAt, WINDOW, WINDOW, WINDOW)
        });
    }

    function _curve() internal pure returns (IModelpactRound.CurveKnot[] memory curve) {
        curve = new IModelpactRound.CurveKnot[](2);
        curve[0] = IModelpactRound.CurveKnot(100, 2e17);
        curve[1] = IModelpactRound.CurveKnot(1000, 8e17);
    }

    /// @dev A posted model scoring `count` of the TEST_ROWS rows.
    function _model(string memory label, uint64 count) internal pure returns (IModelpactRound.PostedModel memory) {
        return IModelpactRound.PostedModel(
            keccak256(bytes(label)), uint64(uint256(count) * WAD / TEST_ROWS), keccak256(abi.encode("log", label))
        );
    }

    /// @dev `tierCount + 1` packed logs of `rows` rows (all zero: postModels checks only their
    ///      lengths; their content matters to challenges, tested in ModelpactRound.proofs.t.sol).
    function _logs(uint256 tierCount, uint256 rows) internal pure returns (bytes[] memory logs) {
        logs = new bytes[](tierCount + 1);
        for (uint256 i = 0; i <= tierCount; ++i) {
            logs[i] = new bytes(3 * rows);
        }
    }

    function _collective() internal pure returns (IModelpactRound.PostedModel memory) {
        return _model("collective", 900);
    }

    function _tiers() internal pure returns (IModelpactRound.PostedModel[] memory tiers) {
        tiers = new IModelpactRound.PostedModel[](2);
        tiers[0] = _model("tier-1", 200);
        tiers[1] = _model("tier-2", 500);
    }

    function _deploy(
        IModelpactRound.Option[] memory menu,
        IModelpactRound.Config memory cfg,
        IModelpactRound.CurveKnot[] memory curve
    ) internal returns (RoundHarness r) {
        vm.prank(coordinatorAddr);
        r = _newHarness(COORD_BOND, menu, cfg, curve);
    }

    /// @dev Creates a round (a clone of the RoundHarness implementation) through the factory, with
    ///      `value` as the coordinator bond. A pending `vm.prank` (the coordinator) or
    ///      `vm.expectRevert` applies to the createRound call, which bubbles initialize's errors.
    function _newHarness(
        uint256 value,
        IModelpactRound.Option[] memory menu,
        IModelpactRound.Config memory cfg,
        IModelpactRound.CurveKnot[] memory curve
    ) internal returns (RoundHarness) {
        return RoundHarness(factory.createRound{value: value}(menu, cfg, curve));
    }

    /// @dev CREATE of `artifact` with constructor `args` and `value`, from its compiled artifact
    ///      (vm.getCode) instead of `new`: with `new`, every test contract would embed the
    ///      implementations' creation code (about 46 kB together), and compiling the whole suite in
    ///      one solc-js run then exceeds its wasm memory.
    function _create(string memory artifact, bytes memory args, uint256 value) internal returns (address a) {
        bytes memory initcode = bytes.concat(vm.getCode(artifact), args);
        assembly ("memory-safe") {
            a := create(value, add(initcode, 0x20), mload(initcode))
        }
    }

    // --------------------------------------------------------------------- encodings

    function _coordCommitment(bytes32 secret, address who) internal view returns (bytes32) {
        return keccak256(abi.encode(secret, who, SCENARIO, block.chainid));
    }

    function _secret(address who) internal pure returns (bytes32) {
        return keccak256(abi.encode("participant-secret", who));
    }

    /// @dev Delivery keys of the actors, computed once in `_actor` (a precompile call made while a
    ///      `vm.prank` or `vm.expectRevert` is pending would consume it).
    mapping(address => uint256[2]) internal _keys;

    /// @dev `who`'s delivery public key sk * G (ecMul precompile), sk derived from its address.
    function _computeKey(address who) internal view returns (uint256 x, uint256 y) {
        uint256 sk = uint256(keccak256(abi.encode("delivery-key", who))) % BN128_N;
        (bool ok, bytes memory out) = address(7).staticcall(abi.encode(uint256(1), uint256(2), sk));
        require(ok, "ecMul");
        (x, y) = abi.decode(out, (uint256, uint256));
    }

    function _key(address who) internal view returns (uint256 x, uint256 y) {
        uint256[2] memory k = _keys[who];
        require(k[0] != 0, "key: create the address with _actor");
        return (k[0], k[1]);
    }

    function _commitmentFor(RoundHarness r, address who) internal view returns (bytes32) {
        (uint256 x, uint256 y) = _key(who);
        return keccak256(abi.encode(_secret(who), x, y, who, address(r), block.chainid));
    }

    function _commitment(address who) internal view returns (bytes32) {
        return _commitmentFor(round, who);
    }

    /// @dev What the round stores under a data root (and reports in RevealMismatch and
    ///      DeliveryKeyMismatch): the commitment bound to the address that joined with it.
    function _stored(bytes32 commitment, address joiner) internal pure returns (bytes32) {
        return keccak256(abi.encode(commitment, joiner));
    }

    function _dataRoot(address who) internal pure returns (bytes32) {
        return keccak256(abi.encode("data", who));
    }

    // --------------------------------------------------------------------- actors and phases

    function _actor(uint256 i) internal returns (address a) {
        a = makeAddr(string.concat("participant-", vm.toString(i)));
        vm.deal(a, 10 ether);
        (uint256 x, uint256 y) = _computeKey(a);
        _keys[a] = [x, y];
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

    /// @dev Past the join deadline and the data window after it (issue 11.7: posting and
    ///      cancelling open MIN_WINDOW after joining closes).
    function _toPost() internal {
        vm.warp(joinAt + 1 hours + 1);
    }

    function _revealCoordinator() internal {
        vm.prank(coordinatorAddr);
        round.revealCoordinator(COORD_SECRET);
    }

    function _postWith(IModelpactRound.PostedModel memory collective, address[] memory undelivered) internal {
        vm.prank(coordinatorAddr);
        round.postModels(collective, _tiers(), undelivered, _logs(2, TEST_ROWS));
    }

    function _post() internal {
        _postWith(_collective(), new address[](0));
    }

    /// @dev Join `n`, close joining, coordinator reveals and posts: the round is in Reveal.
    function _toReveal(uint256 n) internal returns (address[] memory actors) {
        actors = _joinMany(n);
        _toPost();
        _revealCoordinator();
        _post();
    }

    function _reveal(address who) internal {
        (uint256 x, uint256 y) = _key(who);
        vm.prank(who);
        round.reveal(_dataRoot(who), _secret(who), x, y);
    }

    function _claim(address who) internal {
        (uint256 x, uint256 y) = _key(who);
        vm.prank(who);
        round.claim(_dataRoot(who), _secret(who), x, y);
    }

    /// @dev `addrs` sorted ascending (for the undelivered list).
    function _sorted(address[] memory addrs) internal pure returns (address[] memory) {
        for (uint256 i = 1; i < addrs.length; ++i) {
            for (uint256 j = i; j > 0 && addrs[j - 1] > addrs[j]; --j) {
                (addrs[j - 1], addrs[j]) = (addrs[j], addrs[j - 1]);
            }
        }
        return addrs;
    }

    function _one(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    function _revealDeadline() internal view returns (uint256) {
        return round.deadlines().reveal;
    }

    function _claimDeadline() internal view returns (uint256) {
        return round.deadlines().claim;
    }

    function _wrongPhase(IModelpactRound.Phase current, IModelpactRound.Phase required)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(IModelpactRound.WrongPhase.selector, current, required);
    }

    function _phaseIs(IModelpactRound.Phase p) internal view {
        assertEq(uint8(round.phase()), uint8(p), "phase");
    }
}
