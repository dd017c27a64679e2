"""What a simulation returns: :class:`SimulationResult` and its tidy views.

P-levels follow the field's convention: "P80" is the value not exceeded in 80% of the iterations
(the smallest simulated value ``x`` with at least 80% of iterations ``<= x``; NumPy's
``inverted_cdf`` quantile), so every P-level is an actual simulated outcome and can be checked.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from pmrisk.engine.simulate import P_LEVELS, order_statistic_interval
from pmrisk.project import Project

if TYPE_CHECKING:
    import pandas as pd
else:                                  # pandas costs ~0.15 s to import: only the frame views need it
    from pmrisk._lazy import LazyModule

    pd = LazyModule("pandas")

SERIES_LEVELS = tuple(range(5, 100, 5))


def quantile(values: np.ndarray, p: float) -> float:
    """The ``p`` quantile as pmrisk defines P-levels (``inverted_cdf``: not exceeded in a share p)."""
    return float(np.quantile(values, p, method="inverted_cdf"))


def histogram_quantile(hist: np.ndarray, lo: float, hi: float, p: float, vmin: float | None = None,
                       vmax: float | None = None) -> float:
    """The ``p`` quantile (inverted CDF) from a histogram of simulated values.

    ``hist`` has ``K + 4`` columns over the range ``[lo, hi]`` (set by the pilot iterations): the
    count of values below ``lo``, equal to ``lo``, ``K`` equal bins strictly between, equal to
    ``hi``, and above ``hi``; ``vmin``/``vmax`` are the exact lowest and highest values (default
    ``lo``/``hi``). Point masses at ``lo`` and ``hi`` are returned exactly; elsewhere the result
    lies in the bin holding the target order statistic, interpolated as if the bin's values were
    spread evenly, so its error is at most one bin width, ``(hi - lo) / K`` (or the width of the
    region outside ``[lo, hi]``, which holds about 1 / 1,025 of the values).

    Examples
    --------
    >>> h = np.array([0, 2, 1, 1, 0, 0, 0, 0])      # two values at lo = 0, then one in each of the first two bins
    >>> histogram_quantile(h, 0.0, 4.0, 0.5), histogram_quantile(h, 0.0, 4.0, 1.0)
    (0.0, 1.5)
    """
    total = int(hist.sum())
    if total == 0:
        return math.nan
    vmin = lo if vmin is None or not math.isfinite(vmin) else min(vmin, lo)
    vmax = hi if vmax is None or not math.isfinite(vmax) else max(vmax, hi)
    target = max(1, math.ceil(p * total - 1e-9))
    under, at_lo, inner, at_hi = int(hist[0]), int(hist[1]), hist[2:-2], int(hist[-2])
    if target <= under:
        return float(min(max(vmin + (lo - vmin) * (target - 0.5) / under, vmin), lo))
    if target <= under + at_lo:
        return float(lo)
    cum = np.cumsum(inner) + under + at_lo
    if target <= int(cum[-1]):
        b = int(np.searchsorted(cum, target))
        prior = int(cum[b - 1]) if b > 0 else under + at_lo
        width = (hi - lo) / len(inner)
        frac = (target - prior - 0.5) / int(inner[b])
        return float(min(max(lo + width * (b + frac), lo), hi))
    if target <= int(cum[-1]) + at_hi:
        return float(hi)
    over = int(hist[-1])
    prior = int(cum[-1]) + at_hi
    return float(min(max(hi + (vmax - hi) * (target - prior - 0.5) / over, hi), vmax))


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
    finish_lo: np.ndarray            # the histograms' ranges (from the pilot iterations)
    finish_hi: np.ndarray
    finish_min: np.ndarray           # lowest finish simulated below finish_lo (inf: none)
    finish_max: np.ndarray           # highest finish simulated above finish_hi (-inf: none)
    deterministic: dict[str, Any]
    elapsed: float = 0.0
    chunk_size: int = 0
    workers: int = 1
    engine: str = "numba"
    mitigated: bool = False
    task_duration_mean: np.ndarray | None = None     # simulated, after risks and drivers
    task_duration_sd: np.ndarray | None = None
    risk_ids: tuple[str, ...] = ()
    risk_occurrence: np.ndarray | None = None        # share of iterations in which each risk occurred
    risk_ranking: dict[str, dict[str, Any]] | None = None
    merge_bias: dict[str, dict[str, Any]] = field(default_factory=dict)
    correlation: Any = None
    calibration: dict[str, Any] | None = None        # history calibration facts + uncalibrated outcomes
    start_hist: np.ndarray | None = None             # [tasks, bins] histogram of each task's start (task_starts=True)
    start_range: tuple[np.ndarray, ...] | None = None  # its (lo, hi, below-range min, above-range max)
    top_down: dict[str, Any] | None = None           # the top-down model's forecast (pmrisk.topdown)
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
        return histogram_quantile(self.finish_hist[k], self.finish_lo[k], self.finish_hi[k], level / 100,
                                  self.finish_min[k], self.finish_max[k])

    def tornado(self, top: int | None = 10) -> pd.DataFrame:
        """Tasks ranked by the strength of their sensitivity (Spearman) on the project duration.

        Columns: ``name``, ``sensitivity``, ``criticality``, ``cruciality`` (sensitivity x
        criticality); the index is the task id.
        """
        df = self.to_frame()[["name", "sensitivity", "criticality"]].copy()
        df["cruciality"] = df["sensitivity"] * df["criticality"]
        df = df.reindex(df["sensitivity"].abs().sort_values(ascending=False, kind="stable").index)
        return df.head(top) if top else df

    def task_start(self, task_id: str, level: float) -> float:
        """P-``level`` of a task's start (working days); needs ``simulate(..., task_starts=True)``."""
        if self.start_hist is None or self.start_range is None:
            raise ValueError("task starts were not kept: simulate with task_starts=True")
        k = self.task_ids.index(task_id)
        lo, hi, vmin, vmax = (a[k] for a in self.start_range)
        return histogram_quantile(self.start_hist[k], lo, hi, level / 100, vmin, vmax)

    def task_dates(self, levels: tuple[int, ...] = (10, 50, 80, 90)) -> pd.DataFrame:
        """P-level start and finish of every task (file order), in working days and, when the project
        has a start date, as calendar dates: columns ``start_P50``, ``finish_P50``,
        ``start_date_P50``, ``finish_date_P50``, ... plus the plan's own start and finish. Starts
        need ``simulate(..., task_starts=True)`` (NaN otherwise)."""
        p = self.project
        det = self.deterministic
        rows = []
        for tid in self.task_ids:
            row: dict[str, Any] = {"id": tid, "name": p.task(tid).name, "planned_start": det["start"][tid],
                                   "planned_finish": det["finish"][tid]}
            for lv in levels:
                row[f"start_P{lv}"] = self.task_start(tid, lv) if self.start_hist is not None else math.nan
                row[f"finish_P{lv}"] = self.task_finish(tid, lv)
            if p.start is not None:
                for key in ("planned_start", "planned_finish", *[f"{w}_P{lv}" for lv in levels
                                                                 for w in ("start", "finish")]):
                    v = row[key]
                    when = key.replace("_P", "_date_P") if "_P" in key else key + "_date"
                    # a start at offset s falls on working day floor(s); a finish f on ceil(f) - 1
                    row[when] = (None if v != v else (p.calendar.start_date(p.start, v) if "start" in key
                                                      else p.finish_date(v)))
            rows.append(row)
        return pd.DataFrame(rows).set_index("id")

    def tornado_rows(self, top: int | None = 10) -> list[dict[str, Any]]:
        """:meth:`tornado` as a list of dicts (``id``, ``name``, ``sensitivity``, ``criticality``), without pandas."""
        crit = self.criticality_counts / self.iterations
        order = sorted(range(len(self.task_ids)), key=lambda k: -abs(float(self.sensitivity_values[k])))
        rows = [{"id": self.task_ids[k], "name": self.project.task(self.task_ids[k]).name,
                 "sensitivity": float(self.sensitivity_values[k]), "criticality": float(crit[k])} for k in order]
        return rows[:top] if top else rows

    def to_frame(self) -> pd.DataFrame:
        """One row per task (file order): plan and simulated figures, indexed by task id.

        Columns: ``name``, ``milestone``, ``duration_likely``, ``duration_mean`` (simulated, with
        risks and drivers), ``duration_sd``, ``planned_start``, ``planned_finish`` (deterministic plan),
        ``finish_P10`` ... ``finish_P90``, ``criticality``, ``sensitivity``, ``cruciality``
        (sensitivity x criticality), ``ssi`` (schedule sensitivity index: criticality x task sd /
        project sd), ``merge_bias`` (working days, merge points only), ``on_planned_critical_path``.
        """
        rows = []
        det = self.deterministic
        crit_path = set(det["critical_path"])
        crit = self.criticality()
        sens = self.sensitivity()
        ssi = self.ssi()
        for k, tid in enumerate(self.task_ids):
            t = self.project.task(tid)
            row = {"id": tid, "name": t.name, "milestone": t.milestone,
                   "duration_likely": t.duration.mode(),
                   "duration_mean": float(self.task_duration_mean[k]) if self.task_duration_mean is not None
                   else t.duration.mean(),
                   "duration_sd": float(self.task_duration_sd[k]) if self.task_duration_sd is not None
                   else t.duration.sd(),
                   "planned_start": det["start"][tid], "planned_finish": det["finish"][tid]}
            for lv in (10, 50, 80, 90):
                row[f"finish_P{lv}"] = histogram_quantile(self.finish_hist[k], self.finish_lo[k],
                                                          self.finish_hi[k], lv / 100, self.finish_min[k],
                                                          self.finish_max[k])
            row["criticality"] = float(crit[tid])
            row["sensitivity"] = float(sens[tid])
            row["cruciality"] = float(crit[tid] * sens[tid])
            row["ssi"] = float(ssi[tid])
            row["merge_bias"] = self.merge_bias[tid]["merge_bias"] if tid in self.merge_bias else np.nan
            row["on_planned_critical_path"] = tid in crit_path
            rows.append(row)
        return pd.DataFrame(rows).set_index("id")

    def ssi(self) -> pd.Series:
        """Schedule sensitivity index of each task: criticality x (task duration sd / project duration sd)."""
        return pd.Series(self._ssi_values(), index=list(self.task_ids), name="ssi")

    def _ssi_values(self) -> np.ndarray:
        sd_p = float(np.std(self.durations, ddof=1)) if self.iterations > 1 else 0.0
        sd_t = (self.task_duration_sd if self.task_duration_sd is not None
                else np.array([self.project.task(t).duration.sd() for t in self.task_ids]))
        return self.criticality_counts / self.iterations * (sd_t / sd_p if sd_p > 0 else 0.0)

    def risks(self) -> pd.DataFrame:
        """The risks ranked by what each does to P80 duration (then P80 cost), one row per risk.

        Columns: ``title``, ``probability``, ``occurrence`` (simulated share of iterations),
        ``P50/P80/P90_delay_contribution`` (working days the project's P-level drops when the risk
        alone is removed, same random numbers), ``P50/P80/P90_cost_contribution``,
        ``expected_delay`` and ``expected_cost`` (probability x mean impact; EMV),
        ``mitigation_net_benefit``, ``rank``.
        """
        cols = ["id", "title", "probability", "occurrence", "P50_delay_contribution", "P50_cost_contribution",
                "P80_delay_contribution", "P80_cost_contribution", "P90_delay_contribution", "P90_cost_contribution",
                "expected_delay", "expected_cost", "mitigation_net_benefit", "rank"]
        return pd.DataFrame(self.risk_rows(), columns=cols).set_index("id")

    def risk_rows(self) -> list[dict[str, Any]]:
        """:meth:`risks` as a list of dicts (ranked; each with its ``id``), without pandas."""
        rows = []
        for i, rid in enumerate(self.risk_ids):
            r = next(x for x in self.project.risks if x.id == rid)
            state = r.mitigated_state() if self.mitigated else r.state
            row: dict[str, Any] = {"id": rid, "title": r.title, "probability": state.probability,
                                   "occurrence": float(self.risk_occurrence[i]) if self.risk_occurrence is not None
                                   else math.nan}
            rk = (self.risk_ranking or {}).get(rid, {})
            for lv in (50, 80, 90):
                row[f"P{lv}_delay_contribution"] = rk.get(f"P{lv}_delay_contribution", math.nan)
                row[f"P{lv}_cost_contribution"] = rk.get(f"P{lv}_cost_contribution", math.nan)
            row["expected_delay"] = r.expected_delay(self.mitigated)
            row["expected_cost"] = r.expected_cost(self.mitigated)
            mit = rk.get("mitigation")
            row["mitigation_net_benefit"] = mit["net_benefit"] if mit else math.nan
            rows.append(row)

        def key(row: dict[str, Any]) -> tuple[float, ...]:     # descending, missing values last, stable
            out: list[float] = []
            for c in ("P80_delay_contribution", "P80_cost_contribution", "expected_cost"):
                v = float(row[c])
                out += [1.0, 0.0] if v != v else [0.0, -v]
            return tuple(out)

        rows.sort(key=key)
        for i, row in enumerate(rows):
            row["rank"] = i + 1
        return rows

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
        ssi = self._ssi_values()
        tasks = {}
        for k, tid in enumerate(self.task_ids):
            tasks[tid] = {
                "criticality": float(crit[k]), "sensitivity": float(self.sensitivity_values[k]),
                "cruciality": float(crit[k] * self.sensitivity_values[k]), "ssi": float(ssi[k]),
                "finish": {f"P{lv}": histogram_quantile(self.finish_hist[k], self.finish_lo[k],
                                                        self.finish_hi[k], lv / 100, self.finish_min[k],
                                                        self.finish_max[k]) for lv in (50, 80)},
            }
            if self.task_duration_mean is not None and self.task_duration_sd is not None:
                tasks[tid]["duration"] = {"mean": float(self.task_duration_mean[k]),
                                          "sd": float(self.task_duration_sd[k])}
            if tid in self.merge_bias:
                tasks[tid]["merge_bias"] = self.merge_bias[tid]["merge_bias"]
        out["tasks"] = tasks
        out["mitigated"] = self.mitigated
        risks: dict[str, Any] = {}
        for row in self.risk_rows():
            rid = row["id"]
            entry = {"occurrence": row["occurrence"], "rank": int(row["rank"])}
            for lv in (50, 80, 90):
                for kind in ("delay", "cost"):
                    v = row[f"P{lv}_{kind}_contribution"]
                    if v == v:
                        entry[f"P{lv}_{kind}_contribution"] = float(v)
            entry["expected_delay"] = float(row["expected_delay"])
            entry["expected_cost"] = float(row["expected_cost"])
            mit = (self.risk_ranking or {}).get(str(rid), {}).get("mitigation")
            if mit:
                entry["mitigation"] = mit
            risks[str(rid)] = entry
        out["risks"] = risks
        if self.calibration is not None:
            cal = {k: v for k, v in self.calibration.items() if not k.startswith("uncalibrated_")}
            cal["uncalibrated"] = {}
            for kind in ("duration", "cost"):
                vals = self.calibration[f"uncalibrated_{kind}s"]
                cal["uncalibrated"][kind] = {"mean": float(np.mean(vals)),
                                             **{f"P{lv}": quantile(vals, lv / 100) for lv in P_LEVELS}}
            out["calibration"] = cal
        if self.top_down is not None:
            from pmrisk.topdown import compare as compare_top_down

            out["top_down"] = compare_top_down(self.top_down, self.durations, self.costs, p.has_costs, p.currency)
        if self.correlation is not None and getattr(self.correlation, "repaired", False):
            out["correlation_repair"] = [
                {"between": [a, b], "asked": asked, "used": used}
                for a, b, asked, used in self.correlation.adjustments]
        return out


