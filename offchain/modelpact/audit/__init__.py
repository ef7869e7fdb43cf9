"""Audit a modelpact round from chain data alone, plus the published files.

:func:`run_audit` rebuilds a :class:`~modelpact.audit.snapshot.RoundSnapshot` from the chain
(events, storage views, balance, runtime code; :mod:`modelpact.audit.fetch`), then runs every
named check and returns an :class:`~modelpact.audit.report.AuditReport`:

- ``bytecode.matches_source``: the deployed code is the repository's source compiled with the
  recorded settings (:mod:`modelpact.audit.bytecode`);
- ``scenario.hash``, ``menu.resolve``, ``menu.ir``, ``menu.ic``, ``menu.budget``,
  ``menu.optimal``: the published scenario and what re-solving it gives
  (:mod:`modelpact.audit.menu`);
- the chain rules of :mod:`modelpact.audit.rules` (joins, reveals, seeds, penalties, tiers,
  assignments, refunds, balance);
- with files, the rules of :mod:`modelpact.audit.files` (datasets, models, test set).

The pure rule modules never import web3; only :mod:`modelpact.audit.fetch` talks to a node, and
only through :mod:`modelpact.chain`.

To add a check: write a function returning a :class:`Finding` in the module of the data it reads
(``rules.py`` for chain data, listed in its ``chain_checks``; ``files.py`` for published files or
``menu.py`` for the scenario, called from :func:`audit_snapshot` below), and add its id to the
README's findings table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelpact.audit.report import AuditReport, Evidence, Finding, Status, make_finding, skipped
from modelpact.audit.tolerances import DEFAULT_SAMPLE_ROWS, Tolerances
from modelpact.errors import ModelpactError

# The rule modules load numpy, eth-abi and the ML stack; they are imported where the audit runs,
# so importing this package (as every CLI start does) stays cheap.
if TYPE_CHECKING:
    from modelpact.audit.snapshot import RoundSnapshot
    from modelpact.chain import Chain
    from modelpact.ml.datasets import Rows
    from modelpact.round.records import DeploymentRecord


def __getattr__(name: str) -> object:
    """``RoundSnapshot`` is re-exported lazily (it pulls in :mod:`modelpact.encoding`)."""
    if name == "RoundSnapshot":
        from modelpact.audit.snapshot import RoundSnapshot

        return RoundSnapshot
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AuditError",
    "AuditReport",
    "Evidence",
    "Finding",
    "RoundSnapshot",
    "Status",
    "Tolerances",
    "audit_snapshot",
    "check_record",
    "run_audit",
]


class AuditError(ModelpactError, ValueError):
    """The audit cannot start: contradictory or missing inputs, or nothing to audit."""


@dataclass(frozen=True)
class _Files:
    scenario: Path | None
    data_dir: Path | None
    models_dir: Path | None
    test_set: Path | None
    compiler_settings: dict[str, Any] | None
    recorded_sha3: str | None
    dataset: str | None
    record: DeploymentRecord | None = None

    def claims(self) -> dict[str, str] | None:
        """What the record says the chain holds (compared as ``record.matches_chain``)."""
        if self.record is None:
            return None
        return {
            "coordinator": str(self.record.coordinator),
            "scenario_hash": self.record.scenario_hash_onchain,
            "test_set_root": self.record.test_set_root,
            "deploy_tx": self.record.tx_hash,
        }


def audit_snapshot(
    snapshot: RoundSnapshot,
    *,
    scenario: Path | None = None,
    data_dir: Path | None = None,
    models_dir: Path | None = None,
    test_set: Path | None = None,
    dataset: str | None = None,
    compiler_settings: dict[str, Any] | None = None,
    recorded_sha3: str | None = None,
    check_source: bool = True,
    tolerances: Tolerances | None = None,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    record_claims: dict[str, str] | None = None,
) -> AuditReport:
    """Run every check on an already fetched ``snapshot`` (no node needed).

    ``record_claims`` (from a deployment record: coordinator, scenario hash, test-set root,
    deployment transaction) are compared with the chain as ``record.matches_chain``.
    """
    from modelpact.audit.files import check_data
    from modelpact.audit.rules import PHASES, chain_checks
    from modelpact.parallel import fork_map

    started = time.perf_counter()
    tol = tolerances or Tolerances()
    findings = _source_findings(
        snapshot, compiler_settings, recorded_sha3, check_source=check_source
    )
    if record_claims is not None:
        findings.append(check_record(snapshot, record_claims))
    # The curve first, here: its fits spread over the workers themselves, and its result stays
    # cached in this process (every audit of one scenario learns it once).
    curve = _curve_reproduced(scenario)

    def menu_chain_data() -> list[list[Finding]]:
        chain_and_data = [
            *chain_checks(snapshot),
            *check_data(snapshot, data_dir, dataset=dataset, sample_rows=sample_rows),
        ]
        return [_menu(snapshot, scenario, tol), chain_and_data]

    def models() -> list[list[Finding]]:
        return [_model_findings(snapshot, scenario, data_dir, models_dir, test_set, tol)]

    # Pure checks of the snapshot and files in two forked workers of similar cost (1,000
    # participants: menu 0.5 s + chain 0.1 s + datasets 0.8 s | model retrained 0.7-1.2 s)
    (menu_findings, chain_and_data), (model_findings,) = fork_map(
        lambda job: job(), [menu_chain_data, models]
    )
    findings += [*menu_findings, curve, *chain_and_data, *model_findings]
    return AuditReport(
        chain_id=snapshot.chain_id,
        address=snapshot.address,
        block_number=snapshot.block_number,
        phase=PHASES[snapshot.phase] if 0 <= snapshot.phase < len(PHASES) else str(snapshot.phase),
        findings=tuple(findings),
        tolerances=tol.to_dict(),
        elapsed_s=time.perf_counter() - started,
    )


def _source_findings(
    snapshot: RoundSnapshot,
    settings: dict[str, Any] | None,
    recorded_sha3: str | None,
    *,
    check_source: bool,
) -> list[Finding]:
    """``bytecode.matches_source`` (and ``bytecode.proofs_matches_source`` when the round has
    the extension), or the first skipped; run in this process, which caches the rebuilds."""
    if not check_source:
        return [skipped("bytecode.matches_source", "Deployed bytecode", "disabled")]
    findings = [
        _guard(
            "bytecode.matches_source",
            "Deployed bytecode equals the source compiled with the recorded settings",
            _bytecode(snapshot, settings, recorded_sha3),
        )
    ]
    if snapshot.proofs_address or snapshot.proofs_runtime_code:
        findings.append(
            _guard(
                "bytecode.proofs_matches_source",
                _PROOFS_TITLE,
                _proofs_bytecode(snapshot, settings),
            )
        )
    return findings


def _model_findings(
    snapshot: RoundSnapshot,
    scenario: Path | None,
    data_dir: Path | None,
    models_dir: Path | None,
    test_set: Path | None,
    tol: Tolerances,
) -> list[Finding]:
    """The test set, the curve's data, the posted model files and their logs, and the
    collective model retrained, in the report's order."""
    from modelpact.audit.files import check_logs, check_models, check_test_set

    test_finding, test_rows = check_test_set(snapshot, test_set)
    return [
        test_finding,
        _curve_data(snapshot, scenario, test_rows),
        *check_models(snapshot, models_dir, test_rows, tolerance=tol.accuracy),
        check_logs(snapshot, models_dir, test_rows),
        _retrained(snapshot, data_dir, scenario),
    ]


