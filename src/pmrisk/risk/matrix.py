"""The 5x5 probability-impact matrix: one band table for qualitative scores and the quantitative model.

A project file may configure the matrix in a ``risk_matrix:`` section; every key is optional and
the defaults suit a mid-sized IT project::

    risk_matrix:
      probability: [0.1, 0.3, 0.5, 0.7]     # upper limits of probability bands 1-4 (band 5 above)
      time: [2, 5, 10, 20]                   # working days: upper limits of time impact bands 1-4
      cost: [10000, 50000, 100000, 250000]   # currency: upper limits of cost impact bands 1-4
      labels: [Very low, Low, Medium, High, Very high]
      ratings: {low: 4, medium: 9}           # score <= 4: low, <= 9: medium, above: high

Rules
-----
- A value falls in the first band whose upper limit it does not exceed: with the defaults a
  probability of 0.3 is band 2 and 0.31 band 3; a delay of 20 working days is band 4 and 21 band 5.
- A risk's **impact band** is the worse of its time band and its cost band, each taken from the
  *mean* impact given that the risk occurs (its magnitude, so an opportunity is scored like a
  threat of the same size). A duration factor (``impact:``) counts as the extra working days it
  adds to the longest affected task (mean factor - 1) x that task's mean duration, when the
  project is known. A risk with no measurable impact scores impact band 1.
- **Score** = probability band x impact band (1 to 25); its **rating** is ``low``, ``medium`` or
  ``high`` by the ``ratings`` limits.
- **The inverse, used when a register gives only bands**: a probability band stands for the
  midpoint of its range (with the defaults 0.05, 0.2, 0.4, 0.6, 0.85); an impact band for a
  uniform distribution over its range. Band 1 starts at 0; the open top band 5 runs from the last
  limit to 1.5 times it (with the defaults 20 to 30 working days, 250,000 to 375,000). The
  representative values fall back into the same band, so an imported qualitative risk keeps its
  score.
"""

from __future__ import annotations

import bisect
import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pmrisk.errors import ProjectError

if TYPE_CHECKING:  # pragma: no cover
    from pmrisk.project import Project
    from pmrisk.risk.model import Risk, RiskState

__all__ = ["DEFAULT_COST", "DEFAULT_LABELS", "DEFAULT_PROBABILITY", "DEFAULT_RATINGS", "DEFAULT_TIME",
           "RATINGS", "Assessment", "RiskMatrix"]

DEFAULT_PROBABILITY: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7)
DEFAULT_TIME: tuple[float, ...] = (2.0, 5.0, 10.0, 20.0)
DEFAULT_COST: tuple[float, ...] = (10_000.0, 50_000.0, 100_000.0, 250_000.0)
DEFAULT_LABELS: tuple[str, ...] = ("Very low", "Low", "Medium", "High", "Very high")
DEFAULT_RATINGS: dict[str, int] = {"low": 4, "medium": 9}
#: The ratings, from best to worst.
RATINGS: tuple[str, ...] = ("low", "medium", "high")
#: How far the open top impact band reaches, as a multiple of its lower limit.
TOP_BAND_FACTOR = 1.5
BANDS = 5

_KEYS = ("probability", "time", "cost", "labels", "ratings")

# Words people use for the five levels, in addition to the matrix's own labels.
_WORDS: dict[str, int] = {
    "verylow": 1, "vl": 1, "rare": 1, "negligible": 1, "insignificant": 1, "remote": 1, "improbable": 1,
    "low": 2, "l": 2, "unlikely": 2, "minor": 2,
    "medium": 3, "med": 3, "m": 3, "moderate": 3, "possible": 3,
    "high": 4, "h": 4, "likely": 4, "probable": 4, "major": 4, "significant": 4,
    "veryhigh": 5, "vh": 5, "almostcertain": 5, "verylikely": 5, "severe": 5, "critical": 5,
    "catastrophic": 5, "extreme": 5,
}


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(text).lower())


def _fmt(x: float) -> str:
    return f"{x:.12g}"


