"""Rank correlation of task durations: Iman-Conover per block, validation and repair of the matrix."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy.stats import spearmanr

from pmrisk.engine import correlation as corr
from pmrisk.engine.correlation import (
    DEFAULT_BLOCK,
    CorrelationModel,
    apply_correlation,
    build_correlation_model,
    iman_conover_block,
    nearest_correlation_matrix,
    rank_to_score_correlation,
)
from pmrisk.engine.sampling import STREAM_DURATION, entity_keys, seed_key, uniforms
from pmrisk.errors import ProjectError

B = DEFAULT_BLOCK
N_BLOCKS = 200
N = B * N_BLOCKS
# Spearman's coefficient of N pairs has standard error <= ~1/sqrt(N) (less when |rho| is large, and
# Iman-Conover's exact per-block score correlation lowers it further); 4/sqrt(N) = 0.0125 is the
# tolerance: a true bias of 0.018 (forgetting the rank <-> normal-scores conversion) would fail.
TOL = 4.0 / math.sqrt(N)


def _grades(ids, first=0, count=N, seed=2024):
    lo, hi = entity_keys(ids)
    u, _ = uniforms(seed_key(seed), first, count, lo, hi, STREAM_DURATION)
    return u


def _spearman(x):
    """Spearman matrix of the rows of x (scipy returns a scalar for two rows)."""
    r = spearmanr(x, axis=1)[0]
    return np.array([[1.0, r], [r, 1.0]]) if len(x) == 2 else r


def _pairs(ids, matrix):
    return [(ids[i], ids[j], float(matrix[i, j])) for i, j in itertools.combinations(range(len(ids)), 2)]


TARGETS = {
    "k2_positive": np.array([[1.0, 0.6], [0.6, 1.0]]),
    "k2_negative": np.array([[1.0, -0.8], [-0.8, 1.0]]),
    "k2_weak": np.array([[1.0, 0.2], [0.2, 1.0]]),
    "k3_mixed": np.array([[1.0, 0.7, -0.3], [0.7, 1.0, -0.5], [-0.3, -0.5, 1.0]]),
    "k5_mixed": np.array([[1.0, 0.6, -0.4, 0.3, 0.0],
                          [0.6, 1.0, -0.2, 0.5, 0.1],
                          [-0.4, -0.2, 1.0, 0.0, -0.3],
                          [0.3, 0.5, 0.0, 1.0, 0.2],
                          [0.0, 0.1, -0.3, 0.2, 1.0]]),
}


# ------------------------------------------------------------------------------------------------
# Iman-Conover: targets, marginals, determinism
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(TARGETS))
def test_rank_correlation_meets_target(name):
    target = TARGETS[name]
    k = len(target)
    ids = [f"T{i}" for i in range(k)]
    model = build_correlation_model(_pairs(ids, target))
    assert not model.repaired
    u = _grades(ids)
    v = u.copy()
    apply_correlation(v, model.rows(ids), model.cholesky(), B)
    got = _spearman(v)
    err = np.abs(got - target)[np.triu_indices(k, 1)]
    assert err.max() <= TOL, (name, got.round(4))
    # the independent input had no such correlation: the rearrangement did the work
    before = _spearman(u)
    assert np.abs(before - np.eye(k)).max() <= TOL


def test_rank_target_needs_the_normal_scores_conversion():
    """Feeding the rank matrix straight in as the score correlation misses by ~(6/pi) asin(r/2) - r."""
    ids = ["A", "B"]
    u = _grades(ids)
    v = u.copy()
    apply_correlation(v, np.arange(2), np.linalg.cholesky(TARGETS["k2_positive"]), B)
    got = spearmanr(v[0], v[1])[0]
    assert abs(got - 6 / np.pi * np.arcsin(0.3)) <= TOL
    assert got < 0.6 - TOL


def test_marginals_unchanged_block_by_block():
    ids = ["A", "B", "C", "D"]
    u = _grades(ids, count=B * 40)
    v = u.copy()
    model = build_correlation_model([("A", "C", 0.8), ("C", "D", -0.5)])
    rows = model.rows(ids)
    apply_correlation(v, rows, model.cholesky(), B)
    assert np.array_equal(v[1], u[1])  # B is not correlated: untouched
    for blk in range(40):
        sl = slice(blk * B, (blk + 1) * B)
        assert np.array_equal(np.sort(v[:, sl], axis=1), np.sort(u[:, sl], axis=1))
    assert not np.array_equal(v[rows], u[rows])


@pytest.mark.parametrize("k", [2, 5, 70])
def test_reproducible_and_chunk_independent(k):
    ids = [f"T{i}" for i in range(k)]
    rng = np.random.default_rng(k)
    a = rng.normal(size=(k, 2))
    p = a @ a.T + np.eye(k)
    d = np.sqrt(np.diag(p))
    model = build_correlation_model(_pairs(ids, p / np.outer(d, d)))
    chol = model.cholesky()
    n_blocks = 37 if k < 10 else 5  # crosses the internal grouping of blocks (32 blocks at k = 2)
    u = _grades(ids, count=B * n_blocks)

    whole = u.copy()
    apply_correlation(whole, np.arange(k), chol, B)
    again = u.copy()
    apply_correlation(again, np.arange(k), chol, B)
    assert np.array_equal(whole, again)

    for blk in range(n_blocks):  # block by block, through the one-block function
        sl = slice(blk * B, (blk + 1) * B)
        assert np.array_equal(iman_conover_block(u[:, sl], chol), whole[:, sl])

    # chunks of uneven whole-block sizes, each drawn afresh from its global iterations
    start = 0
    for size in itertools.cycle([1, 3, 2, 7]):
        if start >= n_blocks:
            break
        size = min(size, n_blocks - start)
        chunk = _grades(ids, first=start * B, count=size * B)
        apply_correlation(chunk, np.arange(k), chol, B)
        assert np.array_equal(chunk, whole[:, start * B:(start + size) * B])
        start += size


def test_rows_in_any_order_of_the_chunk():
    """The correlated tasks may sit anywhere in the engine's rows; other rows are left alone."""
    model = build_correlation_model([("X", "Y", -0.7), ("Y", "Z", 0.4)])
    engine_ids = ["Z", "Q", "X", "R", "Y"]
    u = _grades(engine_ids, count=4 * B)
    v = u.copy()
    apply_correlation(v, model.rows(engine_ids), model.cholesky(), B)
    direct = u[[2, 4, 0]]  # X, Y, Z: the model's order
    apply_correlation(direct, np.arange(3), model.cholesky(), B)
    assert np.array_equal(v[[2, 4, 0]], direct)
    assert np.array_equal(v[[1, 3]], u[[1, 3]])


