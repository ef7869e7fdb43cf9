"""The coordinator's planning, before anything touches a chain: solve the scenario, integerize
and check the menu, split the dataset into the public test set and the participants' pool, and
turn the plan into what the contract commits to (option tuples, curve knots).

``modelpact coordinator deploy`` and ``modelpact demo`` both plan with these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from modelpact.errors import ModelpactError

if TYPE_CHECKING:  # the optimizer and the ML stack are imported where they run
    from modelpact.checker import CheckReport
    from modelpact.compensation import CompensationTerms
    from modelpact.economics import AccuracyFunction
    from modelpact.encoding import CurveKnot, OnchainOption
    from modelpact.menu import Menu
    from modelpact.round.records import RoundExtras
    from modelpact.scenario import Scenario

__all__ = [
    "DataPlan",
    "MenuPlan",
    "PlanError",
    "Planned",
    "curve_knots",
    "curve_terms",
    "onchain_menu",
    "plan_data",
    "plan_menu",
    "plan_round",
    "require_curve_for",
]

Rows = NDArray[np.int64]


class PlanError(ModelpactError, ValueError):
    """The scenario cannot be deployed as a round (valuation, menu checker, integer rows)."""


@dataclass(frozen=True)
class MenuPlan:
    """A solved, integerized and checked menu for a scenario, with its published files."""

    scenario: Scenario
    scenario_path: Path
    scenario_hash: bytes
    menu: Menu
    menu_path: Path
    report: CheckReport


@dataclass(frozen=True)
class DataPlan:
    """The dataset split into the public test set (published) and the participants' pool."""

    dataset: str
    test_size: int
    seed: int
    test_rows: Rows
    test_path: Path
    pool_rows: Rows


@dataclass(frozen=True)
class Planned:
    """A whole plan: the menu and the data, ready to deploy."""

    offer: MenuPlan
    data: DataPlan
    any_curve: bool = False  # the curve was not checked against the data: tau = 0 (curve_terms)

    def extras(self) -> RoundExtras:
        """What the deployment record says about how the round was planned."""
        from modelpact.round.records import RoundExtras

        return RoundExtras(
            dataset=self.data.dataset, test_size=self.data.test_size, seed=self.data.seed
        )


def plan_menu(*, scenario_path: Path, work_dir: Path) -> MenuPlan:
    """Solve the scenario, integerize the menu to rows, check it (IR, IC, budget; refused if it
    fails), and write it to ``work_dir/menu.json``."""
    from modelpact.checker import check_menu
    from modelpact.menu import write_menu_json
    from modelpact.optimizer import integerize_menu, solve
    from modelpact.scenario import load_scenario, scenario_sha256

    scenario = load_scenario(scenario_path)
    if scenario.valuation.kind != "linear":
        raise PlanError(
            f"the scenario's valuation is {scenario.valuation.kind}, but the contract assigns in "
            "accuracy units, which equal value units only for v(r) = scale r",
            hint='use [valuation] kind = "linear" for a round on chain',
        )
    menu = integerize_menu(scenario, solve(scenario))
    report = check_menu(scenario, menu)
    if not report.ok:
        raise PlanError(
            f"the integer menu fails the checker (worst violation {report.worst:.3g})",
            hint="re-solve with another scenario; a menu that breaks IR/IC/budget is not deployed",
        )
    work_dir.mkdir(parents=True, exist_ok=True)
    menu_path = work_dir / "menu.json"
    write_menu_json(menu, menu_path)
    return MenuPlan(
        scenario=scenario,
        scenario_path=scenario_path,
        scenario_hash=bytes.fromhex(scenario_sha256(scenario)),
        menu=menu,
        menu_path=menu_path,
        report=report,
    )


def plan_data(
    *,
    dataset: str,
    test_size: int,
    seed: int,
    work_dir: Path,
    generated_size: int | None = None,
    scenario: Scenario | None = None,
    any_curve: bool = False,
) -> DataPlan:
    """Load ``dataset`` (``generated_size`` rows when it is the generated one) and split it into
    the public test set (written to ``work_dir/test_set.npy``) and the participants' pool.
    With ``scenario``, its learned curve must have been fitted on these very rows
    (:func:`require_curve_for`) unless ``any_curve``."""
    from modelpact.ml.datasets import load_dataset, save_rows, split_test

    if generated_size is None:
        rows = load_dataset(dataset, seed=seed)
    else:
        rows = load_dataset(dataset, generated_size=generated_size, seed=seed)
    if scenario is not None and not any_curve:
        require_curve_for(scenario, dataset=dataset, rows=rows)
    split = split_test(rows, test_size=test_size, seed=seed)
    work_dir.mkdir(parents=True, exist_ok=True)
    test_path = save_rows(work_dir / "test_set.npy", split.test)
    return DataPlan(dataset, test_size, seed, split.test, test_path, split.pool)


def require_curve_for(scenario: Scenario, *, dataset: str, rows: Rows) -> None:
    """Refuse a round whose learned curve records other data than the round's (issue 13: a
    curve fitted on digits says nothing about other rows, and every participant's promise rests
    on it). A curve without an ``[accuracy.fitted_on]`` record (a stated curve, as in the paper's
    scenarios) is refused the same way: nothing shows it describes these rows, so it runs only
    with ``--any-curve``, held to by the contract's curve check alone."""
    from modelpact.curve_record import curve_matches_dataset
    from modelpact.ml.models import TRAINER

    reason = curve_matches_dataset(scenario, rows, dataset, learner=TRAINER)
    if reason is None:  # the record is this data's: the curve must be what the record learns
        from modelpact.ml.curve import checked_curve_states_its_tolerance, curve_reproduces_by_name

        again = curve_reproduces_by_name(scenario)
        reason = None if again is None else f"the curve is not what its record learns: {again}"
        widened = checked_curve_states_its_tolerance(scenario)
        if reason is None and widened is not None:
            reason = (
                f"a learned curve's tolerance follows from its record, but {widened}: remove it"
            )
    if reason is not None:
        raise PlanError(
            f"{scenario.source}: {reason}",
            hint="or pass --any-curve to run on this data anyway: the contract's curve check "
            "then pays every participant for the collective model's shortfall (nothing was sent)",
        )


