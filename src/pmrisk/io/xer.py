"""Read a Primavera P6 XER export into a pmrisk project (a clean-room reader, written from the format).

An XER file is tab-separated text: an ``ERMHDR`` header line, then tables, each a ``%T`` line
(table name), a ``%F`` line (field names) and ``%R`` rows, ended by ``%E``. P6 writes it in the
Windows code page (cp1252); UTF-8 files are recognised too. A row with fewer values than its
``%F`` fields (P6 leaves out trailing empty ones) reads the missing ones as empty; a row with more
is an error. The reader uses PROJECT, CALENDAR,
PROJWBS, TASK and TASKPRED, and where present SCHEDOPTIONS (the lag calendar), TASKRSRC/RSRC and
PROJCOST (costs), ACTVTYPE/ACTVCODE/TASKACTV (activity codes) and UDFTYPE/UDFVALUE (estimate ranges).

How P6 maps onto pmrisk
-----------------------
- **Time** runs from the project's data date (``last_recalc_date``; ``next_data_date`` or the
  planned start when it is missing): ``project.start`` is the data date, completed activities
  take 0 working days, in-progress ones their remaining duration, not-started ones their
  remaining (= planned) duration. Links from started work keep their lag counted from the actual
  start or finish, so a lag already elapsed before the data date is not simulated again; links
  into completed activities are dropped (their dates are actuals).
- **Hours to working days**: durations (``remain_drtn_hr_cnt``, else ``target_drtn_hr_cnt``) are
  divided by the hours per day (``day_hr_cnt``, default 8) of the activity's own calendar; lags
  (``lag_hr_cnt``) by those of the calendar P6's scheduling option names
  (SCHEDOPTIONS ``sched_calendar_on_relationship_lag``: predecessor, P6's default, successor,
  project default or 24 hours).
- **Calendar**: the project's default calendar becomes ``project.calendar`` (working weekdays from
  ``DaysOfWeek``, non-working ``Exceptions`` as holidays; Excel serial dates). pmrisk has one
  calendar: activities on other calendars are noted, their hours converted with their own hours
  per day, their dates laid on the project calendar.
- **Activity types**: task and resource-dependent activities are tasks; start and finish
  milestones are milestones; level-of-effort and WBS-summary activities are not work and are
  dropped, their predecessors relinked to their successors where both links meet the same end of
  the dropped activity (``P -FF-> LOE -FS-> S`` becomes ``P -FS-> S``, lags added).
- **Constraints**: "start on or after" (``CS_MSOA``, primary or secondary) becomes
  ``start_no_earlier_than``; every other constraint (start/finish on, on or before, mandatory,
  as late as possible, ...) is listed in the notes as not honoured. The project's "must finish by"
  date (``plan_end_date``) becomes the deadline.
- **Costs** (TASKRSRC, PROJCOST): cost at completion = actual + remaining. Actual costs, material
  and expense costs are fixed; the remaining labour and equipment cost is spread per working day
  of the remaining duration, so it grows when the activity takes longer.
- **Estimate ranges**: ``ranges=`` names three user-defined fields (UDF labels) holding min,
  likely and max in working days; ``template=`` gives relative bounds (-10%/+25% style). Either
  gives triangular distributions around the remaining duration; without them durations are fixed
  (noted).

Dates with a time of day are kept as fractions of a working day (13:00 on an 08:00-12:00,
13:00-17:00 day is half a day in), so an activity's P6 early finish can be compared with pmrisk's
plan: ``extra["planned_duration"]`` is the P6 early finish of the project in working days from the
data date, ``extra["planned_finish_days"]`` the same per activity.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pmrisk.calendar import WEEKDAYS, Calendar
from pmrisk.errors import ProjectError
from pmrisk.io.formats import Imported
from pmrisk.project import FORMAT_VERSION

__all__ = ["read_xer"]

_LINK_TYPES = {"PR_FS": "FS", "PR_SS": "SS", "PR_FF": "FF", "PR_SF": "SF"}
_MILESTONES = {"TT_Mile", "TT_FinMile"}
_TASKS = {"TT_Task", "TT_Rsrc"}
_DROPPED = {"TT_LOE": "level-of-effort", "TT_WBS": "WBS-summary"}
_CONSTRAINTS = {
    "CS_MSO": "Start On", "CS_MSOB": "Start On or Before", "CS_MSOA": "Start On or After",
    "CS_MEO": "Finish On", "CS_MEOB": "Finish On or Before", "CS_MEOA": "Finish On or After",
    "CS_ALAP": "As Late As Possible", "CS_MANDSTART": "Mandatory Start", "CS_MANDFIN": "Mandatory Finish",
}
_LAG_CALENDARS = {"rcal_Predecessor": "predecessor", "rcal_Successor": "successor",
                  "rcal_24Hour": "24 hours", "rcal_ProjDefault": "project default"}
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DEFAULT_HOURS = 8.0


# --------------------------------------------------------------------------------------------
# The text format
# --------------------------------------------------------------------------------------------


@dataclass
class _Table:
    """One ``%T`` table: its fields, rows (as dicts) and the file line of each row."""

    path: Path
    name: str
    line: int
    fields: list[str] = field(default_factory=list)
    field_line: int = 0
    rows: list[dict[str, str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def where(self, i: int | None = None, name: str | None = None) -> str:
        line = self.field_line or self.line if i is None else self.lines[i]
        return f"{self.path}, table {self.name}, line {line}" + (f", field {name}" if name else "")

    def text(self, i: int, name: str) -> str:
        return self.rows[i].get(name, "").strip()

    def num(self, i: int, name: str, default: float | None = 0.0) -> float | None:
        s = self.text(i, name)
        if not s:
            return default
        try:
            v = float(s)
        except ValueError:
            v = float("nan")
        if v != v or abs(v) == float("inf"):
            raise ProjectError(f"{self.where(i, name)}: {s!r} is not a number. "
                               "Re-export the file from P6, or correct the value.")
        return v

    def when(self, i: int, name: str) -> dt.datetime | None:
        s = self.text(i, name)
        if not s:
            return None
        for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
            try:
                return dt.datetime.strptime(s, fmt)
            except ValueError:
                pass
        raise ProjectError(f"{self.where(i, name)}: {s!r} is not a date; XER dates are written "
                           "'YYYY-MM-DD HH:MM'. Re-export the file from P6, or correct the value.")

    def require(self, *names: str) -> None:
        missing = [n for n in names if n not in self.fields]
        if missing:
            raise ProjectError(f"{self.where()}: the %F field list lacks {', '.join(missing)}. "
                               "Export the full table from P6.")


def _decode(path: Path, raw: bytes, encoding: str | None) -> str:
    def fail(exc: UnicodeDecodeError, what: str, how: str) -> ProjectError:
        line = raw[:exc.start].count(b"\n") + 1
        return ProjectError(f"{path}, line {line}: byte 0x{raw[exc.start]:02X} (file offset {exc.start}) cannot "
                            f"be decoded as {what}. {how}")

    if encoding:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise fail(exc, encoding, "Give the file's real encoding as encoding=.") from None
        except LookupError:
            raise ProjectError(f"{path}: unknown encoding {encoding!r}; use e.g. 'cp1252' or 'utf-8'.") from None
    try:                       # valid UTF-8 with non-ASCII bytes is almost never cp1252 text
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if raw.startswith(b"\xef\xbb\xbf"):
            raise fail(exc, "UTF-8 (the file starts with a UTF-8 mark)", "Save the file as UTF-8 or cp1252.") from None
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise fail(exc, "UTF-8 or Windows-1252 (cp1252), the encodings P6 writes",
                   "Pass encoding= naming the file's encoding (e.g. 'latin-1').") from None


def _parse(path: Path, encoding: str | None) -> tuple[list[str], dict[str, _Table], bool]:
    """Split an XER file into its header fields and tables; raise on a broken structure."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file. Check the path.") from None
    except IsADirectoryError:
        raise ProjectError(f"{path}: is a folder; give a P6 .xer file.") from None
    text = _decode(path, raw, encoding)
    header: list[str] = []
    tables: dict[str, _Table] = {}
    cur: _Table | None = None
    ended = False
    for n, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        tag, _, rest = line.partition("\t")
        if not header:
            if tag.strip() != "ERMHDR":
                raise ProjectError(f"{path}, line {n}: not a Primavera P6 XER file (it should start with "
                                   f"'ERMHDR', not {line[:30]!r}). Export the project from P6 as XER.")
            header = [tag, *rest.split("\t")]
        elif tag == "%T":
            name = rest.strip()
            if name in tables:
                raise ProjectError(f"{path}, line {n}: table {name} appears twice (first at line "
                                   f"{tables[name].line}). Re-export the file from P6.")
            cur = tables[name] = _Table(path, name, n)
        elif tag in ("%F", "%R") and cur is None:
            raise ProjectError(f"{path}, line {n}: a {tag} line before any %T table line. "
                               "Every table starts with '%T<tab>NAME'.")
        elif tag == "%F" and cur is not None:
            if cur.fields:
                raise ProjectError(f"{path}, table {cur.name}, line {n}: a second %F field list (the first is at "
                                   f"line {cur.field_line}). Re-export the file from P6.")
            cur.fields, cur.field_line = [f.strip() for f in rest.split("\t")], n
        elif tag == "%R" and cur is not None:
            if not cur.fields:
                raise ProjectError(f"{path}, table {cur.name}, line {n}: a %R row before the table's %F field "
                                   "list (the %F line is missing). Re-export the file from P6.")
            values = rest.split("\t")
            if len(values) == len(cur.fields) + 1 and values[-1] == "":
                values.pop()            # a trailing tab
            if len(values) > len(cur.fields):
                raise ProjectError(f"{path}, table {cur.name}, line {n}: the row has {len(values)} values but "
                                   f"%F (line {cur.field_line}) lists {len(cur.fields)} fields. A value may "
                                   "contain a tab; re-export the file from P6.")
            # P6 leaves out trailing empty values: the missing ones are empty
            cur.rows.append(dict(zip(cur.fields, values + [""] * (len(cur.fields) - len(values)), strict=True)))
            cur.lines.append(n)
        elif tag == "%E":
            ended = True
            break
        else:
            where = f"table {cur.name}, " if cur else ""
            raise ProjectError(f"{path}, {where}line {n}: unexpected line {line[:30]!r}; every line of an XER "
                               "file starts with %T, %F, %R or %E (a value may contain a line break). "
                               "Re-export the file from P6.")
    if not header:
        raise ProjectError(f"{path}: the file is empty; export the project from P6 as XER.")
    return header, tables, ended


