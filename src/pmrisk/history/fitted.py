"""Fitted history models as files: fit on past projects, save with their provenance, open safely, predict.

``pmrisk history fit`` writes a model file (JSON, :mod:`pmrisk.history.persist`: no pickle, and loading
never executes code) whose ``metadata`` says what the model was learned from and what it predicts::

    {"dataset": "desharnais", "files": [{"path": "desharnais/desharnais.arff", "sha256": "347b..."}],
     "target": "Effort", "unit": "person-hours", "estimate": null, "estimate_unit": null,
     "inputs": ["Transactions", "Entities", ...], "categorical": [], "post_project": ["Length", ...],
     "n": 77, "kind": "logridge", "model": "ConformalRegressor(LogRidge)", "fitted_at": "2027-...Z",
     "pmrisk_version": "0.1.0", "cv": "loo", "metrics": {"MAE": ..., "SA": ..., "coverage": {...}}}

A :class:`FittedModel` is such a file opened: ``predict([{"Transactions": 120, ...}])`` gives the
model's :class:`~pmrisk.history.models.PredictiveDistribution` for each row of named inputs. The
simulation uses these files in two ways: an estimate-aware model as a per-task overrun driver
(:mod:`pmrisk.calibration`, ``calibration: {model: ...}``), and any model as a top-down check of the
whole project (:mod:`pmrisk.topdown`).

Examples
--------
>>> import pathlib, tempfile
>>> import numpy as np
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> rng = np.random.default_rng(0)
>>> est = rng.lognormal(3, 1, 40)
>>> rows = "".join(f"{e:.3f},{1.2 * e * r:.3f}\\n" for e, r in zip(est, rng.lognormal(0, 0.2, 40)))
>>> _ = (folder / "tasks.csv").write_text("planned_h,actual_h\\n" + rows)
>>> fitted = fit_history_model(str(folder / "tasks.csv"), "actual_h", estimate="planned_h", unit="hours", cv=None)
>>> fitted.kind, fitted.inputs, fitted.unit, fitted.n
('estimate-aware', ['planned_h'], 'hours', 40)
>>> fitted.save(folder / "overrun.json")
>>> again = open_model(folder / "overrun.json")
>>> q = again.predict([{"planned_h": 10.0}]).quantiles([0.5])[0, 0]
>>> bool(10 < q < 14)
True
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pmrisk.errors import PmriskError

#: ``--model`` names and the estimators they fit (each inside a ConformalRegressor).
MODEL_KINDS = ("atlm", "logridge", "estimate-aware")
#: Working days in a month, for durations and efforts in months (260 working days a year).
WORKING_DAYS_PER_MONTH = 260 / 12


class ModelFileError(PmriskError, ValueError):
    """A model file cannot be used as asked (missing, not a pmrisk model, tampered, wrong inputs)."""


def unit_per_working_day(unit: str | None, hours_per_day: float = 8.0) -> float | None:
    """How many of ``unit`` one working day (of one person) makes: hours -> ``hours_per_day``, days -> 1,
    weeks -> 1/5, months -> 12/260; None for a unit that is not a time (a currency, function points).

    Examples
    --------
    >>> unit_per_working_day("person-hours"), round(1 / unit_per_working_day("months"), 2), unit_per_working_day("EUR")
    (8.0, 21.67, None)
    """
    u = (unit or "").strip().lower()
    if "hour" in u or u in ("h", "hr", "hrs"):
        return float(hours_per_day)
    if "month" in u:
        return 1.0 / WORKING_DAYS_PER_MONTH
    if "week" in u:
        return 0.2
    if "day" in u or u in ("d", "wd"):
        return 1.0
    return None


def _label(value: Any) -> str:
    """A category as the loaders store it (1.0 -> '1')."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass(frozen=True)