def _stats(values: np.ndarray) -> dict[str, float]:
    out = {"mean": float(np.mean(values)), "sd": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}
    qs = np.quantile(values, np.array(P_LEVELS) / 100, method="inverted_cdf")
    out.update({f"P{lv}": float(q) for lv, q in zip(P_LEVELS, qs, strict=True)})
    return out


def compare(results: dict[str, SimulationResult]) -> pd.DataFrame:
    """Side-by-side key figures of several runs (e.g. pre- and post-mitigation), one column per run.

    Runs made with the same seed share their random numbers, so differences reflect the change,
    not sampling noise.

    Examples
    --------
    >>> import pmrisk
    >>> p = pmrisk.Project.from_dict({"tasks": [{"id": "A", "duration": 20}], "risks": [
    ...     {"id": "R1", "probability": 0.5, "affects": ["A"], "delay": 10,
    ...      "mitigation": {"cost": 100, "probability": 0.1}}]})
    >>> pre = pmrisk.simulate(p, iterations=4000, rng=1)
    >>> post = pmrisk.simulate(p, iterations=4000, rng=1, mitigated=True)
    >>> table = compare({"pre": pre, "post": post})
    >>> float(table.loc["duration P80", "pre"]), float(table.loc["duration P80", "post"])
    (30.0, 20.0)
    """
    rows: dict[str, dict[str, float]] = {}
    for name, r in results.items():
        s = r.summary()
        col: dict[str, float] = {}
        for lv in (10, 50, 80, 90):
            col[f"duration P{lv}"] = s["duration"][f"P{lv}"] if f"P{lv}" in s["duration"] else r.percentile(lv)
        col["duration mean"] = s["duration"]["mean"]
        for lv in (10, 50, 80, 90):
            col[f"cost P{lv}"] = r.percentile(lv, "cost")
        col["cost mean"] = s["cost"]["mean"]
        if "deadline" in s:
            col["deadline probability"] = s["deadline"]["probability"]
        if "budget" in s:
            col["budget probability"] = s["budget"]["probability"]
        if "joint_probability" in s:
            col["joint probability"] = s["joint_probability"]
        rows[name] = col
    return pd.DataFrame(rows)