# --------------------------------------------------------------------------------------------
# Calendars
# --------------------------------------------------------------------------------------------

Periods = list[tuple[float, float]]      # working periods of a day, in hours since midnight


@dataclass
class _Node:
    name: str
    attrs: list[str]
    children: list[_Node]

    def find(self, name: str) -> _Node | None:
        for c in self.children:
            if c.name == name:
                return c
            hit = c.find(name)
            if hit is not None:
                return hit
        return None


def _parse_clndr_data(s: str) -> _Node:
    """Parse P6's nested calendar string ``(0||Name(attrs)(children))`` into a tree."""
    pos = 0

    def skip() -> None:
        nonlocal pos
        while pos < len(s) and (s[pos].isspace() or s[pos] == "\x7f"):
            pos += 1

    def expect(ch: str) -> None:
        nonlocal pos
        skip()
        if pos >= len(s) or s[pos] != ch:
            raise ValueError(f"expected {ch!r} at character {pos}")
        pos += 1

    def until(ch: str) -> str:
        nonlocal pos
        end = s.find(ch, pos)
        if end < 0:
            raise ValueError(f"missing {ch!r} after character {pos}")
        out, pos = s[pos:end], end
        return out

    def node() -> _Node:
        nonlocal pos
        expect("(")
        head = until("(")
        name = head.split("||", 1)[-1].strip()
        pos += 1
        attrs = [a.strip() for a in until(")").split("|")]
        pos += 1
        expect("(")
        children = []
        skip()
        while pos < len(s) and s[pos] == "(":
            children.append(node())
            skip()
        expect(")")
        expect(")")
        return _Node(name, attrs, children)

    return node()


def _hours(text: str) -> float:
    h, _, m = text.partition(":")
    return int(h) + int(m or 0) / 60


def _periods(node: _Node) -> Periods:
    out = []
    for c in node.children:
        kv = dict(zip(c.attrs[::2], c.attrs[1::2], strict=False))
        if "s" in kv and "f" in kv:
            start, finish = _hours(kv["s"]), _hours(kv["f"])
            out.append((start, finish if finish > start else 24.0))
    return sorted(out)


@dataclass
class _Cal:
    """One P6 calendar: hours per day, working periods per weekday (0 = Monday), exceptions."""

    id: str
    name: str
    hours_per_day: float
    base: str
    line: int
    week: dict[int, Periods] | None = None
    holidays: set[dt.date] = field(default_factory=set)
    working: dict[dt.date, Periods] = field(default_factory=dict)
    problem: str | None = None

    def resolved(self, cals: Mapping[str, _Cal]) -> _Cal:
        """This calendar with what it inherits from its base calendar (weekdays, holidays)."""
        base = cals.get(self.base) if self.base and self.base != self.id else None
        if base is None:
            return self
        b = base.resolved({k: v for k, v in cals.items() if k != self.id})
        holidays = (b.holidays | self.holidays) - set(self.working)
        return _Cal(self.id, self.name, self.hours_per_day, "", self.line, self.week or b.week, holidays,
                    {**b.working, **self.working}, self.problem)


def _read_calendars(t: _Table | None) -> dict[str, _Cal]:
    cals: dict[str, _Cal] = {}
    if t is None:
        return cals
    t.require("clndr_id")
    for i in range(len(t.rows)):
        hpd = t.num(i, "day_hr_cnt", None)
        cal = _Cal(t.text(i, "clndr_id"), t.text(i, "clndr_name") or t.text(i, "clndr_id"),
                   hpd if hpd and hpd > 0 else _DEFAULT_HOURS, t.text(i, "base_clndr_id"), t.lines[i])
        data = t.text(i, "clndr_data")
        try:
            tree = _parse_clndr_data(data) if data else None
        except (ValueError, IndexError) as exc:
            cal.problem = f"cannot read its clndr_data ({exc}) at line {t.lines[i]}"
            tree = None
        if tree is not None:
            days = tree.find("DaysOfWeek")
            if days is not None:
                cal.week = {(int(d.name) - 2) % 7: _periods(d) for d in days.children if d.name.isdigit()}
            exc_node = tree.find("Exceptions")
            for e in exc_node.children if exc_node else []:
                kv = dict(zip(e.attrs[::2], e.attrs[1::2], strict=False))
                try:
                    day = _EXCEL_EPOCH + dt.timedelta(days=int(float(kv["d"])))
                except (KeyError, ValueError, OverflowError):
                    continue
                if _periods(e):
                    cal.working[day] = _periods(e)
                else:
                    cal.holidays.add(day)
        if hpd is None and cal.week:      # no day_hr_cnt: the average working day of the week
            worked = [sum(b - a for a, b in p) for p in cal.week.values() if p]
            cal.hours_per_day = sum(worked) / len(worked) if worked else _DEFAULT_HOURS
        cals[cal.id] = cal
    return cals


@dataclass
class _Timeline:
    """Positions of P6 dates in working days from the data date, on the project calendar."""

    calendar: Calendar
    start: dt.date
    week: dict[int, Periods]

    def frac(self, when: dt.datetime) -> float:
        periods = self.week.get(when.weekday()) or [(8.0, 12.0), (13.0, 17.0)]
        h = when.hour + when.minute / 60 + when.second / 3600
        total = sum(b - a for a, b in periods)
        return sum(max(0.0, min(b, h) - a) for a, b in periods) / total if total else 0.0

    def pos(self, when: dt.datetime) -> float:
        day = when.date()
        off = float(self.calendar.offset_of(self.start, day))
        return off + self.frac(when) if self.calendar.is_workday(day) else off


# --------------------------------------------------------------------------------------------
# The project
# --------------------------------------------------------------------------------------------


@dataclass
class _Act:
    """One TASK row of the chosen project, as read."""

    row: int
    task_id: str
    code: str
    name: str
    type: str
    status: str
    cal: _Cal
    days: float                   # remaining working days (0 when complete)
    planned_days: float           # target (planned) working days
    act_start: dt.datetime | None
    act_end: dt.datetime | None
    early_end: dt.datetime | None
    wbs: str = ""
    tags: list[str] = field(default_factory=list)


@dataclass
class _Link:
    pred: str                     # task_id
    succ: str
    type: str
    lag: float                    # working days


def _choose_project(path: Path, tables: Mapping[str, _Table], wanted: str | int | None) -> int:
    t = tables.get("PROJECT")
    if t is None or not t.rows:
        raise ProjectError(f"{path}: no PROJECT table (or it has no rows); export a project from P6 as XER.")
    t.require("proj_id")
    if wanted is None and len(t.rows) == 1:
        return 0
    names = [f"{t.text(i, 'proj_short_name') or '?'} (proj_id {t.text(i, 'proj_id')})" for i in range(len(t.rows))]
    if wanted is not None:
        for i in range(len(t.rows)):
            if str(wanted).strip() in (t.text(i, "proj_id"), t.text(i, "proj_short_name")):
                return i
        raise ProjectError(f"{path}: no project {wanted!r} in the file; it holds {', '.join(names)}. "
                           "Name one by its proj_short_name or proj_id.")
    raise ProjectError(f"{path}: the file holds {len(t.rows)} projects: {', '.join(names)}. "
                       "Choose one with project= (its proj_short_name or proj_id).")


def _wbs_paths(tables: Mapping[str, _Table], proj_id: str, sep: str) -> tuple[dict[str, str], str | None]:
    """WBS code path of every WBS node of the project (root included), and the root's name."""
    t = tables.get("PROJWBS")
    if t is None or "wbs_id" not in t.fields:
        return {}, None
    nodes = {t.text(i, "wbs_id"): i for i in range(len(t.rows)) if t.text(i, "proj_id") in ("", proj_id)}
    root_name = next((t.text(i, "wbs_name") for i in nodes.values() if t.text(i, "proj_node_flag") == "Y"), None)
    paths: dict[str, str] = {}
    for wid in nodes:
        parts, cur, seen = [], wid, set()
        while cur in nodes and cur not in seen:
            seen.add(cur)
            i = nodes[cur]
            parts.append(t.text(i, "wbs_short_name") or cur)
            cur = t.text(i, "parent_wbs_id")
        paths[wid] = sep.join(reversed(parts))
    return paths, root_name


def _activity_codes(tables: Mapping[str, _Table]) -> dict[str, dict[str, str]]:
    """Activity code values per task_id: ``{task_id: {code type: code value}}``."""
    ta, types, codes = tables.get("TASKACTV"), tables.get("ACTVTYPE"), tables.get("ACTVCODE")
    if ta is None or not ta.rows:
        return {}
    tname = {types.text(i, "actv_code_type_id"): types.text(i, "actv_code_type")
             for i in range(len(types.rows))} if types else {}
    cname = {codes.text(i, "actv_code_id"): codes.text(i, "short_name") or codes.text(i, "actv_code_name")
             for i in range(len(codes.rows))} if codes else {}
    out: dict[str, dict[str, str]] = {}
    for i in range(len(ta.rows)):
        typ = ta.text(i, "actv_code_type_id")
        code = ta.text(i, "actv_code_id")
        out.setdefault(ta.text(i, "task_id"), {})[tname.get(typ) or typ] = cname.get(code) or code
    return out


def _bridge(links: list[_Link], drop: Iterable[str]) -> tuple[list[_Link], int, int]:
    """Remove the ``drop`` activities, joining each incoming link to each outgoing one that meets
    the same end of the removed activity (lags added). The same link twice keeps the longer lag,
    which binds. Returns the links and how many were made and left out."""
    live: dict[tuple[str, str, str], float] = {}
    into: dict[str, dict[tuple[str, str, str], None]] = {}     # ordered sets: the same result every run
    out: dict[str, dict[tuple[str, str, str], None]] = {}

    def add(key: tuple[str, str, str], lag: float) -> None:
        if key not in live or lag > live[key]:
            live[key] = lag
            out.setdefault(key[0], {})[key] = None
            into.setdefault(key[1], {})[key] = None

    for lk in links:
        add((lk.pred, lk.succ, lk.type), lk.lag)
    made = lost = 0
    for x in drop:
        ins = [(k, live.pop(k)) for k in into.pop(x, {}) if k in live]
        outs = [(k, live.pop(k)) for k in out.pop(x, {}) if k in live]
        for a, la in ins:
            for b, lb in outs:
                if a[2][1] == b[2][0] and a[0] != b[1]:
                    add((a[0], b[1], a[2][0] + b[2][1]), la + lb)
                    made += 1
        lost += sum(all(a[2][1] != b[2][0] for b, _ in outs) for a, _ in ins)
        lost += sum(all(a[2][1] != b[2][0] for a, _ in ins) for b, _ in outs)
    return [_Link(p, s, t, lag) for (p, s, t), lag in live.items()], made, lost


def _template_for(template: Any, tid: str, tags: Sequence[str], typ: str) -> tuple[float, float] | None:
    if isinstance(template, Mapping):
        for key in (tid, *tags, typ, "*"):
            if key in template:
                return _pair(template[key])
        return None
    return _pair(template)


def _pair(value: Any) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ProjectError(f"template: {value!r} is not a pair (low, high) of relative changes such as "
                           "(-0.10, 0.25) for -10%/+25%.") from None
    if not -1.0 <= low <= 0.0 <= high:
        raise ProjectError(f"template: ({low:g}, {high:g}) must have -1 <= low <= 0 <= high, e.g. (-0.10, 0.25).")
    return low, high


def _round(x: float) -> float:
    r = round(x, 6)
    return int(r) if r == int(r) else r   # type: ignore[return-value]


def read_xer(path: str | os.PathLike[str], *, project: str | int | None = None,
             ranges: Sequence[str | None] | Mapping[str, str | None] | None = None,
             template: Any = None, encoding: str | None = None) -> Imported:
    """Read a Primavera P6 XER file into a pmrisk project mapping.

    Parameters
    ----------
    path
        The ``.xer`` file.
    project
        The project to read when the file holds several: its ``proj_short_name`` (the project ID
        P6 shows) or ``proj_id``. Required when there are several.
    ranges
        Activity user-defined fields (UDF labels as P6 shows them, or their ``user_field_N`` names)
        holding the minimum, most likely and maximum duration in working days: a sequence
        ``(min, likely, max)`` or a mapping with those keys. ``likely`` may be None: the P6
        duration is the most likely value. Activities with all three values get a triangular
        distribution (of the remaining duration, scaled by remaining / planned when in progress).
    template
        A quick-risk template for activities without a UDF range: ``(low, high)`` relative changes,
        e.g. ``(-0.10, 0.25)`` for -10%/+25% (triangular min, P6 duration, max), or a mapping from an
        activity ID, a tag (a WBS path or ``"code type:value"``), an activity type (``"TT_Task"``)
        or ``"*"`` (the rest) to such a pair; the first key that matches applies.
    encoding
        The file's text encoding; by default UTF-8 when the file is valid UTF-8, else cp1252.

    Returns
    -------
    Imported
        ``data`` (the project mapping), ``notes`` (what was converted or cannot be honoured) and
        ``extra``: ``data_date``, ``planned_duration`` and ``planned_finish`` (the P6 early
        finish of the project, working days from the data date, and its date),
        ``planned_finish_days`` (per activity), ``status``, ``actual_start``/``actual_finish``,
        ``wbs`` (path per activity), ``activity_codes``, ``hours_per_day`` (per calendar),
        ``lag_calendar``, ``dropped`` (LOE/WBS-summary activities), ``project_id``, ``project_code``.

    Raises
    ------
    pmrisk.errors.ProjectError
        For a file that is not XER or is broken: the message names the file, the table and the
        line, and what is wrong.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "p.xer"
    >>> rows = ["ERMHDR\\t8.0", "%T\\tPROJECT", "%F\\tproj_id\\tproj_short_name\\tlast_recalc_date",
    ...         "%R\\t1\\tDEMO\\t2027-01-04 00:00", "%T\\tTASK",
    ...         "%F\\ttask_id\\tproj_id\\ttask_code\\ttask_type\\ttarget_drtn_hr_cnt",
    ...         "%R\\t10\\t1\\tA\\tTT_Task\\t40", "%R\\t11\\t1\\tB\\tTT_Task\\t16",
    ...         "%T\\tTASKPRED", "%F\\ttask_id\\tpred_task_id\\tpred_type\\tlag_hr_cnt",
    ...         "%R\\t11\\t10\\tPR_FS\\t8", "%E"]
    >>> _ = f.write_text("\\n".join(rows), encoding="cp1252")
    >>> imp = read_xer(f)
    >>> [(t["id"], t["duration"]) for t in imp.data["tasks"]]
    [('A', 5), ('B', 2)]
    >>> imp.data["tasks"][1]["depends_on"]
    [{'task': 'A', 'type': 'FS', 'lag': 1}]
    """
    p = Path(path)
    header, tables, ended = _parse(p, encoding)
    return _Reader(p, header, tables).read(project, ranges, template, ended)