class FittedModel:
    """A fitted history model (a :class:`~pmrisk.history.models.ConformalRegressor`) with its metadata."""

    model: Any
    metadata: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    # ---- facts --------------------------------------------------------------------------------
    @property
    def inputs(self) -> list[str]:
        """The columns the model reads, in order (the team's estimate first for an estimate-aware model)."""
        names = getattr(self.model, "feature_names_in_", None)
        if names is not None:
            return [str(s) for s in names]
        return [f"x{j}" for j in range(int(self.model.n_features_in_))]

    @property
    def categorical(self) -> list[str]:
        idx = getattr(self.model, "categorical_features_", [])
        return [self.inputs[j] for j in idx]

    @property
    def kind(self) -> str:
        base = type(getattr(self.model, "estimator_", self.model)).__name__
        return {"ATLM": "atlm", "LogRidge": "logridge", "EstimateAware": "estimate-aware"}.get(base, base)

    @property
    def name(self) -> str:
        base = type(getattr(self.model, "estimator_", self.model)).__name__
        return f"ConformalRegressor({base})"

    @property
    def n(self) -> int:
        """Past projects (or tasks) the predictive distribution is built from."""
        return int(np.size(self.model.residuals_))

    @property
    def target(self) -> str | None:
        return self.metadata.get("target")

    @property
    def unit(self) -> str | None:
        return self.metadata.get("unit")

    @property
    def estimate(self) -> str | None:
        """The input holding the team's estimate (estimate-aware models)."""
        if self.kind == "estimate-aware":
            inner = self.model.estimator_
            return self.inputs[int(inner.estimate_index_)]
        return self.metadata.get("estimate")

    @property
    def source(self) -> str:
        """Where it learned: the dataset name or the history file."""
        files = self.metadata.get("files") or []
        return str(self.metadata.get("dataset") or (files[0]["path"] if files else "unknown data"))

    # ---- saving and predicting ----------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model and its metadata (:func:`pmrisk.history.persist.save_model`)."""
        from pmrisk.history.persist import save_model

        save_model(self.model, path, self.metadata)

    def frame(self, rows: Sequence[Mapping[str, Any]]) -> Any:
        """A DataFrame of ``rows`` (mappings of input name to value) as the model reads it; a missing
        value becomes NaN (numeric inputs: the training median)."""
        import pandas as pd

        cat = set(self.categorical)
        data: dict[str, Any] = {}
        for c in self.inputs:
            vals = [r.get(c) for r in rows]
            if c in cat:
                data[c] = pd.Series([None if v is None or (isinstance(v, float) and math.isnan(v))
                                     else _label(v) for v in vals], dtype=object)
            else:
                data[c] = pd.Series([np.nan if v is None else decimal_year(v) for v in vals], dtype=float)
        return pd.DataFrame(data)

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> Any:
        """The predictive distribution (:class:`~pmrisk.history.models.PredictiveDistribution`) of each row."""
        return self.model.predict_distribution(self.frame(rows))

    def check_inputs(self, given: Mapping[str, Any], *, skip: Sequence[str] = ()) -> dict[str, Any]:
        """``given`` checked against the model's inputs (see :func:`check_inputs`)."""
        return check_inputs(given, self.inputs, self.categorical, self.metadata, skip=skip)


