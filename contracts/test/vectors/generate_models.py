"""Regenerate the golden vectors of canonical models and evaluation logs (issue 14).

Run: .venv/bin/python contracts/test/vectors/generate_models.py   (writes models.json next to it)

Checked by Foundry (contracts/test/ModelEval.vectors.t.sol: ModelEval and EvalLog against every
vector) and by pytest (tests/unit/test_model_vectors.py: modelpact.encoding reproduces every
output from the inputs in the file). The digits models are trained with scikit-learn; their bytes
are inputs here (training is deterministic only per platform), everything else is derived from
labels by keccak256, so a re-run gives the same file on this machine.

Contents: real digits models (10-class, two-class with absent classes, constant) on the 360 public
test rows; synthetic models with weights, biases and features at their bounds, ties, every
feature count around the 16-weight word boundary, negative and never-predicted labels; for each
model its predictions, evaluation-log root and proofs; small logs with every proof; malformed
model bytes; rows outside int64.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from modelpact import encoding as enc
from modelpact.ml import datasets as ds
from modelpact.ml import models as md

OUT = Path(__file__).with_name("models.json")
I64 = (-(2**63), 2**63 - 1)
I16 = (-(2**15), 2**15 - 1)


def r(label: str, i: int) -> int:
    return int.from_bytes(enc.keccak256(f"{label}/{i}".encode()), "big")


def hx(b: bytes) -> str:
    return "0x" + b.hex()


def pick(label: str, i: int, bounds: tuple[int, int], small: int) -> int:
    """A value in ``bounds``: one in eight each the minimum, the maximum, zero, a small value."""
    v = r(label, i)
    kind = v % 8
    if kind < 3:
        return (bounds[0], bounds[1], 0)[kind]
    if kind == 3:
        return v % (2 * small + 1) - small
    return bounds[0] + (v >> 8) % (bounds[1] - bounds[0] + 1)


def synthetic(label: str, c: int, f: int) -> enc.IntegerModel:
    biases = tuple(pick(f"{label}/b", k, I64, 1000) for k in range(c))
    weights = tuple(
        tuple(pick(f"{label}/w{k}", j, I16, 50) for j in range(f)) for k in range(c)
    )
    return enc.IntegerModel(biases=biases, weights=weights, scale_log2=r(label, 0) % 256 - 128)


def rows_for(label: str, model: enc.IntegerModel, n: int) -> list[list[int]]:
    out = []
    for i in range(n):
        x = [pick(f"{label}/x{i}", j, I64, 16) for j in range(model.features)]
        # labels: mostly 0..C (C is never predicted), sometimes negative (never correct)
        y = r(f"{label}/y", i) % (model.classes + 1) if i % 7 else -1 - i
        out.append([*x, y])
    return out


def tied(c: int, f: int) -> enc.IntegerModel:
    """Classes 1 and c-1 identical and dominant (tie: 1 wins); class 0 all zero."""
    row = tuple(pick("tie/w", j, (-50, 50), 50) for j in range(f))
    weights = [(0,) * f] + [row if k in (1, c - 1) else tuple(-v for v in row) for k in range(1, c)]
    biases = [0] + [10**6 if k in (1, c - 1) else 0 for k in range(1, c)]
    return enc.IntegerModel(biases=tuple(biases), weights=tuple(weights), scale_log2=0)


def evaluate(name: str, data: bytes, rows: list[list[int]], row_set: int) -> dict[str, object]:
    """One model on one row set: predictions, the log's root and its proofs at a few rows."""
    model = enc.decode_integer_model(data, features=len(rows[0]) - 1)
    predicted = [enc.predict_label(model, row[:-1]) for row in rows]
    entries = enc.eval_log_entries(predicted, [row[-1] for row in rows])
    tree = enc.EvalLogTree.of(entries)
    t = len(rows)
    sample = sorted({0, 1, t // 2, t - 2, t - 1} & set(range(t)))
    return {
        "name": name, "bytes": hx(data), "hash": hx(enc.model_hash(data)), "classes": model.classes,
        "features": model.features, "rowSet": row_set, "predictions": predicted,
        "correct": entries[-1][1], "accuracyWad": entries[-1][1] * enc.WAD // t, "logRoot": hx(tree.root),
        "proofs": [(j, *entries[j], hx(enc.eval_log_leaf(j, *entries[j])), [hx(p) for p in tree.proof(j)])
                   for j in sample],
    }


def digits_models() -> dict[str, bytes]:
    split = ds.split_test(ds.digits_rows(), test_size=360, seed=0)
    pool = split.pool
    binary = pool[np.isin(ds.labels(pool), [3, 8])][:80]
    return {
        "digits-collective": md.train_model_bytes(pool, seed=0),
        "digits-40-rows": md.train_model_bytes(pool[:40], seed=1),
        "digits-3-vs-8": md.train_model_bytes(binary, seed=0),
        "digits-constant-7": md.train_model_bytes(pool[ds.labels(pool) == 7][:5], seed=0),
    }


def synthetic_models() -> list[tuple[str, bytes, list[list[int]]]]:
    """(name, bytes, rows): bounds, word boundaries (15, 16, 17, 31, 32, 33 features), ties."""
    out = []
    shapes = [(2, 1), (3, 5), (4, 15), (2, 16), (5, 17), (3, 31), (2, 32), (6, 33), (10, 64), (7, 3)]
    for i, (c, f) in enumerate(shapes):
        model = synthetic(f"synthetic-{i}", c, f)
        out.append((f"synthetic-{c}x{f}", enc.encode_integer_model(model), rows_for(f"synthetic-{i}", model, 40)))
    for c, f in [(3, 4), (6, 20)]:
        model = tied(c, f)
        rows = rows_for(f"tie-{c}x{f}", model, 30)
        rows[0] = [0] * f + [1]  # every score 0 except the tied pair's bias: class 1 wins
        out.append((f"tie-{c}x{f}", enc.encode_integer_model(model), rows))
    zero = enc.IntegerModel(biases=(0, 0, 0), weights=((0, 0), (0, 0), (0, 0)))
    out.append(("all-tied", enc.encode_integer_model(zero), [[I64[0], I64[1], 2], [I64[1], I64[0], 0], [0, 0, 0]]))
    return out


def columns(records: list[dict[str, object]], keys: list[str]) -> dict[str, list[object]]:
    return {k: [rec[k] for rec in records] for k in keys}


def model_vectors(digits: dict[str, bytes], test_rows: list[list[int]]) -> dict[str, object]:
    """Columns (Foundry decodes at most two levels of arrays per call): one entry per model."""
    row_sets = [test_rows]
    records = [evaluate(name, data, test_rows, 0) for name, data in digits.items()]
    for name, data, rows in synthetic_models():
        row_sets.append(rows)
        records.append(evaluate(name, data, rows, len(row_sets) - 1))
    keys = ["name", "bytes", "hash", "classes", "features", "rowSet", "predictions", "correct",
            "accuracyWad", "logRoot"]
    proofs = [(m, *p) for m, rec in enumerate(records) for p in rec["proofs"]]
    return {
        "rowSets": row_sets,
        "models": columns(records, keys),
        "proofs": {k: [p[i] for p in proofs] for i, k in enumerate(["model", "index", "predicted", "count", "leaf", "siblings"])},
    }


def small_logs() -> dict[str, object]:
    logs, leaves = [], []
    for n, t in enumerate((1, 2, 3, 4, 5, 7, 8, 9, 17)):
        entries = [(r(f"log-{t}/p", j) % 11, r(f"log-{t}/c", j)) for j in range(t)]
        if t == 9:
            entries[8] = (2**256 - 1, 2**256 - 1)
        tree = enc.EvalLogTree.of(entries)
        logs.append({"rowCount": t, "root": hx(tree.root)})
        leaves += [{"log": n, "index": j, "predicted": p, "count": c, "leaf": hx(enc.eval_log_leaf(j, p, c)),
                    "siblings": [hx(x) for x in tree.proof(j)]} for j, (p, c) in enumerate(entries)]
    return {"logs": columns(logs, ["rowCount", "root"]),
            "logLeaves": columns(leaves, ["log", "index", "predicted", "count", "leaf", "siblings"])}


def at_size(c: int, f: int) -> bytes:
    """Canonical-layout bytes of C x F (header and exact length, zero body), in bounds or not."""
    sizes = c.to_bytes(2, "big") + f.to_bytes(2, "big")
    head = enc.MODEL_MAGIC + bytes([enc.MODEL_VERSION]) + sizes
    return head + bytes(1 + c * (8 + 2 * f))


def malformed() -> dict[str, list[object]]:
    good = enc.encode_integer_model(enc.IntegerModel(biases=(1, -1), weights=((5,), (-5,))))
    two_by_three = enc.encode_integer_model(synthetic("malformed", 2, 3))
    cases = [
        ("valid 2x1", good, 1),
        ("valid 2x3", two_by_three, 3),
        ("empty", b"", 0),
        ("nine bytes", good[:9], 1),
        ("header only", good[:10], 1),
        ("magic", b"MPIN" + good[4:], 1),
        ("lowercase magic", b"mpim" + good[4:], 1),
        ("version 0", good[:4] + b"\x00" + good[5:], 1),
        ("version 2", good[:4] + b"\x02" + good[5:], 1),
        ("zero classes", good[:5] + b"\x00\x00" + good[7:], 1),
        ("one class", good[:5] + b"\x00\x01" + good[7:], 1),
        ("zero features", good[:7] + b"\x00\x00" + good[9:], 0),
        ("features differ", good, 2),
        ("features equal modulo 2**16", good, 1 + 2**16),
        ("truncated", good[:-1], 1),
        ("trailing byte", good + b"\x00", 1),
        ("trailing word", good + bytes(32), 1),
        ("classes 65535, short body", good[:5] + b"\xff\xff" + good[7:], 1),
        ("features 65535, short body", good[:7] + b"\xff\xff" + good[9:], 2**16 - 1),
        ("classes read as 513", good[:5] + b"\x02\x01" + good[7:], 1),
        # size bounds (review A, attack 4): C <= 256, F <= 1024, C x F <= 32,768
        ("largest: 256 classes x 128 features", at_size(256, 128), 128),
        ("largest: 32 classes x 1024 features", at_size(32, 1024), 1024),
        ("257 classes x 1 feature", at_size(257, 1), 1),
        ("2 classes x 1025 features", at_size(2, 1025), 1025),
        ("33 classes x 1000 features (C x F over 32,768)", at_size(33, 1000), 1000),
    ]
    records = [{"why": why, "model": hx(data), "features": f, "wellFormed": enc.integer_model_well_formed(data, f)}
               for why, data, f in cases]
    return columns(records, ["why", "model", "features", "wellFormed"])


def out_of_range() -> dict[str, object]:
    model = enc.encode_integer_model(synthetic("range", 2, 3))
    cases = [(0, I64[1] + 1), (2, I64[0] - 1), (1, 2**255 - 1), (1, -(2**255))]
    rows = [[value if j == index else 0 for j in range(3)] for index, value in cases]
    return {"model": hx(model), "rows": rows, "index": [i for i, _ in cases], "value": [v for _, v in cases]}


def build(digits: dict[str, bytes] | None = None) -> dict[str, object]:
    """The whole file; ``digits`` (name -> model bytes) re-uses committed digits models, so
    everything but the training is recomputed (tests/unit/test_model_vectors.py does this)."""
    split = ds.split_test(ds.digits_rows(), test_size=360, seed=0)
    return {
        "format": {"magic": hx(enc.MODEL_MAGIC), "version": enc.MODEL_VERSION, "headerBytes": enc.MODEL_HEADER_BYTES},
        **model_vectors(digits if digits is not None else digits_models(), split.test.tolist()),
        **small_logs(),
        "malformed": malformed(),
        "outOfRange": out_of_range(),
    }


def dump(doc: dict[str, object]) -> str:
    """JSON with one line per second-level key (diffable without a line per number)."""
    def compact(v: object) -> str:
        return json.dumps(v, separators=(",", ":"))

    parts = []
    for key, value in doc.items():
        if isinstance(value, dict):
            inner = ",\n".join(f"  {compact(k)}: {compact(v)}" for k, v in value.items())
            parts.append(f" {compact(key)}: {{\n{inner}\n }}")
        else:
            parts.append(f" {compact(key)}: {compact(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


if __name__ == "__main__":
    OUT.write_text(dump(build()))
    print(f"wrote {OUT}")