def check_record(snapshot: RoundSnapshot, claims: dict[str, str]) -> Finding:
    """``record.matches_chain``: what the deployment record says equals what the chain says
    (empty record fields are not compared)."""
    found = {
        "coordinator": snapshot.coordinator,
        "scenario_hash": "0x" + snapshot.config.scenario_hash.hex(),
        "test_set_root": "0x" + snapshot.config.test_set_commitment.hex(),
        "deploy_tx": snapshot.deploy_tx_hash or "",
    }
    failures = [
        Evidence(name, claimed, found[name], "deployment record vs chain")
        for name, claimed in claims.items()
        if claimed and name in found and claimed.lower() != found[name].lower()
    ]
    compared = sum(1 for name, claimed in claims.items() if claimed and name in found)
    return make_finding(
        "record.matches_chain",
        "Deployment record agrees with the chain",
        checked=compared,
        failures=failures,
        detail_pass=f"{compared} recorded fields equal the chain's",
    )


def _guard(check_id: str, title: str, thunk: Callable[[], Finding]) -> Finding:
    """Run one check; a domain error while checking is that check's failure, with evidence."""
    try:
        return thunk()
    except ModelpactError as error:
        return _error_finding(check_id, title, error)


def _bytecode(
    snapshot: RoundSnapshot, settings: dict[str, Any] | None, recorded_sha3: str | None
) -> Callable[[], Finding]:
    """``bytecode.matches_source``: the round's chain of trust (:mod:`modelpact.audit.clones`,
    every link but the proofs implementation's) against the rebuild, and the record's sha3."""

    def run() -> Finding:
        from modelpact.encoding import keccak256 as keccak

        refs, label = _references(settings)
        problems = [p for p in _trust_problems(snapshot, refs) if not p.proofs]
        failures = [Evidence(f"({p.link}) {p.subject}", p.expected, p.found) for p in problems]
        deployed_sha3 = "0x" + keccak(snapshot.runtime_code).hex()
        if recorded_sha3 is not None and recorded_sha3.lower() != deployed_sha3:
            failures.append(
                Evidence("deployment record", recorded_sha3, deployed_sha3, "runtime sha3")
            )
        trust = snapshot.trust
        impl = trust.implementation.address if trust and trust.implementation else "?"
        factory = trust.factory.address if trust and trust.factory else "?"
        return make_finding(
            "bytecode.matches_source",
            "Deployed bytecode equals the source compiled with the recorded settings",
            checked=4,
            failures=failures,
            detail_pass=f"a clone of {impl} (identical to the rebuilt ModelpactRound, {label}, "
            f"outside immutables) made by factory {factory} (identical to the rebuilt "
            f"ModelpactFactory) in tx {snapshot.deploy_tx_hash}",
            evidence=[Evidence("runtime code", f"rebuild with {label}", deployed_sha3)],
        )

    return run


