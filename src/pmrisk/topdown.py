"""Top-down check: a history model's forecast of the whole project, next to the bottom-up simulation.

A bottom-up Monte Carlo adds up the plan's own estimates, and inherits their optimism. A top-down model
learned from past projects (``pmrisk history fit``: effort, cost or duration from what is known at the
start, such as size) says what projects like this one actually took. The project file's ``top_down:``
section (or ``simulate(..., top_down=...)``) names such a model and this project's inputs::

    top_down:
      model: effort-model.json          # pmrisk history fit desharnais --target Effort --out effort-model.json
      features: {Transactions: 120, Entities: 80, PointsAdjust: 200}   # this project's values
      quantity: effort                  # effort | cost | duration (default: from the model's target and unit)
      unit_rate: 95                     # currency per model unit: turns effort into cost (optional)
      unit: person-hours                # the model's unit, when its file does not say

The summary (``summary()["top_down"]``) gives the model's P10/P50/P80/P90 for the project, and, where
the quantities are comparable (cost, effort times ``unit_rate``, or a duration in a time unit, converted
to working days), the bottom-up P-levels of the same quantity and their ratio bottom-up / top-down. A
bottom-up P80 below the top-down P50 is the classic optimism gap, and is flagged.

The section is checked when the project is loaded (keys, values, and the features against the model
file's inputs: missing ones are named, and columns the dataset card marks as known only after a project
ended are refused); the model itself is read when simulating. Model files are plain JSON: reading one
never executes code.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from pmrisk.errors import ProjectError

QUANTITIES = ("effort", "cost", "duration")
LEVELS = (10, 50, 80, 90)
_KEYS = {"model", "features", "quantity", "unit_rate", "unit"}


@dataclass(frozen=True)
class TopDownSpec:
    """A validated ``top_down:`` section (the model is read when the project is simulated)."""

    model: str
    features: tuple[tuple[str, Any], ...]
    quantity: str
    unit_rate: float | None = None
    unit: str | None = None
    where: str = "top_down"


def guess_quantity(target: str | None, unit: str | None) -> str | None:
    """Effort, cost or duration, from a model's target name and unit (None when neither says).

    Examples
    --------
    >>> guess_quantity("Effort", "person-hours"), guess_quantity("Duration", "months"), guess_quantity("x", "EUR")
    ('effort', 'duration', 'cost')
    """
    from pmrisk.history.fitted import unit_per_working_day

    words = f"{target or ''} {unit or ''}".lower()
    if re.search(r"effort|person|staff|man-|work-hour|workhour|pm\b", words):
        return "effort"
    if re.search(r"cost|budget|price|eur|usd|gbp|dollar|\$|€|£", words):
        return "cost"
    if re.search(r"duration|length|schedule|elapsed", words) or unit_per_working_day(unit) is not None:
        return "duration"
    return None


def parse_top_down(raw: Any, *, source: str | None = None) -> TopDownSpec:
    """Validate a ``top_down:`` section; the model file's inputs are checked against ``features``."""
    from pmrisk.calibration import model_path
    from pmrisk.history.fitted import ModelFileError, check_inputs, peek_model

    where = f"{source + ': ' if source else ''}top_down"
    if not isinstance(raw, dict):
        raise ProjectError(f"{where}: give a mapping with 'model: MODEL.json' and 'features: {{...}}' (the "
                           "project's values of the model's inputs).")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ProjectError(f"{where}: unknown key '{unknown[0]}'; the keys are {', '.join(sorted(_KEYS))}.")
    path = model_path(raw.get("model"), source, where)
    feats = raw.get("features")
    if feats is None:
        feats = {}
    if not isinstance(feats, dict):
        raise ProjectError(f"{where}, features: give the project's inputs as 'name: value' pairs, e.g. "
                           "{Size: 450, Team: 6}.")
    quantity = raw.get("quantity")
    if quantity is not None and quantity not in QUANTITIES:
        raise ProjectError(f"{where}, quantity: {quantity!r} is not one of {', '.join(QUANTITIES)}.")
    rate = raw.get("unit_rate")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0):
        raise ProjectError(f"{where}, unit_rate: give the cost of one model unit (e.g. 95 per person-hour), a number "
                           f"> 0, not {rate!r}.")
    unit = raw.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise ProjectError(f"{where}, unit: give the model's unit as text, e.g. person-hours.")
    try:
        info = peek_model(path)
        meta = info["metadata"]
        values = check_inputs(feats, info["inputs"], info["categorical"], meta)
    except ModelFileError as exc:
        raise ProjectError(f"{where}: {exc}") from None
    quantity = quantity or guess_quantity(meta.get("target"), unit or meta.get("unit"))
    if quantity is None:
        raise ProjectError(f"{where}: cannot tell whether the model predicts effort, cost or duration (target "
                           f"{meta.get('target')!r}, unit {unit or meta.get('unit')!r}); add 'quantity: effort' "
                           "(or cost, duration).")
    if rate is not None and quantity != "effort":
        raise ProjectError(f"{where}, unit_rate: turns effort into cost; it does not apply to a {quantity} model.")
    return TopDownSpec(model=path, features=tuple(values.items()), quantity=quantity,
                       unit_rate=None if rate is None else float(rate), unit=unit, where=where)


