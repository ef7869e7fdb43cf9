"""Figures of the studies (matplotlib, Agg backend: files only, no display needed).

Two-type study, in the paper's layout: the optimal contracts over (p1, N) on top (m_i, t_i under
incomplete information, with the complete-information expectations below them on the same colour
scale), and the information cost and rents at the bottom. Multi-type cases: a ridge plot of each
type's reward distribution with its promised t_i marked, and stacked bars of the data
contributions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelpact.studies.paper import MultiTypeResult, TwoTypeStudy

__all__ = ["ir_shortfall_figure", "multi_type_figure", "two_type_figures"]

FloatArray = NDArray[np.float64]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _heat(ax: Any, fig: Any, study: TwoTypeStudy, data: FloatArray, title: str, **kw: Any) -> None:
    p1, n = np.array(study.p1), np.array(study.participants, dtype=float)
    mesh = ax.pcolormesh(p1, n, data, shading="nearest", **kw)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("p1 (probability of the high-cost type)")
    ax.set_ylabel("N (participants)")
    fig.colorbar(mesh, ax=ax)


def _per_type(
    axes: Any, fig: Any, study: TwoTypeStudy, data: FloatArray, title: str, cmap: str
) -> None:
    """One heat map per type of a nonnegative (N, p1, 2) quantity, on one scale from 0 so
    the two types compare; ``title`` takes the type number."""
    top = max(float(np.nanmax(data)), 1e-9)
    for i in range(2):
        _heat(axes[i], fig, study, data[..., i], title.format(i + 1), cmap=cmap, vmin=0.0, vmax=top)


def _save(fig: Any, path: Path) -> Path:
    plt = _pyplot()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _contracts(study: TwoTypeStudy, path: Path) -> Path:
    plt = _pyplot()
    fig, axes = plt.subplots(2, 4, figsize=(20, 8.5))
    fig.subplots_adjust(left=0.04, right=0.98, wspace=0.3, hspace=0.3, bottom=0.07, top=0.92)
    panels = (("m", study.m, study.complete_m), ("t", study.t, study.complete_t))
    for col, (name, i, inc, com) in enumerate(
        (name, i, inc, com) for name, inc, com in panels for i in range(2)
    ):
        both = np.concatenate([inc[..., i].ravel(), com[..., i].ravel()])
        lo, hi = float(np.nanmin(both)), float(np.nanmax(both))  # one scale: columns compare
        shown = (
            (inc, f"{name}_{i + 1}, incomplete information"),
            (com, f"E {name}_{i + 1}, complete information"),
        )
        for row, (data, title) in enumerate(shown):
            _heat(axes[row, col], fig, study, data[..., i], title, vmin=lo, vmax=hi)
    fig.suptitle(f"Two types, c = (0.02, 0.01): optimal contracts ({study.belief} belief)")
    return _save(fig, path)


def _information(study: TwoTypeStudy, path: Path) -> Path:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    fig.subplots_adjust(left=0.05, right=0.98, wspace=0.25, bottom=0.13, top=0.86)
    _heat(
        axes[0],
        fig,
        study,
        study.information_cost,
        "information cost (E v(a), incomplete - complete)",
        cmap="magma",
    )
    _per_type(
        axes[1:], fig, study, study.information_rent, "information rent of type {}", "viridis"
    )
    fig.suptitle(
        f"Information cost for the coordinator, rents for the parties ({study.belief} belief)"
    )
    return _save(fig, path)


def two_type_figures(study: TwoTypeStudy, out: Path) -> list[Path]:
    """Write ``two_type_contracts_<belief>.png`` and ``two_type_information_<belief>.png``."""
    return [
        _contracts(study, out / f"two_type_contracts_{study.belief}.png"),
        _information(study, out / f"two_type_information_{study.belief}.png"),
    ]


def ir_shortfall_figure(paper: TwoTypeStudy, out: Path) -> Path:
    """Heat maps of the IR shortfall a Bayesian participant suffers under the paper-belief menu."""
    assert paper.bayes_ir_shortfall is not None, "paper-belief study"
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    fig.subplots_adjust(left=0.08, right=0.98, wspace=0.25, bottom=0.13, top=0.86)
    title = "type {}: f + c m - E_bayes[reward]"  # 0 = IR holds
    _per_type(axes, fig, paper, paper.bayes_ir_shortfall, title, "Reds")
    fig.suptitle("IR shortfall of a Bayesian participant under the paper-belief menu (value units)")
    return _save(fig, out / "two_type_bayes_ir_shortfall.png")


def _ridge(ax: Any, result: MultiTypeResult) -> None:
    rewards = result.rewards
    x = np.array(rewards.x)
    k = len(rewards.density)
    scale = 0.9 / max(max(d) for d in rewards.density)
    for i in range(k):
        base = float(i)
        point_mass = rewards.high[i] - rewards.low[i] <= 1e-9 * max(abs(rewards.high[i]), 1.0)
        if point_mass:  # every outcome pays the same: a spike, not a smoothed bump
            ax.bar([rewards.mean[i]], [0.9], bottom=base, width=0.03 * float(np.ptp(x)),
                   color=f"C{i}", alpha=0.8, label="point mass" if i == 0 else None)  # fmt: skip
        else:
            density = np.array(rewards.density[i]) * scale
            ax.fill_between(x, base, base + density, alpha=0.6, color=f"C{i}", lw=0)
            ax.plot(x, base + density, color=f"C{i}", lw=0.9)
        promised = result.point.t[i]
        ax.plot([promised, promised], [base, base + 0.95], color="black", lw=1.5)
    ax.plot([], [], color="black", lw=1.5, label="promised t_i")
    ax.set_yticks(range(k), [f"type {i + 1} (c={c:g})" for i, c in enumerate(result.case.costs)])
    ax.set_ylim(-0.1, k)
    ax.set_xlim(float(x[0]), float(x[-1]))
    ax.ticklabel_format(axis="x", useOffset=False)
    ax.set_xlabel("value of the model received, v(r_i)")
    ax.set_title("reward distribution over outcomes (kernel density)", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)


def _bars(ax: Any, result: MultiTypeResult) -> None:
    k = len(result.base)
    x = np.arange(k)
    alone = np.array(result.alone)
    base, add, red = (np.array(v) for v in (result.base, result.additional, result.reduction))
    if alone.any():
        ax.bar(x[alone], base[alone], color="0.6", label="base: what it would collect alone")
        ax.bar(x[alone], add[alone], bottom=base[alone], color="C2", label="incentivised addition")
    cut = alone & (red > 0)
    if cut.any():
        ax.bar(
            x[cut],
            red[cut],
            bottom=base[cut],
            color="none",
            edgecolor="C3",
            hatch="///",
            label="incentivised reduction",
        )
    if (~alone).any():
        ax.bar(
            x[~alone],
            add[~alone],
            color="C0",
            hatch="..",
            edgecolor="white",
            label="would not train alone: all incentivised",
        )
        if alone.any():
            ax.axvline(float(np.flatnonzero(~alone).max()) + 0.5, color="0.3", ls="--", lw=1)
    top = base + add + red
    for i in range(k):
        ax.text(x[i], top[i], f"m={base[i] + add[i]:.4g}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [f"type {i + 1}" for i in range(k)])
    ax.set_ylim(0, 1.25 * float(top.max(initial=1.0)))
    ax.set_ylabel("data contributed, m_i")
    ax.set_title("data contributions", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)


def multi_type_figure(result: MultiTypeResult, out: Path) -> Path:
    """``multi_type_<case>_<belief>.png``: ridge plot of rewards and stacked contribution bars."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.8))
    fig.subplots_adjust(left=0.1, right=0.98, wspace=0.18, bottom=0.12, top=0.88)
    if result.point.status == "ok":
        _ridge(axes[0], result)
        _bars(axes[1], result)
    else:
        for ax in axes:
            ax.text(0.5, 0.5, result.point.message, ha="center", wrap=True)
    fig.suptitle(
        f"Sec. 6.2 {result.case.key}: {result.case.title}, N = 10, p_i = 1/5 "
        f"({result.point.belief} belief)"
    )
    return _save(fig, out / f"multi_type_{result.case.key}_{result.point.belief}.png")