def check_inputs(given: Mapping[str, Any], inputs: Sequence[str], categorical: Sequence[str],
                 metadata: Mapping[str, Any], *, skip: Sequence[str] = ()) -> dict[str, Any]:
    """Check named inputs for a model: no post-project column, no unknown or missing input, numbers where
    the model wants numbers. ``skip``: inputs supplied elsewhere (a task's estimate). Returns the values,
    numbers as float and categories as text; raises :class:`ModelFileError` naming what is wrong."""
    post = [str(c) for c in metadata.get("post_project") or []]
    src = metadata.get("dataset") or "the history"
    for name in given:
        if str(name) in post and str(name) not in inputs:
            raise ModelFileError(f"feature {name!r} is known only after a project has ended ({src} marks it "
                                 "post-project); a forecast can use only what is known at the start. Remove it.")
    unknown = [str(k) for k in given if str(k) not in inputs or str(k) in skip]
    if unknown:
        raise ModelFileError(f"unknown feature {unknown[0]!r}: the model reads {', '.join(inputs)}"
                             + (f" ({', '.join(skip)} comes from each task)" if skip else "") + ".")
    missing = [c for c in inputs if c not in given and c not in skip]
    if missing:
        raise ModelFileError(f"missing feature{'s' if len(missing) > 1 else ''} {', '.join(missing)}: the model "
                             f"reads {', '.join(inputs)}; give a value for each.")
    out: dict[str, Any] = {}
    dates = metadata.get("dates") or []
    for k, v in given.items():
        if k in categorical:
            out[str(k)] = _label(v)
            continue
        if k in dates and not isinstance(v, (int, float)):
            try:
                out[str(k)] = decimal_year(v)
            except (TypeError, ValueError):
                raise ModelFileError(f"feature {k!r}: give a date (2027-03-01) or a decimal year, not {v!r}.") from None
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise ModelFileError(f"feature {k!r}: give a number, not {v!r}.")
        try:
            out[str(k)] = float(v)
        except ValueError:
            raise ModelFileError(f"feature {k!r}: give a number, not {v!r}.") from None
        if not math.isfinite(out[str(k)]):
            raise ModelFileError(f"feature {k!r}: give a finite number, not {v!r}.")
    return out


def _missing(path: Path) -> ModelFileError:
    return ModelFileError(f"{path}: no such model file. Fit one with 'pmrisk history fit DATA --target COLUMN "
                          f"--out {path.name}'.")


def open_model(path: str | os.PathLike[str]) -> FittedModel:
    """Open a model file written by ``pmrisk history fit`` (plain JSON; nothing in it is executed).

    Raises :class:`ModelFileError` for a missing file, a file that is not a pmrisk model (not JSON, an
    unknown type, a model without predictive distributions) or one edited after it was saved.
    """
    from pmrisk.history.models import ConformalRegressor
    from pmrisk.history.persist import load_model_file

    p = Path(path)
    if not p.is_file():
        raise _missing(p)
    try:
        model, meta = load_model_file(p)
    except ValueError as exc:
        raise ModelFileError(str(exc)) from None
    except OSError as exc:
        raise ModelFileError(f"{p}: {exc.strerror}") from None
    if not isinstance(model, ConformalRegressor) or not hasattr(model, "residuals_"):
        what = type(model).__name__ + ("" if hasattr(model, "n_features_in_") else " (not fitted)")
        raise ModelFileError(f"{p}: holds a {what}, not a fitted model with predictive distributions. Fit it "
                             "with 'pmrisk history fit', which wraps the model in ConformalRegressor.")
    return FittedModel(model=model, metadata=meta, path=str(p))


def peek_model(path: str | os.PathLike[str]) -> dict[str, Any]:
    """What a model file says about itself, without building the model: ``inputs``, ``categorical``,
    ``kind`` (from the stored model) and the ``metadata``. For checks when a project file is loaded."""
    from pmrisk.history.persist import FORMAT, model_checksum, read_model_json

    p = Path(path)
    if not p.is_file():
        raise _missing(p)
    try:
        data = read_model_json(p)
    except ValueError as exc:
        raise ModelFileError(str(exc)) from None
    except OSError as exc:
        raise ModelFileError(f"{p}: {exc.strerror}") from None
    body = data.get("model") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(body, dict):
        raise ModelFileError(f"{p}: not a pmrisk model file (write one with 'pmrisk history fit').")
    try:
        tampered = "model_sha256" in data and data["model_sha256"] != model_checksum(body)
    except (TypeError, ValueError):
        tampered = True
    if tampered:
        raise ModelFileError(f"{p}: the model does not match its checksum (model_sha256): the file was edited or "
                             "damaged after it was saved. Refit the model (pmrisk history fit).")
    state: dict[str, Any] = body["state"] if isinstance(body.get("state"), dict) else {}
    inner = (state.get("estimator_") or (body.get("params") or {}).get("estimator") or {})
    base = inner.get("type") if isinstance(inner, dict) else None
    if body.get("type") != "ConformalRegressor" or not state:
        raise ModelFileError(f"{p}: holds a {body.get('type')!r} model, not a fitted model with predictive "
                             "distributions. Fit it with 'pmrisk history fit'.")
    names = state.get("feature_names_in_") or [f"x{j}" for j in range(int(state.get("n_features_in_") or 0))]
    cats = [names[j] for j in state.get("categorical_features_") or [] if isinstance(j, int) and j < len(names)]
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    kind = {"ATLM": "atlm", "LogRidge": "logridge", "EstimateAware": "estimate-aware"}.get(str(base), str(base))
    return {"inputs": [str(s) for s in names], "categorical": cats, "kind": kind, "metadata": meta}


