"""Reference-class forecasting: how far past plans were off, and the uplift a new plan needs.

From planned-vs-actual history (a shared dataset with an estimate column, or a user's own file)
this module computes the distribution of ``actual / planned`` ratios, by class where the data
allow (sector, task type, size band, ...), and the *uplift* a plan needs to be met with a given
confidence: ``uplift(P80) = P80 of the ratio - 1``, as a percentage of the plan.

Fat tails are shown, not smoothed away: every P-level is an empirical quantile (NumPy's
``inverted_cdf``, as everywhere in pmrisk, so each one is an observed ratio) with a bootstrap
confidence interval, next to the share of overruns, the mean against the median, P95, P99, the
largest ratio, the shares above 2x and 3x and a Hill estimate of the tail index.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rows = pd.DataFrame({"planned": np.full(40, 10.0),
...                      "actual": np.r_[np.full(20, 10.0), np.full(12, 12.0), np.full(7, 15.0), 40.0]})
>>> result = reference_class_uplift(rows, rng=1)
>>> result.to_frame().loc[0, ["n", "uplift_P50", "uplift_P80", "uplift_P90", "max"]].astype(float).round(1).tolist()
[40.0, 0.0, 20.0, 50.0, 4.0]
>>> factor = result.empirical()
>>> factor.ppf([0.5, 0.8, 0.99]).tolist()
[1.0, 1.2, 4.0]
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import warnings
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from pmrisk.errors import PmriskWarning
from pmrisk.history.datasets import (
    MIN_ROWS,
    HistoryData,
    HistoryDataError,
    list_datasets,
    load_dataset,
    load_history,
    ratios,
)

__all__ = [
    "ALL",
    "OTHER",
    "QUANTILE_LEVELS",
    "UPLIFT_LEVELS",
    "ClassUplift",
    "EmpiricalRatio",
    "ReferenceClassUplift",
    "empirical_ratio",
    "load_ratios",
    "reference_class_uplift",
    "resolve_source",
]

#: P-levels whose uplift is reported (with a bootstrap interval).
UPLIFT_LEVELS = (50, 80, 90)
#: P-levels of the ratio reported (the tail: P95, P99; the low side: P10).
QUANTILE_LEVELS = (10, 50, 80, 90, 95, 99)
#: Label of the whole history, and of the classes folded together because they are small.
ALL, OTHER, MISSING = "all", "(other)", "(missing)"
_DIMENSIONLESS = "actual/planned"
_SIZE_ORDER = {"small": 0, "medium": 1, "large": 2, MISSING: 3}


def _p(level: float) -> float:
    return level / 100


def _inverted_cdf(sorted_values: np.ndarray, p: Any) -> np.ndarray:
    """The ``p`` quantiles of sorted values as pmrisk defines P-levels (smallest x with F(x) >= p)."""
    n = len(sorted_values)
    k = np.clip(np.ceil(np.asarray(p, dtype=float) * n - 1e-9).astype(np.int64), 1, n)
    return np.asarray(sorted_values[k - 1], dtype=float)


# --------------------------------------------------------------------------------------------
# The empirical distribution of a reference class (a driver for the simulation)
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class EmpiricalRatio:
    """The empirical distribution of ``actual / planned`` in one reference class.

    Multiplying a planned duration or cost by a draw from it gives what plans like it turned
    into. ``ppf(p)`` is the inverted CDF of the history: ``values[ceil(p * n) - 1]``.

    Attributes
    ----------
    values : numpy.ndarray
        The ratios, sorted ascending.
    probabilities : numpy.ndarray
        The quantile grid: ``probabilities[i] = (i + 1) / n`` is the share of ratios ``<= values[i]``.
    source : str
        Dataset or file the ratios come from.
    label : str
        The class (``"all"`` for the whole history).
    ratio_unit : str
        ``"actual/planned"``, or e.g. ``"hours per story point"`` where the plan is not in the
        actual's unit.

    Examples
    --------
    >>> f = EmpiricalRatio.from_ratios([1.5, 1.0, 0.9, 1.2])
    >>> f.values.tolist(), f.probabilities.tolist()
    ([0.9, 1.0, 1.2, 1.5], [0.25, 0.5, 0.75, 1.0])
    >>> f.ppf([0.25, 0.3, 0.8]).tolist(), f.mean()
    ([0.9, 1.0, 1.5], 1.15)
    >>> f.sample(3, rng=7).shape
    (3,)
    """

    values: np.ndarray
    probabilities: np.ndarray
    source: str = ""
    label: str = ALL
    ratio_unit: str = _DIMENSIONLESS

    @classmethod
    def from_ratios(cls, ratios: Any, source: str = "", label: str = ALL,
                    ratio_unit: str = _DIMENSIONLESS) -> EmpiricalRatio:
        """Build one from unsorted positive ratios."""
        values = np.sort(np.asarray(ratios, dtype=float).ravel())
        if len(values) == 0 or not np.all(np.isfinite(values)) or values[0] <= 0:
            raise HistoryDataError(f"{source or 'ratios'}: an empirical ratio needs at least one ratio, all finite "
                                   "and positive.")
        values.setflags(write=False)
        grid = np.arange(1, len(values) + 1) / len(values)
        grid.setflags(write=False)
        return cls(values=values, probabilities=grid, source=source, label=label, ratio_unit=ratio_unit)

    @property
    def n(self) -> int:
        """Number of past ratios."""
        return len(self.values)

    def ppf(self, p: Any) -> np.ndarray:
        """The inverted CDF: the smallest past ratio not exceeded in a share ``p`` (0 < p <= 1)."""
        p = np.asarray(p, dtype=float)
        if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
            raise ValueError("probabilities must lie in [0, 1]")
        return _inverted_cdf(self.values, p)

    def cdf(self, x: Any) -> np.ndarray:
        """Share of past ratios ``<= x``."""
        return np.searchsorted(self.values, np.asarray(x, dtype=float), side="right") / self.n

    def mean(self) -> float:
        """Mean ratio (pulled up by the tail; compare with ``ppf(0.5)``)."""
        return float(self.values.mean())

    def sample(self, size: int | tuple[int, ...], rng: Any = None) -> np.ndarray:
        """Draw ratios by inverse-CDF sampling (each draw is a past ratio)."""
        return self.ppf(1.0 - np.random.default_rng(rng).random(size))   # in (0, 1]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (the sorted ratios and the quantile grid)."""
        return {"source": self.source, "label": self.label, "ratio_unit": self.ratio_unit, "n": self.n,
                "values": self.values.tolist(), "probabilities": self.probabilities.tolist()}


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ClassUplift:
    """The ratio distribution of one reference class and the uplift it implies.

    Attributes
    ----------
    by : str or None
        The class column (None for the whole history).
    label : str
        The class (``"all"``; ``"(other)"`` for small classes folded together; ``"(missing)"``).
    n : int
        Past projects or tasks in the class.
    small : bool
        Fewer than the minimum class size: read its figures as rough.
    quantiles : dict
        ``"P10"`` ... ``"P99"`` -> ratio (empirical, inverted CDF).
    intervals : dict
        ``"P50"``, ``"P80"``, ``"P90"`` -> (low, high) bootstrap interval of that ratio quantile.
    mean, median, max, min : float
        Of the ratio.
    share_overrun, share_on_plan, share_above_2x, share_above_3x : float
        Shares of ratios > 1, == 1, > 2 and > 3.
    tail_index : float
        Hill estimate of the upper tail's index alpha from the ``tail_k`` largest ratios (smaller is
        fatter: below 2 the variance, below 1 the mean is dominated by rare huge overruns); NaN
        when the class has fewer than 100 ratios or the tail is flat.
    tail_k : int
        Order statistics used by the Hill estimate (``floor(sqrt(n))``).
    folded : int
        Classes merged into this one (for ``"(other)"``).
    """

    by: str | None
    label: str
    n: int
    small: bool
    quantiles: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    mean: float
    median: float
    min: float
    max: float
    share_overrun: float
    share_on_plan: float
    share_above_2x: float
    share_above_3x: float
    tail_index: float
    tail_k: int
    folded: int = 0

    def uplift(self, level: int) -> float:
        """Uplift (percent of the plan) to reach P``level``: ``100 * (ratio quantile - 1)``."""
        return 100.0 * (self.quantiles[f"P{level}"] - 1.0)