@dataclass(frozen=True)
class Assessment:
    """A risk's place in the matrix (before or after its response).

    ``time_band``/``cost_band`` are None when the risk has no such impact.
    """

    probability_band: int
    time_band: int | None
    cost_band: int | None
    impact_band: int
    score: int
    rating: str


@dataclass(frozen=True)
class RiskMatrix:
    """A 5x5 probability-impact matrix (see the module documentation for the rules).

    Build it from a project file's ``risk_matrix:`` section with :meth:`from_spec`, or for a project
    with :meth:`for_project`; ``RiskMatrix()`` has the defaults.

    Parameters
    ----------
    probability
        Upper limits of probability bands 1-4, increasing, each strictly between 0 and 1.
    time
        Upper limits of time impact bands 1-4 in working days, increasing and positive.
    cost
        Upper limits of cost impact bands 1-4 in the project's currency, increasing and positive.
    labels
        Names of the five bands, lowest first.
    low, medium
        Highest score rated ``low`` and highest score rated ``medium`` (higher scores are ``high``).

    Examples
    --------
    >>> m = RiskMatrix()
    >>> m.probability_band(0.3), m.probability_band(0.35), m.time_band(12), m.cost_band(300_000)
    (2, 3, 4, 5)
    >>> m.rating(3 * 4)
    'high'
    >>> m.band_probability(3), m.impact_distribution("time", 4), m.impact_distribution("time", 5)
    (0.4, {'dist': 'uniform', 'min': 10, 'max': 20}, {'dist': 'uniform', 'min': 20, 'max': 30})
    >>> RiskMatrix.from_spec({"time": [5, 10, 20, 40], "ratings": {"low": 3, "medium": 8}}).time_band(12)
    3
    """

    probability: tuple[float, ...] = DEFAULT_PROBABILITY
    time: tuple[float, ...] = DEFAULT_TIME
    cost: tuple[float, ...] = DEFAULT_COST
    labels: tuple[str, ...] = DEFAULT_LABELS
    low: int = DEFAULT_RATINGS["low"]
    medium: int = DEFAULT_RATINGS["medium"]
    _label_keys: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = "risk_matrix"
        object.__setattr__(self, "probability", _limits(self.probability, f"{where}.probability", prob=True))
        object.__setattr__(self, "time", _limits(self.time, f"{where}.time", prob=False))
        object.__setattr__(self, "cost", _limits(self.cost, f"{where}.cost", prob=False))
        object.__setattr__(self, "labels", _labels(self.labels, f"{where}.labels"))
        low, medium = _ratings({"low": self.low, "medium": self.medium}, f"{where}.ratings")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "medium", medium)
        self._label_keys.update({_norm(lab): i + 1 for i, lab in enumerate(self.labels)})

    # ---- construction -----------------------------------------------------------------------
    @classmethod
    def from_spec(cls, spec: Mapping[str, Any] | None, *, source: str | None = None) -> RiskMatrix:
        """The matrix described by a ``risk_matrix:`` section (None or empty: the defaults).

        Raises :class:`~pmrisk.errors.ProjectError` naming the file (``source``), the key, what is
        wrong and how to fix it.

        Examples
        --------
        >>> RiskMatrix.from_spec({"probability": [0.1, 0.3, 0.3, 0.7]})
        Traceback (most recent call last):
        ...
        pmrisk.errors.ProjectError: risk_matrix.probability: the limits must increase, but 0.3 is followed \
by 0.3; give four increasing upper limits of bands 1-4, like [0.1, 0.3, 0.5, 0.7].
        """
        where = f"{source}, risk_matrix" if source else "risk_matrix"
        if spec is None:
            return cls()
        if not isinstance(spec, Mapping):
            raise ProjectError(f"{where}: must be a mapping with the keys {', '.join(_KEYS)} (each optional), "
                               f"not {type(spec).__name__}.")
        for key in spec:
            if key not in _KEYS:
                close = difflib.get_close_matches(str(key), _KEYS, n=1)
                hint = f"Did you mean '{close[0]}'?" if close else f"Known keys: {', '.join(_KEYS)}."
                raise ProjectError(f"{where}: unknown key '{key}'. {hint}")
        kwargs: dict[str, Any] = {}
        for key, prob in (("probability", True), ("time", False), ("cost", False)):
            if spec.get(key) is not None:
                kwargs[key] = _limits(spec[key], f"{where}.{key}", prob=prob)
        if spec.get("labels") is not None:
            kwargs["labels"] = _labels(spec["labels"], f"{where}.labels")
        if spec.get("ratings") is not None:
            kwargs["low"], kwargs["medium"] = _ratings(spec["ratings"], f"{where}.ratings")
        return cls(**kwargs)

    @classmethod
    def for_project(cls, project: Project) -> RiskMatrix:
        """The matrix of a project (its ``risk_matrix:`` section, else the defaults)."""
        return cls.from_spec(project.risk.matrix_spec, source=project.source)

    def to_spec(self) -> dict[str, Any]:
        """The ``risk_matrix:`` section that describes this matrix (plain, YAML-able data)."""
        def num(x: float) -> float | int:
            return int(x) if float(x).is_integer() else float(x)

        return {"probability": list(self.probability), "time": [num(x) for x in self.time],
                "cost": [num(x) for x in self.cost], "labels": list(self.labels),
                "ratings": {"low": self.low, "medium": self.medium}}

    # ---- value -> band ----------------------------------------------------------------------
    def probability_band(self, probability: float) -> int:
        """The band (1-5) of a probability (a fraction; 0.3 is 30%)."""
        return _band(self.probability, float(probability))

    def time_band(self, delay: float) -> int:
        """The impact band (1-5) of a delay in working days (its magnitude, for opportunities)."""
        return _band(self.time, abs(float(delay)))

    def cost_band(self, cost: float) -> int:
        """The impact band (1-5) of a cost impact in the project's currency (its magnitude)."""
        return _band(self.cost, abs(float(cost)))

    def impact_band(self, delay: float | None = None, cost: float | None = None) -> int:
        """The worse of the time band of ``delay`` and the cost band of ``cost`` (1 when neither is given)."""
        bands = [1]
        if delay is not None:
            bands.append(self.time_band(delay))
        if cost is not None:
            bands.append(self.cost_band(cost))
        return max(bands)

    def rating(self, score: int) -> str:
        """``low``, ``medium`` or ``high`` for a score (probability band x impact band)."""
        if score <= self.low:
            return "low"
        return "medium" if score <= self.medium else "high"

    def rating_of(self, probability_band: int, impact_band: int) -> str:
        """The rating of one cell of the matrix."""
        return self.rating(probability_band * impact_band)

    def assess(self, risk: Risk, *, mitigated: bool = False, project: Project | None = None) -> Assessment:
        """Bands, score and rating of a risk, before (default) or after its response.

        Parameters
        ----------
        risk
            A validated :class:`~pmrisk.risk.model.Risk`.
        mitigated
            Assess the residual risk (after the response) instead.
        project
            The risk's project: needed only to turn a duration factor (``impact:``) into working days.
        """
        state = risk.mitigated_state() if mitigated else risk.state
        delay = self.mean_delay(state, risk.affects, project)
        cost = state.cost.mean() if state.cost is not None else None
        pb = self.probability_band(state.probability)
        tb = self.time_band(delay) if delay is not None else None
        cb = self.cost_band(cost) if cost is not None else None
        ib = max(b for b in (1, tb, cb) if b is not None)
        score = pb * ib
        return Assessment(pb, tb, cb, ib, score, self.rating(score))

    def score(self, risk: Risk, *, mitigated: bool = False, project: Project | None = None) -> int:
        """Probability band x impact band of a risk (1-25); see :meth:`assess`.

        Examples
        --------
        >>> from pmrisk.project import Project
        >>> p = Project.from_dict({"tasks": [{"id": "A", "duration": 10}], "risks": [
        ...     {"id": "R1", "probability": 0.4, "affects": ["A"],
        ...      "delay": {"dist": "uniform", "min": 10, "max": 20}}]})
        >>> m = RiskMatrix()
        >>> m.score(p.risks[0]), m.assess(p.risks[0]).rating
        (12, 'high')
        """
        return self.assess(risk, mitigated=mitigated, project=project).score

    @staticmethod
    def mean_delay(state: RiskState, affects: Sequence[str] = (), project: Project | None = None) -> float | None:
        """Mean working days a risk state adds when it occurs (None when it has no schedule impact)."""
        delay = state.delay.mean() if state.delay is not None else None
        if state.impact is not None and project is not None and affects:
            longest = max(project.task(t).duration.mean() for t in affects)
            extra = (state.impact.mean() - 1.0) * longest
            delay = extra + (delay or 0.0)
        return delay

    # ---- band -> value (the inverse, for qualitative registers) -----------------------------
    def band_range(self, kind: str, band: int) -> tuple[float, float]:
        """The range ``(lower, upper)`` a band of ``kind`` (``probability``, ``time`` or ``cost``) covers.

        Band 1 starts at 0; probability band 5 ends at 1; impact band 5 ends at 1.5 x its lower limit.
        """
        limits = self._limits(kind)
        b = self._check_band(band, kind)
        lo = 0.0 if b == 1 else limits[b - 2]
        if b < BANDS:
            hi = limits[b - 1]
        else:
            hi = 1.0 if kind == "probability" else limits[-1] * TOP_BAND_FACTOR
        return lo, hi

    def band_probability(self, band: int) -> float:
        """The probability that stands for a probability band: the midpoint of its range."""
        lo, hi = self.band_range("probability", band)
        return _tidy((lo + hi) / 2)

    def impact_distribution(self, kind: str, band: int) -> dict[str, Any]:
        """The impact that stands for an impact band of ``kind`` (``time`` or ``cost``): uniform over the band."""
        if kind not in ("time", "cost"):
            raise ValueError(f"kind must be 'time' or 'cost', not {kind!r}")
        lo, hi = self.band_range(kind, band)
        return {"dist": "uniform", "min": _tidy(lo), "max": _tidy(hi)}

    def parse_band(self, value: Any) -> int | None:
        """A band from a register cell: 1-5 (number or text) or a label; None when it is not one.

        Labels are the matrix's own (any case and spacing) and common five-level words (very low,
        low, medium/moderate, high, very high; rare, unlikely, possible, likely, almost certain;
        negligible, minor, moderate, major, severe).

        Examples
        --------
        >>> m = RiskMatrix()
        >>> m.parse_band(3), m.parse_band("4"), m.parse_band("Very high"), m.parse_band("possible")
        (3, 4, 5, 3)
        >>> m.parse_band(7), m.parse_band("0.3")
        (None, None)
        """
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int | float):
            f = float(value)
            return int(f) if f.is_integer() and 1 <= f <= BANDS else None
        text = str(value).strip()
        if re.fullmatch(r"[1-5](?:\.0*)?", text):
            return int(float(text))
        key = _norm(text)
        if not key:
            return None
        return self._label_keys.get(key) or _WORDS.get(key)

    def label(self, band: int) -> str:
        """The name of a band (1-5)."""
        return self.labels[self._check_band(band, "band") - 1]

    def range_text(self, kind: str, band: int, currency: str | None = None) -> str:
        """A band's range as a person reads it: ``"0.3-0.5"``, ``"10-20 d"``, ``"> 250,000"``."""
        lo, hi = self.band_range(kind, band)
        if kind == "probability":
            return f"{lo:.0%}-{hi:.0%}"
        unit = " d" if kind == "time" else (f" {currency}" if currency else "")

        def n(x: float) -> str:
            return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.4g}"

        if band == BANDS:
            return f"> {n(lo)}{unit}"
        return f"{n(lo)}-{n(hi)}{unit}" if band > 1 else f"<= {n(hi)}{unit}"

    # ---- helpers ------------------------------------------------------------------------------
    def _limits(self, kind: str) -> tuple[float, ...]:
        if kind == "probability":
            return self.probability
        if kind == "time":
            return self.time
        if kind == "cost":
            return self.cost
        raise ValueError(f"kind must be 'probability', 'time' or 'cost', not {kind!r}")

    @staticmethod
    def _check_band(band: Any, what: str) -> int:
        if isinstance(band, bool) or not isinstance(band, int | float) or not float(band).is_integer() \
                or not 1 <= band <= BANDS:
            raise ValueError(f"{what} band must be a whole number from 1 to {BANDS}, not {band!r}")
        return int(band)