# --------------------------------------------------------------------------------------------
# fitting
# --------------------------------------------------------------------------------------------


def _base(kind: str, estimate: str | None) -> Any:
    from pmrisk.history.models import ATLM, EstimateAware, LogRidge

    if kind == "atlm":
        return ATLM()
    if kind == "logridge":
        return LogRidge()
    return EstimateAware(estimate=estimate if estimate is not None else 0)


def fit_history_model(data: str, target: str, *, features: Sequence[str] | None = None,
                      estimate: str | None = None, kind: str | None = None, cv: Any = "auto",
                      rng: int | None = 42, unit: str | None = None,
                      post_project: Sequence[str] = ()) -> FittedModel:
    """Fit a history model on past projects and describe it (the work of ``pmrisk history fit``).

    Parameters
    ----------
    data : str
        A shared dataset name or a CSV/Excel/ARFF file of past projects (or tasks).
    target : str
        The actual to predict (effort, cost, duration).
    features : sequence of str, optional
        Inputs known before a project starts (default: the dataset card's, or every other column of a file).
        A column the card marks as known only after the project ended is refused.
    estimate : str, optional
        The team's estimate of the target (default: the card's estimate of the target, if any; ``"none"``:
        do not use one). An estimate-aware model needs one.
    kind : {"atlm", "logridge", "estimate-aware"}, optional
        Default ``estimate-aware`` when there is an estimate, ``logridge`` otherwise.
    cv : "auto", "loo", int or None
        Cross-validation of the metrics stored with the model (:func:`pmrisk.history.evaluate.evaluate`):
        ``auto`` is leave-one-out up to 100 rows and 10 folds above; None skips it.
    rng : int, optional
        Seeds the folds (CV+ above 100 rows, and the cross-validation).
    unit : str, optional
        Unit of the target (and of the estimate) where the data do not say (a user's file).
    post_project : sequence of str
        Columns of a file known only after a project ended (never features).
    """
    import pmrisk
    from pmrisk.history.datasets import HistoryDataError, _sha256, load_dataset, load_history
    from pmrisk.history.models import ConformalRegressor
    from pmrisk.history.reference import resolve_source

    if kind is not None and kind not in MODEL_KINDS:
        raise HistoryDataError(f"model {kind!r}: choose one of {', '.join(MODEL_KINDS)}.")
    no_estimate = estimate is not None and estimate.strip().lower() == "none"
    asked_estimate = None if no_estimate else estimate
    source = resolve_source(data)
    feats = None if features is None else [f for f in features if f != asked_estimate]
    if isinstance(source, str):
        hd = load_dataset(source, target=target, features=feats)
        columns = hd.card["columns"]
        if asked_estimate is not None:
            if asked_estimate not in columns:
                raise HistoryDataError(f"dataset {source!r}: estimate column {asked_estimate!r} does not exist. "
                                       f"Columns: {', '.join(columns)}.")
            if asked_estimate in hd.post_project:
                raise HistoryDataError(f"dataset {source!r}: {asked_estimate!r} is known only after the project "
                                       "ended; it cannot be the estimate.")
        est = None if no_estimate else asked_estimate or hd.estimate
        files = [{"path": f"{hd.card['folder']}/{e['path']}", "sha256": e["sha256"]}
                 for e in hd.card["files"] if e.get("read")]
        dataset: str | None = source
    else:
        hd = load_history(source, target=target, features=feats, estimate=asked_estimate,
                          post_project=list(post_project))
        est = asked_estimate
        files = [{"path": str(source), "sha256": _sha256(Path(source))}]
        dataset = None
    kind = kind or ("estimate-aware" if est else "logridge")
    if kind == "estimate-aware" and not est:
        raise HistoryDataError(f"{data}: an estimate-aware model needs the team's estimate of {target!r}; name its "
                               "column with --estimate COLUMN (or choose --model logridge).")
    inputs = ([est] if est else []) + [f for f in hd.features if f != est]
    if not inputs:
        raise HistoryDataError(f"{data}: no feature columns to learn from; name them with --features A,B,...")
    frame = hd.frame
    X, y = frame[inputs].copy(), frame[target].astype(float)
    base = _base(kind, est)
    model = ConformalRegressor(base, random_state=rng)
    try:
        model.fit(X, y)
    except ValueError as exc:
        raise HistoryDataError(f"{data}: {exc}") from None
    report: dict[str, Any] | None = None
    folds: Any = None
    if cv is not None:
        from pmrisk.history.evaluate import evaluate

        folds = ("loo" if len(y) <= 100 else 10) if cv == "auto" else cv
        if isinstance(folds, int) and not 2 <= folds <= len(y):
            raise HistoryDataError(f"{data}: --cv {folds} folds is impossible with {len(y)} rows; use 2 to {len(y)} "
                                   "or 'loo'.")
        try:
            report = evaluate(ConformalRegressor(_base(kind, est), random_state=rng), X, y, cv=folds,
                              repeats=1 if cv == "auto" else None, rng=rng, target=target, features=inputs)
        except ValueError as exc:
            raise HistoryDataError(f"{data}: cross-validation failed: {exc}") from None
    unit = unit or hd.units.get(target)
    est_unit = (hd.units.get(est) if est else None) or (unit if est else None)
    gaps = X.isna()
    meta: dict[str, Any] = {
        "dataset": dataset, "files": files, "level": hd.card.get("level", "project"),
        "target": target, "unit": unit, "estimate": est, "estimate_unit": est_unit,
        "inputs": inputs, "features": [f for f in inputs if f != est],
        "categorical": [inputs[j] for j in model.categorical_features_],
        "dates": [c for c in inputs if _is_date(frame[c])],
        "post_project": [c for c in hd.post_project if c != target] + [target],
        "n": len(y), "dropped": dict(hd.dropped), "missing_values": int(gaps.sum().sum()),
        "kind": kind, "model": f"ConformalRegressor({type(base).__name__})",
        "method": model.method_, "seed": rng,
        "fitted_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "pmrisk_version": pmrisk.__version__,
        "cv": None if report is None else report["cv"], "repeats": None if report is None else report["repeats"],
        "metrics": None if report is None else _finite(report["metrics"]),
    }
    return FittedModel(model=model, metadata=meta)


def _is_date(series: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_datetime64_any_dtype(series))


def decimal_year(value: Any) -> float:
    """A date (or ISO text) as a decimal year, as the models read date inputs (2019-07-02 is about 2019.5).

    Examples
    --------
    >>> round(decimal_year("2019-07-02"), 3), decimal_year(2020.25)
    (2019.498, 2020.25)
    """
    import pandas as pd

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    ts = pd.Timestamp(value)
    return float(ts.year + (ts.dayofyear - 1) / 365.25)


def _finite(obj: Any) -> Any:
    """NaN and infinities become None (JSON has no NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj
