"""``modelpact demo``: one complete round in one process, with simulated participants.

Solve the scenario, deploy, let N participants (private types drawn from the scenario's type
distribution, each picking its own best option) commit real digits shards and join from their own
keys; the coordinator reveals, verifies every delivery against its root, really trains the
collective model and the reward tiers, and posts them; participants reveal, claim, fetch and verify
their models; then the independent audit runs (when :mod:`modelpact.audit` provides
``run_audit``) and a report is written. Every step goes through the real contract on a real EVM.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from eth_account import Account
from eth_account.signers.local import LocalAccount

from modelpact.chain import Chain, Sender
from modelpact.encoding import Phase
from modelpact.errors import ModelpactError
from modelpact.round import coordinator as coord
from modelpact.round import participant as part
from modelpact.round.handle import RoundHandle
from modelpact.round.records import DeploymentRecord
from modelpact.round.report import Check, ParticipantOutcome, RoundReport, TypeInfo, write_report
from modelpact.round.session import ChainSettings

__all__ = ["DEFAULT_SCENARIO", "DemoConfig", "DemoError", "DemoResult", "run_demo"]

DEFAULT_SCENARIO = (
    Path(__file__).resolve().parent.parent / "data" / "scenarios" / "digits_demo.toml"
)


class DemoError(ModelpactError, RuntimeError):
    """The demo cannot run with these options."""


@dataclass(frozen=True)
class DemoConfig:
    """Options of one demo round."""

    participants: int
    seed: int
    out_dir: Path
    settings: ChainSettings
    scenario: Path = DEFAULT_SCENARIO
    dataset: str = "digits"
    test_size: int = 360
    participant_bond_wei: int = 10**16
    coordinator_bond_wei: int = 10**17
    sweep: bool = True
    tiers: str = "deterministic"
    lottery_tiers: int = 1


@dataclass(frozen=True)
class DemoResult:
    """The finished round: its report and where everything was written."""

    report: RoundReport
    record: DeploymentRecord
    out_dir: Path
    paths: dict[str, Path]


Progress = Callable[[str], None]


def _scenario_for(path: Path, participants: int, out: Path) -> Path:
    """The scenario file to publish: ``path`` with ``participants`` replaced when it differs."""
    from modelpact.scenario import load_scenario

    text = path.read_text()
    if load_scenario(path).participants != participants:
        text, count = re.subn(
            r"(?m)^participants\s*=\s*\d+", f"participants = {participants}", text, count=1
        )
        if count != 1:
            raise DemoError(
                f"cannot set the number of participants in {path}",
                hint="write `participants = N` at the top level of the scenario",
            )
    target = out / "scenario.toml"
    target.write_text(text)
    load_scenario(target)
    return target


def _participant_key(seed: int, index: int) -> LocalAccount:
    """A deterministic demo key (reproducible runs); never use such keys for real funds."""
    from eth_utils.crypto import keccak

    account: LocalAccount = Account.from_key(keccak(text=f"modelpact-demo/{seed}/{index}"))
    return account


def run_demo(config: DemoConfig, *, progress: Progress = lambda _: None) -> DemoResult:
    """Run a whole round; write ``deployment.json``, published files, delivered data, models,
    the test set and the report into ``config.out_dir``. The report's checks say if all passed."""
    from modelpact.checker import check_menu
    from modelpact.economics import best_option, reservation_utility
    from modelpact.menu import write_menu_json
    from modelpact.ml.datasets import load_dataset, save_rows, shard_pool, split_test
    from modelpact.optimizer import integerize_menu, solve
    from modelpact.round.session import open_chain
    from modelpact.scenario import load_scenario, scenario_sha256

    if config.tiers not in coord.TIER_MODES:
        raise DemoError(
            f"unknown tier mode {config.tiers!r}", hint="use --tiers deterministic or lottery"
        )
    started = time.perf_counter()
    out = config.out_dir.resolve()
    _clear_output(out)
    gas: list[int] = []

    progress("solving the scenario")
    scenario_path = _scenario_for(config.scenario, config.participants, out)
    scenario = load_scenario(scenario_path)
    continuous = solve(scenario)
    menu = integerize_menu(scenario, continuous)
    violations = check_menu(scenario, menu)
    menu_path = out / "menu.json"
    write_menu_json(menu, menu_path)

    rng = np.random.default_rng(config.seed)
    types = rng.choice(scenario.n_types, size=config.participants, p=scenario.probabilities)
    offered = menu.offered
    choices = [
        part.pick_option(best_option(menu, float(scenario.costs[k]))[1].tolist()) for k in types
    ]
    counts = [round(offered[j].m) for j in choices]

    progress("splitting the dataset into a public test set and participant shards")
    size = config.test_size + sum(counts) + 64  # only used by the generated dataset
    rows = load_dataset(config.dataset, generated_size=size, seed=config.seed)
    split = split_test(rows, test_size=config.test_size, seed=config.seed)
    test_path = save_rows(out / "test_set.npy", split.test)
    shards = shard_pool(split.pool, counts, seed=config.seed)

    with open_chain(config.settings) as chain:
        node = chain.chain
        funder = chain.funded_accounts[0]
        coordinator_account = _participant_key(config.seed, 10**6)
        _fund(node, funder, coordinator_account.address, config.coordinator_bond_wei + 10**18)

        progress(f"deploying on {config.settings.label} (chain id {node.chain_id})")
        deployed = coord.deploy(
            node,
            scenario=scenario,
            scenario_path=scenario_path,
            scenario_hash=bytes.fromhex(scenario_sha256(scenario)),
            menu=menu,
            menu_path=menu_path,
            test_rows=split.test,
            test_path=test_path,
            sender=coordinator_account,
            participant_bond_wei=config.participant_bond_wei,
            coordinator_bond_wei=config.coordinator_bond_wei,
            record_dir=out,
            record_name="deployment.json",
            state_dir=out / "state",
            extra={"dataset": config.dataset, "models_dir": "models", "seed": config.seed},
        )
        record = deployed.record
        gas.append(deployed.gas_used)
        handle = RoundHandle.open(node, record)
        cstate = coord.coordinator_state(out / "state", record)

        accounts = [_participant_key(config.seed, i) for i in range(config.participants)]
        inbox = out / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        progress(f"{config.participants} participants commit their data and join")
        for i, account in enumerate(accounts):
            _fund(node, funder, account.address, config.participant_bond_wei + 10**17)
            state = part.participant_state(out / "state", record, account.address)
            data_file = save_rows(inbox / f"{account.address}.npy", shards[i])
            part.commit_dataset(state, dataset=data_file, spec_name=config.dataset)
            joined = part.join(handle, state, account=account, option_id=choices[i])
            gas.append(joined.gas_used)

        progress("coordinator reveals, verifies deliveries, trains and posts the models")
        coord.reveal_coordinator(handle, cstate, sender=coordinator_account)
        gas.append(_last_gas(handle, cstate.get("reveal_tx"), "revealCoordinator"))
        deliveries = coord.ingest(
            handle,
            files=coord.inbox_files(inbox),
            delivered_dir=out / "delivered",
            spec_name=config.dataset,
        )
        posted = coord.train_and_post(
            handle,
            cstate,
            deliveries=deliveries,
            test_rows=split.test,
            models_dir=out / "models",
            sender=coordinator_account,
            seed=config.seed,
            tier_mode=config.tiers,
            lottery_tiers=config.lottery_tiers,
        )
        gas.append(posted.gas_used)
        progress(
            f"{config.tiers} tiers: {len(posted.tiers)} reward models below the collective one, "
            f"{posted.models_trained} models trained"
        )

        progress("participants reveal, claim, fetch and verify their models")
        for account in accounts:
            state = part.participant_state(out / "state", record, account.address)
            gas.append(part.reveal(handle, state, account=account).gas_used)
        outcomes: list[ParticipantOutcome] = []
        verifications: list[bool] = []
        received_wads: list[int] = []
        value_scale = float(scenario.valuation(np.array([1.0]))[0])
        test_root = handle.round.config().test_set_commitment
        for i, account in enumerate(accounts):
            state = part.participant_state(out / "state", record, account.address)
            claimed = part.claim(handle, state, account=account)
            gas.append(claimed.gas_used)
            received_wads.append(claimed.accuracy_wad)
            verified = True
            if claimed.rung > 0:
                model_file = part.fetch_model(
                    state,
                    models_dir=out / "models",
                    out=out / "received" / f"{account.address}.bin",
                )
                result = part.verify_model(
                    state,
                    model_file=model_file,
                    test_set=test_path,
                    test_set_root=test_root,
                    spec_name=config.dataset,
                )
                verified = result.ok
            verifications.append(verified)
            option = offered[choices[i]]
            received_accuracy = claimed.accuracy_wad / 10**18
            received_value = value_scale * received_accuracy
            cost = float(scenario.costs[types[i]])
            outcomes.append(
                ParticipantOutcome(
                    index=i,
                    address=account.address,
                    type_index=int(types[i]) + 1,
                    cost=cost,
                    option_id=choices[i],
                    data_count=counts[i],
                    promised_value=option.t,
                    target_accuracy=claimed.target_accuracy_wad / 10**18,
                    received_accuracy=received_accuracy,
                    received_value=received_value,
                    rung=claimed.rung,
                    model_hash=claimed.model_hash,
                    utility=received_value - cost * counts[i],
                    verified=verified,
                )
            )

        swept = 0
        if config.settings.kind != "rpc" and config.sweep:
            progress("after the claim deadline: sweep what is left to the coordinator")
            claim_deadline = handle.round.config().deadlines.claim
            chain.advance_time_to(claim_deadline + 1)
            if handle.phase() == Phase.CLOSED:
                _, swept, sweep_gas = coord.sweep(handle, cstate, sender=coordinator_account)
                gas.append(sweep_gas)

        checks = [
            Check(
                "menu passes the checker (IR, IC, budget)",
                bool(violations.ok),
                f"largest violation {violations.worst:.2e} (tolerance {violations.tolerance:g})",
            ),
            Check(
                "every delivery matched its committed root and row count",
                len(deliveries) == config.participants,
                f"{len(deliveries)}/{config.participants} verified",
            ),
            Check(
                "every received model verified (hash, accuracy on the public test set)",
                all(verifications),
                f"{sum(verifications)}/{len(verifications)} verified",
            ),
            Check(
                "no reward above the collective model (budget constraint)",
                all(wad <= posted.collective.accuracy_wad for wad in received_wads),
                f"collective accuracy {posted.collective.accuracy_wad / 10**18:.4f}",
            ),
            Check(
                "contract balance is zero after the sweep",
                not config.sweep or config.settings.kind == "rpc" or handle.round.balance() == 0,
                f"swept {swept} wei"
                if config.sweep and config.settings.kind != "rpc"
                else "not checked: no sweep (a --rpc node's clock cannot be advanced)",
            ),
        ]
        checks.extend(_audit(chain, out, config.dataset, progress))

        status = coord.round_status(handle)
        types_info = []
        for k in range(scenario.n_types):
            f, _ = reservation_utility(
                scenario.accuracy, scenario.valuation, float(scenario.costs[k])
            )
            types_info.append(
                TypeInfo(k + 1, float(scenario.costs[k]), float(scenario.probabilities[k]), f)
            )
        report = RoundReport(
            chain=config.settings.label,
            chain_id=record.chain_id,
            address=str(record.address),
            participants=config.participants,
            seed=config.seed,
            collective_accuracy=posted.collective.accuracy_wad / 10**18,
            collective_value=value_scale * posted.collective.accuracy_wad / 10**18,
            predicted_accuracy=handle.round.predicted_accuracy(posted.total_rows) / 10**18,
            scenario_predicted_accuracy=_curve_accuracy(scenario, posted.total_rows),
            tier_mode=posted.tier_mode,
            tiers_posted=len(posted.tiers),
            models_trained=posted.models_trained,
            total_data=status.total_data,
            total_gas=sum(gas),
            wall_seconds=time.perf_counter() - started,
            menu=[
                {
                    "option_id": float(j),
                    "type": float(o.type),
                    "data_count": float(round(o.m)),
                    "promised_value": o.t,
                    "budget_value": o.t_bar,
                    "ratio": o.ratio,
                }
                for j, o in enumerate(offered)
            ],
            types=types_info,
            outcomes=outcomes,
            checks=checks,
        )
    paths = write_report(out, report)
    return DemoResult(report=report, record=record, out_dir=out, paths=paths)