def _references(settings: dict[str, Any] | None) -> tuple[Any, str]:
    """The shared contracts rebuilt as the record says, and how."""
    from modelpact.audit.clones import Reference, References, config_type
    from modelpact.audit.source import rebuild
    from modelpact.compiler import FACTORY_CONTRACT, PROOFS_CONTRACT, ROUND_CONTRACT

    def ref(name: str) -> tuple[Reference, str]:
        built, how = rebuild(settings, name)
        runtime = bytes.fromhex(built.runtime_bytecode.removeprefix("0x"))
        label = f"solc {built.compiler_version}, {how}"
        refs, names = dict(built.immutable_references), dict(built.immutable_names)
        return Reference(name, runtime, refs, names), label

    (round_ref, label), (proofs, _), (factory, _) = map(
        ref, (ROUND_CONTRACT, PROOFS_CONTRACT, FACTORY_CONTRACT)
    )
    round_abi = rebuild(settings, ROUND_CONTRACT)[0].abi
    return References(round_ref, proofs, factory, config_type(round_abi)), label


def _trust_problems(snapshot: RoundSnapshot, refs: Any) -> tuple[Any, ...]:
    """Every broken link of the round's chain of trust; the arguments must carry the
    coordinator and bond its RoundPublished event states."""
    from modelpact.audit.clones import CodeAt, Expected, TrustFacts, trust_problems

    trust = snapshot.trust or TrustFacts(CodeAt(snapshot.address, snapshot.runtime_code))
    expected = Expected(
        coordinator=snapshot.coordinator, coordinator_bond=snapshot.coordinator_bond
    )
    return trust_problems(trust, refs, expected)


def _curve_data(snapshot: RoundSnapshot, scenario: Path | None, test_rows: Rows | None) -> Finding:
    """``curve.data`` (:func:`modelpact.audit.files.check_curve_data`) on the scenario file."""
    from modelpact.audit.files import check_curve_data
    from modelpact.scenario import load_scenario

    committed = None
    if scenario is not None:
        try:
            committed = load_scenario(scenario)
        except ModelpactError:
            committed = None
    return check_curve_data(snapshot, committed, test_rows)


