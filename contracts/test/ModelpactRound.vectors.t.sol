// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundMath} from "../src/libraries/RoundMath.sol";
import {RoundFixture, RoundHarness} from "./ModelpactRound.base.t.sol";

/// @dev Golden vectors written by `modelpact.encoding` (contracts/test/vectors/generate.py) and
///      checked here against the Solidity preimages and the contract's own arithmetic.
contract ModelpactRoundVectorsTest is RoundFixture {
    string internal json;

    function setUp() public override {
        super.setUp();
        json = vm.readFile(string.concat(vm.projectRoot(), "/contracts/test/vectors/encoding.json"));
    }

    function _p(string memory base, uint256 i, string memory key) internal pure returns (string memory) {
        return string.concat(base, "[", vm.toString(i), "].", key);
    }

    function _len(string memory path) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, string.concat(path, "[", vm.toString(n), "]"))) {
            ++n;
        }
    }

    function test_vectors_participantCommitments() public view {
        for (uint256 i = 0; i < 3; ++i) {
            bytes32 expected = vm.parseJsonBytes32(json, _p(".commitments", i, "commitment"));
            bytes32 got = keccak256(
                abi.encode(
                    vm.parseJsonBytes32(json, _p(".commitments", i, "secret")),
                    vm.parseJsonAddress(json, _p(".commitments", i, "participant")),
                    vm.parseJsonAddress(json, _p(".commitments", i, "round")),
                    vm.parseJsonUint(json, _p(".commitments", i, "chainId"))
                )
            );
            assertEq(got, expected);
        }
    }

    function test_vectors_coordinatorCommitments() public view {
        for (uint256 i = 0; i < 3; ++i) {
            bytes32 expected = vm.parseJsonBytes32(json, _p(".coordinatorCommitments", i, "commitment"));
            bytes32 got = keccak256(
                abi.encode(
                    vm.parseJsonBytes32(json, _p(".coordinatorCommitments", i, "secret")),
                    vm.parseJsonAddress(json, _p(".coordinatorCommitments", i, "coordinator")),
                    vm.parseJsonBytes32(json, _p(".coordinatorCommitments", i, "scenarioHash")),
                    vm.parseJsonUint(json, _p(".coordinatorCommitments", i, "chainId"))
                )
            );
            assertEq(got, expected);
        }
    }

    function test_vectors_drawSeeds() public view {
        for (uint256 i = 0; i < 4; ++i) {
            bytes32 got = keccak256(
                abi.encode(
                    vm.parseJsonBytes32(json, _p(".drawSeeds", i, "coordinatorSecret")),
                    vm.parseJsonBytes32(json, _p(".drawSeeds", i, "participantSecret")),
                    vm.parseJsonAddress(json, _p(".drawSeeds", i, "round")),
                    vm.parseJsonUint(json, _p(".drawSeeds", i, "index"))
                )
            );
            assertEq(got, vm.parseJsonBytes32(json, _p(".drawSeeds", i, "seed")));
        }
    }

    function _leaf(uint256 index, int256[] memory values) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(index, values))));
    }

    function test_vectors_leafHashes() public view {
        for (uint256 i = 0; i < 4; ++i) {
            uint256 index = vm.parseJsonUint(json, _p(".leaves", i, "index"));
            int256[] memory values = vm.parseJsonIntArray(json, _p(".leaves", i, "values"));
            assertEq(_leaf(index, values), vm.parseJsonBytes32(json, _p(".leaves", i, "leaf")));
        }
    }

    function test_vectors_merkleProofsVerifyWithOpenZeppelin() public view {
        bytes32 root = vm.parseJsonBytes32(json, ".merkle.root");
        uint256 n = vm.parseJsonUint(json, ".merkle.rowCount");
        for (uint256 i = 0; i < n; ++i) {
            uint256 index = vm.parseJsonUint(json, _p(".merkle.rows", i, "index"));
            int256[] memory values = vm.parseJsonIntArray(json, _p(".merkle.rows", i, "values"));
            bytes32[] memory proof = vm.parseJsonBytes32Array(json, _p(".merkle.rows", i, "proof"));
            assertTrue(MerkleProof.verify(proof, root, _leaf(index, values)));
            // The same proof must not verify a different row index.
            assertFalse(MerkleProof.verify(proof, root, _leaf(index + 1, values)));
        }
        // A one-row tree: the root is the leaf itself.
        int256[] memory single = vm.parseJsonIntArray(json, ".merkleSingle.values");
        uint256 singleIndex = vm.parseJsonUint(json, ".merkleSingle.index");
        assertEq(_leaf(singleIndex, single), vm.parseJsonBytes32(json, ".merkleSingle.root"));
    }

    function test_vectors_targetsMatchMulDiv() public view {
        for (uint256 i = 0; i < 5; ++i) {
            uint256 ratio = vm.parseJsonUint(json, _p(".targets", i, "ratioWad"));
            uint256 coll = vm.parseJsonUint(json, _p(".targets", i, "collectiveWad"));
            assertEq(RoundMath.target(ratio, coll), vm.parseJsonUint(json, _p(".targets", i, "targetWad")));
        }
    }

    function test_vectors_wadConversionsAreFractionsOfOne() public view {
        // Python's to_wad floors x * 1e18; here: every vector is an integer <= 1e18 and "1" is WAD.
        for (uint256 i = 0; i < 8; ++i) {
            assertLe(vm.parseJsonUint(json, _p(".wad", i, "wad")), WAD);
        }
        assertEq(vm.parseJsonUint(json, _p(".wad", 5, "wad")), WAD);
        assertEq(vm.parseJsonUint(json, _p(".wad", 1, "wad")), 1e17);
    }

    /// @dev Each draw vector goes through a real round: deploy with the vector's ratio, join,
    ///      reveal the coordinator, post the vector's tiers, then assign with the vector's seed.
    function test_vectors_drawRuleMatchesContract() public {
        uint256 n = _len(".draws");
        assertGt(n, 0);
        for (uint256 i = 0; i < n; ++i) {
            _checkDraw(i);
        }
    }

    function _roundWithTiers(uint256 i, uint256 ratio) internal returns (RoundHarness r) {
        uint256 coll = vm.parseJsonUint(json, _p(".draws", i, "collectiveWad"));
        uint256[] memory accs = vm.parseJsonUintArray(json, _p(".draws", i, "tiers"));
        IModelpactRound.Option[] memory menu = new IModelpactRound.Option[](1);
        menu[0] = IModelpactRound.Option(10, uint64(ratio), uint128(ratio), 1e18);
        vm.warp(1_700_000_000);
        IModelpactRound.Config memory cfg = _config(1);
        r = _deploy(menu, cfg, new IModelpactRound.CurveKnot[](0));
        address who = _actor(1000 + i);
        vm.prank(who);
        r.join{value: BOND}(0, bytes32(uint256(1)), 10, bytes32(uint256(2)));
        vm.warp(joinAt + 1 hours + 1);
        vm.startPrank(coordinatorAddr);
        r.revealCoordinator(COORD_SECRET);
        IModelpactRound.PostedModel[] memory tiers = new IModelpactRound.PostedModel[](accs.length);
        for (uint256 j = 0; j < accs.length; ++j) {
            tiers[j] = IModelpactRound.PostedModel(keccak256(abi.encode(j)), uint64(accs[j]), bytes32(j + 1));
        }
        vm.stopPrank();
        // Any WAD accuracy: a post takes only exact counts over T <= MAX_TEST_ROWS = 4,096 rows, so the harness
        // sets the vector's rungs (the draw reads nothing else a post writes).
        r.exposedSetRungs(coll, accs);
        tiers;
    }

    /// @dev Each draw vector goes through a real round: deploy with the vector's ratio, join,
    ///      reveal the coordinator, post the vector's tiers, then assign with the vector's seed.
    function _checkDraw(uint256 i) internal {
        uint256 ratio = vm.parseJsonUint(json, _p(".draws", i, "ratioWad"));
        RoundHarness r = _roundWithTiers(i, ratio);
        (uint256 rung, uint256 acc, uint256 target) =
            r.exposedAssign(ratio, vm.parseJsonBytes32(json, _p(".draws", i, "seed")));
        assertEq(rung, vm.parseJsonUint(json, _p(".draws", i, "rung")), "rung");
        assertEq(acc, vm.parseJsonUint(json, _p(".draws", i, "accuracyWad")), "accuracy");
        assertEq(target, vm.parseJsonUint(json, _p(".draws", i, "targetWad")), "target");
    }

    function test_vectors_curveInterpolation() public {
        uint256[] memory xs = vm.parseJsonUintArray(json, ".curve.dataCounts");
        uint256[] memory ys = vm.parseJsonUintArray(json, ".curve.accuracies");
        IModelpactRound.CurveKnot[] memory curve = new IModelpactRound.CurveKnot[](xs.length);
        for (uint256 i = 0; i < xs.length; ++i) {
            curve[i] = IModelpactRound.CurveKnot(uint64(xs[i]), uint64(ys[i]));
        }
        RoundHarness r = _deploy(_menu(), _config(5), curve);
        uint256 n = _len(".curve.queries");
        for (uint256 i = 0; i < n; ++i) {
            uint256 q = vm.parseJsonUint(json, _p(".curve.queries", i, "dataCount"));
            assertEq(r.predictedAccuracy(q), vm.parseJsonUint(json, _p(".curve.queries", i, "accuracyWad")));
        }
    }

    // --------------------------------------------------------------------- ModelpactRound v2

    /// @dev The v2 commitment opens through a real round's reveal (the contract's own preimage).
    function test_vectors_v2_commitmentOpensInTheContract() public {
        address who = _actor(7);
        (uint256 x, uint256 y) = _key(who);
        bytes32 secret = _secret(who);
        _join(who, 0);
        _toPost();
        _revealCoordinator();
        _post();
        vm.prank(who);
        round.reveal(_dataRoot(who), secret, x, y);
        assertEq(
            round.commitmentOf(_dataRoot(who)),
            _stored(keccak256(abi.encode(secret, x, y, who, address(round), block.chainid)), who)
        );
    }

    function _participantLeaf(address who, uint256 index, int256[] memory values) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(who, index, values))));
    }

    function test_vectors_v2_participantLeavesAndProofs() public view {
        for (uint256 i = 0; i < 3; ++i) {
            address who = vm.parseJsonAddress(json, _p(".v2Leaves", i, "participant"));
            uint256 index = vm.parseJsonUint(json, _p(".v2Leaves", i, "index"));
            int256[] memory values = vm.parseJsonIntArray(json, _p(".v2Leaves", i, "values"));
            assertEq(_participantLeaf(who, index, values), vm.parseJsonBytes32(json, _p(".v2Leaves", i, "leaf")));
        }
        bytes32 root = vm.parseJsonBytes32(json, ".v2Merkle.root");
        address owner = vm.parseJsonAddress(json, ".v2Merkle.participant");
        address copier = vm.parseJsonAddress(json, ".v2Merkle.copier");
        assertTrue(root != vm.parseJsonBytes32(json, ".v2Merkle.copierRoot"), "a copy of the rows has another root");
        uint256 n = vm.parseJsonUint(json, ".v2Merkle.rowCount");
        for (uint256 i = 0; i < n; ++i) {
            uint256 index = vm.parseJsonUint(json, _p(".v2Merkle.rows", i, "index"));
            int256[] memory values = vm.parseJsonIntArray(json, _p(".v2Merkle.rows", i, "values"));
            bytes32[] memory proof = vm.parseJsonBytes32Array(json, _p(".v2Merkle.rows", i, "proof"));
            assertTrue(MerkleProof.verify(proof, root, _participantLeaf(owner, index, values)));
            // The owner's proof proves nothing for the same row under the copier's address.
            assertFalse(MerkleProof.verify(proof, root, _participantLeaf(copier, index, values)));
        }
    }

    function test_vectors_v2_countsAndRatios() public {
        uint256 n = _len(".v2Counts");
        for (uint256 i = 0; i < n; ++i) {
            uint256 count = vm.parseJsonUint(json, _p(".v2Counts", i, "count"));
            uint256 rows = vm.parseJsonUint(json, _p(".v2Counts", i, "testRowCount"));
            assertEq(RoundMath.accuracyOfCount(count, rows), vm.parseJsonUint(json, _p(".v2Counts", i, "accuracyWad")));
        }
        n = _len(".v2Ratios");
        for (uint256 i = 0; i < n; ++i) {
            uint256 t = vm.parseJsonUint(json, _p(".v2Ratios", i, "promisedValueWad"));
            uint256 tBar = vm.parseJsonUint(json, _p(".v2Ratios", i, "budgetValueWad"));
            uint256 ratio = vm.parseJsonUint(json, _p(".v2Ratios", i, "ratioWad"));
            // createRound (initialize) accepts exactly this ratio for (t, t_bar).
            IModelpactRound.Option[] memory menu = new IModelpactRound.Option[](1);
            menu[0] = IModelpactRound.Option(10, uint64(ratio), uint128(t), uint128(tBar));
            _deploy(menu, _config(1), new IModelpactRound.CurveKnot[](0));
        }
    }

    function test_vectors_v2_moneyRules() public view {
        uint256 n = _len(".v2Money");
        for (uint256 i = 0; i < n; ++i) {
            uint256 bond = vm.parseJsonUint(json, _p(".v2Money", i, "coordinatorBond"));
            uint256 d = vm.parseJsonUint(json, _p(".v2Money", i, "delivered"));
            assertEq(RoundMath.fraudReward(bond), vm.parseJsonUint(json, _p(".v2Money", i, "fraudReward")), "reward");
            uint256 allot = RoundMath.allot(bond, d);
            assertEq(allot, vm.parseJsonUint(json, _p(".v2Money", i, "allot")), "allot");
            uint256 s = RoundMath.shortfall(
                vm.parseJsonUint(json, _p(".v2Money", i, "predictedWad")),
                vm.parseJsonUint(json, _p(".v2Money", i, "measuredWad")),
                vm.parseJsonUint(json, _p(".v2Money", i, "toleranceWad"))
            );
            assertEq(s, vm.parseJsonUint(json, _p(".v2Money", i, "shortfallWad")), "shortfall");
            uint256 comp = RoundMath.curveCompensation(
                vm.parseJsonUint(json, _p(".v2Money", i, "ratioWad")),
                s,
                vm.parseJsonUint(json, _p(".v2Money", i, "weiPerWad")),
                allot
            );
            assertEq(comp, vm.parseJsonUint(json, _p(".v2Money", i, "compensation")), "compensation");
        }
        n = _len(".v2Shares");
        for (uint256 i = 0; i < n; ++i) {
            assertEq(
                RoundMath.share(
                    vm.parseJsonUint(json, _p(".v2Shares", i, "forfeited")),
                    vm.parseJsonUint(json, _p(".v2Shares", i, "bond")),
                    vm.parseJsonUint(json, _p(".v2Shares", i, "recipients"))
                ),
                vm.parseJsonUint(json, _p(".v2Shares", i, "share"))
            );
        }
    }

    /// @dev The first money vector through a real round: 3 deliverers, 700 rows predict 0.6, the
    ///      collective model measures 0.5, tolerance 0.02, rho 1e16: entitlement of option 1.
    function test_vectors_v2_compensationThroughTheContract() public {
        address[] memory actors = _joinMany(3);
        _toPost();
        _revealCoordinator();
        IModelpactRound.PostedModel[] memory tiers = new IModelpactRound.PostedModel[](0);
        vm.prank(coordinatorAddr);
        round.postModels(_model("collective", 500), tiers, new address[](0), _logs(0, TEST_ROWS));
        (uint256 owedFromBond,) = round.entitlement(actors[1]); // option 1: ratio 0.6
        assertEq(owedFromBond, vm.parseJsonUint(json, _p(".v2Money", 0, "compensation")));
        (uint256 s, uint256 allot) = round.shortfall();
        assertEq(s, vm.parseJsonUint(json, _p(".v2Money", 0, "shortfallWad")));
        assertEq(allot, vm.parseJsonUint(json, _p(".v2Money", 0, "allot")));
    }
}
