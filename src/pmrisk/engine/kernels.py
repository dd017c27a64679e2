"""Pure array kernels of the simulation: forward pass, backward pass, criticality, cost.

Arrays are ``[tasks, C]`` (tasks in topological order, ``C`` iterations of one chunk, each task's
iterations contiguous). Each kernel exists twice: a plain NumPy reference (``*_reference``), kept
as the test oracle, and a compiled version (numba) used by the engine, which performs the same
floating-point operations in the same order and so returns bit-identical results.

Semantics (project-format.md, section 2), with ``s`` the start, ``f = s + d`` the finish:
``FS: s_j >= f_i + lag``, ``SS: s_j >= s_i + lag``, ``FF: f_j >= f_i + lag``,
``SF: f_j >= s_i + lag``, and ``s_j >= max(0, start_no_earlier_than_j)``. The backward pass runs
from the project finish (the latest finish of any task) and gives each task's latest finish;
total float = latest finish - earliest finish, and a task is critical when its total float is
zero (within ``1e-9 * (1 + project finish)`` to absorb rounding).
"""

from __future__ import annotations

import numpy as np

from pmrisk.engine._jit import njit

FLOAT_TOL = 1e-9


# ---------------------------------------------------------------------------------------------
# Plain NumPy references (test oracles)
# ---------------------------------------------------------------------------------------------

