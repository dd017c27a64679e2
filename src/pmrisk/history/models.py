"""Estimators learned from past projects, with calibrated predictive distributions.

Every estimator is a scikit-learn regressor (``fit``/``predict``/``score``, clonable, checked with
``parametrize_with_checks``) that predicts effort, cost or duration from what is known before a project
starts.

==========================  =====================================================================
:class:`ATLM`               baseline: Whigham et al.'s automatically transformed linear model (OLS)
:class:`LogRidge`           log-log ridge regression, penalty chosen by exact leave-one-out error (default)
:class:`EstimateAware`      ``log(actual) = log(estimate) + a + b log(estimate) + ...``, shrunk towards
                            "the estimate times the typical overrun": it combines the team's own
                            estimate with history instead of replacing it
:class:`ConformalRegressor` wraps any of them with a jackknife+ / CV+ predictive distribution in log
                            space: ``predict_interval``, ``predict_quantiles``, ``predict_distribution``
==========================  =====================================================================

:func:`default_model` (``ConformalRegressor(LogRidge())``) is what ``pmrisk history evaluate`` uses. Its
``predict_distribution`` gives, for each new project, the jackknife+ sample of ``n`` equally likely values
(:class:`PredictiveDistribution`: quantiles, intervals, ``sample(size, rng)`` for the simulation).

Inputs are 2-D arrays or DataFrames. DataFrame columns of a non-numeric dtype (object, category, string)
are one-hot encoded (a level not seen in training encodes as all zeros); date columns become decimal
years (a trend, not one category per day). Missing values (NaN) in numeric
columns get the training median, taken after any log transform. A logged column that meets a value
``<= 0`` at prediction time uses the smallest value seen in training instead.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> size = rng.lognormal(5, 1, 60)
>>> effort = 3 * size ** 0.9 * rng.lognormal(0, 0.3, 60)
>>> model = ConformalRegressor(LogRidge()).fit(size[:, None], effort)
>>> lo, hi = model.predict_interval([[150.0]], coverage=0.8)
>>> bool(lo[0] < model.predict([[150.0]])[0] < hi[0])
True
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.model_selection import KFold
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import ThreadpoolController

from pmrisk.errors import PmriskWarning

MIN_ROWS = 5
#: Ridge penalties tried, relative to the number of rows (features are standardised first).
DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-3, 2, 21))
#: Above this many rows, ``method="auto"`` switches from jackknife+ to CV+.
JACKKNIFE_MAX_ROWS = 100


# --------------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------------

def _is_frame(X: Any) -> bool:
    return hasattr(X, "columns") and hasattr(X, "dtypes")


def _dates_as_years(X: Any) -> Any:
    """A DataFrame's date columns as decimal years (2019-07-02 is 2019.5; missing dates NaN); else ``X`` itself.

    A date known before the project starts (the start or estimate date) is a quantity, a trend in time,
    not a category with one level per day.
    """
    if not _is_frame(X):
        return X
    dates = [c for c, dt in X.dtypes.items() if pd.api.types.is_datetime64_any_dtype(dt)]
    if not dates:
        return X
    X = X.copy()
    for c in dates:
        col = X[c]
        X[c] = (col.dt.year + (col.dt.day_of_year - 1) / 365.25).astype(np.float64)
    return X


def _categorical_columns(X: Any) -> list[int]:
    """Positions of the DataFrame columns with a non-numeric dtype (none for arrays)."""
    if not _is_frame(X):
        return []
    return [i for i, dt in enumerate(X.dtypes) if not pd.api.types.is_numeric_dtype(dt)]


def check_target(y: Any, *, positive: bool, model: str = "this model") -> np.ndarray:
    """Check that a target is numeric, complete and, when logs are needed, strictly positive.

    Parameters
    ----------
    y : array-like
        The actual effort, cost or duration of the past projects.
    positive : bool
        Whether the model takes logarithms of the target.
    model : str
        The model's name, for the message.

    Returns
    -------
    numpy.ndarray
        The target as float64 (shape as given).

    Raises
    ------
    ValueError
        With a message that says what is wrong and how to fix it.

    Examples
    --------
    >>> check_target([1.0, "x"], positive=True)
    Traceback (most recent call last):
    ...
    ValueError: The target must be numeric (actual effort, cost or duration), but it holds 'x'. ...
    """
    if y is None:
        raise ValueError(f"{model} requires y to be passed, but the target y is None. Pass the actual effort, cost "
                         "or duration of the past projects.")
    arr = np.asarray(y)
    name = getattr(y, "name", None)
    where = f" column {name!r}" if isinstance(name, str) else ""
    if arr.dtype.kind in "mM":
        raise ValueError(f"The target{where} must be numeric (actual effort, cost or duration), but it holds dates "
                         "or time spans. Choose a numeric column as the target.")
    if arr.dtype.kind in "OSUV":
        cells = pd.Series(arr.ravel(), dtype=object)
        numeric = pd.to_numeric(cells, errors="coerce")
        bad = cells[numeric.isna() & cells.notna()]
        if len(bad):
            shown = bad.iloc[0].item() if isinstance(bad.iloc[0], np.generic) else bad.iloc[0]
            raise ValueError(f"The target{where} must be numeric (actual effort, cost or duration), but it holds "
                             f"{shown!r}. Choose a numeric column as the target, or clean it (units, thousands "
                             "separators, text such as 'n/a').")
        arr = np.asarray(numeric.to_numpy(np.float64, na_value=np.nan)).reshape(arr.shape)
    if arr.dtype.kind not in "biuf":
        return arr  # complex and other oddities: scikit-learn's own checks reject them
    arr = arr.astype(np.float64, copy=False)
    flat = arr.ravel()
    missing = np.flatnonzero(np.isnan(flat))
    if missing.size:
        raise ValueError(f"The target{where} has {missing.size} missing value(s) (rows {_rows(missing)}, counting "
                         "from 0). Drop those projects or fill in their actual values.")
    if positive:
        bad_rows = np.flatnonzero(flat <= 0)
        if bad_rows.size:
            raise ValueError(f"{model} works with logarithms and needs a strictly positive target{where}, but "
                             f"{bad_rows.size} row(s) are <= 0 (rows {_rows(bad_rows)} counting from 0, first value "
                             f"{flat[bad_rows[0]]:g}). Remove those projects, or use ATLM, which keeps such "
                             "a target on its own scale.")
    return arr


def _rows(idx: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(i)) for i in idx[:limit])
    return shown + (", ..." if idx.size > limit else "")


def _check_rows(n: int, model: str) -> None:
    if n < MIN_ROWS:
        raise ValueError(f"{model} needs at least {MIN_ROWS} past projects (rows) to learn from; got {n} "
                         f"sample{'' if n == 1 else 's'}. Add more history, or use a reference class of similar "
                         "projects from the shared datasets.")


_BLAS: list[ThreadpoolController] = []


def _one_blas_thread() -> Any:
    """Context keeping BLAS on one thread: these matrices are small, and several threads thrash on a busy machine
    (an SVD of 90 x 100 took 10x longer on two threads than on one)."""
    if not _BLAS:
        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


def _skewness(v: np.ndarray) -> float:
    d = v - v.mean()
    m2 = float(np.mean(d * d))
    return 0.0 if m2 <= 1e-300 else float(np.mean(d ** 3) / m2 ** 1.5)


# --------------------------------------------------------------------------------------------------
# features: one-hot, log, impute, standardise (fitted once, plain data so it can be saved as JSON)
# --------------------------------------------------------------------------------------------------

@dataclass
class _Design:
    """A fitted feature preparation (plain data, so it can be saved as JSON); ``raw`` applies it."""

    numeric: list[int]
    log: list[bool]
    floor: list[float]
    fill: list[float]
    categorical: list[int]
    categories: list[list[str]]
    names: list[str]
    shift: list[float] = dataclasses.field(default_factory=list)

    @classmethod
    def fit(cls, X: np.ndarray, categorical: list[int], names: list[str], *, log_rule: str,
            skew_threshold: float = 1.0, zeros: bool = False) -> _Design:
        """Learn from training rows ``X`` (float, or object when there are categories).

        ``log_rule`` is ``"positive"`` (log every strictly positive numeric column) or ``"skewed"`` (only
        those whose skewness exceeds ``skew_threshold``). With ``zeros``, a skewed column of non-negative
        values that holds zeros (counts such as "function points deleted"), under either rule, becomes
        ``log(x + c)``, ``c`` its smallest positive training value (``log(1 + x)`` for counts): left on its
        own scale, such a count in a log-target model grows the prediction exponentially with the count
        and explodes on the first project beyond the training range.
        """
        numeric = [j for j in range(X.shape[1]) if j not in categorical]
        raw = _numeric_block(X, numeric)
        log, floor, fill, shift = [], [], [], []
        for k in range(raw.shape[1]):
            v = raw[:, k][~np.isnan(raw[:, k])]
            varies = v.size > 0 and v.min() >= 0 and v.max() > v.min()
            skewed = varies and _skewness(v) > skew_threshold
            if varies and v.min() > 0:
                c, take = 0.0, log_rule == "positive" or skewed
            else:  # zeros: only a skewed column (a count with a long tail) is logged, shifted
                c, take = (float(v[v > 0].min()), True) if zeros and skewed else (0.0, False)
            log.append(bool(take))
            shift.append(c)
            floor.append(float(v.min()) + c if take else 0.0)
            t = np.log(v + c) if take else v
            fill.append(float(np.median(t)) if t.size else 0.0)
        cats = [sorted({s for s in _labels(X[:, j]) if s is not None}) for j in categorical]
        out = [(f"log({names[j]} + {c:g})" if c else f"log({names[j]})") if lg else names[j]
               for j, lg, c in zip(numeric, log, shift)]
        out += [f"{names[j]}={c}" for j, cs in zip(categorical, cats) for c in cs]
        return cls(numeric, log, floor, fill, list(categorical), cats, out, shift)

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Logged, imputed, one-hot features, shape ``(n_rows, len(names))``."""
        Z = _numeric_block(X, self.numeric)
        shift = self.shift or [0.0] * len(self.log)
        for k, take in enumerate(self.log):
            if take:
                col = Z[:, k] + shift[k]
                Z[:, k] = np.log(np.where(col <= 0, self.floor[k], col))
        Z = np.where(np.isnan(Z), np.asarray(self.fill), Z)
        blocks = [Z]
        for j, cs in zip(self.categorical, self.categories):
            labels = _labels(X[:, j])
            blocks.append(np.column_stack([labels == c for c in cs]).astype(float) if cs
                          else np.zeros((X.shape[0], 0)))
        return np.hstack(blocks)

    def to_dict(self) -> dict[str, Any]:
        out = {"numeric": self.numeric, "log": self.log, "floor": self.floor, "fill": self.fill,
               "categorical": self.categorical, "categories": self.categories, "names": self.names}
        if any(self.shift):
            out["shift"] = self.shift
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> _Design:
        return cls([int(j) for j in d["numeric"]], [bool(b) for b in d["log"]], [float(v) for v in d["floor"]],
                   [float(v) for v in d["fill"]], [int(j) for j in d["categorical"]],
                   [[str(c) for c in cs] for cs in d["categories"]], [str(s) for s in d["names"]],
                   [float(v) for v in d.get("shift", [])])


