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

@njit
def forward_pass(dur, pred_ptr, pred_src, pred_type, pred_lag, earliest, es, ef):  # noqa: ANN001, ANN201
    """In-place forward pass into ``es``/``ef`` (see :func:`forward_pass_reference`)."""
    n, c = dur.shape
    for k in range(n):
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
def add_cost(dur, fixed, per_day, total):  # noqa: ANN001, ANN201
    """``total[i] += sum_k fixed[k, i] + per_day[k, i] * dur[k, i]`` in task order."""
    n, c = dur.shape
    for i in range(c):
        total[i] = 0.0
    for k in range(n):
        for i in range(c):
            total[i] += fixed[k, i] + per_day[k, i] * dur[k, i]