def forward_pass_reference(dur: np.ndarray, pred_ptr: np.ndarray, pred_src: np.ndarray,
                           pred_type: np.ndarray, pred_lag: np.ndarray,
                           earliest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Earliest start and finish ``(es, ef)`` of every task, ``[tasks, C]`` each."""
    n, c = dur.shape
    es = np.empty_like(dur)
    ef = np.empty_like(dur)
    for k in range(n):
        s = np.full(c, earliest[k])
        for e in range(pred_ptr[k], pred_ptr[k + 1]):
            p, t, lag = pred_src[e], pred_type[e], pred_lag[e]
            if t == 0:
                cand = ef[p] + lag
            elif t == 1:
                cand = es[p] + lag
            elif t == 2:
                cand = ef[p] + lag - dur[k]
            else:
                cand = es[p] + lag - dur[k]
            s = np.maximum(s, cand)
        es[k] = s
        ef[k] = s + dur[k]
    return es, ef


def backward_pass_reference(dur: np.ndarray, finish: np.ndarray, succ_ptr: np.ndarray,
                            succ_dst: np.ndarray, succ_type: np.ndarray,
                            succ_lag: np.ndarray) -> np.ndarray:
    """Latest finish ``lf`` of every task given the project finish per iteration."""
    n, _ = dur.shape
    lf = np.empty_like(dur)
    ls = np.empty_like(dur)
    for k in range(n - 1, -1, -1):
        f = finish.copy()
        for e in range(succ_ptr[k], succ_ptr[k + 1]):
            s, t, lag = succ_dst[e], succ_type[e], succ_lag[e]
            if t == 0:
                cand = ls[s] - lag
            elif t == 1:
                cand = ls[s] - lag + dur[k]
            elif t == 2:
                cand = lf[s] - lag
            else:
                cand = lf[s] - lag + dur[k]
            f = np.minimum(f, cand)
        lf[k] = f
        ls[k] = f - dur[k]
    return lf


def critical_reference(ef: np.ndarray, lf: np.ndarray, finish: np.ndarray) -> np.ndarray:
    """Boolean ``[tasks, C]``: total float (lf - ef) is zero within the rounding tolerance."""
    return (lf - ef) <= FLOAT_TOL * (1.0 + np.abs(finish))


def cost_reference(dur: np.ndarray, fixed: np.ndarray, per_day: np.ndarray) -> np.ndarray:
    """Project cost per iteration: sum over tasks (in order) of fixed + per_day * duration."""
    total = np.zeros(dur.shape[1])
    for k in range(dur.shape[0]):
        total += fixed[k] + per_day[k] * dur[k]
    return total


def cost_const_reference(dur: np.ndarray, fixed: np.ndarray, per_day: np.ndarray) -> np.ndarray:
    """:func:`cost_reference` with one constant fixed cost and cost per day a task (1-D arrays)."""
    total = np.zeros(dur.shape[1])
    for k in range(dur.shape[0]):
        total += fixed[k] + per_day[k] * dur[k]
    return total


def schedule_reference(dur, pred_ptr, pred_src, pred_type, pred_lag, earliest,  # noqa: ANN001, ANN201
                       succ_ptr, succ_dst, succ_type, succ_lag):
    """Reference of :func:`schedule_chunk`: returns ``(es, ef, finish, critical)``."""
    es, ef = forward_pass_reference(dur, pred_ptr, pred_src, pred_type, pred_lag, earliest)
    finish = ef.max(axis=0) if ef.shape[0] else np.zeros(dur.shape[1])
    lf = backward_pass_reference(dur, finish, succ_ptr, succ_dst, succ_type, succ_lag)
    return es, ef, finish, critical_reference(ef, lf, finish)


# ---------------------------------------------------------------------------------------------
# Compiled kernels (numba); identical arithmetic, in place
# ---------------------------------------------------------------------------------------------

@njit(inline="always")
def _earliest_start(k, dur, pred_ptr, pred_src, pred_type, pred_lag, earliest, es, ef):  # noqa: ANN001, ANN201
    """Row ``k`` of ``es``: its start-no-earlier-than bound, raised by every incoming link (one
    vector pass per link over the chunk's iterations)."""
    c = dur.shape[1]
    lb = earliest[k]
    for i in range(c):
        es[k, i] = lb
    for e in range(pred_ptr[k], pred_ptr[k + 1]):
        p = pred_src[e]
        t = pred_type[e]
        lag = pred_lag[e]
        if t == 0:
            for i in range(c):
                v = ef[p, i] + lag
                if v > es[k, i]:
                    es[k, i] = v
        elif t == 1:
            for i in range(c):
                v = es[p, i] + lag
                if v > es[k, i]:
                    es[k, i] = v
        elif t == 2:
            for i in range(c):
                v = ef[p, i] + lag - dur[k, i]
                if v > es[k, i]:
                    es[k, i] = v
        else:
            for i in range(c):
                v = es[p, i] + lag - dur[k, i]
                if v > es[k, i]:
                    es[k, i] = v


@njit
def forward_pass(dur, pred_ptr, pred_src, pred_type, pred_lag, earliest, es, ef):  # noqa: ANN001, ANN201
    """In-place forward pass into ``es``/``ef`` (see :func:`forward_pass_reference`)."""
    n, c = dur.shape
    for k in range(n):
        _earliest_start(k, dur, pred_ptr, pred_src, pred_type, pred_lag, earliest, es, ef)
        for i in range(c):
            ef[k, i] = es[k, i] + dur[k, i]


@njit
def project_finish(ef, finish):  # noqa: ANN001, ANN201
    """``finish[i] = max_k ef[k, i]`` (0 for an empty network)."""
    n, c = ef.shape
    for i in range(c):
        finish[i] = 0.0
    for k in range(n):
        for i in range(c):
            if ef[k, i] > finish[i]:
                finish[i] = ef[k, i]


@njit
def backward_critical(dur, ef, finish, succ_ptr, succ_dst, succ_type, succ_lag, lf, ls, crit_count):  # noqa: ANN001, ANN201
    """In-place backward pass; adds each task's number of critical iterations to ``crit_count``."""
    n, c = dur.shape
    for k in range(n - 1, -1, -1):
        for i in range(c):
            lf[k, i] = finish[i]
        for e in range(succ_ptr[k], succ_ptr[k + 1]):
            s = succ_dst[e]
            t = succ_type[e]
            lag = succ_lag[e]
            if t == 0:
                for i in range(c):
                    v = ls[s, i] - lag
                    if v < lf[k, i]:
                        lf[k, i] = v
            elif t == 1:
                for i in range(c):
                    v = ls[s, i] - lag + dur[k, i]
                    if v < lf[k, i]:
                        lf[k, i] = v
            elif t == 2:
                for i in range(c):
                    v = lf[s, i] - lag
                    if v < lf[k, i]:
                        lf[k, i] = v
            else:
                for i in range(c):
                    v = lf[s, i] - lag + dur[k, i]
                    if v < lf[k, i]:
                        lf[k, i] = v
        cnt = 0
        for i in range(c):
            ls[k, i] = lf[k, i] - dur[k, i]
            if lf[k, i] - ef[k, i] <= 1e-9 * (1.0 + abs(finish[i])):
                cnt += 1
        crit_count[k] += cnt


@njit
def add_cost_const(dur, fixed, per_day, total):  # noqa: ANN001, ANN201
    """:func:`add_cost` with constant costs: ``fixed[k]`` and ``per_day[k]`` a task."""
    n, c = dur.shape
    for i in range(c):
        total[i] = 0.0
    for k in range(n):
        f = fixed[k]
        p = per_day[k]
        for i in range(c):
            total[i] += f + p * dur[k, i]


@njit
def add_cost(dur, fixed, per_day, total):  # noqa: ANN001, ANN201
    """``total[i] += sum_k fixed[k, i] + per_day[k, i] * dur[k, i]`` in task order."""
    n, c = dur.shape
    for i in range(c):
        total[i] = 0.0
    for k in range(n):
        for i in range(c):
            total[i] += fixed[k, i] + per_day[k, i] * dur[k, i]


# ---------------------------------------------------------------------------------------------
# Fused pass-1 kernels: forward pass with its streaming accumulators, and histogram fills
# ---------------------------------------------------------------------------------------------
#
# Histogram rows have ``bins + 4`` columns over a range ``[lo, hi]`` fixed before the run (from
# the pilot iterations): values below ``lo``, values equal to ``lo``, ``bins`` equal bins strictly
# between, values equal to ``hi``, values above ``hi``. Point masses at either end of the range stay
# exact, and values outside it are still counted (their exact extremes are tracked beside).

QUANTUM_MAX = 64_000_000      # durations are summed in 1/64 working days, capped at 1e6 working days


@njit
def bin_column(v, lo, hi, scale, bins):  # noqa: ANN001, ANN201
    """The histogram column of value ``v`` (see the layout above)."""
    if v < lo:
        return 0
    if v > hi:
        return bins + 3
    if v == lo:
        return 1
    if v == hi:
        return bins + 2
    b = int((v - lo) * scale)
    if b >= bins:
        b = bins - 1
    return b + 2


@njit(inline="always")
def _count(hist, r, v, lo, hi, scale, bins, vmin, vmax):  # noqa: ANN001, ANN201
    """Count ``v`` in histogram row ``r``; return the extremes of the values outside ``[lo, hi]``."""
    if v < lo:
        vmin = min(vmin, v)
    elif v > hi:
        vmax = max(vmax, v)
    hist[r, bin_column(v, lo, hi, scale, bins)] += 1
    return vmin, vmax


def bin_columns_reference(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, scale: np.ndarray,
                          bins: int) -> np.ndarray:
    """Plain NumPy reference of :func:`bin_column` for rows ``x`` (one range per row)."""
    lo, hi, scale = lo[:, None], hi[:, None], scale[:, None]
    with np.errstate(invalid="ignore"):
        b = np.minimum(((x - lo) * scale).astype(np.int64), bins - 1) + 2
    b = np.where(x == hi, bins + 2, b)
    b = np.where(x == lo, 1, b)
    b = np.where(x > hi, bins + 3, b)
    return np.where(x < lo, 0, b)


@njit
def forward_accumulate(dur, pred_ptr, pred_src, pred_type, pred_lag, earliest, es, ef, finish,  # noqa: ANN001, ANN201
                       qsum, qsq_hi, qsq_lo, quantum, hlo, hhi, hscale, hist, vmin, vmax):
    """The forward pass (as :func:`forward_pass`) fused with the project finish, the exact duration
    sums and the finish histograms (as :func:`hist_accumulate`, when ``hist`` has rows).

    Writes ``es``/``ef`` and the project finish per iteration into ``finish``, and adds each task's
    sums of ``q = int(min(d, 1e6) * quantum + 0.5)`` and of ``q**2`` (split into its high and low
    32 bits, so that a chunk of any size cannot overflow) to ``qsum``, ``qsq_hi`` and ``qsq_lo``.
    """
    n, c = dur.shape
    for i in range(c):
        finish[i] = 0.0
    for k in range(n):
        _earliest_start(k, dur, pred_ptr, pred_src, pred_type, pred_lag, earliest, es, ef)
        a = np.int64(0)
        b_hi = np.int64(0)
        b_lo = np.int64(0)
        for i in range(c):
            d = dur[k, i]
            f = es[k, i] + d
            ef[k, i] = f
            finish[i] = max(finish[i], f)
            q = np.int64(min(d, 1e6) * quantum + 0.5)
            q2 = q * q
            a += q
            b_hi += q2 >> 32
            b_lo += q2 & 0xFFFFFFFF
        qsum[k] += a
        qsq_hi[k] += b_hi
        qsq_lo[k] += b_lo
        if hist.shape[0]:           # the row is still in cache: bin it now
            bins = hist.shape[1] - 4
            l0, h0, sc = hlo[k], hhi[k], hscale[k]
            m0, m1 = vmin[k], vmax[k]
            for i in range(c):
                m0, m1 = _count(hist, k, ef[k, i], l0, h0, sc, bins, m0, m1)
            vmin[k] = m0
            vmax[k] = m1


def forward_accumulate_reference(dur, pred_ptr, pred_src, pred_type, pred_lag, earliest, es, ef, finish,  # noqa: ANN001, ANN201
                                 qsum, qsq_hi, qsq_lo, quantum, hlo, hhi, hscale, hist, vmin, vmax):
    """Plain NumPy reference of :func:`forward_accumulate` (same arguments, same effects)."""
    e_s, e_f = forward_pass_reference(dur, pred_ptr, pred_src, pred_type, pred_lag, earliest)
    es[...] = e_s
    ef[...] = e_f
    finish[...] = np.maximum(e_f.max(axis=0), 0.0) if dur.shape[0] else 0.0
    q = (np.minimum(dur, 1e6) * quantum + 0.5).astype(np.int64)
    q2 = q * q
    qsum += q.sum(axis=1)
    qsq_hi += (q2 >> 32).sum(axis=1)
    qsq_lo += (q2 & 0xFFFFFFFF).sum(axis=1)
    if hist.shape[0]:
        hist_accumulate_reference(e_f, hlo, hhi, hscale, hist, vmin, vmax)


@njit
def row_extremes(x, lo, hi):  # noqa: ANN001, ANN201
    """``lo[k] = min(lo[k], min(x[k]))`` and ``hi[k] = max(hi[k], max(x[k]))`` for every row."""
    n, c = x.shape
    for k in range(n):
        a = lo[k]
        b = hi[k]
        for i in range(c):
            v = x[k, i]
            a = min(a, v)
            b = max(b, v)
        lo[k] = a
        hi[k] = b


def row_extremes_reference(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    """Plain NumPy reference of :func:`row_extremes`."""
    if x.shape[1]:
        np.minimum(lo, x.min(axis=1), out=lo)
        np.maximum(hi, x.max(axis=1), out=hi)


@njit
def hist_accumulate(x, lo, hi, scale, hist, vmin, vmax):  # noqa: ANN001, ANN201
    """Add each row of ``x`` to its histogram row (layout above); ``vmin``/``vmax`` keep the
    extremes of the values that fall outside ``[lo, hi]`` (the only ones whose position the
    histogram does not pin down)."""
    n, c = x.shape
    bins = hist.shape[1] - 4
    for k in range(n):
        l0, h0, sc = lo[k], hi[k], scale[k]
        m0, m1 = vmin[k], vmax[k]
        for i in range(c):
            m0, m1 = _count(hist, k, x[k, i], l0, h0, sc, bins, m0, m1)
        vmin[k] = m0
        vmax[k] = m1


def hist_accumulate_reference(x, lo, hi, scale, hist, vmin, vmax):  # noqa: ANN001, ANN201
    """Plain NumPy reference of :func:`hist_accumulate`."""
    if x.shape[1] == 0:
        return
    np.minimum(vmin, np.where(x < lo[:, None], x, np.inf).min(axis=1), out=vmin)
    np.maximum(vmax, np.where(x > hi[:, None], x, -np.inf).max(axis=1), out=vmax)
    cols = bin_columns_reference(x, lo, hi, scale, hist.shape[1] - 4)
    for k in range(x.shape[0]):
        hist[k] += np.bincount(cols[k], minlength=hist.shape[1])


@njit
def merge_accumulate(es, ef, dur, tasks, src, typ, lag, succ, lo, hi, scale, hist, vmin, vmax):  # noqa: ANN001, ANN201
    """Histograms (and exact extremes) of the merge-bias rows: the early start of each merge point
    ``tasks[r]``, then for each incoming link the earliest start it allows on its own
    (``FS: finish + lag``, ``SS: start + lag``, ``FF: finish + lag - duration``,
    ``SF: start + lag - duration``); extremes as in :func:`hist_accumulate`."""
    t = tasks.shape[0]
    c = es.shape[1]
    bins = hist.shape[1] - 4
    for r in range(t + src.shape[0]):
        l0, h0, sc = lo[r], hi[r], scale[r]
        m0, m1 = vmin[r], vmax[r]
        if r < t:
            k = tasks[r]
            for i in range(c):
                m0, m1 = _count(hist, r, es[k, i], l0, h0, sc, bins, m0, m1)
        else:
            j = r - t
            p = src[j]
            k = succ[j]
            ty = typ[j]
            lg = lag[j]
            for i in range(c):
                if ty == 0:
                    v = ef[p, i] + lg
                elif ty == 1:
                    v = es[p, i] + lg
                elif ty == 2:
                    v = ef[p, i] + lg - dur[k, i]
                else:
                    v = es[p, i] + lg - dur[k, i]
                m0, m1 = _count(hist, r, v, l0, h0, sc, bins, m0, m1)
        vmin[r] = m0
        vmax[r] = m1


def merge_rows_reference(es, ef, dur, tasks, src, typ, lag, succ):  # noqa: ANN001, ANN201
    """The merge-bias rows of :func:`merge_accumulate` as a ``[rows, C]`` array (NumPy)."""
    from_finish = ((typ == 0) | (typ == 2))[:, None]
    out = np.where(from_finish, ef[src], es[src]) + lag[:, None]
    minus = (typ == 2) | (typ == 3)
    if minus.any():
        out[minus] -= dur[succ[minus]]
    return np.vstack([es[tasks], out])


def merge_accumulate_reference(es, ef, dur, tasks, src, typ, lag, succ, lo, hi, scale, hist, vmin, vmax):  # noqa: ANN001, ANN201
    """Plain NumPy reference of :func:`merge_accumulate`."""
    hist_accumulate_reference(merge_rows_reference(es, ef, dur, tasks, src, typ, lag, succ), lo, hi, scale, hist,
                              vmin, vmax)
