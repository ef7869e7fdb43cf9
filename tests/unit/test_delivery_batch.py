"""The coordinator's delivery batch encrypts over forked workers exactly as in one process."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelpact import delivery as dc
from modelpact.encoding import keccak256
from modelpact.ml.models import MODEL_SUFFIX
from modelpact.round import chain_delivery as cd


def _store(directory: Path, data: bytes) -> str:
    name = "0x" + keccak256(data).hex()
    (directory / f"{name}{MODEL_SUFFIX}").write_bytes(data)
    return name


@pytest.mark.parametrize("fork_from", [1, 10**9])
def test_each_model_decrypts_for_its_recipient_with_a_fresh_ephemeral_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fork_from: int
) -> None:
    """Forked or not, every sealed model decrypts with its recipient's key to the stored bytes,
    in the order of the batch, and no two deliveries share an ephemeral key (the workers draw
    their secrets from the OS, not from a random state copied at the fork)."""
    monkeypatch.setattr(cd, "_FORK_FROM_DELIVERIES", fork_from)
    secrets = [dc.random_scalar() for _ in range(5)]
    models = [_store(tmp_path, bytes([i]) * (50 + i)) for i in range(5)]
    due = [
        cd._Due(who=f"0x{i:040x}", rung=1, model=models[i % 5], key=dc.public_key(secrets[i]))
        for i in range(5)
    ]
    sealed = cd._sealed_all(tmp_path, due)
    for i, box in enumerate(sealed):
        assert dc.decrypt(secret_key=secrets[i], delivery=box) == bytes([i]) * (50 + i)
    assert len({(s.ephemeral.x, s.ephemeral.y) for s in sealed}) == len(sealed)


def test_a_changed_model_file_stops_the_batch_with_the_one_process_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stored model whose bytes no longer match its name is refused from a worker with the
    same one-line error (message and hint) as in one process; nothing is sealed."""
    name = _store(tmp_path, b"model bytes")
    (tmp_path / f"{name}{MODEL_SUFFIX}").write_bytes(b"tampered")
    due = [cd._Due(who="0x" + "11" * 20, rung=1, model=name, key=dc.public_key(7))] * 3
    errors = []
    for fork_from in (1, 10**9):
        monkeypatch.setattr(cd, "_FORK_FROM_DELIVERIES", fork_from)
        with pytest.raises(cd.DeliveryProblemError) as caught:
            cd._sealed_all(tmp_path, due)
        errors.append(caught.value.one_line())
    assert errors[0] == errors[1]
    assert "restore the posted model file" in errors[0]
