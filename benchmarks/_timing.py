"""Timing rule shared by the benchmark and its peer worker (standard library only, so that it runs
in pmrisk's venv and in the peers' venv alike)."""

from __future__ import annotations

import resource
import time


def timed(fn, min_total: float = 0.5):
    """Wall seconds per call, the peer harness's rule: calls shorter than min_total/3 are repeated
    until min_total seconds have passed and averaged. Returns (seconds, calls, last result, cpu)
    where cpu = (user s, system s) per call of this process, all threads."""
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    r = fn()
    w = time.perf_counter() - t0
    k = 1
    if w < min_total / 3:
        while time.perf_counter() - t0 < min_total:
            r = fn()
            k += 1
        w = (time.perf_counter() - t0) / k
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    return w, k, r, ((ru1.ru_utime - ru0.ru_utime) / k, (ru1.ru_stime - ru0.ru_stime) / k)
