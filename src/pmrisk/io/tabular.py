"""Read a task list from CSV/TSV or Excel (one row per task) into raw project data.

The result is the structure of a project file (``{"pmrisk": 1, "project": {...}, "tasks": [...]}``),
validated afterwards by :meth:`pmrisk.project.Project.from_dict` like any YAML file, together with
the line (CSV) or row (Excel) of every task so that later errors can point at it.

Columns
-------
Header names are matched ignoring case, spaces, underscores, punctuation and a trailing unit in
brackets (``"Min (days)"`` is ``min``). Accepted names (canonical name first):

=========================  =====================================================================
column                     also accepted
=========================  =====================================================================
id                         task id, activity id, wbs, activity code, key
name                       task name, activity, activity name, description, title
dist                       distribution (triangular, pert, uniform, normal, lognormal, trigen, fixed)
lambda                     pert lambda
min                        minimum, optimistic, low, best, best case
likely                     most likely, ml, mode, expected, likely duration
max                        maximum, pessimistic, high, worst, worst case
duration                   fixed duration, dur, days (a fixed duration when no range is given)
p10, p90                   (trigen, lognormal)
mean, sd                   average, std, stdev, std dev, standard deviation (normal, lognormal)
depends_on                 depends on, predecessors, predecessor, preds, dependencies, deps
cost_fixed                 fixed cost, cost
cost_per_day               per day, cost per day, daily rate, day rate, rate
milestone                  is milestone (yes/no, true/false, 1/0, x or empty)
tags                       tag, labels (separated by ``;`` or ``,``)
start_no_earlier_than      snet, not before, earliest start
notes                      note, comment, comments
=========================  =====================================================================

Without a ``dist`` the distribution follows the columns filled in: ``mean``/``sd`` give a normal
(``min``/``max`` truncate it), ``p10``/``p90`` a lognormal (a trigen with ``likely``), and
``min``/``likely``/``max`` a Beta-PERT (``lambda`` optional). A row with only ``duration`` is fixed.
Predecessors are written like ``REQ; MIGR SS+5; BUILD FF-2`` (``;`` or ``,`` between links).

Project settings
----------------
A CSV file may start with comment lines ``# key: value`` before the header; an Excel workbook may
have a sheet ``Project`` with key/value rows (and its task sheet, ``Tasks`` or else the first sheet,
may start with ``# key: value`` rows too). Keys: ``name``, ``start``, ``deadline`` (a date or a
number of working days), ``budget``, ``currency``, ``workdays`` and ``holidays`` (comma lists),
``description``, ``cost_of_delay_per_day`` and ``dist`` (the default distribution of rows with a
range). The project name defaults to the file's stem.

Numbers must be plain numbers (``1200000``, ``12.5``; no thousands separators, units or decimal
commas) or numeric Excel cells; dates are ISO ``YYYY-MM-DD`` or Excel date cells. Excel formulas are
never evaluated: the value Excel last saved for the cell is read. Every problem raises
:class:`~pmrisk.errors.ProjectError` naming the file, the line or row, the task id when known, what
is wrong and how to fix it.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import math
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmrisk.calendar import normalise_weekday
from pmrisk.errors import ProjectError
from pmrisk.project import FORMAT_VERSION, parse_link_text

__all__ = ["COLUMN_ALIASES", "SETTING_ALIASES", "read_task_table"]

# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

#: Accepted header names of each column (canonical name first), matched by :func:`_key`.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "task id", "activity id", "wbs", "activity code", "key"),
    "name": ("name", "task name", "activity", "activity name", "description", "title"),
    "dist": ("dist", "distribution"),
    "lambda": ("lambda", "pert lambda"),
    "min": ("min", "minimum", "optimistic", "low", "best", "best case"),
    "likely": ("likely", "most likely", "ml", "mode", "expected", "likely duration"),
    "max": ("max", "maximum", "pessimistic", "high", "worst", "worst case"),
    "duration": ("duration", "fixed duration", "dur", "days"),
    "p10": ("p10",),
    "p90": ("p90",),
    "mean": ("mean", "average"),
    "sd": ("sd", "std", "stdev", "std dev", "standard deviation"),
    "depends_on": ("depends_on", "depends on", "predecessors", "predecessor", "preds", "dependencies",
                   "deps"),
    "cost_fixed": ("cost_fixed", "fixed cost", "cost"),
    "cost_per_day": ("cost_per_day", "per day", "cost per day", "daily rate", "day rate", "rate"),
    "milestone": ("milestone", "is milestone"),
    "tags": ("tags", "tag", "labels"),
    "start_no_earlier_than": ("start_no_earlier_than", "snet", "not before", "earliest start"),
    "notes": ("notes", "note", "comment", "comments"),
}

#: Accepted keys of the project settings (``# key: value`` lines or the ``Project`` sheet).
SETTING_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "project", "project name"),
    "start": ("start", "start date", "project start"),
    "deadline": ("deadline", "due", "due date", "finish by"),
    "budget": ("budget",),
    "currency": ("currency",),
    "workdays": ("workdays", "work days", "weekdays", "working weekdays"),
    "holidays": ("holidays", "holiday", "public holidays"),
    "description": ("description",),
    "cost_of_delay_per_day": ("cost_of_delay_per_day", "cost of delay", "cost of delay per day"),
    "dist": ("dist", "distribution", "default dist", "default distribution"),
    "pmrisk": ("pmrisk", "format version"),
}

_DURATION_COLUMNS = ("duration", "min", "likely", "max", "p10", "p90", "mean", "sd")
_RANGE = ("min", "likely", "max", "p10", "p90", "mean", "sd")

# distribution name -> (required parameters, optional parameters); lognormal is special-cased
_DISTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pert": (("min", "likely", "max"), ("lambda",)),
    "triangular": (("min", "likely", "max"), ()),
    "uniform": (("min", "max"), ()),
    "normal": (("mean", "sd"), ("min", "max")),
    "trigen": (("p10", "likely", "p90"), ()),
}
_DIST_ALIASES = {
    "pert": "pert", "betapert": "pert",
    "triangular": "triangular", "triangle": "triangular", "triang": "triangular", "tri": "triangular",
    "uniform": "uniform", "normal": "normal", "gaussian": "normal",
    "lognormal": "lognormal", "trigen": "trigen",
    "fixed": "fixed", "constant": "fixed", "none": "fixed",
}

_TRUE = {"yes", "y", "true", "t", "1", "x", "ja", "oui", "si"}
_FALSE = {"no", "n", "false", "f", "0", "nein", "non", "-"}
_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_KEYLIKE_RE = re.compile(r"^[A-Za-z][A-Za-z _.-]{0,40}$")


def _key(name: str) -> str:
    """Normalise a header or setting name: lower case, no brackets, only letters and digits."""
    s = re.sub(r"\([^)]*\)|\[[^\]]*\]", "", str(name)).lower()
    return re.sub(r"[^0-9a-z]", "", s)


def _lookup(aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_key(a): canon for canon, names in aliases.items() for a in names}


_COLUMN_KEYS = _lookup(COLUMN_ALIASES)
_SETTING_KEYS = _lookup(SETTING_ALIASES)


# --------------------------------------------------------------------------------------------
# Where an error is
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Where:
    """The file (and sheet) being read; builds error messages that say where."""

    path: Path
    unit: str = "line"          # "line" (CSV) or "row" (Excel)
    sheet: str | None = None
    entity: str = "task"        # what a row describes: "task" (task lists) or "risk" (registers)

    def at(self, line: int | None = None, *, task: str | None = None, field: str | None = None) -> str:
        out = str(self.path)
        if self.sheet is not None:
            out += f", sheet '{self.sheet}'"
        if line is not None:
            out += f", {self.unit} {line}"
        if task:
            out += f" ({self.entity} {task})"
        if field:
            out += f", {field}"
        return out

    def error(self, line: int | None, what: str, how: str, *, task: str | None = None,
              field: str | None = None) -> ProjectError:
        return ProjectError(f"{self.at(line, task=task, field=field)}: {what}. {how}")


@dataclass(frozen=True)
class _Cell:
    """One cell's value with the header it sits under (for error messages)."""

    value: Any
    line: int
    column: str                 # header as written in the file
    letter: str | None = None   # Excel column letter
    setting: bool = False       # a project setting rather than a table cell

    @property
    def label(self) -> str:
        """How an error names the cell: ``column 'Min' (C)`` or ``setting 'budget'``."""
        if self.setting:
            return f"setting '{self.column}'"
        return f"column '{self.column}'" + (f" ({self.letter})" if self.letter else "")