def _clear_output(out: Path) -> None:
    """Make ``out`` an empty directory; only a previous demo output (or an empty directory) is
    ever deleted, never an unrelated directory passed by mistake."""
    if out.exists() and not out.is_dir():
        raise DemoError(f"--out {out} is a file", hint="pass a directory path")
    if out.is_dir() and any(out.iterdir()):
        if not (out / _MARKER).is_file():
            raise DemoError(
                f"--out {out} exists and is not a previous demo output",
                hint="pass a new or empty directory; nothing was deleted",
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / _MARKER).write_text("modelpact demo output; the next demo run may replace it\n")


_MARKER = ".modelpact-demo"


def _fund(chain: Chain, funder: Sender, to: str, amount: int) -> None:
    from modelpact.chain import transfer, wait_for_receipt

    wait_for_receipt(chain, transfer(chain, funder, to, amount), action="fund")


def _last_gas(handle: RoundHandle, tx_hash: str | None, action: str) -> int:
    result = handle.recorded(tx_hash, action=action)
    return result.gas_used if result is not None else 0


def _curve_accuracy(scenario: Any, rows: int) -> float:
    """The scenario's accuracy function a(x) at ``rows`` (what the economics predicted)."""
    return float(np.asarray(scenario.accuracy(np.array([float(rows)])), dtype=np.float64)[0])


def _audit(chain: Any, out: Path, dataset: str, progress: Progress) -> list[Check]:
    """Run the independent audit (:func:`modelpact.audit.run_audit`, issue 5) on the round's
    record and published files; each failed audit check becomes a failed demo check."""
    from modelpact.audit import run_audit

    progress("running the independent audit")
    result = run_audit(
        deployment=out / "deployment.json",
        chain=chain.audit_chain(),
        rpc_url=chain.rpc_url,
        data_dir=out / "delivered",
        models_dir=out / "models",
        dataset=dataset,
    )
    (out / "audit.json").write_text(result.to_json())
    failed = sorted(result.failed_ids())
    detail = "failed: " + ", ".join(failed) if failed else f"{len(result.findings)} checks passed"
    return [Check("independent audit", bool(result.ok), detail)]