def test_one_or_no_correlated_task_is_a_no_op():
    u = _grades(["A", "B"], count=B)
    v = u.copy()
    apply_correlation(v, np.array([1]), np.ones((1, 1)), B)
    apply_correlation(v, np.array([], dtype=int), np.ones((0, 0)), B)
    assert np.array_equal(u, v)
    assert np.array_equal(iman_conover_block(u[:1], np.ones((1, 1))), u[:1])
    empty = build_correlation_model([])
    assert empty.tasks == () and empty.cholesky().shape == (0, 0)


def test_bad_shapes_are_refused():
    u = _grades(["A", "B"], count=B)
    with pytest.raises(ValueError, match="whole number of blocks"):
        apply_correlation(u[:, :500].copy(), np.arange(2), np.eye(2), B)
    with pytest.raises(ValueError, match="2 x 2"):
        apply_correlation(u.copy(), np.arange(2), np.eye(3), B)
    with pytest.raises(ValueError, match="more iterations than correlated tasks"):
        iman_conover_block(u[:, :2], np.eye(2))


def test_order_is_a_stable_argsort():
    rng = np.random.default_rng(5)
    x = rng.choice([-2.0, -1e-300, 0.0, 1e-300, 0.5, 1.0, 3.25], size=(6, 300))  # many exact ties
    x[3] = rng.normal(size=300)
    assert np.array_equal(corr._order(x), np.argsort(x, axis=-1, kind="stable"))


def test_collinear_ranks_still_give_a_permutation():
    """Two tasks whose grades have identical ranks make the score Gram matrix singular: handled."""
    u = _grades(["A", "B", "C"], count=B)
    u[1] = u[0] ** 2  # same ranks as row 0
    v = iman_conover_block(u, build_correlation_model([("A", "B", 0.3), ("B", "C", 0.3)]).cholesky())
    assert np.array_equal(np.sort(v, axis=1), np.sort(u, axis=1))


# ------------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rho", [1.2, -1.5, float("nan"), float("inf"), "strong", None])
def test_rho_outside_range(rho):
    with pytest.raises(ProjectError, match=r"crm\.yaml, correlations: \[BUILD, MIGR\] rho .* \[-1, 1\]"):
        build_correlation_model([("BUILD", "MIGR", rho)], source="crm.yaml")


def test_task_correlated_with_itself():
    with pytest.raises(ProjectError, match="task BUILD is correlated with itself"):
        build_correlation_model([("A", "B", 0.2), ("BUILD", "BUILD", 0.5)])