def _curve_reproduced(scenario: Path | None) -> Finding:
    """``curve.reproduces``: the scenario's learned curve is what its record learns again
    (:func:`modelpact.audit.menu.check_curve_reproduces`); skipped without a valid scenario."""
    from modelpact.audit.menu import REPRODUCES_TITLE, check_curve_reproduces
    from modelpact.scenario import load_scenario

    if scenario is None:
        return skipped("curve.reproduces", REPRODUCES_TITLE, "no --scenario given")
    try:
        committed = load_scenario(scenario)
    except ModelpactError:
        return skipped("curve.reproduces", REPRODUCES_TITLE, "scenario file invalid")
    return check_curve_reproduces(committed)


def _retrained(snapshot: RoundSnapshot, data_dir: Path | None, scenario: Path | None) -> Finding:
    """``model.collective_retrained`` with the learner and seed the scenario records."""
    from modelpact.audit.files import check_collective, training_recipe
    from modelpact.scenario import load_scenario

    def run() -> Finding:
        committed = load_scenario(scenario) if scenario is not None else None
        return check_collective(snapshot, data_dir, training_recipe(committed))

    title = "The collective model retrains from the delivered data to the posted hash"
    return _guard("model.collective_retrained", title, run)


_PROOFS_TITLE = "The ModelpactProofs extension's code equals the source (challenges, deliveries)"


def _proofs_bytecode(
    snapshot: RoundSnapshot, settings: dict[str, Any] | None
) -> Callable[[], Finding]:
    """The proofs implementation the round DELEGATECALLs for challenges, deliveries and
    payments: its runtime code (at the round's ``proofs()`` address) must be the rebuilt
    ModelpactProofs, and be the one the round implementation's code points at."""

    def run() -> Finding:
        from modelpact.audit.bytecode import check_bytecode

        refs, label = _references(settings)
        found = check_bytecode(
            snapshot.proofs_runtime_code,
            refs.proofs.runtime,
            refs.proofs.refs,
            compiler=label,
            check_id="bytecode.proofs_matches_source",
            title=_PROOFS_TITLE,
        )
        wrong = [
            Evidence(f"({p.link}) {p.subject}", p.expected, p.found)
            for p in _trust_problems(snapshot, refs)
            if p.proofs
        ]
        trust = snapshot.trust
        pointed = trust.proofs.address if trust is not None and trust.proofs else ""
        if pointed.lower() != snapshot.proofs_address.lower():
            wrong.append(
                Evidence(
                    "proofs implementation",
                    f"{pointed or 'the address'} (the round implementation's immutable)",
                    snapshot.proofs_address,
                    "proofs() answers another address than the code points at",
                )
            )
        if not wrong:
            return found
        return make_finding(
            found.id, found.title, checked=1, failures=(*found.failures, *wrong), detail_pass=""
        )

    return run


def _menu(snapshot: RoundSnapshot, scenario: Path | None, tol: Tolerances) -> list[Finding]:
    from modelpact.audit.menu import menu_checks

    return menu_checks(snapshot, scenario, tol)


def run_audit(
    *,
    deployment: Path | None = None,
    rpc_url: str | None = None,
    address: str | None = None,
    chain: Chain | None = None,
    scenario: Path | None = None,
    data_dir: Path | None = None,
    models_dir: Path | None = None,
    test_set: Path | None = None,
    dataset: str | None = None,
    check_source: bool = True,
    tolerances: Tolerances | None = None,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
) -> AuditReport:
    """Audit one round: ``deployment`` (a record file) or ``address``, on ``rpc_url`` or an
    already connected ``chain`` (a :mod:`modelpact.chain` connection, e.g. the embedded chain a
    demo runs on).

    With a record, the scenario, test set and compiler settings default to the ones it names.
    Raises :class:`AuditError` for missing or contradictory inputs, and the chain adapter's
    errors for a node that is down or an address without this contract.
    """
    started = time.perf_counter()
    files = _resolve_inputs(
        deployment=deployment,
        address=address,
        scenario=scenario,
        data_dir=data_dir,
        models_dir=models_dir,
        test_set=test_set,
        dataset=dataset,
    )
    snapshot = _snapshot(
        files, address=address, rpc_url=rpc_url, chain=chain, deployment=deployment
    )
    report = audit_snapshot(
        snapshot,
        scenario=files.scenario,
        data_dir=files.data_dir,
        models_dir=files.models_dir,
        test_set=files.test_set,
        dataset=files.dataset,
        compiler_settings=files.compiler_settings,
        recorded_sha3=files.recorded_sha3,
        check_source=check_source,
        tolerances=tolerances,
        sample_rows=sample_rows,
        record_claims=files.claims(),
    )
    return replace(report, elapsed_s=time.perf_counter() - started)