@dataclass
class _Row:
    line: int
    cells: dict[str, _Cell]     # canonical column -> cell (only the table's columns)

    def get(self, col: str) -> _Cell | None:
        return self.cells.get(col)


# --------------------------------------------------------------------------------------------
# Cell conversion
# --------------------------------------------------------------------------------------------


def _is_empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _text(v: Any) -> str | None:
    """A cell as text (Excel numbers 3.0 -> ``"3"``, dates -> ISO); None when empty."""
    if _is_empty(v):
        return None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    s = str(v).strip()
    if len(s) > 1 and s[0] == "'" and s[1] in "=+-@":
        s = s[1:]                    # the guard pmrisk's CSV writers put before formula-like text
    return s


def _number(cell: _Cell, where: _Where, task: str | None) -> int | float | None:
    v = cell.value
    if _is_empty(v):
        return None
    if isinstance(v, int | float) and not isinstance(v, bool):
        if not math.isfinite(v):
            raise where.error(cell.line, f"{v!r} is not a finite number", "Enter a plain number.",
                              task=task, field=cell.label)
        return v
    if isinstance(v, str):
        s = v.strip()
        if _NUMBER_RE.match(s):
            return int(s) if re.fullmatch(r"[+-]?\d+", s) else float(s)
        how = "Write a plain number such as 12 or 12.5, without units or thousands separators"
        if re.fullmatch(r"[+-]?\d+,\d+", s):
            how = f"Use a decimal point: write {s.replace(',', '.')} (or, for thousands, {s.replace(',', '')})"
        elif re.fullmatch(r"[+-]?\d{1,3}(?:[,' ]\d{3})+(?:\.\d+)?", s):
            plain = re.sub(r"[,' ]", "", s)
            how = f"Leave out the thousands separators: write {plain}"
        raise where.error(cell.line, f"{s!r} is not a number", how + ".",
                          task=task, field=cell.label)
    raise where.error(cell.line, f"{_text(v)!r} ({type(v).__name__}) is not a number",
                      "Enter a plain number in this cell.", task=task, field=cell.label)


