"""The Monte Carlo loop: chunks of iterations, seed streams, kernels, streaming accumulators.

A run makes a pilot and two passes over the iterations, each split into chunks that are
independent of each other (they can run in any order, on any thread or worker):

0. the pilot: the run's first min(1024, N) iterations (with ``p80_tolerance``: of the largest
   size it may reach, so that the run equals a plain run of its final size), sampled and scheduled
   once more to fix every histogram's range: each task's finish, the merge-bias rows of the merge
   points the pilot finds near-critical, and the quantile bins that rank the durations risks and
   drivers move. Costs at most 1,024 iterations, once.
1. sample durations and costs (with correlation, drivers, risk events, existence and branches),
   forward pass fused with the project finish and exact fixed-point sums of each task's duration,
   backward pass and criticality, project cost, finish and merge-bias histograms, duration bins
   of the rank rows. Kept: finish and cost per iteration (16 bytes an iteration) and per-worker
   accumulators whose size does not grow with the iterations.
2. the grades again (every uniform is a pure function of seed, iteration, entity and stream, so
   they are regenerated, not stored), without the inverse CDFs or the schedule: the integer rank
   sums behind each task's sensitivity. Only when risks, drivers, existence or branches make a
   task's duration more than a monotone function of its own grade are its durations sampled
   again, and ranked through pass 1's bins.

Memory grows with tasks + iterations, never with their product. Every accumulator is an integer
or a value written into its iteration's slot, and every floating-point reduction happens once, at
the end, in a fixed order; so a seed and an iteration count give bit-identical results for any
chunk size and any number of workers.

Sensitivity (Spearman) method: when a task's duration is a monotone function of its uniform grade
``u`` (its inverse CDF), ``u`` is the duration's population rank, so pmrisk correlates the grade,
quantised to 16 bits, with the mid-ranks of the project duration using exact integer sums. This
equals Spearman's coefficient up to the difference between population and sample ranks (within
1e-3 of ``scipy.stats.spearmanr`` at 20,000 iterations; sampling noise is ~1e-2). When risks or
drivers also move the task, its duration is ranked by the mid-rank of its bin among 1,024 bins
at the pilot's quantiles of its simulated durations (exact for the point masses risks create).

Histograms: 256 equal bins between the pilot's lowest and highest value, plus exact counts of the
values equal to either end and of those outside (about 1 in 1,025); a task's P-level finish is
within one bin of the exact order statistic (tested against the unchunked oracle).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from pmrisk.distributions import BatchSampler, Distribution
from pmrisk.engine import kernels
from pmrisk.engine._jit import HAVE_NUMBA, njit
from pmrisk.engine.network import FF, FS, SF, Network, compile_network
from pmrisk.engine.sampling import STREAM_COST, STREAM_DURATION, grade_rank_sums_kernel, seed_key, uniforms
from pmrisk.engine.uncertainty import Uncertainty, compile_uncertainty
from pmrisk.errors import PmriskWarning
from pmrisk.project import MAX_DAYS, Project

HIST_BINS = 256                # equal bins of each task's finish histogram
P_LEVELS = (5, 10, 20, 50, 80, 90, 95)
# integer rank sums stay below 2**63 per chunk: 2**16 (grade) * 2 * 1e8 (rank) * 2**16 (chunk)
MAX_RUN_ITERATIONS = 100_000_000
MAX_CHUNK = 65_536
MIN_STABLE_ITERATIONS = 1000  # p80_tolerance never judges the P80 stable on fewer iterations
DURATION_QUANTUM = 64          # task-duration sums are exact in units of 1/64 working day


@dataclass
class _Plan:
    net: Network
    key: tuple[int, int]
    durations: BatchSampler
    fixed: BatchSampler | None       # None: every fixed cost is a constant (see fixed_const)
    per_day: BatchSampler | None
    fixed_const: np.ndarray
    per_day_const: np.ndarray
    dur_constant: np.ndarray         # True where the duration cannot vary (sensitivity 0)
    unc: Uncertainty
    merge_tasks: np.ndarray          # topological rows with two or more incoming links
    merge_links: np.ndarray          # incoming-link indices (into pred_*) of those rows
    link_succ: np.ndarray            # the successor (topological row) of every link
    rank_rows: np.ndarray            # rows ranked by their simulated durations (see _make_plan)
    reference: bool = False
    may_go_negative: bool = True     # some duration distribution reaches below 0 (cut at 0 when sampled)

    @functools.cached_property
    def rank_idx(self) -> np.ndarray:
        """The topological rows of ``rank_rows``."""
        return np.flatnonzero(self.rank_rows)

    @property
    def const_costs(self) -> bool:
        """Every cost is a constant and nothing scales or removes one: cost = sum(fixed + per_day * d)."""
        return self.fixed is None and self.per_day is None and not self.unc.active


def _make_plan(project: Project, key: tuple[int, int], *, mitigated: bool | frozenset[str] = False,
               reference: bool = False, calibration: Any = None) -> _Plan:
    net = compile_network(project)

    def consts(dists: tuple) -> tuple[BatchSampler | None, np.ndarray]:
        if all(d.is_fixed for d in dists):
            return None, np.array([float(d.mean()) for d in dists], dtype=np.float64)
        return BatchSampler(list(dists)), np.zeros(len(dists))

    fixed, fixed_const = consts(net.fixed_costs)
    per_day, per_day_const = consts(net.per_day_costs)
    unc = compile_uncertainty(project.risk, net, {t.id: t.probability for t in project.tasks},
                              mitigated=mitigated, source=project.source, calibration=calibration)
    indeg = np.diff(net.pred_ptr)
    merge_tasks = np.flatnonzero(indeg >= 2)
    merge_links = np.concatenate([np.arange(net.pred_ptr[k], net.pred_ptr[k + 1]) for k in merge_tasks]
                                 ) if merge_tasks.size else np.zeros(0, dtype=np.int64)
    dur_constant = np.array([d.is_fixed for d in net.durations], dtype=bool) & ~unc.affected
    # ranked through their simulated durations (pass 3) rather than their grades: tasks that risks,
    # drivers, existence or branches move, and tasks whose own distribution has point masses (ties)
    rank_rows = unc.affected | np.array([_has_atoms(d) for d in net.durations], dtype=bool)
    link_succ = np.repeat(np.arange(net.n), np.diff(net.pred_ptr))
    return _Plan(net=net, key=key, durations=BatchSampler(list(net.durations)), fixed=fixed, per_day=per_day,
                 fixed_const=fixed_const, per_day_const=per_day_const, dur_constant=dur_constant, unc=unc,
                 merge_tasks=merge_tasks, merge_links=merge_links.astype(np.int64), link_succ=link_succ,
                 rank_rows=rank_rows, reference=reference,
                 may_go_negative=any(not d.is_fixed and d.support()[0] < 0 for d in net.durations))


def _has_atoms(d: Distribution) -> bool:
    """Does the sampled duration have point masses (ties), so that its grade is not its rank?"""
    if d.is_fixed:
        return False
    if d.kind == "discrete":
        return True
    return d.support()[0] < 0 and float(d.cdf(0.0)) > 0       # cut at zero: a point mass at 0


_EMPTY = np.zeros(0)
RANK_BINS = 1024               # quantile bins that rank the durations of rank_rows
PILOT_ITERATIONS = 1024        # at most this many first iterations run first to set every histogram's range


@njit(inline="always")
def _edge_bin(edges, r, v):  # noqa: ANN001, ANN201
    """How many of row r's sorted ``edges`` are <= ``v`` (a binary search)."""
    lo = 0
    hi = edges.shape[1]
    while lo < hi:
        mid = (lo + hi) >> 1
        if edges[r, mid] <= v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit
def _edge_accumulate(dur, rows, edges, hist):  # noqa: ANN001, ANN201
    """``hist[r, j] += 1`` for each value of ``dur[rows[r]]`` with ``j`` of row r's sorted
    ``edges`` <= it (a binary search per value)."""
    c = dur.shape[1]
    for r in range(rows.shape[0]):
        k = rows[r]
        for i in range(c):
            hist[r, _edge_bin(edges, r, dur[k, i])] += 1


@njit
def _edge_rank_sums(dur, rows, edges, grade_of_bin, rank2, sq, sqq, sqr):  # noqa: ANN001, ANN201
    """Rank sums (see :func:`_rank_sums`) of the bin grades ``grade_of_bin[r, j]`` of the values of
    ``dur[rows[r]]``, binned as in :func:`_edge_accumulate`."""
    c = dur.shape[1]
    for r in range(rows.shape[0]):
        k = rows[r]
        for i in range(c):
            g = grade_of_bin[r, _edge_bin(edges, r, dur[k, i])]
            sq[r] += g
            sqq[r] += g * g
            sqr[r] += g * rank2[i]


def _edge_columns_reference(dur: np.ndarray, rows: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.stack([np.searchsorted(edges[r], dur[k], side="right") for r, k in enumerate(rows)]
                    ) if rows.size else np.zeros((0, dur.shape[1]), dtype=np.int64)


def _edge_accumulate_reference(dur, rows, edges, hist):  # noqa: ANN001, ANN201
    """Plain NumPy reference of :func:`_edge_accumulate`."""
    for r, cols in enumerate(_edge_columns_reference(dur, rows, edges)):
        hist[r] += np.bincount(cols, minlength=hist.shape[1])


def _edge_rank_sums_reference(dur, rows, edges, grade_of_bin, rank2, sq, sqq, sqr):  # noqa: ANN001, ANN201
    """Plain NumPy reference of :func:`_edge_rank_sums`."""
    q = np.take_along_axis(grade_of_bin, _edge_columns_reference(dur, rows, edges), axis=1)
    _rank_sums_reference(q, rank2, sq, sqq, sqr)


@dataclass
class _Sample:
    dur: np.ndarray          # [tasks, C] durations after every uncertainty
    grade: np.ndarray        # [tasks, C] the duration grades (after correlation)
    fixed: np.ndarray | None
    per_day: np.ndarray | None
    extra_cost: np.ndarray | None
    occurred: np.ndarray | None
    absent: dict[int, np.ndarray] | None = None   # row -> iterations in which the task does not happen


def _keep(first: int, count: int, keep: tuple[int, int]) -> tuple[int, int]:
    """Columns ``[a, b)`` of a chunk starting at ``first`` that fall in the global window ``keep``."""
    return max(keep[0] - first, 0), max(min(keep[1] - first, count), 0)


class _Work:
    """Scratch buffers of one worker thread, reused from chunk to chunk.

    Fresh ``[tasks, C]`` arrays for every chunk cost page faults (several microseconds a page on
    these machines: a third of the run time at 10,000 tasks); views of a few flat buffers do not.
    """

    def __init__(self) -> None:
        self.bufs: dict[str, np.ndarray] = {}

    def arr(self, name: str, n: int, c: int) -> np.ndarray:
        """A C-contiguous float64 ``[n, c]`` view of the buffer ``name`` (contents undefined)."""
        buf = self.bufs.get(name)
        if buf is None or buf.size < n * c:
            buf = self.bufs[name] = np.empty(max(n * c, 1))
        return buf[: n * c].reshape(n, c)


def _sample(plan: _Plan, first: int, count: int, keep: tuple[int, int], costs: bool = True,
            work: _Work | None = None, uncertain: bool = True) -> _Sample:
    """Samples of iterations ``keep`` within the chunk ``first .. first + count`` (which may be wider
    than ``keep`` so that correlation blocks are always drawn whole). With ``work`` the arrays are
    views of reusable scratch buffers (an inverse CDF never writes over its own uniforms: that would
    cost a copy of them). ``uncertain=False`` stops before drivers, risks, existence and branches
    (correlation included)."""
    net = plan.net
    n = net.n
    work = work or _Work()
    u_dur, u_fix = _grades(plan, first, count, keep, work)
    first, count = first + _keep(first, count, keep)[0], u_dur.shape[1]
    dur = plan.durations.ppf(u_dur, out=work.arr("dur", n, count))
    if plan.may_go_negative:
        np.maximum(dur, 0.0, out=dur)    # an untruncated normal may dip below 0: no negative durations
    fixed = per_day = None
    if costs and not (plan.const_costs and uncertain):
        if plan.fixed is not None:
            fixed = plan.fixed.ppf(u_fix, out=work.arr("fixed", n, count))
        else:
            fixed = u_fix
            fixed[:] = plan.fixed_const[:, None]
        if plan.per_day is not None:
            u_pd, _ = uniforms(plan.key, first, count, net.keys_lo, net.keys_hi, STREAM_COST,
                               out_a=work.arr("u_pd", n, count), out_b=work.arr("u_spare", n, count))
            per_day = plan.per_day.ppf(u_pd, out=work.arr("per_day", n, count))
        else:
            per_day = work.arr("u_pd", n, count)
            per_day[:] = plan.per_day_const[:, None]
    extra = occurred = absent = None
    if plan.unc.active and uncertain:
        extra, occurred, absent = plan.unc.apply(plan.key, first, dur, fixed)
        np.minimum(dur, MAX_DAYS, out=dur)     # risk delays and factors cannot push a task past the cap
    return _Sample(dur=dur, grade=u_dur, fixed=fixed, per_day=per_day, extra_cost=extra, occurred=occurred,
                   absent=absent)


def _grades(plan: _Plan, first: int, count: int, keep: tuple[int, int], work: _Work
            ) -> tuple[np.ndarray, np.ndarray]:
    """The duration grades (after correlation) and the fixed-cost uniforms of the kept iterations."""
    net = plan.net
    n = net.n
    u_dur, u_fix = uniforms(plan.key, first, count, net.keys_lo, net.keys_hi, STREAM_DURATION,
                            out_a=work.arr("u_dur", n, count), out_b=work.arr("u_fix", n, count))
    plan.unc.correlate(plan.key, first, u_dur)
    a, b = _keep(first, count, keep)
    if (a, b) != (0, count):
        u_dur = np.ascontiguousarray(u_dur[:, a:b])
        u_fix = np.ascontiguousarray(u_fix[:, a:b])
    return u_dur, u_fix


def _forward(plan: _Plan, dur: np.ndarray, work: _Work | None = None) -> tuple[np.ndarray, np.ndarray]:
    net = plan.net
    if plan.reference:
        return kernels.forward_pass_reference(dur, net.pred_ptr, net.pred_src, net.pred_type, net.pred_lag,
                                              net.earliest)
    work = work or _Work()
    es = work.arr("es", *dur.shape)
    ef = work.arr("ef", *dur.shape)
    kernels.forward_pass(dur, net.pred_ptr, net.pred_src, net.pred_type, net.pred_lag, net.earliest, es, ef)
    return es, ef


class BigSum:
    """Exact integer sums of int64 partial sums that can never overflow.

    Partials are added to an int64 array while a running bound on its magnitude stays below
    2**62, then flushed into Python integers. The result is exact, so it does not depend on the
    order in which chunks arrive.
    """

    LIMIT = 2**62

    def __init__(self, n: int) -> None:
        self.fast = np.zeros(n, dtype=np.int64)
        self.big = np.zeros(n, dtype=object)
        self.bound = 0

    def add(self, partial: np.ndarray, bound: int) -> None:
        if self.bound + bound >= self.LIMIT:
            self.flush()
        self.fast += partial
        self.bound += bound

    def flush(self) -> None:
        if self.bound:
            self.big += self.fast.astype(object)
            self.fast[:] = 0
            self.bound = 0

    def total(self) -> np.ndarray:
        self.flush()
        return self.big

    @staticmethod
    def merged(parts: list[BigSum], n: int) -> np.ndarray:
        out = np.zeros(n, dtype=object)
        for p in parts:
            out += p.total()
        return out


@dataclass
class _Bins:
    """Histogram ranges, one per row (layout: :mod:`pmrisk.engine.kernels`)."""

    lo: np.ndarray
    hi: np.ndarray
    scale: np.ndarray

    @classmethod
    def between(cls, lo: np.ndarray, hi: np.ndarray) -> _Bins:
        lo = np.where(np.isfinite(lo), lo, 0.0)
        hi = np.maximum(np.where(np.isfinite(hi), hi, 0.0), lo)
        width = hi - lo
        ok = width > 0
        return cls(lo=lo, hi=hi, scale=np.where(ok, HIST_BINS / np.where(ok, width, 1.0), 0.0))


MERGE_MIN_CRITICALITY = 0.01   # merge bias is reported for merge points critical at least this often
MERGE_MAX_POINTS = 100         # ... and for at most this many, the most critical first


@dataclass
class _MergeSelection:
    tasks: np.ndarray        # topological rows of the merge points analysed
    links: np.ndarray        # their incoming links, grouped by merge point
    counts: np.ndarray       # links per merge point
    bins: _Bins              # histogram ranges of the merge rows (the points' starts, then the links)

    @property
    def rows(self) -> int:
        return self.tasks.size + self.links.size


@dataclass
class _Setup:
    """What a pass-1 chunk accumulates beyond project finish and cost (None: a light pass)."""

    fbins: _Bins | None = None              # finish histograms (None in the pilot)
    sbins: _Bins | None = None              # start histograms (only when asked for: task_starts=True)
    merges: _MergeSelection | None = None   # merge-bias histograms
    edges: np.ndarray | None = None         # [rank rows, RANK_BINS - 1] quantile edges of their durations
    sub: np.ndarray | None = None           # pilot: durations of the rank rows, [rank rows, PILOT_ITERATIONS]


class _Acc1:
    """Pass-1 accumulators of one worker thread (``setup`` None: scratch buffers only)."""

    def __init__(self, n: int, n_risks: int, setup: _Setup | None = None, n_rank: int = 0) -> None:
        self.light = setup is None
        self.work = _Work()
        self.crit = np.zeros(n, dtype=np.int64)
        self.fmin, self.fmax = np.full(n, np.inf), np.full(n, -np.inf)
        self.dmin, self.dmax = np.full(n, np.inf), np.full(n, -np.inf)
        self.smin, self.smax = np.full(n, np.inf), np.full(n, -np.inf)
        self.qsum, self.qsq_hi, self.qsq_lo = BigSum(n), BigSum(n), BigSum(n)
        self.occurred = np.zeros(n_risks, dtype=np.int64)
        # int32 counts: a worker never counts more than MAX_RUN_ITERATIONS < 2**31 values a row
        self.fhist = np.zeros((n if setup is not None and setup.fbins is not None else 0, HIST_BINS + 4),
                              dtype=np.int32)
        self.shist = np.zeros((n if setup is not None and setup.sbins is not None else 0, HIST_BINS + 4),
                              dtype=np.int32)
        m = setup.merges.rows if setup is not None and setup.merges is not None else 0
        self.mhist = np.zeros((m, HIST_BINS + 4), dtype=np.int32)
        self.mmin, self.mmax = np.full(m, np.inf), np.full(m, -np.inf)
        self.dhist = np.zeros((n_rank if setup is not None and setup.edges is not None else 0, RANK_BINS),
                              dtype=np.int64)


def _pass1(plan: _Plan, first: int, count: int, keep: tuple[int, int], acc: _Acc1 | None,
           finish_out: np.ndarray, cost_out: np.ndarray, setup: _Setup | None = None) -> None:
    """One chunk of pass 1: project finish and cost into their iterations' slots, the rest into
    ``acc`` as ``setup`` says (a light pass, ``setup`` None, needs only finish and cost)."""
    net = plan.net
    work = acc.work if acc is not None else _Work()
    smp = _sample(plan, first, count, keep, work=work)
    dur = smp.dur
    a, b = _keep(first, count, keep)
    lo, hi = first + a, first + b
    n, c = dur.shape
    finish = finish_out[lo:hi]
    full = acc is not None and not acc.light and setup is not None
    if not full:
        es, ef = _forward(plan, dur, work)
        if plan.reference:
            finish[:] = np.maximum(ef.max(axis=0), 0.0) if n else 0.0
        else:
            kernels.project_finish(ef, finish)
    else:
        assert acc is not None and setup is not None
        es, ef = work.arr("es", n, c), work.arr("ef", n, c)
        qs = [np.zeros(n, dtype=np.int64) for _ in range(3)]
        fb = setup.fbins
        hlo, hhi, hsc = (fb.lo, fb.hi, fb.scale) if fb is not None else (_EMPTY, _EMPTY, _EMPTY)
        fwd = kernels.forward_accumulate_reference if plan.reference else kernels.forward_accumulate
        fwd(dur, net.pred_ptr, net.pred_src, net.pred_type, net.pred_lag, net.earliest, es, ef, finish,
            qs[0], qs[1], qs[2], float(DURATION_QUANTUM), hlo, hhi, hsc, acc.fhist, acc.fmin, acc.fmax)
        acc.qsum.add(qs[0], c * kernels.QUANTUM_MAX)
        acc.qsq_hi.add(qs[1], c * ((kernels.QUANTUM_MAX ** 2 >> 32) + 1))
        acc.qsq_lo.add(qs[2], c * (1 << 32))
        if fb is not None:             # the finish histograms were filled by the forward pass
            hfn = kernels.hist_accumulate_reference if plan.reference else kernels.hist_accumulate
            sb = setup.sbins
            if sb is not None:          # the pilot's start extremes are done with: smin/smax hold the outliers
                hfn(es, sb.lo, sb.hi, sb.scale, acc.shist, acc.smin, acc.smax)
        else:                 # the pilot: every task's exact extremes, for the histograms' ranges
            ext = kernels.row_extremes_reference if plan.reference else kernels.row_extremes
            ext(ef, acc.fmin, acc.fmax)
            ext(dur, acc.dmin, acc.dmax)
            ext(es, acc.smin, acc.smax)
    cost = cost_out[lo:hi]
    if plan.const_costs:
        if plan.reference:
            cost[:] = kernels.cost_const_reference(dur, plan.fixed_const, plan.per_day_const)
        else:
            kernels.add_cost_const(dur, plan.fixed_const, plan.per_day_const, cost)
    else:
        assert smp.fixed is not None and smp.per_day is not None     # sampled with costs
        if plan.reference:
            cost[:] = kernels.cost_reference(dur, smp.fixed, smp.per_day)
        else:
            kernels.add_cost(dur, smp.fixed, smp.per_day, cost)
    if smp.extra_cost is not None:
        cost += smp.extra_cost
    if not full:
        return
    assert acc is not None and setup is not None
    if plan.reference:
        lf = kernels.backward_pass_reference(dur, finish, net.succ_ptr, net.succ_dst, net.succ_type, net.succ_lag)
        acc.crit += kernels.critical_reference(ef, lf, finish).sum(axis=1).astype(np.int64)
    else:
        lf = work.arr("lf", n, c)
        kernels.backward_critical(dur, ef, finish, net.succ_ptr, net.succ_dst, net.succ_type, net.succ_lag, lf,
                                  work.arr("ls", n, c), acc.crit)
    if smp.absent:
        # a task that does not happen in an iteration is not critical in it, whatever its float
        tol = kernels.FLOAT_TOL * (1.0 + np.abs(finish))
        for row, gone in smp.absent.items():
            acc.crit[row] -= int(np.count_nonzero(((lf[row] - ef[row]) <= tol) & gone))
    if smp.occurred is not None:
        acc.occurred += smp.occurred.sum(axis=1)
    rows = plan.rank_idx
    if setup.edges is not None:
        (_edge_accumulate_reference if plan.reference else _edge_accumulate)(dur, rows, setup.edges, acc.dhist)
    if setup.sub is not None and lo < setup.sub.shape[1]:
        stop = min(hi, setup.sub.shape[1])
        setup.sub[:, lo:stop] = dur[rows, :stop - lo]
    ms = setup.merges
    if ms is not None:
        mfn = kernels.merge_accumulate_reference if plan.reference else kernels.merge_accumulate
        mfn(es, ef, dur, ms.tasks, net.pred_src[ms.links], net.pred_type[ms.links], net.pred_lag[ms.links],
            plan.link_succ[ms.links], ms.bins.lo, ms.bins.hi, ms.bins.scale, acc.mhist, acc.mmin, acc.mmax)


@njit
def _rank_sums(q, rank2, sq, sqq, sqr):  # noqa: ANN001, ANN201
    n, c = q.shape
    for k in range(n):
        for i in range(c):
            v = q[k, i]
            sq[k] += v
            sqq[k] += v * v
            sqr[k] += v * rank2[i]


@njit
def _grade_rank_sums(grade, rank2, sq, sqq, sqr):  # noqa: ANN001, ANN201
    """:func:`_rank_sums` of ``int64(grade * 65536)`` without materialising the quantised grades."""
    n, c = grade.shape
    for k in range(n):
        for i in range(c):
            v = np.int64(grade[k, i] * 65536.0)
            sq[k] += v
            sqq[k] += v * v
            sqr[k] += v * rank2[i]


def _rank_sums_reference(q, rank2, sq, sqq, sqr):  # noqa: ANN001, ANN201
    """Plain NumPy reference of :func:`_rank_sums`."""
    sq += q.sum(axis=1)
    sqq += (q * q).sum(axis=1)
    sqr += (q * rank2[None, :]).sum(axis=1)


def _select_merges(plan: _Plan, crit: np.ndarray, n_iter: int, pilot: _Merged1) -> _MergeSelection | None:
    """The merge points worth a merge-bias figure (the (near-)critical ones in the pilot), with
    histogram ranges from the pilot's exact task bounds: a start's own range; a link date's
    predecessor range plus the lag (minus the successor's duration range for FF/SF)."""
    if not plan.merge_tasks.size:
        return None
    share = crit[plan.merge_tasks] / max(n_iter, 1)
    idx = np.flatnonzero(share >= MERGE_MIN_CRITICALITY)
    if idx.size > MERGE_MAX_POINTS:
        idx = np.sort(idx[np.argsort(-share[idx], kind="stable")[:MERGE_MAX_POINTS]])
    if not idx.size:
        return None
    indeg = np.diff(plan.net.pred_ptr)[plan.merge_tasks]
    off = np.concatenate([[0], np.cumsum(indeg)])
    links = plan.merge_links[np.concatenate([np.arange(off[i], off[i + 1]) for i in idx])]
    tasks = plan.merge_tasks[idx]
    net = plan.net
    src, typ, lag = net.pred_src[links], net.pred_type[links], net.pred_lag[links]
    succ = plan.link_succ[links]
    fin = (typ == FS) | (typ == FF)
    lo = np.where(fin, pilot.fmin[src], pilot.smin[src]) + lag
    hi = np.where(fin, pilot.fmax[src], pilot.smax[src]) + lag
    minus = (typ == FF) | (typ == SF)
    lo = np.where(minus, lo - pilot.dmax[succ], lo)
    hi = np.where(minus, hi - pilot.dmin[succ], hi)
    bins = _Bins.between(np.concatenate([pilot.smin[tasks], lo]), np.concatenate([pilot.smax[tasks], hi]))
    return _MergeSelection(tasks=tasks, links=links, counts=indeg[idx], bins=bins)


def _add_rank_sums(plan: _Plan, q: np.ndarray, rank2: np.ndarray, sums: list[BigSum], grades: bool = False) -> None:
    """Add the integer sums of ``q``, ``q**2`` and ``q * rank2`` (per row) to ``sums``; with
    ``grades``, ``q`` holds uniform grades, quantised here to 16 bits (``int(u * 65536)``)."""
    m, c = q.shape
    sq = np.zeros(m, dtype=np.int64)
    sqq = np.zeros(m, dtype=np.int64)
    sqr = np.zeros(m, dtype=np.int64)
    if grades and plan.reference:
        q = (q * 65536.0).astype(np.int64)
    if plan.reference:
        _rank_sums_reference(q, rank2, sq, sqq, sqr)
    elif grades:
        _grade_rank_sums(q, rank2, sq, sqq, sqr)
    else:
        _rank_sums(q, rank2, sq, sqq, sqr)
    _add_sums(sums, (sq, sqq, sqr), c, rank2)


def _add_sums(sums: list[BigSum], parts: tuple[np.ndarray, np.ndarray, np.ndarray], c: int,
              rank2: np.ndarray) -> None:
    top_r = int(rank2.max()) if rank2.size else 0
    sums[0].add(parts[0], c * 65535)
    sums[1].add(parts[1], c * 65535 * 65535)
    sums[2].add(parts[2], c * 65535 * top_r)


@dataclass
class _Acc2:
    """Pass-2 accumulators of one worker thread: rank sums of every task, and of the rank rows."""

    work: _Work
    sums: list[BigSum]
    rank_sums: list[BigSum]


def _pass2(plan: _Plan, first: int, count: int, keep: tuple[int, int], acc: _Acc2, rank2: np.ndarray,
           edges: np.ndarray | None, grade_of_bin: np.ndarray | None) -> None:
    """One chunk of pass 2: the integer rank sums behind each task's sensitivity. Only the grades
    are regenerated, unless some durations must be ranked through their own values (rank rows)."""
    a, b = _keep(first, count, keep)
    r2 = rank2[first + a:first + b]
    if edges is None and plan.unc.corr_chol is None and not plan.reference:
        # the grades are the plain uniforms: generated and summed in one kernel, never stored
        n = plan.net.n
        parts = (np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64))
        grade_rank_sums_kernel(np.uint64(plan.key[0]), np.uint64(plan.key[1]), np.uint64(first + a), b - a,
                               plan.net.keys_lo, plan.net.keys_hi, np.uint64(STREAM_DURATION), r2, *parts)
        _add_sums(acc.sums, parts, b - a, r2)
        return
    if edges is None or grade_of_bin is None:
        grade, _ = _grades(plan, first, count, keep, acc.work)
        _add_rank_sums(plan, grade, r2, acc.sums, grades=True)
        return
    smp = _sample(plan, first, count, keep, costs=False, work=acc.work)
    _add_rank_sums(plan, smp.grade, r2, acc.sums, grades=True)
    rows = plan.rank_idx
    rparts = (np.zeros(rows.size, dtype=np.int64), np.zeros(rows.size, dtype=np.int64),
              np.zeros(rows.size, dtype=np.int64))
    fn = _edge_rank_sums_reference if plan.reference else _edge_rank_sums
    fn(smp.dur, rows, edges, grade_of_bin, r2, *rparts)
    _add_sums(acc.rank_sums, rparts, b - a, r2)


