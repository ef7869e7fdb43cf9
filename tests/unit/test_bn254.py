"""The integer alt_bn128 scalar multiplication agrees with py_ecc (the reference it replaced)."""

from __future__ import annotations

import random

import pytest
from py_ecc.fields import optimized_bn128_FQ as FQ
from py_ecc.optimized_bn128 import optimized_curve as reference

from modelpact import bn254

N = bn254.CURVE_ORDER
EDGE_SCALARS = [1, 2, 3, 15, 16, 17, 31, 2**128, 2**252, 2**253 + 1, N - 2, N - 1]


def _reference(point: tuple[int, int], scalar: int) -> tuple[int, int]:
    x, y = reference.normalize(reference.multiply((FQ(point[0]), FQ(point[1]), FQ.one()), scalar))
    return int(x), int(y)


def _scalars(count: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randrange(1, N) for _ in range(count)] + EDGE_SCALARS


def test_constants_are_py_ecc_s() -> None:
    """The field modulus and group order are the curve's (py_ecc's values)."""
    assert int(reference.field_modulus) == bn254.FIELD_MODULUS
    assert int(reference.curve_order) == bn254.CURVE_ORDER


def test_generator_table_matches_py_ecc_on_random_scalars() -> None:
    """k * G from the precomputed table equals py_ecc's k * G for random and edge scalars."""
    for k in _scalars(60, seed=1):
        assert bn254.multiply_generator(k) == _reference(bn254.GENERATOR, k), k


@pytest.mark.parametrize("seed", [2, 3])
def test_variable_base_matches_py_ecc_on_random_points(seed: int) -> None:
    """k * P (wNAF) equals py_ecc's k * P for random points P and random and edge scalars."""
    point = _reference(bn254.GENERATOR, random.Random(seed).randrange(1, N))
    for k in _scalars(25, seed=seed + 100):
        assert bn254.multiply(point, k) == _reference(point, k), k


def test_products_compose_like_diffie_hellman() -> None:
    """a * (b * G) == b * (a * G) == (a * b mod n) * G: what the delivery cipher relies on."""
    rng = random.Random(4)
    for _ in range(10):
        a, b = rng.randrange(1, N), rng.randrange(1, N)
        shared = bn254.multiply(bn254.multiply_generator(b), a)
        assert shared == bn254.multiply(bn254.multiply_generator(a), b)
        assert shared == bn254.multiply_generator(a * b % N)


def test_infinity_has_no_affine_form() -> None:
    """n * G is the point at infinity: refused rather than returned as bogus coordinates."""
    with pytest.raises(ValueError, match="infinity"):
        bn254.multiply(bn254.GENERATOR, N)


@pytest.mark.parametrize("k", [N + 1, 2 * N + 5, 2**256, 2**256 + 7, 2**300])
def test_scalars_past_the_order_match_py_ecc(k: int) -> None:
    """A scalar >= n (even >= 2**256, past the generator table's 64 windows) gives py_ecc's
    product, for G and for any point: never a truncated scalar's (a wrong point)."""
    point = _reference(bn254.GENERATOR, 987654321)
    assert bn254.multiply_generator(k) == _reference(bn254.GENERATOR, k)
    assert bn254.multiply(point, k) == _reference(point, k)


@pytest.mark.parametrize("k", [-1, -5, -(2**256)])
def test_negative_scalars_are_the_group_s_multiples(k: int) -> None:
    """A negative scalar is its residue mod n (py_ecc recurses forever on it): -k * P and
    (n - k) * P agree for G's table and the wNAF."""
    point = _reference(bn254.GENERATOR, 4242)
    assert bn254.multiply_generator(k) == _reference(bn254.GENERATOR, k % N)
    assert bn254.multiply(point, k) == _reference(point, k % N)


@pytest.mark.parametrize("k", [0, N, 2 * N])
def test_multiples_of_the_order_are_refused_for_the_table_too(k: int) -> None:
    """k = 0 (mod n) gives infinity: refused by both methods, never returned as coordinates."""
    with pytest.raises(ValueError, match="infinity"):
        bn254.multiply_generator(k)
    with pytest.raises(ValueError, match="infinity"):
        bn254.multiply(_reference(bn254.GENERATOR, 7), k)


@pytest.mark.parametrize(
    "point",
    [(1, 3), (0, 0), (bn254.FIELD_MODULUS + 1, 2), (1, 2 - bn254.FIELD_MODULUS), (5, 0)],
)
def test_points_off_the_curve_are_refused(point: tuple[int, int]) -> None:
    """An off-curve point (an invalid-curve attack: the formulas never use b, so k * (1, 3) is a
    product on y^2 = x^3 + 8 and leaks k modulo that curve's small factors), the infinity
    encoding (0, 0) or non-canonical coordinates are refused, not multiplied."""
    with pytest.raises(ValueError, match="not a point of alt_bn128"):
        bn254.multiply(point, 12345)
