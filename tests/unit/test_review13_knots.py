"""Hostile review of issue 13: the committed curve the contract checks against under-predicts.

The contract's prediction is the piecewise linear interpolation of 24 log-spaced knots of the
scenario's curve a(x). For a concave curve every chord lies below it, so at the data totals a
round can reach the contract holds the coordinator to less than a(S), the curve the promises
were computed with. That gap is never compensated, on top of tau: the digits demo's full
rounds lost up to 3.8e-4 of accuracy (0.038 value units x ratio, 1.3% of tau) at S = 310 rows,
and rounds below capacity (quorum < N) up to 2.7e-3 at S = 34. The committed knots are now lifted
(compensation.committed_knot_values) so that no chord predicts below the curve; the audit's
curve.matches_scenario compares the knots with the same lifted values."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from modelpact.encoding import WAD, predicted_accuracy
from modelpact.optimizer import integerize_menu, solve
from modelpact.round.planning import curve_knots, onchain_menu
from modelpact.scenario import load_scenario

DEMO = Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios/digits_demo.toml"


def test_the_committed_prediction_is_never_below_the_curve_at_a_reachable_total() -> None:
    """At every data total a full demo round can deliver (each of the N participants on one of
    the menu's options), the contract's prediction from the committed knots is at least the
    scenario's a(S) minus 1e-8 (the audit's 1e-6 value tolerance at scale 100): otherwise the
    participant's promise ratio x v(a(S)) is held to a lower bar than it was computed with."""
    scenario = load_scenario(DEMO)
    rows = [o.data_count for o in onchain_menu(integerize_menu(scenario, solve(scenario)))]
    knots = curve_knots(scenario.accuracy, max_rows=scenario.participants * max(rows))
    pairs = [(k.data_count, k.accuracy_wad) for k in knots]
    worst = 0.0
    for combo in itertools.combinations_with_replacement(rows, scenario.participants):
        total = sum(combo)
        curve = float(scenario.accuracy(np.array([float(total)]))[0])
        worst = max(worst, curve - predicted_accuracy(pairs, total) / WAD)
    assert worst <= 1e-8, worst


def test_the_lift_is_small_and_the_audit_accepts_exactly_it() -> None:
    """The lift never lowers a knot, costs the coordinator at most the largest chord gap (on the
    demo's curve under 1e-2 at the smallest knots, where the curve is steepest, and under 1e-3
    from 100 rows on), and every whole row count from 1 to the last knot,
    including those below the first knot (the chord from the origin), is predicted at or above
    the curve."""
    from modelpact.compensation import committed_knot_values

    scenario = load_scenario(DEMO)
    knots = curve_knots(scenario.accuracy, max_rows=1310)
    xs = np.array([k.data_count for k in knots], dtype=np.float64)
    on_curve = np.asarray(scenario.accuracy(xs), dtype=np.float64)
    lifted = committed_knot_values(scenario.accuracy, xs)
    assert np.all(lifted >= on_curve)
    assert float(np.max(lifted - on_curve)) < 1e-2
    assert float(np.max((lifted - on_curve)[xs >= 100])) < 1e-3
    pairs = [(k.data_count, k.accuracy_wad) for k in knots]
    rows = np.arange(1, int(xs[-1]) + 1)
    curve = np.asarray(scenario.accuracy(rows.astype(np.float64)), dtype=np.float64)
    predicted = np.array([predicted_accuracy(pairs, int(r)) / WAD for r in rows])
    assert float(np.max(curve - predicted)) <= 1e-12
