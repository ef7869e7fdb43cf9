"""modelpact.delivery: per-round keys on alt_bn128, the model cipher, and their golden vectors."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc.bn128 import bn128_curve as reference_curve

from modelpact import delivery as dlv
from modelpact import encoding as enc
from modelpact.errors import ModelpactError

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "contracts" / "test" / "vectors" / "delivery.json"
N = dlv.GROUP_ORDER
P = dlv.FIELD_MODULUS
ROUND = "0x" + "12" * 20
ACCOUNT = bytes(range(1, 33))

scalars = st.integers(min_value=1, max_value=N - 1)
account_keys = st.binary(min_size=32, max_size=32).filter(any)
addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
chain_ids = st.integers(min_value=0, max_value=2**256 - 1)


# ------------------------------------------------------------------------------------------
# Golden vectors (the same file Foundry checks)
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vectors() -> dict:
    return json.loads(VECTORS.read_text())


def _b(x: str) -> bytes:
    return bytes.fromhex(x[2:])


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen", VECTORS.with_name("generate.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vectors_file_is_what_the_generator_writes(vectors) -> None:
    """The committed delivery vectors equal a fresh run of contracts/test/vectors/generate.py."""
    assert _generator().build_delivery() == vectors


def test_vectors_key_derivation(vectors) -> None:
    """Round key, randomness secret, delivery key and public key match every vector."""
    assert len(vectors["derivations"]) >= 5
    for v in vectors["derivations"]:
        kw = {"account_key": _b(v["accountKey"]), "round_address": v["round"]}
        kw_chain = {**kw, "chain_id": int(v["chainId"])}
        assert dlv.round_key(**kw_chain) == _b(v["roundKey"])
        assert dlv.randomness_secret(**kw_chain) == _b(v["randomnessSecret"])
        pair = dlv.delivery_key_pair(**kw_chain)
        assert pair.secret_key == int(v["deliverySecretKey"])
        assert pair.public_key.as_tuple() == (int(v["publicKeyX"]), int(v["publicKeyY"]))


def test_vectors_commitments_v2(vectors) -> None:
    """encoding.participant_commitment_v2 reproduces every commitment Foundry recomputes."""
    for v in vectors["commitments"]:
        got = enc.participant_commitment_v2(
            _b(v["secret"]),
            int(v["deliveryKeyX"]),
            int(v["deliveryKeyY"]),
            v["participant"],
            v["round"],
            int(v["chainId"]),
        )
        assert got == _b(v["commitment"])


def test_vectors_ciphers(vectors) -> None:
    """Keys, shared points, keystreams, ciphertexts and decryptions match every vector, for
    lengths 0, 1, 31, 32, 33, 63, 64, 65 and 2,700 bytes and the extreme scalars 1 and n-1."""
    lengths = {len(_b(v["plaintext"])) for v in vectors["ciphers"]}
    assert {0, 1, 31, 32, 33, 2700} <= lengths
    for v in vectors["ciphers"]:
        sk, e, plaintext = int(v["secretKey"]), int(v["ephemeralSecret"]), _b(v["plaintext"])
        pub = dlv.public_key(sk)
        assert pub.as_tuple() == (int(v["publicKeyX"]), int(v["publicKeyY"]))
        delivery = dlv.encrypt(plaintext=plaintext, recipient=pub, ephemeral_secret=e)
        assert delivery.ephemeral.as_tuple() == (int(v["ephemeralX"]), int(v["ephemeralY"]))
        assert delivery.ciphertext == _b(v["ciphertext"])
        shared = dlv.shared_point(sk, delivery.ephemeral)
        assert shared.as_tuple() == (int(v["sharedX"]), int(v["sharedY"]))
        assert dlv.keystream(shared, len(plaintext)) == _b(v["keystream"])
        assert dlv.decrypt(secret_key=sk, delivery=delivery) == plaintext


def test_vectors_invalid_points_and_scalars(vectors) -> None:
    """Every point and scalar Foundry refuses is refused here too, with the named error."""
    for v in vectors["invalidPoints"]:
        with pytest.raises(dlv.InvalidPointError):
            dlv.CurvePoint(int(v["x"]), int(v["y"]))
    for s in vectors["invalidScalars"]:
        with pytest.raises(dlv.InvalidScalarError):
            dlv.public_key(int(s))
        with pytest.raises(dlv.InvalidScalarError):
            dlv.shared_point(int(s), dlv.GENERATOR)


# ------------------------------------------------------------------------------------------
# Points, scalars and errors
# ------------------------------------------------------------------------------------------


def test_public_keys_agree_with_py_ecc_reference_curve() -> None:
    """public_key (Jacobian, optimized) equals py_ecc's plain affine bn128 implementation."""
    for sk in [1, 2, 3, 2**128 + 7, N // 2, N - 2, N - 1]:
        x, y = reference_curve.multiply(reference_curve.G1, sk)
        assert dlv.public_key(sk).as_tuple() == (int(x), int(y))
    assert dlv.public_key(N - 1).as_tuple() == (1, P - 2)


@pytest.mark.parametrize(
    ("x", "y", "words"),
    [
        (0, 0, "infinity"),
        (1, 3, "not on alt_bn128"),
        (1 + P, 2, "outside"),
        (1, 2 + P, "outside"),
        (-1, 2, "outside"),
        (True, 2, "outside"),
        (1.0, 2, "outside"),
    ],
)
def test_invalid_points_raise_a_named_error(x, y, words) -> None:
    """Off-curve, non-canonical, infinite or non-integer points raise InvalidPointError."""
    with pytest.raises(dlv.InvalidPointError, match=words) as info:
        dlv.CurvePoint(x, y)
    assert isinstance(info.value, ModelpactError)
    assert isinstance(info.value, ValueError)
    assert "\n" not in info.value.one_line()


@pytest.mark.parametrize("bad", [0, N, N + 1, -1, 2**256, True, "5"])
def test_invalid_scalars_raise_a_named_error(bad) -> None:
    """A secret key or ephemeral secret outside [1, n-1] (or not an int) is refused everywhere."""
    with pytest.raises(dlv.InvalidScalarError):
        dlv.public_key(bad)
    with pytest.raises(dlv.InvalidScalarError):
        dlv.shared_point(bad, dlv.GENERATOR)
    with pytest.raises(dlv.InvalidScalarError):
        dlv.encrypt(plaintext=b"m", recipient=dlv.GENERATOR, ephemeral_secret=bad)
    delivery = dlv.encrypt(plaintext=b"m", recipient=dlv.GENERATOR)
    with pytest.raises(dlv.InvalidScalarError):
        dlv.decrypt(secret_key=bad, delivery=delivery)


def test_non_point_and_non_bytes_arguments_are_refused() -> None:
    """A raw tuple where a CurvePoint belongs, or text where bytes belong, is a DeliveryError."""
    with pytest.raises(dlv.InvalidPointError):
        dlv.encrypt(plaintext=b"m", recipient=(1, 2))
    with pytest.raises(dlv.InvalidPointError):
        dlv.shared_point(5, (1, 2))
    with pytest.raises(dlv.DeliveryError, match="bytes"):
        dlv.encrypt(plaintext="text", recipient=dlv.GENERATOR)
    with pytest.raises(dlv.DeliveryError, match="length"):
        dlv.keystream(dlv.GENERATOR, -1)


# ------------------------------------------------------------------------------------------
# The cipher
# ------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(sk=scalars, e=scalars, plaintext=st.binary(max_size=200))
def test_decrypt_inverts_encrypt(sk, e, plaintext) -> None:
    """decrypt(encrypt(m)) == m, the ciphertext has m's length, and E = e*G."""
    delivery = dlv.encrypt(plaintext=plaintext, recipient=dlv.public_key(sk), ephemeral_secret=e)
    assert len(delivery.ciphertext) == len(plaintext)
    assert delivery.ephemeral == dlv.public_key(e)
    assert dlv.decrypt(secret_key=sk, delivery=delivery) == plaintext


@settings(max_examples=30, deadline=None)
@given(sk=scalars, wrong=scalars, plaintext=st.binary(min_size=32, max_size=100))
def test_wrong_key_never_yields_the_plaintext(sk, wrong, plaintext) -> None:
    """Another key gives another shared point, so 32+ bytes never decrypt to the plaintext."""
    if wrong == sk:
        wrong = sk % (N - 1) + 1
    delivery = dlv.encrypt(plaintext=plaintext, recipient=dlv.public_key(sk))
    assert dlv.decrypt(secret_key=wrong, delivery=delivery) != plaintext


def test_fresh_ephemeral_keys_differ_per_encryption() -> None:
    """Without an explicit e, each encryption of the same plaintext uses a new E and keystream."""
    pub = dlv.public_key(42)
    a = dlv.encrypt(plaintext=bytes(64), recipient=pub)
    b = dlv.encrypt(plaintext=bytes(64), recipient=pub)
    assert a.ephemeral != b.ephemeral
    assert a.ciphertext != b.ciphertext


def test_keystream_block_boundaries() -> None:
    """Byte i of the keystream is byte i % 32 of block i // 32, for lengths around 32 and 64."""
    shared = dlv.public_key(777)
    long = dlv.keystream(shared, 97)
    for length in [0, 1, 31, 32, 33, 63, 64, 65, 96, 97]:
        stream = dlv.keystream(shared, length)
        assert stream == long[:length]
        assert all(stream[i] == dlv.keystream_block(shared, i // 32)[i % 32] for i in range(length))
    assert dlv.apply_keystream(shared, b"") == b""


# ------------------------------------------------------------------------------------------
# Derivation
# ------------------------------------------------------------------------------------------


def _derive(key: bytes, rnd: str, chain: int) -> tuple[bytes, int]:
    kw = {"account_key": key, "round_address": rnd, "chain_id": chain}
    return dlv.randomness_secret(**kw), dlv.delivery_secret_key(**kw)


@settings(max_examples=40, deadline=None)
@given(
    key=account_keys, other_key=account_keys, rnd=addresses, other_rnd=addresses, chain=chain_ids
)
def test_derived_secrets_differ_across_accounts_rounds_and_chains(
    key, other_key, rnd, other_rnd, chain
) -> None:
    """Changing the account, the round or the chain changes both secrets; the same inputs
    (in any address case) give the same secrets; the delivery key is in [1, n-1]."""
    secret, sk = _derive(key, rnd, chain)
    assert 1 <= sk < N
    assert _derive(key, rnd.upper().replace("0X", "0x"), chain) == (secret, sk)
    variants = [(other_key, rnd, chain), (key, other_rnd, chain), (key, rnd, (chain + 1) % 2**256)]
    for variant, same in zip(variants, [other_key == key, other_rnd == rnd, False], strict=True):
        if not same:
            other_secret, other_sk = _derive(*variant)
            assert other_secret != secret
            assert other_sk != sk


def test_randomness_secret_and_delivery_key_are_domain_separated() -> None:
    """The two outputs of one round key are different values (distinct labels)."""
    secret, sk = _derive(ACCOUNT, ROUND, 1)
    assert int.from_bytes(secret, "big") != sk
    assert dlv.round_key(account_key=ACCOUNT, round_address=ROUND, chain_id=1) != secret


@pytest.mark.parametrize(
    ("key", "rnd", "chain", "words"),
    [
        (bytes(32), ROUND, 1, "32 non-zero bytes"),
        (ACCOUNT[:31], ROUND, 1, "32 non-zero bytes"),
        ("0x" + ACCOUNT.hex(), ROUND, 1, "must be bytes"),
        (ACCOUNT, "0x1234", 1, "not an address"),
        (ACCOUNT, ROUND, -1, "uint256"),
        (ACCOUNT, ROUND, 2**256, "uint256"),
    ],
)
def test_derivation_inputs_are_validated(key, rnd, chain, words) -> None:
    """A malformed account key, round address or chain id is a one-line DeliveryError."""
    with pytest.raises(dlv.DeliveryError, match=words):
        dlv.delivery_key_pair(account_key=key, round_address=rnd, chain_id=chain)


def test_commitment_v2_binds_the_delivery_key_and_differs_from_v1() -> None:
    """Another delivery key gives another commitment; v2 never equals today's commitment."""
    secret, who = enc.keccak256(b"s"), "0x" + "ab" * 20
    p1, p2 = dlv.public_key(5), dlv.public_key(6)
    c1 = enc.participant_commitment_v2(secret, p1.x, p1.y, who, ROUND, 1)
    assert c1 != enc.participant_commitment_v2(secret, p2.x, p2.y, who, ROUND, 1)
    assert c1 != enc.participant_commitment(secret, who, ROUND, 1)
    with pytest.raises(enc.EncodingError):
        enc.participant_commitment_v2(secret, -1, p1.y, who, ROUND, 1)