def _date(v: Any) -> dt.date | None:
    """A date from an Excel date cell or an ISO ``YYYY-MM-DD`` string; None if it is not one."""
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v.strip()):
        try:
            return dt.date.fromisoformat(v.strip())
        except ValueError:
            return None
    return None


def _date_or_number(cell: _Cell, where: _Where, task: str | None) -> dt.date | int | float | None:
    if _is_empty(cell.value):
        return None
    d = _date(cell.value)
    if d is not None:
        return d
    if isinstance(cell.value, str) and not _NUMBER_RE.match(cell.value.strip()):
        raise where.error(cell.line, f"{cell.value.strip()!r} is neither a date nor a number",
                          "Write a date as YYYY-MM-DD (e.g. 2027-03-01) or a number of working days.",
                          task=task, field=cell.label)
    return _number(cell, where, task)


def _flag(cell: _Cell, where: _Where, task: str | None) -> bool:
    v = cell.value
    if _is_empty(v):
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float) and v in (0, 1):
        return bool(v)
    s = str(v).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise where.error(cell.line, f"{_text(v)!r} is not a yes/no value",
                      "Write yes or no (also true/false, 1/0, or x for yes and empty for no).",
                      task=task, field=cell.label)


def _split_list(v: Any) -> list[str]:
    s = _text(v)
    return [p.strip() for p in re.split(r"[;,]", s)] if s else []


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def read_task_table(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[int, int]]:
    """Read a CSV/TSV or Excel task list into raw project data and the line of each task.

    Parameters
    ----------
    path
        A ``.csv``/``.tsv`` file (UTF-8, a byte-order mark is allowed; ``,``, ``;`` or tab
        separated, detected from the header) or an ``.xlsx``/``.xlsm`` workbook (the sheet named
        ``Tasks``, any case, else the first sheet; project settings from an optional ``Project``
        sheet). See the module documentation for the columns and settings.

    Returns
    -------
    data : dict
        ``{"pmrisk": 1, "project": {...}, "tasks": [...]}``, ready for
        :meth:`pmrisk.project.Project.from_dict`.
    lines : dict of int to int
        Task position -> line of the CSV file (or row of the sheet) where the task is written; the
        header is line 1 when the file has no leading comment lines.

    Raises
    ------
    pmrisk.errors.ProjectError
        For an unreadable file, an unknown or missing column, a cell that is not a number or date
        where one is needed, a row without an id, or an incomplete estimate range. The message names
        the file, the line (and task id when known), what is wrong and how to fix it.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "plan.csv"
    >>> _ = f.write_text("# budget: 50000\\n"
    ...                  "id,name,min,likely,max,predecessors,per day\\n"
    ...                  "A,Analysis,3,5,10,,800\\n"
    ...                  "B,Build,10,15,30,A SS+2,1000\\n")
    >>> data, lines = read_task_table(f)
    >>> data["project"]
    {'name': 'plan', 'budget': 50000}
    >>> data["tasks"][1]["depends_on"], lines
    ([{'task': 'A', 'type': 'SS', 'lag': 2.0}], {0: 3, 1: 4})
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        header, rows, settings, where = _read_excel(p)
    elif suffix in (".csv", ".tsv", ".txt"):
        header, rows, settings, where = _read_csv(p, tab=suffix == ".tsv")
    else:
        raise ProjectError(f"{p}: unsupported task-list type '{suffix or '(none)'}'. "
                           "Use a .csv, .tsv, .xlsx or .xlsm file.")
    return _build(header, rows, settings, where)


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def _read_csv(path: Path, *, tab: bool) -> tuple[list[_Cell], list[list[_Cell]], list[tuple[str, Any, int]],
                                                  _Where]:
    where = _Where(path, "line")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProjectError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ProjectError(f"{path}, line {line}: the file is not UTF-8 text ({exc.reason} at byte {exc.start}). "
                           "Save it as 'CSV UTF-8' (Excel: File > Save As > CSV UTF-8).") from None
    lines = io.StringIO(text, newline="").readlines()

    h = 0
    while h < len(lines) and (not lines[h].strip() or _is_comment(lines[h])):
        h += 1
    if h == len(lines):
        raise ProjectError(f"{path}: no header line found; the file is empty or has only comments. "
                           "Start the table with a header such as 'id,name,min,likely,max,depends_on'.")
    delim = "\t" if tab else _sniff(lines[h])

    settings: list[tuple[str, Any, int]] = []
    for i in range(h):
        if _is_comment(lines[i]):
            item = _comment_setting(lines[i].strip(), delim)
            if item is not None:
                settings.append((item[0], item[1], i + 1))

    reader = csv.reader(lines[h:], delimiter=delim)
    header: list[_Cell] = []
    body: list[list[_Cell]] = []
    prev = 0
    try:
        for rec in reader:
            first = h + prev + 1
            prev = reader.line_num
            if not header:
                header = [_Cell(c, first, c) for c in rec]
                continue
            body.append([_Cell(c, first, "") for c in rec])
    except csv.Error as exc:
        raise ProjectError(f"{path}, line {h + reader.line_num}: cannot read this CSV line ({exc}). "
                           "Check the quotes on that line.") from None
    return header, body, settings, where


def _is_comment(line: str) -> bool:
    """A ``#`` comment line, also as a spreadsheet program quotes it (``"# budget: 1,000",,``)."""
    return line.strip().lstrip('"').lstrip().startswith("#")


