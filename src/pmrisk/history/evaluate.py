"""Cross-validated accuracy and calibration of history models, measured the way the literature does.

Accuracy: MAE, MdAE, MMRE (for reference only: it rewards underestimates), Pred(25), Shepperd and
MacDonell's standardized accuracy ``SA = 1 - MAE / MAE_p0`` against the *exact* expected MAE of random
guessing, and the effect size ``Delta = (MAE_p0 - MAE) / s_p0``. Calibration: the share of held-out
projects inside the central P50/P80/P90 intervals and the median ratio upper/lower of those intervals.

Cross-validation: leave-one-out, repeated K-fold (seeded by ``rng``) or folds given by the user (the
published 3-fold splits). Each fold refits the whole model, conformal calibration included, on the
training rows only, so intervals are as out-of-sample as the point predictions.

Examples
--------
>>> import numpy as np
>>> from pmrisk.history.models import ATLM
>>> rng = np.random.default_rng(0)
>>> size = rng.lognormal(5, 1, 30)
>>> effort = 4 * size * rng.lognormal(0, 0.3, 30)
>>> report = evaluate(ATLM(), size[:, None], effort, cv=5, repeats=2, rng=1, features=["Size"], target="Effort")
>>> report["cv"], report["features"], sorted(report["metrics"]["coverage"])
(5, ['Size'], ['P50', 'P80', 'P90'])
>>> standardized_accuracy([1.0, 2.0, 4.0], [1.0, 2.0, 4.0])
1.0
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import KFold
from sklearn.utils import _safe_indexing

from pmrisk.history.models import ConformalRegressor, check_target

#: Central intervals reported by :func:`evaluate`, by P-level name.
INTERVALS = {"P50": 0.5, "P80": 0.8, "P90": 0.9}


# --------------------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------------------

def _pair(actual: Any, predicted: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(actual, dtype=float).reshape(-1)
    p = np.asarray(predicted, dtype=float).reshape(-1)
    if y.shape != p.shape:
        raise ValueError(f"actual and predicted differ in length ({y.size} and {p.size}).")
    return y, p


def _abs_diff_sums(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every i: sum over j of |y_i - y_j| and of (y_i - y_j)^2 (O(n log n))."""
    order = np.argsort(y, kind="stable")
    s = y[order]
    n = s.size
    k = np.arange(n)
    before = np.concatenate([[0.0], np.cumsum(s)[:-1]])
    after = s.sum() - before - s
    absum = np.empty(n)
    absum[order] = s * k - before + after - s * (n - 1 - k)
    sqsum = n * y ** 2 - 2 * y * y.sum() + np.sum(y ** 2)
    return absum, sqsum


def mae_random_guessing(actual: Any) -> float:
    """Exact expected MAE of random guessing, ``MAE_p0`` (Shepperd and MacDonell 2012).

    Random guessing predicts project ``i`` by the actual of another project ``j != i`` drawn at random, so
    ``MAE_p0 = 1/n sum_i 1/(n-1) sum_{j != i} |y_i - y_j|``: the closed form of Langdon et al. (2016)
    in place of the 1,000 simulated runs of the original paper. (Langdon et al. also let ``j = i``, which
    multiplies this by ``(n-1)/n``.)

    Examples
    --------
    >>> mae_random_guessing([1.0, 2.0, 4.0])
    2.0
    """
    y = np.asarray(actual, dtype=float).reshape(-1)
    if y.size < 2:
        raise ValueError("Random guessing needs at least 2 projects.")
    return float(_abs_diff_sums(y)[0].sum() / (y.size * (y.size - 1)))


def sd_random_guessing(actual: Any) -> float:
    """Exact standard deviation of the MAE of one random-guessing run (``s_p0`` of the effect size)."""
    y = np.asarray(actual, dtype=float).reshape(-1)
    if y.size < 2:
        raise ValueError("Random guessing needs at least 2 projects.")
    absum, sqsum = _abs_diff_sums(y)
    mean_i = absum / (y.size - 1)
    var_i = np.maximum(sqsum / (y.size - 1) - mean_i ** 2, 0.0)
    return float(np.sqrt(var_i.sum()) / y.size)


