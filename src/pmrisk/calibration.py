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

A fitted overrun model can take the history's place: ``calibration: {model: MODEL.json}`` (or
``pmrisk simulate --calibrate MODEL.json``) names an estimate-aware model saved by ``pmrisk history fit
... --model estimate-aware``. Each task's estimate (its likely or mean duration, in the model's estimate
unit: working days times ``hours_per_day`` for a model of hours) goes through the model's predictive
distribution, which gives that task its own distribution of ratios actual / estimate (small tasks
typically overrun more than large ones); every iteration draws one ratio per task from it::

    calibration:
      model: overrun.json              # pmrisk history fit TASKS --target actual --estimate planned ...
      estimate_from: likely            # likely (default) or mean of each task's duration
      hours_per_day: 8                 # for a model whose estimates are in hours (default 8)
      estimate_unit: hours             # optional: when the model file does not say
      features: {team: A}              # the model's other inputs, the same for every task
      applies_to: {tags: [build]}      # optional

``level: project`` is reference-class forecasting (Flyvbjerg): the whole plan overruns together as
past projects did. ``level: task`` draws each task's ratio independently, the right reading of
task-level history (SiP, CESAW, ...), whose overruns then partly average out across tasks.
Calibration acts like a driver, after correlation and before risk events; since the history's
actuals include the risks that happened to those projects, keep the risk register to the risks
specific to this project. The summary shows the calibrated and the uncalibrated P-levels side by
side (same random numbers).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pmrisk.errors import ProjectError

LEVELS = ("project", "task")
_KEYS = {"reference", "planned", "actual", "class", "level", "applies_to", "scale_fixed_costs", "min_class_size"}
_MODEL_KEYS = {"model", "estimate_from", "hours_per_day", "estimate_unit", "features", "level", "applies_to",
               "scale_fixed_costs"}
ESTIMATE_FROM = ("likely", "mean")


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
    model: str | None = None              # a fitted estimate-aware model file (instead of a history)
    estimate_from: str = "likely"         # the task's estimate: its likely or mean duration
    hours_per_day: float = 8.0
    estimate_unit: str | None = None      # overrides the model file's estimate unit
    features: tuple[tuple[str, Any], ...] = ()   # the model's other inputs

    @property
    def label(self) -> str:
        if self.model is not None:
            return f"model {Path(self.model).name}"
        cls = f" [{self.class_column} = {self.class_value}]" if self.class_column else ""
        return f"{Path(self.reference).name if os.sep in self.reference else self.reference}{cls}"


