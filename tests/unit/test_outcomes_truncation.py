"""Truncated enumeration, the pooled identity and the mean-field (Jensen) model."""

from __future__ import annotations

import numpy as np
import pytest

from modelpact.outcomes import (
    ROUNDING_ALLOWANCE,
    TooManyOutcomesError,
    belief_model,
    enumerate_outcomes,
    enumerate_truncated,
    mean_field_model,
)

P = np.array([0.1, 0.2, 0.3, 0.4])


@pytest.mark.parametrize("threshold", [1e-4, 1e-9, 1e-14])
def test_truncation_keeps_exactly_the_likely_outcomes(threshold: float) -> None:
    """The kept outcomes are those of the full enumeration with P >= threshold, with the same
    probabilities, and the reported dropped mass bounds (and nearly equals) the true one."""
    full = enumerate_outcomes(25, P)
    cut = enumerate_truncated(25, P, threshold, limit=10**7)
    likely = full.weights >= threshold
    assert {tuple(r) for r in cut.counts} == {tuple(r) for r in full.counts[likely]}
    order = np.lexsort(cut.counts.T)
    full_order = np.lexsort(full.counts[likely].T)
    np.testing.assert_allclose(cut.weights[order], full.weights[likely][full_order], rtol=1e-12)
    true_dropped = float(full.weights[~likely].sum())
    assert true_dropped <= cut.dropped <= true_dropped + 2 * ROUNDING_ALLOWANCE


def test_truncation_refuses_beyond_its_limit() -> None:
    """More kept outcomes than the limit raise instead of filling memory."""
    with pytest.raises(TooManyOutcomesError):
        enumerate_truncated(40, P, 1e-12, limit=1000)


@pytest.mark.parametrize("belief", ["bayes", "paper"])
def test_pooled_identity_and_truncated_models_agree_with_the_definitions(belief: str) -> None:
    """P_N(n) n_i/(N p_i) = P_{N-1}(n - e_i): the pooled bayes model gives the same t_bar and
    objective as the shifted one; a truncated model is below and within its dropped bounds."""
    m = np.array([3.0, 5.0, 9.0, 20.0])
    v = np.sqrt  # any nonnegative increasing function stands in for v o a
    reference = belief_model(belief, 9, P)
    pooled = belief_model(belief, 9, P, pooled_once=True)
    truncated = belief_model(belief, 9, P, threshold=1e-5)

    def values(model):  # (t_bar, objective)
        s = v(model.pooled(m))
        tbar = np.einsum("io,oi->i", model.tbar_weights, s)
        rows = len(model.objective_weights)  # (1, M) when the pooled data is shared
        return tbar, float(np.einsum("io,oi->", model.objective_weights, s[:, :rows]))

    tbar_ref, obj_ref = values(reference)
    tbar_pool, obj_pool = values(pooled)
    np.testing.assert_allclose(tbar_pool, tbar_ref, rtol=1e-12)
    assert obj_pool == pytest.approx(obj_ref, rel=1e-12)
    tbar_cut, obj_cut = values(truncated)
    assert truncated.dropped_tbar is not None
    sup = float(v(np.array([9 * m.max()]))[0])
    assert np.all(tbar_cut <= tbar_ref + 1e-12)
    assert np.all(tbar_ref <= tbar_cut + truncated.dropped_tbar * sup + 1e-12)
    assert obj_cut <= obj_ref + 1e-12 <= obj_cut + truncated.dropped_objective * sup + 2e-12


@pytest.mark.parametrize("belief", ["bayes", "paper"])
def test_mean_field_model_bounds_concave_expectations(belief: str) -> None:
    """Jensen: for a concave increasing function the mean-field expectations are above the
    exact ones, for t_bar and the objective."""
    m = np.array([3.0, 5.0, 9.0, 20.0])
    exact = belief_model(belief, 9, P)
    mean = mean_field_model(belief, 9, P)
    s_mean, s_ref = np.sqrt(mean.pooled(m)), np.sqrt(exact.pooled(m))
    tbar_mean = np.einsum("io,oi->i", mean.tbar_weights, s_mean)
    tbar_ref = np.einsum("io,oi->i", exact.tbar_weights, s_ref)
    assert np.all(tbar_mean >= tbar_ref - 1e-12)
    obj_mean = float(np.einsum("io,oi->", mean.objective_weights, s_mean))
    obj_ref = float(np.einsum("io,oi->", exact.objective_weights, s_ref))
    assert obj_mean >= obj_ref - 1e-12
