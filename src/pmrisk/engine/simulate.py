"""The Monte Carlo loop: chunks of iterations, seed streams, kernels, streaming accumulators.

A run is two passes over the iterations, each split into chunks that are independent of each
other (they can run in any order, on any thread or worker):

1. sample durations and costs, forward pass, project finish, backward pass and criticality,
   project cost. Kept: finish and cost per iteration (16 bytes an iteration), criticality counts
   and each task's lowest and highest finish.
2. the same samples again (every uniform is a pure function of seed, iteration, task and stream,
   so they are regenerated, not stored) and the forward pass, to fill each task's finish
   histogram between its exact lowest and highest finish, and the integer sums that give each
   task's rank correlation with the project duration, now that the project duration's ranks are
   known.

Memory grows with tasks + iterations, never with their product. Every accumulator is an integer
count or a value written into its iteration's slot, and every floating-point reduction happens
once, at the end, in a fixed order; so a seed and an iteration count give bit-identical results for
any chunk size and any number of workers.

Sensitivity (Spearman) method: a task's duration is a monotone function (its inverse CDF) of its
uniform grade ``u``, so ``u`` is the task duration's population rank. pmrisk correlates the grade,
quantised to 16 bits, with the mid-ranks of the project duration, using exact integer sums. This
equals Spearman's coefficient up to the difference between population and sample ranks
(measured within 1e-3 of ``scipy.stats.spearmanr`` at 20,000 iterations; sampling noise is ~1e-2).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from pmrisk.distributions import BatchSampler
from pmrisk.engine import kernels
from pmrisk.engine._jit import HAVE_NUMBA, njit
from pmrisk.engine.network import Network, compile_network
from pmrisk.engine.sampling import STREAM_COST, STREAM_DURATION, seed_key, uniforms
from pmrisk.project import Project

HIST_BINS = 1024
GRADE_BITS = 16
P_LEVELS = (5, 10, 20, 50, 80, 90, 95)
# integer rank sums stay below 2**63 per chunk: 2**16 (grade) * 2 * 1e8 (rank) * 2**16 (chunk)
MAX_RUN_ITERATIONS = 100_000_000
MAX_CHUNK = 65_536


@dataclass
class _Plan:
    net: Network
    key: tuple[int, int]
    durations: BatchSampler
    fixed: BatchSampler | None       # None: every fixed cost is a constant (see fixed_const)
    per_day: BatchSampler | None
    fixed_const: np.ndarray
    per_day_const: np.ndarray
    dur_constant: np.ndarray         # True where the duration is fixed (sensitivity is 0 there)


def _make_plan(project: Project, key: tuple[int, int]) -> _Plan:
    net = compile_network(project)

    def consts(dists: tuple) -> tuple[BatchSampler | None, np.ndarray]:
        if all(d.is_fixed for d in dists):
            return None, np.array([float(d.mean()) for d in dists], dtype=np.float64)
        return BatchSampler(list(dists)), np.zeros(len(dists))

    fixed, fixed_const = consts(net.fixed_costs)
    per_day, per_day_const = consts(net.per_day_costs)
    return _Plan(net=net, key=key, durations=BatchSampler(list(net.durations)), fixed=fixed, per_day=per_day,
                 fixed_const=fixed_const, per_day_const=per_day_const,
                 dur_constant=np.array([d.is_fixed for d in net.durations], dtype=bool))


def _sample_durations(plan: _Plan, first: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Durations ``[tasks, count]``, their grades (uniforms) and the fixed-cost grades."""
    net = plan.net
    u_dur, u_fix = uniforms(plan.key, first, count, net.keys_lo, net.keys_hi, STREAM_DURATION)
    dur = plan.durations.ppf(u_dur)
    np.maximum(dur, 0.0, out=dur)    # an untruncated normal may dip below 0: no negative durations
    return dur, u_dur, u_fix


