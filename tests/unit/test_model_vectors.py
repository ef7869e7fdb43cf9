"""Golden vectors of canonical models and evaluation logs (the file Foundry checks in
contracts/test/ModelEval.vectors.t.sol), reproduced from modelpact.encoding."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from modelpact import encoding as enc
from modelpact.ml import canonical as cn

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "contracts" / "test" / "vectors" / "models.json"
GENERATOR = ROOT / "contracts" / "test" / "vectors" / "generate_models.py"


@pytest.fixture(scope="module")
def vectors() -> dict:
    return json.loads(VECTORS.read_text())


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_models", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _b(x: str) -> bytes:
    return bytes.fromhex(x[2:])


def test_vectors_file_is_what_the_generator_writes(vectors, generator) -> None:
    """Regenerating from the committed digits model bytes (training is platform-dependent, so
    those are inputs) gives the committed file exactly: every prediction, root, proof and
    well-formedness flag Foundry checks comes from the current Python code."""
    models = vectors["models"]
    digits = {
        name: _b(data)
        for name, data, row_set in zip(
            models["name"], models["bytes"], models["rowSet"], strict=True
        )
        if row_set == 0
    }
    assert len(digits) == 4
    assert json.loads(generator.dump(generator.build(digits))) == vectors


def test_vectors_predictions_roots_and_proofs(vectors) -> None:
    """Each model's rows predict as recorded (pure Python and the numpy fast path), its log has
    the recorded root and final count, every recorded proof verifies; over 1,000 rows in all."""
    models = vectors["models"]
    total = 0
    for i, name in enumerate(models["name"]):
        data = _b(models["bytes"][i])
        rows = vectors["rowSets"][models["rowSet"][i]]
        assert enc.model_hash(data) == _b(models["hash"][i]), name
        model = enc.decode_integer_model(data, features=models["features"][i])
        want = models["predictions"][i]
        assert [enc.predict_label(model, row[:-1]) for row in rows] == want, name
        assert cn.predict_rows(model, [row[:-1] for row in rows]).tolist() == want, name
        entries = enc.eval_log_entries(want, [row[-1] for row in rows])
        assert enc.EvalLogTree.of(entries).root == _b(models["logRoot"][i]), name
        assert entries[-1][1] == models["correct"][i]
        total += len(rows)
    assert total >= 1000
    proofs = vectors["proofs"]
    for k, i in enumerate(proofs["model"]):
        root, t = _b(models["logRoot"][i]), len(models["predictions"][i])
        args = (proofs["index"][k], proofs["predicted"][k], proofs["count"][k])
        siblings = [_b(s) for s in proofs["siblings"][k]]
        assert enc.eval_log_leaf(*args) == _b(proofs["leaf"][k])
        assert enc.verify_eval_log_leaf(root, t, *args, siblings)


def test_vectors_malformed_and_out_of_range(vectors) -> None:
    """Python's well-formedness equals the recorded flag (which Foundry checks against
    ModelEval.wellFormed); malformed bytes fail to decode with a message; out-of-range rows are
    refused naming the feature, where ModelEval reverts FeatureOutOfRange."""
    m = vectors["malformed"]
    for why, data, features, ok in zip(
        m["why"], m["model"], m["features"], m["wellFormed"], strict=True
    ):
        assert enc.integer_model_well_formed(_b(data), features) is ok, why
        if not ok:
            with pytest.raises(enc.MalformedModelError):
                enc.decode_integer_model(_b(data), features=features)
    assert sum(m["wellFormed"]) == 4  # 2x1, 2x3 and the two largest (review A, attack 4)
    for why, ok in zip(m["why"], m["wellFormed"], strict=True):
        assert ok is why.startswith(("valid", "largest")), why
    r = vectors["outOfRange"]
    for row, index in zip(r["rows"], r["index"], strict=True):
        with pytest.raises(enc.EncodingError, match=f"feature {index} is"):
            enc.predict_label(_b(r["model"]), row)