def _sniff(header_line: str) -> str:
    """The delimiter of a header line: the most frequent of tab, ``;`` and ``,`` outside quotes."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: unquoted.count(d) for d in ("\t", ";", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _comment_setting(line: str, delim: str) -> tuple[str, str] | None:
    """``# key: value`` -> (key, value); None for a plain comment."""
    try:
        cells = next(csv.reader([line], delimiter=delim))
    except (csv.Error, StopIteration):
        cells = [line]
    if cells and all(not c.strip() for c in cells[1:]):
        line = cells[0]                 # trailing empty cells written by spreadsheet programs
    body = line.strip().lstrip('"').lstrip().lstrip("#").strip().rstrip(',;" \t')
    if ":" not in body:
        return None
    key, value = body.split(":", 1)
    return key.strip(), value.strip()


# --------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------


def _open_workbook(path: Path, what: str) -> tuple[Any, Any]:
    """The values Excel saved (formulas are never evaluated) and the cells' formulas, to tell an empty
    cell from a formula whose result was never saved; a broken file is a clear error."""
    from openpyxl import load_workbook

    try:
        return (load_workbook(path, read_only=True, data_only=True),
                load_workbook(path, read_only=True, data_only=False))
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a broken workbook
        raise ProjectError(f"{path}: cannot be opened as an Excel workbook ({type(exc).__name__}: {exc}). "
                           f"Save it from Excel as .xlsx, or export {what} as CSV.") from None


