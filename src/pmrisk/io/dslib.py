"""Read the Ghent DSLIB real-project workbooks (ProTrack exports) into a pmrisk project.

The DSLIB database (Batselier & Vanhoucke, Ghent University) publishes each real project as an
Excel workbook written by ProTrack. :func:`read_dslib` reads:

``Agenda``
    The calendar: which hours of the day and which weekdays are worked, and holidays. A day of
    work is the number of worked hours (8 in most workbooks); a week is the number of worked
    weekdays. Without the sheet, Monday-Friday and 8 hours a day are assumed (noted).
``Baseline Schedule``
    One row per activity and per WBS group (a row whose WBS is the prefix of other rows' WBS is a
    group: kept out of the simulation, its links passed to its activities). ``Duration`` is written
    in *working* time (``"2d 5h"``, ``"4h"``, ``"3w"``; a day is the Agenda's worked hours), so
    durations become pmrisk working days; the sheet's last column, where present, gives the same
    span in calendar days and is not used. Rows without ID and name (totals below the table) and,
    in workbooks without WBS codes, rows without duration, start and links (headings) are skipped;
    an exact copy of a row is read once. ``Predecessors`` such as ``12FS+1w 1d;13SS`` give the
    link type and lag (working time; ``%`` of the predecessor's duration too). ``Baseline Start``
    becomes ``start_no_earlier_than`` (working days after the project's start): ProTrack plans
    are levelled, so the links alone give a much shorter schedule than the one the project was
    run against. The project row (ID 0, the WBS root) gives the planned duration and budget.
``Resources``
    Cost per use and per unit of each resource. An activity's cost becomes ``fixed`` (its fixed
    cost, the resources' cost per use and consumable resources) plus ``per_day`` (its cost per
    hour and its renewable resources' unit cost times demand, times the hours of a day), so a
    longer activity costs more, as the tracking sheets show.
``Risk Analysis``
    Per activity Optimistic / Most Probable / Pessimistic: percentages of the baseline duration
    (``standard - ...`` and ``manual - relative`` profiles) or, for ``manual - absolute``,
    durations in hours. They become triangular distributions (ProTrack simulates triangular
    durations); an activity without values, or with values that make no range around its baseline
    (noted), keeps its baseline as a fixed duration.
``Project Control - TP1``, ``TP2``, ...
    Tracking periods. The last one gives, in ``extra["actuals"]``, the project's actual cost, its
    actual duration (working days from its actual start, as ProTrack counts it) and its actual
    ``finish`` (working days from the *planned* start to the last activity's actual finish: what a
    forecast of the project's duration from day 0 is compared with), and each activity's. Where the
    project row of the tracking sheet is empty, the project's actuals are summed from its activities.

Before the project is simulated, its baseline (every activity at its baseline duration, with its
links and baseline start) is scheduled with :func:`pmrisk.engine.simulate.deterministic_plan`;
``extra["plan_check"]`` says whether that reproduces the workbook's planned duration within
:data:`PLAN_TOLERANCE_DAYS` (a note says by how much when it does not).

Every problem with a workbook raises :class:`~pmrisk.errors.ProjectError` naming the file, the
sheet, the row and the column.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import os
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pmrisk.errors import ProjectError
from pmrisk.io.formats import Imported
from pmrisk.io.tabular import _is_empty, _open_workbook, _text, _Where

__all__ = ["PLAN_TOLERANCE_DAYS", "is_dslib_workbook", "read_dslib"]

#: How far (working days) the imported baseline's finish may be from the workbook's planned
#: duration and still count as reproducing it: half a working day, as baseline dates and
#: durations are rounded to the hour and whole days appear in the overview.
PLAN_TOLERANCE_DAYS = 0.5

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TP_RE = re.compile(r"^(?:project control\s*-\s*)?tp\s*(\d+)$")
_PART_RE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(weeks?|wks?|w|days?|d|hours?|hrs?|h|min|m|%)?", re.I)
_LINK_RE = re.compile(r"^\s*(\d+)\s*(FS|SS|FF|SF)?\s*(?:([+-])\s*(.+?))?\s*$", re.I)
_DEMAND_RE = re.compile(r"^\s*(.+?)\s*(?:\[\s*([0-9.]+)[^\]]*\])?\s*$")


def _norm(name: Any) -> str:
    return re.sub(r"\s+", " ", str(name or "")).strip().lower()


def _sheet_kind(title: str) -> str | None:
    t = _norm(title)
    for kind in ("baseline schedule", "risk analysis", "resources", "agenda"):
        if t == kind or (t.startswith(kind) and t[len(kind):].isdigit()):
            return kind
    return "tracking" if _TP_RE.match(t) else None


def is_dslib_workbook(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a DSLIB/ProTrack workbook (not a plain Excel task list).

    Looks only at the sheet names (read from the workbook's index, without loading it): a
    ``Baseline Schedule`` sheet together with a ``Risk Analysis``, ``Resources``, ``Agenda`` or
    tracking-period sheet. Never raises: a missing or unreadable file is not a DSLIB workbook.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from openpyxl import Workbook
    >>> wb = Workbook(); wb.active.title = "Baseline Schedule"; _ = wb.create_sheet("Risk Analysis")
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "p.xlsx"; wb.save(f)
    >>> is_dslib_workbook(f), is_dslib_workbook(f.with_name("missing.xlsx"))
    (True, False)
    """
    try:                                  # the sheet names from xl/workbook.xml, without loading the workbook
        with zipfile.ZipFile(path) as zf:
            xml = zf.read("xl/workbook.xml")[:1_000_000].decode("utf-8", errors="replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    names = [html.unescape(m.group(1)) for m in re.finditer(r"<(?:\w+:)?sheet\b[^>]*?\bname=\"([^\"]*)\"", xml)]
    kinds = {_sheet_kind(t) for t in names}
    return "baseline schedule" in kinds and bool(kinds & {"risk analysis", "resources", "agenda", "tracking"})


