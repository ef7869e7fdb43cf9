// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {console} from "forge-std/Test.sol";
import {ModelEvalFixture} from "./ModelEval.base.t.sol";

/// @dev EvalLog: every leaf of an honest log verifies at its own position and nowhere else, with no
///      other content, and no proof of another length; the depth is ceil(log2 T).
contract EvalLogTest is ModelEvalFixture {
    /// @dev An honest log of `t` rows: predictions and labels from `seed`, running counts.
    function _honest(uint256 seed, uint256 t)
        internal
        pure
        returns (uint256[] memory predicted, uint256[] memory counts)
    {
        predicted = new uint256[](t);
        counts = new uint256[](t);
        uint256 count = 0;
        for (uint256 j = 0; j < t; ++j) {
            uint256 r = uint256(keccak256(abi.encode(seed, j)));
            predicted[j] = r % 4;
            if ((r >> 8) % 4 == predicted[j]) ++count;
            counts[j] = count;
        }
    }

    function testFuzz_honestLeavesVerifyOnlyAtTheirPosition(uint256 seed, uint8 rows, uint8 pick) public view {
        uint256 t = 1 + (uint256(rows) % 70);
        (uint256[] memory predicted, uint256[] memory counts) = _honest(seed, t);
        bytes32[][] memory levels = _levels(predicted, counts);
        bytes32 root = _root(levels);
        assertEq(evalLog.depth(t), levels.length - 1);
        for (uint256 j = 0; j < t; ++j) {
            assertTrue(evalLog.verifyLeaf(_proof(levels, j), root, t, j, predicted[j], counts[j]), "honest leaf");
        }
        // Misplacements for the first, the last and a fuzzed row (every row would cost 8x the time).
        uint256[3] memory probe = [0, t - 1, uint256(pick) % t];
        for (uint256 k = 0; k < 3; ++k) {
            uint256 j = probe[k];
            _assertNowhereElse(_proof(levels, j), root, t, j, predicted[j], counts[j]);
        }
    }

    /// @dev The leaf of row j with its proof: not at another position (its sibling, its successor,
    ///      its mirror; same proof, or the leaf hash presented as another row's), not with other content, not past T
    ///      (j + 2**depth has the same path bits), not with a proof one element shorter or longer.
    function _assertNowhereElse(
        bytes32[] memory proof,
        bytes32 root,
        uint256 t,
        uint256 j,
        uint256 predicted,
        uint256 count
    ) internal view {
        bytes32 leaf = evalLog.leafHash(j, predicted, count);
        uint256[3] memory others = [j ^ 1, (j + 1) % t, t - 1 - j];
        for (uint256 k = 0; k < 3; ++k) {
            if (others[k] == j || others[k] >= t) continue;
            assertFalse(evalLog.verifyLeaf(proof, root, t, others[k], predicted, count));
            assertFalse(evalLog.verify(proof, root, t, others[k], leaf));
        }
        assertFalse(evalLog.verifyLeaf(proof, root, t, j, predicted + 1, count));
        assertFalse(evalLog.verifyLeaf(proof, root, t, j, predicted, count + 1));
        assertFalse(evalLog.verify(proof, root, t, j + (uint256(1) << proof.length), leaf));
        assertFalse(evalLog.verify(proof, root, type(uint256).max, j, leaf));
        bytes32[] memory longer = new bytes32[](proof.length + 1);
        for (uint256 i = 0; i < proof.length; ++i) {
            longer[i] = proof[i];
        }
        assertFalse(evalLog.verify(longer, root, t, j, leaf));
        if (proof.length > 0) {
            bytes32[] memory shorter = new bytes32[](proof.length - 1);
            for (uint256 i = 0; i < shorter.length; ++i) {
                shorter[i] = proof[i];
            }
            assertFalse(evalLog.verify(shorter, root, t, j, leaf));
        }
    }

    function test_depth_isCeilLog2() public view {
        uint256[10] memory t = [uint256(1), 2, 3, 4, 5, 8, 9, 360, 1024, 1025];
        uint256[10] memory d = [uint256(0), 1, 2, 2, 3, 3, 4, 9, 10, 11];
        for (uint256 i = 0; i < 10; ++i) {
            assertEq(evalLog.depth(t[i]), d[i]);
        }
        assertEq(evalLog.depth(0), 0);
        assertEq(evalLog.depth(type(uint256).max), 256);
    }

    function test_verify_singleRowLogIsItsLeaf() public view {
        bytes32 leaf = evalLog.leafHash(0, 7, 1);
        assertTrue(evalLog.verify(new bytes32[](0), leaf, 1, 0, leaf));
        assertFalse(evalLog.verify(new bytes32[](0), leaf, 1, 1, leaf));
        assertFalse(evalLog.verify(new bytes32[](0), leaf, 0, 0, leaf));
    }

    /// @dev A subtree root cannot be passed off as a leaf: the proof length is fixed by T. It can
    ///      only with a smaller T, which is why callers must pass the round's committed T (never a
    ///      caller-supplied one), and `verifyLeaf` hashes the leaf content itself.
    function test_verify_refusesAnInternalNodeAsALeafUnderTheCommittedRowCount() public view {
        (uint256[] memory predicted, uint256[] memory counts) = _honest(1, 8);
        bytes32[][] memory levels = _levels(predicted, counts);
        bytes32[] memory upper = new bytes32[](2);
        upper[0] = levels[1][1];
        upper[1] = levels[2][1];
        assertFalse(evalLog.verify(upper, _root(levels), 8, 0, levels[1][0]));
        assertTrue(evalLog.verify(upper, _root(levels), 4, 0, levels[1][0]), "only under a wrong T");
    }

    function test_gas_verifyLeafAt360Rows() public view {
        (uint256[] memory predicted, uint256[] memory counts) = _honest(2, 360);
        bytes32[][] memory levels = _levels(predicted, counts);
        bytes32[] memory proof = _proof(levels, 359);
        uint256 start = gasleft();
        bool ok = evalLog.verifyLeaf(proof, _root(levels), 360, 359, predicted[359], counts[359]);
        console.log("verifyLeaf at T = 360 (depth 9), external call included", start - gasleft());
        assertTrue(ok);
    }
}
