"""Fraud proofs from a wallet (issue 14): read what was posted, check every model, challenge.

Anyone can run these: the posted logs are read from the ``postModels`` transaction's input on
chain (the contract keeps only their hash; calldata is the data availability), falling back to
the ``<hash>.log.json`` files published next to the models when the node no longer serves the
transaction. Whatever the source, the logs must reproduce the on-chain ``postCommitment``, or
they are not what was posted. The public test set must hash to the committed test-set root.
The pure checks and the evidence are :mod:`modelpact.proofs`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from modelpact import proofs
from modelpact.errors import ModelpactError
from modelpact.round.deployed import DeployedRound, StepResult

if TYPE_CHECKING:
    from modelpact.chain import Sender
    from modelpact.chain.transactions import TxSlot

__all__ = ["ChallengeResult", "FraudError", "ModelsChecked", "challenge", "check_models"]


class FraudError(ModelpactError, ValueError):
    """The posted models cannot be checked or challenged with these inputs, or now."""


def _post_tx(deployed: DeployedRound) -> str:
    posted = deployed.events("ModelsPosted")
    if not posted:
        raise FraudError("no models are posted in this round", hint="nothing to check yet")
    return posted[0].tx_hash


def _from_input(deployed: DeployedRound) -> list[proofs.PostedModel] | None:
    """The posted models and logs decoded from the postModels transaction input (None when the
    node does not serve the transaction)."""
    args = deployed.contract.call_arguments(_post_tx(deployed), "postModels")
    if args is None:
        return None
    models = [_triple(m) for m in (args["collective"], *args["tiers"])]
    return [
        proofs.PostedModel(bytes(h), int(acc), bytes(root), bytes(log))
        for (h, acc, root), log in zip(models, args["logs"], strict=True)
    ]


def _triple(value: Any) -> tuple[Any, Any, Any]:
    """A decoded PostedModel (a tuple, or a mapping in ABI order: web3 gives either)."""
    h, acc, root = value.values() if isinstance(value, Mapping) else value
    return h, acc, root


def _from_files(deployed: DeployedRound, models_dir: Path) -> list[proofs.PostedModel]:
    """The posted models (ModelsPosted event) with the logs published as ``<hash>.log.json``."""
    from modelpact.encoding import pack_eval_log
    from modelpact.ml.evallog import EvalLogError, decode_eval_log

    a = deployed.events("ModelsPosted")[0].args
    out = []
    for h, acc, root in [_triple(m) for m in (a["collective"], *a["tiers"])]:
        path = models_dir / f"0x{bytes(h).hex()}.log.json"
        try:
            log = decode_eval_log(path.read_bytes())
        except (OSError, EvalLogError) as error:
            raise FraudError(
                f"the post transaction is not served by this node and the log {path.name} "
                f"cannot be read ({error})",
                hint="query a node that keeps the post transaction, or pass --models with the "
                "published logs",
            ) from None
        out.append(proofs.PostedModel(bytes(h), int(acc), bytes(root), pack_eval_log(log.entries)))
    return out


def posted_models(deployed: DeployedRound, models_dir: Path) -> list[proofs.PostedModel]:
    """What was posted, with each packed log, checked against ``postCommitment``."""
    posted = _from_input(deployed) or _from_files(deployed, models_dir)
    if proofs.commitment(posted) != deployed.contract.post_commitment():
        raise FraudError(
            "the logs at hand do not reproduce the round's postCommitment",
            hint="they are not what was posted: read them from the post transaction (another "
            "node) or the coordinator's published files",
        )
    return posted


def _test_rows(deployed: DeployedRound, test_set: Path) -> np.ndarray:
    """The public test set, refused unless it is the committed one (root and row count)."""
    from modelpact.encoding import dataset_merkle_root
    from modelpact.ml.datasets import load_rows

    rows = np.asarray(load_rows(test_set))
    config = deployed.contract.config()
    if rows.shape[0] != config.test_row_count or (
        dataset_merkle_root(rows.tolist()) != config.test_set_commitment
    ):
        raise FraudError(
            f"{test_set} is not the test set this round committed to",
            hint="pass the published test set (--test-set) whose root is on chain",
        )
    return rows


def _models_at_hand(models_dir: Path, extra: Sequence[Path]) -> dict[bytes, bytes]:
    """Model bytes by keccak256: the published store and any model files given."""
    from modelpact.encoding import model_hash
    from modelpact.ml.models import MODEL_SUFFIX

    files = [*sorted(models_dir.glob(f"*{MODEL_SUFFIX}")), *extra] if models_dir.is_dir() else []
    files = files or list(extra)
    return {model_hash(p.read_bytes()): p.read_bytes() for p in files if p.is_file()}


@dataclass(frozen=True)
class ModelsChecked:
    """Every posted model's check and the first provable fault (None: no fault)."""

    checks: tuple[proofs.ModelCheck, ...]
    fault: proofs.Fault | None
    fraud_proven: bool
    posted: tuple[proofs.PostedModel, ...]
    models: dict[bytes, bytes]
    test_rows: np.ndarray


def check_models(
    deployed: DeployedRound,
    *,
    models_dir: Path,
    test_set: Path,
    extra_models: Sequence[Path] = (),
) -> ModelsChecked:
    """Check every posted model against the committed test set and its posted log."""
    posted = posted_models(deployed, models_dir)
    rows = _test_rows(deployed, test_set)
    models = _models_at_hand(models_dir, extra_models)
    fault, checks = proofs.find_fault(posted, models=models, test_rows=rows)
    return ModelsChecked(
        checks, fault, deployed.contract.fraud_proven(), tuple(posted), models, rows
    )


@dataclass(frozen=True)
class ChallengeResult:
    """A challenge sent (or found recorded): the fault it proves, its transaction, the reward."""

    fault: proofs.Fault
    step: StepResult
    reward: int


def challenge(
    deployed: DeployedRound,
    checked: ModelsChecked,
    *,
    sender: Sender,
    slot: TxSlot,
    show: Callable[[str], None] = lambda _line: None,
) -> ChallengeResult:
    """Prove ``checked.fault`` on chain (``challenge``); refused before sending when there is
    no provable fault or fraud is already proven. Safe to re-run (the hash is in ``slot``)."""
    done = deployed.recorded(slot, "challenge")
    if done is not None and checked.fault is not None:
        return ChallengeResult(checked.fault, StepResult(done.tx_hash, True, done.gas_used), 0)
    if checked.fault is None:
        unchecked = sum(not c.checked_model for c in checked.checks)
        raise FraudError(
            "no provable fault: every posted model matches its log and its accuracy"
            + (
                f" (predictions of {unchecked} models not checked: bytes not at hand)"
                if unchecked
                else ""
            ),
            hint="nothing was sent" + ("; pass --models or --model" if unchecked else ""),
        )
    if checked.fraud_proven:
        raise FraudError(
            "fraud is already proven in this round",
            hint="nothing was sent; participants collect with `participant withdraw-compensation`",
        )
    f = checked.fault
    evidence: Any = proofs.evidence(
        f, posted=checked.posted, models=checked.models, test_rows=checked.test_rows
    )
    show(f"sending challenge: {f.kind.name.lower().replace('_', ' ')} at rung {f.rung} row {f.row}")
    result = deployed.send_recorded(deployed.contract.challenge.call(evidence), sender, slot)
    event = next((e for e in result.events if e.name == "FraudProven"), None)
    reward = int(event.args["reward"]) if event is not None else 0
    return ChallengeResult(f, StepResult(result.tx_hash, False, result.gas_used), reward)
