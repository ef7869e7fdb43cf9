// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {DeliveryCipher} from "../src/libraries/DeliveryCipher.sol";
import {CipherFixture} from "./DeliveryCipher.base.t.sol";

/// @dev Unit and fuzz tests of the delivery cipher: keys, point validation, the keystream's
///      block boundaries, decryption against an independent reference, and the failure modes a
///      dispute relies on.
contract DeliveryCipherTest is CipherFixture {
    // --------------------------------------------------------------------- keys

    function test_publicKey_ofOneIsTheGenerator() public view {
        (uint256 x, uint256 y) = cipher.publicKey(1);
        assertEq(x, 1);
        assertEq(y, 2);
    }

    function test_publicKey_ofMinusOneIsTheNegatedGenerator() public view {
        (uint256 x, uint256 y) = cipher.publicKey(N - 1);
        assertEq(x, 1);
        assertEq(y, P - 2);
    }

    function test_publicKey_revertsOnZero() public {
        vm.expectRevert(abi.encodeWithSelector(DeliveryCipher.DeliveryCipherInvalidScalar.selector, 0));
        cipher.publicKey(0);
    }

    function test_publicKey_revertsAtAndAboveTheGroupOrder() public {
        uint256[4] memory bad = [N, N + 1, 2 * N, type(uint256).max];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(DeliveryCipher.DeliveryCipherInvalidScalar.selector, bad[i]));
            cipher.publicKey(bad[i]);
        }
    }

    function testFuzz_publicKey_isAValidPoint(uint256 sk) public view {
        sk = bound(sk, 1, N - 1);
        (uint256 x, uint256 y) = cipher.publicKey(sk);
        assertTrue(cipher.isValidPoint(x, y));
    }

    function testFuzz_sharedPoint_isTheSameBothWays(uint256 sk, uint256 e) public view {
        sk = bound(sk, 1, N - 1);
        e = bound(e, 1, N - 1);
        (uint256 px, uint256 py) = cipher.publicKey(sk);
        (uint256 ex, uint256 ey) = cipher.publicKey(e);
        (uint256 ax, uint256 ay) = cipher.sharedPoint(sk, ex, ey);
        (uint256 bx, uint256 by) = cipher.sharedPoint(e, px, py);
        assertEq(ax, bx);
        assertEq(ay, by);
    }

    // --------------------------------------------------------------------- point validation

    function test_isValidPoint_rejectsInfinityOffCurveAndNonCanonical() public view {
        assertFalse(cipher.isValidPoint(0, 0), "infinity");
        assertFalse(cipher.isValidPoint(1, 3), "off curve");
        assertFalse(cipher.isValidPoint(0, 1), "off curve, x = 0");
        assertFalse(cipher.isValidPoint(1 + P, 2), "x >= p");
        assertFalse(cipher.isValidPoint(1, 2 + P), "y >= p");
        assertFalse(cipher.isValidPoint(type(uint256).max, type(uint256).max), "max");
        assertTrue(cipher.isValidPoint(1, 2), "G");
        assertTrue(cipher.isValidPoint(1, P - 2), "-G");
    }

    /// @dev isValidPoint accepts exactly what the precompile accepts, except (0, 0): ecMul reads
    ///      it as the point at infinity, the library refuses it (no shared secret comes from it).
    function testFuzz_isValidPoint_agreesWithThePrecompile(uint256 x, uint256 y, bool lift) public view {
        if (lift) {
            // Half of all x lift to a point on the curve; the other half give an off-curve y.
            x = bound(x, 0, P - 1);
            (, y) = _liftX(x);
        }
        (bool accepted,,) = _ecMulRaw(x, y, 5);
        bool infinity = x == 0 && y == 0;
        assertEq(cipher.isValidPoint(x, y), accepted && !infinity);
    }

    function test_sharedPoint_revertsOnInvalidPointAndScalar() public {
        vm.expectRevert(abi.encodeWithSelector(DeliveryCipher.DeliveryCipherInvalidPoint.selector, 1, 3));
        cipher.sharedPoint(5, 1, 3);
        vm.expectRevert(abi.encodeWithSelector(DeliveryCipher.DeliveryCipherInvalidPoint.selector, 0, 0));
        cipher.sharedPoint(5, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(DeliveryCipher.DeliveryCipherInvalidScalar.selector, N));
        cipher.sharedPoint(N, 1, 2);
    }

    // --------------------------------------------------------------------- keystream boundaries

    /// @dev Every length around the 32-byte block boundaries matches the byte-by-byte reference.
    function test_applyKeystream_matchesReferenceAroundBlockBoundaries() public view {
        (uint256 sx, uint256 sy) = cipher.publicKey(12345);
        uint256[14] memory lengths = [uint256(0), 1, 2, 31, 32, 33, 63, 64, 65, 95, 96, 97, 127, 129];
        for (uint256 i = 0; i < lengths.length; ++i) {
            bytes memory data = new bytes(lengths[i]);
            for (uint256 j = 0; j < data.length; ++j) {
                // A varied byte pattern; truncation to 8 bits is the intent.
                // forge-lint: disable-next-line(unsafe-typecast)
                data[j] = bytes1(uint8(j * 7 + 3));
            }
            bytes memory got = cipher.applyKeystream(sx, sy, data);
            assertEq(got.length, data.length, "length preserved");
            assertEq(got, _xorReference(sx, sy, data));
            assertEq(cipher.applyKeystream(sx, sy, got), data, "involution");
        }
    }

    /// @dev The tail uses block wholeBlocks (not wholeBlocks - 1 or + 1): on a zero plaintext the
    ///      output IS the keystream, so each byte can be compared with its block directly.
    function test_applyKeystream_tailUsesTheNextBlock() public view {
        (uint256 sx, uint256 sy) = cipher.publicKey(777);
        bytes memory stream = cipher.applyKeystream(sx, sy, new bytes(33));
        assertEq(stream[31], cipher.keystreamBlock(sx, sy, 0)[31]);
        assertEq(stream[32], cipher.keystreamBlock(sx, sy, 1)[0]);
        stream = cipher.applyKeystream(sx, sy, new bytes(31));
        assertEq(stream[30], cipher.keystreamBlock(sx, sy, 0)[30]);
    }

    function testFuzz_applyKeystream_matchesReference(uint256 sx, uint256 sy, bytes calldata data) public view {
        assertEq(cipher.applyKeystream(sx, sy, data), _xorReference(sx, sy, data));
    }

    // --------------------------------------------------------------------- decryption

    function testFuzz_decrypt_recoversWhatReferenceEncrypted(uint256 sk, uint256 e, bytes calldata plaintext)
        public
        view
    {
        sk = bound(sk, 1, N - 1);
        e = bound(e, 1, N - 1);
        (uint256 px, uint256 py) = cipher.publicKey(sk);
        (uint256 ex, uint256 ey, bytes memory ciphertext) = _encryptReference(px, py, e, plaintext);
        assertEq(ciphertext.length, plaintext.length);
        assertEq(cipher.decrypt(sk, ex, ey, ciphertext), plaintext);
        (bool valid, bytes memory again) = cipher.tryDecrypt(sk, ex, ey, ciphertext);
        assertTrue(valid);
        assertEq(again, plaintext);
    }

    /// @dev A wrong key (any sk' != sk in [1, n-1]) gives another shared point, hence another
    ///      keystream: the first 32 bytes differ except with probability 2^-256. (A shorter
    ///      plaintext can coincide by chance, 2^-8 per byte, which is why the round compares the
    ///      model hash of a whole model, never a few bytes.)
    function testFuzz_decrypt_wrongKeyNeverYieldsThePlaintext(
        uint256 sk,
        uint256 wrong,
        uint256 e,
        bytes32 head,
        bytes calldata rest
    ) public view {
        sk = bound(sk, 1, N - 1);
        wrong = bound(wrong, 1, N - 1);
        vm.assume(wrong != sk);
        e = bound(e, 1, N - 1);
        bytes memory plaintext = bytes.concat(head, rest);
        (uint256 px, uint256 py) = cipher.publicKey(sk);
        (uint256 ex, uint256 ey, bytes memory ciphertext) = _encryptReference(px, py, e, plaintext);
        bytes memory got = cipher.decrypt(wrong, ex, ey, ciphertext);
        assertEq(got.length, plaintext.length);
        assertNotEq(keccak256(got), keccak256(plaintext));
    }

    function test_decrypt_emptyCiphertextIsEmpty() public view {
        assertEq(cipher.decrypt(3, 1, 2, "").length, 0);
        (bool valid, bytes memory plaintext) = cipher.tryDecrypt(3, 1, 2, "");
        assertTrue(valid);
        assertEq(plaintext.length, 0);
    }

    function test_decrypt_revertsOnInvalidEphemeral() public {
        vm.expectRevert(abi.encodeWithSelector(DeliveryCipher.DeliveryCipherInvalidPoint.selector, 1, 3));
        cipher.decrypt(5, 1, 3, hex"00");
    }

    /// @dev A garbage E is an outcome, not a revert, and costs little: the precompile is never
    ///      called on it (a failing ecMul would burn all the gas it was given).
    function test_tryDecrypt_invalidEphemeralIsFalseAndCheap() public view {
        uint256[2][5] memory bad = [[uint256(0), 0], [uint256(1), 3], [1 + P, 2], [uint256(1), 2 + P], [P, 0]];
        bytes memory ciphertext = new bytes(2700);
        for (uint256 i = 0; i < bad.length; ++i) {
            uint256 before = gasleft();
            (bool valid, bytes memory plaintext) = cipher.tryDecrypt(5, bad[i][0], bad[i][1], ciphertext);
            uint256 used = before - gasleft();
            assertFalse(valid);
            assertEq(plaintext.length, 0);
            assertLt(used, 30_000, "no gas burnt in a failing precompile");
        }
    }

    function test_tryDecrypt_revertsOnInvalidScalar() public {
        vm.expectRevert(abi.encodeWithSelector(DeliveryCipher.DeliveryCipherInvalidScalar.selector, 0));
        cipher.tryDecrypt(0, 1, 2, hex"00");
        vm.expectRevert(abi.encodeWithSelector(DeliveryCipher.DeliveryCipherInvalidScalar.selector, N));
        cipher.tryDecrypt(N, 0, 0, hex"00");
    }

    // --------------------------------------------------------------------- gas

    /// @dev Budget of the demo model (10 classes x 64 features, ~2,700 bytes): decryption with the
    ///      ecMul and the plaintext's hash stays well under 100k (disputeDelivery <= 250k whole).
    function test_gas_decrypt2700Bytes() public {
        (uint256 px, uint256 py) = cipher.publicKey(0xC0FFEE);
        bytes memory plaintext = new bytes(2700);
        for (uint256 i = 0; i < plaintext.length; ++i) {
            // A varied byte pattern; truncation to 8 bits is the intent.
            // forge-lint: disable-next-line(unsafe-typecast)
            plaintext[i] = bytes1(uint8(i * 31 + 7));
        }
        (uint256 ex, uint256 ey, bytes memory ciphertext) = _encryptReference(px, py, 0xBEEF, plaintext);
        uint256 before = gasleft();
        bytes32 got = cipher.decryptedHash(0xC0FFEE, ex, ey, ciphertext);
        uint256 used = before - gasleft();
        assertEq(got, keccak256(plaintext));
        emit log_named_uint("decrypt + keccak of 2,700 bytes, one external call (gas)", used);
        assertLt(used, 100_000);
    }
}