def plan_round(
    *,
    scenario_path: Path,
    work_dir: Path,
    dataset: str,
    test_size: int,
    seed: int,
    any_curve: bool = False,
) -> Planned:
    """:func:`plan_menu` then :func:`plan_data` (the scenario's curve must fit the data);
    refused when the split leaves fewer pool rows than the largest option asks (no participant
    could be served from this dataset)."""
    offer = plan_menu(scenario_path=scenario_path, work_dir=work_dir)
    data = plan_data(
        dataset=dataset,
        test_size=test_size,
        seed=seed,
        work_dir=work_dir,
        scenario=offer.scenario,
        any_curve=any_curve,
    )
    largest = max((round(o.m) for o in offer.menu.offered), default=0)
    pool = int(data.pool_rows.shape[0])
    if pool < largest:
        raise PlanError(
            f"a public test set of {test_size} rows leaves {pool} rows of {dataset} for the "
            f"participants, fewer than the {largest} rows the menu's largest option asks",
            hint=f"pass a smaller --test-size (at most {test_size - (largest - pool)})",
        )
    return Planned(offer, data, any_curve)


def onchain_menu(menu: Menu) -> list[OnchainOption]:
    """The contract's options (dataCount, ratioWad, promisedValueWad, budgetValueWad) of the
    offered options of an integer menu. Values are floored to WAD (never promise more) and the
    ratio is floor(t * WAD / t_bar) of those values, as the v2 constructor requires."""
    from modelpact.encoding import OnchainOption, option_ratio_wad, to_wad

    options = []
    for option in menu.offered:
        m = round(option.m)
        if abs(option.m - m) > 1e-9 or m <= 0:
            raise PlanError(
                f"option of type {option.type} asks for {option.m} rows, not a positive integer",
                hint="integerize the menu (optimizer.integerize_menu) before deploying",
            )
        t_wad, t_bar_wad = to_wad(option.t), to_wad(option.t_bar)
        t_wad = min(t_wad, t_bar_wad)  # never promise more than the budget (the contract checks)
        # the ratio the contract requires: floor(t * WAD / t_bar) of the WAD values it stores
        options.append(OnchainOption(m, option_ratio_wad(t_wad, t_bar_wad), t_wad, t_bar_wad))
    return options


def curve_knots(accuracy: AccuracyFunction, *, max_rows: int, count: int = 24) -> list[CurveKnot]:
    """Knots (dataCount, accuracyWad) of the scenario's accuracy function, log-spaced up to
    ``max_rows`` (the most data the round can collect), lifted so that the contract's chords
    never predict below the curve at a whole number of rows
    (:func:`modelpact.compensation.committed_knot_values`); accuracy floored to WAD."""
    from modelpact.compensation import committed_knot_values
    from modelpact.encoding import CurveKnot, to_wad

    xs = np.unique(np.round(np.geomspace(8, max(max_rows, 16), count)).astype(np.int64))
    values = committed_knot_values(accuracy, xs.astype(np.float64))
    return [
        CurveKnot(int(x), to_wad(float(a)))
        for x, a in zip(xs.tolist(), values.tolist(), strict=True)
    ]


def curve_terms(
    offer: MenuPlan, *, no_compensation: bool = False, any_curve: bool = False
) -> CompensationTerms:
    """The curve check's tolerance tau and shortfall price rho for the round
    (:func:`modelpact.compensation.compensation_terms`, what the audit re-derives).

    A scenario that states no wei price (``[valuation] unit_wei``), or no curve tolerance or
    uncertainty, has no compensation terms: it is refused (:class:`PlanError`), because the
    round would deploy with tau = 1 and rho = 0 and owe nothing for a collective model short of
    its curve. ``no_compensation`` (``--no-compensation``) deploys such a round anyway, with
    tau = 1 and rho = 0, which the deploy output, the demo report and the audit
    (``curve.terms``) then state. A scenario that states its terms always gets them, except
    that ``any_curve`` (a curve not shown to describe the round's data) deploys with tau = 0:
    a tolerance is the noise an honest curve makes, and within it an overstated curve would buy
    rows for free, so a curve nobody checked is held to every shortfall."""
    from modelpact.compensation import CompensationTerms, compensation_terms
    from modelpact.encoding import WAD
    from modelpact.errors import ScenarioError

    try:
        terms = compensation_terms(offer.scenario, menu=offer.menu)
        return terms._replace(tolerance_wad=0) if any_curve else terms
    except ScenarioError as error:
        if no_compensation:
            return CompensationTerms(tolerance_wad=WAD, shortfall_wei_per_wad=0)
        raise PlanError(
            f"{error.message}, so the round would owe nothing when the collective model falls "
            "short of its curve (tau = 1, rho = 0)",
            hint=f"{error.hint or 'fix the scenario'} (and a curve tolerance or uncertainty, as "
            "`modelpact curve` writes), or pass --no-compensation to deploy a round that pays no "
            "curve compensation; nothing was sent",
        ) from None