def standardized_accuracy(actual: Any, predicted: Any) -> float:
    """``SA = 1 - MAE / MAE_p0``: 1 for perfect predictions, about 0 for random guessing.

    Examples
    --------
    >>> standardized_accuracy([1.0, 2.0, 4.0], [2.0, 2.0, 2.0])
    0.5
    """
    y, p = _pair(actual, predicted)
    return float(1.0 - np.mean(np.abs(y - p)) / mae_random_guessing(y))


def effect_size(actual: Any, predicted: Any) -> float:
    """Glass's ``Delta = (MAE_p0 - MAE) / s_p0``; above 0.8 is a large improvement on random guessing."""
    y, p = _pair(actual, predicted)
    return float((mae_random_guessing(y) - np.mean(np.abs(y - p))) / sd_random_guessing(y))


def pred(actual: Any, predicted: Any, level: float = 0.25) -> float:
    """``Pred(level)``: the share of projects whose relative error ``|y - p| / y`` is at most ``level``.

    Examples
    --------
    >>> pred([100.0, 100.0], [120.0, 150.0])
    0.5
    """
    y, p = _pair(actual, predicted)
    return float(np.mean(np.abs(y - p) <= level * np.abs(y)))


def accuracy(actual: Any, predicted: Any) -> dict[str, float]:
    """MAE, MdAE, SA, Pred25, MMRE, MdMRE and the effect size of point predictions."""
    y, p = _pair(actual, predicted)
    err = np.abs(y - p)
    with np.errstate(divide="ignore", invalid="ignore"):
        mre = err / np.abs(y)
    return {"MAE": float(err.mean()), "MdAE": float(np.median(err)), "SA": standardized_accuracy(y, p),
            "Pred25": pred(y, p), "MMRE": float(np.mean(mre)), "MdMRE": float(np.median(mre)),
            "effect_size": effect_size(y, p)}


def interval_coverage(actual: Any, lower: Any, upper: Any) -> float:
    """Share of actuals inside ``[lower, upper]`` (ends included)."""
    y = np.asarray(actual, dtype=float)
    return float(np.mean((np.asarray(lower) <= y) & (y <= np.asarray(upper))))