# --------------------------------------------------------------------------------------------
# Calendar and working time
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Agenda:
    """Worked hours of a day (slot start hours), worked weekdays (Mon..Sun) and holidays."""

    hours: tuple[int, ...] = (8, 9, 10, 11, 13, 14, 15, 16)
    weekdays: tuple[bool, ...] = (True, True, True, True, True, False, False)
    holidays: tuple[dt.date, ...] = ()

    @property
    def hours_per_day(self) -> int:
        return len(self.hours)

    @property
    def days_per_week(self) -> int:
        return sum(self.weekdays)

    def _cal(self) -> np.busdaycalendar:
        return np.busdaycalendar(weekmask=[int(w) for w in self.weekdays],
                                 holidays=np.array(self.holidays, dtype="datetime64[D]"))

    def _worked(self, day: dt.date) -> bool:
        return bool(np.is_busday(np.datetime64(day, "D"), busdaycal=self._cal()))

    def _before(self, t: dt.datetime) -> float:
        """Worked hours of t's day before the moment t."""
        x = t.hour + t.minute / 60 + t.second / 3600
        return sum(min(max(x - h, 0.0), 1.0) for h in self.hours)

    def work_hours(self, a: dt.datetime, b: dt.datetime) -> float:
        """Worked hours from a to b (negative when b is before a)."""
        if b < a:
            return -self.work_hours(b, a)
        if a.date() == b.date():
            return (self._before(b) - self._before(a)) if self._worked(a.date()) else 0.0
        full = int(np.busday_count(np.datetime64(a.date() + dt.timedelta(days=1), "D"),
                                   np.datetime64(b.date(), "D"), busdaycal=self._cal()))
        head = self.hours_per_day - self._before(a) if self._worked(a.date()) else 0.0
        tail = self._before(b) if self._worked(b.date()) else 0.0
        return head + full * self.hours_per_day + tail

    def calendar(self) -> dict[str, Any]:
        out: dict[str, Any] = {"workdays": [d[:3] for d, w in zip(_WEEKDAYS, self.weekdays, strict=True) if w]}
        if self.holidays:
            out["holidays"] = list(self.holidays)
        return out


def _read_agenda(rows: list[tuple[int, list[Any]]], where: _Where) -> _Agenda:
    hours: list[int] = []
    weekdays = [False] * 7
    holidays: list[dt.date] = []
    seen_days = False
    for r, v in rows[1:]:
        v = v + [None] * (7 - len(v))
        label, flag = _text(v[0]), _text(v[1])
        if label and flag:
            m = re.match(r"^(\d{1,2})\s*[:.h]", label)
            if m is None:
                raise where.error(r, f"{label!r} is not an hour slot such as '8:00 - 9:00'",
                                  "Keep the Agenda's hour column as ProTrack wrote it.", field="column A")
            if flag.lower() in ("yes", "y", "true", "1"):
                hours.append(int(m.group(1)))
        day, dflag = _norm(v[3]), _text(v[4])
        if day in _WEEKDAYS and dflag:
            weekdays[_WEEKDAYS.index(day)] = dflag.lower() in ("yes", "y", "true", "1")
            seen_days = True
        if not _is_empty(v[6]):
            d = _as_datetime(v[6])
            if d is None:
                raise where.error(r, f"holiday {_text(v[6])!r} is not a date",
                                  "Write holidays as dates (YYYY-MM-DD) in column G.", field="column G")
            holidays.append(d.date())
    if not hours:
        raise where.error(None, "no worked hour", "Mark at least one hour slot 'Yes' in column B.")
    if not seen_days or not any(weekdays):
        raise where.error(None, "no worked weekday", "Mark the worked weekdays 'Yes' in column E.")
    return _Agenda(tuple(sorted(hours)), tuple(weekdays), tuple(sorted(set(holidays))))


# --------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------

_DAY_FIRST = ("%d/%m/%y", "%d/%m/%Y")
_MONTH_FIRST = ("%m/%d/%y", "%m/%d/%Y")