@dataclass(frozen=True)
class Calibration:
    """A calibration resolved against its history: the sorted past ratios, ready to sample.

    ``values`` is either one distribution (sorted ratios, shape ``[n]``) or, for a model-based
    calibration, a per-task table (shape ``[tasks, m]``, each row sorted; row ``i`` belongs to
    ``task_ids[i]``).
    """

    spec: CalibrationSpec
    values: np.ndarray = field(repr=False)        # sorted ratios actual / planned, or a [tasks, m] table
    ratio_unit: str = "actual/planned"
    task_ids: tuple[str, ...] = ()                # the rows of a per-task table
    model_info: dict[str, Any] | None = None      # a model-based calibration: the model's facts

    @property
    def per_task(self) -> bool:
        return self.values.ndim == 2

    @property
    def n(self) -> int:
        return int(self.values.shape[-1])

    def ppf(self, u: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """The inverted CDF of the past ratios (``values[ceil(u n) - 1]``) for ``u`` in (0, 1].

        For a per-task table, ``u`` has one row per table row (or per entry of ``rows``, the table rows
        to use), and each row is inverted with its own distribution.
        """
        n = self.values.shape[-1]
        idx = np.clip(np.ceil(np.asarray(u) * n).astype(np.int64) - 1, 0, n - 1)
        if self.values.ndim == 1:
            return self.values[idx]
        table = self.values if rows is None else self.values[rows]
        return np.take_along_axis(table, idx.reshape(table.shape[0], -1), axis=1).reshape(idx.shape)

    def describe(self) -> dict[str, Any]:
        """Plain JSON-able facts: source, class, level, tasks, and the ratio's P-levels."""
        if self.per_task:
            return self._describe_table()
        q = {f"P{lv}": float(self.ppf(np.array(lv / 100))) for lv in (10, 50, 80, 90)}
        return {"reference": self.spec.reference, "class": ({self.spec.class_column: self.spec.class_value}
                                                            if self.spec.class_column else None),
                "level": self.spec.level, "tasks": len(self.spec.tasks), "n": self.n, "ratio_unit": self.ratio_unit,
                "ratio": {**q, "mean": float(self.values.mean()), "max": float(self.values[-1])},
                "scale_fixed_costs": self.spec.scale_fixed_costs}

    def _describe_table(self) -> dict[str, Any]:
        med = np.median(self.values, axis=1)
        pooled = np.sort(self.values, axis=None)
        info = dict(self.model_info or {})
        return {"kind": "model", "reference": self.spec.model, "class": None, "level": "task",
                "tasks": len(self.task_ids), "n": self.n, "ratio_unit": self.ratio_unit, **info,
                "median_ratio": {"min": float(med.min()), "max": float(med.max())},
                "median_ratio_by_task": {t: float(m) for t, m in zip(self.task_ids, med, strict=True)},
                "ratio": {**{f"P{lv}": float(pooled[min(max(math.ceil(lv / 100 * pooled.size) - 1, 0),
                                                        pooled.size - 1)]) for lv in (10, 50, 80, 90)},
                          "mean": float(pooled.mean()), "max": float(pooled[-1])},
                "scale_fixed_costs": self.spec.scale_fixed_costs}


def parse_calibration(raw: Any, task_ids: list[str], tags: dict[str, set[str]], *, source: str | None = None
                      ) -> CalibrationSpec:
    """Validate a ``calibration:`` mapping (or a bare reference string, or a model's .json path) against the
    project's tasks."""
    where = f"{source + ': ' if source else ''}calibration"
    if isinstance(raw, str):
        raw = {"model": raw} if raw.strip().lower().endswith(".json") else {"reference": raw}
    if not isinstance(raw, dict):
        raise ProjectError(f"{where}: give a mapping with at least 'reference: DATASET_OR_FILE' or "
                           "'model: MODEL.json'.")
    if "model" in raw:
        return _parse_model(raw, task_ids, tags, source, where)
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ProjectError(f"{where}: unknown key '{unknown[0]}'; the keys are {', '.join(sorted(_KEYS))}.")
    ref = raw.get("reference")
    if not isinstance(ref, str) or not ref.strip():
        raise ProjectError(f"{where}: 'reference' is missing; name a shared dataset (pmrisk history datasets) or a "
                           "CSV/Excel/ARFF file of past plans with their actuals (or 'model: MODEL.json', a fitted "
                           "overrun model).")
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
    tasks = _applies_to(raw.get("applies_to"), task_ids, tags, where)
    scale = _scale(raw, where)
    mcs = raw.get("min_class_size", 20)
    if not isinstance(mcs, int) or isinstance(mcs, bool) or mcs < 1:
        raise ProjectError(f"{where}, min_class_size: give a whole number >= 1, not {mcs!r}.")
    for key in ("planned", "actual"):
        if raw.get(key) is not None and not isinstance(raw.get(key), str):
            raise ProjectError(f"{where}, {key}: give a column name.")
    return CalibrationSpec(reference=ref, tasks=tasks, level=level, planned=raw.get("planned"),
                           actual=raw.get("actual"), class_column=ccol, class_value=cval, scale_fixed_costs=scale,
                           min_class_size=mcs, where=where)


def _applies_to(sel: Any, task_ids: list[str], tags: dict[str, set[str]], where: str) -> tuple[str, ...]:
    from pmrisk.risk.model import SelectorIn, _resolve, _selector

    if sel is None:
        return tuple(task_ids)
    try:
        parsed = _selector(sel)
        parsed = SelectorIn.model_validate(parsed) if isinstance(parsed, dict) else [str(x) for x in parsed]
    except Exception as exc:  # noqa: BLE001 - any shape error becomes one clear message
        raise ProjectError(f"{where}, applies_to: give task ids or {{tags: [...]}} ({exc}).") from None
    tasks = _resolve(parsed, task_ids, tags, f"{where}, applies_to")
    if not tasks:
        raise ProjectError(f"{where}, applies_to: selects no task; name tasks or tags.")
    return tuple(tasks)


def _scale(raw: dict[str, Any], where: str) -> bool:
    scale = raw.get("scale_fixed_costs", False)
    if not isinstance(scale, bool):
        raise ProjectError(f"{where}, scale_fixed_costs: give true or false, not {scale!r}.")
    return scale


def model_path(value: Any, source: str | None, where: str) -> str:
    """A section's ``model:`` path (relative to the project file), checked to be a .json name."""
    if not isinstance(value, str) or not value.strip():
        raise ProjectError(f"{where}, model: give the path of a model file written by 'pmrisk history fit'.")
    path = Path(value.strip())
    if path.suffix.lower() != ".json":
        raise ProjectError(f"{where}, model: {value!r} is not a .json model file (written by 'pmrisk history fit').")
    if source and not path.is_absolute():
        path = Path(source).parent / path
    return str(path)


def _parse_model(raw: dict[str, Any], task_ids: list[str], tags: dict[str, set[str]], source: str | None,
                 where: str) -> CalibrationSpec:
    """The model-based form of the section (see the module docstring)."""
    from pmrisk.history.fitted import ModelFileError, check_inputs, peek_model

    unknown = sorted(set(raw) - _MODEL_KEYS)
    if unknown:
        extra = " (a model replaces the reference history)" if unknown[0] in _KEYS else ""
        raise ProjectError(f"{where}: unknown key '{unknown[0]}' with 'model'{extra}; the keys are "
                           f"{', '.join(sorted(_MODEL_KEYS))}.")
    path = model_path(raw.get("model"), source, where)
    level = str(raw.get("level", "task"))
    if level != "task":
        raise ProjectError(f"{where}, level: a model-based calibration draws one ratio per task from each task's "
                           f"own distribution; use level: task (or leave it out), not '{level}'.")
    est_from = str(raw.get("estimate_from", "likely"))
    if est_from not in ESTIMATE_FROM:
        raise ProjectError(f"{where}, estimate_from: '{est_from}' is not one of {', '.join(ESTIMATE_FROM)}.")
    hpd = raw.get("hours_per_day", 8)
    if isinstance(hpd, bool) or not isinstance(hpd, (int, float)) or not 0 < hpd <= 24:
        raise ProjectError(f"{where}, hours_per_day: give the hours of a working day (0 < h <= 24), not {hpd!r}.")
    unit = raw.get("estimate_unit")
    if unit is not None and not isinstance(unit, str):
        raise ProjectError(f"{where}, estimate_unit: give a unit such as hours, days, weeks or months.")
    feats = raw.get("features") or {}
    if not isinstance(feats, dict):
        raise ProjectError(f"{where}, features: give the model's other inputs as 'name: value' pairs.")
    try:
        info = peek_model(path)
        if info["kind"] != "estimate-aware":
            raise ModelFileError(f"{path} is a {info['kind']} model; a calibration needs an estimate-aware model "
                                 "(pmrisk history fit DATA --target ACTUAL --estimate PLANNED --model estimate-aware).")
        meta = info["metadata"]
        est = meta.get("estimate") or (info["inputs"][0] if info["inputs"] else None)
        feats = check_inputs(feats, info["inputs"], info["categorical"], meta, skip=[est] if est else [])
    except ModelFileError as exc:
        raise ProjectError(f"{where}, model: {exc}") from None
    return CalibrationSpec(reference=path, tasks=_applies_to(raw.get("applies_to"), task_ids, tags, where),
                           level="task", scale_fixed_costs=_scale(raw, where), where=where, model=path,
                           estimate_from=est_from, hours_per_day=float(hpd), estimate_unit=unit,
                           features=tuple(feats.items()))


def resolve(spec: CalibrationSpec, project: Any = None) -> Calibration:
    """Read the history (or the model, with the project's tasks) and build the ratio distribution(s);
    errors name the section and the data."""
    from pmrisk.errors import PmriskError
    from pmrisk.history.reference import ALL, empirical_ratio

    if spec.model is not None:
        if project is None:
            raise ProjectError(f"{spec.where}: a model-based calibration needs the project (its tasks' estimates).")
        return _resolve_model(spec, project)

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


def _resolve_model(spec: CalibrationSpec, project: Any) -> Calibration:
    """Each task's estimate through the model: a per-task table of ratios actual / estimate."""
    from pmrisk.history.fitted import ModelFileError, open_model, unit_per_working_day

    try:
        fm = open_model(spec.model or "")
        if fm.kind != "estimate-aware":
            raise ModelFileError(f"{fm.path} is a {fm.kind} model; a calibration needs an estimate-aware model.")
        est = fm.estimate or fm.inputs[0]
        feats = fm.check_inputs(dict(spec.features), skip=[est])
    except ModelFileError as exc:
        raise ProjectError(f"{spec.where}, model: {exc}") from None
    unit = spec.estimate_unit or fm.metadata.get("estimate_unit") or fm.unit
    per_day = unit_per_working_day(unit, spec.hours_per_day)
    if per_day is None:
        said = f"the model's estimates are in {unit!r}" if unit else "the model file does not say its estimate unit"
        raise ProjectError(f"{spec.where}: {said}; set 'estimate_unit: hours' (or days, weeks, months) in the "
                           "section, or refit the model with 'pmrisk history fit ... --unit hours'.")
    days = np.array([float(project.task(t).duration.mode() if spec.estimate_from == "likely"
                           else project.task(t).duration.mean()) for t in spec.tasks])
    table = np.ones((len(spec.tasks), fm.n))
    pos = np.flatnonzero(days > 0)
    if pos.size:
        estimates = days[pos] * per_day
        dist = fm.predict([{**feats, est: e} for e in estimates])
        vals = dist.values
        table[pos] = np.exp(vals - np.log(estimates)[:, None]) if dist.log_space else vals / estimates[:, None]
        table[pos] = np.sort(np.maximum(table[pos], 0.0), axis=1)
    info = {"model": fm.name, "model_file": fm.path, "dataset": fm.source, "target": fm.target,
            "estimate": est, "estimate_unit": unit, "estimate_from": spec.estimate_from,
            "hours_per_day": spec.hours_per_day, "features": feats or None}
    return Calibration(spec=spec, values=table, ratio_unit="actual/estimate", task_ids=tuple(spec.tasks),
                       model_info=info)


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


def own_section(value: bool | None, project: Any, section: str, arg: str) -> Any:
    """The project's own ``section`` (``calibration`` or ``top_down``) for the argument ``arg`` of
    None or True; None when the project has none, which True refuses."""
    spec = getattr(project, section, None)
    if spec is None and value is True:
        raise ProjectError(f"{project.source or 'project'}: {arg}=True, but the project has no '{section}:' "
                           "section.")
    return spec


def as_calibration(value: Any, project: Any) -> Calibration | None:
    """What ``simulate(..., calibrate=value)`` means: None (the project's own section, if any),
    False (none), a reference string or mapping (as a ``calibration:`` section; a ``.json`` path is a
    fitted model), a spec, or a resolved :class:`Calibration`."""
    if value is False:
        return None
    if value is None or value is True:
        spec = own_section(value, project, "calibration", "calibrate")
        return None if spec is None else resolve(spec, project)
    if isinstance(value, Calibration):
        return value
    if isinstance(value, CalibrationSpec):
        return resolve(value, project)
    if isinstance(value, str | dict | os.PathLike):
        tags = {t.id: set(t.tags) for t in project.tasks}
        raw = os.fspath(value) if isinstance(value, os.PathLike) else value
        return resolve(parse_calibration(raw, project.task_ids, tags, source=None), project)
    raise TypeError(f"calibrate must be None, False, a reference name or file, a mapping or a Calibration, "
                    f"not {type(value).__name__}")
