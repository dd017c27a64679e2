"""Rank correlation between task durations (Iman-Conover, applied per block of iterations).

A project file may say ``correlations: [{between: [BUILD, MIGR], rho: 0.6}, ...]``: the rank
(Spearman) correlation of those tasks' durations. pmrisk draws every duration by its inverse CDF
from a uniform grade ``u``, so correlating durations means *rearranging* the grades: within each
block of ``B`` iterations (block ``b`` covers global iterations ``[b*B, (b+1)*B)``) every task's
grades are only permuted among themselves. Hence

* every task's distribution is kept exactly (each block holds the same sorted grades as without
  correlation), and
* the result depends on the seed and the block only, never on how the engine splits the
  iterations into chunks, threads or workers (chunks start and end on block boundaries).

The rearrangement is Iman and Conover's (1982) with van der Waerden scores and the
variance correction: in each block the normal scores get *exactly* the wanted sample
correlation, and each task's grades are then put into the rank order of its scores. No random
numbers are drawn here: the initial arrangement comes from the grades themselves, which are a
pure function of (seed, iteration, task, stream).

Rank versus normal-scores correlation. Scores that are (close to) jointly normal with Pearson
correlation ``p`` have rank correlation ``(6/pi) * arcsin(p/2)`` (0.58 for p = 0.6; the gap is at
most 0.018). So that the *rank* correlation of durations is the one the user asked for,
:meth:`CorrelationModel.cholesky` factors the normal-scores matrix ``2 * sin(pi * R / 6)`` of the
rank-correlation matrix ``R``.

Consistency. Not every set of correlations can hold at once (if A rises with B and B with C, A
cannot fall as C rises this strongly): the matrix must be positive definite.
:func:`build_correlation_model` rejects an inconsistent set, naming the correlations that clash,
or with ``repair=True`` replaces the matrix by the nearest consistent one (Higham, 2002) and lists
what changed.

Using it in the engine:

1. once per run: ``model = build_correlation_model(pairs, repair=..., source=...)`` (show
   ``model.adjustments`` as a warning when ``model.repaired``), ``chol = model.cholesky()``,
   ``rows = model.rows(task_ids_in_engine_order)``;
2. for each chunk, right after drawing the duration grades and before the inverse CDFs (in every
   pass that regenerates them): ``apply_correlation(u_dur, rows, chol, DEFAULT_BLOCK)``. The
   rearranged grades are still each duration's rank grade (sensitivity can keep using them);
3. chunks start on multiples of :data:`DEFAULT_BLOCK` and hold whole blocks; a run whose length is
   not a multiple draws and correlates its last block whole and drops the extra iterations, so an
   iteration's numbers never depend on the run's length.

Cost (one core, NumPy): about 5.5 microseconds per correlated task per block of 512 for a few
tasks, 10 for 100 (the score matrix products grow as k**2). Other tasks pay nothing. From about
25 correlated tasks the products are big enough for OpenBLAS to start its own threads, which on a
busy machine or inside the engine's worker threads made it up to 10x slower: run the chunk loop
under ``threadpoolctl.threadpool_limits(1, "blas")``, entered once in the calling thread.

References
----------
Iman, R. L. and Conover, W. J. (1982). A distribution-free approach to inducing rank correlation
among input variables. Communications in Statistics - Simulation and Computation 11(3), 311-334.

Higham, N. J. (2002). Computing the nearest correlation matrix - a problem from finance.
IMA Journal of Numerical Analysis 22(3), 329-343.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from pmrisk.errors import ProjectError

__all__ = [
    "DEFAULT_BLOCK",
    "CorrelationModel",
    "apply_correlation",
    "build_correlation_model",
    "iman_conover_block",
    "nearest_correlation_matrix",
    "rank_to_score_correlation",
    "score_to_rank_correlation",
]

#: Iterations per correlation block: the engine's chunks start and end on multiples of this.
DEFAULT_BLOCK = 512

#: A correlation matrix whose smallest eigenvalue is at most this is treated as inconsistent.
PD_TOLERANCE = 1e-10

#: Smallest eigenvalue kept when a matrix is repaired (then rescaled to a unit diagonal).
EIGEN_FLOOR = 1e-8

#: Repairs that move a correlation by more than this are listed in ``adjustments``.
ADJUSTMENT_REPORT = 1e-6

_HINT = ("Lower one of these correlations, or set `correlation_repair: nearest` in the project to use the nearest "
         "consistent matrix.")


# ---------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class CorrelationModel:
    """The rank correlations of a project's task durations, checked and ready to simulate.

    Build it with :func:`build_correlation_model`.

    Attributes
    ----------
    tasks
        The correlated task ids, sorted (so the order of the file's list never matters). Row and
        column ``i`` of :attr:`matrix` belong to ``tasks[i]``.
    matrix
        ``k x k`` target rank (Spearman) correlation of the durations: symmetric, unit diagonal,
        positive definite. Pairs the file does not mention are 0 (independent) unless a repair
        moved them. Read-only.
    repaired
        True if the asked correlations were replaced by the nearest consistent matrix.
    adjustments
        ``(task_a, task_b, asked_rho, used_rho)`` for every pair the repair moved by more than
        1e-6; an unmentioned pair has ``asked_rho`` 0.0.

    Examples
    --------
    >>> m = build_correlation_model([("MIGR", "BUILD", 0.6)])
    >>> m.tasks
    ('BUILD', 'MIGR')
    >>> m.matrix
    array([[1. , 0.6],
           [0.6, 1. ]])
    >>> m.repaired, m.adjustments
    (False, ())
    """

    tasks: tuple[str, ...]
    matrix: np.ndarray
    repaired: bool = False
    adjustments: tuple[tuple[str, str, float, float], ...] = ()

    def __post_init__(self) -> None:
        k = len(self.tasks)
        mat = np.array(self.matrix, dtype=np.float64, copy=True).reshape(k, k)
        mat.setflags(write=False)
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "matrix", mat)
        object.__setattr__(self, "adjustments", tuple(tuple(a) for a in self.adjustments))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CorrelationModel):
            return NotImplemented
        return (self.tasks == other.tasks and np.array_equal(self.matrix, other.matrix)
                and self.repaired == other.repaired and self.adjustments == other.adjustments)

    def __hash__(self) -> int:
        return hash((self.tasks, self.matrix.tobytes(), self.repaired, self.adjustments))

    def cholesky(self) -> np.ndarray:
        """Lower Cholesky factor of the normal-scores correlation that gives :attr:`matrix`.

        Pass it to :func:`iman_conover_block` or :func:`apply_correlation`. It factors
        ``2 * sin(pi * matrix / 6)`` (see :func:`rank_to_score_correlation`), so the *rank*
        correlation of the rearranged grades approximates :attr:`matrix` itself.

        Examples
        --------
        >>> m = build_correlation_model([("A", "B", 0.6)])
        >>> L = m.cholesky()
        >>> float(np.round((L @ L.T)[0, 1], 4))
        0.618
        """
        return np.linalg.cholesky(rank_to_score_correlation(self.matrix))

    def rows(self, task_ids: Sequence[str]) -> np.ndarray:
        """Where each of :attr:`tasks` sits in ``task_ids`` (e.g. the engine's row order).

        Raises :class:`~pmrisk.errors.ProjectError` naming any correlated task that is not in
        ``task_ids``.

        Examples
        --------
        >>> m = build_correlation_model([("A", "C", 0.3)])
        >>> m.rows(["C", "B", "A"]).tolist()
        [2, 0]
        """
        pos = {tid: i for i, tid in enumerate(task_ids)}
        missing = [t for t in self.tasks if t not in pos]
        if missing:
            raise ProjectError(f"correlations: unknown task{'s' if len(missing) > 1 else ''} "
                               f"{', '.join(missing)}; `between` must name tasks of the project.")
        return np.array([pos[t] for t in self.tasks], dtype=np.intp)


def rank_to_score_correlation(rank_correlation: np.ndarray | float) -> np.ndarray:
    """The normal-scores (Pearson) correlation ``2 sin(pi r / 6)`` that gives rank correlation ``r``.

    Exact for jointly normal scores (the Gaussian copula); Iman-Conover's scores are close to it.

    Examples
    --------
    >>> float(rank_to_score_correlation(0.5).round(4))
    0.5176
    """
    out = 2.0 * np.sin(np.pi / 6.0 * np.asarray(rank_correlation, dtype=np.float64))
    if out.ndim == 2:
        np.fill_diagonal(out, 1.0)
    return out


def score_to_rank_correlation(score_correlation: np.ndarray | float) -> np.ndarray:
    """The rank correlation ``(6 / pi) arcsin(p / 2)`` of normal scores with correlation ``p``.

    Examples
    --------
    >>> float(score_to_rank_correlation(rank_to_score_correlation(0.5)).round(12))
    0.5
    """
    p = np.clip(np.asarray(score_correlation, dtype=np.float64), -1.0, 1.0)
    out = 6.0 / np.pi * np.arcsin(p / 2.0)
    if out.ndim == 2:
        np.fill_diagonal(out, 1.0)
    return out


# ---------------------------------------------------------------------------------------------
# validation and repair
# ---------------------------------------------------------------------------------------------

def _pair(a: str, b: str) -> str:
    return f"[{a}, {b}]"


def _num(x: float) -> str:
    return f"{x:.4g}"


def build_correlation_model(pairs: Sequence[tuple[str, str, float]], *, repair: bool = False,
                            source: str | None = None) -> CorrelationModel:
    """Check a project's correlations and build the matrix the simulation uses.

    Parameters
    ----------
    pairs
        ``(task_a, task_b, rho)`` for each ``{between: [task_a, task_b], rho: rho}`` of the file:
        the rank correlation of the two durations, in [-1, 1]. Pairs not given are independent
        (0). A pair may be given twice with the same value.
    repair
        If the correlations cannot all hold at once, use the nearest consistent matrix instead of
        raising (the project setting ``correlation_repair: nearest``). The nearest matrix is
        Higham's (2002) nearest correlation matrix in the Frobenius norm to the *whole* asked
        matrix, unmentioned pairs (0) included: every entry may move, and every move of more than
        1e-6 is listed in :attr:`CorrelationModel.adjustments`.
    source
        The project file's name, for error messages.

    Returns
    -------
    CorrelationModel

    Raises
    ------
    ProjectError
        A ``rho`` outside [-1, 1] or not a number; a task correlated with itself; a pair given
        twice with different values; or (without ``repair``) correlations that cannot hold
        together: the message names the clashing pairs or triples.

    Notes
    -----
    Iman-Conover works on normal scores, whose correlation ``2 sin(pi r / 6)`` is slightly larger
    in size than the rank correlation ``r``. A consistent set lying within a hair of the limit can
    thus be impossible for the normal scores even though it is possible for ranks; pmrisk then
    uses, even without ``repair``, the nearest set it can simulate (moves of a few hundredths at
    most), sets ``repaired`` and lists the moves in ``adjustments``, for the caller to show as a
    warning.

    Examples
    --------
    >>> m = build_correlation_model([("BUILD", "MIGR", 0.6), ("BUILD", "TEST", 0.4)])
    >>> m.tasks, m.repaired
    (('BUILD', 'MIGR', 'TEST'), False)
    >>> build_correlation_model([("A", "B", 0.9), ("B", "C", 0.9), ("A", "C", -0.9)], source="crm.yaml")
    Traceback (most recent call last):
    ...
    pmrisk.errors.ProjectError: crm.yaml, correlations: these rank correlations cannot all hold at once: \
[A, B] 0.9, [B, C] 0.9, [A, C] -0.9. Lower one of these correlations, or set `correlation_repair: nearest` \
in the project to use the nearest consistent matrix.
    >>> r = build_correlation_model([("A", "B", 0.9), ("B", "C", 0.9), ("A", "C", -0.9)], repair=True)
    >>> r.repaired, [(a, b, asked, round(used, 2)) for a, b, asked, used in r.adjustments]
    (True, [('A', 'B', 0.9, 0.48), ('A', 'C', -0.9, -0.48), ('B', 'C', 0.9, 0.48)])
    """
    where = f"{source}, correlations" if source else "correlations"
    given: dict[tuple[str, str], tuple[str, str, float]] = {}
    for entry in pairs:
        try:
            a, b, rho_raw = entry
        except (TypeError, ValueError):
            raise ProjectError(f"{where}: each correlation needs two tasks and a rho, got {entry!r}; "
                               "write {between: [TASK_A, TASK_B], rho: 0.5}.") from None
        a, b = str(a), str(b)
        try:
            rho = float(rho_raw)
        except (TypeError, ValueError):
            rho = math.nan
        if not (-1.0 <= rho <= 1.0):  # also catches NaN
            raise ProjectError(f"{where}: {_pair(a, b)} rho {rho_raw!r} is not a number in [-1, 1]; give a rank "
                               "correlation between -1 and 1 (e.g. 0.3 weak, 0.6 strong, negative: one task "
                               "tends to be short when the other is long).")
        if a == b:
            raise ProjectError(f"{where}: task {a} is correlated with itself; `between` must name two different "
                               "tasks.")
        key = (a, b) if a < b else (b, a)
        if key in given:
            if given[key][2] != rho:
                raise ProjectError(f"{where}: {_pair(a, b)} is given twice, with rho {_num(given[key][2])} and "
                                   f"{_num(rho)}; keep one of them.")
            continue
        given[key] = (a, b, rho)

    tasks = tuple(sorted({t for key in given for t in key}))
    k = len(tasks)
    pos = {t: i for i, t in enumerate(tasks)}
    asked = np.eye(k)
    for (a, b), (_, _, rho) in given.items():
        asked[pos[a], pos[b]] = asked[pos[b], pos[a]] = rho

    used = asked
    if k and np.linalg.eigvalsh(asked)[0] <= PD_TOLERANCE:
        if not repair:
            raise ProjectError(f"{where}: {_explain_inconsistency(asked, tasks, given)} {_HINT}")
        used = nearest_correlation_matrix(asked)
    if k:
        score = rank_to_score_correlation(used)
        if np.linalg.eigvalsh(score)[0] <= PD_TOLERANCE:
            used = score_to_rank_correlation(nearest_correlation_matrix(score))

    if used is asked:
        return CorrelationModel(tasks=tasks, matrix=asked, repaired=False, adjustments=())
    adjustments = []
    for i, j in itertools.combinations(range(k), 2):
        if abs(used[i, j] - asked[i, j]) > ADJUSTMENT_REPORT:
            a, b, rho = given.get((tasks[i], tasks[j]), (tasks[i], tasks[j], 0.0))
            adjustments.append((a, b, float(rho), float(used[i, j])))
    return CorrelationModel(tasks=tasks, matrix=used, repaired=True, adjustments=tuple(adjustments))


def _explain_inconsistency(asked: np.ndarray, tasks: tuple[str, ...],
                           given: dict[tuple[str, str], tuple[str, str, float]]) -> str:
    """Name a small clashing subset: perfect pairs, else inconsistent triples, else the heaviest pairs."""
    k = len(tasks)

    def label(i: int, j: int) -> str:
        key = (tasks[i], tasks[j]) if tasks[i] < tasks[j] else (tasks[j], tasks[i])
        if key in given:
            a, b, rho = given[key]
            return f"{_pair(a, b)} {_num(rho)}"
        return f"{_pair(tasks[i], tasks[j])} not given (so 0)"

    perfect = [(i, j) for i, j in itertools.combinations(range(k), 2)
               if 1.0 - abs(asked[i, j]) <= PD_TOLERANCE]
    if perfect:
        names = ", ".join(label(i, j) for i, j in perfect[:5])
        return (f"{names}: a rank correlation of exactly 1 or -1 makes one duration a fixed function of the other, "
                "which cannot be combined with any other uncertainty; use at most 0.99 in size.")

    # triples sharing at least two given pairs (a triple with one given pair is always consistent)
    neighbours: list[set[int]] = [set() for _ in range(k)]
    for i, j in itertools.combinations(range(k), 2):
        if asked[i, j] != 0.0 or (min(tasks[i], tasks[j]), max(tasks[i], tasks[j])) in given:
            neighbours[i].add(j)
            neighbours[j].add(i)
    triples = sorted({tuple(sorted((a, m, c))) for m in range(k)
                      for a, c in itertools.combinations(sorted(neighbours[m]), 2)})
    if triples and len(triples) <= 200_000:
        idx = np.array(triples, dtype=np.intp)
        sub = asked[idx[:, :, None], idx[:, None, :]]
        low = np.linalg.eigvalsh(sub)[:, 0]
        bad = np.flatnonzero(low <= PD_TOLERANCE)
        if bad.size:
            bad = bad[np.argsort(low[bad], kind="stable")]
            shown = []
            for t in bad[:3]:
                a, b, c = (int(x) for x in idx[t])
                shown.append(", ".join((label(a, b), label(b, c), label(a, c))))
            more = f" (and {bad.size - 3} more such triples)" if bad.size > 3 else ""
            return "these rank correlations cannot all hold at once: " + "; ".join(shown) + more + "."

    # no small culprit: the given pairs that push the most negative eigenvalue down the most
    w, v = np.linalg.eigh(asked)
    vec = v[:, 0]
    contrib = []
    for ta, tb in given:
        i, j = tasks.index(ta), tasks.index(tb)
        contrib.append((2.0 * vec[i] * vec[j] * asked[i, j], i, j))
    contrib.sort()
    worst = [c for c in contrib if c[0] < 0][:6] or contrib[:6]
    names = ", ".join(label(i, j) for _, i, j in worst)
    return (f"these rank correlations cannot all hold at once (together with the others; the set is short of "
            f"consistent by {-w[0]:.2g} in its smallest eigenvalue): {names}.")


def nearest_correlation_matrix(matrix: np.ndarray, *, tol: float = 1e-10, max_iter: int = 5000) -> np.ndarray:
    """The positive definite correlation matrix nearest to a symmetric ``matrix`` (Frobenius norm).

    Higham's (2002) alternating projections onto the positive semidefinite matrices and the
    unit-diagonal matrices, with Dykstra's correction; then eigenvalues below 1e-8 are raised to
    1e-8 and the diagonal rescaled to 1, so that the result is strictly positive definite (and
    can be Cholesky-factored).

    Examples
    --------
    Higham's (2002) example:

    >>> a = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]])
    >>> nearest_correlation_matrix(a).round(4)
    array([[1.    , 0.7607, 0.1573],
           [0.7607, 1.    , 0.7607],
           [0.1573, 0.7607, 1.    ]])
    """
    a = np.array(matrix, dtype=np.float64)
    a = (a + a.T) / 2.0
    y = a.copy()
    ds = np.zeros_like(a)
    x = a
    for _ in range(max_iter):
        r = y - ds
        w, v = np.linalg.eigh(r)
        x = (v * np.maximum(w, 0.0)) @ v.T
        x = (x + x.T) / 2.0
        ds = x - r
        y_new = x.copy()
        np.fill_diagonal(y_new, 1.0)
        norm_y = max(float(np.linalg.norm(y_new)), 1.0)
        done = (np.linalg.norm(y_new - y) <= tol * norm_y and np.linalg.norm(y_new - x) <= tol * norm_y)
        y = y_new
        if done:
            break
    return _make_positive_definite(y)


def _make_positive_definite(y: np.ndarray) -> np.ndarray:
    floor = EIGEN_FLOOR
    for _ in range(20):
        w, v = np.linalg.eigh(y)
        if w[0] > 10 * PD_TOLERANCE and np.array_equal(np.diag(y), np.ones(len(y))):
            return y
        x = (v * np.maximum(w, floor)) @ v.T
        d = np.sqrt(np.diag(x))
        y = x / np.outer(d, d)
        y = (y + y.T) / 2.0
        np.fill_diagonal(y, 1.0)
        floor *= 4.0
    return y


# ---------------------------------------------------------------------------------------------
# Iman-Conover
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=16)
def _scores(block: int) -> np.ndarray:
    """van der Waerden scores ``Phi^-1(i / (B+1))``, i = 1..B, exactly antisymmetric (mean exactly 0)."""
    half = special.ndtri(np.arange(1, block // 2 + 1, dtype=np.float64) / (block + 1))
    s = np.zeros(block)
    s[:block // 2] = half
    s[block - block // 2:] = -half[::-1]
    s.setflags(write=False)
    return s


_SIGN = np.uint64(1 << 63)
_GROUP_ELEMENTS = 32768


def _order(x: np.ndarray) -> np.ndarray:
    """``argsort`` along the last axis, the same on every machine (C-ordered ``int64`` result).

    Sorts one ``uint64`` key per value: the float's order-preserving bit pattern with its lowest
    bits replaced by the position, so exact ties, and values within ~2**-43 relative of each other,
    keep the order of their positions (a stable sort of the slightly rounded values; -0.0 sorts
    before 0.0). Faster than a stable ``argsort``, and independent of the sorting algorithm.
    """
    n = x.shape[-1]
    bits = max(1, (n - 1).bit_length())
    raw = np.ascontiguousarray(x, dtype=np.float64)
    key = (raw.view(np.int64) >> 63).view(np.uint64)
    key |= _SIGN
    key ^= raw.view(np.uint64)
    key &= ~np.uint64((1 << bits) - 1)
    key |= np.arange(n, dtype=np.uint64)
    key.sort(axis=-1)
    key &= np.uint64((1 << bits) - 1)
    return key.view(np.int64)


def _whitening_factor(e: np.ndarray) -> np.ndarray:
    """Cholesky factors of a stack of score Gram matrices (a block whose ranks are collinear gets a ridge)."""
    try:
        return np.linalg.cholesky(e)
    except np.linalg.LinAlgError:
        out = np.empty_like(e)
        for i, m in enumerate(e):  # rare: only when some tasks' grades have identical or reversed ranks
            try:
                out[i] = np.linalg.cholesky(m)
            except np.linalg.LinAlgError:
                out[i] = np.linalg.cholesky(m + 1e-9 * np.trace(m) / len(m) * np.eye(len(m)))
        return out


def _rearrange(u: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """Iman-Conover on blocks ``u[task, block, iteration]``; returns a new C-ordered array."""
    k, nb, b = u.shape
    u = np.ascontiguousarray(u, dtype=np.float64)
    flat_base = (np.arange(k * nb, dtype=np.int64) * b).reshape(k, nb, 1)
    # initial score matrix: each task's van der Waerden scores in the rank order of its grades
    idx = _order(u)
    idx += flat_base
    m = np.empty((k, nb, b))
    m.reshape(-1)[idx.reshape(-1)] = np.tile(_scores(b), k * nb)
    mb = m.transpose(1, 0, 2)                    # (block, task, iteration) views for the matrix algebra
    # T = chol @ Q^-1 @ M with Q Q' = M M': the scores' sample correlation becomes chol @ chol' exactly
    # (the Gram matrix is not normalised: the ranks of T ignore a common scale)
    q = _whitening_factor(mb @ mb.transpose(0, 2, 1))
    t = np.empty((k, nb, b))
    np.matmul(chol @ np.linalg.inv(q), mb, out=t.transpose(1, 0, 2))
    # each task's grades, sorted, go where its T has the same rank
    idx = _order(t)
    idx += flat_base
    out = np.empty((k, nb, b))
    out.reshape(-1)[idx.reshape(-1)] = np.sort(u, axis=-1).reshape(-1)
    return out


def _check_chol(chol: np.ndarray, k: int) -> np.ndarray:
    c = np.asarray(chol, dtype=np.float64)
    if c.shape != (k, k):
        raise ValueError(f"chol must be {k} x {k} for {k} correlated rows, got shape {c.shape}")
    return c


def iman_conover_block(u: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """Rearrange one block of grades so that their rank correlation approximates the target.

    Parameters
    ----------
    u
        ``(k, B)`` uniform grades in (0, 1) of the ``k`` correlated tasks for one block of ``B``
        iterations (``B > k``; the engine uses ``B = 512``).
    chol
        ``k x k`` factor of the normal-scores target, normally
        :meth:`CorrelationModel.cholesky` (any ``L`` with ``L @ L.T`` the target works).

    Returns
    -------
    numpy.ndarray
        ``(k, B)``: each row a permutation of the same row of ``u``. The van der Waerden scores
        in the new order have sample correlation exactly ``chol @ chol.T``, so the rank
        correlation between rows approximates the model's :attr:`~CorrelationModel.matrix`.

    Notes
    -----
    Deterministic: the starting arrangement is the ranks of ``u`` itself, and sorting breaks ties
    (and values within ~1e-13 relative of each other) by position.

    Examples
    --------
    >>> from scipy.stats import spearmanr
    >>> from pmrisk.engine.sampling import STREAM_DURATION, entity_keys, seed_key, uniforms
    >>> lo, hi = entity_keys(["BUILD", "MIGR"])
    >>> u, _ = uniforms(seed_key(7), 0, 512, lo, hi, STREAM_DURATION)
    >>> v = iman_conover_block(u, build_correlation_model([("BUILD", "MIGR", 0.6)]).cholesky())
    >>> bool((np.sort(v, axis=1) == np.sort(u, axis=1)).all())
    True
    >>> round(float(spearmanr(v[0], v[1])[0]), 1)
    0.6
    """
    u = np.asarray(u, dtype=np.float64)
    if u.ndim != 2:
        raise ValueError(f"u must be 2-D (tasks, iterations), got shape {u.shape}")
    k, b = u.shape
    chol = _check_chol(chol, k)
    if k < 2:
        return u.copy()
    if b <= k:
        raise ValueError(f"a block needs more iterations than correlated tasks: {b} iterations for {k} tasks")
    return _rearrange(u[:, None, :], chol)[:, 0, :]


def apply_correlation(u_all: np.ndarray, rows: np.ndarray, chol: np.ndarray, block: int = DEFAULT_BLOCK) -> None:
    """Correlate rows ``rows`` of a chunk of grades, in place, block by block.

    Parameters
    ----------
    u_all
        ``(n_tasks, C)`` grades of a chunk that starts on a block boundary; ``C`` a multiple of
        ``block``. Modified in place.
    rows
        The rows of the correlated tasks, in the order of :attr:`CorrelationModel.tasks`
        (see :meth:`CorrelationModel.rows`).
    chol
        :meth:`CorrelationModel.cholesky`.
    block
        Iterations per block (:data:`DEFAULT_BLOCK`).

    Notes
    -----
    Each block is rearranged exactly as :func:`iman_conover_block` would, so the result does not
    depend on how many blocks a chunk holds. A run whose iteration count is not a multiple of
    ``block`` must still draw and correlate its whole last block, then drop the extra iterations.

    Examples
    --------
    >>> from pmrisk.engine.sampling import STREAM_DURATION, entity_keys, seed_key, uniforms
    >>> model = build_correlation_model([("A", "C", -0.5)])
    >>> lo, hi = entity_keys(["A", "B", "C"])
    >>> u, _ = uniforms(seed_key(3), 0, 1024, lo, hi, STREAM_DURATION)
    >>> v = u.copy()
    >>> apply_correlation(v, model.rows(["A", "B", "C"]), model.cholesky(), block=512)
    >>> bool((v[1] == u[1]).all()), bool((np.sort(v[:, 512:]) == np.sort(u[:, 512:])).all())
    (True, True)
    >>> bool((v[[0, 2], 512:] == iman_conover_block(u[[0, 2], 512:], model.cholesky())).all())
    True
    """
    rows = np.asarray(rows, dtype=np.intp).ravel()
    k = rows.size
    chol = _check_chol(chol, k)
    if u_all.ndim != 2:
        raise ValueError(f"u_all must be 2-D (tasks, iterations), got shape {u_all.shape}")
    c = u_all.shape[1]
    if block < 1 or c % block:
        raise ValueError(f"the chunk ({c} iterations) must be a whole number of blocks of {block}")
    if k < 2 or c == 0:
        return
    if block <= k:
        raise ValueError(f"a block needs more iterations than correlated tasks: {block} iterations for {k} tasks")
    if np.unique(rows).size != k:
        raise ValueError("rows must not repeat a task")
    # a few blocks at a time: 256 KiB work arrays stay in cache and off fresh pages (~2x faster)
    step = block * max(1, _GROUP_ELEMENTS // (k * block))
    for start in range(0, c, step):
        part = slice(start, min(start + step, c))
        sub = u_all[rows, part]
        u_all[rows, part] = _rearrange(sub.reshape(k, -1, block), chol).reshape(sub.shape)