def resolve_top_down(spec: TopDownSpec) -> dict[str, Any]:
    """Read the model and forecast the project: plain JSON-able facts (see :func:`compare`)."""
    from pmrisk.history.fitted import ModelFileError, open_model, unit_per_working_day

    try:
        fm = open_model(spec.model)
        feats = fm.check_inputs(dict(spec.features))
    except ModelFileError as exc:
        raise ProjectError(f"{spec.where}: {exc}") from None
    q = fm.predict([feats]).quantiles([lv / 100 for lv in LEVELS])[0]
    unit = spec.unit or fm.unit
    info: dict[str, Any] = {
        "model": fm.name, "model_file": fm.path, "dataset": fm.source, "target": fm.target, "n": fm.n,
        "quantity": spec.quantity, "unit": unit, "features": feats,
        "predicted": {f"P{lv}": float(v) for lv, v in zip(LEVELS, q, strict=True)}, "compared_as": None}
    metrics = fm.metadata.get("metrics") or {}
    if metrics:
        info["model_metrics"] = {k: metrics.get(k) for k in ("SA", "Pred25", "coverage") if k in metrics}
    factor = None
    if spec.quantity == "cost":
        info["compared_as"], factor = "cost", 1.0
    elif spec.quantity == "effort" and spec.unit_rate is not None:
        info["compared_as"], factor = "cost", spec.unit_rate
        info["unit_rate"] = spec.unit_rate
    elif spec.quantity == "effort":
        info["note"] = (f"top-down effort{f' in {unit}' if unit else ''} is not compared with the bottom-up cost: add "
                        f"'unit_rate' (cost per {unit or 'model unit'}) to the top_down section")
    else:
        per_day = unit_per_working_day(unit)
        if per_day is None:
            info["note"] = (f"the model's durations are in {unit!r}, not a time unit pmrisk converts to working days"
                            if unit else "the model file does not say its duration unit; add 'unit: months' (or "
                            "days, weeks) to the top_down section")
        else:
            info["compared_as"], factor = "duration", 1.0 / per_day
    if factor is not None:
        info["top_down"] = {k: v * factor for k, v in info["predicted"].items()}
    return info


def as_top_down(value: Any, project: Any) -> dict[str, Any] | None:
    """What ``simulate(..., top_down=value)`` means: None (the project's own section, if any), False
    (none), a mapping (as a ``top_down:`` section) or a :class:`TopDownSpec`; returns the resolved facts."""
    if value is False:
        return None
    if value is None or value is True:
        from pmrisk.calibration import own_section

        spec = own_section(value, project, "top_down", "top_down")
        return None if spec is None else resolve_top_down(spec)
    if isinstance(value, TopDownSpec):
        return resolve_top_down(value)
    if isinstance(value, dict):
        return resolve_top_down(parse_top_down(value))
    if isinstance(value, str | os.PathLike):
        return resolve_top_down(parse_top_down({"model": os.fspath(value)}))
    raise TypeError(f"top_down must be None, False, a mapping like the 'top_down:' section or a TopDownSpec, "
                    f"not {type(value).__name__}")


def compare(info: dict[str, Any], durations: np.ndarray, costs: np.ndarray, has_costs: bool,
            currency: str | None = None) -> dict[str, Any]:
    """The ``summary()["top_down"]`` entry: the model's forecast and, where comparable, the bottom-up
    P-levels of the same quantity, the ratio bottom-up / top-down and the optimism-gap flag."""
    from pmrisk.results import quantile

    out = dict(info)
    kind = out.get("compared_as")
    if kind == "cost" and not has_costs:
        out["compared_as"] = kind = None
        out.pop("top_down", None)
        out["note"] = "the project has no costs to compare the top-down cost with"
    if kind is None:
        return out
    out["compared_unit"] = "working days" if kind == "duration" else currency
    values = durations if kind == "duration" else costs
    td = out["top_down"]
    bu = {f"P{lv}": quantile(values, lv / 100) for lv in LEVELS}
    out["bottom_up"] = bu
    out["ratio"] = {p: (bu[p] / td[p] if td[p] > 0 else None) for p in ("P50", "P80")}
    out["optimism_gap"] = bool(bu["P80"] < td["P50"])
    if out["optimism_gap"]:
        what = "duration" if kind == "duration" else "cost"
        out["warning"] = (f"the bottom-up P80 {what} ({_fmt(bu['P80'], kind)}) is below the top-down P50 "
                          f"({_fmt(td['P50'], kind)}): on {out['n']} past projects, the model gives a better than even "
                          "chance of exceeding this plan's 80% figure. Check the scope and the estimates.")
    return out


def _fmt(x: float, kind: str) -> str:
    return f"{x:,.1f} working days" if kind == "duration" else f"{x:,.0f}"