def _read_excel(path: Path) -> tuple[list[_Cell], list[list[_Cell]], list[tuple[str, Any, int]], _Where]:
    from openpyxl.utils import get_column_letter

    wb, wbf = _open_workbook(path, "the task list")
    try:
        sheets = list(wb.worksheets)
        if not sheets:
            raise ProjectError(f"{path}: the workbook has no worksheet. Add a sheet 'Tasks' with the task list.")
        by_name = {ws.title.strip().lower(): ws for ws in sheets}
        task_ws = by_name.get("tasks")
        if task_ws is None:
            others = [ws for ws in sheets if ws.title.strip().lower() != "project"]
            if not others:
                raise ProjectError(f"{path}: the workbook has only a 'Project' sheet. Add a sheet 'Tasks' "
                                   "with one row per task.")
            task_ws = others[0]
        where = _Where(path, "row", task_ws.title)

        settings: list[tuple[Any, ...]] = []
        project_ws = by_name.get("project")
        if project_ws is not None and project_ws is not task_ws:
            pwhere = _Where(path, "row", project_ws.title)
            settings.extend((k, v, r, pwhere) for k, v, r in _project_sheet(project_ws, wbf[project_ws.title],
                                                                            pwhere))

        header: list[_Cell] = []
        body: list[list[_Cell]] = []
        for r, values in _sheet_rows(task_ws, wbf[task_ws.title], where):
            if not header:
                if all(_is_empty(v) for v in values):
                    continue
                first = next(v for v in values if not _is_empty(v))
                if isinstance(first, str) and first.strip().startswith("#"):
                    item = _comment_setting(first.strip(), "\t")
                    if item is not None:
                        rest = [v for v in values[values.index(first) + 1:] if not _is_empty(v)]
                        value: Any = item[1] if item[1] or not rest else (rest[0] if len(rest) == 1 else rest)
                        settings.append((item[0], value, r))
                    continue
                header = [_Cell(v, r, _text(v) or "", get_column_letter(j + 1)) for j, v in enumerate(values)]
                continue
            body.append([_Cell(v, r, "", get_column_letter(j + 1)) for j, v in enumerate(values)])
        if not header:
            raise where.error(None, "the sheet is empty",
                              "Put a header row (id, name, min, likely, max, depends_on, ...) and one row "
                              "per task on it.")
        return header, body, settings, where
    finally:
        wb.close()
        wbf.close()


