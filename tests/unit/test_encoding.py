"""modelpact.encoding: fixed point, commitments, the draw rule, the curve and Merkle trees."""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelpact import encoding as enc

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "contracts" / "test" / "vectors" / "encoding.json"
WAD = enc.WAD


# ------------------------------------------------------------------------------------------
# Golden vectors (the same file Foundry checks)
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vectors() -> dict:
    return json.loads(VECTORS.read_text())


def _b(x: str) -> bytes:
    return bytes.fromhex(x[2:])


def test_vectors_commitments_and_seeds(vectors) -> None:
    """Python reproduces every committed commitment and draw seed (Foundry checks the same file)."""
    for v in vectors["commitments"]:
        got = enc.participant_commitment(
            _b(v["secret"]), v["participant"], v["round"], int(v["chainId"])
        )
        assert got == _b(v["commitment"])
    for v in vectors["coordinatorCommitments"]:
        got = enc.coordinator_commitment(
            _b(v["secret"]), v["coordinator"], _b(v["scenarioHash"]), int(v["chainId"])
        )
        assert got == _b(v["commitment"])
    for v in vectors["drawSeeds"]:
        got = enc.draw_seed(
            _b(v["coordinatorSecret"]), _b(v["participantSecret"]), v["round"], int(v["index"])
        )
        assert got == _b(v["seed"])


def test_vectors_merkle(vectors) -> None:
    """Leaves, root and every proof in the vectors come out of the Python tree and verify."""
    for v in vectors["leaves"]:
        assert enc.leaf_hash(int(v["index"]), [int(x) for x in v["values"]]) == _b(v["leaf"])
    rows = [[int(x) for x in r["values"]] for r in vectors["merkle"]["rows"]]
    root = _b(vectors["merkle"]["root"])
    assert enc.dataset_merkle_root(rows) == root
    for i, r in enumerate(vectors["merkle"]["rows"]):
        proof = [_b(p) for p in r["proof"]]
        assert enc.merkle_proof(rows, i) == proof
        assert enc.verify_proof(root, i, rows[i], proof)
        assert not enc.verify_proof(root, i, [*rows[i][:-1], rows[i][-1] + 1], proof)


def test_vectors_wad_targets_draws_curve(vectors) -> None:
    """WAD conversions, targets, draws (rung, accuracy, exact probability) and the curve."""
    for v in vectors["wad"]:
        assert enc.to_wad(float(v["text"])) == int(v["wad"])
    for v in vectors["targets"]:
        assert enc.target_accuracy(int(v["ratioWad"]), int(v["collectiveWad"])) == int(
            v["targetWad"]
        )
    for v in vectors["draws"]:
        tiers = [int(t) for t in v["tiers"]]
        args = (int(v["ratioWad"]), int(v["collectiveWad"]), tiers)
        a = enc.assign_rung(*args, _b(v["seed"]))
        assert (a.rung, a.accuracy_wad, a.target_wad) == (
            int(v["rung"]),
            int(v["accuracyWad"]),
            int(v["targetWad"]),
        )
        assert enc.hi_probability(*args) == Fraction(int(v["hiProbNum"]), int(v["hiProbDen"]))
    knots = list(
        zip(
            map(int, vectors["curve"]["dataCounts"]),
            map(int, vectors["curve"]["accuracies"]),
            strict=True,
        )
    )
    for q in vectors["curve"]["queries"]:
        assert enc.predicted_accuracy(knots, int(q["dataCount"])) == int(q["accuracyWad"])


def test_vectors_file_is_what_the_generator_writes(vectors) -> None:
    """The committed vectors equal a fresh run of contracts/test/vectors/generate.py."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen", VECTORS.with_name("generate.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build() == vectors


# ------------------------------------------------------------------------------------------
# Fixed point
# ------------------------------------------------------------------------------------------


def test_to_wad_reads_floats_as_their_decimal_and_floors() -> None:
    """0.1 is exactly 1e17 (not the binary float's 1e17 + 5); values floor to 1e-18."""
    assert enc.to_wad(0.1) == 10**17
    assert enc.to_wad(1) == WAD
    assert enc.to_wad(Fraction(1, 3)) == 333333333333333333
    assert enc.to_wad("0.0000000000000000019") == 1
    assert enc.from_wad(enc.to_wad(0.75)) == 0.75
    assert enc.from_wad_exact(5 * 10**17) == Fraction(1, 2)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), True, "x"])
def test_to_wad_rejects_what_the_contract_cannot_hold(bad) -> None:
    """Negative, non-finite and non-numeric inputs raise EncodingError with a hint."""
    with pytest.raises(enc.EncodingError) as info:
        enc.to_wad(bad)
    assert info.value.hint


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_to_wad_round_trips_within_one_unit(x: float) -> None:
    """from_wad(to_wad(x)) is within 1e-18 of x (relative to the float's own precision)."""
    n = enc.to_wad(x)
    assert Fraction(repr(x)) - Fraction(1, WAD) < enc.from_wad_exact(n) <= Fraction(repr(x))


# ------------------------------------------------------------------------------------------
# The draw
# ------------------------------------------------------------------------------------------

tier_lists = st.lists(st.integers(1, WAD - 1), max_size=8, unique=True).map(sorted)


@settings(max_examples=300, deadline=None)
@given(
    ratio=st.integers(0, WAD),
    collective=st.integers(1, WAD),
    tiers=tier_lists,
    seed=st.binary(min_size=32, max_size=32),
)
def test_draw_expectation_is_exactly_the_target(ratio, collective, tiers, seed) -> None:
    """lo <= target <= hi are neighbouring rungs, the drawn rung is one of them, and
    lo + (hi - lo) * P(hi) == target exactly; nobody gets more than the collective model."""
    tiers = [t for t in tiers if t < collective]
    b = enc.bracket(ratio, collective, tiers)
    rungs = [0, *tiers, collective]
    assert b.lo_accuracy_wad <= b.target_wad <= b.hi_accuracy_wad <= collective
    if b.target_wad:
        assert b.hi_rung == b.lo_rung + 1
        assert rungs[b.hi_rung] == b.hi_accuracy_wad
        assert rungs[b.lo_rung] == b.lo_accuracy_wad
    p = enc.hi_probability(ratio, collective, tiers)
    assert 0 <= p <= 1
    expected = b.lo_accuracy_wad + (b.hi_accuracy_wad - b.lo_accuracy_wad) * p
    assert expected == b.target_wad
    a = enc.assign_rung(ratio, collective, tiers, seed)
    assert a.accuracy_wad in (b.lo_accuracy_wad, b.hi_accuracy_wad)
    assert a.accuracy_wad <= collective