def midranks2(x: np.ndarray) -> np.ndarray:
    """Twice the mid-ranks (1-based, ties averaged) of ``x``, as exact integers.

    Examples
    --------
    >>> midranks2(np.array([3.0, 1.0, 3.0, 2.0])).tolist()
    [7, 2, 7, 4]
    """
    n = len(x)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    bounds = np.flatnonzero(np.concatenate(([True], xs[1:] != xs[:-1], [True])))
    starts, ends = bounds[:-1], bounds[1:]
    out = np.empty(n, dtype=np.int64)
    out[order] = np.repeat(starts + 1 + ends, ends - starts)
    return out


def auto_chunk_size(n_tasks: int) -> int:
    """Iterations per chunk: the power of two nearest 2**16 / tasks (each ``[tasks, C]`` scratch
    array about 512 KiB), between 128 and 4,096. Measured (benchmarks/, 2-core AMD EPYC, 1 MiB L2
    a core): best or within a few percent of best at 100, 1,000 and 10,000 tasks; smaller chunks
    pay a chunk's fixed Python cost too often, larger ones fall out of cache."""
    ideal = (1 << 16) / max(n_tasks, 1)
    return int(min(4096, max(128, 1 << max(0, round(math.log2(ideal))))))


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


class _Runner:
    """Maps chunk functions over iteration ranges on a thread pool, reporting progress."""

    def __init__(self, workers: int, chunk: int, block: int, n_tasks: int,
                 progress: Callable[[int, int], None] | None) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
        # chunks are whole correlation blocks, so a chunk never splits one
        self.chunk = max(block, (chunk // block) * block) if block > 1 else chunk
        self.block = block
        self.n = n_tasks
        self.progress = progress
        self.done = 0
        self.total = 0

    def run(self, fn: Callable[[int, int, tuple[int, int], Any], None], a: int, b: int,
            make_acc: Callable[[], Any] | None = None) -> list[Any]:
        """``fn(first, count, keep, acc)`` over chunks covering iterations ``[a, b)``.

        Chunks start on correlation-block boundaries and may extend past the window, which
        ``keep`` states. Each worker thread gets its own accumulator from ``make_acc``; the list of
        accumulators is returned (their merge must not depend on their order).
        """
        start = (a // self.block) * self.block
        end = -(-b // self.block) * self.block
        rs = [(s, min(self.chunk, end - s)) for s in range(start, end, self.chunk)]
        accs: list[Any] = []
        local = threading.local()
        lock = threading.Lock()

        def call(r: tuple[int, int]) -> tuple[int, int]:
            acc = getattr(local, "acc", None)
            if acc is None and make_acc is not None:
                acc = local.acc = make_acc()
                with lock:
                    accs.append(acc)
            fn(r[0], r[1], (a, b), acc)
            return r

        it = self.pool.map(call, rs) if self.pool is not None else map(call, rs)
        for f, cnt in it:
            lo, hi = _keep(f, cnt, (a, b))
            self.done += (hi - lo) * self.n
            if self.progress is not None:
                self.progress(min(self.done, self.total), self.total)
        return accs

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def simulate(project: Project, iterations: int = 10_000, rng: int | np.random.SeedSequence |
             np.random.Generator | None = None, *, mitigated: bool = False, rank_risks: bool = True,
             chunk_size: int | None = None, workers: int = 1, p80_tolerance: float | None = None,
             max_iterations: int = 1_000_000, progress: Callable[[int, int], None] | None = None,
             engine: str = "auto", calibrate: Any = None, task_starts: bool = False,
             top_down: Any = None):  # noqa: ANN201
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
    mitigated
        Simulate every risk in its mitigated (post-response) state, response costs included.
    rank_risks
        Rank the risks: re-run the project without each risk in turn (same random numbers) and
        report how much P50/P80/P90 duration and cost drop. Costs one light pass per risk.
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
    task_starts
        Also keep a histogram of each task's start (for P-level start dates per task,
        :meth:`~pmrisk.results.SimulationResult.task_dates`); costs about a tenth more time.
    calibrate
        History calibration (:mod:`pmrisk.calibration`): None uses the project's ``calibration:``
        section if it has one; False ignores it; a shared dataset name, a history file, a mapping
        like the section, or a :class:`~pmrisk.calibration.Calibration` applies that one. The
        result then also holds the uncalibrated P-levels (same random numbers). A ``.json`` path (or
        ``{"model": ...}``) is a fitted estimate-aware model: each task's estimate gives that task its
        own distribution of overrun ratios.
    top_down
        Top-down check (:mod:`pmrisk.topdown`): None uses the project's ``top_down:`` section if it has
        one; False ignores it; a mapping like the section applies that one. The model's forecast of
        the whole project is reported next to the simulation (``summary()["top_down"]``).

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

    from pmrisk.calibration import as_calibration
    from pmrisk.topdown import as_top_down

    seed = resolve_seed(rng)
    t0 = time.perf_counter()
    calibration = as_calibration(calibrate, project)
    top_info = as_top_down(top_down, project)
    plan = _make_plan(project, seed_key(seed), mitigated=mitigated, reference=reference, calibration=calibration)
    n = plan.net.n
    chunk = int(chunk_size) if chunk_size else auto_chunk_size(n)
    if not 1 <= chunk <= MAX_CHUNK:
        raise ValueError(f"chunk_size must be between 1 and {MAX_CHUNK}, got {chunk_size}")
    block = plan.unc.block
    cm = plan.unc.correlation
    if cm is not None and getattr(cm, "repaired", False):
        moves = ", ".join(f"[{a}, {b}] {asked:g} -> {used:.3f}" for a, b, asked, used in cm.adjustments[:8])
        warnings.warn(PmriskWarning(
            f"{project.source or 'project'}: the correlations were replaced by the nearest consistent matrix: "
            f"{moves}{' ...' if len(cm.adjustments) > 8 else ''}"), stacklevel=2)
    run = _Runner(workers, chunk, block, n, progress)
    # Iman-Conover's small matrix products must not start BLAS threads inside our chunk threads
    limits = threadpool_limits(1, "blas") if plan.unc.corr_chol is not None else contextlib.nullcontext()
    try:
        limits.__enter__()
        n_risks = plan.unc.n_risks
        rows = plan.rank_idx
        # ---- pilot: iterations 0 .. PILOT_ITERATIONS - 1 set the histograms' ranges --------
        n_pilot = min(PILOT_ITERATIONS, iterations if p80_tolerance is None else max(iterations, max_iterations))
        pilot_setup = _Setup(sub=np.empty((rows.size, n_pilot)) if rows.size else None)
        # progress counts task-samples of the pilot, passes 1 and 2, and the variant pass (ranking, uncalibrated run)
        passes = 2 + (1 if rank_risks and project.risks else 0) + (1 if calibration is not None else 0)
        run.total = (n_pilot + passes * iterations) * n
        pfin, pcost = np.empty(n_pilot), np.empty(n_pilot)
        pilot = _merge_acc1(run.run(functools.partial(_pass1_chunk, plan, pfin, pcost, pilot_setup), 0,
                                    n_pilot, lambda: _Acc1(n, n_risks, pilot_setup)), n, n_risks)
        edges = None
        if pilot_setup.sub is not None:
            qs = np.arange(1, RANK_BINS) / RANK_BINS
            edges = np.ascontiguousarray(np.quantile(pilot_setup.sub, qs, axis=1, method="inverted_cdf").T)
        setup = _Setup(fbins=_Bins.between(pilot.fmin, pilot.fmax),
                       sbins=_Bins.between(pilot.smin, pilot.smax) if task_starts else None,
                       merges=_select_merges(plan, pilot.crit, n_pilot, pilot), edges=edges)

        # ---- pass 1 (extended while the P80 is not stable enough) --------------------------
        accs: list[_Acc1] = []
        finish = np.empty(0)
        cost = np.empty(0)
        n_done = 0
        target = iterations
        while True:
            run.total = (n_pilot + passes * target) * n
            finish = np.concatenate([finish, np.empty(target - n_done)])
            cost = np.concatenate([cost, np.empty(target - n_done)])
            accs += run.run(functools.partial(_pass1_chunk, plan, finish, cost, setup), n_done, target,
                            lambda: _Acc1(n, n_risks, setup, rows.size))
            n_done = target
            if p80_tolerance is None or target >= max_iterations:
                break
            if target >= MIN_STABLE_ITERATIONS and _standard_error(np.sort(finish), 0.8) <= p80_tolerance:
                break
            target = min(2 * target, max_iterations)
        n_iter = n_done
        a1 = _merge_acc1(accs, n, n_risks)

        # ---- pass 2: rank sums for the sensitivities ---------------------------------------
        rank2 = midranks2(finish)
        grade_of_bin = None
        if edges is not None:
            cum = np.cumsum(a1.dhist, axis=1)
            midrank = (cum - a1.dhist / 2.0) / n_iter
            grade_of_bin = np.minimum((midrank * 65536.0).astype(np.int64), 65535)
        acc2 = run.run(lambda f, c, k, acc: _pass2(plan, f, c, k, acc, rank2, edges, grade_of_bin), 0, n_iter,
                       lambda: _Acc2(_Work(), [BigSum(n) for _ in range(3)], [BigSum(rows.size) for _ in range(3)]))
        sq, sqq, sqr = (BigSum.merged([x.sums[i] for x in acc2], n) for i in range(3))
        sens = _spearman_from_sums(sq, sqq, sqr, rank2, n_iter)
        if edges is not None:
            s3 = [BigSum.merged([x.rank_sums[i] for x in acc2], rows.size) for i in range(3)]
            sens[rows] = _spearman_from_sums(s3[0], s3[1], s3[2], rank2, n_iter)
        sens[plan.dur_constant] = 0.0
        for x in acc2:
            x.work.bufs.clear()

        # ---- risk ranking, and the uncalibrated run: variants on the same random numbers ---
        ranking = None
        if rank_risks and project.risks:
            ranking = _rank_risks(project, plan, run, n_iter, finish, cost, mitigated)
        calib_info = None
        if calibration is not None:
            plain = compile_uncertainty(project.risk, plan.net, {t.id: t.probability for t in project.tasks},
                                        mitigated=mitigated, source=project.source)
            fins, csts = np.empty((1, n_iter)), np.empty((1, n_iter))
            run.run(lambda f, c, k, work: _variants_chunk(plan, [plain], fins, csts, f, c, k, work), 0, n_iter,
                    _Work)
            calib_info = {**calibration.describe(), "uncalibrated_durations": fins[0], "uncalibrated_costs": csts[0]}
    finally:
        run.close()
        limits.__exit__(None, None, None)

    det = deterministic_plan(project, plan.net)
    elapsed = time.perf_counter() - t0
    order = plan.net.file_index
    inv = np.empty_like(order)
    inv[order] = np.arange(n)       # file position -> topological position
    q = float(DURATION_QUANTUM)
    dsum = a1.qsum_total
    dsq = a1.qsq_total
    dur_mean = np.array([float(s) for s in dsum]) / q / n_iter
    dur_var = np.array([float(n_iter * int(b) - int(a) ** 2) for a, b in zip(dsum, dsq)]) / (q * q) / (
        n_iter * max(n_iter - 1, 1))
    merge = {}
    if setup.merges is not None:
        merge = _merge_bias(plan, setup.merges, a1.mhist, a1.mmin, a1.mmax)
    fb = setup.fbins
    assert fb is not None
    return SimulationResult(
        project=project, iterations=n_iter, seed=seed, durations=finish, costs=cost,
        task_ids=tuple(project.task_ids), criticality_counts=a1.crit[inv], sensitivity_values=sens[inv],
        finish_hist=a1.fhist[inv], finish_lo=fb.lo[inv], finish_hi=fb.hi[inv], finish_min=a1.fmin[inv],
        finish_max=a1.fmax[inv], deterministic=det, elapsed=elapsed,
        chunk_size=run.chunk, workers=workers, engine="reference" if reference else "numba",
        mitigated=mitigated, task_duration_mean=dur_mean[inv],
        task_duration_sd=np.sqrt(np.maximum(dur_var, 0.0))[inv],
        risk_ids=plan.unc.risk_ids, risk_occurrence=a1.occurred / n_iter,
        risk_ranking=ranking, merge_bias=merge, correlation=plan.unc.correlation, calibration=calib_info,
        start_hist=a1.shist[inv] if setup.sbins is not None else None,
        start_range=(setup.sbins.lo[inv], setup.sbins.hi[inv], a1.smin[inv], a1.smax[inv])
        if setup.sbins is not None else None,
        top_down=top_info,
    )


def _pass1_chunk(plan: _Plan, finish_out: np.ndarray, cost_out: np.ndarray, setup: _Setup | None,
                 first: int, count: int, keep: tuple[int, int], acc: _Acc1 | None) -> None:
    _pass1(plan, first, count, keep, acc, finish_out, cost_out, setup)


@dataclass
class _Merged1:
    """Pass-1 accumulators of all workers, merged (sums exact, so in any order)."""

    crit: np.ndarray
    fmin: np.ndarray
    fmax: np.ndarray
    dmin: np.ndarray
    dmax: np.ndarray
    smin: np.ndarray
    smax: np.ndarray
    qsum_total: np.ndarray
    qsq_total: np.ndarray
    occurred: np.ndarray
    fhist: np.ndarray
    shist: np.ndarray
    mhist: np.ndarray
    mmin: np.ndarray
    mmax: np.ndarray
    dhist: np.ndarray


def _merge_acc1(accs: list[_Acc1], n: int, n_risks: int) -> _Merged1:
    for x in accs:
        x.work.bufs.clear()          # scratch buffers are not needed past their pass
    hi = BigSum.merged([x.qsq_hi for x in accs], n)
    lo = BigSum.merged([x.qsq_lo for x in accs], n)
    return _Merged1(
        crit=np.sum([x.crit for x in accs], axis=0), fmin=np.min([x.fmin for x in accs], axis=0),
        fmax=np.max([x.fmax for x in accs], axis=0), dmin=np.min([x.dmin for x in accs], axis=0),
        dmax=np.max([x.dmax for x in accs], axis=0), smin=np.min([x.smin for x in accs], axis=0),
        smax=np.max([x.smax for x in accs], axis=0), qsum_total=BigSum.merged([x.qsum for x in accs], n),
        qsq_total=hi * (1 << 32) + lo, occurred=np.sum([x.occurred for x in accs], axis=0),
        fhist=np.asarray(np.sum([x.fhist for x in accs], axis=0, dtype=np.int64)),
        shist=np.asarray(np.sum([x.shist for x in accs], axis=0, dtype=np.int64)),
        mhist=np.asarray(np.sum([x.mhist for x in accs], axis=0, dtype=np.int64)),
        mmin=np.min([x.mmin for x in accs], axis=0), mmax=np.max([x.mmax for x in accs], axis=0),
        dhist=np.sum([x.dhist for x in accs], axis=0))


def _rank_risks(project: Project, plan: _Plan, run: _Runner, n_iter: int, finish: np.ndarray,
                cost: np.ndarray, mitigated: bool) -> dict[str, dict[str, Any]]:
    """How much the P-levels drop when each risk alone is removed (and what its mitigation buys).

    Every variant (the project without one risk; with one risk mitigated) runs on the same random
    numbers, in one pass: each chunk's durations and costs are sampled once, then each variant
    applies its own risks to a copy and schedules it. A variant costs a forward pass and its risks,
    not a whole simulation; and its results equal those of a separate run of the variant.
    """
    from pmrisk.results import quantile

    levels = (50, 80, 90)
    base_d = {lv: quantile(finish, lv / 100) for lv in levels}
    base_c = {lv: quantile(cost, lv / 100) for lv in levels}
    probs = {t.id: t.probability for t in project.tasks}

    def unc_of(variant: Project, mit: bool | frozenset[str]) -> Uncertainty:
        return compile_uncertainty(variant.risk, plan.net, probs, mitigated=mit, source=project.source,
                                   calibration=plan.unc.calibration)

    labels: list[tuple[str, str]] = []
    variants: list[Uncertainty] = []
    for r in project.risks:
        labels.append((r.id, "without"))
        variants.append(unc_of(project.without_risks(r.id), mitigated))
        if r.mitigation is not None and not mitigated:
            labels.append((r.id, "mitigated"))
            variants.append(unc_of(project, frozenset({r.id})))
    fins = np.empty((len(variants), n_iter))
    csts = np.empty((len(variants), n_iter))
    run.run(lambda f, c, k, work: _variants_chunk(plan, variants, fins, csts, f, c, k, work), 0, n_iter, _Work)
    res = {lab: (fins[i], csts[i]) for i, lab in enumerate(labels)}

    out: dict[str, dict[str, Any]] = {}
    cod = project.cost_of_delay_per_day
    for r in project.risks:
        fin, cst = res[(r.id, "without")]
        row: dict[str, Any] = {}
        for lv in levels:
            row[f"P{lv}_delay_contribution"] = base_d[lv] - quantile(fin, lv / 100)
            row[f"P{lv}_cost_contribution"] = base_c[lv] - quantile(cst, lv / 100)
        row["mean_delay_contribution"] = float(np.mean(finish) - np.mean(fin))
        row["mean_cost_contribution"] = float(np.mean(cost) - np.mean(cst))
        if (r.id, "mitigated") in res and r.mitigation is not None:
            mf, mc = res[(r.id, "mitigated")]
            gain_days = base_d[80] - quantile(mf, 0.8)
            gain_cost = base_c[80] - quantile(mc, 0.8)   # mitigated run includes the response cost
            response = r.mitigation.cost.mean()
            benefit = gain_cost + response + (cod * gain_days if cod else 0.0)
            row["mitigation"] = {
                "response_cost": response, "P80_duration_reduction": gain_days,
                "P80_cost_reduction_before_response": gain_cost + response,
                "P80_cost_reduction": gain_cost, "benefit": benefit, "net_benefit": benefit - response,
                "benefit_cost_ratio": benefit / response if response > 0 else None,
                "cost_of_delay_per_day": cod,
            }
        out[r.id] = row
    return out


def _variants_chunk(plan: _Plan, variants: list[Uncertainty], fins: np.ndarray, csts: np.ndarray, first: int,
                    count: int, keep: tuple[int, int], work: _Work) -> None:
    """One chunk of every variant: sample once (before any risk), then per variant apply its risks to
    a copy, schedule, and cost; the same operations, in the same order, as a run of the variant."""
    base = _sample(plan, first, count, keep, work=work, uncertain=False)
    a, b = _keep(first, count, keep)
    lo, hi = first + a, first + b
    n, c = base.dur.shape
    for v, unc in enumerate(variants):
        dur = work.arr("v_dur", n, c)
        dur[...] = base.dur
        fixed = None
        if base.fixed is not None:
            fixed = work.arr("v_fixed", n, c)
            fixed[...] = base.fixed
        extra = None
        if unc.active:
            extra, _, _ = unc.apply(plan.key, lo, dur, fixed)
            np.minimum(dur, MAX_DAYS, out=dur)
        _, ef = _forward(plan, dur, work)
        fin, cst = fins[v, lo:hi], csts[v, lo:hi]
        if plan.reference:
            fin[:] = np.maximum(ef.max(axis=0), 0.0) if n else 0.0
        else:
            kernels.project_finish(ef, fin)
        if fixed is None or base.per_day is None:
            if plan.reference:
                cst[:] = kernels.cost_const_reference(dur, plan.fixed_const, plan.per_day_const)
            else:
                kernels.add_cost_const(dur, plan.fixed_const, plan.per_day_const, cst)
        elif plan.reference:
            cst[:] = kernels.cost_reference(dur, fixed, base.per_day)
        else:
            kernels.add_cost(dur, fixed, base.per_day, cst)
        if extra is not None:
            cst += extra


def _merge_bias(plan: _Plan, msel: _MergeSelection, mhist: np.ndarray, vmin: np.ndarray,
                vmax: np.ndarray) -> dict[str, dict[str, Any]]:
    """Per merge point: P50 of its early start against the P50 of each incoming link's own date."""
    from pmrisk.results import histogram_quantile

    net = plan.net
    b = msel.bins
    p50 = np.array([histogram_quantile(mhist[i], b.lo[i], b.hi[i], 0.5, vmin[i], vmax[i])
                    for i in range(mhist.shape[0])])
    out = {}
    j = msel.tasks.size
    for i, k in enumerate(msel.tasks):
        cnt = int(msel.counts[i])
        link_p50 = p50[j:j + cnt]
        links = msel.links[j - msel.tasks.size:j - msel.tasks.size + cnt]
        j += cnt
        latest = float(link_p50.max())
        driver = net.ids[net.pred_src[links[int(link_p50.argmax())]]]
        out[net.ids[k]] = {"start_P50": float(p50[i]), "latest_predecessor_P50": latest,
                           "latest_predecessor": driver, "merge_bias": max(float(p50[i]) - latest, 0.0),
                           "predecessors": cnt}
    return out


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
    """The most likely plan: start, finish and total float per task, duration, cost, and the tasks on
    the critical path (zero total float).

    Every distribution is at its most likely value; a driver applies its most likely factor when it
    more likely than not applies; a task with an existence probability below 0.5 and the tasks of
    every branch option but the most likely one do not happen; no risk event occurs (risk events are
    what the plan does not contain).
    """
    net = net or compile_network(project)
    dur = np.fromiter((max(float(d.mode()), 0.0) for d in net.durations), dtype=np.float64,
                      count=net.n).reshape(net.n, 1)
    pos = {tid: k for k, tid in enumerate(net.ids)}
    gone = np.zeros(net.n, dtype=bool)
    for t in project.tasks:
        if t.probability < 0.5:
            gone[pos[t.id]] = True
    for br in project.risk.branches:
        best = max(range(len(br.options)), key=lambda i: br.options[i].probability)
        for i, opt in enumerate(br.options):
            if i != best:
                gone[[pos[t] for t in opt.tasks]] = True
    drv_cost = np.ones(net.n)
    for d in project.drivers:
        if d.probability >= 0.5:
            rows = [pos[t] for t in d.tasks]
            dur[rows, 0] *= d.factor.mode()
            if d.scale_cost:
                drv_cost[rows] *= d.factor.mode()
    dur[gone] = 0.0
    if HAVE_NUMBA:            # the compiled kernels: same arithmetic, and no Python loop over tasks
        es, ef = np.empty_like(dur), np.empty_like(dur)
        kernels.forward_pass(dur, net.pred_ptr, net.pred_src, net.pred_type, net.pred_lag, net.earliest, es, ef)
        finish = np.empty(1)
        kernels.project_finish(ef, finish)
        counts = np.zeros(net.n, dtype=np.int64)
        lf = np.empty_like(dur)
        kernels.backward_critical(dur, ef, finish, net.succ_ptr, net.succ_dst, net.succ_type, net.succ_lag,
                                  lf, np.empty_like(dur), counts)
        crit = counts[:, None] > 0
    else:
        es, ef, finish, crit = kernels.schedule_reference(
            dur, net.pred_ptr, net.pred_src, net.pred_type, net.pred_lag, net.earliest,
            net.succ_ptr, net.succ_dst, net.succ_type, net.succ_lag)
        lf = kernels.backward_pass_reference(dur, finish, net.succ_ptr, net.succ_dst, net.succ_type, net.succ_lag)
    fixed = np.fromiter((float(d.mode()) for d in net.fixed_costs), dtype=np.float64, count=net.n).reshape(
        net.n, 1) * drv_cost[:, None]
    fixed[gone] = 0.0
    per_day = np.fromiter((float(d.mode()) for d in net.per_day_costs), dtype=np.float64, count=net.n).reshape(
        net.n, 1)
    cost = kernels.cost_reference(dur, fixed, per_day)
    ids = project.task_ids
    return {
        "duration": float(finish[0]) if net.n else 0.0,
        "cost": float(cost[0]) if net.n else 0.0,
        "start": {tid: float(es[pos[tid], 0]) for tid in ids},
        "finish": {tid: float(ef[pos[tid], 0]) for tid in ids},
        "critical_path": [tid for tid in ids if crit[pos[tid], 0] and not gone[pos[tid]]],
        "total_float": {tid: float(lf[pos[tid], 0] - ef[pos[tid], 0]) for tid in ids},
    }


def sample_matrix(project: Project, iterations: int, rng: int = 0, *, mitigated: bool = False,
                  calibrate: Any = None) -> dict[str, Any]:
    """Every task's simulated duration, start and finish in every iteration, unchunked.

    Memory grows with tasks x iterations: meant for small studies, exports and tests, not for
    large runs. Same seed, same numbers as :func:`simulate`.

    Returns a dict with ``task_ids`` (file order), ``duration``, ``start``, ``finish`` (arrays
    ``[tasks, iterations]``), and the project's ``project_duration`` and ``cost`` per iteration.
    """
    from pmrisk.calibration import as_calibration

    plan = _make_plan(project, seed_key(resolve_seed(rng)), mitigated=mitigated, reference=not HAVE_NUMBA,
                      calibration=as_calibration(calibrate, project))
    first, count = 0, -(-iterations // plan.unc.block) * plan.unc.block
    smp = _sample(plan, first, count, (0, iterations))
    es, ef = _forward(plan, smp.dur)
    if plan.const_costs:
        cost = kernels.cost_const_reference(smp.dur, plan.fixed_const, plan.per_day_const)
    else:
        assert smp.fixed is not None and smp.per_day is not None
        cost = kernels.cost_reference(smp.dur, smp.fixed, smp.per_day)
    if smp.extra_cost is not None:
        cost = cost + smp.extra_cost
    inv = np.empty_like(plan.net.file_index)
    inv[plan.net.file_index] = np.arange(plan.net.n)
    return {"task_ids": list(project.task_ids), "duration": smp.dur[inv], "start": es[inv], "finish": ef[inv],
            "project_duration": ef.max(axis=0), "cost": cost}


def run_variant(project: Project, iterations: int, seed: int, **kw: Any) -> tuple[np.ndarray, np.ndarray]:
    """Project duration and cost per iteration only (one light pass): for what-if comparisons."""
    from pmrisk.calibration import as_calibration

    plan = _make_plan(project, seed_key(seed), mitigated=kw.pop("mitigated", False),
                      reference=kw.pop("engine", "auto") == "reference" or not HAVE_NUMBA,
                      calibration=as_calibration(kw.pop("calibrate", None), project))
    run = _Runner(1, auto_chunk_size(plan.net.n), plan.unc.block, plan.net.n, None)
    fin, cst = np.empty(iterations), np.empty(iterations)
    run.run(lambda f, c, k, acc: _pass1(plan, f, c, k, acc, fin, cst), 0, iterations,
            lambda: _Acc1(0, 0))
    return fin, cst