@dataclasses.dataclass(frozen=True)
class ReferenceClassUplift:
    """Reference-class figures of a planned-vs-actual history, for the whole and per class.

    Attributes
    ----------
    source : str
        Dataset name or file.
    planned, actual : str
        Source columns of the plan and the actual.
    unit : str
        Unit of the actual.
    ratio_unit : str
        ``"actual/planned"`` (dimensionless: uplifts are meaningful) or another unit, e.g.
        ``"hours per story point"`` (then uplifts are NaN: the ratio is a conversion, not an overrun).
    classes : list of ClassUplift
        The whole history first (``label == "all"``), then each class of each ``by`` column,
        largest first, folded small classes last.
    n : int
        Ratios used.
    dropped : dict
        Rows left out: reason -> count.
    by : list of str
        The class columns.
    min_class_size : int
        Classes below it are folded into ``"(other)"`` or flagged ``small``.
    confidence_level : float
        Of the bootstrap intervals.
    resamples : int
        Bootstrap resamples per class.
    warnings : list of str
        What to keep in mind reading the figures.
    """

    source: str
    planned: str
    actual: str
    unit: str
    ratio_unit: str
    classes: list[ClassUplift]
    n: int
    dropped: dict[str, int]
    by: list[str]
    min_class_size: int
    confidence_level: float
    resamples: int
    warnings: list[str]
    _values: dict[tuple[str | None, str], np.ndarray] = dataclasses.field(repr=False, compare=False,
                                                                          default_factory=dict)

    @property
    def dimensionless(self) -> bool:
        """True when plan and actual share a unit, so ``ratio - 1`` is an overrun."""
        return self.ratio_unit == _DIMENSIONLESS

    def get(self, label: str = ALL, by: str | None = None) -> ClassUplift:
        """The figures of one class (``by`` may be left out when the label is unambiguous)."""
        found = [c for c in self.classes if c.label == label and (by is None or c.by == by)]
        if label == ALL and by is None:
            found = [c for c in found if c.by is None]
        if len(found) != 1:
            known = ", ".join(f"{c.by}={c.label!r}" if c.by else repr(c.label) for c in self.classes)
            what = "is ambiguous; give by" if found else "does not exist"
            raise HistoryDataError(f"{self.source}: class {label!r} {what}. Classes: {known}.")
        return found[0]

    def empirical(self, label: str = ALL, by: str | None = None) -> EmpiricalRatio:
        """The class's ratios as an :class:`EmpiricalRatio` (a factor on planned duration or cost)."""
        c = self.get(label, by)
        return EmpiricalRatio.from_ratios(self._values[(c.by, c.label)], source=self.source, label=c.label,
                                          ratio_unit=self.ratio_unit)

    def to_frame(self) -> pd.DataFrame:
        """One row per class.

        Columns: ``by``, ``class``, ``n``, ``small``, ``share_overrun``, ``share_on_plan``, ``mean``,
        ``median``, ``P10`` ... ``P99``, ``max``, ``P50_low``/``P50_high`` (bootstrap interval; also
        for P80, P90), ``uplift_P50``/``uplift_P80``/``uplift_P90`` (percent of the plan; NaN when the
        ratio is not dimensionless) with ``_low``/``_high``, ``share_above_2x``, ``share_above_3x``,
        ``tail_index``, ``tail_k``, ``folded``.
        """
        rows = []
        for c in self.classes:
            row: dict[str, Any] = {"by": c.by or "", "class": c.label, "n": c.n, "small": c.small,
                                   "share_overrun": c.share_overrun, "share_on_plan": c.share_on_plan,
                                   "mean": c.mean, "median": c.median, **c.quantiles, "max": c.max}
            for key, (low, high) in c.intervals.items():
                row[f"{key}_low"], row[f"{key}_high"] = low, high
            for level in UPLIFT_LEVELS:
                ok = self.dimensionless
                low, high = c.intervals[f"P{level}"]
                row[f"uplift_P{level}"] = c.uplift(level) if ok else math.nan
                row[f"uplift_P{level}_low"] = 100.0 * (low - 1.0) if ok else math.nan
                row[f"uplift_P{level}_high"] = 100.0 * (high - 1.0) if ok else math.nan
            row.update(share_above_2x=c.share_above_2x, share_above_3x=c.share_above_3x, tail_index=c.tail_index,
                       tail_k=c.tail_k, folded=c.folded)
            rows.append(row)
        frame = pd.DataFrame(rows)
        frame.attrs = {"source": self.source, "ratio_unit": self.ratio_unit, "confidence_level": self.confidence_level}
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (NaN as None), as ``pmrisk history uplift --json`` writes it."""
        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        classes = []
        for c in self.classes:
            item: dict[str, Any] = {
                "by": c.by, "class": c.label, "n": c.n, "small": c.small, "folded": c.folded,
                "share_overrun": num(c.share_overrun), "share_on_plan": num(c.share_on_plan),
                "mean": num(c.mean), "median": num(c.median), "min": num(c.min), "max": num(c.max),
                "ratio": {k: num(v) for k, v in c.quantiles.items()},
                "ratio_interval": {k: [num(lo), num(hi)] for k, (lo, hi) in c.intervals.items()},
                "uplift_pct": None, "uplift_interval_pct": None,
                "share_above_2x": num(c.share_above_2x), "share_above_3x": num(c.share_above_3x),
                "tail_index": num(c.tail_index), "tail_k": c.tail_k}
            if self.dimensionless:
                item["uplift_pct"] = {f"P{lv}": num(c.uplift(lv)) for lv in UPLIFT_LEVELS}
                item["uplift_interval_pct"] = {f"P{lv}": [num(100 * (c.intervals[f'P{lv}'][0] - 1)),
                                                          num(100 * (c.intervals[f'P{lv}'][1] - 1))]
                                               for lv in UPLIFT_LEVELS}
            classes.append(item)
        return {"source": self.source, "planned": self.planned, "actual": self.actual, "unit": self.unit,
                "ratio_unit": self.ratio_unit, "n": self.n, "dropped": dict(self.dropped), "by": list(self.by),
                "min_class_size": self.min_class_size, "confidence_level": self.confidence_level,
                "resamples": self.resamples, "classes": classes, "warnings": list(self.warnings)}


# --------------------------------------------------------------------------------------------
# Loading the ratios
# --------------------------------------------------------------------------------------------


def _looks_like_path(text: str) -> bool:
    return os.sep in text or "/" in text or Path(text).suffix.lower() in (".csv", ".tsv", ".txt", ".xlsx", ".xlsm",
                                                                          ".arff")


def load_ratios(source: str | os.PathLike[str] | HistoryData | pd.DataFrame, *, planned: str | None = None,
                actual: str | None = None) -> pd.DataFrame:
    """Actual/planned ratios from a dataset name, a file, a loaded history or a ratio frame.

    Parameters
    ----------
    source : str, path, HistoryData or DataFrame
        A shared dataset name (see :func:`~pmrisk.history.datasets.list_datasets`), a CSV/Excel/ARFF
        file of past projects or tasks, a history loaded with an ``estimate``, or a frame with
        ``planned`` and ``actual`` columns (e.g. from :func:`~pmrisk.history.datasets.ratios`).
    planned, actual : str, optional
        The plan and actual columns. Required for a file; for a dataset, ``actual`` picks the
        target (e.g. ``real_cost_eur``) and ``planned`` must be its estimate column.

    Returns
    -------
    pandas.DataFrame
        As :func:`~pmrisk.history.datasets.ratios`: ``planned``, ``actual``, ``ratio``, ``size_class``
        and class columns; ``attrs`` name the source and units.

    Examples
    --------
    >>> import pandas as pd
    >>> r = load_ratios(pd.DataFrame({"plan": [10, 20, 5, 8, 4], "done": [12, 20, 10, 6, 4]}),
    ...                 planned="plan", actual="done")
    >>> r["ratio"].tolist()
    [1.2, 1.0, 2.0, 0.75, 1.0]
    """
    if isinstance(source, pd.DataFrame):
        return _frame_ratios(source, planned or "planned", actual or "actual")
    if isinstance(source, HistoryData):
        _check_planned(source, planned)
        return ratios(source, target=actual)
    resolved = resolve_source(source)
    if isinstance(resolved, str):
        data = load_dataset(resolved, target=actual)
        _check_planned(data, planned)
        return ratios(data)
    if actual is None or planned is None:
        raise HistoryDataError(f"{resolved}: name the plan and actual columns of your history (planned=..., "
                               "actual=...; on the command line --planned COL --actual COL).")
    return ratios(load_history(resolved, target=actual, estimate=planned))


def resolve_source(source: str | os.PathLike[str]) -> str | Path:
    """A shared dataset's name (returned as ``str``) or a history file (returned as a ``Path``).

    A name that is both a dataset and an existing file is the file. Raises :class:`HistoryDataError`
    for a text that is neither (with the closest dataset names); a missing file that looks like a
    path (a folder or a .csv/.xlsx/.arff suffix) is returned for the loader to report.

    Examples
    --------
    >>> resolve_source("sip-tasks"), resolve_source("past/projects.csv").name
    ('sip-tasks', 'projects.csv')
    >>> resolve_source("sip-task")
    Traceback (most recent call last):
    ...
    pmrisk.history.datasets.HistoryDataError: 'sip-task' is neither a file nor a shared dataset. Did you mean ...
    """
    text = os.fspath(source)
    path = Path(text)
    if isinstance(source, str) and text in list_datasets() and not path.is_file():
        return text
    if not path.exists() and not _looks_like_path(text):
        close = difflib.get_close_matches(text, list_datasets(), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise HistoryDataError(f"{text!r} is neither a file nor a shared dataset.{hint} Give the path of a CSV, "
                               f"Excel or ARFF file, or one of: {', '.join(list_datasets())}.")
    return path


def _check_planned(data: HistoryData, planned: str | None) -> None:
    if planned is not None and planned != data.estimate:
        estimates = [c for c, s in data.card.get("columns", {}).items() if s.get("role") == "estimate"]
        raise HistoryDataError(f"{data.name}: {planned!r} is not the plan of {data.target!r} (that is "
                               f"{data.estimate!r}). Estimate columns: {', '.join(estimates) or 'none'}; choose "
                               "the actual with actual=... and its plan follows.")


def _frame_ratios(frame: pd.DataFrame, planned: str, actual: str) -> pd.DataFrame:
    for column, what in ((planned, "planned"), (actual, "actual")):
        if column not in frame.columns:
            raise HistoryDataError(f"{what} column {column!r} does not exist. Columns: "
                                   f"{', '.join(map(str, frame.columns))}.")
    values = {}
    for column in (planned, actual):
        values[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
        wrong = np.flatnonzero((values[column].isna() & frame[column].notna()).to_numpy())
        if len(wrong):
            shown = ", ".join(f"{frame[column].iloc[j]!r} (row {j + 1})" for j in wrong[:3])
            raise HistoryDataError(f"column {column!r}: not a number: {shown}. Planned and actual values must be "
                                   "numbers; clean these cells or leave them empty.")
    p, a = values[planned], values[actual]
    missing = p.isna() | a.isna()
    bad = ~missing & ((p <= 0) | (a <= 0))
    keep = ~missing & ~bad
    out = pd.DataFrame({"planned": p[keep], "actual": a[keep]})
    out["ratio"] = out["actual"] / out["planned"]
    if "size_class" not in frame.columns and len(out):      # tertiles of the plan, as datasets.ratios
        low, high = np.quantile(out["planned"], [1 / 3, 2 / 3])
        out["size_class"] = np.where(out["planned"] <= low, "small", np.where(out["planned"] <= high, "medium",
                                                                                "large"))
    for column in frame.columns:
        if column not in (planned, actual) and column not in out.columns:
            out[column] = frame.loc[keep, column]
    out = out.reset_index(drop=True)
    out.attrs = {**frame.attrs, "name": frame.attrs.get("name", "ratios"),
                 "planned": frame.attrs.get("planned", planned), "actual": frame.attrs.get("actual", actual),
                 "ratio_unit": frame.attrs.get("ratio_unit", _DIMENSIONLESS),
                 "dropped": {k: v for k, v in {**frame.attrs.get("dropped", {}),
                                               "missing planned or actual": int(missing.sum()),
                                               "planned or actual not positive": int(bad.sum())}.items() if v}}
    return out


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------


def _hill(sorted_values: np.ndarray) -> tuple[float, int]:
    """Hill estimate of the upper tail index from the floor(sqrt(n)) largest values (NaN below 100)."""
    n = len(sorted_values)
    k = int(math.isqrt(n))
    if n < 100:
        return math.nan, k
    logs = np.log(sorted_values[n - k:]) - math.log(sorted_values[n - k - 1])
    total = float(logs.sum())
    return (k / total if total > 0 else math.nan), k


def _class_stats(values: np.ndarray, by: str | None, label: str, min_size: int, gen: np.random.Generator,
                 resamples: int, confidence: float, folded: int = 0) -> ClassUplift:
    x = np.sort(values)
    n = len(x)
    qs = _inverted_cdf(x, [_p(lv) for lv in QUANTILE_LEVELS])
    # Bootstrap of a quantile without resampling the data: the k-th smallest of n uniform draws
    # is Beta(k, n - k + 1), and a resample's k-th smallest ratio is the empirical inverse CDF at it.
    alpha = (1 - confidence) / 2
    intervals = {}
    for level in UPLIFT_LEVELS:
        k = max(1, math.ceil(_p(level) * n - 1e-9))
        boot = _inverted_cdf(x, gen.beta(k, n - k + 1, size=resamples))
        low, high = np.quantile(boot, [alpha, 1 - alpha], method="inverted_cdf")
        intervals[f"P{level}"] = (float(low), float(high))
    tail, k = _hill(x)
    return ClassUplift(
        by=by, label=label, n=n, small=n < min_size,
        quantiles={f"P{lv}": float(q) for lv, q in zip(QUANTILE_LEVELS, qs, strict=True)}, intervals=intervals,
        mean=float(x.mean()), median=float(qs[QUANTILE_LEVELS.index(50)]), min=float(x[0]), max=float(x[-1]),
        share_overrun=float(np.mean(x > 1)), share_on_plan=float(np.mean(x == 1)),
        share_above_2x=float(np.mean(x > 2)), share_above_3x=float(np.mean(x > 3)),
        tail_index=tail, tail_k=k, folded=folded)


def _labels(column: pd.Series) -> pd.Series:
    def text(v: Any) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return MISSING
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip() or MISSING
    return column.map(text).astype(object)


def _exclude(frame: pd.DataFrame, exclude: Mapping[str, Sequence[Any]], where: str) -> tuple[pd.DataFrame, int]:
    keep = pd.Series(True, index=frame.index)
    for column, values in exclude.items():
        if column not in frame.columns:
            raise HistoryDataError(f"{where}: cannot exclude by {column!r}: no such class column. Columns: "
                                   f"{', '.join(map(str, frame.columns))}.")
        keep &= ~_labels(frame[column]).isin([str(v) for v in values])
    return frame[keep].reset_index(drop=True), int((~keep).sum())


def reference_class_uplift(source: str | os.PathLike[str] | HistoryData | pd.DataFrame,
                           by: str | Sequence[str] | None = None, *, planned: str | None = None,
                           actual: str | None = None, exclude: Mapping[str, Sequence[Any]] | None = None,
                           min_class_size: int = 20, small: Literal["fold", "flag"] = "fold",
                           confidence_level: float = 0.90, resamples: int = 2000,
                           rng: Any = None) -> ReferenceClassUplift:
    """How far actuals ran past plans, and the uplift a plan needs for P50, P80 and P90.

    Parameters
    ----------
    source : str, path, HistoryData or DataFrame
        Planned-vs-actual history: a shared dataset name (``dslib-real-projects``, ``sip-tasks``,
        ``cesaw``, ``renzo-pomodoro``, ``jorgensen-tasks-49``, ``project-22``, ...), a file, a history
        loaded with an estimate, or a frame with ``planned`` and ``actual`` columns (see :func:`load_ratios`).
    by : str or sequence of str, optional
        Class columns (e.g. ``sector``, ``Category``, ``size_class`` for tertiles of the plan); each
        is reported separately after the whole history.
    planned, actual : str, optional
        Plan and actual columns (required for a file; see :func:`load_ratios`).
    exclude : mapping, optional
        Column -> values whose rows are left out (e.g. ``{"StatusCode": ["CANCELLED"]}``).
    min_class_size : int
        Classes with fewer ratios are folded into ``"(other)"`` (``small="fold"``) or kept and flagged
        ``small`` (``small="flag"``).
    confidence_level : float
        Of the bootstrap intervals of P50, P80 and P90.
    resamples : int
        Bootstrap resamples per class.
    rng : int, SeedSequence, Generator or None
        Seed of the bootstrap. Each class draws from its own stream, keyed by its column and
        label, so adding a ``by`` column never changes the figures of another class.

    Returns
    -------
    ReferenceClassUplift

    Raises
    ------
    HistoryDataError
        Unknown dataset, file or column; non-numeric plan or actual; fewer than 5 usable ratios.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> g = np.random.default_rng(0)
    >>> plan = g.uniform(10, 100, 300)
    >>> past = pd.DataFrame({"planned": plan, "actual": plan * g.lognormal(0.1, 0.4, 300),
    ...                      "kind": np.where(np.arange(300) < 200, "build", "fix")})
    >>> result = reference_class_uplift(past, by="kind", rng=42)
    >>> result.to_frame()[["by", "class", "n"]].values.tolist()
    [['', 'all', 300], ['kind', 'build', 200], ['kind', 'fix', 100]]
    >>> result.get("all").uplift(80) > result.get("all").uplift(50) > 0
    True
    """
    if not 0 < confidence_level < 1:
        raise HistoryDataError(f"confidence_level must lie strictly between 0 and 1, not {confidence_level}.")
    if small not in ("fold", "flag"):
        raise HistoryDataError(f"small must be 'fold' or 'flag', not {small!r}.")
    if min_class_size < 1 or resamples < 1:
        raise HistoryDataError("min_class_size and resamples must be at least 1.")
    frame = load_ratios(source, planned=planned, actual=actual)
    attrs = dict(frame.attrs)
    where = str(attrs.get("name", "ratios"))
    dropped = dict(attrs.get("dropped", {}))
    if exclude:
        frame, n_excluded = _exclude(frame, exclude, where)
        if n_excluded:
            dropped["excluded by " + ", ".join(f"{c} in {list(v)}" for c, v in exclude.items())] = n_excluded
    columns = [by] if isinstance(by, str) else list(by or [])
    for column in columns:
        if column not in frame.columns or column in ("planned", "actual", "ratio"):
            choices = [c for c in frame.columns if c not in ("planned", "actual", "ratio")]
            raise HistoryDataError(f"{where}: no class column {column!r}. Class columns: {', '.join(choices)}.")
    if len(frame) < MIN_ROWS:
        raise HistoryDataError(f"{where}: only {len(frame)} row(s) have a positive planned and actual value; "
                               f"reference-class figures need at least {MIN_ROWS} (more than {min_class_size} to be "
                               "worth much). Add past projects or check the plan and actual columns.")
    key = int(np.random.default_rng(rng).integers(2**62))

    def stream(column: str | None, label: str) -> np.random.Generator:
        return np.random.default_rng([key, zlib.crc32(str(column).encode()), zlib.crc32(label.encode())])

    ratio = frame["ratio"].to_numpy(dtype=float)
    notes: list[str] = []
    all_stats = _class_stats(ratio, None, ALL, min_class_size, stream(None, ALL), resamples, confidence_level)
    classes = [all_stats]
    values: dict[tuple[str | None, str], np.ndarray] = {(None, ALL): np.sort(ratio)}
    if all_stats.small:
        text = (f"{where}: only {len(frame)} ratios, fewer than the minimum class size {min_class_size}: "
                "every figure is rough, and the P90 and beyond rest on one or two projects.")
        notes.append(text)
        warnings.warn(text, PmriskWarning, stacklevel=2)
    for column in columns:
        labels = _labels(frame[column])
        counts = labels.value_counts()
        sized = set(counts.index) <= set(_SIZE_ORDER)          # size_class: small, medium, large in that order
        order = sorted(counts.index, key=lambda v: (_SIZE_ORDER[v] if sized else 0, -counts[v], str(v)))
        little = [v for v in order if counts[v] < min_class_size]
        # fold two or more small classes, but not all of them (that would repeat "all")
        fold = small == "fold" and 2 <= len(little) < len(order)
        groups = [(v, labels.eq(v).to_numpy(), 0) for v in order if not fold or counts[v] >= min_class_size]
        if fold and little:
            groups.append((OTHER, labels.isin(little).to_numpy(), len(little)))
            notes.append(f"{column}: {len(little)} class(es) under {min_class_size} rows "
                         f"({int(counts[little].sum())} rows) folded into {OTHER!r}.")
        elif little:
            more = f" and {len(little) - 5} more" if len(little) > 5 else ""
            notes.append(f"{column}: {len(little)} class(es) under {min_class_size} rows, flagged small"
                         f"{'' if small == 'flag' else ' (nothing to fold them with)'}: "
                         f"{', '.join(map(repr, little[:5]))}{more}.")
        for label, mask, folded in groups:
            classes.append(_class_stats(ratio[mask], column, label, min_class_size, stream(column, label), resamples,
                                        confidence_level, folded))
            values[(column, label)] = np.sort(ratio[mask])
    unit = str(attrs.get("ratio_unit", _DIMENSIONLESS))
    if unit != _DIMENSIONLESS:
        notes.append(f"The ratio is in {unit}, not a plain overrun: plan and actual have different units, so no "
                     "uplift is given; the quantiles are conversion factors.")
    return ReferenceClassUplift(
        source=where, planned=str(attrs.get("planned", "planned")), actual=str(attrs.get("actual", "actual")),
        unit=str(attrs.get("unit", "")), ratio_unit=unit, classes=classes, n=len(frame), dropped=dropped,
        by=columns, min_class_size=min_class_size, confidence_level=confidence_level, resamples=resamples,
        warnings=notes, _values=values)


def empirical_ratio(source: str | os.PathLike[str] | HistoryData | pd.DataFrame, label: str = ALL,
                    by: str | None = None, *, planned: str | None = None, actual: str | None = None,
                    exclude: Mapping[str, Sequence[Any]] | None = None,
                    min_class_size: int = 20) -> EmpiricalRatio:
    """The ratios of one reference class as an empirical distribution (a duration or cost factor).

    Parameters
    ----------
    source, planned, actual, exclude, min_class_size
        As :func:`reference_class_uplift`.
    label : str
        The class (``"all"``: the whole history; ``"(other)"``: the small classes of ``by`` together).
    by : str, optional
        The class column ``label`` belongs to.

    Returns
    -------
    EmpiricalRatio
        Sorted ratios and their quantile grid; ``ppf``/``sample`` give plan multipliers.

    Examples
    --------
    >>> import pandas as pd
    >>> past = pd.DataFrame({"planned": [10, 10, 10, 10, 10, 20], "actual": [10, 12, 15, 9, 30, 20],
    ...                      "kind": ["a", "a", "a", "b", "b", "b"]})
    >>> empirical_ratio(past, "b", by="kind", min_class_size=1).values.tolist()
    [0.9, 1.0, 3.0]
    """
    result = reference_class_uplift(source, by=by, planned=planned, actual=actual, exclude=exclude,
                                    min_class_size=min_class_size, resamples=1, rng=0)
    return result.empirical(label, by)
