"""History calibration: multiply a plan by how plans like it actually turned out.

A project file's ``calibration:`` section (or ``pmrisk simulate --calibrate SOURCE``, or
``simulate(..., calibrate=...)``) names a reference class of past plans with their actuals; every
iteration then multiplies the sampled durations of the chosen tasks by a ratio ``actual / planned``
drawn from that history (the inverted CDF of the past ratios, so each draw is a past ratio and the
fat tail is kept as it was observed)::

    calibration:
      reference: dslib-real-projects   # a shared dataset, or a CSV/Excel/ARFF file of past plans
      planned: planned_duration_days   # optional: the columns (default: the dataset card's; in a
      actual: real_duration_days       #   file, columns named like 'planned' and 'actual')
      class: {sector: IT}              # optional: one reference class (column: value)
      level: project                   # project: one ratio an iteration for all the tasks (default)
                                       # task: one ratio per task (for task-level history)
      applies_to: {tags: [build]}      # optional: the tasks (default: every task)
      scale_fixed_costs: false         # also multiply those tasks' fixed costs (default: false)

``level: project`` is reference-class forecasting (Flyvbjerg): the whole plan overruns together as
past projects did. ``level: task`` draws each task's ratio independently, the right reading of
task-level history (SiP, CESAW, ...), whose overruns then partly average out across tasks.
Calibration acts like a driver, after correlation and before risk events; since the history's
actuals include the risks that happened to those projects, keep the risk register to the risks
specific to this project. The summary shows the calibrated and the uncalibrated P-levels side by
side (same random numbers).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pmrisk.errors import ProjectError

LEVELS = ("project", "task")
_KEYS = {"reference", "planned", "actual", "class", "level", "applies_to", "scale_fixed_costs", "min_class_size"}


@dataclass(frozen=True)
class CalibrationSpec:
    """A validated ``calibration:`` section (the history is read when the project is simulated)."""

    reference: str
    tasks: tuple[str, ...]
    level: str = "project"
    planned: str | None = None
    actual: str | None = None
    class_column: str | None = None
    class_value: str | None = None
    scale_fixed_costs: bool = False
    min_class_size: int = 20
    where: str = "calibration"            # for messages: the file and section

    @property
    def label(self) -> str:
        cls = f" [{self.class_column} = {self.class_value}]" if self.class_column else ""
        return f"{Path(self.reference).name if os.sep in self.reference else self.reference}{cls}"


@dataclass(frozen=True)
class Calibration:
    """A calibration resolved against its history: the sorted past ratios, ready to sample."""

    spec: CalibrationSpec
    values: np.ndarray = field(repr=False)        # sorted ratios actual / planned
    ratio_unit: str = "actual/planned"

    @property
    def n(self) -> int:
        return int(self.values.size)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The inverted CDF of the past ratios (``values[ceil(u n) - 1]``) for ``u`` in (0, 1]."""
        n = self.values.size
        idx = np.clip(np.ceil(np.asarray(u) * n).astype(np.int64) - 1, 0, n - 1)
        return self.values[idx]

    def describe(self) -> dict[str, Any]:
        """Plain JSON-able facts: source, class, level, tasks, and the ratio's P-levels."""
        q = {f"P{lv}": float(self.ppf(np.array(lv / 100))) for lv in (10, 50, 80, 90)}
        return {"reference": self.spec.reference, "class": ({self.spec.class_column: self.spec.class_value}
                                                            if self.spec.class_column else None),
                "level": self.spec.level, "tasks": len(self.spec.tasks), "n": self.n, "ratio_unit": self.ratio_unit,
                "ratio": {**q, "mean": float(self.values.mean()), "max": float(self.values[-1])},
                "scale_fixed_costs": self.spec.scale_fixed_costs}