def _sheet_rows(ws: Any, formulas: Any, where: _Where) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values) of every row of a read-only sheet, as Excel saved them.

    ``formulas`` is the same sheet opened without ``data_only``: a cell that is empty in ``ws``
    but holds a formula there is a formula whose result was never saved, an error.
    """
    from openpyxl.utils import get_column_letter

    ws.reset_dimensions()        # do not trust the stored sheet size; read every row
    formulas.reset_dimensions()
    rows = ws.iter_rows(min_row=1, min_col=1, values_only=True)
    frows = formulas.iter_rows(min_row=1, min_col=1, values_only=True)
    for r, (values, fvalues) in enumerate(zip(rows, frows, strict=False), start=1):
        for j, v in enumerate(values):
            f = fvalues[j] if j < len(fvalues) else None
            if v is None and f is not None:
                text = f if isinstance(f, str) else getattr(f, "text", None) or "a formula"
                raise where.error(r, f"cell {get_column_letter(j + 1)}{r} holds the formula {text} whose "
                                  "result the workbook does not contain (pmrisk never evaluates formulas)",
                                  "Open and save the workbook in Excel so that it stores the result, or "
                                  "type the value itself.")
        yield r, [v.strip() if isinstance(v, str) else v for v in values]


def _project_sheet(ws: Any, formulas: Any, where: _Where) -> list[tuple[str, Any, int]]:
    out: list[tuple[str, Any, int]] = []
    seen_content = False
    for r, values in _sheet_rows(ws, formulas, where):
        cells = [v for v in values if not _is_empty(v)]
        if not cells:
            continue
        key = values[0] if values else None
        if _is_empty(key):
            raise where.error(r, "a value without a key in column A",
                              "Write the setting's name (name, start, deadline, budget, ...) in column A and "
                              "its value in column B.")
        k = _text(key) or ""
        if k.startswith("#"):
            continue
        if not seen_content and _key(k) in ("key", "setting", "field", "parameter", "property"):
            seen_content = True             # a header row such as "key | value"
            continue
        seen_content = True
        vals = [v for v in values[1:] if not _is_empty(v)]
        value: Any = None if not vals else vals[0] if len(vals) == 1 else vals
        if _key(k) not in _SETTING_KEYS:
            raise where.error(r, f"unknown project setting '{k}'", _setting_hint(k))
        out.append((k, value, r))
    return out


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


def _setting_hint(key: str) -> str:
    close = difflib.get_close_matches(_key(key), list(_SETTING_KEYS), n=1)
    known = ", ".join(SETTING_ALIASES)
    if close:
        return f"Did you mean '{_SETTING_KEYS[close[0]]}'? Known settings: {known}."
    return f"Known settings: {known}."


def _settings(items: Sequence[tuple[Any, ...]], where: _Where) -> tuple[dict[str, Any], int, str | None]:
    """Project settings -> (``project`` mapping, format version, default distribution)."""
    project: dict[str, Any] = {}
    calendar: dict[str, Any] = {}
    version: int = FORMAT_VERSION
    default_dist: str | None = None
    seen: dict[str, int] = {}
    for item in items:
        raw_key, value, line = item[:3]
        w = item[3] if len(item) > 3 else where      # the Project sheet, or the task sheet / file
        canon = _SETTING_KEYS.get(_key(raw_key))
        if canon is None:
            # a comment line such as "# Exported from Jira: 5 Jan" is just a comment, but a
            # misspelt setting ("# deadlin: ...") must not be silently ignored
            if _KEYLIKE_RE.match(raw_key) and difflib.get_close_matches(
                    _key(raw_key), list(_SETTING_KEYS), n=1, cutoff=0.8):
                raise w.error(line, f"unknown project setting '{raw_key}'", _setting_hint(raw_key))
            continue
        if canon in seen and canon != "holidays":
            raise w.error(line, f"project setting '{canon}' is given twice (first at {w.unit} "
                              f"{seen[canon]})", "Keep one of them.")
        seen.setdefault(canon, line)
        cell = _Cell(value, line, raw_key, setting=True)
        what = f"project setting '{canon}'"
        if canon in ("name", "currency", "description"):
            text = _text(value if not isinstance(value, list) else ", ".join(map(str, value)))
            if text:
                project[canon] = text
        elif canon == "start":
            if _is_empty(value):
                continue
            d = _date(value)
            if d is None:
                raise w.error(line, f"{what}: {_text(value)!r} is not a date",
                                  "Write the start as YYYY-MM-DD, e.g. 2027-02-01.")
            project["start"] = d
        elif canon == "deadline":
            v = _date_or_number(_single(cell, w, what), w, None)
            if v is not None:
                project["deadline"] = v
        elif canon in ("budget", "cost_of_delay_per_day"):
            v = _number(_single(cell, w, what), w, None)
            if v is not None:
                project[canon] = v
        elif canon == "pmrisk":
            v = _number(_single(cell, w, what), w, None)
            if v is not None:
                version = int(v)
        elif canon == "dist":
            name = _text(value)
            if name:
                default_dist = _dist_name(name, w, line, None)
        elif canon == "workdays":
            days = []
            for part in _list_parts(value):
                try:
                    days.append(normalise_weekday(part))
                except ValueError as exc:
                    raise w.error(line, f"{what}: {exc}",
                                      "List the worked weekdays like: mon, tue, wed, thu, fri.") from None
            if days:
                calendar["workdays"] = days
        elif canon == "holidays":
            for part in _list_parts(value):
                d = _date(part)
                if d is None:
                    raise w.error(line, f"{what}: {_text(part)!r} is not a date",
                                      "List holidays as YYYY-MM-DD dates separated by commas, "
                                      "e.g. 2027-03-26, 2027-03-29.")
                calendar.setdefault("holidays", []).append(d)
    if calendar:
        project["calendar"] = calendar
    return project, version, default_dist


def _single(cell: _Cell, where: _Where, what: str) -> _Cell:
    if isinstance(cell.value, list):
        raise where.error(cell.line, f"{what} has several values", "Give exactly one value.")
    return cell


def _list_parts(value: Any) -> list[Any]:
    values = value if isinstance(value, list) else [value]
    out: list[Any] = []
    for v in values:
        if isinstance(v, str):
            out.extend(p for p in re.split(r"[,;\s]+", v) if p)
        elif not _is_empty(v):
            out.append(v)
    return out


# --------------------------------------------------------------------------------------------
# Rows -> tasks
# --------------------------------------------------------------------------------------------


def _columns(header: Sequence[_Cell], body: Sequence[Sequence[_Cell]], where: _Where) -> dict[int, str]:
    """Header position -> canonical column; errors for unknown, duplicate or missing columns."""
    cols: dict[int, str] = {}
    first_at: dict[str, _Cell] = {}
    line = header[0].line if header else None
    for j, cell in enumerate(header):
        name = _text(cell.value)
        if name is None:
            filled = [row[j] for row in body if j < len(row) and not _is_empty(row[j].value)]
            if filled:
                raise where.error(filled[0].line, f"a value {(_text(filled[0].value))!r} stands in column "
                                  f"{cell.letter or j + 1} which has no header",
                                  "Give that column a header (see the known columns) or clear it.")
            continue
        canon = _COLUMN_KEYS.get(_key(name))
        if canon is None:
            close = difflib.get_close_matches(_key(name), list(_COLUMN_KEYS), n=1, cutoff=0.6)
            hint = f"Did you mean '{_COLUMN_KEYS[close[0]]}'? " if close else ""
            raise where.error(line, f"unknown column '{name}'",
                              f"{hint}Known columns: {', '.join(COLUMN_ALIASES)} (case, spaces and "
                              "underscores do not matter; see the pmrisk.io.tabular docs for aliases). "
                              "Rename or delete that column.", field=cell.label)
        if canon in first_at:
            raise where.error(line, f"columns '{first_at[canon].column}' and '{name}' both mean '{canon}'",
                              "Keep one of them (rename or delete the other).")
        first_at[canon] = cell
        cols[j] = canon
    if "id" not in first_at:
        raise where.error(line, "no 'id' column",
                          "Add a column 'id' with a unique short id per task (e.g. REQ, BUILD); it is what "
                          "predecessors refer to. Also accepted: task id, activity id, wbs.")
    if not any(c in first_at for c in _DURATION_COLUMNS):
        raise where.error(line, "no duration column",
                          "Add columns min, likely, max (working days; a Beta-PERT by default) or a column "
                          "duration for fixed durations; p10/p90 and mean/sd work too.")
    return cols


def _build(header: list[_Cell], body: list[list[_Cell]], settings: list[tuple[Any, ...]],
           where: _Where) -> tuple[dict[str, Any], dict[int, int]]:
    project, version, default_dist = _settings(settings, where)
    project = {"name": where.path.stem, **project}
    cols = _columns(header, body, where)
    titles = {j: _text(header[j].value) or "" for j in cols}

    rows: list[_Row] = []
    for rec in body:
        if all(_is_empty(c.value) for c in rec):
            continue
        extra = [c for j, c in enumerate(rec) if j >= len(header) and not _is_empty(c.value)]
        if extra:
            c = extra[0]
            raise where.error(c.line, f"this {where.unit} has more cells than the header "
                              f"({_text(c.value)!r} has no column)",
                              "Remove the extra cells, or quote a value that contains the separator.")
        cells = {canon: _Cell(rec[j].value, rec[j].line, titles[j], rec[j].letter)
                 for j, canon in cols.items() if j < len(rec)}
        row = _Row(rec[0].line if rec else 0, cells)
        id_cell = row.get("id")
        tid = _text(id_cell.value) if id_cell else None
        if tid is not None and tid.startswith("#"):
            continue                                        # a commented-out row
        if tid is None:
            raise where.error(row.line, "the row has content but no id",
                              "Give the task a unique id in the id column, or clear the row.")
        rows.append(row)

    ids = {_text(r.cells["id"].value) for r in rows}
    tasks = [_task(r, ids, default_dist, where) for r in rows]
    lines = {i: r.line for i, r in enumerate(rows)}
    return {"pmrisk": version, "project": project, "tasks": tasks}, lines


def _task(row: _Row, ids: set[str | None], default_dist: str | None, where: _Where) -> dict[str, Any]:
    tid = _text(row.cells["id"].value) or ""
    task: dict[str, Any] = {"id": tid}

    def cell(col: str) -> _Cell | None:
        c = row.get(col)
        return None if c is None or _is_empty(c.value) else c

    if (c := cell("name")) is not None:
        task["name"] = _text(c.value)
    milestone = False
    if (c := cell("milestone")) is not None:
        milestone = _flag(c, where, tid)
        if milestone:
            task["milestone"] = True

    duration = _duration(row, tid, milestone, default_dist, where)
    if duration is not None:
        task["duration"] = duration

    cost: dict[str, Any] = {}
    for col, key in (("cost_fixed", "fixed"), ("cost_per_day", "per_day")):
        if (c := cell(col)) is not None:
            cost[key] = _number(c, where, tid)
    if cost:
        task["cost"] = cost

    if (c := cell("depends_on")) is not None:
        task["depends_on"] = [_link(part, c, ids, tid, where) for part in _split_list(c.value) if part]
    if (c := cell("tags")) is not None:
        task["tags"] = [t for t in _split_list(c.value) if t]
    if (c := cell("start_no_earlier_than")) is not None:
        task["start_no_earlier_than"] = _date_or_number(c, where, tid)
    if (c := cell("notes")) is not None:
        task["notes"] = _text(c.value)
    return task


def _link(text: str, c: _Cell, ids: Iterable[str | None], tid: str, where: _Where) -> dict[str, Any]:
    try:
        pred, typ, lag = parse_link_text(text, {i for i in ids if i is not None})
    except ValueError as exc:
        raise where.error(c.line, str(exc), "Separate several predecessors with ';' or ','.",
                          task=tid, field=c.label) from None
    return {"task": pred, "type": typ, "lag": lag}


def _dist_name(name: str, where: _Where, line: int, tid: str | None, cell: _Cell | None = None) -> str:
    canon = _DIST_ALIASES.get(_key(name))
    if canon is not None:
        return canon
    known = ["pert", "triangular", "uniform", "normal", "lognormal", "trigen", "fixed"]
    close = difflib.get_close_matches(_key(name), known, n=1)
    hint = f"Did you mean '{close[0]}'? " if close else ""
    raise where.error(line, f"unknown distribution '{name}'",
                      f"{hint}Use one of {', '.join(known)} (discrete distributions need a YAML file).",
                      task=tid, field=cell.label if cell else None)


def _duration(row: _Row, tid: str, milestone: bool, default_dist: str | None,
              where: _Where) -> int | float | dict[str, Any] | None:
    """The row's duration: a number, a distribution spec, or None (milestone)."""
    nums: dict[str, int | float] = {}
    for col in (*_RANGE, "lambda", "duration"):
        c = row.get(col)
        if c is not None:
            v = _number(c, where, tid)
            if v is not None:
                nums[col] = v
    dist_cell = row.get("dist")
    dist = None
    if dist_cell is not None and (name := _text(dist_cell.value)):
        dist = _dist_name(name, where, dist_cell.line, tid, dist_cell)
    params = {k: v for k, v in nums.items() if k in _RANGE or k == "lambda"}
    fixed = nums.get("duration")
    line = row.line


    if dist == "fixed":
        value = fixed if fixed is not None else params.get("likely")
        others = [k for k in params if not (k == "likely" and fixed is None)]
        if value is None or others:
            raise where.error(line, "a fixed duration needs exactly one value",
                              "Put it in the duration column and leave min/likely/max/p10/p90/mean/sd empty.",
                              task=tid)
        return value

    if not any(k in _RANGE for k in params):
        if "lambda" in params:
            raise where.error(line, "lambda is given but no min/likely/max",
                              "Fill min, likely and max (lambda shapes a pert), or clear lambda.", task=tid)
        if dist is not None:
            need = ", ".join(_DISTS[dist][0]) if dist in _DISTS else "p10, p90 (or mean, sd)"
            raise where.error(line, f"dist is {dist} but the estimate is empty",
                              f"Fill {need}, or clear the dist cell for a fixed duration.", task=tid)
        if fixed is not None:
            return fixed
        if milestone:
            return None
        raise where.error(line, "no duration",
                          "Fill min, likely and max (working days), or a fixed duration, or mark the task as a "
                          "milestone (yes in a 'milestone' column).", task=tid)

    if dist is None:
        if "mean" in params or "sd" in params:
            dist = "normal"
        elif "p10" in params or "p90" in params:
            dist = "trigen" if "likely" in params else "lognormal"
        else:
            dist = default_dist or "pert"

    if dist == "lognormal":
        required = ("mean", "sd") if ("mean" in params or "sd" in params) else ("p10", "p90")
        optional: tuple[str, ...] = ()
    elif dist in _DISTS:
        required, optional = _DISTS[dist]  # type: ignore[assignment]
    else:                                          # a name only the distributions module knows
        spec: dict[str, Any] = {"dist": dist, **params}
        return spec

    if fixed is not None:
        if "likely" in required and "likely" not in params:
            params["likely"] = fixed               # the planned duration is the most likely value
        elif params.get("likely") != fixed:
            raise where.error(line, f"both a fixed duration ({fixed:g}) and an estimate range are given",
                              "Clear the duration cell (or the range cells) of this row.", task=tid)

    missing = [k for k in required if k not in params]
    if missing:
        present = [f"'{c.column}'" for k in missing if (c := row.get(k)) is not None]
        absent = [f"'{k}'" for k in missing if row.get(k) is None]
        todo = " and ".join(
            ([f"fill in {' and '.join(present)}"] if present else [])
            + ([f"add a column {' and '.join(absent)}"] if absent else []))
        raise where.error(line, f"the {dist} estimate misses {', '.join(missing)}",
                          f"A {dist} needs {', '.join(required)}: {todo}; or clear the range and give a "
                          "single value in a 'duration' column for a fixed duration.", task=tid)
    unused = [k for k in params if k not in required and k not in optional]
    if unused:
        raise where.error(line, f"{', '.join(unused)} given but a {dist} uses only "
                          f"{', '.join(required + optional)}",
                          "Clear those cells, or set the dist column to the distribution they describe.",
                          task=tid)
    return {"dist": dist, **{k: params[k] for k in (*required, *optional) if k in params}}
