"""Save and load fitted history models as plain JSON: no pickle, and loading never executes code.

A model file holds the model's type (one of :data:`MODEL_TYPES`), its parameters and its fitted state
(coefficients, feature transforms, categories, residuals, feature names) as JSON numbers, strings and
lists. Loading parses JSON, checks the format, the version and the type against the list of known
models, and fills a new instance; an unknown type, a newer format or a malformed file is refused with
a message. Numbers round-trip exactly, so a loaded model predicts exactly what the saved one did.

Examples
--------
>>> import numpy as np
>>> from pmrisk.history.models import ConformalRegressor, LogRidge
>>> X = np.arange(1.0, 21.0)[:, None]
>>> model = ConformalRegressor(LogRidge()).fit(X, 3 * X[:, 0] ** 0.9 * np.exp(np.sin(X[:, 0]) / 5))
>>> again = from_dict(to_dict(model))
>>> bool(np.array_equal(again.predict_quantiles(X, [0.1, 0.9]), model.predict_quantiles(X, [0.1, 0.9])))
True
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from pmrisk.history.models import ATLM, ConformalRegressor, EstimateAware, LogRidge, _LogLinear

FORMAT = "pmrisk-model"
#: Version of the file layout written by :func:`save_model`; files of a higher version are refused.
FORMAT_VERSION = 1
#: The model types a file may name.
MODEL_TYPES: dict[str, type] = {cls.__name__: cls for cls in (ATLM, LogRidge, EstimateAware, ConformalRegressor)}

_COMMON = ("n_features_in_", "categorical_features_")


def to_dict(model: Any, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON-able description of a fitted (or unfitted) history model, with a format header.

    ``metadata`` (plain JSON data: the data it was fitted on, units, metrics, ...) is stored beside the
    model, with ``model_sha256``, the checksum of the model's canonical JSON, so that a model edited
    after it was saved is refused when loaded.
    """
    import pmrisk

    body = _model_to_dict(model)
    out = {"format": FORMAT, "format_version": FORMAT_VERSION, "pmrisk_version": pmrisk.__version__,
           "model": body, "model_sha256": model_checksum(body)}
    if metadata is not None:
        out["metadata"] = metadata
    return out