def _sample(plan: _Plan, first: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Durations, fixed costs, per-day costs ``[tasks, count]`` and the duration grades."""
    net = plan.net
    n = net.n
    dur, u_dur, u_fix = _sample_durations(plan, first, count)
    if plan.fixed is not None:
        fixed = plan.fixed.ppf(u_fix)
    else:
        fixed = np.empty((n, count))
        fixed[:] = plan.fixed_const[:, None]
    if plan.per_day is not None:
        u_pd, _ = uniforms(plan.key, first, count, net.keys_lo, net.keys_hi, STREAM_COST)
        per_day = plan.per_day.ppf(u_pd)
    else:
        per_day = np.empty((n, count))
        per_day[:] = plan.per_day_const[:, None]
    return dur, fixed, per_day, u_dur


@dataclass
class _Pass1:
    first: int
    finish: np.ndarray
    cost: np.ndarray
    crit: np.ndarray
    fmin: np.ndarray
    fmax: np.ndarray


def _pass1(plan: _Plan, first: int, count: int, reference: bool) -> _Pass1:
    net = plan.net
    dur, fixed, per_day, _ = _sample(plan, first, count)
    n = net.n
    if reference:
        es, ef, finish, crit = kernels.schedule_reference(
            dur, net.pred_ptr, net.pred_src, net.pred_type, net.pred_lag, net.earliest,
            net.succ_ptr, net.succ_dst, net.succ_type, net.succ_lag)
        crit_count = crit.sum(axis=1).astype(np.int64)
        cost = kernels.cost_reference(dur, fixed, per_day)
    else:
        es = np.empty_like(dur)
        ef = np.empty_like(dur)
        kernels.forward_pass(dur, net.pred_ptr, net.pred_src, net.pred_type, net.pred_lag, net.earliest, es, ef)
        finish = np.empty(count)
        kernels.project_finish(ef, finish)
        crit_count = np.zeros(n, dtype=np.int64)
        lf = np.empty_like(dur)
        kernels.backward_critical(dur, ef, finish, net.succ_ptr, net.succ_dst, net.succ_type, net.succ_lag,
                                  lf, es, crit_count)  # es is reused as scratch for the latest starts
        cost = np.empty(count)
        kernels.add_cost(dur, fixed, per_day, cost)
    return _Pass1(first=first, finish=finish, cost=cost, crit=crit_count,
                  fmin=ef.min(axis=1) if count else np.full(n, np.inf),
                  fmax=ef.max(axis=1) if count else np.full(n, -np.inf))


@njit
def _pass2_accumulate(ef, lo, scale, bins, hist, grade, rank2, sq, sqq, sqr):  # noqa: ANN001, ANN201
    n, c = ef.shape
    for k in range(n):
        for i in range(c):
            b = int((ef[k, i] - lo[k]) * scale[k])
            if b >= bins:
                b = bins - 1
            if b < 0:
                b = 0
            hist[k, b] += 1
            q = np.int64(grade[k, i] * 65536.0)
            sq[k] += q
            sqq[k] += q * q
            sqr[k] += q * rank2[i]


def _pass2_accumulate_reference(ef, lo, scale, bins, hist, grade, rank2, sq, sqq, sqr):  # noqa: ANN001, ANN201
    """Plain NumPy reference of :func:`_pass2_accumulate`."""
    b = ((ef - lo[:, None]) * scale[:, None]).astype(np.int64)
    np.clip(b, 0, bins - 1, out=b)
    for k in range(ef.shape[0]):
        hist[k] += np.bincount(b[k], minlength=bins)
    q = (grade * 65536.0).astype(np.int64)
    sq += q.sum(axis=1)
    sqq += (q * q).sum(axis=1)
    sqr += (q * rank2[None, :]).sum(axis=1)


def _pass2(plan: _Plan, first: int, count: int, lo: np.ndarray, scale: np.ndarray,
           rank2: np.ndarray, reference: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    net = plan.net
    dur, grade, _ = _sample_durations(plan, first, count)
    n = net.n
    hist = np.zeros((n, HIST_BINS), dtype=np.int64)
    sq = np.zeros(n, dtype=np.int64)
    sqq = np.zeros(n, dtype=np.int64)
    sqr = np.zeros(n, dtype=np.int64)
    if reference:
        _, ef = kernels.forward_pass_reference(dur, net.pred_ptr, net.pred_src, net.pred_type, net.pred_lag,
                                               net.earliest)
        acc = _pass2_accumulate_reference
    else:
        es = np.empty_like(dur)
        ef = np.empty_like(dur)
        kernels.forward_pass(dur, net.pred_ptr, net.pred_src, net.pred_type, net.pred_lag, net.earliest, es, ef)
        acc = _pass2_accumulate
    acc(ef, lo, scale, HIST_BINS, hist, grade, rank2[first:first + count], sq, sqq, sqr)
    return hist, sq, sqq, sqr


def auto_chunk_size(n_tasks: int) -> int:
    """Iterations per chunk: ~1M task-samples (a few MB per buffer), a multiple of 64."""
    c = (1 << 20) // max(n_tasks, 1)
    return int(min(max(64, (c // 64) * 64), 16384))


def resolve_seed(rng: int | np.random.SeedSequence | np.random.Generator | None) -> int:
    """The integer seed a run uses, from pmrisk's one randomness keyword ``rng``.

    An int is used as is; ``None`` draws fresh entropy (reported, so the run can be repeated); a
    ``SeedSequence`` gives its entropy; a ``Generator`` gives one 63-bit draw.
    """
    if rng is None:
        return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    if isinstance(rng, bool):
        raise TypeError("rng must be an int seed, a SeedSequence, a Generator or None")
    if isinstance(rng, int | np.integer):
        if rng < 0:
            raise ValueError(f"seed must be >= 0, got {rng}")
        return int(rng)
    if isinstance(rng, np.random.SeedSequence):
        return int(rng.entropy)  # type: ignore[arg-type]
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2**63 - 1))
    raise TypeError(f"rng must be an int seed, a SeedSequence, a Generator or None, not {type(rng).__name__}")


def order_statistic_interval(sorted_values: np.ndarray, p: float, z: float = 1.959963984540054
                             ) -> tuple[float, float]:
    """Distribution-free ~95% confidence interval of the ``p`` quantile (binomial order statistics)."""
    n = len(sorted_values)
    if n == 0:
        return math.nan, math.nan
    half = z * math.sqrt(n * p * (1 - p))
    lo = int(max(math.floor(n * p - half), 1)) - 1
    hi = int(min(math.ceil(n * p + half), n)) - 1
    return float(sorted_values[lo]), float(sorted_values[hi])


def _standard_error(sorted_values: np.ndarray, p: float) -> float:
    lo, hi = order_statistic_interval(sorted_values, p)
    return (hi - lo) / (2 * 1.959963984540054)


def simulate(project: Project, iterations: int = 10_000, rng: int | np.random.SeedSequence |
             np.random.Generator | None = None, *, chunk_size: int | None = None, workers: int = 1,
             p80_tolerance: float | None = None, max_iterations: int = 1_000_000,
             progress: Callable[[int, int], None] | None = None, engine: str = "auto"):  # noqa: ANN201
    """Run the Monte Carlo simulation of ``project``.

    Parameters
    ----------
    project
        A validated :class:`~pmrisk.project.Project` (see :func:`pmrisk.load_project`).
    iterations
        Number of iterations (at least 1; 10,000 gives P80 to about +-0.5% on typical projects).
    rng
        Seed: an int, a ``numpy.random.SeedSequence``, a ``numpy.random.Generator`` or None (fresh
        entropy; the seed used is reported in the result so the run can be repeated).
    chunk_size
        Iterations per chunk (default: about a million task-samples a chunk). Never changes results.
    workers
        Threads working on chunks at once (default 1; ``0`` or ``-1``: all cores). Never changes results.
    p80_tolerance
        If given, keep doubling the iterations (up to ``max_iterations``) until the Monte Carlo
        standard error of the P80 duration is at most this many working days.
    max_iterations
        Upper bound on the iterations when ``p80_tolerance`` is given.
    progress
        Optional callback ``progress(done, total)`` in task-samples, called as chunks finish.
    engine
        ``"auto"`` (compiled kernels when numba is available), ``"numba"`` or ``"reference"``
        (the plain NumPy kernels; same results, slower).

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> import pmrisk
    >>> p = pmrisk.Project.from_dict({"tasks": [
    ...     {"id": "A", "duration": {"dist": "triangular", "min": 4, "likely": 5, "max": 9}},
    ...     {"id": "B", "duration": 3, "depends_on": ["A"]}]})
    >>> r = pmrisk.simulate(p, iterations=2000, rng=1)
    >>> bool(7 < r.percentiles()["P50"] < 12)
    True
    """
    from pmrisk.results import SimulationResult

    iterations = int(iterations)
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    if iterations > MAX_RUN_ITERATIONS or max_iterations > MAX_RUN_ITERATIONS:
        raise ValueError(f"at most {MAX_RUN_ITERATIONS:,} iterations in one run")
    if p80_tolerance is not None and not p80_tolerance > 0:
        raise ValueError(f"p80_tolerance must be > 0 working days, got {p80_tolerance}")
    if engine not in ("auto", "numba", "reference"):
        raise ValueError(f"engine must be 'auto', 'numba' or 'reference', not {engine!r}")
    if engine == "numba" and not HAVE_NUMBA:
        raise RuntimeError("engine='numba' asked for, but numba is not available")
    reference = engine == "reference" or not HAVE_NUMBA
    if workers in (0, -1):
        workers = os.cpu_count() or 1
    workers = max(1, int(workers))

    seed = resolve_seed(rng)
    t0 = time.perf_counter()
    plan = _make_plan(project, seed_key(seed))
    n = plan.net.n
    chunk = int(chunk_size) if chunk_size else auto_chunk_size(n)
    if not 1 <= chunk <= MAX_CHUNK:
        raise ValueError(f"chunk_size must be between 1 and {MAX_CHUNK}, got {chunk_size}")

    pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
    done = [0]

    def run_map(fn: Callable, ranges: list[tuple[int, int]], total: int) -> list:
        def one(r: tuple[int, int]):  # noqa: ANN202
            out = fn(*r)
            return out
        results = []
        it = pool.map(one, ranges) if pool is not None else map(one, ranges)
        for (_, cnt), res in zip(ranges, it, strict=True):
            results.append(res)
            done[0] += cnt * n
            if progress is not None:
                progress(done[0], total)
        return results

    def ranges(a: int, b: int) -> list[tuple[int, int]]:
        return [(s, min(chunk, b - s)) for s in range(a, b, chunk)]

    try:
        finish = np.empty(0)
        cost = np.empty(0)
        crit = np.zeros(n, dtype=np.int64)
        fmin = np.full(n, np.inf)
        fmax = np.full(n, -np.inf)
        n_done = 0
        target = iterations
        while True:
            parts = run_map(lambda f, c: _pass1(plan, f, c, reference), ranges(n_done, target),
                            2 * target * n)
            finish = np.concatenate([finish] + [p.finish for p in parts])
            cost = np.concatenate([cost] + [p.cost for p in parts])
            for p in parts:
                crit += p.crit
                np.minimum(fmin, p.fmin, out=fmin)
                np.maximum(fmax, p.fmax, out=fmax)
            n_done = target
            if p80_tolerance is None or target >= max_iterations:
                break
            if _standard_error(np.sort(finish), 0.8) <= p80_tolerance:
                break
            target = min(2 * target, max_iterations)
        n_iter = n_done

        # pass 2: histograms of task finishes and rank sums for sensitivity
        rank2 = np.rint(2 * rankdata(finish, method="average")).astype(np.int64)
        width = fmax - fmin
        scale = np.where(width > 0, HIST_BINS / np.where(width > 0, width, 1.0), 0.0)
        hist = np.zeros((n, HIST_BINS), dtype=np.int64)
        sq = np.zeros(n, dtype=object)
        sqq = np.zeros(n, dtype=object)
        sqr = np.zeros(n, dtype=object)
        parts2 = run_map(lambda f, c: _pass2(plan, f, c, fmin, scale, rank2, reference), ranges(0, n_iter),
                         2 * n_iter * n)
        for h, a, b, c in parts2:
            hist += h
            sq += a.astype(object)
            sqq += b.astype(object)
            sqr += c.astype(object)
    finally:
        if pool is not None:
            pool.shutdown()

    sens = _spearman_from_sums(sq, sqq, sqr, rank2, n_iter)
    sens[plan.dur_constant] = 0.0
    det = deterministic_plan(project, plan.net)
    elapsed = time.perf_counter() - t0
    order = plan.net.file_index
    inv = np.empty_like(order)
    inv[order] = np.arange(n)       # file position -> topological position
    return SimulationResult(
        project=project, iterations=n_iter, seed=seed, durations=finish, costs=cost,
        task_ids=tuple(project.task_ids), criticality_counts=crit[inv],
        sensitivity_values=sens[inv], finish_hist=hist[inv], finish_lo=fmin[inv], finish_hi=fmax[inv],
        deterministic=det, elapsed=elapsed, chunk_size=chunk, workers=workers,
        engine="reference" if reference else "numba",
    )


def _spearman_from_sums(sq: np.ndarray, sqq: np.ndarray, sqr: np.ndarray, rank2: np.ndarray,
                        n_iter: int) -> np.ndarray:
    """Pearson correlation of quantised grades with project-duration mid-ranks, from exact sums."""
    sr = int(rank2.astype(object).sum())
    srr = int((rank2.astype(object) ** 2).sum())
    var_r = n_iter * srr - sr * sr
    out = np.zeros(len(sq))
    for k in range(len(sq)):
        var_q = n_iter * int(sqq[k]) - int(sq[k]) ** 2
        if var_q <= 0 or var_r <= 0:
            continue
        cov = n_iter * int(sqr[k]) - int(sq[k]) * sr
        out[k] = float(cov) / math.sqrt(float(var_q) * float(var_r))
    return out


def deterministic_plan(project: Project, net: Network | None = None) -> dict:
    """The plan with every distribution at its most likely value: finish per task, duration, cost,
    and the tasks on the critical path (zero total float)."""
    net = net or compile_network(project)
    dur = np.array([[max(d.mode(), 0.0)] for d in net.durations], dtype=np.float64).reshape(net.n, 1)
    es, ef, finish, crit = kernels.schedule_reference(
        dur, net.pred_ptr, net.pred_src, net.pred_type, net.pred_lag, net.earliest,
        net.succ_ptr, net.succ_dst, net.succ_type, net.succ_lag)
    fixed = np.array([[d.mode()] for d in net.fixed_costs]).reshape(net.n, 1)
    per_day = np.array([[d.mode()] for d in net.per_day_costs]).reshape(net.n, 1)
    cost = kernels.cost_reference(dur, fixed, per_day)
    pos = {tid: k for k, tid in enumerate(net.ids)}
    ids = project.task_ids
    return {
        "duration": float(finish[0]) if net.n else 0.0,
        "cost": float(cost[0]) if net.n else 0.0,
        "start": {tid: float(es[pos[tid], 0]) for tid in ids},
        "finish": {tid: float(ef[pos[tid], 0]) for tid in ids},
        "critical_path": [tid for tid in ids if crit[pos[tid], 0]],
    }
