"""Past projects and tasks: the shared public datasets and a user's own history.

Every shared dataset has a *card* (``pmrisk/history/cards/<name>.json``, shipped with the package)
that says where the files come from, how to cite them, their licence and sha256 checksums, the unit
of every column and its *role*:

==================  ===========================================================================
role                meaning
==================  ===========================================================================
``feature``         known before the project (or task) starts: a model may use it
``estimate``        the people's own estimate of a target (``estimate_for``), known beforehand
``target``          an outcome (actual effort, cost or duration), known only afterwards
``post_project``    known only after the project ended (or derived from an actual): never a feature
``id``, ``text``    identifiers and free text, not features by default
``meta``            how the data were collected; known beforehand, not a feature by default
==================  ===========================================================================

The data files are never copied into the repository: they are read from the *data home*, the
``shared/datasets`` folder beside the repository (see :func:`data_home`). Each file's sha256 is
checked against the card before it is read.

Missing values are kept as ``NaN`` in features and estimates; rows whose target is missing are
dropped, and :attr:`HistoryData.dropped` counts them (with every other row the loader removes and
why). :meth:`HistoryData.complete` keeps only rows without missing features.

Examples
--------
The examples that read the shared data are skipped by the doctest run (the data are not part of
the package); ``tests/test_history_datasets.py`` checks the same facts.

>>> from pmrisk.history.datasets import load_dataset, ratios
>>> data = load_dataset("desharnais")  # doctest: +SKIP
>>> data.target, data.units["Effort"], len(data.frame), len(data.complete().frame)  # doctest: +SKIP
('Effort', 'person-hours', 81, 77)
>>> "Length" in data.post_project, "Length" in data.features  # doctest: +SKIP
(True, False)
>>> r = ratios("jorgensen-tasks-49")  # doctest: +SKIP
>>> list(r.columns[:3]), len(r)  # doctest: +SKIP
(['planned', 'actual', 'ratio'], 49)
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import difflib
import functools
import hashlib
import importlib.resources
import json
import math
import os
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pmrisk.errors import PmriskError, PmriskWarning

__all__ = [
    "DATA_HOME_ENV",
    "MIN_ROWS",
    "ChecksumMismatchError",
    "DataFileNotFoundError",
    "HistoryData",
    "HistoryDataError",
    "data_home",
    "dataset_card",
    "list_datasets",
    "load_dataset",
    "load_history",
    "ratios",
]

#: Environment variable naming the folder that holds the shared datasets.
DATA_HOME_ENV = "PMRISK_DATA_HOME"
#: Fewest usable rows (with a target) a history must have.
MIN_ROWS = 5

ROLES = ("feature", "estimate", "target", "post_project", "id", "text", "meta")


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class HistoryDataError(PmriskError, ValueError):
    """Past-project data cannot be used as asked (names the dataset or file, what is wrong, how to fix)."""


class DataFileNotFoundError(HistoryDataError, FileNotFoundError):
    """A history file, or the folder of shared datasets, does not exist."""


class ChecksumMismatchError(HistoryDataError):
    """A dataset file differs from the one its card describes (sha256 mismatch)."""


# --------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class HistoryData:
    """Past projects (or tasks) ready for a model.

    Attributes
    ----------
    name : str
        Dataset name (or the file name of a user's history).
    frame : pandas.DataFrame
        One row per project or task; numeric columns are floats, categorical ones strings, dates
        ``datetime64`` where the card gives their format. Rows without a target are dropped.
    target : str
        The column to predict (an actual effort, cost or duration).
    features : list of str
        Columns known before the project starts that a model uses by default (never the estimate,
        which is in ``estimate``).
    post_project : list of str
        Columns known only after the project ended (targets included): never features.
    estimate : str or None
        The people's own estimate of ``target`` (planned effort, duration or budget), if any.
    card : dict
        The dataset card (a copy).
    units : dict
        Unit of each column that has one.
    categorical : list of str
        The features (and other columns) that hold categories, not quantities.
    dropped : dict
        Rows removed by the loader: reason -> number of rows.
    """

    name: str
    frame: pd.DataFrame
    target: str
    features: list[str]
    post_project: list[str]
    estimate: str | None
    card: dict[str, Any]
    units: dict[str, str] = dataclasses.field(default_factory=dict)
    categorical: list[str] = dataclasses.field(default_factory=list)
    dropped: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def X(self) -> pd.DataFrame:  # scikit-learn's name
        """The feature columns (a copy)."""
        return self.frame[self.features].copy()

    @property
    def y(self) -> pd.Series:
        """The target column (a copy)."""
        return self.frame[self.target].copy()

    def complete(self, include_estimate: bool = False) -> HistoryData:
        """The rows without a missing feature (e.g. the 77 complete Desharnais projects).

        Parameters
        ----------
        include_estimate : bool
            Also drop rows without an estimate.
        """
        columns = [*self.features, *([self.estimate] if include_estimate and self.estimate else [])]
        keep = self.frame[columns].notna().all(axis=1)
        dropped = dict(self.dropped)
        if int((~keep).sum()):
            dropped["missing feature" + (" or estimate" if include_estimate else "")] = int((~keep).sum())
        return dataclasses.replace(self, frame=self.frame[keep].reset_index(drop=True), dropped=dropped)


# --------------------------------------------------------------------------------------------
# Cards and the data home
# --------------------------------------------------------------------------------------------


@functools.cache
def _cards() -> dict[str, dict[str, Any]]:
    folder = importlib.resources.files("pmrisk.history") / "cards"
    cards = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            card = json.loads(entry.read_text(encoding="utf-8"))
            cards[card["name"]] = card
    return dict(sorted(cards.items()))


def list_datasets(level: str | None = None) -> list[str]:
    """Names of the shared datasets that have a card.

    Parameters
    ----------
    level : {"project", "task"}, optional
        Only datasets with one row per project, or per task.

    Examples
    --------
    >>> "desharnais" in list_datasets("project"), "sip-tasks" in list_datasets("task")
    (True, True)
    """
    if level not in (None, "project", "task"):
        raise HistoryDataError(f"level must be 'project', 'task' or None, not {level!r}.")
    return [name for name, card in _cards().items() if level is None or card["level"] == level]


def dataset_card(name: str) -> dict[str, Any]:
    """The card of a shared dataset (a copy): source, citation, licence, files, columns and notes.

    Examples
    --------
    >>> dataset_card("china")["columns"]["Duration"]["unit"]
    'months'
    """
    cards = _cards()
    if name not in cards:
        close = difflib.get_close_matches(name, list(cards), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise HistoryDataError(f"No dataset named {name!r}.{hint} Known datasets: {', '.join(cards)}.")
    return copy.deepcopy(cards[name])


def _search_roots() -> Iterable[Path]:
    yield from (Path.cwd(), *Path.cwd().parents)
    here = Path(__file__).resolve()
    yield from here.parents


def data_home() -> Path:
    """The folder that holds the shared datasets.

    ``$PMRISK_DATA_HOME`` when set; else the first ``shared/datasets`` folder found walking up
    from the current directory, then from the installed package (so a checkout at ``work/main``
    finds ``work/shared/datasets``).

    Raises
    ------
    DataFileNotFoundError
        If ``$PMRISK_DATA_HOME`` names a missing folder, or no ``shared/datasets`` folder is found.

    Examples
    --------
    >>> (data_home() / "desharnais" / "PROVENANCE.md").is_file()  # doctest: +SKIP
    True
    """
    env = os.environ.get(DATA_HOME_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise DataFileNotFoundError(
                f"{DATA_HOME_ENV}={env} is not a folder. Point it at the shared datasets folder "
                "(the one holding desharnais/, sip-tasks/, ...) or unset it to search for shared/datasets.")
        return path
    for root in _search_roots():
        candidate = root / "shared" / "datasets"
        if candidate.is_dir():
            return candidate
    raise DataFileNotFoundError(
        "The shared datasets were not found: no shared/datasets folder above the current directory or "
        f"the pmrisk package. Set {DATA_HOME_ENV} to the folder that holds desharnais/, sip-tasks/, ...")


_HASHES: dict[tuple[str, int, int], str] = {}


def _sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def _verified_file(card: dict[str, Any], entry: dict[str, Any], home: Path) -> Path:
    path = home / card["folder"] / entry["path"]
    if not path.is_file():
        raise DataFileNotFoundError(
            f"Dataset {card['name']!r}: file {path} does not exist. The data home is {home}; set "
            f"{DATA_HOME_ENV} to the folder that holds {card['folder']}/{entry['path']}.")
    actual = _sha256(path)
    if actual != entry["sha256"]:
        raise ChecksumMismatchError(
            f"Dataset {card['name']!r}: file {path} does not match its card: expected sha256 {entry['sha256']}, "
            f"got {actual}. The file was changed or replaced; restore the original (its source is in "
            f"{path.parent / 'PROVENANCE.md'}) or point {DATA_HOME_ENV} at an unmodified copy.")
    return path


# --------------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------------


def _split_arff(text: str, where: str) -> list[str | None]:
    """Split one ARFF data line (or nominal list) at commas outside quotes; ``?`` is missing."""
    values: list[str | None] = []
    token: list[str] = []
    quote = ""
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and i + 1 < len(text):
                token.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
            else:
                token.append(ch)
        elif ch in "'\"" and not "".join(token).strip():
            quote, quoted, token = ch, True, []
        elif ch == ",":
            values.append(_arff_value(token, quoted))
            token, quoted = [], False
        else:
            token.append(ch)
        i += 1
    if quote:
        raise HistoryDataError(f"{where}: a quote is not closed. Close it, or escape a quote inside a value with \\.")
    values.append(_arff_value(token, quoted))
    return values


def _arff_value(token: list[str], quoted: bool) -> str | None:
    value = "".join(token) if quoted else "".join(token).strip()
    return None if value == "?" and not quoted else value


def _arff_attribute(rest: str, where: str) -> tuple[str, str]:
    """Name and kind ('numeric', 'nominal', 'string', 'date') of an ``@attribute`` line's remainder."""
    rest = rest.strip()
    if rest[:1] in ("'", '"'):
        end = rest.find(rest[0], 1)
        if end < 0:
            raise HistoryDataError(f"{where}: the attribute name's quote is not closed.")
        name, kind = rest[1:end], rest[end + 1:].strip()
    else:
        name, _, kind = rest.partition(" ") if " " in rest else rest.partition("\t")
        kind = kind.strip()
    if kind.startswith("{"):
        return name.strip(), "nominal"
    word = kind.split(maxsplit=1)[0].lower() if kind else ""
    if word in ("numeric", "real", "integer"):
        return name.strip(), "numeric"
    if word in ("string", "date"):
        return name.strip(), word
    raise HistoryDataError(f"{where}: attribute {name.strip()!r} has type {kind!r}; pmrisk reads numeric, "
                           "nominal {..}, string and date attributes.")


def _read_text(path: Path, encoding: str | None = None) -> str:
    data = path.read_bytes()
    if encoding:
        return data.decode(encoding)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _read_arff(path: Path) -> pd.DataFrame:
    """Read a dense ARFF file: numeric attributes as floats, others as strings, ``?`` as missing."""
    names: list[str] = []
    kinds: list[str] = []
    rows: list[list[str | None]] = []
    in_data = False
    for lineno, raw in enumerate(_read_text(path).splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("%"):
            continue
        where = f"{path}, line {lineno}"
        if not in_data:
            low = line.lower()
            if low.startswith("@attribute"):
                name, kind = _arff_attribute(line[len("@attribute"):], where)
                if name in names:
                    raise HistoryDataError(f"{where}: attribute {name!r} is declared twice. Rename one of them.")
                names.append(name)
                kinds.append(kind)
            elif low.startswith("@data"):
                in_data = True
            elif not low.startswith("@relation"):
                raise HistoryDataError(f"{where}: expected @relation, @attribute or @data, found {line[:40]!r}.")
            continue
        if line.startswith("{"):
            raise HistoryDataError(f"{where}: sparse ARFF rows are not supported. Save the file as dense ARFF or CSV.")
        values = _split_arff(line, where)
        if len(values) != len(names):
            raise HistoryDataError(f"{where}: {len(values)} values for {len(names)} attributes. "
                                   "Each data line needs one value per attribute ('?' when missing).")
        rows.append(values)
    if not in_data:
        raise HistoryDataError(f"{path}: no @data section. Is this an ARFF file?")
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    for name, kind in zip(names, kinds, strict=True):
        if kind == "numeric":
            frame[name] = _numbers(frame[name], f"{path}, attribute {name!r}")
    return frame


def _read_csv(path: Path, options: dict[str, Any]) -> pd.DataFrame:
    kwargs: dict[str, Any] = {"encoding": options.get("encoding", "utf-8")}
    for key in ("sep", "decimal", "thousands"):
        if key in options:
            kwargs[key] = options[key]
    if "na_values" in options:
        kwargs["na_values"] = options["na_values"]
    return pd.read_csv(path, **kwargs)


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def _number(text: str) -> float | None:
    """A number written plainly, with a currency sign, spaces as thousands separators or a decimal comma."""
    s = re.sub(r"[\s\u00a0\u202f€$£%]", "", text)
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+", s):
        return None  # 1,234 could be 1234 or 1.234: ambiguous
    if "," in s and "." in s:
        thousands = "," if s.rfind(".") > s.rfind(",") else "."
        s = s.replace(thousands, "")
    s = s.replace(",", ".")
    return float(s) if _NUMBER.match(s) else None


def _numbers(series: pd.Series, where: str) -> pd.Series:
    """Convert a column to floats; raise naming the first values that are not numbers."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    out = np.full(len(series), np.nan)
    bad: list[str] = []
    for i, value in enumerate(series.tolist()):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if isinstance(value, int | float | np.integer | np.floating):
            out[i] = float(value)
            continue
        text = str(value).strip()
        if text == "" or text.lower() in ("na", "n/a", "nan", "?", "-"):
            continue
        number = _number(text)
        if number is None:
            bad.append(f"{text!r} (row {i + 1})")
        else:
            out[i] = number
    if bad:
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise HistoryDataError(f"{where}: not a number: {', '.join(bad[:3])}{more}. Numbers must be plain "
                               "(1200, 12.5 or 12,5; no thousands separators); clean these cells or leave them empty.")
    return pd.Series(out, index=series.index, name=series.name)


def _categories(series: pd.Series) -> pd.Series:
    """Categories as strings (1.0 -> '1'); missing stays missing."""
    def text(value: Any) -> Any:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return np.nan
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()
    return series.map(text).astype(object)


# --------------------------------------------------------------------------------------------
# Per-dataset preparation (everything a card cannot say)
# --------------------------------------------------------------------------------------------

Prepared = tuple[pd.DataFrame, dict[str, int]]


def _prepare_huijgens(frames: list[pd.DataFrame]) -> Prepared:
    frame = frames[0]
    empty = frame.isna().all(axis=1)
    return frame[~empty], {"empty row": int(empty.sum())}


def _prepare_nasa124(frames: list[pd.DataFrame]) -> Prepared:
    frame = frames[0]
    rollup = frame["RecordNumber"].astype(str).str.startswith("rollup")
    estimated = frame["Unusual Flag"].astype(str).str.strip().eq("estimated effort") & ~rollup
    frame = frame[~rollup & ~estimated].copy()
    frame["Actual Schedule"] = frame["Actual Schedule"].where(frame["Actual Schedule"] != 0)
    return frame, {"rollup of other rows": int(rollup.sum()), "effort is an estimate": int(estimated.sum())}


def _prepare_sip(frames: list[pd.DataFrame]) -> Prepared:
    tasks, dates = frames
    per_developer = tasks.duplicated("TaskNumber")
    tasks = tasks[~per_developer].drop(columns=["DeveloperID", "DeveloperHoursActual", "DeveloperPerformance"])
    dates = dates.drop_duplicates("TaskNumber")
    frame = tasks.merge(dates, on="TaskNumber", how="left", validate="one_to_one")
    return frame, {"second and later developer of a task": int(per_developer.sum())}


def _merge_spellings(series: pd.Series) -> pd.Series:
    """Map spelling variants that differ only in case to the most frequent spelling."""
    counts = series.dropna().value_counts()
    canonical: dict[str, str] = {}
    for value in sorted(counts.index, key=lambda v: (-counts[v], v)):
        canonical.setdefault(str(value).lower(), value)
    return series.map(lambda v: canonical.get(str(v).lower(), v) if isinstance(v, str) else v)


def _prepare_dslib(frames: list[pd.DataFrame]) -> Prepared:
    frame = frames[0].copy()
    frame["sector"] = _merge_spellings(frame["sector"])
    frame["regularity"] = frame["regularity"].str.lower()
    frame["has_resources"] = frame["has_resources"].where(frame["has_resources"].isin(["Y", "N"]))
    for column in ("authenticity_project", "authenticity_tracking"):
        frame[column] = frame[column].where(frame[column].str.len() <= 4)
    return frame, {}


_PREPARE: dict[str, Callable[[list[pd.DataFrame]], Prepared]] = {
    "huijgens-ebspm": _prepare_huijgens,
    "nasa-cocomo2-124": _prepare_nasa124,
    "sip-tasks": _prepare_sip,
    "dslib-real-projects": _prepare_dslib,
}


def _typed(frame: pd.DataFrame, columns: dict[str, dict[str, Any]], where: str) -> pd.DataFrame:
    """Convert each column as its card says (numeric, categorical, ordinal, date, text)."""
    out = {}
    for name, spec in columns.items():
        series = frame[name]
        kind = spec.get("type", "numeric")
        if kind == "numeric":
            series = _numbers(series, f"{where}, column {name!r}")
        elif kind == "categorical":
            series = _categories(series)
        elif kind == "ordinal":
            levels = {level: float(i) for i, level in enumerate(spec["levels"], start=1)}
            unknown = set(series.dropna()) - set(levels)
            if unknown:
                raise HistoryDataError(f"{where}, column {name!r}: unknown ratings {sorted(unknown)}; "
                                       f"expected one of {spec['levels']}.")
            series = series.map(levels).astype(float)
        elif kind == "date" and "format" in spec:
            formats = [spec["format"]] if isinstance(spec["format"], str) else spec["format"]
            parsed = pd.to_datetime(series, format=formats[0], errors="coerce")
            for fmt in formats[1:]:
                parsed = parsed.fillna(pd.to_datetime(series.astype(str), format=fmt, errors="coerce"))
            series = parsed
        out[name] = series
    return pd.DataFrame(out)


# --------------------------------------------------------------------------------------------
# Validation shared by both loaders
# --------------------------------------------------------------------------------------------


def _suggest(name: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _check_column(name: str, columns: Sequence[str], what: str, where: str) -> None:
    if name not in columns:
        raise HistoryDataError(f"{where}: {what} column {name!r} does not exist.{_suggest(name, columns)} "
                               f"Columns: {', '.join(columns)}.")


def _drop_missing_target(frame: pd.DataFrame, target: str, where: str) -> tuple[pd.DataFrame, int]:
    missing = frame[target].isna()
    frame = frame[~missing].reset_index(drop=True)
    if len(frame) < MIN_ROWS:
        raise HistoryDataError(
            f"{where}: only {len(frame)} row(s) have a value in {target!r} ({int(missing.sum())} miss it); "
            f"a history needs at least {MIN_ROWS}. Add past projects or choose another target.")
    return frame, int(missing.sum())


def _check_features(features: Sequence[str], columns: Sequence[str], target: str,
                    post: dict[str, str], where: str) -> list[str]:
    checked: list[str] = []
    for feature in features:
        _check_column(feature, columns, "feature", where)
        if feature == target:
            raise HistoryDataError(f"{where}: {feature!r} is the target; it cannot also be a feature.")
        if feature in post:
            raise HistoryDataError(
                f"{where}: feature {feature!r} is known only after the project ended ({post[feature]}). "
                "A model that uses it looks accurate on past projects and cannot be used on the next one; "
                "remove it from the features.")
        if feature not in checked:
            checked.append(feature)
    return checked


# --------------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------------


def load_dataset(name: str, target: str | None = None, features: Sequence[str] | None = None) -> HistoryData:
    """Load a shared dataset of past projects or tasks, checked against its card.

    Parameters
    ----------
    name : str
        A name from :func:`list_datasets`.
    target : str, optional
        The column to predict; default the card's (e.g. ``real_cost_eur`` instead of
        ``real_duration_days`` for the DSLIB overview). The estimate follows the target.
    features : sequence of str, optional
        Feature columns; default the card's pre-project features (without the estimate), or its
        ``default_features`` where the card narrows them to the columns filled in (nearly) every row.

    Returns
    -------
    HistoryData

    Raises
    ------
    HistoryDataError
        Unknown dataset or column, non-numeric target, fewer than 5 rows with a target, or a feature
        the card marks as known only after the project ended.
    DataFileNotFoundError, ChecksumMismatchError
        A data file is missing or differs from the card.

    Examples
    --------
    >>> data = load_dataset("dslib-real-projects", target="real_cost_eur")  # doctest: +SKIP
    >>> data.estimate, data.units[data.target]  # doctest: +SKIP
    ('bac_eur', 'EUR')
    >>> load_dataset("china", features=["AFP", "Duration"])  # doctest: +SKIP
    Traceback (most recent call last):
    ...
    pmrisk.history.datasets.HistoryDataError: dataset 'china': feature 'Duration' is known only after ...
    """
    card = dataset_card(name)
    home = data_home()
    where = f"dataset {name!r}"
    read = card["read"]
    frames = []
    for entry in card["files"]:
        if not entry["read"]:
            continue
        path = _verified_file(card, entry, home)
        frame = _read_arff(path) if read["format"] == "arff" else _read_csv(path, read)
        frame.columns = [str(c).strip() for c in frame.columns]
        frames.append(frame)
    frame, dropped = _PREPARE.get(name, lambda fs: (fs[0], {}))(frames)
    columns: dict[str, dict[str, Any]] = card["columns"]
    if list(frame.columns) != list(columns):
        missing = [c for c in columns if c not in frame.columns]
        extra = [c for c in frame.columns if c not in columns]
        raise HistoryDataError(f"{where}: the file's columns differ from the card (missing {missing}, "
                               f"unexpected {extra}). The data or the card changed; update the card.")
    frame = _typed(frame.reset_index(drop=True), columns, where)

    target = card["target"] if target is None else target
    _check_column(target, list(columns), "target", where)
    if columns[target].get("type", "numeric") not in ("numeric", "ordinal"):
        raise HistoryDataError(f"{where}: target {target!r} is not numeric (it is {columns[target]['type']}). "
                               "Choose a column with numbers, such as an actual effort, cost or duration.")
    estimate = next((c for c, s in columns.items() if s["role"] == "estimate" and s.get("estimate_for") == target),
                    None)
    post = {c: s.get("why") or f"{s.get('description', 'an actual')}, known only when the project has ended"
            for c, s in columns.items() if s["role"] in ("target", "post_project")}
    if features is None and "default_features" in card:
        chosen = _check_features(card["default_features"], list(columns), target, post, where)
    elif features is None:
        chosen = [c for c, s in columns.items() if s["role"] in ("feature", "estimate") and c not in (estimate, target)]
    else:
        chosen = _check_features(features, list(columns), target, post, where)
    frame, n_missing = _drop_missing_target(frame, target, where)
    if n_missing:
        dropped["missing target"] = n_missing
    frame.attrs = {"name": name, "units": {c: s["unit"] for c, s in columns.items() if "unit" in s}}
    return HistoryData(
        name=name, frame=frame, target=target, features=chosen, post_project=list(post), estimate=estimate,
        card=card, units=dict(frame.attrs["units"]),
        categorical=[c for c, s in columns.items() if s.get("type") == "categorical"],
        dropped={k: v for k, v in dropped.items() if v})


def _sniff_separator(path: Path) -> str:
    sample = "\n".join(_read_text(path).splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def load_history(path: str | os.PathLike[str], target: str, features: Sequence[str] | None = None, *,
                 estimate: str | None = None, post_project: Sequence[str] = (),
                 sheet: str | int | None = None) -> HistoryData:
    """Load a user's own history of past projects (or tasks) from CSV, Excel or ARFF.

    Parameters
    ----------
    path : path-like
        ``.csv``/``.tsv``/``.txt`` (separator ``,``, ``;``, tab or ``|``, found from the first lines;
        decimal commas accepted), ``.xlsx``/``.xlsm`` or ``.arff``.
    target : str
        The column to predict, e.g. actual effort in hours. Must hold numbers.
    features : sequence of str, optional
        Columns known before a project starts. Default: every other column except ``estimate``,
        ``post_project`` and text columns with a different value in (almost) every row (ids, names).
    estimate : str, optional
        The column holding the team's own estimate of the target (planned effort, duration, budget).
    post_project : sequence of str
        Columns known only after a project ended (actual duration, defects, ...); they are never
        features, and naming one in ``features`` is an error.
    sheet : str or int, optional
        Excel sheet (default the first).

    Returns
    -------
    HistoryData
        Rows whose target is missing are dropped (counted in ``dropped``, with a warning).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "past.csv").write_text(
    ...     "project;size_fp;planned_h;actual_h\\nA;100;900;1000\\nB;200;1800;2300\\nC;50;400;450\\n"
    ...     "D;80;700;720\\nE;120;1000;1500\\nF;60;500;\\n")
    >>> data = load_history(folder / "past.csv", target="actual_h", estimate="planned_h")
    >>> data.features, len(data.frame), data.dropped
    (['size_fp'], 5, {'missing target': 1})
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise DataFileNotFoundError(f"History file {path} does not exist. Check the path (the current folder is "
                                    f"{Path.cwd()}).")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        raw = pd.read_csv(path, sep=_sniff_separator(path), dtype=str, encoding="utf-8-sig",
                          encoding_errors="replace", skipinitialspace=True)
    elif suffix in (".xlsx", ".xlsm"):
        raw = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, engine="openpyxl")
    elif suffix == ".arff":
        raw = _read_arff(path)
    else:
        raise HistoryDataError(f"{where}: cannot read {suffix or 'files without an extension'}; save the history "
                               "as .csv, .xlsx or .arff.")
    raw.columns = [str(c).strip() for c in raw.columns]
    raw = raw.dropna(how="all").reset_index(drop=True)
    columns = list(raw.columns)
    _check_column(target, columns, "target", where)
    if estimate is not None:
        _check_column(estimate, columns, "estimate", where)
    for column in post_project:
        _check_column(column, columns, "post_project", where)

    try:
        raw[target] = _numbers(raw[target], f"{where}, target column {target!r}")
    except HistoryDataError as exc:
        raise HistoryDataError(f"{exc} The target must hold numbers (e.g. actual effort in hours).") from None
    frame = raw.copy()
    categorical: list[str] = []
    for column in columns:
        if column == target:
            continue
        try:
            frame[column] = _numbers(raw[column], f"{where}, column {column!r}")
        except HistoryDataError:
            if column == estimate:
                raise
            frame[column] = _categories(raw[column])
            categorical.append(column)
    post = {c: "you marked it as known only after the project ended" for c in post_project}
    post[target] = "it is the target"
    if features is None:
        n = len(frame)
        chosen = [c for c in columns if c not in post and c != estimate
                  and not (c in categorical and frame[c].nunique() > max(0.9 * n, n - 2))]
    else:
        chosen = _check_features(features, columns, target, post, where)
    frame, n_missing = _drop_missing_target(frame, target, where)
    dropped = {"missing target": n_missing} if n_missing else {}
    if n_missing:
        warnings.warn(f"{where}: {n_missing} row(s) without a value in {target!r} were dropped.", PmriskWarning,
                      stacklevel=2)
    card = {"name": path.stem, "level": "project", "target": target, "files": [{"path": str(path)}],
            "columns": {c: {"role": "target" if c == target else "estimate" if c == estimate else
                            "post_project" if c in post else "feature" if c in chosen else "meta",
                            "type": "categorical" if c in categorical else "numeric"} for c in columns}}
    return HistoryData(name=path.stem, frame=frame, target=target, features=chosen, post_project=list(post),
                       estimate=estimate, card=card, categorical=categorical, dropped=dropped)