def model_checksum(body: Any) -> str:
    """sha256 of a model description's canonical JSON (sorted keys, no spaces)."""
    import hashlib

    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def from_dict(data: Any) -> Any:
    """A model from :func:`to_dict` output; raises ``ValueError`` for anything else."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"Not a pmrisk model file: expected a JSON object with \"format\": \"{FORMAT}\".")
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= FORMAT_VERSION:
        raise ValueError(f"This model file has format version {version!r}; this pmrisk reads versions 1 to "
                         f"{FORMAT_VERSION}. Upgrade pmrisk (written by pmrisk {data.get('pmrisk_version')!r}) "
                         "or refit the model.")
    checksum = data.get("model_sha256")
    if checksum is not None:
        try:
            same = checksum == model_checksum(data.get("model"))
        except (TypeError, ValueError):
            same = False
        if not same:
            raise ValueError("The model in this file does not match its checksum (model_sha256): the file was "
                             "edited or damaged after it was saved. Refit the model (pmrisk history fit).")
    try:
        return _model_from_dict(data.get("model"))
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"Malformed pmrisk model file ({type(exc).__name__}: {exc}). Refit and save the model "
                         "again.") from None


def save_model(model: Any, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None) -> None:
    """Write a fitted model (and optional JSON-able ``metadata``) to ``path`` as JSON."""
    text = json.dumps(to_dict(model, metadata), allow_nan=False, indent=1)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")


def load_model(path: str | os.PathLike[str]) -> Any:
    """Read a model written by :func:`save_model` (plain JSON; nothing in the file is executed)."""
    return load_model_file(path)[0]


def load_model_file(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """Read a model written by :func:`save_model` and its metadata (``{}`` when the file has none)."""
    data = read_model_json(path)
    try:
        model = from_dict(data)
    except ValueError as exc:
        raise ValueError(f"{os.fspath(path)}: {exc}") from None
    meta = data.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        raise ValueError(f"{os.fspath(path)}: the metadata must be a JSON object.")
    return model, dict(meta or {})


def read_model_json(path: str | os.PathLike[str]) -> Any:
    """The parsed JSON of a model file (nothing else is checked; see :func:`from_dict`)."""
    with open(path, encoding="utf-8") as fh:
        try:
            return json.load(fh)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{os.fspath(path)} is not valid JSON ({exc}); is it a pmrisk model file?") from None


# --------------------------------------------------------------------------------------------------

def _model_to_dict(model: Any) -> dict[str, Any]:
    cls: type = type(model)
    name = cls.__name__
    if MODEL_TYPES.get(name) is not cls:
        raise ValueError(f"Cannot save a {name}: only {sorted(MODEL_TYPES)} can be saved without pickle.")
    params = {k: (_model_to_dict(v) if k == "estimator" and v is not None else _plain(v))
              for k, v in model.get_params(deep=False).items()}
    out: dict[str, Any] = {"type": name, "params": params}
    if not hasattr(model, "n_features_in_"):
        return out
    state: dict[str, Any] = {k: _plain(getattr(model, k)) for k in _COMMON}
    names = getattr(model, "feature_names_in_", None)
    state["feature_names_in_"] = None if names is None else [str(s) for s in names]
    if isinstance(model, ATLM):
        state.update(log_target_=model.log_target_, model_=model.model_.to_dict())
    elif isinstance(model, LogRidge):
        state["models_"] = [m.to_dict() for m in model.models_]
    elif isinstance(model, EstimateAware):
        state.update({k: _plain(getattr(model, k)) for k in ("estimate_index_", "estimate_fill_",
                                                              "missing_indicator_", "elasticity_", "overrun_")})
        state["models_"] = [m.to_dict() for m in model.models_]
    elif isinstance(model, ConformalRegressor):
        state.update({k: _plain(getattr(model, k)) for k in ("log_space_", "floor_", "method_", "residuals_",
                                                              "fold_of_")})
        state["estimator_"] = _model_to_dict(model.estimator_)
        state["estimators_"] = [_model_to_dict(m) for m in model.estimators_]
    out["state"] = state
    return out


def _model_from_dict(d: Any) -> Any:
    if not isinstance(d, dict):
        raise ValueError("Malformed pmrisk model file: the model must be a JSON object.")
    name = d.get("type")
    cls = MODEL_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"Unknown model type {name!r} in the model file; known types: {sorted(MODEL_TYPES)}.")
    params = dict(d.get("params") or {})
    allowed = set(cls().get_params(deep=False))
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ValueError(f"Unknown parameter(s) {unknown} for {name} in the model file (known: {sorted(allowed)}).")
    for k, v in params.items():
        if k == "estimator" and v is not None:
            params[k] = _model_from_dict(v)
        elif not _is_plain(v):
            raise ValueError(f"Parameter {k!r} of {name} in the model file is not plain JSON data.")
    model = cls(**params)
    state = d.get("state")
    if state is None:
        return model
    model.n_features_in_ = int(state["n_features_in_"])
    model.categorical_features_ = [int(j) for j in state["categorical_features_"]]
    if state["feature_names_in_"] is not None:
        model.feature_names_in_ = np.asarray([str(s) for s in state["feature_names_in_"]], dtype=object)
    if cls is ATLM:
        model.log_target_ = bool(state["log_target_"])
        model.model_ = _LogLinear.from_dict(state["model_"])
    elif cls in (LogRidge, EstimateAware):
        model.models_ = [_LogLinear.from_dict(m) for m in state["models_"]]
        if cls is EstimateAware:
            model.estimate_index_ = int(state["estimate_index_"])
            model.missing_indicator_ = bool(state["missing_indicator_"])
            for k in ("estimate_fill_", "elasticity_", "overrun_"):
                setattr(model, k, float(state[k]))
    else:
        model.log_space_ = bool(state["log_space_"])
        model.floor_ = float(state["floor_"])
        model.method_ = str(state["method_"])
        model.residuals_ = np.asarray(state["residuals_"], dtype=float)
        model.fold_of_ = np.asarray(state["fold_of_"], dtype=int)
        model.estimator_ = _model_from_dict(state["estimator_"])
        model.estimators_ = [_model_from_dict(m) for m in state["estimators_"]]
        if model.fold_of_.shape != model.residuals_.shape or model.fold_of_.max() >= len(model.estimators_):
            raise ValueError("Malformed pmrisk model file: residuals, folds and fold models do not match.")
    return model


def _plain(v: Any) -> Any:
    """numpy scalars and arrays as Python numbers and lists."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _is_plain(v: Any) -> bool:
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    return isinstance(v, list) and all(_is_plain(x) for x in v)