def _numeric_block(X: np.ndarray, cols: list[int]) -> np.ndarray:
    if not cols:
        return np.zeros((X.shape[0], 0))
    try:
        out = np.array(X[:, cols], dtype=np.float64)
    except (TypeError, ValueError):  # object columns holding None, pd.NA or numeric text
        out = np.column_stack([pd.to_numeric(pd.Series(X[:, j]), errors="raise").to_numpy(np.float64, na_value=np.nan)
                               for j in cols])
    if np.isinf(out).any():
        raise ValueError("Input X contains infinity; replace it with a finite value or leave the cell empty.")
    return out


def _labels(col: np.ndarray) -> np.ndarray:
    """Category labels as an object array of str, None where missing."""
    col = np.asarray(col, dtype=object)
    out = col.astype(str).astype(object)
    out[pd.isna(col)] = None
    return out


def _standardise(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    center = Z.mean(axis=0)
    sd = Z.std(axis=0)
    return center, np.where(sd > 1e-12 * np.maximum(1.0, np.abs(center)), sd, 1.0)


def _ridge(Z: np.ndarray, t: np.ndarray, alphas: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Ridge regression of ``t`` on ``Z`` with an unpenalised intercept, on the original scale of ``Z``.

    Columns are standardised, and the penalty (``alphas`` times the number of rows) minimising the exact
    leave-one-out mean squared error, from one SVD, is used. Returns ``(alpha, coef, intercept)``.
    """
    n, p = Z.shape
    tm = float(t.mean())
    if p == 0:
        return 0.0, np.zeros(0), tm
    center, scale = _standardise(Z)
    with _one_blas_thread():
        U, s, Vt = np.linalg.svd((Z - center) / scale, full_matrices=False)
        keep = s > 1e-10 * max(1.0, float(s[0]))
        U, s, Vt = U[:, keep], s[keep], Vt[keep]
        tc = t - tm
        Uty = U.T @ tc
        lam = np.asarray(alphas, dtype=float) * n
        d = s ** 2 / (s[None, :] ** 2 + lam[:, None])  # [A, r]: shrinkage of each component
        loo = (tc - (d * Uty) @ U.T) / np.maximum(1.0 - 1.0 / n - d @ (U ** 2).T, 1e-12)  # [A, n]
        best = int(np.argmin(np.mean(loo ** 2, axis=1)))
        coef = Vt.T @ (s / (s ** 2 + lam[best]) * Uty) / scale
    return float(alphas[best]), coef, tm - float(center @ coef)


@dataclass
class _LogLinear:
    """One fitted linear model: ``intercept + [extra, design.raw(X)] @ coef`` (the log target, or its offset)."""

    design: _Design
    coef: np.ndarray
    intercept: float
    alpha: float

    def predict_log(self, X: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
        Z = self.design.raw(X)
        if extra is not None:
            Z = np.hstack([extra, Z])
        return self.intercept + Z @ self.coef

    def to_dict(self) -> dict[str, Any]:
        return {"design": self.design.to_dict(), "coef": self.coef.tolist(), "intercept": self.intercept,
                "alpha": self.alpha}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> _LogLinear:
        return cls(_Design.from_dict(d["design"]), np.asarray(d["coef"], dtype=float).reshape(-1),
                   float(d["intercept"]), float(d["alpha"]))


_TRANSFORMS = {"positive": ("positive",), "skewed": ("skewed",), "both": ("positive", "skewed")}


def _fit_ridges(X: np.ndarray, t: np.ndarray, categorical: list[int], names: list[str], *, log_features: str,
                alphas: Any, extra: np.ndarray | None = None) -> list[_LogLinear]:
    """Ridge fits of ``t``, one per feature transform that ``log_features`` names (see :class:`LogRidge`)."""
    if log_features not in _TRANSFORMS:
        raise ValueError(f"log_features must be one of {sorted(_TRANSFORMS)}; got {log_features!r}.")
    grid = np.asarray(DEFAULT_ALPHAS if alphas is None else alphas, dtype=float).reshape(-1)
    if grid.size == 0 or not np.all(grid > 0):
        raise ValueError(f"alphas must be positive ridge penalties (relative to the number of rows); got {alphas!r}.")
    members = []
    for rule in _TRANSFORMS[log_features]:
        design = _Design.fit(X, categorical, names, log_rule=rule, zeros=True)
        Z = design.raw(X) if extra is None else np.hstack([extra, design.raw(X)])
        alpha, coef, intercept = _ridge(Z, t, grid)
        members.append(_LogLinear(design, coef, intercept, alpha))
    return members


# --------------------------------------------------------------------------------------------------
# estimators
# --------------------------------------------------------------------------------------------------

class _HistoryRegressor(RegressorMixin, BaseEstimator):
    """Common input handling of the history estimators.

    ``fit``/``predict`` validate the input once and call ``_fit``/``_predict`` on plain arrays (float, or
    object when a DataFrame had non-numeric columns); :class:`ConformalRegressor` calls those directly for
    its many refits. Subclasses set ``_needs_log_target``.
    """

    _needs_log_target = True

    def fit(self, X: Any, y: Any) -> Any:
        """Learn from past projects: ``X`` features known at the start, ``y`` the actual values."""
        X = _dates_as_years(X)
        categorical = _categorical_columns(X)
        check_target(y, positive=self._needs_log_target, model=type(self).__name__)
        X, y = validate_data(self, X, y, dtype=None if categorical else "numeric", y_numeric=True,
                             ensure_all_finite=False if categorical else "allow-nan")
        _check_rows(X.shape[0], type(self).__name__)
        self.categorical_features_ = categorical
        return self._fit(X, np.asarray(y, dtype=np.float64))

    def predict(self, X: Any) -> np.ndarray:
        """Point predictions: the median (for logged targets, ``exp`` of the mean log)."""
        check_is_fitted(self)
        X = _dates_as_years(X)
        cat = bool(self.categorical_features_)
        X = validate_data(self, X, reset=False, dtype=None if cat else "numeric",
                          ensure_all_finite=False if cat else "allow-nan")
        return self._predict(X)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> Any:
        raise NotImplementedError

    def _predict(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _names(self, n_features: int) -> list[str]:
        names = getattr(self, "feature_names_in_", None)
        return [str(s) for s in names] if names is not None else [f"x{j}" for j in range(n_features)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.target_tags.positive_only = self._needs_log_target
        return tags


class ATLM(_HistoryRegressor):
    """Automatically transformed linear model, the baseline of Whigham, Owen and MacDonell (2015).

    Ordinary least squares after automatic transforms: the target and every numeric feature that is
    strictly positive and right-skewed (sample skewness above ``skew_threshold``) are logged;
    non-numeric DataFrame columns are one-hot encoded; missing values get the training median.
    Predictions are back-transformed with ``exp`` (the median, not the mean, of a lognormal error).
    No tuning, deterministic: a baseline every other model must beat.

    Parameters
    ----------
    skew_threshold : float, default 1.0
        Skewness above which a strictly positive variable is logged.

    Attributes
    ----------
    log_target_ : bool
        Whether the target was logged.
    coef_, intercept_ : ndarray, float
        Coefficients on the transformed features named in ``feature_names_out_``.

    References
    ----------
    P. A. Whigham, C. A. Owen, S. G. MacDonell, "A baseline model for software effort estimation",
    ACM TOSEM 24(3), 2015.

    Examples
    --------
    >>> import numpy as np
    >>> size = np.array([50., 120, 80, 300, 40, 900, 200, 60])
    >>> model = ATLM().fit(size[:, None], 10 * size)
    >>> model.feature_names_out_, round(float(model.coef_[0]), 6), model.log_target_
    (['log(x0)'], 1.0, True)
    """

    _needs_log_target = False

    def __init__(self, skew_threshold: float = 1.0):
        self.skew_threshold = skew_threshold

    def _fit(self, X: np.ndarray, y: np.ndarray) -> ATLM:
        self.log_target_ = bool(y.min() > 0 and _skewness(y) > self.skew_threshold)
        t = np.log(y) if self.log_target_ else y
        design = _Design.fit(X, self.categorical_features_, self._names(X.shape[1]), log_rule="skewed",
                             skew_threshold=self.skew_threshold)
        Z = design.raw(X)
        center, scale = _standardise(Z)
        with _one_blas_thread():
            beta = np.linalg.lstsq(np.column_stack([np.ones(len(t)), (Z - center) / scale]), t, rcond=None)[0]
        coef = beta[1:] / scale
        self.model_ = _LogLinear(design, coef, float(beta[0] - coef @ center), 0.0)
        return self

    @property
    def coef_(self) -> np.ndarray:
        return self.model_.coef

    @property
    def intercept_(self) -> float:
        return self.model_.intercept

    @property
    def feature_names_out_(self) -> list[str]:
        return list(self.model_.design.names)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        t = self.model_.predict_log(X)
        return np.exp(t) if self.log_target_ else t


class LogRidge(_HistoryRegressor):
    """Log-log ridge regression, penalty chosen by exact leave-one-out error; the default history model.

    ``log(y)`` is regressed on the features with a ridge penalty (features standardised, intercept free)
    chosen among ``alphas`` by the exact leave-one-out squared error in log space (closed form, one SVD).
    Strictly positive numeric features are logged (so size gives a power law ``y = a * size**b``),
    non-numeric DataFrame columns are one-hot encoded and missing values get the training median. With
    ``log_features="both"`` (default) two such models are averaged in log space: one logging every strictly
    positive feature, one only the skewed ones (as ATLM does); on the public effort datasets the pair is
    at least as accurate as either alone and beats ATLM, whose unpenalised fit overfits small histories.

    Parameters
    ----------
    log_features : {"both", "positive", "skewed"}, default "both"
        Which numeric features are logged (see above).
    alphas : sequence of float, optional
        Penalties tried, relative to the number of rows; default :data:`DEFAULT_ALPHAS` (1e-3 ... 100).

    Attributes
    ----------
    models_ : list
        The fitted log-linear models (one per feature transform); ``coef_``, ``intercept_``, ``alpha_`` and
        ``feature_names_out_`` describe the first.

    Examples
    --------
    >>> import numpy as np
    >>> size = np.array([50., 120, 80, 300, 40, 900, 200, 60])
    >>> model = LogRidge(log_features="positive").fit(size[:, None], 10 * size ** 0.8)
    >>> round(float(model.coef_[0]), 2), model.feature_names_out_
    (0.8, ['log(x0)'])
    """

    def __init__(self, log_features: str = "both", alphas: Any = None):
        self.log_features = log_features
        self.alphas = alphas

    def _fit(self, X: np.ndarray, y: np.ndarray) -> LogRidge:
        self.models_ = _fit_ridges(X, np.log(y), self.categorical_features_, self._names(X.shape[1]),
                                   log_features=self.log_features, alphas=self.alphas)
        return self

    @property
    def coef_(self) -> np.ndarray:
        return self.models_[0].coef

    @property
    def intercept_(self) -> float:
        return self.models_[0].intercept

    @property
    def alpha_(self) -> float:
        return self.models_[0].alpha

    @property
    def feature_names_out_(self) -> list[str]:
        return list(self.models_[0].design.names)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return np.exp(np.mean([m.predict_log(X) for m in self.models_], axis=0))


class EstimateAware(_HistoryRegressor):
    """Combine the team's own estimate with history: ``log(actual/estimate)`` learned by ridge.

    The model is ``log(actual) = log(estimate) + a + b*log(estimate) + c @ other features`` with ``b`` and
    ``c`` shrunk towards zero by a ridge penalty chosen by exact leave-one-out error (other features are
    prepared as in :class:`LogRidge`, two transforms averaged). With strong shrinkage it is "the estimate
    times the typical historical overrun ``exp(a)``" (reference-class uplift); with weak shrinkage the
    estimate's elasticity ``1 + b`` and the other features correct it where history shows systematic
    errors (for example, big tasks overrun more). It never throws the estimate away.

    A row whose estimate is missing or ``<= 0`` gets the median training estimate and a missing-estimate
    indicator (added when training had such rows); a :class:`~pmrisk.errors.PmriskWarning` says so.

    Parameters
    ----------
    estimate : int or str, default 0
        The column holding the team's estimate (same unit as the target): a position, or a DataFrame
        column name.
    log_features : {"both", "positive", "skewed"}, default "both"
        How the other numeric features are logged (see :class:`LogRidge`).
    alphas : sequence of float, optional
        Penalties tried, relative to the number of rows; default :data:`DEFAULT_ALPHAS`.

    Attributes
    ----------
    elasticity_ : float
        ``1 + b``: how actuals scale with the estimate (1 = proportionally).
    overrun_ : float
        The actual/estimate ratio predicted at the median estimate, other features at their means.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> estimate = rng.lognormal(3, 1, 40)
    >>> actual = 1.3 * estimate * rng.lognormal(0, 0.2, 40)
    >>> model = EstimateAware().fit(estimate[:, None], actual)
    >>> round(model.overrun_, 1), round(model.elasticity_, 1)
    (1.3, 1.0)
    """

    def __init__(self, estimate: int | str = 0, log_features: str = "both", alphas: Any = None):
        self.estimate = estimate
        self.log_features = log_features
        self.alphas = alphas

    def _estimate_index(self, n_features: int) -> int:
        names = self._names(n_features)
        if isinstance(self.estimate, str):
            if self.estimate not in names:
                raise ValueError(f"EstimateAware: the estimate column {self.estimate!r} is not among the features "
                                 f"{names}. Pass estimate=<column name or position> of the team's estimate.")
            return names.index(self.estimate)
        if not isinstance(self.estimate, numbers.Integral) or not -n_features <= self.estimate < n_features:
            raise ValueError(f"EstimateAware: estimate={self.estimate!r} is not a column of the {n_features} "
                             "features. Pass the name or position of the column holding the team's estimate.")
        return int(self.estimate) % n_features

    def _split(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(log estimate with gaps filled, extra columns [log estimate, missing?], the other columns)."""
        j = self.estimate_index_
        e = _numeric_block(X, [j])[:, 0]
        bad = ~(e > 0)
        if bad.any():
            warnings.warn(f"{int(bad.sum())} of {len(e)} rows have no positive team estimate in column "
                          f"{self._names(X.shape[1])[j]!r}; they get the median estimate of the history.",
                          PmriskWarning, stacklevel=4)
        le = np.where(bad, self.estimate_fill_, np.log(np.where(bad, 1.0, e)))
        extra = np.column_stack([le, bad.astype(float)]) if self.missing_indicator_ else le[:, None]
        return le, extra, np.delete(X, j, axis=1)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> EstimateAware:
        j = self.estimate_index_ = self._estimate_index(X.shape[1])
        e = _numeric_block(X, [j])[:, 0]
        if not (e > 0).any():
            raise ValueError("EstimateAware: no row has a positive team estimate; fill in the estimates or use a "
                             "data-only model such as LogRidge.")
        self.estimate_fill_ = float(np.median(np.log(e[e > 0])))
        self.missing_indicator_ = bool((~(e > 0)).any())
        le, extra, others = self._split(X)
        names = self._names(X.shape[1])
        categorical = [c - (c > j) for c in self.categorical_features_ if c != j]
        self.models_ = _fit_ridges(others, np.log(y) - le, categorical, names[:j] + names[j + 1:],
                                   log_features=self.log_features, alphas=self.alphas, extra=extra)
        self.elasticity_ = float(1.0 + np.mean([m.coef[0] for m in self.models_]))
        log_ratio = []
        for m in self.models_:
            at = np.hstack([extra, m.design.raw(others)]).mean(axis=0)
            at[0] = self.estimate_fill_
            log_ratio.append(m.intercept + at @ m.coef)
        self.overrun_ = float(np.exp(np.mean(log_ratio)))
        return self

    @property
    def feature_names_out_(self) -> list[str]:
        names = self._names(self.n_features_in_)
        head = [f"log({names[self.estimate_index_]})"] + (["estimate missing"] if self.missing_indicator_ else [])
        return head + list(self.models_[0].design.names)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        le, extra, others = self._split(X)
        return np.exp(le + np.mean([m.predict_log(others, extra) for m in self.models_], axis=0))


# --------------------------------------------------------------------------------------------------
# predictive distributions
# --------------------------------------------------------------------------------------------------

#: How :class:`PredictiveDistribution` turns its ``n`` values into a quantile.
QUANTILE_RULES = ("interpolated", "conservative")


def _rank(level: float, n: int) -> int:
    """0-based order statistic giving the conservative conformal ``level`` quantile of ``n`` values (clipped)."""
    x = level * (n + 1)  # the tolerance keeps 0.1 from 1 - 0.8 (0.0999...) on the right side of an integer
    k = np.floor(x + 1e-9) if level < 0.5 else np.ceil(x - 1e-9)
    return int(min(max(k, 1), n)) - 1


def _quantile(values: np.ndarray, level: float, rule: str) -> np.ndarray:
    """The ``level`` quantile of each row of sorted ``values`` (see :class:`PredictiveDistribution`)."""
    n = values.shape[1]
    if level == 0.5:
        return np.median(values, axis=1)
    if rule == "conservative":
        return values[:, _rank(level, n)]
    h = min(max(level * (n + 1), 1.0), float(n))  # 1-based plotting position, clipped to the sample
    k = int(np.floor(h + 1e-9))
    frac = h - k
    if frac <= 1e-9 or k >= n:
        return values[:, k - 1]
    return values[:, k - 1] + frac * (values[:, k] - values[:, k - 1])


class PredictiveDistribution:
    """Per-project predictive distribution: for each row, ``n`` equally likely values.

    Row ``i`` holds ``mu_{-k(j)}(x_i) + r_j`` for every calibration project ``j``: the prediction of the
    model fitted without ``j``'s fold plus ``j``'s signed out-of-fold residual, on the log scale when
    ``log_space`` (a skewed, multiplicative error) and on the target's scale otherwise.

    Quantile ``q`` (``rule="interpolated"``, the default) sits at position ``q (n+1)`` of the sorted values,
    interpolating linearly between neighbours (Hyndman and Fan's type 6) and clipped to the sample: for
    exchangeable errors a new project falls below the value at position ``h`` with probability
    ``h / (n+1)``, so a central interval is calibrated to its nominal coverage on average, for any ``n``.
    ``rule="conservative"`` rounds the position outwards instead (rank ``floor(q (n+1))`` below the median,
    ``ceil(q (n+1))`` above): Barber et al.'s jackknife+/CV+ guarantee, coverage at least nominal up to the
    method's slack, bought with intervals up to one order statistic too wide on each side; with 37 past
    projects that makes the P5-P95 interval the whole sample range and its coverage 0.95, not 0.90. Both
    rules need ``n >= 2 / (1 - coverage) - 1`` values to reach a central interval (19 for P5-P95, 9 for
    P10-P90) and give the sample's range below that. ``sample`` draws the ``n`` values with equal probability.

    Parameters
    ----------
    values : ndarray, shape (n_rows, n)
        Draws in working space (log or linear).
    log_space : bool
        Whether ``values`` are logarithms.
    rule : {"interpolated", "conservative"}, default "interpolated"
        How quantiles are read from the values (see above).

    Examples
    --------
    >>> d = PredictiveDistribution(np.log([[1.0, 2, 3, 4, 5, 6, 7, 8, 9]]), log_space=True)
    >>> d.quantiles([0.1, 0.5, 0.9]).round(6).tolist()
    [[1.0, 5.0, 9.0]]
    >>> PredictiveDistribution([[1.0, 2, 3, 4, 5, 6, 7, 8, 9]], log_space=False).quantiles([0.25]).tolist()
    [[2.5]]
    >>> d.sample(4, rng=0).shape
    (1, 4)
    """

    def __init__(self, values: np.ndarray, log_space: bool, rule: str = "interpolated"):
        if rule not in QUANTILE_RULES:
            raise ValueError(f"rule must be one of {QUANTILE_RULES}; got {rule!r}.")
        self.values = np.sort(np.asarray(values, dtype=float), axis=1)
        self.log_space = bool(log_space)
        self.rule = rule

    def _out(self, v: np.ndarray) -> np.ndarray:
        return np.exp(v) if self.log_space else v

    @property
    def n_rows(self) -> int:
        return int(self.values.shape[0])

    def quantiles(self, levels: Any) -> np.ndarray:
        """Quantiles at ``levels`` (fractions, e.g. ``[0.1, 0.5, 0.9]``), shape ``(n_rows, len(levels))``."""
        cols = []
        for q in np.atleast_1d(np.asarray(levels, dtype=float)):
            if not 0.0 < q < 1.0:
                raise ValueError(f"Quantile levels must lie strictly between 0 and 1 (P80 is 0.8); got {q}.")
            cols.append(_quantile(self.values, float(q), self.rule))
        return self._out(np.column_stack(cols))

    def median(self) -> np.ndarray:
        """The P50 of every row."""
        return self.quantiles([0.5])[:, 0]

    def interval(self, coverage: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
        """Central interval holding ``coverage`` of the distribution (0.8 gives P10-P90)."""
        if not 0.0 < coverage < 1.0:
            raise ValueError(f"coverage must lie strictly between 0 and 1 (0.8 for P10-P90); got {coverage}.")
        q = self.quantiles([(1 - coverage) / 2, (1 + coverage) / 2])
        return q[:, 0], q[:, 1]

    def sample(self, size: int, rng: Any = None) -> np.ndarray:
        """``size`` independent draws for every row, shape ``(n_rows, size)``."""
        gen = np.random.default_rng(rng)
        idx = gen.integers(0, self.values.shape[1], size=(self.n_rows, int(size)))
        return self._out(np.take_along_axis(self.values, idx, axis=1))


class ConformalRegressor(RegressorMixin, BaseEstimator):
    """Calibrated predictive distribution around any history model: jackknife+ or CV+ in log space.

    ``fit`` refits the model without each project (jackknife+) or each of ``cv`` folds (CV+), keeps the
    signed out-of-fold residuals ``r_j = log(y_j) - log(mu_{-k(j)}(x_j))`` and the fold models, and
    refits on everything. For a new project the predictive distribution is ``{mu_{-k(j)}(x) + r_j}``
    (:class:`PredictiveDistribution`): as wide as the model's real out-of-sample errors and skewed where
    they are (overruns). Quantiles are read at position ``q (n+1)`` of those values, interpolated
    (``quantile_rule="interpolated"``), so that intervals are calibrated to their nominal coverage on
    average, or rounded outwards (``"conservative"``), which keeps Barber et al.'s (2021) guarantee,
    coverage at least ``1 - 2 * (1 - coverage)`` for any model and data, at the price of intervals that are
    too wide on small histories (P5-P95 of 37 projects is their whole range: coverage 0.95, not 0.90); see
    :class:`PredictiveDistribution`. ``predict`` returns the median (P50); the models' own ``predict`` is not
    used for new projects.

    Parameters
    ----------
    estimator : regressor, optional
        The point model; default :class:`LogRidge`.
    method : {"auto", "jackknife+", "cv+"}, default "auto"
        ``auto`` uses jackknife+ up to :data:`JACKKNIFE_MAX_ROWS` rows and CV+ above.
    cv : int, default 10
        Folds for CV+.
    log_space : {"auto", True, False}, default "auto"
        Residuals as log ratios (``auto``: when the target is strictly positive) or differences.
    random_state : int, optional
        Seeds the CV+ fold assignment.
    quantile_rule : {"interpolated", "conservative"}, default "interpolated"
        How quantiles and intervals are read from the predictive distribution (see above).

    Attributes
    ----------
    estimator_ : regressor
        The model refitted on all rows, for inspection (coefficients); predictions come from the fold models.
    estimators_ : list
        The fold models.
    residuals_ : ndarray
        Signed out-of-fold residuals in working space; ``fold_of_`` gives each one's fold.

    References
    ----------
    R. F. Barber, E. J. Candes, A. Ramdas, R. J. Tibshirani, "Predictive inference with the
    jackknife+", Annals of Statistics 49(1), 2021.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> size = rng.lognormal(4, 1, 40)
    >>> effort = 8 * size * rng.lognormal(0, 0.4, 40)
    >>> model = ConformalRegressor(ATLM()).fit(size[:, None], effort)
    >>> q = model.predict_quantiles([[100.0]], [0.1, 0.5, 0.9])
    >>> bool(q[0, 0] < q[0, 1] < q[0, 2]), model.method_
    (True, 'jackknife+')
    """

    def __init__(self, estimator: Any = None, *, method: str = "auto", cv: int = 10, log_space: Any = "auto",
                 random_state: Any = None, quantile_rule: str = "interpolated"):
        self.estimator = estimator
        self.method = method
        self.cv = cv
        self.log_space = log_space
        self.random_state = random_state
        self.quantile_rule = quantile_rule

    def _base(self) -> Any:
        return LogRidge() if self.estimator is None else self.estimator

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        base = self._base().__sklearn_tags__()
        tags.input_tags.allow_nan = base.input_tags.allow_nan
        tags.target_tags.positive_only = base.target_tags.positive_only or self.log_space is True
        return tags

    def fit(self, X: Any, y: Any) -> ConformalRegressor:
        if self.method not in ("auto", "jackknife+", "cv+"):
            raise ValueError(f"method must be 'auto', 'jackknife+' or 'cv+'; got {self.method!r}.")
        if self.log_space not in ("auto", True, False):
            raise ValueError(f"log_space must be 'auto', True or False; got {self.log_space!r}.")
        if self.quantile_rule not in QUANTILE_RULES:
            raise ValueError(f"quantile_rule must be one of {QUANTILE_RULES}; got {self.quantile_rule!r}.")
        base = self._base()
        X = _dates_as_years(X)
        categorical = _categorical_columns(X)
        check_target(y, positive=self.log_space is True or getattr(base, "_needs_log_target", False),
                     model=f"ConformalRegressor({type(base).__name__})")
        Xv, y = validate_data(self, X, y, dtype=None if categorical else "numeric", y_numeric=True,
                              ensure_all_finite=False if categorical else "allow-nan")
        y = np.asarray(y, dtype=np.float64)
        n = len(y)
        _check_rows(n, f"ConformalRegressor({type(base).__name__})")
        self.categorical_features_ = categorical
        Xb = X if _is_frame(X) else Xv
        self.log_space_ = bool(y.min() > 0) if self.log_space == "auto" else bool(self.log_space)
        self.floor_ = float(1e-3 * y.min()) if self.log_space_ else 0.0
        self.method_ = self.method if self.method != "auto" else ("jackknife+" if n <= JACKKNIFE_MAX_ROWS else "cv+")
        if self.method_ == "jackknife+":
            folds = np.arange(n)
        else:
            folds = np.empty(n, dtype=int)
            splitter = KFold(n_splits=int(min(max(int(self.cv), 2), n)), shuffle=True, random_state=self.random_state)
            for f, (_, test) in enumerate(splitter.split(np.zeros((n, 1)))):
                folds[test] = f
        work = self._work(y)
        self.estimators_ = []
        self.residuals_ = np.empty(n)
        with _one_blas_thread():
            for f in range(int(folds.max()) + 1):
                test = np.flatnonzero(folds == f)
                model = self._fit_one(Xv, Xb, y, np.flatnonzero(folds != f))
                self.residuals_[test] = work[test] - self._work(self._predict_rows(model, Xv, Xb, test))
                self.estimators_.append(model)
            self.estimator_ = self._fit_one(Xv, Xb, y, np.arange(n))
        self.fold_of_ = folds
        return self

    def _fit_one(self, Xv: np.ndarray, Xb: Any, y: np.ndarray, rows: np.ndarray) -> Any:
        """A clone of the base model fitted on ``rows`` (history models skip re-validating the input)."""
        model = clone(self._base())
        if not isinstance(model, _HistoryRegressor):
            return model.fit(_safe_indexing(Xb, rows), y[rows])
        model.n_features_in_ = self.n_features_in_
        if hasattr(self, "feature_names_in_"):
            model.feature_names_in_ = self.feature_names_in_
        model.categorical_features_ = list(self.categorical_features_)
        return model._fit(Xv[rows], y[rows])

    @staticmethod
    def _predict_rows(model: Any, Xv: np.ndarray, Xb: Any, rows: np.ndarray | None = None) -> np.ndarray:
        if isinstance(model, _HistoryRegressor):
            return model._predict(Xv if rows is None else Xv[rows])
        return model.predict(Xb if rows is None else _safe_indexing(Xb, rows))

    def _work(self, v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        return np.log(np.maximum(v, self.floor_)) if self.log_space_ else v

    def predict_distribution(self, X: Any) -> PredictiveDistribution:
        """The predictive distribution of each row of ``X`` (see :class:`PredictiveDistribution`)."""
        check_is_fitted(self)
        X = _dates_as_years(X)
        cat = bool(self.categorical_features_)
        Xv = validate_data(self, X, reset=False, dtype=None if cat else "numeric",
                           ensure_all_finite=False if cat else "allow-nan")
        Xb = X if _is_frame(X) else Xv
        with _one_blas_thread():
            mu = np.column_stack([self._work(self._predict_rows(m, Xv, Xb)) for m in self.estimators_])
        return PredictiveDistribution(mu[:, self.fold_of_] + self.residuals_, self.log_space_, self.quantile_rule)

    def predict(self, X: Any) -> np.ndarray:
        """The median (P50) of each row's predictive distribution."""
        return self.predict_distribution(X).median()

    def predict_quantiles(self, X: Any, levels: Any) -> np.ndarray:
        """Quantiles at ``levels`` (fractions: 0.8 is P80), shape ``(n_rows, len(levels))``."""
        return self.predict_distribution(X).quantiles(levels)

    def predict_interval(self, X: Any, coverage: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
        """Central prediction interval holding ``coverage`` (0.8: from P10 to P90), as ``(lower, upper)``."""
        return self.predict_distribution(X).interval(coverage)


def default_model() -> ConformalRegressor:
    """The model ``pmrisk history evaluate`` uses: :class:`LogRidge` inside jackknife+/CV+ intervals."""
    return ConformalRegressor(LogRidge())
