"""What a simulation returns: :class:`SimulationResult` and its tidy views.

P-levels follow the field's convention: "P80" is the value not exceeded in 80% of the iterations
(the smallest simulated value ``x`` with at least 80% of iterations ``<= x``; NumPy's
``inverted_cdf`` quantile), so every P-level is an actual simulated outcome and can be checked.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pmrisk.engine.simulate import P_LEVELS, order_statistic_interval
from pmrisk.project import Project

SERIES_LEVELS = tuple(range(5, 100, 5))


def quantile(values: np.ndarray, p: float) -> float:
    """The ``p`` quantile as pmrisk defines P-levels (``inverted_cdf``: not exceeded in a share p)."""
    return float(np.quantile(values, p, method="inverted_cdf"))


def histogram_quantile(hist: np.ndarray, lo: float, hi: float, p: float) -> float:
    """The ``p`` quantile from a histogram of ``len(hist)`` equal bins on ``[lo, hi]``.

    The result lies in the bin that holds the target order statistic, interpolated as if the bin's
    values were spread evenly, so its error is at most one bin width, ``(hi - lo) / len(hist)``.
    """
    total = int(hist.sum())
    if total == 0:
        return math.nan
    if hi <= lo:
        return float(lo)
    target = max(1, math.ceil(p * total - 1e-9))
    cum = np.cumsum(hist)
    b = int(np.searchsorted(cum, target))
    prior = int(cum[b - 1]) if b > 0 else 0
    width = (hi - lo) / len(hist)
    frac = (target - prior - 0.5) / int(hist[b])
    return float(min(max(lo + width * (b + frac), lo), hi))


@dataclass(frozen=True)
class SimulationResult:
    """The outcome of :func:`pmrisk.simulate`.

    Durations are in working days from the project start; costs in the project's currency.
    """

    project: Project
    iterations: int
    seed: int
    durations: np.ndarray            # project duration of each iteration
    costs: np.ndarray                # project cost of each iteration
    task_ids: tuple[str, ...]
    criticality_counts: np.ndarray   # iterations in which each task was critical
    sensitivity_values: np.ndarray   # Spearman rank correlation of each task's duration with the project's
    finish_hist: np.ndarray          # [tasks, bins] histogram of each task's finish
    finish_lo: np.ndarray
    finish_hi: np.ndarray
    deterministic: dict[str, Any]
    elapsed: float = 0.0
    chunk_size: int = 0
    workers: int = 1
    engine: str = "numba"
    _sorted: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    # ---- basic statistics -------------------------------------------------------------------
    def _values(self, kind: str) -> np.ndarray:
        if kind == "duration":
            return self.durations
        if kind == "cost":
            return self.costs
        raise ValueError(f"kind must be 'duration' or 'cost', not {kind!r}")

    def _sorted_values(self, kind: str) -> np.ndarray:
        if kind not in self._sorted:
            self._sorted[kind] = np.sort(self._values(kind))
        return self._sorted[kind]

    def percentile(self, level: float, kind: str = "duration") -> float:
        """The P-``level`` (0-100) of the project duration or cost."""
        if not 0 < level <= 100:
            raise ValueError(f"a P-level is between 0 and 100, got {level}")
        return quantile(self._values(kind), level / 100)

    def percentiles(self, kind: str = "duration", levels: tuple[int, ...] = SERIES_LEVELS) -> pd.Series:
        """P5 ... P95 of the project duration (working days) or cost, as a Series indexed "P5" ... "P95".

        Examples
        --------
        >>> import pmrisk
        >>> p = pmrisk.Project.from_dict({"tasks": [{"id": "A", "duration": {"dist": "uniform", "min": 0, "max": 10}}]})
        >>> s = pmrisk.simulate(p, iterations=10_000, rng=3).percentiles()
        >>> list(s.index[:3]), bool(abs(s["P50"] - 5) < 0.2)
        (['P5', 'P10', 'P15'], True)
        """
        vals = np.quantile(self._values(kind), np.array(levels) / 100, method="inverted_cdf")
        return pd.Series(vals, index=[f"P{lv}" for lv in levels], name=kind)

    def standard_error(self, level: float = 80, kind: str = "duration") -> float:
        """Monte Carlo standard error of a P-level, from its distribution-free 95% interval / 3.92."""
        lo, hi = self.confidence_interval(level, kind)
        return (hi - lo) / (2 * 1.959963984540054)

    def confidence_interval(self, level: float = 80, kind: str = "duration") -> tuple[float, float]:
        """~95% confidence interval of a P-level (binomial order statistics; no distribution assumed)."""
        return order_statistic_interval(self._sorted_values(kind), level / 100)

    def probability(self, duration: float | None = None, cost: float | None = None) -> float:
        """Share of iterations finishing within ``duration`` working days and/or costing at most ``cost``."""
        ok = np.ones(self.iterations, dtype=bool)
        if duration is not None:
            ok &= self.durations <= duration + 1e-9
        if cost is not None:
            ok &= self.costs <= cost + 1e-9 * max(1.0, abs(cost))
        return float(ok.mean())

    # ---- per task ----------------------------------------------------------------------------
    def criticality(self) -> pd.Series:
        """Criticality index of each task: the share of iterations in which it is on a critical path."""
        return pd.Series(self.criticality_counts / self.iterations, index=list(self.task_ids), name="criticality")

    def sensitivity(self) -> pd.Series:
        """Spearman rank correlation of each task's duration with the project duration."""
        return pd.Series(self.sensitivity_values, index=list(self.task_ids), name="sensitivity")

    def task_finish(self, task_id: str, level: float) -> float:
        """P-``level`` of a task's finish (working days), from its finish histogram (error <= one bin)."""
        k = self.task_ids.index(task_id)
        return histogram_quantile(self.finish_hist[k], self.finish_lo[k], self.finish_hi[k], level / 100)

    def tornado(self, top: int | None = 10) -> pd.DataFrame:
        """Tasks ranked by the strength of their sensitivity (Spearman) on the project duration.

        Columns: ``name``, ``sensitivity``, ``criticality``, ``cruciality`` (sensitivity x
        criticality); the index is the task id.
        """
        df = self.to_frame()[["name", "sensitivity", "criticality"]].copy()
        df["cruciality"] = df["sensitivity"] * df["criticality"]
        df = df.reindex(df["sensitivity"].abs().sort_values(ascending=False, kind="stable").index)
        return df.head(top) if top else df

    def to_frame(self) -> pd.DataFrame:
        """One row per task (file order): plan and simulated figures, indexed by task id.

        Columns: ``name``, ``milestone``, ``duration_likely``, ``duration_mean``, ``planned_start``,
        ``planned_finish`` (deterministic plan), ``finish_P10`` ... ``finish_P90``,
        ``criticality``, ``sensitivity``, ``on_planned_critical_path``.
        """
        rows = []
        det = self.deterministic
        crit_path = set(det["critical_path"])
        crit = self.criticality()
        sens = self.sensitivity()
        for k, tid in enumerate(self.task_ids):
            t = self.project.task(tid)
            row = {"id": tid, "name": t.name, "milestone": t.milestone,
                   "duration_likely": t.duration.mode(), "duration_mean": t.duration.mean(),
                   "planned_start": det["start"][tid], "planned_finish": det["finish"][tid]}
            for lv in (10, 50, 80, 90):
                row[f"finish_P{lv}"] = histogram_quantile(self.finish_hist[k], self.finish_lo[k],
                                                          self.finish_hi[k], lv / 100)
            row["criticality"] = float(crit[tid])
            row["sensitivity"] = float(sens[tid])
            row["on_planned_critical_path"] = tid in crit_path
            rows.append(row)
        return pd.DataFrame(rows).set_index("id")

    def iterations_frame(self) -> pd.DataFrame:
        """One row per iteration: ``duration`` (working days) and ``cost``."""
        return pd.DataFrame({"duration": self.durations, "cost": self.costs},
                            index=pd.RangeIndex(self.iterations, name="iteration"))

    # ---- dates --------------------------------------------------------------------------------
    def finish_date(self, level: float) -> dt.date | None:
        """Calendar date of the P-``level`` finish (None without a project start)."""
        return self.project.finish_date(self.percentile(level))

    # ---- the JSON summary ---------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """The plain, JSON-able summary written by ``pmrisk simulate --json`` (project-format.md, section 4)."""
        from pmrisk import __version__

        p = self.project
        out: dict[str, Any] = {"pmrisk_version": __version__, "iterations": self.iterations, "seed": self.seed,
                               "project": p.name, "units": {"duration": "working days", "cost": p.currency}}
        out["duration"] = _stats(self.durations)
        if p.start is not None:
            out["start_date"] = p.start.isoformat()
            out["finish_date"] = {f"P{lv}": p.calendar.finish_date(p.start, out["duration"][f"P{lv}"]).isoformat()
                                  for lv in P_LEVELS}
        out["cost"] = _stats(self.costs)
        det = self.deterministic
        out["deterministic"] = {
            "duration": det["duration"], "cost": det["cost"],
            "duration_confidence": self.probability(duration=det["duration"]),
            "cost_confidence": self.probability(cost=det["cost"]),
            "critical_path": list(det["critical_path"]),
        }
        if p.start is not None:
            out["deterministic"]["finish_date"] = p.calendar.finish_date(p.start, det["duration"]).isoformat()
        out["contingency"] = {
            "duration": {f"P{lv}": out["duration"][f"P{lv}"] - det["duration"] for lv in (50, 80, 90)},
            "cost": {f"P{lv}": out["cost"][f"P{lv}"] - det["cost"] for lv in (50, 80, 90)},
        }
        out["standard_error"] = {"duration": {f"P{lv}": self.standard_error(lv) for lv in (50, 80)},
                                 "cost": {f"P{lv}": self.standard_error(lv, "cost") for lv in (50, 80)}}
        if p.deadline is not None:
            out["deadline"] = {"target": p.deadline, "probability": self.probability(duration=p.deadline)}
            if p.deadline_date is not None:
                out["deadline"]["date"] = p.deadline_date.isoformat()
        if p.budget is not None:
            out["budget"] = {"target": p.budget, "probability": self.probability(cost=p.budget)}
        if p.deadline is not None and p.budget is not None:
            out["joint_probability"] = self.probability(duration=p.deadline, cost=p.budget)
        crit = self.criticality_counts / self.iterations
        tasks = {}
        for k, tid in enumerate(self.task_ids):
            tasks[tid] = {
                "criticality": float(crit[k]), "sensitivity": float(self.sensitivity_values[k]),
                "finish": {f"P{lv}": histogram_quantile(self.finish_hist[k], self.finish_lo[k],
                                                        self.finish_hi[k], lv / 100) for lv in (50, 80)},
            }
        out["tasks"] = tasks
        out["risks"] = {}
        return out


def _stats(values: np.ndarray) -> dict[str, float]:
    out = {"mean": float(np.mean(values)), "sd": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}
    qs = np.quantile(values, np.array(P_LEVELS) / 100, method="inverted_cdf")
    out.update({f"P{lv}": float(q) for lv, q in zip(P_LEVELS, qs, strict=True)})
    return out