def _band(limits: Sequence[float], value: float) -> int:
    if math.isnan(value):
        raise ValueError("cannot place NaN in a band")
    return bisect.bisect_left(limits, value) + 1


def _tidy(x: float) -> float | int:
    """Round away floating-point noise (0.30000000000000004 -> 0.3); integers as int."""
    y = float(f"{x:.12g}")
    return int(y) if y.is_integer() else y


def _limits(values: Any, where: str, *, prob: bool) -> tuple[float, ...]:
    example = "[0.1, 0.3, 0.5, 0.7]" if prob else ("[2, 5, 10, 20]" if where.endswith("time")
                                                   else "[10000, 50000, 100000, 250000]")
    how = f"give four increasing upper limits of bands 1-4, like {example}."
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise ProjectError(f"{where}: expected a list of four numbers, not {values!r}; {how}")
    if len(values) != BANDS - 1:
        raise ProjectError(f"{where}: {len(values)} limits given, but a 5x5 matrix needs exactly {BANDS - 1} "
                           f"(band 5 lies above the last); {how}")
    out: list[float] = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ProjectError(f"{where}: {v!r} is not a finite number; {how}")
        x = float(v)
        if prob and not 0.0 < x < 1.0:
            hint = f" Did you mean {_fmt(x / 100)}?" if 1 < x < 100 else ""
            raise ProjectError(f"{where}: {_fmt(x)} is not a probability strictly between 0 and 1; write "
                               f"probabilities as fractions (0.3 for 30%).{hint}")
        if not prob and x <= 0:
            raise ProjectError(f"{where}: {_fmt(x)} is not positive; impact limits are magnitudes > 0; {how}")
        if out and x <= out[-1]:
            raise ProjectError(f"{where}: the limits must increase, but {_fmt(out[-1])} is followed by "
                               f"{_fmt(x)}; {how}")
        out.append(x)
    return tuple(out)