def _as_datetime(v: Any) -> dt.datetime | None:
    """A date cell, an ISO text, or MS Project text such as ``Tue 20/09/16`` / ``Mon 4/06/15`` (the
    weekday decides between day-first and month-first)."""
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return dt.datetime.combine(v, dt.time())
    if not isinstance(v, str) or not v.strip():
        return None
    s = v.strip()
    try:
        return dt.datetime.fromisoformat(s)
    except ValueError:
        pass
    m = re.fullmatch(r"([A-Za-z]{3})[a-z]*\.?\s+(\S+)(?:\s+(\d{1,2}):(\d{2}))?", s)
    if m is None:
        return None
    wday = m.group(1).lower()
    for fmt in (*_DAY_FIRST, *_MONTH_FIRST):
        try:
            d = dt.datetime.strptime(m.group(2), fmt)
        except ValueError:
            continue
        if d.strftime("%a").lower() == wday:
            return d.replace(hour=int(m.group(3) or 0), minute=int(m.group(4) or 0))
    return None


def _duration_hours(v: Any, agenda: _Agenda, *, pred_hours: float | None = None) -> float | None:
    """Working hours of a ProTrack duration or lag (``"2d 5h"``, ``"1w 1d"``, ``"4h"``, ``"3 days"``,
    ``"10%"`` of a predecessor); a bare number is days. None when it is not one."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v) * agenda.hours_per_day if math.isfinite(v) else None
    s = str(v).strip().lower()
    total, pos = 0.0, 0
    for m in _PART_RE.finditer(s):
        if s[pos:m.start()].strip():
            return None
        pos = m.end()
        num = float(m.group(1).replace(",", "."))
        unit = (m.group(2) or "d")[0]
        if unit == "%":
            if pred_hours is None:
                return None
            total += num / 100 * pred_hours
        else:
            total += num * {"w": agenda.days_per_week * agenda.hours_per_day, "d": agenda.hours_per_day,
                            "h": 1.0, "m": 1 / 60}[unit]
    return total if pos and not s[pos:].strip() else None


def _amount(v: Any) -> float | None:
    """A number or money text (``12.5``, ``'$0,00'``, ``'€ 458 688,44'``); None when it is not one."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v) if math.isfinite(v) else None
    s = re.sub(r"[\s\u00a0\u202f€$£]", "", str(v))
    if "," in s and "." in s:
        s = s.replace("," if s.rfind(".") > s.rfind(",") else ".", "")
    if "," in s:
        s = s.replace(",", "" if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+", s) else ".")
    try:
        x = float(s)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _id(v: Any) -> str | None:
    if _is_empty(v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


@dataclass
class _Table:
    """A sheet read as rows under its header row (found in the first rows by its 'ID' cell)."""

    where: _Where
    header_row: int
    cols: dict[str, int]                    # normalised header -> column index
    rows: list[tuple[int, list[Any]]]
    titles: list[Any]                       # the header row as written

    def col(self, *names: str) -> int | None:
        return next((self.cols[n] for n in names if n in self.cols), None)

    def need(self, name: str) -> int:
        j = self.col(name)
        if j is None:
            raise self.where.error(self.header_row, f"no column '{name}' in the header row",
                                   f"Keep the ProTrack column '{name}' in this sheet.")
        return j

    def field(self, j: int | None) -> str | None:
        from openpyxl.utils import get_column_letter

        if j is None:
            return None
        return f"column '{_text(self.titles[j]) or ''}' ({get_column_letter(j + 1)})"

    def error(self, r: int, what: str, how: str, aid: str | None = None, j: int | None = None) -> ProjectError:
        return self.where.error(r, what, how, task=aid, field=self.field(j))


def _rows(ws: Any) -> list[tuple[int, list[Any]]]:
    ws.reset_dimensions()
    return [(r, list(vals)) for r, vals in enumerate(ws.iter_rows(values_only=True), start=1)]


def _table(ws: Any, path: Path, required: str, entity: str = "activity") -> _Table:
    where = _Where(path, "row", ws.title, entity=entity)
    rows = _rows(ws)
    for r, vals in rows[:6]:
        names = [_norm(v) for v in vals]
        if "id" in names and required in names:
            cols: dict[str, int] = {}
            for j, n in enumerate(names):
                cols.setdefault(n, j) if n else None
            width = len(vals)
            body = [(rr, (vv + [None] * width)[:max(width, len(vv))]) for rr, vv in rows
                    if rr > r and not all(_is_empty(x) for x in vv)]
            return _Table(where, r, cols, body, list(vals))
    raise where.error(None, f"no header row with the columns 'ID' and '{required.title()}' in the first 6 rows",
                      "Is this a DSLIB/ProTrack workbook? Keep the sheet as ProTrack exported it.")


# --------------------------------------------------------------------------------------------
# Reader
# --------------------------------------------------------------------------------------------


@dataclass
class _Activity:
    id: str
    row: int
    name: str
    wbs: str | None
    hours: float | None                        # None: the Duration cell is empty
    start: dt.datetime | None
    end: dt.datetime | None
    links: list[tuple[str, str, int, str | None]]   # (predecessor id, type, sign, lag text)
    fixed: float = 0.0
    per_hour: float = 0.0
    demand: str | None = None
    resource_cost: float = 0.0
    total: float | None = None


def read_dslib(path: str | os.PathLike[str]) -> Imported:
    """Read a DSLIB (ProTrack) project workbook.

    Parameters
    ----------
    path : path-like
        An ``.xlsx`` workbook of the DSLIB database (sheets ``Baseline Schedule``, ``Risk
        Analysis``, ``Resources``, ``Agenda``, tracking periods ``TP1``...).

    Returns
    -------
    Imported
        ``data``: the project (one task per activity, WBS groups left out; triangular durations
        from the Risk Analysis sheet; costs; links; baseline starts as ``start_no_earlier_than``;
        the Agenda's calendar; the project row's total cost as ``budget``). ``extra``:
        ``planned_duration`` (working days) and where it comes from (``planned_source``),
        ``planned_cost`` (EUR), ``plan_check`` (``computed_duration`` of the baseline schedule,
        ``difference``, ``tolerance``, ``matches``, ``broken_links``, ``computed_cost``,
        ``cost_matches``), ``most_likely_duration`` (the plan with every duration at its most
        likely value), ``hours_per_day``, ``has_risk_analysis``, ``baseline`` (per activity start
        and duration, working days) and ``actuals`` (None without tracking periods: ``finish``,
        ``duration``, ``cost``, ``complete``, ``percent_complete``, ``status_date`` and ``tasks``).

    Raises
    ------
    pmrisk.errors.ProjectError
        When the file is not a DSLIB workbook, or a cell cannot be read (names file, sheet, row and
        column).

    Examples
    --------
    >>> imp = read_dslib("C2011-07 Patient Transport System.xlsx")  # doctest: +SKIP
    >>> imp.extra["planned_duration"], imp.extra["plan_check"]["matches"]  # doctest: +SKIP
    (389, True)
    >>> imp.extra["actuals"]["finish"], imp.extra["actuals"]["cost"]  # doctest: +SKIP
    (444, 191065.06)
    """
    p = Path(path)
    wb, wbf = _open_workbook(p, "the schedule")
    wbf.close()
    try:
        sheets: dict[str, Any] = {}
        tracking: list[tuple[int, Any]] = []
        for ws in wb.worksheets:
            kind = _sheet_kind(ws.title)
            if kind == "tracking":
                tracking.append((int(_TP_RE.match(_norm(ws.title)).group(1)), ws))  # type: ignore[union-attr]
            elif kind is not None:
                sheets.setdefault(kind, ws)
        if "baseline schedule" not in sheets:
            raise ProjectError(f"{p}: not a DSLIB/ProTrack workbook: it has no sheet 'Baseline Schedule' (its sheets: "
                               f"{', '.join(wb.sheetnames) or 'none'}). Read a plain task list with the Excel task "
                               "reader, or export the project from ProTrack.")
        with warnings.catch_warnings():       # openpyxl on ProTrack's chart and validation extensions
            warnings.filterwarnings("ignore", "Unknown extension", UserWarning)
            return _read(p, sheets, sorted(tracking, key=lambda x: x[0]), list(wb.sheetnames))
    finally:
        wb.close()


def _read(path: Path, sheets: dict[str, Any], tracking: list[tuple[int, Any]], names: list[str]) -> Imported:
    notes: list[str] = []
    if "agenda" in sheets:
        agenda = _read_agenda(_rows(sheets["agenda"]), _Where(path, "row", sheets["agenda"].title))
    else:
        agenda = _Agenda()
        notes.append("No 'Agenda' sheet: assumed Monday-Friday, 8 working hours a day (8-12, 13-17).")
    hpd = agenda.hours_per_day

    t, acts = _read_baseline(path, sheets["baseline schedule"], agenda, notes)
    by_id = {a.id: a for a in acts}
    # WBS groups: a row whose WBS code is the prefix of other rows' codes; the project row is the
    # group above every other row (or the first row, ID 0, when there are no WBS codes)
    codes = [a.wbs for a in acts if a.wbs]
    groups = {a.id for a in acts if a.wbs and any(c.startswith(a.wbs + ".") for c in codes)}
    root = next((a for a in acts if a.id in groups and all(c == a.wbs or c.startswith(f"{a.wbs}.") for c in codes)),
                None)
    if root is None and acts[0].id == "0" and len(acts) > 1:
        root = acts[0]
        groups.add(root.id)
    headings = [a.id for a in acts if a.id not in groups and a.hours is None and a.start is None and not a.links]
    if headings:
        groups.update(headings)
        notes.append(f"{len(headings)} rows without duration, start or links (e.g. ID {headings[0]}) are taken as "
                     "headings, not activities.")
    leaves = [a for a in acts if a.id not in groups]
    for a in leaves:
        if a.hours is None:
            raise t.error(a.row, "the activity has no duration", "Fill the Duration cell (e.g. 5d, 2d 4h or 0 for a "
                          "milestone).", a.id, t.col("duration"))
    if not leaves:
        raise t.error(t.header_row, "the sheet has no activity, only WBS groups",
                      "List the activities below the groups.")
    members = {g: [a.id for a in leaves if a.wbs and by_id[g].wbs and a.wbs.startswith(f"{by_id[g].wbs}.")]
               for g in groups}
    if root is not None:
        members[root.id] = [a.id for a in leaves]

    _split_costs(path, sheets.get("resources"), leaves, notes)
    dists, has_risk = _read_risk(path, sheets.get("risk analysis"), {a.id: a for a in leaves}, agenda, notes)

    starts = [a.start for a in leaves if a.start is not None]
    t0 = min([*starts, *([root.start] if root is not None and root.start is not None else [])], default=None)
    missing = [a.id for a in leaves if a.start is None]
    if t0 is None:
        notes.append("No baseline start dates: the plan follows the links alone.")
    elif missing:
        notes.append(f"{len(missing)} activities have no baseline start (e.g. ID {missing[0]}): they follow their "
                     "links alone.")

    def offset(when: dt.datetime) -> float:
        return agenda.work_hours(t0, when) / hpd  # type: ignore[arg-type]

    tasks: list[dict[str, Any]] = []
    baseline: dict[str, dict[str, float]] = {}
    n_pct = n_group = 0
    leaf_ids = {a.id for a in leaves}
    for a in leaves:
        hours = a.hours or 0.0
        task: dict[str, Any] = {"id": a.id, "name": a.name}
        if hours == 0:
            task["milestone"] = True
        task["duration"] = dists.get(a.id, _round(hours / hpd))
        cost = {k: _round(x) for k, x in (("fixed", a.fixed), ("per_day", a.per_hour * hpd)) if x}
        if cost:
            task["cost"] = cost
        deps: list[dict[str, Any]] = []
        for pid, typ, sign, lag_text in a.links:
            j = t.col("predecessors")
            if pid not in by_id:
                raise t.error(a.row, f"predecessor {pid} is not an ID of this sheet",
                              "Correct the ID in the Predecessors cell, or add that activity.", a.id, j)
            lag = 0.0
            if lag_text:
                lag_h = _duration_hours(lag_text, agenda, pred_hours=by_id[pid].hours or 0.0)
                if lag_h is None:
                    raise t.error(a.row, f"the lag {lag_text!r} of the link from {pid} cannot be read",
                                  "Write lags like +2d, -1w, +4h or +1w 2d (working time).", a.id, j)
                n_pct += "%" in lag_text
                lag = sign * lag_h / hpd
            preds = [pid] if pid in leaf_ids else _group_members(typ, members.get(pid, []), by_id)
            n_group += pid not in leaf_ids
            deps.extend({"task": q, "type": typ, "lag": _round(lag)} for q in preds if q != a.id)
        if deps:
            task["depends_on"] = deps
        snet = offset(a.start) if a.start is not None else 0.0
        if snet > 1e-9:
            task["start_no_earlier_than"] = _round(snet)
        baseline[a.id] = {"start": _round(max(snet, 0.0)), "duration": _round(hours / hpd)}
        tasks.append(task)
    if n_pct:
        notes.append(f"{n_pct} lags given in % of the predecessor's duration were converted with its baseline "
                     "duration.")
    if n_group:
        notes.append(f"{n_group} links to WBS groups were passed to the groups' activities.")

    project: dict[str, Any] = {"name": (root.name if root is not None else None) or path.stem, "currency": "EUR",
                               "calendar": agenda.calendar()}
    if t0 is not None:
        project["start"] = t0.date()
    if root is not None and root.total:
        project["budget"] = _round(root.total)
    data: dict[str, Any] = {"pmrisk": 1, "project": project, "tasks": tasks}

    # the planned duration: the project row's; else its baseline end; else the activities' latest end
    if root is not None and root.hours:
        planned, source = root.hours / hpd, "project row duration"
    elif t0 is not None and root is not None and root.end is not None:
        planned, source = offset(root.end), "project row baseline end"
    elif t0 is not None and any(a.end for a in leaves):
        planned, source = max(offset(a.end) for a in leaves if a.end), "latest activity baseline end"
    else:
        planned, source = max(b["start"] + b["duration"] for b in baseline.values()), "latest baseline start + duration"
    if source != "project row duration":
        notes.append(f"The project row gives no duration: the planned duration is the {source}.")
    planned_cost = root.total if root is not None and root.total else None
    extra: dict[str, Any] = {
        "source": str(path), "sheets": names, "hours_per_day": hpd, "days_per_week": agenda.days_per_week,
        "planned_duration": _round(planned), "planned_source": source, "planned_cost": planned_cost,
        "has_risk_analysis": has_risk, "baseline": baseline,
    }
    extra.update(_check_plan(data, baseline, path, planned, planned_cost, notes))
    extra["actuals"] = _read_actuals(path, tracking, agenda, t0, root, leaf_ids, notes)
    return Imported(data=data, notes=notes, extra=extra, fmt="dslib")


def _read_baseline(path: Path, ws: Any, agenda: _Agenda, notes: list[str]) -> tuple[_Table, list[_Activity]]:
    t = _table(ws, path, "duration")
    c_id, c_dur = t.need("id"), t.need("duration")
    c_name, c_wbs, c_pred = t.col("name"), t.col("wbs"), t.col("predecessors")
    c_start, c_end = t.col("baseline start"), t.col("baseline end")
    c_fixed, c_rate, c_total = t.col("fixed cost"), t.col("cost/hour"), t.col("total cost")
    c_demand, c_rcost = t.col("resource demand"), t.col("resource cost")

    def cell(v: list[Any], j: int | None) -> Any:
        return None if j is None else v[j]

    acts: list[_Activity] = []
    seen: dict[str, list[Any]] = {}
    copies = 0
    for r, v in t.rows:
        aid, name = _id(v[c_id]), _text(cell(v, c_name))
        if aid is None:
            if name is None:
                continue                                   # totals or notes below the table
            raise t.error(r, "the row has a name but no ID", "Give every row its ProTrack ID.", None, c_id)
        if aid in seen:
            if seen[aid] == v:
                copies += 1
                continue
            raise t.error(r, f"ID {aid} is used twice", "Give every activity its own ID.", aid, c_id)
        seen[aid] = v
        hours = None
        if not _is_empty(v[c_dur]):
            hours = _duration_hours(v[c_dur], agenda)
            if hours is None or hours < 0:
                raise t.error(r, f"{_text(v[c_dur])!r} is not a duration", "Write it like 5d, 2d 4h or 6h "
                              "(working time).", aid, c_dur)
        when: list[dt.datetime | None] = []
        for j in (c_start, c_end):
            x = cell(v, j)
            d = None if _is_empty(x) else _as_datetime(x)
            if d is None and not _is_empty(x):
                raise t.error(r, f"{_text(x)!r} is not a date", "Write baseline dates as dates (e.g. 2010-03-04 "
                              "08:00).", aid, j)
            when.append(d)
        links = []
        for part in re.split(r"[;,]", _text(cell(v, c_pred)) or ""):
            if part.strip():
                m = _LINK_RE.match(part)
                if m is None:
                    raise t.error(r, f"the predecessor {part.strip()!r} cannot be read", "Write links like 12FS, "
                                  "7SS+2d or 3FF-1w (ID, type, lag), separated by ';'.", aid, c_pred)
                links.append((m.group(1), (m.group(2) or "FS").upper(), -1 if m.group(3) == "-" else 1, m.group(4)))
        a = _Activity(aid, r, name or aid, _text(cell(v, c_wbs)), hours, when[0], when[1], links,
                      demand=_text(cell(v, c_demand)))
        for j, attr in ((c_fixed, "fixed"), (c_rate, "per_hour"), (c_rcost, "resource_cost"), (c_total, "total")):
            x = cell(v, j)
            if not _is_empty(x):
                amount = _amount(x)
                if amount is None:
                    raise t.error(r, f"{_text(x)!r} is not an amount", "Write a plain number (EUR).", aid, j)
                setattr(a, attr, amount)
        acts.append(a)
    if copies:
        notes.append(f"{copies} rows repeat an earlier row exactly and were read once.")
    if not acts:
        raise t.error(t.header_row, "the sheet lists no activity", "Add the activities below the header row.")
    return t, acts


def _round(x: float) -> float:
    r = round(float(x), 6)
    return int(r) if r.is_integer() else r  # type: ignore[return-value]


def _group_members(typ: str, members: list[str], by_id: dict[str, _Activity]) -> list[str]:
    """The activities a link from a WBS group stands for: all of them for a finish (FS, FF), the
    earliest-starting ones for a start (SS, SF)."""
    starts = [by_id[m].start for m in members if by_id[m].start is not None]
    if typ in ("FS", "FF") or not starts:
        return members
    return [m for m in members if by_id[m].start == min(starts)]  # type: ignore[type-var]


def _split_costs(path: Path, ws: Any, leaves: list[_Activity], notes: list[str]) -> None:
    """Split each activity's resource cost into a per-hour part (renewable resources: cost/unit x
    demand) and a fixed part (cost/use, consumable resources), as the Resources sheet prices them."""
    resources: dict[str, tuple[bool, float, float]] = {}
    if ws is not None:
        t = _table(ws, path, "name", entity="resource")
        c_name, c_type, c_use, c_unit = t.need("name"), t.col("type"), t.col("cost/use"), t.col("cost/unit")
        for _r, v in t.rows:
            if (name := _text(v[c_name])) is not None:
                resources[name.lower()] = (c_type is None or _norm(v[c_type]) != "consumable",
                                           (_amount(v[c_use]) or 0.0) if c_use is not None else 0.0,
                                           (_amount(v[c_unit]) or 0.0) if c_unit is not None else 0.0)
    unexplained = 0
    for a in leaves:
        rate, use = _resource_rate(a.demand, resources)
        hours = a.hours or 0.0
        if rate is not None and abs(rate * hours + use - a.resource_cost) <= max(0.01 * abs(a.resource_cost), 0.05):
            a.per_hour += rate
            a.fixed += use
        elif a.resource_cost:
            unexplained += 1
            if hours > 0:
                a.per_hour += a.resource_cost / hours
            else:
                a.fixed += a.resource_cost
    if unexplained:
        notes.append(f"{unexplained} activities' resource cost is not what the Resources sheet prices (cost/use, "
                     "cost/unit x demand x hours): taken as proportional to the duration.")


def _resource_rate(demand: str | None, resources: dict[str, tuple[bool, float, float]]
                   ) -> tuple[float | None, float]:
    """(cost per working hour, cost independent of the duration) of a 'Resource Demand' cell such as
    ``Nurses[65.00 #65];Coordinator``; (None, 0) when a resource is not on the Resources sheet."""
    rate = use = 0.0
    for part in (demand or "").split(";"):
        if not part.strip():
            continue
        m = _DEMAND_RE.match(part)
        res = resources.get(m.group(1).lower()) if m else None
        if m is None or res is None:
            return None, 0.0
        units = _amount(m.group(2)) if m.group(2) else 1.0
        renewable, per_use, per_unit = res
        use += per_use
        if renewable:
            rate += (units or 0.0) * per_unit
        else:
            use += (units or 0.0) * per_unit
    return rate, use


def _read_risk(path: Path, ws: Any, leaves: dict[str, _Activity], agenda: _Agenda, notes: list[str]
               ) -> tuple[dict[str, dict[str, Any]], bool]:
    """Triangular durations by activity id, and whether the sheet gives any range."""
    if ws is None:
        notes.append("No 'Risk Analysis' sheet: every activity keeps its baseline duration (fixed).")
        return {}, False
    t = _table(ws, path, "optimistic")
    c_id, c_desc = t.need("id"), t.col("description")
    cols = (t.need("optimistic"), t.need("most probable"), t.need("pessimistic"))
    out: dict[str, dict[str, Any]] = {}
    odd: list[str] = []
    for r, v in t.rows:
        aid = _id(v[c_id])
        if aid is None or aid not in leaves or all(_is_empty(v[j]) for j in cols):
            continue
        nums = []
        texts = any(isinstance(v[j], str) and re.search(r"[a-z]", v[j], re.I) for j in cols)
        for j in cols:
            x = None if _is_empty(v[j]) else _duration_hours(v[j], agenda) if texts else _amount(v[j])
            if x is None:
                raise t.error(r, f"{_text(v[j])!r} is not a number", "Give the optimistic, most probable and "
                              "pessimistic values as numbers (% of the baseline duration) or durations such as "
                              "6h or 2d.", aid, j)
            nums.append(x)
        base = (leaves[aid].hours or 0.0) / agenda.hours_per_day
        if texts or (c_desc is not None and _norm(v[c_desc]).startswith("manual - absolute")):
            lo, ml, hi = (x / agenda.hours_per_day for x in nums)        # ProTrack keeps these in hours
        else:
            lo, ml, hi = (x / 100 * base for x in nums)                   # % of the baseline duration
        if base == 0 or lo == hi:
            continue
        if not (0 <= lo <= ml <= hi and lo - 1e-9 <= base <= hi + 1e-9):
            odd.append(aid)
            continue
        out[aid] = {"dist": "triangular", "min": _round(lo), "likely": _round(ml), "max": _round(hi)}
    if odd:
        notes.append(f"{len(odd)} activities' Risk Analysis values make no range around their baseline duration (IDs "
                     f"{', '.join(odd[:8])}{' ...' if len(odd) > 8 else ''}): they keep the baseline, fixed.")
    if not out:
        notes.append("The Risk Analysis sheet gives no duration range: every activity keeps its baseline (fixed).")
    return out, bool(out)


def _check_plan(data: dict[str, Any], baseline: dict[str, dict[str, float]], path: Path, planned: float,
                planned_cost: float | None, notes: list[str]) -> dict[str, Any]:
    """Schedule the baseline (every activity at its baseline duration) and compare with the plan."""
    from pmrisk.engine.simulate import deterministic_plan
    from pmrisk.project import Project

    base = {**data, "tasks": [{**tk, "duration": baseline[tk["id"]]["duration"]} for tk in data["tasks"]]}
    try:
        plan = deterministic_plan(Project.from_dict(base, source=str(path)))
        computed = plan["duration"]
        likely = deterministic_plan(Project.from_dict(data, source=str(path)))["duration"]
    except ProjectError as exc:
        raise ProjectError(f"{path}, sheet 'Baseline Schedule': the imported schedule is invalid: {exc}") from None
    broken = []          # links the baseline dates themselves break: (days, pred, succ)
    for tk in data["tasks"]:
        s = baseline[tk["id"]]
        for d in tk.get("depends_on", []):
            q = baseline[d["task"]]
            pred = q["start"] + (q["duration"] if d["type"][0] == "F" else 0)       # FS/FF: its finish; SS/SF: start
            succ = s["start"] + (s["duration"] if d["type"][1] == "F" else 0)
            short = pred + d["lag"] - succ
            if short > PLAN_TOLERANCE_DAYS:
                broken.append((short, d["task"], tk["id"]))
    diff = computed - planned
    matches = abs(diff) <= PLAN_TOLERANCE_DAYS
    latest = max((b["start"] + b["duration"] for b in baseline.values()), default=0.0)
    check = {"computed_duration": _round(computed), "planned_duration": _round(planned), "difference": _round(diff),
             "tolerance": PLAN_TOLERANCE_DAYS, "matches": matches, "latest_baseline_finish": _round(latest),
             "broken_links": len(broken), "computed_cost": _round(plan["cost"]),
             "cost_matches": None if not planned_cost else abs(plan["cost"] - planned_cost) <= 0.005 * planned_cost}
    if check["cost_matches"] is False:
        notes.append(f"The imported baseline costs {plan['cost']:,.0f}, the workbook's budget is {planned_cost:,.0f}.")
    if not matches:
        why = []
        if broken:
            worst = max(broken)
            why.append(f"the baseline dates break {len(broken)} of the workbook's links (worst: {worst[2]} starts "
                       f"{worst[0]:.1f} days before its link from {worst[1]} allows), so the links push the "
                       "schedule later")
        if abs(latest - planned) > PLAN_TOLERANCE_DAYS:
            why.append(f"the activities' latest baseline finish is {latest:.2f} days, not the planned {planned:.2f}")
        notes.append(f"The imported baseline finishes at {computed:.2f} working days, the workbook plans "
                     f"{planned:.2f} ({diff:+.2f} days, tolerance {PLAN_TOLERANCE_DAYS}): "
                     f"{'; '.join(why) or 'the links and baseline dates disagree'}.")
    return {"plan_check": check, "most_likely_duration": _round(likely)}


def _read_actuals(path: Path, tracking: list[tuple[int, Any]], agenda: _Agenda, t0: dt.datetime | None,
                  root: _Activity | None, leaf_ids: set[str], notes: list[str]) -> dict[str, Any] | None:
    """The last tracking period's actuals: the project's and each activity's."""
    if not tracking:
        return None
    number, ws = tracking[-1]
    rows = _rows(ws)
    status = next((_as_datetime(v[2]) for _r, v in rows[:3] if len(v) > 2 and _norm(v[1]) == "tp status date"), None)
    t = _table(ws, path, "actual duration")
    c_id, c_dur, c_cost = t.need("id"), t.need("actual duration"), t.need("actual cost")
    c_pc, c_start = t.col("percentage completed"), t.col("actual start")
    hpd = agenda.hours_per_day
    tasks: dict[str, dict[str, Any]] = {}
    project: dict[str, Any] | None = None
    for r, v in t.rows:
        aid = _id(v[c_id])
        if aid is None or (aid not in leaf_ids and (root is None or aid != root.id)):
            continue
        hours = _duration_hours(v[c_dur], agenda) if not _is_empty(v[c_dur]) else 0.0
        if hours is None:
            raise t.error(r, f"{_text(v[c_dur])!r} is not a duration", "Write it like 5d or 2d 4h.", aid, c_dur)
        cost = _amount(v[c_cost]) if not _is_empty(v[c_cost]) else 0.0
        if cost is None:
            raise t.error(r, f"{_text(v[c_cost])!r} is not an amount", "Write a plain number (EUR).", aid, c_cost)
        pc = _amount(v[c_pc]) if c_pc is not None and not _is_empty(v[c_pc]) else None
        rec: dict[str, Any] = {"duration": _round(hours / hpd), "cost": _round(cost),
                               "percent_complete": None if pc is None else _round(100 * pc)}
        start = _as_datetime(v[c_start]) if c_start is not None else None
        if start is not None and t0 is not None:
            rec["start"] = _round(agenda.work_hours(t0, start) / hpd)
            rec["finish"] = _round(rec["start"] + rec["duration"])
        if root is not None and aid == root.id:
            project = rec
        else:
            tasks[aid] = rec
    out: dict[str, Any] = {"tracking_periods": len(tracking), "last_period": ws.title, "period_number": number,
                           "status_date": status.date().isoformat() if status else None}
    finishes = [x["finish"] for x in tasks.values() if "finish" in x]
    starts = [x["start"] for x in tasks.values() if "start" in x]
    done = [x["percent_complete"] for x in tasks.values() if x["percent_complete"] is not None]
    task_cost = _round(sum(x["cost"] for x in tasks.values())) or None
    if project is not None and (project["cost"] or project["duration"]):
        pc, duration, cost = project["percent_complete"], project["duration"], project["cost"] or task_cost
    elif done:
        notes.append(f"The tracking sheet '{ws.title}' has no project totals: the project's actuals are summed from "
                     "its activities.")
        pc, duration, cost = min(done), _round(max(finishes) - min(starts)) if finishes else None, task_cost
    else:
        notes.append(f"The tracking sheet '{ws.title}' has no actuals for the project.")
        return {**out, "duration": None, "cost": None, "finish": None, "complete": False, "tasks": tasks}
    # the actual finish counted from the planned start: the last activity's actual finish, or the first
    # actual start plus the project's actual duration when some activities lack an actual start
    finish = max([*finishes, *([min(starts) + duration] if starts and duration else [])], default=None)
    complete = pc is not None and pc >= 99.95
    if not complete:
        notes.append(f"The last tracking period ('{ws.title}') has the project {pc if pc is None else round(pc, 1)}% "
                     "complete: its actuals are not final.")
    return {**out, "duration": duration, "cost": cost, "finish": None if finish is None else _round(finish),
            "complete": complete, "percent_complete": None if pc is None else _round(pc), "tasks": tasks}
