// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {console} from "forge-std/Test.sol";
import {ModelEval} from "../src/libraries/ModelEval.sol";
import {ModelEvalFixture} from "./ModelEval.base.t.sol";

/// @dev ModelEval: well-formedness never reverts, prediction equals a plain reference on fuzzed
///      models and rows (extremes included), ties go to the lowest class, and the gas of a demo-sized
///      model.
contract ModelEvalTest is ModelEvalFixture {
    function _r(uint256 seed, uint256 i) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, i)));
    }

    /// @dev A weight: one in eight each the minimum, the maximum, zero; otherwise uniform.
    function _w(uint256 r) internal pure returns (int16) {
        uint256 kind = r % 8;
        if (kind == 0) return type(int16).min;
        if (kind == 1) return type(int16).max;
        if (kind == 2) return 0;
        return int16(uint16(r >> 8));
    }

    /// @dev An int64 (a bias or a feature), extremes as often as in `_w`, small values too.
    function _i64(uint256 r) internal pure returns (int64) {
        uint256 kind = r % 8;
        if (kind == 0) return type(int64).min;
        if (kind == 1) return type(int64).max;
        if (kind == 2) return 0;
        if (kind == 3) return int64(int256(r >> 8) % 17);
        return int64(uint64(r >> 8));
    }

    function _randomModel(uint256 seed, uint256 c, uint256 f)
        internal
        pure
        returns (int64[] memory biases, int16[] memory weights)
    {
        biases = new int64[](c);
        weights = new int16[](c * f);
        for (uint256 k = 0; k < c; ++k) {
            biases[k] = _i64(_r(seed, k));
        }
        for (uint256 k = 0; k < c * f; ++k) {
            weights[k] = _w(_r(seed, 1000 + k));
        }
    }

    function _randomRow(uint256 seed, uint256 f) internal pure returns (int256[] memory x) {
        x = new int256[](f);
        for (uint256 j = 0; j < f; ++j) {
            x[j] = _i64(_r(seed, 100_000 + j));
        }
    }

    // ---------------------------------------------------------------- prediction

    function testFuzz_predictMatchesReference(uint256 seed, uint8 classesRaw, uint8 featuresRaw) public view {
        uint256 c = 2 + (classesRaw % 6);
        uint256 f = 1 + (featuresRaw % 40); // 1..40 features: partial, whole and several 32-byte words
        (int64[] memory biases, int16[] memory weights) = _randomModel(seed, c, f);
        bytes memory model = _encode(biases, weights, uint16(f), int8(int256(seed % 256) - 128));
        int256[] memory x = _randomRow(seed, f);
        assertEq(eval.predict(model, x), _refPredict(model, x));
    }

    function testFuzz_tiesGoToTheLowestClass(uint256 seed, uint8 loRaw, uint8 gapRaw) public view {
        uint256 c = 6;
        uint256 f = 20;
        uint256 lo = loRaw % (c - 1);
        uint256 hi = lo + 1 + (gapRaw % (c - 1 - lo));
        (int64[] memory biases, int16[] memory weights) = _randomModel(seed, c, f);
        biases[hi] = biases[lo]; // class hi is an exact copy of class lo: it can never win
        for (uint256 j = 0; j < f; ++j) {
            weights[hi * f + j] = weights[lo * f + j];
        }
        bytes memory model = _encode(biases, weights, uint16(f), 0);
        int256[] memory x = _randomRow(seed, f);
        uint256 label = eval.predict(model, x);
        assertTrue(label != hi, "the higher of two tied classes won");
        assertEq(label, _refPredict(model, x));
    }

    function test_predict_allTiedModelPicksClassZero() public view {
        bytes memory model = _encode(new int64[](4), new int16[](12), 3, 0);
        int256[] memory x = new int256[](3);
        x[0] = type(int64).min;
        x[2] = type(int64).max;
        assertEq(eval.predict(model, x), 0);
    }

    function test_predict_tieBetweenNonAdjacentMaximaPicksTheLower() public view {
        int64[] memory biases = new int64[](5);
        (biases[0], biases[1], biases[2], biases[3], biases[4]) = (-5, 7, 3, 7, 6);
        assertEq(eval.predict(_encode(biases, new int16[](5), 1, 0), new int256[](1)), 1);
    }

    function test_predict_extremesDoNotOverflow() public view {
        int64[] memory biases = new int64[](2);
        int16[] memory weights = new int16[](2 * 40);
        biases[0] = type(int64).min;
        biases[1] = type(int64).max;
        int256[] memory x = new int256[](40);
        for (uint256 j = 0; j < 40; ++j) {
            weights[j] = type(int16).min; // class 0: (-2**15) * (-2**63) = +2**78 per feature
            weights[40 + j] = type(int16).max; // class 1: (2**15 - 1) * (-2**63) per feature
            x[j] = type(int64).min;
        }
        bytes memory model = _encode(biases, weights, 40, 0);
        assertEq(eval.predict(model, x), 0);
        assertEq(_refPredict(model, x), 0);
    }

    function test_predict_revertsOnFeatureOutsideInt64() public {
        bytes memory model = _encode(new int64[](2), new int16[](8), 4, 0);
        int256[] memory x = new int256[](4);
        x[3] = int256(type(int64).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(ModelEval.FeatureOutOfRange.selector, 3, x[3]));
        eval.predict(model, x);
        x[3] = 0;
        x[1] = int256(type(int64).min) - 1;
        vm.expectRevert(abi.encodeWithSelector(ModelEval.FeatureOutOfRange.selector, 1, x[1]));
        eval.predict(model, x);
    }

    function testFuzz_featuresInRangeExactlyWhenPredictDoesNotRevert(int256 a, int256 b, uint8 which) public {
        int256[] memory x = new int256[](3);
        x[which % 3] = a;
        x[(which % 3 + 1 + (which / 3) % 2) % 3] = b; // another position than a's
        bool inRange = a >= type(int64).min && a <= type(int64).max && b >= type(int64).min && b <= type(int64).max;
        assertEq(eval.featuresInRange(x), inRange);
        bytes memory model = _encode(new int64[](2), new int16[](6), 3, 0);
        if (!inRange) vm.expectPartialRevert(ModelEval.FeatureOutOfRange.selector);
        eval.predict(model, x);
    }

    function test_predict_revertsOnMalformedModelOrRowWidth() public {
        bytes memory model = _encode(new int64[](2), new int16[](8), 4, 0);
        vm.expectRevert(ModelEval.MalformedModel.selector);
        eval.predict(model, new int256[](3));
        vm.expectRevert(ModelEval.MalformedModel.selector);
        eval.predict(bytes.concat(model, hex"00"), new int256[](4));
        vm.expectRevert(ModelEval.MalformedModel.selector);
        eval.predict(hex"", new int256[](0));
    }

    function test_predictRow_ignoresTheLabel() public view {
        int64[] memory biases = new int64[](3);
        biases[2] = 1;
        bytes memory model = _encode(biases, new int16[](6), 2, 0);
        int256[] memory row = new int256[](3);
        row[2] = type(int256).min; // the label: never read, never range-checked
        assertEq(eval.predictRow(model, row), 2);
    }

    // ---------------------------------------------------------------- well-formedness

    function testFuzz_wellFormedNeverRevertsOnArbitraryBytes(bytes calldata data, uint256 features) public view {
        assertEq(eval.wellFormed(data, features), _refWellFormed(data, features));
    }

    /// @dev A header with the given fields followed by zero bytes, `len` bytes in all.
    function _headerCase(uint8 version, uint256 c, uint256 f, int8 scaleLog2, uint256 len)
        internal
        pure
        returns (bytes memory model)
    {
        bytes memory full = abi.encodePacked(bytes4("MPIM"), version, uint16(c), uint16(f), scaleLog2, new bytes(len));
        model = new bytes(len);
        for (uint256 i = 0; i < len; ++i) {
            model[i] = full[i];
        }
    }

    function testFuzz_wellFormedOnHeaderEdges(
        uint8 version,
        uint16 classes,
        uint16 features,
        int8 lengthDelta,
        uint8 featureChoice,
        int8 scaleLog2
    ) public view {
        uint256 c = classes % 8;
        uint256 f = features % 40;
        uint256[4] memory asked = [f, f + 65_536, f + 1, type(uint256).max];
        // -2..+2 bytes around the exact length (so the bare header loses up to two bytes)
        _checkHeaderCase(version % 3, c, f, scaleLog2, lengthDelta % 3, asked[featureChoice % 4]);
    }

    function _checkHeaderCase(uint8 version, uint256 c, uint256 f, int8 scaleLog2, int8 delta, uint256 want)
        internal
        view
    {
        uint256 expected = 10 + 8 * c + 2 * c * f;
        uint256 len = uint256(int256(expected) + delta);
        bytes memory model = _headerCase(version, c, f, scaleLog2, len);
        bool ok = eval.wellFormed(model, want);
        assertEq(ok, _refWellFormed(model, want));
        assertEq(ok, version == 1 && c >= 2 && f >= 1 && want == f && len == expected);
    }

    function test_wellFormed_refusesEachHeaderFault() public view {
        bytes memory good = _encode(new int64[](2), new int16[](2), 1, 0);
        assertTrue(eval.wellFormed(good, 1));
        assertFalse(eval.wellFormed(good, 2), "feature count differs from the rows");
        assertFalse(eval.wellFormed(good, 1 + 65_536), "feature count equal modulo 2**16");
        bytes memory bad = bytes.concat(good);
        bad[0] = "m";
        assertFalse(eval.wellFormed(bad, 1), "magic");
        bad = bytes.concat(good);
        bad[4] = 0x02;
        assertFalse(eval.wellFormed(bad, 1), "version");
        bad = bytes.concat(good);
        bad[6] = 0x01;
        assertFalse(eval.wellFormed(bad, 1), "one class");
        assertFalse(eval.wellFormed(bytes.concat(good, hex"00"), 1), "trailing byte");
        assertFalse(eval.wellFormed(hex"4d50494d0100020001", 1), "nine bytes");
        assertFalse(eval.wellFormed(_encode(new int64[](2), new int16[](0), 0, 0), 0), "no features");
    }

    // ---------------------------------------------------------------- gas

    /// @dev The demo model's size (10 classes x 64 features), every weight byte non-zero (the most
    ///      expensive calldata), a digits-like row. Challenge budget: keccak + predict well under 150k.
    function test_gas_demoSizedModel() public view {
        int64[] memory biases = new int64[](10);
        int16[] memory weights = new int16[](640);
        for (uint256 k = 0; k < 10; ++k) {
            biases[k] = int64(int256(_r(7, k) % 2 ** 20) - 2 ** 19);
        }
        for (uint256 k = 0; k < 640; ++k) {
            weights[k] = int16(int256(_r(8, k) % 60_000) - 30_000);
        }
        bytes memory model = _encode(biases, weights, 64, 13);
        int256[] memory row = new int256[](65);
        for (uint256 j = 0; j < 64; ++j) {
            row[j] = int256(_r(9, j) % 17);
        }
        row[64] = 3;
        (, uint256 label, uint256 hashGas, uint256 predictGas) = eval.measure(model, row);
        uint256 calldataGas = 0;
        for (uint256 i = 0; i < model.length; ++i) {
            calldataGas += model[i] == 0 ? 4 : 16;
        }
        console.log("model bytes", model.length);
        console.log("calldata gas of the model bytes (EIP-2028)", calldataGas);
        console.log("keccak256 of the model", hashGas);
        console.log("predict", predictGas);
        assertEq(label, _refPredict(model, _features(row)));
        assertLt(hashGas + predictGas, 100_000);
    }

    function _features(int256[] memory row) internal pure returns (int256[] memory x) {
        x = new int256[](row.length - 1);
        for (uint256 j = 0; j < x.length; ++j) {
            x[j] = row[j];
        }
    }
}