def test_pair_given_twice():
    with pytest.raises(ProjectError, match=r"\[MIGR, BUILD\] is given twice, with rho 0.6 and 0.4"):
        build_correlation_model([("BUILD", "MIGR", 0.6), ("MIGR", "BUILD", 0.4)], source="crm.yaml")
    same = build_correlation_model([("BUILD", "MIGR", 0.6), ("MIGR", "BUILD", 0.6), ("BUILD", "MIGR", 0.6)])
    assert same.matrix[0, 1] == 0.6


def test_malformed_entry():
    with pytest.raises(ProjectError, match="two tasks and a rho"):
        build_correlation_model([("A", "B")])  # type: ignore[list-item]


def test_inconsistent_triple_is_named():
    with pytest.raises(ProjectError) as info:
        build_correlation_model([("A", "B", 0.9), ("B", "C", 0.9), ("A", "C", -0.9), ("D", "E", 0.5)],
                                source="crm.yaml")
    msg = str(info.value)
    assert msg.startswith("crm.yaml, correlations: ")
    assert "[A, B] 0.9, [B, C] 0.9, [A, C] -0.9" in msg
    assert "[D, E]" not in msg
    assert "correlation_repair: nearest" in msg and "Lower one of these correlations" in msg


def test_inconsistent_triple_with_a_pair_not_given():
    with pytest.raises(ProjectError, match=r"\[A, B\] 0.9, \[B, C\] 0.9, \[A, C\] not given \(so 0\)"):
        build_correlation_model([("A", "B", 0.9), ("B", "C", 0.9)])


def test_perfect_correlation_is_named():
    with pytest.raises(ProjectError, match=r"\[A, B\] -1: a rank correlation of exactly 1 or -1"):
        build_correlation_model([("A", "B", -1.0), ("B", "C", 0.2)])


def test_inconsistent_without_a_bad_triple_names_the_weightiest_pairs():
    ids = ["A", "B", "C", "D"]
    pairs = [(a, b, -0.34) for a, b in itertools.combinations(ids, 2)]  # every triple fine, all four not
    with pytest.raises(ProjectError, match="cannot all hold at once") as info:
        build_correlation_model(pairs)
    assert "-0.34" in str(info.value) and "smallest eigenvalue" in str(info.value)


# ------------------------------------------------------------------------------------------------
# the model, repair
# ------------------------------------------------------------------------------------------------

def test_consistent_input_is_returned_unchanged():
    target = TARGETS["k5_mixed"]
    ids = ["E", "A", "D", "B", "C"]  # the model sorts the ids; the matrix follows
    pairs = [(ids[i], ids[j], float(target[i, j])) for i, j in itertools.combinations(range(5), 2)
             if target[i, j] != 0]
    for repair in (False, True):
        m = build_correlation_model(pairs, repair=repair)
        assert m.tasks == ("A", "B", "C", "D", "E")
        assert not m.repaired and m.adjustments == ()
        order = [ids.index(t) for t in m.tasks]
        assert np.array_equal(m.matrix, target[np.ix_(order, order)])
    assert not m.matrix.flags.writeable
    assert m == build_correlation_model(list(reversed(pairs)))
    assert hash(m) == hash(build_correlation_model(pairs))
    with pytest.raises(ProjectError, match="unknown task C"):
        m.rows(["A", "B", "D", "E"])


def test_cholesky_factors_the_normal_scores_matrix():
    m = build_correlation_model([("A", "B", 0.5), ("A", "C", -0.3)])
    chol = m.cholesky()
    assert np.allclose(chol, np.tril(chol))
    assert np.allclose(chol @ chol.T, 2 * np.sin(np.pi / 6 * m.matrix))
    assert np.allclose(corr.score_to_rank_correlation(rank_to_score_correlation(m.matrix)), m.matrix)


def _is_correlation_matrix(x):
    return (np.allclose(x, x.T, atol=0) and np.array_equal(np.diag(x), np.ones(len(x)))
            and np.linalg.eigvalsh(x)[0] > corr.PD_TOLERANCE
            and np.linalg.eigvalsh(rank_to_score_correlation(x))[0] > corr.PD_TOLERANCE)


def test_repair_gives_a_close_consistent_matrix_and_reports_it():
    asked = np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]])
    m = build_correlation_model(_pairs(["A", "B", "C"], asked), repair=True)
    assert m.repaired and _is_correlation_matrix(m.matrix)
    np.linalg.cholesky(m.matrix)
    np.linalg.cholesky(m.cholesky() @ m.cholesky().T)
    # as close as the nearest correlation matrix, give or take the normal-scores limit
    nearest = nearest_correlation_matrix(asked)
    assert np.linalg.norm(m.matrix - asked) <= np.linalg.norm(nearest - asked) + 0.05
    assert np.linalg.norm(m.matrix - asked) < np.linalg.norm(np.eye(3) - asked)
    assert [(a, b, rho) for a, b, rho, _ in m.adjustments] == [("A", "B", 0.9), ("A", "C", -0.9), ("B", "C", 0.9)]
    for a, b, _, used in m.adjustments:
        i, j = m.tasks.index(a), m.tasks.index(b)
        assert used == m.matrix[i, j]


def test_repair_may_move_pairs_not_given_and_says_so():
    m = build_correlation_model([("A", "B", 0.9), ("B", "C", 0.9)], repair=True)
    moved = {(a, b): (asked, used) for a, b, asked, used in m.adjustments}
    assert moved[("A", "C")][0] == 0.0 and moved[("A", "C")][1] > 0.05
    assert _is_correlation_matrix(m.matrix)


def test_repair_of_a_perfect_correlation():
    m = build_correlation_model([("A", "B", 1.0)], repair=True)
    assert m.repaired and _is_correlation_matrix(m.matrix)
    assert m.matrix[0, 1] > 0.9999 and m.adjustments == ()  # moved by less than 1e-6
    m = build_correlation_model([("A", "B", 1.0), ("B", "C", 0.3)], repair=True)  # A = B forces A-C = 0.3
    assert _is_correlation_matrix(m.matrix)
    assert {(a, b) for a, b, _, _ in m.adjustments} == {("A", "B"), ("A", "C"), ("B", "C")}


def test_consistent_ranks_beyond_the_normal_scores_limit_are_adjusted_and_reported():
    """-0.49 all round is a valid rank matrix, but 2 sin(pi r / 6) = -0.5075 all round is not."""
    pairs = [("A", "B", -0.49), ("B", "C", -0.49), ("A", "C", -0.49)]
    m = build_correlation_model(pairs)  # no error without repair: the set is consistent
    assert m.repaired and len(m.adjustments) == 3
    assert all(abs(used - asked) < 0.02 for _, _, asked, used in m.adjustments)
    assert _is_correlation_matrix(m.matrix)


def test_nearest_correlation_matrix_higham_example():
    """Higham (2002), section 4: the nearest correlation matrix to [[1,1,0],[1,1,1],[0,1,1]]."""
    a = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]])
    x = nearest_correlation_matrix(a)
    published = np.array([[1.0, 0.7607, 0.1573], [0.7607, 1.0, 0.7607], [0.1573, 0.7607, 1.0]])
    assert np.abs(x - published).max() < 1e-4

    # independent oracle: minimise the Frobenius distance over X = L L' with unit rows of L
    def dist(theta):
        rows = theta.reshape(3, 3)
        rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return np.sum((rows @ rows.T - a) ** 2)

    best = min((optimize.minimize(dist, np.random.default_rng(s).normal(size=9), method="BFGS")
                for s in range(3)), key=lambda r: r.fun)
    rows = best.x.reshape(3, 3)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    assert np.abs(rows @ rows.T - x).max() < 1e-3


# ------------------------------------------------------------------------------------------------
# property: any valid correlation matrix is accepted, and marginals are always kept
# ------------------------------------------------------------------------------------------------

@st.composite
def correlation_matrices(draw):
    k = draw(st.integers(2, 6))
    f = draw(st.integers(1, 3))
    loadings = np.array(draw(st.lists(st.floats(-1.0, 1.0), min_size=k * f, max_size=k * f))).reshape(k, f)
    norms = np.linalg.norm(loadings, axis=1, keepdims=True)
    loadings = loadings * (0.99 / np.maximum(norms, 0.99))  # row norms <= 0.99: a valid factor model
    r = loadings @ loadings.T
    np.fill_diagonal(r, 1.0)
    return r


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(r=correlation_matrices(), seed=st.integers(0, 2**32 - 1), ties=st.booleans())
def test_any_valid_matrix_is_accepted_and_marginals_kept(r, seed, ties):
    k = len(r)
    ids = [f"T{i}" for i in range(k)]
    m = build_correlation_model(_pairs(ids, r))
    if m.repaired:  # only near the limit of what normal scores can do: small moves
        assert all(abs(used - asked) < 0.05 for _, _, asked, used in m.adjustments)
    else:
        assert np.array_equal(m.matrix, r)
    assert _is_correlation_matrix(m.matrix)
    rng = np.random.default_rng(seed)
    u = rng.integers(1, 8, size=(k, 64)) / 8.0 if ties else rng.random((k, 64))
    v = iman_conover_block(u, m.cholesky())
    assert np.array_equal(np.sort(v, axis=1), np.sort(u, axis=1))
    assert np.array_equal(v, iman_conover_block(u.copy(), m.cholesky()))


def test_model_is_frozen():
    m = build_correlation_model([("A", "B", 0.3)])
    with pytest.raises(AttributeError):
        m.repaired = True  # type: ignore[misc]
    assert isinstance(m, CorrelationModel)