class _Reader:
    def __init__(self, path: Path, header: list[str], tables: dict[str, _Table]) -> None:
        self.path, self.header, self.tables = path, header, tables
        self.notes: list[str] = []

    def read(self, wanted: str | int | None, ranges: Any, template: Any, ended: bool) -> Imported:
        notes = self.notes
        if not ended:
            notes.append("The file has no %E end line; it may be cut short (check that every activity arrived).")
        pi = _choose_project(self.path, self.tables, wanted)
        pt = self.tables["PROJECT"]
        proj_id = pt.text(pi, "proj_id")
        code = pt.text(pi, "proj_short_name") or proj_id
        cals, pcal, calendar, week = self._calendars(pt.text(pi, "clndr_id"))
        data_date, line = self._data_date(pt, pi, calendar, week)
        sep = pt.text(pi, "name_sep_char") or "."
        wbs_paths, root_name = _wbs_paths(self.tables, proj_id, sep)
        codes = _activity_codes(self.tables)
        acts = self._activities(proj_id, code, cals, pcal, wbs_paths, sep, codes)
        ids = self._unique_ids(acts)
        links, lag_cal = self._links(acts, pcal, proj_id)
        links = self._drop_summaries(links, acts)
        kept = [a for a in acts.values() if a.type not in _DROPPED]
        links = self._progress(links, acts, line, data_date)
        snet = self._constraints(self.tables["TASK"], kept, line)
        costs = self._costs(acts)
        durations = self._durations(kept, ranges, template, ids)

        preds: dict[str, list[dict[str, Any]]] = {}
        for lk in links:
            preds.setdefault(lk.succ, []).append({"task": ids[lk.pred], "type": lk.type, "lag": _round(lk.lag)})
        tasks = []
        for a in kept:
            t: dict[str, Any] = {"id": ids[a.task_id], "name": a.name}
            if a.type in _MILESTONES:
                t["milestone"] = True
            else:
                t["duration"] = durations[a.task_id]
            for key, values in (("cost", costs), ("depends_on", preds), ("start_no_earlier_than", snet)):
                if a.task_id in values:
                    t[key] = values[a.task_id]
            if a.tags:
                t["tags"] = a.tags
            tasks.append(t)
        proj: dict[str, Any] = {"name": root_name or code, "start": line.start,
                                "calendar": {"workdays": list(calendar.workdays), "holidays": list(calendar.holidays)}}
        if len(self.header) > 8 and self.header[8].strip():
            proj["currency"] = self.header[8].strip()
        must_finish = pt.when(pi, "plan_end_date")
        if must_finish is not None and must_finish.date() >= line.start:
            proj["deadline"] = must_finish.date()
            notes.append(f"The project's 'must finish by' date {must_finish:%Y-%m-%d} is the deadline.")
        elif must_finish is not None:
            notes.append(f"The project's 'must finish by' date {must_finish:%Y-%m-%d} lies before the data date "
                         "and is ignored.")
        extra = self._extra(kept, acts, ids, line, data_date, codes, cals, lag_cal, proj_id, code)
        return Imported(data={"pmrisk": FORMAT_VERSION, "project": proj, "tasks": tasks},
                        notes=notes, extra=extra, fmt="xer")

    # ---- pieces ------------------------------------------------------------------------------
    def _calendars(self, default_id: str) -> tuple[dict[str, _Cal], _Cal, Calendar, dict[int, Periods]]:
        """All calendars, the project's default one, and it as a pmrisk calendar with its work periods."""
        notes, ct = self.notes, self.tables.get("CALENDAR")
        raw = _read_calendars(ct)
        cals = {k: c.resolved(raw) for k, c in raw.items()}
        if default_id not in cals:
            flagged = [ct.text(i, "clndr_id") for i in range(len(ct.rows)) if ct.text(i, "default_flag") == "Y"] \
                if ct else []
            default_id = flagged[0] if flagged else next(iter(cals), "")
        if default_id not in cals:
            notes.append("No calendar in the file: Monday-Friday, 8 hours a day, no holidays assumed.")
            cals[default_id] = _Cal(default_id, "Standard (assumed)", _DEFAULT_HOURS, "", 0)
        pcal = cals[default_id]
        for c in cals.values():
            if c.problem:
                notes.append(f"Calendar '{c.name}': {c.problem}; Monday-Friday assumed for it.")
        week = pcal.week or {}
        if not any(week.values()):
            if pcal.week is not None:
                notes.append(f"Calendar '{pcal.name}' has no working weekday; Monday-Friday assumed.")
            week = {d: [(8.0, min(24.0, 8.0 + pcal.hours_per_day))] for d in range(5)}
        workdays = [WEEKDAYS[d] for d in range(7) if week.get(d)]
        holidays = sorted(d for d in pcal.holidays if WEEKDAYS[d.weekday()] in workdays)
        odd = sorted(d for d in pcal.working if WEEKDAYS[d.weekday()] not in workdays)
        if odd:
            notes.append(f"Calendar '{pcal.name}': {len(odd)} worked exception day(s) on non-working weekdays "
                         f"(first {odd[0]}) cannot be represented in a pmrisk calendar and are ignored.")
        return cals, pcal, Calendar(tuple(workdays), tuple(holidays)), week

    def _data_date(self, pt: _Table, pi: int, calendar: Calendar,
                   week: dict[int, Periods]) -> tuple[dt.datetime, _Timeline]:
        """The data date, and the timeline whose day 0 is the working day it falls in."""
        data_date = next((pt.when(pi, f) for f in ("last_recalc_date", "next_data_date", "plan_start_date")
                          if pt.when(pi, f) is not None), None)
        if data_date is None:
            raise ProjectError(f"{pt.where(pi)}: the project has no data date (last_recalc_date) nor planned "
                               "start (plan_start_date). Schedule the project in P6 (F9) and export it again.")
        line = _Timeline(calendar, calendar.first_workday(data_date.date()), week)
        if line.start == data_date.date() and line.frac(data_date) >= 1.0:       # at the end of the day
            line = _Timeline(calendar, calendar.first_workday(line.start + dt.timedelta(days=1)), week)
        elif line.start == data_date.date() and line.frac(data_date) > 0.0:
            self.notes.append(f"The data date {data_date:%Y-%m-%d %H:%M} falls inside a working day; remaining work "
                              "is simulated from the start of that day.")
        return data_date, line

    def _activities(self, proj_id: str, code: str, cals: Mapping[str, _Cal], pcal: _Cal,
                    wbs_paths: Mapping[str, str], sep: str, codes: Mapping[str, Mapping[str, str]]) -> dict[str, _Act]:
        """The project's TASK rows by task_id, durations in working days of their own calendar."""
        tt = self.tables.get("TASK")
        if tt is None:
            raise ProjectError(f"{self.path}: no TASK table; the file holds no activities. Export the project's "
                               "activities from P6.")
        tt.require("task_id", "task_code")
        if "remain_drtn_hr_cnt" not in tt.fields:
            tt.require("target_drtn_hr_cnt")
        acts: dict[str, _Act] = {}
        other_cal: dict[str, list[str]] = {}
        missing_cal: list[str] = []
        for i in range(len(tt.rows)):
            if tt.text(i, "proj_id") not in ("", proj_id):
                continue
            tid, tcode = tt.text(i, "task_id"), tt.text(i, "task_code")
            if not tid or not tcode:
                raise ProjectError(f"{tt.where(i)}: an activity without task_id or task_code (Activity ID). "
                                   "Re-export the file from P6.")
            if tid in acts:
                raise ProjectError(f"{tt.where(i)}: task_id {tid} appears twice (first at line "
                                   f"{tt.lines[acts[tid].row]}). Re-export the file from P6.")
            cid = tt.text(i, "clndr_id")
            cal = cals.get(cid, pcal)
            if cid and cid not in cals:
                missing_cal.append(tcode)
            elif cal is not pcal:
                other_cal.setdefault(cal.name, []).append(tcode)
            target = tt.num(i, "target_drtn_hr_cnt", None)
            remain = tt.num(i, "remain_drtn_hr_cnt", None)
            status = tt.text(i, "status_code") or "TK_NotStart"
            hours = 0.0 if status == "TK_Complete" else (remain if remain is not None else target or 0.0)
            if hours < 0 or (target or 0) < 0:
                raise ProjectError(f"{tt.where(i)} (activity {tcode}): negative duration. Correct it in P6.")
            wbs = wbs_paths.get(tt.text(i, "wbs_id"), "")
            parts = wbs.split(sep) if wbs else []
            tags = [sep.join(parts[:k]) for k in range(1, len(parts) + 1)]
            tags += [f"{k}:{v}" for k, v in codes.get(tid, {}).items()]
            acts[tid] = _Act(i, tid, tcode, tt.text(i, "task_name") or tcode, tt.text(i, "task_type") or "TT_Task",
                             status, cal, _round(hours / cal.hours_per_day), _round((target or 0) / cal.hours_per_day),
                             tt.when(i, "act_start_date"), tt.when(i, "act_end_date"),
                             self._early_end(tt, i, status), wbs, tags)
        if not acts:
            raise ProjectError(f"{self.path}: project {code} has no activities in table TASK.")
        if missing_cal:
            self.notes.append(f"Activities on a calendar missing from the file use the project's: "
                              f"{_list(missing_cal)}.")
        if other_cal:
            where = "; ".join(f"'{k}' ({_list(v)})" for k, v in other_cal.items())
            self.notes.append(f"pmrisk schedules on one calendar ('{pcal.name}', the project's default). Activities "
                              f"on other calendars: {where}; their hours are converted with their calendar's hours "
                              "per day, their dates follow the project calendar.")
        unknown = sorted({a.type for a in acts.values()} - _TASKS - _MILESTONES - set(_DROPPED))
        if unknown:
            self.notes.append(f"Unknown activity type(s) {', '.join(unknown)} read as ordinary tasks.")
        return acts

    def _drop_summaries(self, links: list[_Link], acts: Mapping[str, _Act]) -> list[_Link]:
        """Drop level-of-effort and WBS-summary activities, bridging their links."""
        drop = [a.task_id for a in acts.values() if a.type in _DROPPED]
        if not drop:
            return links
        links, made, lost = _bridge(links, drop)
        for typ, what in _DROPPED.items():
            names = [acts[t].code for t in drop if acts[t].type == typ]
            if names:
                one = len(names) == 1
                self.notes.append(f"{len(names)} {what} activit{'y' if one else 'ies'} ({_list(names)}) dropped: P6 "
                                  f"derives {'its' if one else 'their'} dates from other activities; it is not work "
                                  "to simulate.")
        if made or lost:
            self.notes.append(f"Links through dropped activities: {made} predecessor-successor link(s) made (lags "
                              f"added), {lost} link(s) that met a different end of the dropped activity left out.")
        return links

    def _rows(self, name: str) -> list[tuple[_Table, int]]:
        """``(table, row index)`` of every row of a table (none when the file lacks it)."""
        t = self.tables.get(name)
        return [(t, i) for i in range(len(t.rows))] if t else []

    def _udf_values(self, names: Sequence[str | None], task_ids: set[str]) -> list[dict[str, float]]:
        """Values of the named activity user-defined fields by task_id (one dict per name; {} for None)."""
        types = [(t, i) for t, i in self._rows("UDFTYPE") if t.text(i, "table_name") in ("", "TASK")]
        known = {t.text(i, key).lower(): t.text(i, "udf_type_id")
                 for t, i in reversed(types) for key in ("udf_type_name", "udf_type_label") if t.text(i, key)}
        out: list[dict[str, float]] = []
        for name in names:
            if name is None:
                out.append({})
                continue
            type_id = known.get(str(name).strip().lower())
            if type_id is None:
                labels = sorted({t.text(i, "udf_type_label") for t, i in types})
                have = f"the activity UDFs are: {', '.join(labels)}" if labels else "it has no activity UDFs (UDFTYPE)"
                raise ProjectError(f"{self.path}: no activity user-defined field {name!r} for ranges=; {have}.")
            vals: dict[str, float] = {}
            for t, i in self._rows("UDFVALUE"):
                if t.text(i, "udf_type_id") == type_id and t.text(i, "fk_id") in task_ids:
                    v = t.num(i, "udf_number", None)
                    v = t.num(i, "udf_text", None) if v is None else v
                    if v is not None:
                        vals[t.text(i, "fk_id")] = v
            out.append(vals)
        return out

    @staticmethod
    def _early_end(t: _Table, i: int, status: str) -> dt.datetime | None:
        """P6's (remaining) early finish; the planned finish of a not-started activity when unscheduled."""
        names = ["early_end_date", "reend_date"] + (["target_end_date"] if status == "TK_NotStart" else [])
        return next((w for w in (t.when(i, n) for n in names) if w is not None), None)

    def _unique_ids(self, acts: Mapping[str, _Act]) -> dict[str, str]:
        ids: dict[str, str] = {}
        seen: set[str] = set()
        dup = []
        for a in acts.values():
            tid = a.code
            if tid in seen:
                dup.append(tid)
                tid = f"{a.code}#{a.task_id}"
            seen.add(tid)
            ids[a.task_id] = tid
        if dup:
            self.notes.append(f"Activity ID(s) used twice ({_list(dup)}): the later ones are named "
                              "'ID#task_id'.")
        return ids

    def _links(self, acts: Mapping[str, _Act], pcal: _Cal, proj_id: str) -> tuple[list[_Link], str]:
        """TASKPRED rows within the project, lags in working days, and the lag calendar used."""
        tables = self.tables
        opt = tables.get("SCHEDOPTIONS")
        rows = [i for i in range(len(opt.rows)) if opt.text(i, "proj_id") in ("", proj_id)] if opt else []
        setting = opt.text(rows[0], "sched_calendar_on_relationship_lag") if opt and rows else ""
        lag_cal = _LAG_CALENDARS.get(setting, "predecessor")
        t = tables.get("TASKPRED")
        links: list[_Link] = []
        if t is None:
            return links, lag_cal
        t.require("task_id", "pred_task_id")
        all_tasks = tables["TASK"]
        everywhere = {all_tasks.text(i, "task_id") for i in range(len(all_tasks.rows))}
        external = 0
        for i in range(len(t.rows)):
            succ, pred = t.text(i, "task_id"), t.text(i, "pred_task_id")
            if succ not in acts and pred not in acts:
                continue                               # a link of another project
            for role, tid in (("successor", succ), ("predecessor", pred)):
                if tid not in acts and tid not in everywhere and t.text(i, "pred_proj_id" if role == "predecessor"
                                                                        else "proj_id") in ("", proj_id):
                    raise ProjectError(f"{t.where(i)}: unknown {role} task_id {tid!r}; it is not in table TASK. "
                                       "Re-export the file from P6 with all of the project's activities.")
            if succ not in acts or pred not in acts:
                external += 1
                continue
            typ = t.text(i, "pred_type") or "PR_FS"
            if typ not in _LINK_TYPES:
                raise ProjectError(f"{t.where(i, 'pred_type')}: unknown relationship type {typ!r}; P6 writes "
                                   "PR_FS, PR_SS, PR_FF or PR_SF.")
            hours = t.num(i, "lag_hr_cnt") or 0.0
            if lag_cal == "24 hours":
                lag = hours / 24 * len([d for d in (pcal.week or {}).values() if d] or range(5)) / 7
            else:
                cal = {"predecessor": acts[pred].cal, "successor": acts[succ].cal}.get(lag_cal, pcal)
                lag = hours / cal.hours_per_day
            links.append(_Link(pred, succ, _LINK_TYPES[typ], lag))
        if external:
            self.notes.append(f"{external} link(s) to activities of other projects left out (pmrisk simulates one "
                              "project; add the other project's dates as constraints if they drive this one).")
        if any(lk.lag for lk in links):
            how = {"predecessor": "the predecessor's calendar (P6's default)", "successor": "the successor's "
                   "calendar", "project default": "the project's default calendar",
                   "24 hours": "a 24-hour calendar (converted to working days at the project's working days per "
                   "week)"}[lag_cal]
            why = "as the project's scheduling option says" if setting else "the file has no scheduling option"
            self.notes.append(f"Lags converted from hours to working days with the hours per day of {how} ({why}).")
        return links, lag_cal

    def _progress(self, links: list[_Link], acts: Mapping[str, _Act], line: _Timeline,
                  data_date: dt.datetime) -> list[_Link]:
        done = [a for a in acts.values() if a.status == "TK_Complete" and a.type not in _DROPPED]
        active = [a for a in acts.values() if a.status == "TK_Active" and a.type not in _DROPPED]
        out, dropped_into_done, out_of_sequence = [], 0, 0
        for lk in links:
            pred, succ = acts[lk.pred], acts[lk.succ]
            if succ.status == "TK_Complete":
                dropped_into_done += 1
                out_of_sequence += pred.status != "TK_Complete"
                continue
            anchor = None
            if pred.status == "TK_Complete":
                anchor = pred.act_end or pred.act_start if lk.type[0] == "F" else pred.act_start or pred.act_end
            elif pred.status == "TK_Active" and lk.type[0] == "S":
                anchor = pred.act_start
            if anchor is not None:         # the lag runs from the actual date, not from the data date
                lk = _Link(lk.pred, lk.succ, lk.type, max(0.0, lk.lag + min(line.pos(anchor), 0.0)))
            out.append(lk)
        if done or active:
            msg = (f"Progress at the data date {data_date:%Y-%m-%d}: the simulation starts there. "
                   f"Completed activities ({len(done)}) take 0 days; activities in progress ({len(active)}) take "
                   "their remaining duration")
            if active:
                msg += f" ({_list([a.code for a in active])})"
            msg += ". Lags from started work run from its actual dates."
            if dropped_into_done:
                msg += f" {dropped_into_done} link(s) into completed activities left out"
                msg += f" ({out_of_sequence} of them out of sequence: the predecessor is not complete)." \
                    if out_of_sequence else "."
            self.notes.append(msg)
        return out

    def _constraints(self, t: _Table, kept: Sequence[_Act], line: _Timeline) -> dict[str, float]:
        snet: dict[str, float] = {}
        ignored: dict[str, list[str]] = {}
        for a in kept:
            for typ_f, date_f in (("cstr_type", "cstr_date"), ("cstr_type2", "cstr_date2")):
                typ = t.text(a.row, typ_f)
                if not typ or a.status == "TK_Complete":
                    continue
                if typ == "CS_MSOA" and a.status == "TK_NotStart":
                    when = t.when(a.row, date_f)
                    if when is None:
                        raise ProjectError(f"{t.where(a.row, date_f)} (activity {a.code}): a 'start on or after' "
                                           "constraint without a date. Give the date in P6.")
                    off = line.pos(when)
                    if off > 0:
                        snet[a.task_id] = max(snet.get(a.task_id, 0.0), _round(off))
                elif typ != "CS_MSOA":
                    ignored.setdefault(typ, []).append(a.code)
        if snet:
            self.notes.append(f"{len(snet)} 'start on or after' constraint(s) kept as start_no_earlier_than.")
        for typ, codes in ignored.items():
            self.notes.append(f"Constraint '{_CONSTRAINTS.get(typ, typ)}' ({typ}) is not honoured by pmrisk "
                              f"(activities scheduled as soon as their links allow): {_list(codes)}.")
        return snet

    def _costs(self, acts: Mapping[str, _Act]) -> dict[str, dict[str, float]]:
        """Cost at completion per activity: ``{fixed, per_day}`` from TASKRSRC and PROJCOST."""
        fixed: dict[str, float] = {}
        spread: dict[str, float] = {}
        kinds = {t.text(i, "rsrc_id"): t.text(i, "rsrc_type") for t, i in self._rows("RSRC")}
        n = {"TASKRSRC": 0, "PROJCOST": 0}
        for table, actual_fields in (("TASKRSRC", ("act_reg_cost", "act_ot_cost")), ("PROJCOST", ("act_cost",))):
            for t, i in self._rows(table):
                a = acts.get(t.text(i, "task_id"))
                if a is None:
                    continue
                n[table] += 1
                remain = t.num(i, "remain_cost", None)
                if remain is None:
                    remain = 0.0 if a.status == "TK_Complete" else t.num(i, "target_cost") or 0.0
                fixed[a.task_id] = fixed.get(a.task_id, 0.0) + sum(t.num(i, f) or 0.0 for f in actual_fields)
                kind = t.text(i, "rsrc_type") or kinds.get(t.text(i, "rsrc_id"), "RT_Labor")
                if table == "PROJCOST" or kind == "RT_Mat" or a.days <= 0 or a.type in _MILESTONES:
                    fixed[a.task_id] += remain
                else:
                    spread[a.task_id] = spread.get(a.task_id, 0.0) + remain
        out: dict[str, dict[str, float]] = {}
        lost = 0.0
        for tid in set(fixed) | set(spread):
            if acts[tid].type in _DROPPED:
                lost += fixed.get(tid, 0.0) + spread.get(tid, 0.0)
                continue
            c = {"fixed": _round(fixed.get(tid, 0.0)), "per_day": _round(spread.get(tid, 0.0) / acts[tid].days)
                 if spread.get(tid) else 0}
            if c["fixed"] or c["per_day"]:
                out[tid] = c
        if n["TASKRSRC"] or n["PROJCOST"]:
            self.notes.append(f"Costs at completion from {n['TASKRSRC']} resource assignment(s) and "
                              f"{n['PROJCOST']} expense(s): actual, material and expense costs fixed; remaining labour "
                              "and equipment cost per working day of the remaining duration.")
        if lost:
            self.notes.append(f"Costs of {lost:,.2f} on dropped level-of-effort/WBS-summary activities are left out; "
                              "add them as fixed costs of other tasks if they belong in the total.")
        return out

    def _durations(self, kept: Sequence[_Act], ranges: Any, template: Any, ids: Mapping[str, str]) -> dict[str, Any]:
        work = [a for a in kept if a.type not in _MILESTONES]
        out: dict[str, Any] = {a.task_id: a.days for a in work}
        if ranges is not None:
            if isinstance(ranges, Mapping):
                unknown = set(ranges) - {"min", "likely", "max"}
                if unknown or "min" not in ranges or "max" not in ranges:
                    raise ProjectError("ranges: give the UDF names as {'min': ..., 'likely': ..., 'max': ...} "
                                       "(likely may be None: the P6 duration).")
                names = [ranges["min"], ranges.get("likely"), ranges["max"]]
            else:
                names = list(ranges)
                if len(names) != 3 or names[0] is None or names[2] is None:
                    raise ProjectError("ranges: give three UDF names (min, likely, max); likely may be None "
                                       "(the P6 duration).")
            lo, ml, hi = self._udf_values(names, {a.task_id for a in work})
        ranged = 0
        for a in work:
            if a.days <= 0:
                continue
            tri = None
            if ranges is not None and a.task_id in lo and a.task_id in hi and (names[1] is None or a.task_id in ml):
                scale = a.days / a.planned_days if a.status == "TK_Active" and a.planned_days > 0 else 1.0
                likely = ml[a.task_id] * scale if names[1] is not None else a.days
                tri = (lo[a.task_id] * scale, likely, hi[a.task_id] * scale)
                if not tri[0] <= tri[1] <= tri[2] or tri[0] < 0:
                    raise ProjectError(f"{self.path}: activity {ids[a.task_id]}: the range from the UDFs "
                                       f"({tri[0]:g}, {tri[1]:g}, {tri[2]:g}) must be 0 <= min <= likely <= max.")
            elif template is not None:
                pair = _template_for(template, ids[a.task_id], a.tags, a.type)
                if pair is not None:
                    tri = (a.days * (1 + pair[0]), a.days, a.days * (1 + pair[1]))
            if tri is not None and tri[0] < tri[2]:
                out[a.task_id] = {"dist": "triangular", "min": _round(tri[0]), "likely": _round(tri[1]),
                                  "max": _round(tri[2])}
                ranged += 1
        fixed = sum(1 for a in work if a.days > 0) - ranged
        if fixed:
            self.notes.append(f"{fixed} activit{'y has' if fixed == 1 else 'ies have'} a fixed duration (no estimate "
                              "range): name the min/likely/max UDFs with ranges= or give a quick-risk template= "
                              "(e.g. -10%/+25%) to simulate their uncertainty.")
        return out

    def _extra(self, kept: Sequence[_Act], acts: Mapping[str, _Act], ids: Mapping[str, str], line: _Timeline,
               data_date: dt.datetime, codes: Mapping[str, Mapping[str, str]], cals: Mapping[str, _Cal],
               lag_cal: str, proj_id: str, code: str) -> dict[str, Any]:
        finishes = {ids[a.task_id]: _round(max(line.pos(a.early_end), 0.0)) for a in kept
                    if a.early_end is not None and a.status != "TK_Complete"}
        ends = [a.early_end for a in kept if a.early_end is not None and a.status != "TK_Complete"]
        last = max(ends, default=None)
        unknown = not ends and any(a.status != "TK_Complete" for a in kept)     # not scheduled in P6
        status = {"TK_NotStart": "not started", "TK_Active": "in progress", "TK_Complete": "complete"}
        return {
            "project_id": proj_id, "project_code": code,
            "data_date": data_date.isoformat(timespec="minutes"),
            "planned_duration": None if unknown else max(finishes.values(), default=0),
            "planned_finish": last.date().isoformat() if last is not None else None,
            "planned_finish_days": finishes,
            "status": {ids[a.task_id]: status.get(a.status, a.status) for a in kept},
            "actual_start": {ids[a.task_id]: a.act_start.isoformat(timespec="minutes") for a in kept if a.act_start},
            "actual_finish": {ids[a.task_id]: a.act_end.isoformat(timespec="minutes") for a in kept
                              if a.act_end and a.status == "TK_Complete"},
            "wbs": {ids[a.task_id]: a.wbs for a in kept if a.wbs},
            "activity_codes": {ids[t]: dict(v) for t, v in codes.items() if t in ids},
            "hours_per_day": {c.name: c.hours_per_day for c in cals.values()},
            "lag_calendar": lag_cal,
            "dropped": {ids[a.task_id]: _DROPPED[a.type] for a in acts.values() if a.type in _DROPPED},
        }


def _list(names: Sequence[str], most: int = 10) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")

