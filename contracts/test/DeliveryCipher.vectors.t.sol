// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {DeliveryCipher} from "../src/libraries/DeliveryCipher.sol";
import {CipherFixture} from "./DeliveryCipher.base.t.sol";

/// @dev Golden vectors written by `modelpact.delivery` (contracts/test/vectors/generate.py):
///      key derivation, the v2 commitment, public keys, shared points, keystreams and ciphertexts
///      (0 to 2,700 bytes), and the inputs both sides must refuse.
contract DeliveryCipherVectorsTest is CipherFixture {
    string internal json;

    function setUp() public override {
        super.setUp();
        json = vm.readFile(string.concat(vm.projectRoot(), "/contracts/test/vectors/delivery.json"));
    }

    function _p(string memory base, uint256 i, string memory key) internal pure returns (string memory) {
        return string.concat(base, "[", vm.toString(i), "].", key);
    }

    function _u(string memory base, uint256 i, string memory key) internal view returns (uint256) {
        return vm.parseJsonUint(json, _p(base, i, key));
    }

    function _arrayLength(string memory path) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, string.concat(path, "[", vm.toString(n), "]"))) {
            ++n;
        }
    }

    function test_vectors_constantsMatchTheLibrary() public view {
        assertEq(vm.parseJsonUint(json, ".constants.fieldModulus"), DeliveryCipher.FIELD_MODULUS);
        assertEq(vm.parseJsonUint(json, ".constants.groupOrder"), DeliveryCipher.GROUP_ORDER);
        assertEq(vm.parseJsonBytes32(json, ".constants.roundKeyLabel"), keccak256("modelpact.round-key.v1"));
        assertEq(vm.parseJsonBytes32(json, ".constants.randomnessLabel"), keccak256("modelpact.randomness-secret.v1"));
        assertEq(vm.parseJsonBytes32(json, ".constants.deliveryKeyLabel"), keccak256("modelpact.delivery-key.v1"));
    }

    /// @dev The derivation is language-neutral: recomputed here from its definition, including the
    ///      rejection loop (mask to 254 bits, keep the first candidate in [1, n-1]).
    function test_vectors_keyDerivation() public view {
        uint256 n = _arrayLength(".derivations");
        assertGe(n, 5);
        uint256 rejected;
        for (uint256 i = 0; i < n; ++i) {
            bytes32 roundKey = keccak256(
                abi.encode(
                    keccak256("modelpact.round-key.v1"),
                    vm.parseJsonBytes32(json, _p(".derivations", i, "accountKey")),
                    vm.parseJsonAddress(json, _p(".derivations", i, "round")),
                    _u(".derivations", i, "chainId")
                )
            );
            assertEq(roundKey, vm.parseJsonBytes32(json, _p(".derivations", i, "roundKey")), "round key");
            assertEq(
                keccak256(abi.encode(roundKey, keccak256("modelpact.randomness-secret.v1"))),
                vm.parseJsonBytes32(json, _p(".derivations", i, "randomnessSecret")),
                "randomness secret"
            );
            (uint256 sk, uint256 candidates) = _deriveDeliveryKey(roundKey);
            assertEq(sk, _u(".derivations", i, "deliverySecretKey"), "delivery secret key");
            assertEq(candidates, _u(".derivations", i, "candidates"), "candidates hashed");
            if (candidates > 1) ++rejected;
            (uint256 x, uint256 y) = cipher.publicKey(sk);
            assertEq(x, _u(".derivations", i, "publicKeyX"));
            assertEq(y, _u(".derivations", i, "publicKeyY"));
        }
        assertGe(rejected, 2, "the vectors exercise the rejection rule");
    }

    function _deriveDeliveryKey(bytes32 roundKey) internal pure returns (uint256 sk, uint256 candidates) {
        bytes32 label = keccak256("modelpact.delivery-key.v1");
        while (true) {
            sk = uint256(keccak256(abi.encode(roundKey, label, candidates))) & ((1 << 254) - 1);
            ++candidates;
            if (DeliveryCipher.isValidScalar(sk)) return (sk, candidates);
        }
    }

    function test_vectors_commitmentsWithDeliveryKey() public view {
        uint256 n = _arrayLength(".commitments");
        assertEq(n, 3);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 got = keccak256(
                abi.encode(
                    vm.parseJsonBytes32(json, _p(".commitments", i, "secret")),
                    _u(".commitments", i, "deliveryKeyX"),
                    _u(".commitments", i, "deliveryKeyY"),
                    vm.parseJsonAddress(json, _p(".commitments", i, "participant")),
                    vm.parseJsonAddress(json, _p(".commitments", i, "round")),
                    _u(".commitments", i, "chainId")
                )
            );
            assertEq(got, vm.parseJsonBytes32(json, _p(".commitments", i, "commitment")));
            assertTrue(
                cipher.isValidPoint(_u(".commitments", i, "deliveryKeyX"), _u(".commitments", i, "deliveryKeyY"))
            );
        }
    }

    function test_vectors_ciphers() public view {
        uint256 n = _arrayLength(".ciphers");
        assertGe(n, 9);
        bool sawEmpty;
        bool sawDemoSize;
        for (uint256 i = 0; i < n; ++i) {
            _checkKeys(i);
            uint256 length = _checkStreams(i);
            sawEmpty = sawEmpty || length == 0;
            sawDemoSize = sawDemoSize || length == 2700;
        }
        assertTrue(sawEmpty && sawDemoSize, "lengths 0 and 2,700 are covered");
    }

    /// @dev P = sk*G, E = e*G, S = sk*E = e*P: all as Python computed them.
    function _checkKeys(uint256 i) internal view {
        uint256 sk = _u(".ciphers", i, "secretKey");
        uint256 e = _u(".ciphers", i, "ephemeralSecret");
        (uint256 px, uint256 py) = cipher.publicKey(sk);
        (uint256 ex, uint256 ey) = cipher.publicKey(e);
        assertEq(px, _u(".ciphers", i, "publicKeyX"));
        assertEq(py, _u(".ciphers", i, "publicKeyY"));
        assertEq(ex, _u(".ciphers", i, "ephemeralX"));
        assertEq(ey, _u(".ciphers", i, "ephemeralY"));
        (uint256 sx, uint256 sy) = cipher.sharedPoint(sk, ex, ey);
        assertEq(sx, _u(".ciphers", i, "sharedX"));
        assertEq(sy, _u(".ciphers", i, "sharedY"));
        (sx, sy) = cipher.sharedPoint(e, px, py);
        assertEq(sx, _u(".ciphers", i, "sharedX"));
        assertEq(sy, _u(".ciphers", i, "sharedY"));
    }

    /// @dev Keystream, encryption (Solidity encrypts what Python encrypted, byte for byte) and
    ///      decryption of Python's ciphertext, by the library and by the byte-wise reference.
    function _checkStreams(uint256 i) internal view returns (uint256) {
        uint256 sx = _u(".ciphers", i, "sharedX");
        uint256 sy = _u(".ciphers", i, "sharedY");
        bytes memory plaintext = vm.parseJsonBytes(json, _p(".ciphers", i, "plaintext"));
        bytes memory ciphertext = vm.parseJsonBytes(json, _p(".ciphers", i, "ciphertext"));
        bytes memory stream = vm.parseJsonBytes(json, _p(".ciphers", i, "keystream"));
        assertEq(ciphertext.length, plaintext.length);
        assertEq(cipher.applyKeystream(sx, sy, new bytes(plaintext.length)), stream, "keystream");
        assertEq(cipher.applyKeystream(sx, sy, plaintext), ciphertext, "encryption");
        assertEq(_xorReference(sx, sy, plaintext), ciphertext, "reference encryption");
        uint256 sk = _u(".ciphers", i, "secretKey");
        uint256 ex = _u(".ciphers", i, "ephemeralX");
        uint256 ey = _u(".ciphers", i, "ephemeralY");
        assertEq(cipher.decrypt(sk, ex, ey, ciphertext), plaintext, "decryption");
        (bool valid, bytes memory again) = cipher.tryDecrypt(sk, ex, ey, ciphertext);
        assertTrue(valid);
        assertEq(again, plaintext);
        return plaintext.length;
    }

    function test_vectors_invalidPointsAreRefused() public {
        uint256 n = _arrayLength(".invalidPoints");
        assertGe(n, 5);
        for (uint256 i = 0; i < n; ++i) {
            uint256 x = _u(".invalidPoints", i, "x");
            uint256 y = _u(".invalidPoints", i, "y");
            assertFalse(cipher.isValidPoint(x, y));
            (bool valid, bytes memory plaintext) = cipher.tryDecrypt(5, x, y, hex"0102");
            assertFalse(valid);
            assertEq(plaintext.length, 0);
            vm.expectRevert(abi.encodeWithSelector(DeliveryCipher.DeliveryCipherInvalidPoint.selector, x, y));
            cipher.sharedPoint(5, x, y);
        }
    }

    function test_vectors_invalidScalarsAreRefused() public {
        uint256[] memory scalars = vm.parseJsonUintArray(json, ".invalidScalars");
        assertGe(scalars.length, 4);
        for (uint256 i = 0; i < scalars.length; ++i) {
            assertFalse(cipher.isValidScalar(scalars[i]));
            vm.expectRevert(abi.encodeWithSelector(DeliveryCipher.DeliveryCipherInvalidScalar.selector, scalars[i]));
            cipher.publicKey(scalars[i]);
        }
    }
}
