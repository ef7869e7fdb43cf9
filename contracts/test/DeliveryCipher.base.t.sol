// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {DeliveryCipher} from "../src/libraries/DeliveryCipher.sol";

/// @dev External entry points over the library, so tests pass ciphertexts as calldata (as
///      `disputeDelivery` will) and can measure one call's gas.
contract DeliveryCipherHarness {
    function publicKey(uint256 sk) external view returns (uint256, uint256) {
        return DeliveryCipher.publicKey(sk);
    }

    function sharedPoint(uint256 sk, uint256 ex, uint256 ey) external view returns (uint256, uint256) {
        return DeliveryCipher.sharedPoint(sk, ex, ey);
    }

    function isValidPoint(uint256 x, uint256 y) external pure returns (bool) {
        return DeliveryCipher.isValidPoint(x, y);
    }

    function isValidScalar(uint256 s) external pure returns (bool) {
        return DeliveryCipher.isValidScalar(s);
    }

    function keystreamBlock(uint256 sx, uint256 sy, uint256 k) external pure returns (bytes32) {
        return DeliveryCipher.keystreamBlock(sx, sy, k);
    }

    function applyKeystream(uint256 sx, uint256 sy, bytes calldata data) external pure returns (bytes memory) {
        return DeliveryCipher.applyKeystream(sx, sy, data);
    }

    function decrypt(uint256 sk, uint256 ex, uint256 ey, bytes calldata ciphertext)
        external
        view
        returns (bytes memory)
    {
        return DeliveryCipher.decrypt(sk, ex, ey, ciphertext);
    }

    function tryDecrypt(uint256 sk, uint256 ex, uint256 ey, bytes calldata ciphertext)
        external
        view
        returns (bool, bytes memory)
    {
        return DeliveryCipher.tryDecrypt(sk, ex, ey, ciphertext);
    }

    /// @dev What `disputeDelivery` needs from the cipher: the hash of the plaintext.
    function decryptedHash(uint256 sk, uint256 ex, uint256 ey, bytes calldata ciphertext)
        external
        view
        returns (bytes32)
    {
        return keccak256(DeliveryCipher.decrypt(sk, ex, ey, ciphertext));
    }
}

/// @dev A reference implementation written differently from the library (byte by byte, straight
///      from the definition), plus curve helpers built on the precompiles.
abstract contract CipherFixture is Test {
    uint256 internal constant P = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 internal constant N = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    DeliveryCipherHarness internal cipher;

    function setUp() public virtual {
        cipher = new DeliveryCipherHarness();
    }

    /// @dev s * (x, y) via ecMul with a gas cap, reporting failure instead of reverting.
    function _ecMulRaw(uint256 x, uint256 y, uint256 s) internal view returns (bool ok, uint256 rx, uint256 ry) {
        bytes memory out;
        (ok, out) = address(0x07).staticcall{gas: 50_000}(abi.encode(x, y, s));
        if (ok && out.length == 64) (rx, ry) = abi.decode(out, (uint256, uint256));
        else ok = false;
    }

    function _ecMul(uint256 x, uint256 y, uint256 s) internal view returns (uint256 rx, uint256 ry) {
        bool ok;
        (ok, rx, ry) = _ecMulRaw(x, y, s);
        require(ok, "ecMul failed");
    }

    /// @dev byte i of the keystream = byte i % 32 of keccak256(abi.encode(Sx, Sy, i / 32)).
    function _xorReference(uint256 sx, uint256 sy, bytes memory data) internal pure returns (bytes memory out) {
        out = new bytes(data.length);
        for (uint256 i = 0; i < data.length; ++i) {
            out[i] = data[i] ^ keccak256(abi.encode(sx, sy, i / 32))[i % 32];
        }
    }

    /// @dev Encryption as `modelpact.delivery.encrypt` does it: E = e*G, S = e*P, XOR.
    function _encryptReference(uint256 px, uint256 py, uint256 e, bytes memory plaintext)
        internal
        view
        returns (uint256 ex, uint256 ey, bytes memory ciphertext)
    {
        (ex, ey) = _ecMul(1, 2, e);
        (uint256 sx, uint256 sy) = _ecMul(px, py, e);
        ciphertext = _xorReference(sx, sy, plaintext);
    }

    /// @dev A curve point with x-coordinate `x` when x^3 + 3 is a square mod p (p = 3 mod 4, so
    ///      the root is (x^3 + 3)^((p + 1) / 4), via the modexp precompile), else found = false.
    function _liftX(uint256 x) internal view returns (bool found, uint256 y) {
        uint256 rhs = addmod(mulmod(mulmod(x, x, P), x, P), 3, P);
        (bool ok, bytes memory out) = address(0x05).staticcall(abi.encode(32, 32, 32, rhs, (P + 1) / 4, P));
        require(ok && out.length == 32, "modexp failed");
        y = abi.decode(out, (uint256));
        found = mulmod(y, y, P) == rhs;
    }
}