def width_ratio(lower: Any, upper: Any) -> float:
    """Median of ``upper / lower``: how many times the top of a typical interval exceeds its bottom."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.median(np.asarray(upper, dtype=float) / np.asarray(lower, dtype=float)))


# --------------------------------------------------------------------------------------------------
# cross-validation
# --------------------------------------------------------------------------------------------------

def cv_splits(n: int, cv: Any = "loo", repeats: int | None = None, rng: Any = None
              ) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Train/test index pairs, grouped by repeat.

    Parameters
    ----------
    n : int
        Number of rows.
    cv : "loo", int or array-like
        ``"loo"``: leave-one-out; an int ``K``: K-fold, reshuffled for each repeat; a sequence of ``n``
        fold labels (rows with the same label are tested together); or a sequence of ``(train, test)``
        index pairs (the published splits).
    repeats : int, optional
        Repeats of K-fold (default 10); leave-one-out and given folds are done once.
    rng : int, numpy.random.Generator or None
        Seeds the K-fold shuffles.

    Examples
    --------
    >>> [len(r) for r in cv_splits(6, 3, repeats=2, rng=0)]
    [3, 3]
    >>> [test.tolist() for _, test in cv_splits(4, [0, 1, 0, 1])[0]]
    [[0, 2], [1, 3]]
    """
    if isinstance(cv, str):
        if cv != "loo":
            raise ValueError(f"cv must be 'loo', a number of folds, fold labels or (train, test) pairs; got {cv!r}.")
        idx = np.arange(n)
        return [[(np.delete(idx, i), idx[i:i + 1]) for i in range(n)]]
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        if not 2 <= cv <= n:
            raise ValueError(f"cv={cv} folds is impossible with {n} rows; use 2 to {n} folds or 'loo'.")
        gen = np.random.default_rng(rng)
        out = []
        for _ in range(10 if repeats is None else int(repeats)):
            folds = KFold(n_splits=int(cv), shuffle=True, random_state=int(gen.integers(2 ** 32 - 1)))
            out.append([(tr, te) for tr, te in folds.split(np.zeros((n, 1)))])
        return out
    if hasattr(cv, "split"):  # a scikit-learn splitter
        return [[(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(np.zeros((n, 1)))]]
    items = list(cv) if isinstance(cv, Iterable) else []
    if not items:
        raise ValueError(f"cv must be 'loo', a number of folds, fold labels or (train, test) pairs; got {cv!r}.")
    if isinstance(items[0], (tuple, list)) and len(items[0]) == 2 and np.ndim(items[0][0]) == 1:
        return [[(np.asarray(tr, dtype=int), np.asarray(te, dtype=int)) for tr, te in items]]
    labels = np.asarray(items)
    if labels.shape != (n,):
        raise ValueError(f"cv as fold labels needs one label per row ({n}); got shape {labels.shape}.")
    idx = np.arange(n)
    return [[(idx[labels != f], idx[labels == f]) for f in pd.unique(labels)]]


def _with_seed(model: Any, gen: np.random.Generator) -> Any:
    """A clone whose unset ``random_state`` parameters are drawn from ``gen`` (reproducible CV+ folds)."""
    model = clone(model)
    seeds = {k: int(gen.integers(2 ** 31 - 1)) for k, v in model.get_params(deep=True).items()
             if (k == "random_state" or k.endswith("__random_state")) and v is None}
    return model.set_params(**seeds) if seeds else model


def cross_predict(model: Any, X: Any, y: Any, *, cv: Any = "loo", repeats: int | None = None, rng: Any = None,
                  intervals: dict[str, float] | None = None) -> pd.DataFrame:
    """Out-of-sample predictions and intervals for every row, as a tidy DataFrame.

    ``model`` is refitted on each training part (a model without ``predict_interval`` is first wrapped in
    :class:`~pmrisk.history.models.ConformalRegressor`, so its calibration is nested in the fold).

    Returns
    -------
    pandas.DataFrame
        One row per (repeat, held-out project): ``repeat``, ``fold``, ``row`` (position in ``X``),
        ``actual``, ``predicted`` (P50) and ``lower_P80``/``upper_P80`` etc. for every interval.
    """
    intervals = INTERVALS if intervals is None else intervals
    model = model if hasattr(model, "predict_interval") else ConformalRegressor(model)
    y = check_target(y, positive=False, model="evaluate").reshape(-1)
    gen = np.random.default_rng(rng)
    splits = cv_splits(len(y), cv, repeats, gen)
    model = _with_seed(model, gen)
    rows = []
    for r, folds in enumerate(splits):
        for f, (train, test) in enumerate(folds):
            fitted = clone(model).fit(_safe_indexing(X, train), y[train])
            Xt = _safe_indexing(X, test)
            out: dict[str, Any] = {"repeat": r, "fold": f, "row": test, "actual": y[test]}
            if hasattr(fitted, "predict_distribution"):
                dist = fitted.predict_distribution(Xt)
                out["predicted"] = dist.median()
                for name, c in intervals.items():
                    out[f"lower_{name}"], out[f"upper_{name}"] = dist.interval(c)
            else:
                out["predicted"] = fitted.predict(Xt)
                for name, c in intervals.items():
                    out[f"lower_{name}"], out[f"upper_{name}"] = fitted.predict_interval(Xt, coverage=c)
            rows.append(pd.DataFrame(out))
    return pd.concat(rows, ignore_index=True)


def summarize(predictions: pd.DataFrame, y: Any = None) -> dict[str, Any]:
    """Metrics of :func:`cross_predict` output: per repeat, then averaged over repeats.

    ``SA`` and the effect size use random guessing over ``y`` (default: the held-out actuals of a repeat).
    """
    y_all = None if y is None else np.asarray(y, dtype=float).reshape(-1)
    names = [c[len("lower_"):] for c in predictions.columns if c.startswith("lower_")]
    per_repeat = []
    for _, part in predictions.groupby("repeat", sort=True):
        actual, predicted = part["actual"].to_numpy(), part["predicted"].to_numpy()
        m: dict[str, Any] = accuracy(actual, predicted)
        if y_all is not None:
            err = float(np.mean(np.abs(actual - predicted)))
            m["SA"] = 1.0 - err / mae_random_guessing(y_all)
            m["effect_size"] = (mae_random_guessing(y_all) - err) / sd_random_guessing(y_all)
        m["coverage"] = {k: interval_coverage(actual, part[f"lower_{k}"], part[f"upper_{k}"]) for k in names}
        m["interval_width_ratio"] = {k: width_ratio(part[f"lower_{k}"], part[f"upper_{k}"]) for k in names}
        per_repeat.append(m)
    return _average(per_repeat)


def _average(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in items[0].items():
        if isinstance(value, dict):
            out[key] = _average([it[key] for it in items])
        else:
            out[key] = float(np.mean([it[key] for it in items]))
    return out


def evaluate(model: Any, X: Any, y: Any, *, cv: Any = "loo", repeats: int | None = None, rng: Any = None,
             target: str | None = None, features: Sequence[str] | None = None) -> dict[str, Any]:
    """Cross-validate a history model: the JSON of ``pmrisk history evaluate``.

    Parameters
    ----------
    model : regressor
        A history model (see :mod:`pmrisk.history.models`); one without ``predict_interval`` is wrapped in
        :class:`~pmrisk.history.models.ConformalRegressor`, calibrated inside each training fold.
    X : array-like or DataFrame, shape (n, p)
        Features known before each project started.
    y : array-like
        Actual effort, cost or duration.
    cv : "loo", int or array-like, default "loo"
        Leave-one-out, ``K`` folds repeated ``repeats`` times, fold labels or ``(train, test)`` pairs
        (see :func:`cv_splits`).
    repeats : int, optional
        Repeats of K-fold (default 10).
    rng : int, numpy.random.Generator or None
        Seeds the folds and any randomness of the model.
    target, features : str, sequence of str, optional
        Names reported (default: taken from ``y`` and ``X`` when they are pandas objects).

    Returns
    -------
    dict
        ``{"n", "target", "features", "cv", "repeats", "model", "metrics": {"MAE", "MdAE", "SA", "Pred25",
        "MMRE", "MdMRE", "effect_size", "coverage": {"P50", "P80", "P90"}, "interval_width_ratio": {...}}}``,
        plain JSON-able values; metrics are averaged over repeats, and ``SA`` compares with random guessing
        over all of ``y``.
    """
    n = len(y)
    gen = np.random.default_rng(rng)
    predictions = cross_predict(model, X, y, cv=cv, repeats=repeats, rng=gen)
    metrics = summarize(predictions, np.asarray(y, dtype=float))
    if features is None:
        features = [str(c) for c in X.columns] if hasattr(X, "columns") else [f"x{j}" for j in range(np.shape(X)[1])]
    if target is None:
        target = str(y.name) if getattr(y, "name", None) is not None else "y"
    if isinstance(cv, str) or (isinstance(cv, (int, np.integer)) and not isinstance(cv, bool)):
        label: Any = cv if isinstance(cv, str) else int(cv)
    else:
        label = "folds"
    n_repeats = int(predictions["repeat"].max()) + 1
    return {"n": int(n), "target": target, "features": list(features), "cv": label, "repeats": n_repeats,
            "n_folds": int(predictions["fold"].max()) + 1, "model": _describe(model), "metrics": metrics}


def _describe(model: Any) -> str:
    """A short model name such as ``ConformalRegressor(LogRidge)``."""
    inner = getattr(model, "estimator", None)
    if isinstance(model, ConformalRegressor):
        return f"ConformalRegressor({type(inner).__name__ if inner is not None else 'LogRidge'})"
    return f"ConformalRegressor({type(model).__name__})" if not hasattr(model, "predict_interval") \
        else type(model).__name__