# --------------------------------------------------------------------------------------------
# Planned vs actual
# --------------------------------------------------------------------------------------------


def ratios(data: str | HistoryData, target: str | None = None) -> pd.DataFrame:
    """Actual/planned ratios of past projects or tasks, with their classes, for reference-class forecasting.

    Parameters
    ----------
    data : str or HistoryData
        A dataset name (one with an estimate: ``sip-tasks``, ``cesaw``, ``renzo-pomodoro``,
        ``project-22``, ``jorgensen-tasks-49``, ``dslib-real-projects``, ``isbsg10-promise``) or a
        history loaded with an ``estimate``.
    target : str, optional
        Which actual (for a name; e.g. ``real_cost_eur`` for the DSLIB overview's cost ratios).

    Returns
    -------
    pandas.DataFrame
        Columns ``planned``, ``actual``, ``ratio`` (= actual / planned), ``size_class`` (``small``,
        ``medium``, ``large``: tertiles of the planned value, ties to the lower class) and the
        dataset's class columns (project type, task type, sector, ...). Rows without a positive
        planned and actual value are left out; ``attrs`` holds ``dropped`` (reason -> rows),
        ``planned``/``actual`` (source columns), ``unit`` and ``ratio_unit``.

    Examples
    --------
    >>> r = ratios("dslib-real-projects")  # doctest: +SKIP
    >>> r.attrs["planned"], r.attrs["actual"], r.attrs["ratio_unit"]  # doctest: +SKIP
    ('planned_duration_days', 'real_duration_days', 'actual/planned')

    A user's own history with an estimate column works the same way:

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "tasks.csv").write_text("task,planned_h,actual_h\\n" + "".join(
    ...     f"T{i},{p},{a}\\n" for i, (p, a) in enumerate([(10, 12), (8, 8), (5, 9), (20, 18), (4, 0)])))
    >>> r = ratios(load_history(folder / "tasks.csv", target="actual_h", estimate="planned_h"))
    >>> r["ratio"].round(2).tolist(), r.attrs["dropped"]
    ([1.2, 1.0, 1.8, 0.9], {'planned or actual not positive': 1})
    """
    if isinstance(data, str):
        data = load_dataset(data, target=target)
    elif target is not None and target != data.target:
        raise HistoryDataError(f"ratios: the history's target is {data.target!r}, not {target!r}; load it with "
                               f"target={target!r} instead.")
    if data.estimate is None:
        with_estimate = [n for n in list_datasets()
                         if any(s["role"] == "estimate" for s in _cards()[n]["columns"].values())]
        raise HistoryDataError(f"{data.name!r} has no planned values (no estimate column) for {data.target!r}, so "
                               "there is no actual/planned ratio. Datasets with planned values: "
                               f"{', '.join(with_estimate)}.")
    ratio_spec = data.card.get("ratio", {})
    classes = [c for c in ratio_spec.get("classes", data.categorical) if c in data.frame.columns]
    ids = [c for c, s in data.card.get("columns", {}).items() if s.get("role") == "id"]
    planned = data.frame[data.estimate].astype(float)
    actual = data.frame[data.target].astype(float)
    missing = planned.isna()
    not_positive = ~missing & ((planned <= 0) | (actual <= 0))
    keep = ~missing & ~not_positive
    out = pd.DataFrame({"planned": planned[keep], "actual": actual[keep]})
    out["ratio"] = out["actual"] / out["planned"]
    low, high = np.quantile(out["planned"], [1 / 3, 2 / 3]) if len(out) else (np.nan, np.nan)
    out["size_class"] = np.where(out["planned"] <= low, "small", np.where(out["planned"] <= high, "medium", "large"))
    for column in [*ids, *classes]:
        out[column] = data.frame.loc[keep, column]
    out = out.reset_index(drop=True)
    units = data.units
    unit = units.get(data.target, "")
    out.attrs = {
        "name": data.name, "planned": data.estimate, "actual": data.target, "unit": unit,
        "ratio_unit": ratio_spec.get("unit", "actual/planned"),
        "dropped": {k: v for k, v in {**data.dropped, "missing planned value": int(missing.sum()),
                                      "planned or actual not positive": int(not_positive.sum())}.items() if v},
    }
    return out