def test_draw_frequency_follows_the_residue_rule() -> None:
    """Over all residues r in [0, hi - lo), exactly target - lo of them pick the upper rung."""
    tiers = [3, 10]
    hits = 0
    for r in range(10 - 3):
        seed = r.to_bytes(32, "big")
        hits += enc.assign_rung(WAD // 2, 14, tiers, seed).rung == 2
    assert hits == 7 - 3  # target = 7, lo = 3


def test_bracket_rejects_tiers_the_contract_would_reject() -> None:
    """A tier at the collective accuracy, or out of order, is an EncodingError."""
    with pytest.raises(enc.EncodingError):
        enc.bracket(WAD, 10, [10])
    with pytest.raises(enc.EncodingError):
        enc.bracket(WAD, 10, [5, 4])
    with pytest.raises(enc.EncodingError):
        enc.bracket(WAD + 1, 10, [])


# ------------------------------------------------------------------------------------------
# Curve
# ------------------------------------------------------------------------------------------


def test_predicted_accuracy_shape() -> None:
    """0 without knots, linear from (0,0) to the first knot, flat beyond the last."""
    assert enc.predicted_accuracy([], 123) == 0
    knots = [(100, 5 * 10**17), (200, 4 * 10**17)]
    assert enc.predicted_accuracy(knots, 50) == 25 * 10**16
    assert enc.predicted_accuracy(knots, 150) == 45 * 10**16
    assert enc.predicted_accuracy(knots, 10**9) == 4 * 10**17
    # falling segment rounds toward the left knot: 0.5 - floor(0.1 * 1/3) in WAD
    assert enc.predicted_accuracy(knots, 100 + 1) == 5 * 10**17 - 10**17 // 100


# ------------------------------------------------------------------------------------------
# Merkle trees against @openzeppelin/merkle-tree (node)
# ------------------------------------------------------------------------------------------

_JS = """
const { StandardMerkleTree } = require(process.argv[1]);
const rows = JSON.parse(require("fs").readFileSync(0, "utf8"));
const values = rows.map((r, i) => [String(i), r.map(String)]);
const tree = StandardMerkleTree.of(values, ["uint256", "int256[]"]);
const proofs = rows.map((_, i) => tree.getProof(i));
process.stdout.write(JSON.stringify({ root: tree.root, proofs }));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 33])
def test_merkle_tree_matches_openzeppelin_js(n: int) -> None:
    """Root and every proof equal those of @openzeppelin/merkle-tree's StandardMerkleTree."""
    rows = [[i * 7 - 20, -(2**255) if i == 1 else i, 2**255 - 1 - i] for i in range(n)]
    package = ROOT / "node_modules" / "@openzeppelin" / "merkle-tree"
    out = subprocess.run(
        ["node", "-e", _JS, str(package)],
        input=json.dumps([[str(v) for v in r] for r in rows]),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    js = json.loads(out.stdout)
    tree = enc.StandardMerkleTree.of(rows)
    assert "0x" + tree.root.hex() == js["root"]
    for i in range(n):
        assert ["0x" + p.hex() for p in tree.proof(i)] == js["proofs"][i]


def test_merkle_rejects_bad_input() -> None:
    """Empty datasets, non-integer values and out-of-range rows are EncodingErrors."""
    with pytest.raises(enc.EncodingError):
        enc.dataset_merkle_root([])
    with pytest.raises(enc.EncodingError):
        enc.dataset_merkle_root([[0.5]])  # type: ignore[list-item]
    with pytest.raises(enc.EncodingError):
        enc.merkle_proof([[1]], 1)


def test_quantise_rows_floors_at_1e6() -> None:
    """Floats become floor(x * 1e6), read from their decimal repr."""
    assert enc.quantise_rows([[0.1, -0.5, 1.0000004, -1e-7]]) == ((100000, -500000, 1000000, -1),)


def test_secrets_and_hashes() -> None:
    """random_secret gives distinct non-zero 32-byte values; model_hash is keccak256."""
    a, b = enc.random_secret(), enc.random_secret()
    assert len(a) == 32
    assert a != b
    assert any(a)
    assert enc.model_hash(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    with pytest.raises(enc.EncodingError):
        enc.participant_commitment(b"short", "0x" + "11" * 20, "0x" + "22" * 20, 1)


# ------------------------------------------------------------------------------------------
# ModelpactRound v2 (new names next to the v1 ones; the same vectors file Foundry checks)
# ------------------------------------------------------------------------------------------


def test_vectors_v2_leaves_and_proofs(vectors) -> None:
    """The address-bound data-root tree matches the vectors; a copier's address proves nothing.

    (The commitment carrying the delivery key is checked with delivery.json in test_delivery.)"""
    for v in vectors["v2Leaves"]:
        values = [int(x) for x in v["values"]]
        leaf = enc.participant_leaf_hash(v["participant"], int(v["index"]), values)
        assert leaf == _b(v["leaf"])
    m = vectors["v2Merkle"]
    rows = [[int(x) for x in r["values"]] for r in m["rows"]]
    root = _b(m["root"])
    assert enc.participant_dataset_root(m["participant"], rows) == root
    assert enc.participant_dataset_root(m["copier"], rows) == _b(m["copierRoot"]) != root
    for i, r in enumerate(m["rows"]):
        proof = [_b(p) for p in r["proof"]]
        assert enc.participant_merkle_proof(m["participant"], rows, i) == proof
        assert enc.verify_participant_proof(root, m["participant"], i, rows[i], proof)
        assert not enc.verify_participant_proof(root, m["copier"], i, rows[i], proof)


def test_vectors_v2_counts_ratios_money(vectors) -> None:
    """Exact-count accuracies, ratios and the money rules match the vectors."""
    for v in vectors["v2Counts"]:
        acc = enc.accuracy_of_count(int(v["count"]), int(v["testRowCount"]))
        assert acc == int(v["accuracyWad"])
        assert enc.count_of_accuracy(acc, int(v["testRowCount"])) == int(v["count"])
    for v in vectors["v2Ratios"]:
        t, t_bar, ratio = int(v["promisedValueWad"]), int(v["budgetValueWad"]), int(v["ratioWad"])
        assert enc.option_ratio_wad(t, t_bar) == ratio
        assert enc.promise_consistent(ratio, t, t_bar)
    for v in vectors["v2Money"]:
        bond, d = int(v["coordinatorBond"]), int(v["delivered"])
        assert enc.fraud_reward(bond) == int(v["fraudReward"])
        allotted = enc.allot(bond, d)
        assert allotted == int(v["allot"])
        s = enc.curve_shortfall(
            int(v["predictedWad"]), int(v["measuredWad"]), int(v["toleranceWad"])
        )
        assert s == int(v["shortfallWad"])
        comp = enc.curve_compensation(int(v["ratioWad"]), s, int(v["weiPerWad"]), allotted)
        assert comp == int(v["compensation"])
    for v in vectors["v2Shares"]:
        share = enc.forfeit_share(int(v["forfeited"]), int(v["bond"]), int(v["recipients"]))
        assert share == int(v["share"])


@settings(deadline=None, max_examples=200)
@given(
    bond=st.integers(0, 2**96 - 1),
    delivered=st.integers(1, 2**32 - 1),
    ratio=st.integers(0, WAD),
    shortfall=st.integers(0, WAD),
    rho=st.integers(0, 2**160),
)
def test_v2_entitlements_fit_the_bond(bond, delivered, ratio, shortfall, rho) -> None:
    """Each curve compensation is at most the allot, and d allots plus the fraud reward fit B."""
    allotted = enc.allot(bond, delivered)
    assert enc.curve_compensation(ratio, shortfall, rho, allotted) <= allotted
    assert delivered * allotted + enc.fraud_reward(bond) <= bond


@settings(deadline=None, max_examples=200)
@given(rows=st.integers(1, WAD), data=st.data())
def test_v2_accuracy_of_count_is_injective_and_invertible(rows, data) -> None:
    """For T <= 1e18 every count has its own accuracy, and the count is recovered from it."""
    count = data.draw(st.integers(0, rows))
    acc = enc.accuracy_of_count(count, rows)
    assert enc.count_of_accuracy(acc, rows) == count
    if count < rows:
        assert enc.accuracy_of_count(count + 1, rows) > acc


def test_v2_bad_inputs_raise_encoding_errors() -> None:
    """Values the v2 contract would refuse raise EncodingError with a hint, not a wrong answer."""
    with pytest.raises(enc.EncodingError):
        enc.accuracy_of_count(5, 4)
    with pytest.raises(enc.EncodingError):
        enc.accuracy_of_count(1, 0)
    with pytest.raises(enc.EncodingError):
        enc.count_of_accuracy(10**18 // 3 + 5, 3)
    with pytest.raises(enc.EncodingError):
        enc.allot(10**18, 0)
    assert not enc.promise_consistent(1, 0, 0)
    assert not enc.promise_consistent(10**18, 2, 1)
    assert not enc.promise_consistent(6 * 10**17 + 2, 48, 80)
    assert enc.promise_consistent(6 * 10**17 - 1, 48, 80)
    assert enc.option_ratio_wad(0, 0) == 0
    with pytest.raises(enc.EncodingError):
        enc.StandardMerkleTree.of_participant("0x" + "11" * 20, [])


@settings(max_examples=200, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=2**256 - 1),
    values=st.lists(st.integers(min_value=-(2**255), max_value=2**255 - 1), max_size=12),
)
def test_direct_leaf_encoding_equals_eth_abi(index: int, values: list[int]) -> None:
    """The leaves are encoded without eth_abi (for speed); every digest equals
    keccak(keccak(eth_abi.encode(...))) of both leaf layouts, negative words and the int256 and
    uint256 extremes included."""
    from eth_abi.abi import encode
    from eth_hash.auto import keccak

    who = "0x" + "5a" * 20
    assert enc.leaf_hash(index, values) == keccak(
        keccak(encode(["uint256", "int256[]"], [index, values]))
    )
    assert enc.participant_leaf_hash(who, index, values) == keccak(
        keccak(
            encode(
                ["address", "uint256", "int256[]"], [enc.to_checksum_address(who), index, values]
            )
        )
    )


def test_packed_eval_log_round_trips_and_refuses_what_does_not_fit() -> None:
    """pack_eval_log writes 3 big-endian bytes per row (uint8 label, uint16 count) and
    unpack_eval_log reads them back; a label or count beyond those widths is refused."""
    entries = ((0, 0), (9, 1), (255, 65535))
    packed = enc.pack_eval_log(entries)
    assert packed == bytes([0, 0, 0, 9, 0, 1, 255, 255, 255])
    assert enc.unpack_eval_log(packed, 3) == entries
    with pytest.raises(enc.EncodingError):
        enc.pack_eval_log([(256, 0)])
    with pytest.raises(enc.EncodingError):
        enc.pack_eval_log([(0, 65536)])
    with pytest.raises(enc.EncodingError):
        enc.unpack_eval_log(packed, 2)


# ------------------------------------------------------------------------------------------
# Integer arrays: every row encoded at once, roots remembered by content
# ------------------------------------------------------------------------------------------

_INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@settings(max_examples=100, deadline=None)
@given(
    rows=st.integers(min_value=1, max_value=9).flatmap(
        lambda n: st.integers(min_value=0, max_value=6).flatmap(
            lambda f: st.lists(st.lists(_INT64, min_size=f, max_size=f), min_size=n, max_size=n)
        )
    )
)
def test_array_trees_equal_the_per_row_trees(rows: list[list[int]]) -> None:
    """A 2-D int64 array (encoded for all rows at once by numpy) gives the very tree of its
    rows as lists (the path checked against the golden vectors and eth_abi): v1 and v2 roots
    and every proof, negative words and the int64 extremes included, whatever was cached."""
    import numpy as np

    who = "0x" + "5a" * 20
    arr = np.array(rows, dtype=np.int64).reshape(len(rows), len(rows[0]))
    enc._ROOTS.clear()
    for _ in range(2):  # computed, then remembered
        assert enc.dataset_merkle_root(arr) == enc.StandardMerkleTree.of(rows).root
        assert enc.participant_dataset_root(who, arr) == (
            enc.StandardMerkleTree.of_participant(who, rows).root
        )
    assert enc.StandardMerkleTree.of(arr) == enc.StandardMerkleTree.of(rows)
    assert enc.StandardMerkleTree.of_participant(who, arr) == (
        enc.StandardMerkleTree.of_participant(who, rows)
    )
    narrow = (arr % 1000).astype(np.int16)  # any integer dtype: the values, not the bytes
    assert enc.dataset_merkle_root(narrow) == enc.dataset_merkle_root(narrow.tolist())


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_array_tree_matches_openzeppelin_js() -> None:
    """An int64 array's root and proofs equal @openzeppelin/merkle-tree's StandardMerkleTree."""
    import numpy as np

    rows = [[i * 7 - 20, -(2**63) if i == 1 else i, 2**63 - 1 - i, -1] for i in range(11)]
    package = ROOT / "node_modules" / "@openzeppelin" / "merkle-tree"
    out = subprocess.run(
        ["node", "-e", _JS, str(package)],
        input=json.dumps([[str(v) for v in r] for r in rows]),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    js = json.loads(out.stdout)
    tree = enc.StandardMerkleTree.of(np.array(rows, dtype=np.int64))
    assert "0x" + tree.root.hex() == js["root"]
    assert "0x" + enc.dataset_merkle_root(np.array(rows, dtype=np.int64)).hex() == js["root"]
    for i in range(len(rows)):
        assert ["0x" + p.hex() for p in tree.proof(i)] == js["proofs"][i]


def test_remembered_roots_are_keyed_by_content_and_address() -> None:
    """A remembered root is only ever returned for the same address and the same values: a
    changed cell (in place, same array object), another shape or another participant gets its
    own root, equal to a fresh computation."""
    import numpy as np

    a, b = "0x" + "11" * 20, "0x" + "22" * 20
    rows = np.arange(12, dtype=np.int64).reshape(4, 3)
    first = enc.participant_dataset_root(a, rows)
    assert enc.participant_dataset_root(b, rows) != first
    assert enc.participant_dataset_root(a.upper().replace("0X", "0x"), rows) == first
    rows[2, 1] += 1  # the same object, other content
    changed = enc.participant_dataset_root(a, rows)
    assert changed != first
    assert changed == enc.StandardMerkleTree.of_participant(a, rows.tolist()).root
    assert enc.participant_dataset_root(a, rows.reshape(3, 4)) != changed
    assert enc.dataset_merkle_root(rows) != changed  # v1 and v2 trees never share an entry


def test_arrays_the_encoding_cannot_take_whole_are_checked_per_row() -> None:
    """Bool, float and empty arrays, and uint64 values above int64, are not encoded as words:
    bools and floats are refused as before, large unsigned values are encoded exactly."""
    import numpy as np

    with pytest.raises(enc.EncodingError):
        enc.dataset_merkle_root(np.array([[True, False]]))
    with pytest.raises(enc.EncodingError):
        enc.participant_dataset_root("0x" + "11" * 20, np.array([[0.5, 1.0]]))
    with pytest.raises(enc.EncodingError):
        enc.dataset_merkle_root(np.zeros((0, 3), dtype=np.int64))
    big = np.array([[2**64 - 1, 0]], dtype=np.uint64)
    assert enc.dataset_merkle_root(big) == enc.dataset_merkle_root([[2**64 - 1, 0]])


def test_keccak_backends_agree() -> None:
    """The fast keccak (safe-pysha3) and eth_hash's give the same digests (bytes, views)."""
    from eth_hash.auto import keccak

    for data in (b"", b"abc", bytes(range(256)) * 9):
        assert enc.keccak(data) == enc.keccak(memoryview(data)) == keccak(data)


def test_eth_hash_hashes_with_pysha3_once_encoding_is_imported() -> None:
    """Importing modelpact.encoding points eth_hash's automatic backend (what web3 and eth_utils
    hash with) at safe-pysha3, also after eth_hash has hashed, with the same digests; an
    ETH_HASH_BACKEND the user set still wins, and no environment variable is set."""
    import os
    import sys

    code = (
        "import os; from eth_utils.crypto import keccak; before = keccak(b'abc'); "
        "import modelpact.encoding; import eth_hash.auto as a; "
        "print(type(a.keccak.hasher.__self__).__name__, keccak(b'abc') == before, "
        "keccak(b'').hex()[:8], 'ETH_HASH_BACKEND' in os.environ)"
    )
    for chosen, backend in ((None, "PySha3Backend"), ("pycryptodome", "CryptodomeBackend")):
        env = {k: v for k, v in os.environ.items() if k != "ETH_HASH_BACKEND"}
        if chosen is not None:
            env["ETH_HASH_BACKEND"] = chosen
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert done.stdout.split() == [backend, "True", "c5d24601", str(chosen is not None)]