def _labels(values: Any, where: str) -> tuple[str, ...]:
    how = "give five names, lowest first, like [Very low, Low, Medium, High, Very high]."
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or len(values) != BANDS:
        raise ProjectError(f"{where}: expected a list of {BANDS} names, not {values!r}; {how}")
    out = tuple(str(v).strip() for v in values)
    if any(not v for v in out):
        raise ProjectError(f"{where}: a label is empty; {how}")
    keys = [_norm(v) for v in out]
    dup = next((v for v, k in zip(out, keys, strict=True) if keys.count(k) > 1), None)
    if dup is not None:
        raise ProjectError(f"{where}: the label '{dup}' is given twice (case and spaces do not count); "
                           "give each band its own name.")
    if any(re.fullmatch(r"[0-9.]+", k) for k in keys):
        raise ProjectError(f"{where}: labels must be words, not numbers (a register cell 1-5 already means a "
                           f"band); {how}")
    return out


def _ratings(spec: Any, where: str) -> tuple[int, int]:
    how = "write it like {low: 4, medium: 9} (a score of at most 4 is low, at most 9 medium, above that high)."
    if not isinstance(spec, Mapping):
        raise ProjectError(f"{where}: expected a mapping, not {spec!r}; {how}")
    for key in spec:
        if key not in ("low", "medium"):
            raise ProjectError(f"{where}: unknown key '{key}'; give the highest score of 'low' and of 'medium' "
                               f"(everything above is high): {how}")
    vals = {}
    for key in ("low", "medium"):
        v = spec.get(key, DEFAULT_RATINGS[key])
        if isinstance(v, bool) or not isinstance(v, int | float) or not float(v).is_integer() \
                or not 1 <= v < BANDS * BANDS:
            raise ProjectError(f"{where}.{key}: {v!r} is not a whole score from 1 to {BANDS * BANDS - 1}; {how}")
        vals[key] = int(v)
    if vals["low"] >= vals["medium"]:
        raise ProjectError(f"{where}: low ({vals['low']}) must be below medium ({vals['medium']}); {how}")
    return vals["low"], vals["medium"]

