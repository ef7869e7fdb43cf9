"""What a truncated exact solve publishes about the outcomes it dropped (see
:mod:`modelpact.outcomes` for the bounds and :func:`~modelpact.optimizer.certificate.
truncation_slack` for their place in the upper bound)."""

from __future__ import annotations

import numpy as np

from modelpact.optimizer.economy import Economy
from modelpact.optimizer.types import FloatArray
from modelpact.outcomes import ROUNDING_ALLOWANCE

__all__ = ["dropped_floor", "truncation_extra", "truncation_text"]


def dropped_floor(econ: Economy, m: FloatArray) -> float:
    """A lower bound on what the dropped outcomes add to the expected accuracy at ``m``.

    Every outcome n of N participants pools n . m >= N min_i m_i, and the curve increases, so
    each dropped outcome contributes at least a(N min_i m_i) times its probability; the mass is
    taken without the rounding allowance (which is not probability)."""
    model = econ.model
    if model.dropped_tbar is None:
        return 0.0
    mass = max(0.0, model.dropped_objective - 2.0 * ROUNDING_ALLOWANCE)
    least = econ.scenario.participants * float(np.min(m))
    return mass * float(econ.scenario.accuracy(np.array([least]))[0])


def truncation_extra(econ: Economy) -> dict[str, float]:
    """Menu ``extra`` fields of a truncated solve (empty otherwise)."""
    model = econ.model
    if model.dropped_tbar is None:
        return {}
    return {
        "dropped_mass": model.dropped_objective,
        "dropped_tbar_max": float(model.dropped_tbar.max()),
        "ic_tolerance": float(model.dropped_tbar.max()) * econ.v_sup,
    }


def truncation_text(econ: Economy) -> str:
    """The certification line of a truncated solve."""
    model = econ.model
    assert model.dropped_tbar is not None
    worst = float(model.dropped_tbar.max())
    return (
        f"exact expectations over the {model.size:,} most likely outcomes (dropped probability "
        f"{model.dropped_objective:.2g}): expected accuracy and t_bar are lower bounds, so BC and "
        f"IR hold for the full distribution and IC/exclusion up to {worst * econ.v_sup:.2g} "
        "value units; upper bound by weak duality with concave majorants plus the dropped mass "
        "times the supremum"
    )
