"""Multinomial outcomes and the two belief models."""

from __future__ import annotations

import math

import numpy as np

from modelpact.outcomes import belief_model, count_outcomes, enumerate_outcomes, sample_outcomes


def test_enumeration_counts_and_probabilities() -> None:
    """Exact enumeration visits C(N+K-1, K-1) outcomes summing to N, probabilities summing to 1."""
    p = np.array([0.2, 0.3, 0.5])
    out = enumerate_outcomes(7, p)
    assert len(out.counts) == count_outcomes(7, 3) == math.comb(9, 2)
    assert np.all(out.counts.sum(axis=1) == 7)
    assert len({tuple(r) for r in out.counts}) == len(out.counts)
    assert out.weights.sum() == np.float64(1.0) or abs(out.weights.sum() - 1) < 1e-12
    np.testing.assert_allclose(out.weights @ out.counts, 7 * p)
    assert count_outcomes(10, 5) == 1001
    assert count_outcomes(40, 5) == 135751


def test_sampling_is_seeded_and_unbiased() -> None:
    """Same seed gives the same draws; the sample mean of n is close to N p."""
    p = np.array([0.1, 0.9])
    a = sample_outcomes(20, p, 4000, np.random.default_rng(1))
    b = sample_outcomes(20, p, 4000, np.random.default_rng(1))
    assert np.array_equal(a.counts, b.counts)
    np.testing.assert_allclose(a.counts.mean(axis=0), 20 * p, atol=0.1)


def test_beliefs_differ_as_design_says() -> None:
    """N=2, p=(1/2,1/2): paper weights a type-1 participant's outcomes 1/3, 2/3; bayes 1/2, 1/2."""
    p = np.array([0.5, 0.5])
    paper = belief_model("paper", 2, p)
    rows = {
        tuple(int(x) for x in r): w for r, w in zip(paper.base, paper.tbar_weights[0], strict=True)
    }
    assert abs(rows[(2, 0)] - 1 / 3) < 1e-12
    assert abs(rows[(1, 1)] - 2 / 3) < 1e-12
    assert rows[(0, 2)] == 0.0
    bayes = belief_model("bayes", 2, p)
    m = np.array([1.0, 10.0])
    pooled = bayes.pooled(m)[:, 0]  # type 1's view: own 1 plus one other
    seen = dict(zip(pooled.tolist(), bayes.tbar_weights[0].tolist(), strict=True))
    assert seen == {2.0: 0.5, 11.0: 0.5}


def test_bayes_objective_equals_full_expectation() -> None:
    """sum_i p_i E[g(m_i + n'.m)] over N-1 others equals E[g(n.m)] over Multinomial(N, p)."""
    p = np.array([0.2, 0.3, 0.5])
    m = np.array([1.0, 2.5, 7.0])
    full = enumerate_outcomes(6, p)
    direct = float(full.weights @ np.sqrt(full.counts @ m))
    bayes = belief_model("bayes", 6, p)
    via = float(np.einsum("io,oi->", bayes.objective_weights, np.sqrt(bayes.pooled(m))))
    assert abs(direct - via) < 1e-12


def test_exact_pooled_models_are_built_once_and_read_only() -> None:
    """The exact pooled model is built once per (belief, N, probabilities, threshold, limit) in
    a process: the kept model equals a fresh build, its arrays cannot be written (no caller can
    change what the next one gets), and other probabilities get their own model."""
    import pytest

    from modelpact import outcomes

    p = np.array([0.3, 0.3, 0.4])
    for belief in ("bayes", "paper"):
        first = outcomes.belief_model(belief, 40, p, pooled_once=True)
        assert outcomes.belief_model(belief, 40, p.copy(), pooled_once=True) is first
        fresh = outcomes._build_exact_pooled(belief, 40, p, threshold=0.0, limit=10_000_000)
        for name in ("base", "tbar_weights", "objective_weights"):
            assert np.array_equal(getattr(first, name), getattr(fresh, name))
            with pytest.raises(ValueError, match="read-only"):
                getattr(first, name)[0] = 1.0
        other = outcomes.belief_model(belief, 40, np.array([0.2, 0.4, 0.4]), pooled_once=True)
        assert other is not first
        assert not np.array_equal(other.tbar_weights, first.tbar_weights)