def parse_calibration(raw: Any, task_ids: list[str], tags: dict[str, set[str]], *, source: str | None = None
                      ) -> CalibrationSpec:
    """Validate a ``calibration:`` mapping (or a bare reference string) against the project's tasks."""
    from pmrisk.risk.model import SelectorIn, _resolve, _selector

    where = f"{source + ': ' if source else ''}calibration"
    if isinstance(raw, str):
        raw = {"reference": raw}
    if not isinstance(raw, dict):
        raise ProjectError(f"{where}: give a mapping with at least 'reference: DATASET_OR_FILE'.")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ProjectError(f"{where}: unknown key '{unknown[0]}'; the keys are {', '.join(sorted(_KEYS))}.")
    ref = raw.get("reference")
    if not isinstance(ref, str) or not ref.strip():
        raise ProjectError(f"{where}: 'reference' is missing; name a shared dataset (pmrisk history datasets) or a "
                           "CSV/Excel/ARFF file of past plans with their actuals.")
    ref = ref.strip()
    if source and ("/" in ref or ref.lower().endswith((".csv", ".xlsx", ".xls", ".arff", ".tsv"))):
        path = Path(ref)
        if not path.is_absolute():
            ref = str(Path(source).parent / path)
    level = str(raw.get("level", "project"))
    if level not in LEVELS:
        raise ProjectError(f"{where}, level: '{level}' is not one of {', '.join(LEVELS)}.")
    cls = raw.get("class")
    ccol = cval = None
    if cls is not None:
        if not isinstance(cls, dict) or len(cls) != 1:
            raise ProjectError(f"{where}, class: give one 'column: value' pair, e.g. class: {{sector: IT}}.")
        ccol, cval = (str(x) for x in next(iter(cls.items())))
    sel = raw.get("applies_to")
    if sel is None:
        tasks = tuple(task_ids)
    else:
        try:
            parsed = _selector(sel)
            parsed = SelectorIn.model_validate(parsed) if isinstance(parsed, dict) else [str(x) for x in parsed]
        except Exception as exc:  # noqa: BLE001 - any shape error becomes one clear message
            raise ProjectError(f"{where}, applies_to: give task ids or {{tags: [...]}} ({exc}).") from None
        tasks = _resolve(parsed, task_ids, tags, f"{where}, applies_to")
        if not tasks:
            raise ProjectError(f"{where}, applies_to: selects no task; name tasks or tags.")
    scale = raw.get("scale_fixed_costs", False)
    if not isinstance(scale, bool):
        raise ProjectError(f"{where}, scale_fixed_costs: give true or false, not {scale!r}.")
    mcs = raw.get("min_class_size", 20)
    if not isinstance(mcs, int) or isinstance(mcs, bool) or mcs < 1:
        raise ProjectError(f"{where}, min_class_size: give a whole number >= 1, not {mcs!r}.")
    for key in ("planned", "actual"):
        if raw.get(key) is not None and not isinstance(raw.get(key), str):
            raise ProjectError(f"{where}, {key}: give a column name.")
    return CalibrationSpec(reference=ref, tasks=tasks, level=level, planned=raw.get("planned"),
                           actual=raw.get("actual"), class_column=ccol, class_value=cval, scale_fixed_costs=scale,
                           min_class_size=mcs, where=where)


def resolve(spec: CalibrationSpec) -> Calibration:
    """Read the history and build the ratio distribution (errors name the section and the data)."""
    from pmrisk.errors import PmriskError
    from pmrisk.history.reference import ALL, empirical_ratio

    planned, actual = spec.planned, spec.actual
    if planned is None and actual is None:
        planned, actual = _guess_columns(spec.reference)
    try:
        label = spec.class_value if spec.class_column and spec.class_value is not None else ALL
        er = empirical_ratio(spec.reference, label, by=spec.class_column,
                             planned=planned, actual=actual, min_class_size=spec.min_class_size)
    except PmriskError as exc:
        raise ProjectError(f"{spec.where}: {exc}") from None
    except (KeyError, ValueError) as exc:
        raise ProjectError(f"{spec.where}: {exc}") from None
    if er.ratio_unit != "actual/planned":
        raise ProjectError(f"{spec.where}: the history's plans are not in the unit of its actuals ({er.ratio_unit}); "
                           "a calibration needs planned and actual of the same quantity.")
    return Calibration(spec=spec, values=np.asarray(er.values, dtype=np.float64), ratio_unit=er.ratio_unit)


_PLANNED = ("planned", "plan", "estimate", "estimated", "baseline", "planned_duration", "planned_cost")
_ACTUAL = ("actual", "actuals", "real", "actual_duration", "actual_cost")


def _guess_columns(reference: str) -> tuple[str | None, str | None]:
    """A user's CSV/Excel with columns named like 'planned' and 'actual' (any case) needs no more."""
    path = Path(reference)
    if not path.is_file() or path.suffix.lower() not in (".csv", ".tsv", ".xlsx", ".xls"):
        return None, None
    import pandas as pd

    try:
        cols = (pd.read_excel(path, nrows=0) if path.suffix.lower() in (".xlsx", ".xls")
                else pd.read_csv(path, nrows=0, sep=None, engine="python")).columns
    except Exception:  # noqa: BLE001 - unreadable here: the loader reports it properly
        return None, None
    low = {str(c).strip().lower(): str(c) for c in cols}
    planned = next((low[k] for k in _PLANNED if k in low), None)
    actual = next((low[k] for k in _ACTUAL if k in low), None)
    return (planned, actual) if planned and actual else (None, None)


def as_calibration(value: Any, project: Any) -> Calibration | None:
    """What ``simulate(..., calibrate=value)`` means: None (the project's own section, if any),
    False (none), a reference string or mapping (as a ``calibration:`` section), a spec, or a
    resolved :class:`Calibration`."""
    if value is False:
        return None
    if value is None or value is True:
        spec = getattr(project, "calibration", None)
        if spec is None:
            if value is True:
                raise ProjectError(f"{project.source or 'project'}: calibrate=True, but the project has no "
                                   "'calibration:' section.")
            return None
        return resolve(spec)
    if isinstance(value, Calibration):
        return value
    if isinstance(value, CalibrationSpec):
        return resolve(value)
    if isinstance(value, str | dict):
        tags = {t.id: set(t.tags) for t in project.tasks}
        return resolve(parse_calibration(value, project.task_ids, tags, source=None))
    raise TypeError(f"calibrate must be None, False, a reference name or file, a mapping or a Calibration, "
                    f"not {type(value).__name__}")
