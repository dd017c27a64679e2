"""A plain, unchunked NumPy simulation: the oracle the engine is tested against.

Full [tasks, iterations] matrices, each distribution's own exact ``ppf``, the reference kernels,
exact Spearman via scipy and exact per-task quantiles. Slow and memory-hungry by design.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from pmrisk.engine import kernels
from pmrisk.engine.network import compile_network
from pmrisk.engine.sampling import STREAM_COST, STREAM_DURATION, seed_key, uniforms_reference


def oracle_simulate(project, iterations, seed):
    net = compile_network(project)
    key = seed_key(seed)
    u_dur, u_fix = uniforms_reference(key, 0, iterations, net.keys_lo, net.keys_hi, STREAM_DURATION)
    u_pd, _ = uniforms_reference(key, 0, iterations, net.keys_lo, net.keys_hi, STREAM_COST)
    dur = np.vstack([np.maximum(d.ppf(u_dur[k]), 0.0) for k, d in enumerate(net.durations)])
    fixed = np.vstack([d.ppf(u_fix[k]) if not d.is_fixed else np.full(iterations, d.mean())
                       for k, d in enumerate(net.fixed_costs)])
    per_day = np.vstack([d.ppf(u_pd[k]) if not d.is_fixed else np.full(iterations, d.mean())
                         for k, d in enumerate(net.per_day_costs)])
    es, ef, finish, crit = kernels.schedule_reference(
        dur, net.pred_ptr, net.pred_src, net.pred_type, net.pred_lag, net.earliest,
        net.succ_ptr, net.succ_dst, net.succ_type, net.succ_lag)
    cost = kernels.cost_reference(dur, fixed, per_day)
    order = list(net.ids)
    by_id = {}
    for tid in project.task_ids:
        k = order.index(tid)
        sens = 0.0 if net.durations[k].is_fixed else float(spearmanr(dur[k], finish)[0])
        by_id[tid] = {"dur": dur[k], "finish": ef[k], "crit": crit[k].mean(), "sens": sens}
    return {"finish": finish, "cost": cost, "tasks": by_id}
