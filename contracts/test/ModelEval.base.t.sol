// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {EvalLog} from "../src/libraries/EvalLog.sol";
import {ModelEval} from "../src/libraries/ModelEval.sol";

/// @dev External entry points over the internal libraries, so tests pass calldata as the round
///      will (model bytes, test rows and proofs all arrive as calldata in `challenge`).
contract ModelEvalHarness {
    function wellFormed(bytes calldata model, uint256 features) external pure returns (bool) {
        return ModelEval.wellFormed(model, features);
    }

    function featuresInRange(int256[] calldata x) external pure returns (bool) {
        return ModelEval.featuresInRange(x);
    }

    function predict(bytes calldata model, int256[] calldata x) external pure returns (uint256) {
        return ModelEval.predict(model, x);
    }

    /// @dev A committed test row (features, then the label): sliced as `challenge` will.
    function predictRow(bytes calldata model, int256[] calldata row) external pure returns (uint256) {
        return ModelEval.predict(model, row[:row.length - 1]);
    }

    /// @dev Gas of what a challenge spends on the model: keccak256 of its bytes plus one prediction.
    function measure(bytes calldata model, int256[] calldata row)
        external
        view
        returns (bytes32 id, uint256 label, uint256 hashGas, uint256 predictGas)
    {
        uint256 start = gasleft();
        id = keccak256(model);
        uint256 mid = gasleft();
        label = ModelEval.predict(model, row[:row.length - 1]);
        hashGas = start - mid;
        predictGas = mid - gasleft();
    }
}

contract EvalLogHarness {
    function leafHash(uint256 index, uint256 predicted, uint256 count) external pure returns (bytes32) {
        return EvalLog.leafHash(index, predicted, count);
    }

    function depth(uint256 rowCount) external pure returns (uint256) {
        return EvalLog.depth(rowCount);
    }

    function verifyLeaf(
        bytes32[] calldata proof,
        bytes32 root,
        uint256 rowCount,
        uint256 index,
        uint256 predicted,
        uint256 count
    ) external pure returns (bool) {
        return EvalLog.verifyLeaf(proof, root, rowCount, index, predicted, count);
    }

    function verify(bytes32[] calldata proof, bytes32 root, uint256 rowCount, uint256 index, bytes32 leaf)
        external
        pure
        returns (bool)
    {
        return EvalLog.verify(proof, root, rowCount, index, leaf);
    }
}

/// @dev Plain reference implementations (byte by byte, checked arithmetic, memory only) that the
///      libraries are fuzzed against, and builders for models and logs.
abstract contract ModelEvalFixture is Test {
    ModelEvalHarness internal eval;
    EvalLogHarness internal evalLog;

    function setUp() public virtual {
        eval = new ModelEvalHarness();
        evalLog = new EvalLogHarness();
    }

    // ---------------------------------------------------------------- models

    function _encode(int64[] memory biases, int16[] memory weights, uint16 features, int8 scaleLog2)
        internal
        pure
        returns (bytes memory model)
    {
        model = abi.encodePacked(bytes4("MPIM"), uint8(1), uint16(biases.length), features, scaleLog2);
        for (uint256 c = 0; c < biases.length; ++c) {
            model = bytes.concat(model, bytes8(uint64(biases[c])));
        }
        for (uint256 k = 0; k < weights.length; ++k) {
            model = bytes.concat(model, bytes2(uint16(weights[k])));
        }
    }

    /// @dev Big-endian two's complement integer of `size` bytes at `offset`.
    function _readInt(bytes memory data, uint256 offset, uint256 size) internal pure returns (int256) {
        uint256 v = 0;
        for (uint256 i = 0; i < size; ++i) {
            v = (v << 8) | uint8(data[offset + i]);
        }
        uint256 half = uint256(1) << (8 * size - 1);
        return v >= half ? int256(v) - int256(2 * half) : int256(v);
    }

    function _refWellFormed(bytes memory model, uint256 features) internal pure returns (bool) {
        if (model.length < 10) return false;
        if (model[0] != "M" || model[1] != "P" || model[2] != "I" || model[3] != "M") return false;
        if (uint8(model[4]) != 1) return false;
        uint256 c = (uint256(uint8(model[5])) << 8) | uint8(model[6]);
        uint256 f = (uint256(uint8(model[7])) << 8) | uint8(model[8]);
        if (c < 2 || f < 1 || f != features) return false;
        if (c > 256 || f > 1024 || c * f > 32_768) return false; // size bounds (review A, attack 4)
        return model.length == 10 + 8 * c + 2 * c * f;
    }

    function _refPredict(bytes memory model, int256[] memory x) internal pure returns (uint256 label) {
        uint256 c = (uint256(uint8(model[5])) << 8) | uint8(model[6]);
        uint256 f = x.length;
        int256 best = type(int256).min;
        for (uint256 k = 0; k < c; ++k) {
            int256 score = _readInt(model, 10 + 8 * k, 8);
            for (uint256 j = 0; j < f; ++j) {
                score += _readInt(model, 10 + 8 * c + 2 * (k * f + j), 2) * x[j];
            }
            if (k == 0 || score > best) {
                best = score;
                label = k;
            }
        }
    }

    // ---------------------------------------------------------------- logs

    /// @dev Every level of the positional tree over the honest leaves (levels[0] padded with zeros).
    function _levels(uint256[] memory predicted, uint256[] memory counts)
        internal
        pure
        returns (bytes32[][] memory levels)
    {
        uint256 t = predicted.length;
        uint256 d = 0;
        while ((uint256(1) << d) < t) ++d;
        levels = new bytes32[][](d + 1);
        levels[0] = new bytes32[](uint256(1) << d);
        for (uint256 j = 0; j < t; ++j) {
            levels[0][j] = keccak256(bytes.concat(keccak256(abi.encode(j, predicted[j], counts[j]))));
        }
        for (uint256 i = 1; i <= d; ++i) {
            levels[i] = new bytes32[](levels[i - 1].length / 2);
            for (uint256 k = 0; k < levels[i].length; ++k) {
                levels[i][k] = keccak256(abi.encodePacked(levels[i - 1][2 * k], levels[i - 1][2 * k + 1]));
            }
        }
    }

    function _proof(bytes32[][] memory levels, uint256 index) internal pure returns (bytes32[] memory proof) {
        proof = new bytes32[](levels.length - 1);
        for (uint256 i = 0; i < proof.length; ++i) {
            proof[i] = levels[i][(index >> i) ^ 1];
        }
    }

    function _root(bytes32[][] memory levels) internal pure returns (bytes32) {
        return levels[levels.length - 1][0];
    }
}
