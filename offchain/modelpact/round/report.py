"""The round report: JSON summary and PNG plots, from plain data (no chain access).

Plots (matplotlib, Agg backend):
  ``menu.png``      the menu options (m_i, t_i) against each type's reservation line
                    t = f_i + c_i m (an option above type i's line is individually rational for it);
  ``rewards.png``   the distribution of received model value per type, as in the paper;
  ``promised.png``  promised expected value t versus realised value, per participant.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from modelpact.round.state import atomic_write_json

__all__ = [
    "Check",
    "ParticipantOutcome",
    "RoundReport",
    "TypeInfo",
    "plot_menu",
    "plot_promised",
    "plot_rewards",
    "write_plots",
    "write_report",
]


@dataclass(frozen=True)
class TypeInfo:
    """One participant type: cost per row c_i, probability p_i, reservation utility f_i."""

    index: int  # 1-based, type 1 = highest cost
    cost: float
    probability: float
    reservation: float


@dataclass(frozen=True)
class ParticipantOutcome:
    """What one participant chose and received."""

    index: int
    address: str
    type_index: int
    cost: float
    option_id: int
    data_count: int
    promised_value: float  # t of the chosen option, model value units
    target_accuracy: float
    received_accuracy: float
    received_value: float
    rung: int
    model_hash: str
    utility: float  # received value - cost * data
    verified: bool
    compensation_wei: int = 0  # curve compensation paid at claim out of the coordinator's bond
    compensation_value: float = 0.0  # the same in value units (wei / unit_wei), 0 without a price
    # what the promise lost beyond tau and was not paid back, accuracy units (the audit's
    # curve.compensation rule): 0 when the promise was kept
    uncompensated: float = 0.0


@dataclass(frozen=True)
class Check:
    """One pass/fail check with a short explanation."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class RoundReport:
    """Everything the demo reports about a finished round."""

    chain: str
    chain_id: int
    address: str
    participants: int
    seed: int
    collective_accuracy: float
    collective_value: float
    predicted_accuracy: float  # the contract's committed curve (predictedAccuracy) at total_data
    total_data: int
    total_gas: int
    wall_seconds: float
    menu: list[dict[str, float]]
    types: list[TypeInfo]
    outcomes: list[ParticipantOutcome]
    checks: list[Check]
    scenario_predicted_accuracy: float | None = None  # the scenario's a(x) at total_data
    tier_mode: str = "deterministic"  # reward tiers: deterministic or lottery
    tiers_posted: int = 0  # reward models below the collective model
    models_trained: int = 0  # every model fitted to build them (the tiers' cost)
    # the on-chain curve check (issue 13): the contract's prediction for the delivered rows, the
    # tolerance tau and the shortfall below prediction - tau (accuracy units), the compensation it
    # owed in all (wei), and the participants named undelivered at post
    curve_tolerance: float = 0.0
    curve_shortfall: float = 0.0
    compensation_paid_wei: int = 0
    undelivered: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(check.passed for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (with ``passed``)."""
        data = asdict(self)
        data["passed"] = self.passed
        return data


def _figure(width: float, height: float) -> tuple[Any, Any]:
    """A figure and its axes from matplotlib's object API (rendered by Agg at ``savefig``):
    pyplot's global state and backend machinery are not needed to write a PNG, and importing
    pyplot cost ~0.4 s of every demo."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


def plot_menu(
    path: Path, *, menu: Sequence[tuple[float, float]], types: Sequence[TypeInfo]
) -> Path:
    """Menu options (m, t) against reservation lines t = f_i + c_i m; write a PNG."""
    fig, ax = _figure(6.4, 4.4)
    m_max = max([m for m, _ in menu] + [1.0]) * 1.15
    for info in types:
        ax.plot(
            [0.0, m_max],
            [info.reservation, info.reservation + info.cost * m_max],
            linestyle="--",
            linewidth=1,
            label=f"type {info.index}: f={info.reservation:.2f}, c={info.cost:g}",
        )
    ax.scatter([m for m, _ in menu], [t for _, t in menu], color="black", zorder=3, label="options")
    for option_id, (m, t) in enumerate(menu):
        ax.annotate(f"option {option_id}", (m, t), textcoords="offset points", xytext=(4, 4))
    top = max([t for _, t in menu] + [1.0]) * 1.3
    ax.set_ylim(0, top)
    ax.set_xlim(0, m_max)
    ax.set_xlabel("rows of data contributed m")
    ax.set_ylabel("expected model value t")
    ax.set_title("Menu against reservation lines")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def plot_rewards(path: Path, *, outcomes: Sequence[ParticipantOutcome]) -> Path:
    """Received model value per type (one strip of points per type, mean marked); write a PNG."""
    fig, ax = _figure(6.4, 4.4)
    by_type: dict[int, list[float]] = {}
    promised: dict[int, list[float]] = {}
    for outcome in outcomes:
        by_type.setdefault(outcome.type_index, []).append(outcome.received_value)
        promised.setdefault(outcome.type_index, []).append(outcome.promised_value)
    kinds = sorted(by_type)
    if kinds:
        ax.boxplot([by_type[k] for k in kinds], positions=kinds, widths=0.5)
        for k in kinds:
            xs = [k + 0.12 * ((i % 5) - 2) / 2 for i in range(len(by_type[k]))]
            ax.scatter(xs, by_type[k], s=14, alpha=0.7)
            mean_t = sum(promised[k]) / len(promised[k])
            ax.hlines(mean_t, k - 0.3, k + 0.3, colors="red", linestyles=":")
        ax.set_xticks(kinds, [f"type {k}" for k in kinds])
    ax.set_ylabel("received model value v(r)")
    ax.set_title("Reward distribution per type (red: promised t)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def plot_promised(path: Path, *, outcomes: Sequence[ParticipantOutcome]) -> Path:
    """Promised t versus received value per participant; write a PNG."""
    fig, ax = _figure(5.2, 5.0)
    xs = [o.promised_value for o in outcomes]
    ys = [o.received_value for o in outcomes]
    for kind in sorted({o.type_index for o in outcomes}):
        mine = [o for o in outcomes if o.type_index == kind]
        ax.scatter(
            [o.promised_value for o in mine],
            [o.received_value for o in mine],
            zorder=3,
            alpha=0.7,
            label=f"type {kind} ({len(mine)})",
        )
    top = max([*xs, *ys, 1.0]) * 1.03
    bottom = min([*xs, *ys, top]) * 0.9
    ax.plot([0, top], [0, top], color="grey", linestyle="--", linewidth=1, label="received = t")
    ax.set_xlim(bottom, top)
    ax.set_ylim(0 if min([*ys, 1.0]) == 0 else bottom, top)
    ax.set_xlabel("promised expected value t")
    ax.set_ylabel("received model value")
    ax.set_title("Promised versus received")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def write_plots(
    out_dir: Path,
    *,
    menu: Sequence[tuple[float, float]],
    types: Sequence[TypeInfo],
    outcomes: Sequence[ParticipantOutcome],
) -> dict[str, Path]:
    """The three plots of a round into ``out_dir``: the menu (rows, promised value), the
    rewards and the promised against the received values; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        "menu": plot_menu(out_dir / "menu.png", menu=menu, types=types),
        "rewards": plot_rewards(out_dir / "rewards.png", outcomes=outcomes),
        "promised": plot_promised(out_dir / "promised.png", outcomes=outcomes),
    }


def menu_points(menu: Sequence[dict[str, float]]) -> list[tuple[float, float]]:
    """(data_count, promised_value) of each option of a report's menu: what the menu plot shows."""
    return [(float(o["data_count"]), float(o["promised_value"])) for o in menu]


def write_report(
    out_dir: Path, report: RoundReport, *, plots: dict[str, Path] | None = None
) -> dict[str, Path]:
    """Write ``report.json`` and the three plots into ``out_dir`` (``plots``: already written
    by :func:`write_plots` for this report); return their paths."""
    if plots is None:
        plots = write_plots(
            out_dir, menu=menu_points(report.menu), types=report.types, outcomes=report.outcomes
        )
    paths = dict(plots)
    document = report.to_json()
    document["plots"] = {name: path.name for name, path in paths.items()}
    atomic_write_json(out_dir / "report.json", document)
    paths["json"] = out_dir / "report.json"
    return paths


def read_report(path: Path) -> dict[str, Any]:
    """Read a ``report.json`` back as plain JSON."""
    data: dict[str, Any] = json.loads(path.read_text())
    return data
