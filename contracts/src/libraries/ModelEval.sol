// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ModelEval
/// @notice Parses and evaluates a canonical integer model: the byte string whose keccak256 is a
///         posted model hash. Mirrored bit for bit by `modelpact.encoding` (section "Canonical
///         integer models"); golden vectors in contracts/test/vectors/models.json are checked
///         on both sides.
/// @dev    Layout (big-endian, two's complement, no padding), C classes, F features:
///
///           offset      size    field
///           0           4       magic "MPIM"
///           4           1       format version = 1
///           5           2       C, uint16, 2..MAX_CLASSES (256)
///           7           2       F, uint16, 1..MAX_FEATURES (1024), must equal the test row
///                               width - 1; and C * F <= MAX_WEIGHTS (32,768)
///           9           1       scaleLog2, int8: real weights = weights / 2**scaleLog2
///                               (documentation only: argmax is invariant under a positive scale)
///           10          8C      biases b[c], int64
///           10 + 8C     2CF     weights W[c][f], int16, class-major: W[c][f] at 10 + 8C + 2(cF + f)
///
///         The length is exactly 10 + 8C + 2CF (truncated or trailing bytes are malformed). Every
///         byte pattern of biases and weights is a valid model, so `wellFormed` only checks the
///         header (with its size bounds) and the length.
///
///         Prediction on an integer feature row x (F values, each in int64):
///           score[c] = b[c] + sum_f W[c][f] * x[f];  label = argmax_c score[c], ties to the lowest c.
///         Overflow is impossible in int256: |W[c][f] * x[f]| <= 2**15 * 2**63 = 2**78, F < 2**16
///         terms and |b[c]| <= 2**63, so |score| < 2**95. Rows with a value outside int64 are refused
///         (`FeatureOutOfRange`); the public test set is committed with integer features well inside.
///
///         Why int16 weights: on the digits data the quantisation costs at most 0.28 points of test
///         accuracy against the float model (int8 costs up to 2.5), while the demo model (10 x 64)
///         stays 1,370 bytes of calldata (about 22k gas) and the evaluation reads 16 weights per
///         32-byte calldata word. Measured (forge, contracts/test/ModelEval.t.sol): `predict` on the
///         demo model about 93k gas, keccak256 of its bytes under 1k.
library ModelEval {
    /// @dev Model bytes are not a canonical model for rows of this width (see `wellFormed`).
    error MalformedModel();
    /// @dev Feature `index` holds `value`, outside the int64 range a model evaluates.
    error FeatureOutOfRange(uint256 index, int256 value);

    /// @dev The first four bytes of every model.
    bytes4 internal constant MAGIC = "MPIM";
    /// @dev The only format version defined.
    uint8 internal constant VERSION = 1;
    /// @dev Bytes before the first bias.
    uint256 internal constant HEADER_BYTES = 10;
    /// @dev Bytes per bias (int64).
    uint256 internal constant BIAS_BYTES = 8;
    /// @dev Bytes per weight (int16).
    uint256 internal constant WEIGHT_BYTES = 2;
    /// @dev Most classes a well-formed model has: a log records a predicted label in one byte.
    uint256 internal constant MAX_CLASSES = 256;
    /// @dev Most features a well-formed model has (a challenge's test row is 32 bytes of
    ///      calldata per feature).
    uint256 internal constant MAX_FEATURES = 1024;
    /// @dev Most weights (C * F) a well-formed model has. Why: a WrongPrediction challenge (kind
    ///      a) carries the model bytes and evaluates them on one row, O(C * F); without a bound a
    ///      well-formed model could cost more than a block to evaluate, and a false log on it
    ///      could not be challenged (review A, attack 4). At these bounds a whole challenge
    ///      (a), intrinsic calldata gas included, measures at most 6.5M gas (32 x 1024; 5.4M at
    ///      256 x 128; test_attack_largestWellFormedModelChallengeFitsABlock asserts < 10M, a
    ///      third of a 30M block), every well-formed model (at most 67,594 bytes) fits
    ///      MAX_DELIVERY_BYTES, and the demo model (10 x 64 = 640 weights) has 51x room.
    uint256 internal constant MAX_WEIGHTS = 32_768;

    /// @notice Whether `model` is a canonical model for rows of `features` features: header length,
    ///         magic, version, 2 <= C <= MAX_CLASSES, 1 <= F <= MAX_FEATURES, C * F <=
    ///         MAX_WEIGHTS, F == `features`, and total length 10 + 8C + 2CF.
    /// @dev    Never reverts, whatever the bytes: a posted hash over malformed bytes is fraud, and
    ///         proving it must not depend on the bytes being parseable.
    function wellFormed(bytes calldata model, uint256 features) internal pure returns (bool) {
        if (model.length < HEADER_BYTES) return false;
        if (bytes4(model[0:4]) != MAGIC || uint8(model[4]) != VERSION) return false;
        uint256 classes = uint16(bytes2(model[5:7]));
        uint256 f = uint16(bytes2(model[7:9]));
        if (classes < 2 || f == 0 || f != features) return false;
        if (classes > MAX_CLASSES || f > MAX_FEATURES || classes * f > MAX_WEIGHTS) return false;
        // Cannot overflow: classes and f are below 2**16.
        return model.length == HEADER_BYTES + classes * (BIAS_BYTES + WEIGHT_BYTES * f);
    }

    /// @notice Whether every value of the feature row `x` lies in int64, the range `predict` evaluates
    ///         (a committed test row outside it cannot be evaluated; never reverts).
    function featuresInRange(int256[] calldata x) internal pure returns (bool) {
        for (uint256 f = 0; f < x.length; ++f) {
            if (int64(x[f]) != x[f]) return false; // narrowing changes a value iff it is outside int64
        }
        return true;
    }

    /// @notice The label `model` predicts for the feature row `x` (the test row WITHOUT its label:
    ///         pass `row[:row.length - 1]`): argmax over classes of b + W x, ties to the lowest class.
    /// @dev    Reverts `MalformedModel` unless `wellFormed(model, x.length)`, and
    ///         `FeatureOutOfRange` for a value outside int64. O(C * F).
    function predict(bytes calldata model, int256[] calldata x) internal pure returns (uint256 label) {
        if (!wellFormed(model, x.length)) revert MalformedModel();
        for (uint256 f = 0; f < x.length; ++f) {
            int256 v = x[f];
            if (int64(v) != v) revert FeatureOutOfRange(f, v); // narrowing changes v iff v is outside int64
        }
        uint256 classes = uint16(bytes2(model[5:7]));
        int256 best = 0;
        for (uint256 c = 0; c < classes; ++c) {
            int256 score = _score(model, x, classes, c);
            if (c == 0 || score > best) {
                best = score;
                label = c;
            }
        }
    }

    /// @dev b[c] + sum_f W[c][f] x[f] on a well-formed model and an in-range row. Class c's weights
    ///      are read 16 per 32-byte calldata word; the last word of a row may be partial.
    function _score(bytes calldata model, int256[] calldata x, uint256 classes, uint256 c)
        private
        pure
        returns (int256 score)
    {
        uint256 features = x.length;
        uint256 b = HEADER_BYTES + BIAS_BYTES * c;
        score = int256(int64(uint64(bytes8(model[b:b + BIAS_BYTES]))));
        uint256 row = HEADER_BYTES + BIAS_BYTES * classes + WEIGHT_BYTES * features * c;
        uint256 f = 0;
        // Unchecked: |W x| <= 2**78 per term, fewer than 2**16 terms plus |b| <= 2**63 stay far
        // inside int256 (header comment); offsets are below 2**34 for any well-formed model.
        unchecked {
            // Written out rather than looped over 16: a loop's counter and jumps cost as much as the
            // arithmetic (about 120k against 90k gas for the demo model).
            for (; f + 16 <= features; f += 16) {
                uint256 word = uint256(bytes32(model[row + 2 * f:row + 2 * f + 32]));
                score += int256(int16(uint16(word >> 240))) * x[f];
                score += int256(int16(uint16(word >> 224))) * x[f + 1];
                score += int256(int16(uint16(word >> 208))) * x[f + 2];
                score += int256(int16(uint16(word >> 192))) * x[f + 3];
                score += int256(int16(uint16(word >> 176))) * x[f + 4];
                score += int256(int16(uint16(word >> 160))) * x[f + 5];
                score += int256(int16(uint16(word >> 144))) * x[f + 6];
                score += int256(int16(uint16(word >> 128))) * x[f + 7];
                score += int256(int16(uint16(word >> 112))) * x[f + 8];
                score += int256(int16(uint16(word >> 96))) * x[f + 9];
                score += int256(int16(uint16(word >> 80))) * x[f + 10];
                score += int256(int16(uint16(word >> 64))) * x[f + 11];
                score += int256(int16(uint16(word >> 48))) * x[f + 12];
                score += int256(int16(uint16(word >> 32))) * x[f + 13];
                score += int256(int16(uint16(word >> 16))) * x[f + 14];
                score += int256(int16(uint16(word >> 0))) * x[f + 15];
            }
            if (f < features) {
                uint256 last = uint256(_word(model, row + 2 * f));
                for (; f < features; ++f) {
                    score += int256(int16(uint16(last >> 240))) * x[f];
                    last <<= 16;
                }
            }
        }
    }

    /// @dev The 32 bytes of `model` from `offset`, zero-padded past its end (the last word of
    ///      the weights may be partial; bytes after a row's last weight are never used).
    function _word(bytes calldata model, uint256 offset) private pure returns (bytes32) {
        uint256 end = offset + 32;
        if (end > model.length) end = model.length;
        return bytes32(model[offset:end]);
    }
}
