// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ModelEval} from "../src/libraries/ModelEval.sol";
import {ModelEvalFixture} from "./ModelEval.base.t.sol";

/// @dev Golden vectors written by `modelpact.encoding` (contracts/test/vectors/generate_models.py):
///      ModelEval predicts every row exactly as Python did (1,903 rows over 17 models), the log roots
///      rebuilt here equal Python's, EvalLog verifies every proof, and well-formedness and range
///      checks agree case by case. The file is columnar (one array per field) because each cheatcode
///      call parses the whole file and decodes at most two levels of arrays.
contract ModelEvalVectorsTest is ModelEvalFixture {
    string internal constant FILE = "/contracts/test/vectors/models.json";

    struct Models {
        string[] names;
        bytes[] models;
        bytes32[] hashes;
        uint256[] features;
        uint256[] rowSets;
        uint256[][] predictions;
        uint256[] correct;
        uint256[] accuracyWad;
        bytes32[] logRoots;
    }

    /// @dev Leaves with their positional proofs; `owner[k]` is the model or log leaf k belongs to.
    struct Leaves {
        uint256[] owner;
        uint256[] index;
        uint256[] predicted;
        uint256[] count;
        bytes32[] leaf;
        bytes32[][] siblings;
    }

    function _leaves(string memory json, string memory base, string memory ownerKey)
        internal
        pure
        returns (Leaves memory l)
    {
        l.owner = vm.parseJsonUintArray(json, string.concat(base, ownerKey));
        l.index = vm.parseJsonUintArray(json, string.concat(base, ".index"));
        l.predicted = vm.parseJsonUintArray(json, string.concat(base, ".predicted"));
        l.count = vm.parseJsonUintArray(json, string.concat(base, ".count"));
        l.leaf = vm.parseJsonBytes32Array(json, string.concat(base, ".leaf"));
        l.siblings = abi.decode(vm.parseJson(json, string.concat(base, ".siblings")), (bytes32[][]));
    }

    function _json() internal view returns (string memory) {
        return vm.readFile(string.concat(vm.projectRoot(), FILE));
    }

    function _models(string memory json) internal pure returns (Models memory m) {
        m.names = vm.parseJsonStringArray(json, ".models.name");
        m.models = vm.parseJsonBytesArray(json, ".models.bytes");
        m.hashes = vm.parseJsonBytes32Array(json, ".models.hash");
        m.features = vm.parseJsonUintArray(json, ".models.features");
        m.rowSets = vm.parseJsonUintArray(json, ".models.rowSet");
        m.predictions = abi.decode(vm.parseJson(json, ".models.predictions"), (uint256[][]));
        m.correct = vm.parseJsonUintArray(json, ".models.correct");
        m.accuracyWad = vm.parseJsonUintArray(json, ".models.accuracyWad");
        m.logRoots = vm.parseJsonBytes32Array(json, ".models.logRoot");
    }

    function test_vectors_modelsPredictAndLogAsPython() public {
        string memory json = _json();
        Models memory m = _models(json);
        assertEq(m.names.length, 17);
        uint256 rows = 0;
        for (uint256 i = 0; i < m.names.length; ++i) {
            string memory path = string.concat(".rowSets[", vm.toString(m.rowSets[i]), "]");
            int256[][] memory set = abi.decode(vm.parseJson(json, path), (int256[][]));
            assertEq(keccak256(m.models[i]), m.hashes[i], m.names[i]);
            assertTrue(eval.wellFormed(m.models[i], m.features[i]), m.names[i]);
            bytes32 root = this.checkModel(m.names[i], m.models[i], set, m.predictions[i]);
            assertEq(root, m.logRoots[i], m.names[i]);
            rows += set.length;
        }
        assertEq(rows, 1903);
    }

    /// @dev Predicts every row (in a fresh call frame: memory stays small), checks the counts and
    ///      returns the log root rebuilt by the plain reference tree.
    function checkModel(string calldata name, bytes calldata model, int256[][] calldata rows, uint256[] calldata want)
        external
        view
        returns (bytes32)
    {
        assertEq(rows.length, want.length, name);
        uint256[] memory counts = new uint256[](rows.length);
        uint256 count = 0;
        for (uint256 j = 0; j < rows.length; ++j) {
            uint256 label = eval.predictRow(model, rows[j]);
            assertEq(label, want[j], string.concat(name, " row ", vm.toString(j)));
            int256 truth = rows[j][rows[j].length - 1];
            if (truth >= 0 && uint256(truth) == label) ++count;
            counts[j] = count;
        }
        return _root(_levels(want, counts));
    }

    function test_vectors_countsAccuraciesAndProofs() public view {
        string memory json = _json();
        Models memory m = _models(json);
        for (uint256 i = 0; i < m.names.length; ++i) {
            uint256 t = m.predictions[i].length;
            assertEq(m.accuracyWad[i], m.correct[i] * 1e18 / t, m.names[i]);
        }
        Leaves memory l = _leaves(json, ".proofs", ".model");
        assertEq(l.owner.length, 83);
        for (uint256 k = 0; k < l.owner.length; ++k) {
            uint256 i = l.owner[k];
            uint256 t = m.predictions[i].length;
            assertEq(l.predicted[k], m.predictions[i][l.index[k]]);
            assertEq(evalLog.leafHash(l.index[k], l.predicted[k], l.count[k]), l.leaf[k]);
            assertTrue(evalLog.verifyLeaf(l.siblings[k], m.logRoots[i], t, l.index[k], l.predicted[k], l.count[k]));
            assertFalse(evalLog.verifyLeaf(l.siblings[k], m.logRoots[i], t, l.index[k], l.predicted[k], l.count[k] + 1));
            if (l.index[k] == t - 1) assertEq(l.count[k], m.correct[i]);
        }
    }

    function test_vectors_smallLogs() public view {
        string memory json = _json();
        uint256[] memory rowCount = vm.parseJsonUintArray(json, ".logs.rowCount");
        bytes32[] memory root = vm.parseJsonBytes32Array(json, ".logs.root");
        Leaves memory l = _leaves(json, ".logLeaves", ".log");
        uint256 start = 0;
        for (uint256 n = 0; n < rowCount.length; ++n) {
            uint256 t = rowCount[n];
            uint256[] memory p = new uint256[](t);
            uint256[] memory c = new uint256[](t);
            for (uint256 j = 0; j < t; ++j) {
                uint256 k = start + j;
                assertEq(l.owner[k], n);
                assertEq(l.index[k], j);
                assertEq(evalLog.leafHash(j, l.predicted[k], l.count[k]), l.leaf[k]);
                assertTrue(evalLog.verifyLeaf(l.siblings[k], root[n], t, j, l.predicted[k], l.count[k]));
                (p[j], c[j]) = (l.predicted[k], l.count[k]);
            }
            assertEq(_root(_levels(p, c)), root[n]);
            start += t;
        }
        assertEq(start, l.owner.length);
    }

    function test_vectors_malformedModels() public view {
        string memory json = _json();
        string[] memory why = vm.parseJsonStringArray(json, ".malformed.why");
        bytes[] memory model = vm.parseJsonBytesArray(json, ".malformed.model");
        uint256[] memory features = vm.parseJsonUintArray(json, ".malformed.features");
        bool[] memory expected = vm.parseJsonBoolArray(json, ".malformed.wellFormed");
        assertEq(why.length, 25);
        for (uint256 i = 0; i < why.length; ++i) {
            assertEq(eval.wellFormed(model[i], features[i]), expected[i], why[i]);
            assertEq(_refWellFormed(model[i], features[i]), expected[i], why[i]);
        }
    }

    function test_vectors_rowsOutsideInt64Revert() public {
        string memory json = _json();
        bytes memory model = vm.parseJsonBytes(json, ".outOfRange.model");
        int256[][] memory rows = abi.decode(vm.parseJson(json, ".outOfRange.rows"), (int256[][]));
        uint256[] memory index = vm.parseJsonUintArray(json, ".outOfRange.index");
        int256[] memory value = vm.parseJsonIntArray(json, ".outOfRange.value");
        for (uint256 i = 0; i < rows.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ModelEval.FeatureOutOfRange.selector, index[i], value[i]));
            eval.predict(model, rows[i]);
        }
    }
}