def _snapshot(
    files: _Files,
    *,
    address: str | None,
    rpc_url: str | None,
    chain: Chain | None,
    deployment: Path | None,
) -> RoundSnapshot:
    """Read the round (``address``, else the record's) from ``chain``, ``rpc_url`` or the node
    the record names; no node at all is one :class:`AuditError` saying what to pass."""
    from modelpact.audit.fetch import fetch_snapshot

    record = files.record
    target = address if address is not None else (record.address if record else None)
    if target is None:
        raise AuditError(
            "nothing to audit: no --address and no --deployment",
            hint="pass --deployment RECORD, or --rpc URL --address ADDR",
        )
    url = rpc_url if rpc_url is not None else (record.extra.rpc_url if record else None)
    if chain is None and not url:
        raise _no_node_error(deployment, record.chain_id if record else None)
    return fetch_snapshot(
        chain=chain,
        rpc_url=url or None,
        address=str(target),
        abi=record.abi if record else None,
        from_block=record.block_number if record else 0,
        expected_chain_id=record.chain_id if record else None,
    )


def _no_node_error(deployment: Path | None, chain_id: int | None) -> AuditError:
    """What to say when neither ``--rpc`` nor the record names a node."""
    example = "http://127.0.0.1:8545"
    if deployment is None:
        return AuditError(
            "no node to read the round from: --address needs --rpc",
            hint=f"pass --rpc URL of the chain the round lives on (e.g. {example})",
        )
    return AuditError(
        f"the deployment record {deployment} names no RPC URL (chain {chain_id}), so auditing "
        "--deployment on a node (anvil or any JSON-RPC chain) needs --rpc URL",
        hint=f"pass --rpc URL of that chain (e.g. {example} for anvil) or set MODELPACT_RPC; "
        "an embedded (eth-tester) chain lives only inside the process that ran it",
    )


def _existing(path: Path | None, what: str, option: str) -> Path | None:
    if path is not None and not path.exists():
        raise AuditError(f"{what} {path} does not exist", hint=f"check the {option} path")
    return path


def _resolve_inputs(
    *,
    deployment: Path | None,
    address: str | None,
    scenario: Path | None,
    data_dir: Path | None,
    models_dir: Path | None,
    test_set: Path | None,
    dataset: str | None,
) -> _Files:
    record = None
    settings: dict[str, Any] | None = None
    recorded_sha3: str | None = None
    if deployment is not None:
        from modelpact.compiler import verification_paths
        from modelpact.round.records import read_record

        record = read_record(deployment)
        base = deployment.resolve().parent
        if address is not None and address.lower() != str(record.address).lower():
            raise AuditError(
                f"--address {address} is not the recorded round {record.address}",
                hint="pass either --deployment or --address, or the matching pair",
            )
        settings = {"version": record.compiler_version, "settings": record.compiler_settings}
        published = verification_paths(deployment)[0]
        if published.is_file():  # written at deployment: rebuild from it, no checkout needed
            settings["input"] = str(published)
        recorded_sha3 = record.runtime_bytecode_sha3 or None
        if scenario is None and record.scenario_file:
            scenario = record.scenario_path(base)
        if test_set is None and record.test_set_file:
            test_set = (base / record.test_set_file).resolve()
    return _Files(
        scenario=_existing(scenario, "scenario file", "--scenario"),
        data_dir=_existing(data_dir, "data directory", "--data"),
        models_dir=_existing(models_dir, "models directory", "--models"),
        test_set=_existing(test_set, "test set file", "--test-set"),
        compiler_settings=settings,
        recorded_sha3=recorded_sha3,
        dataset=dataset,
        record=record,
    )


def _error_finding(check_id: str, title: str, error: Exception) -> Finding:
    """A check that could not run is a failure, with the error as its evidence."""
    text = (
        error.one_line()
        if isinstance(error, ModelpactError)
        else f"{type(error).__name__}: {error}"
    )
    return Finding(
        check_id,
        title,
        Status.FAIL,
        "could not be checked",
        1,
        (Evidence(check_id, "the check runs", text),),
    )
