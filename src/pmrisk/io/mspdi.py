"""MS Project XML (MSPDI) in and out: :func:`read_mspdi` and :func:`write_mspdi`.

An MSPDI file is what MS Project writes with *File > Save As > XML*. :func:`read_mspdi` turns one into
a pmrisk project mapping (:class:`~pmrisk.io.formats.Imported`); :func:`write_mspdi` writes a pmrisk
project back, with the simulated P-level finish dates in custom fields MS Project shows.

How a file is read
------------------
Parsing goes through ``defusedxml`` with DTDs forbidden: MS Project never writes a ``<!DOCTYPE>``, and
a DTD is how entity-expansion ("billion laughs") and external-entity attacks get in, so a file that
declares one is refused.

Tasks
    Every ``<Task>`` that is not a summary becomes a pmrisk task with its ``UID`` as id (stable and
    unique in MS Project; ``id_field`` picks ``ID``, ``WBS`` or a custom field instead) and its MS
    Project name as name. Summary tasks are grouping, never work: their names become tags of every
    task under them (outermost first), and the outline (WBS, outline number, summary path) goes to
    ``extra["outline"]``. The project summary task (outline level 0), blank rows (``IsNull``),
    inactive tasks (``Active`` 0, also under an inactive summary), external (cross-project)
    placeholder tasks and inserted subprojects (whose tasks live in other files) are skipped, and
    the notes say so. A zero-duration task, or one marked
    ``Milestone``, is a milestone (a milestone with a duration keeps its duration, noted).
Durations
    ``Duration`` is ISO 8601 (MS Project writes ``PT8H0M0S``; ``P1DT4H``, ``PT7.5H``, weeks, months and
    years are read too). Working durations are converted to working days with the project's
    ``MinutesPerDay`` (default 480); a ``D`` counts as one such day, a ``W`` as ``MinutesPerWeek``, a
    month as ``DaysPerMonth`` days. Elapsed durations (``DurationFormat`` ed, eh, ew, emo, ...) are
    calendar time: they are converted as calendar days x (working weekdays / 7), an average that
    ignores where the weekends fall, and the notes list the tasks.
Links
    ``PredecessorLink`` types 0 = FF, 1 = FS, 2 = SF, 3 = SS. ``LinkLag`` is in tenths of a minute of
    working time whatever the display unit (``LagFormat`` minutes, hours, days, weeks, months), so it
    is divided by ten and by ``MinutesPerDay``. Elapsed lag formats are calendar time and are
    converted as calendar days x (working weekdays / 7) (noted). A percent lag (``LagFormat`` 19, 20,
    51, 52) is that share of the predecessor's planned duration, fixed at import (noted); its
    ``LinkLag`` is read as whole percent, the way MPXJ (the converter for ``.mpp`` files) writes it.
    A link to or from a summary task is tied to every task under the summary (exact for FS and SS
    into a summary and for FS and FF out of one, an approximation otherwise; noted). Links to
    unknown, skipped or other projects' tasks are dropped (noted).
Calendar
    The project calendar (``CalendarUID``, with its base calendars) gives the working weekdays and,
    from its non-working exceptions (single, ranges and recurring: daily, weekly, monthly and yearly
    patterns), the holidays. Worked days outside the work week, alternate work weeks and task or
    resource calendars cannot be expressed in pmrisk's calendar and are noted.
Dates and constraints
    ``StartDate`` is the project start. Start No Earlier Than becomes ``start_no_earlier_than`` (a
    date, or a working-day offset when the constraint falls mid-day). Must Start On is kept as a
    start-no-earlier-than; Must Finish On and Finish No Earlier Than as a start-no-earlier-than of
    the constraint date minus the planned duration (both are then lower bounds only, noted).
    Start/Finish No Later Than and As Late As Possible are not honoured (noted). Constraints of a
    summary task apply to the tasks under it.
Costs
    ``FixedCost`` is the fixed cost and the rest of ``Cost`` (resource costs) a cost per working day
    (``(Cost - FixedCost) / planned duration``), so it grows with the simulated duration. MSPDI
    stores money in hundredths of the currency unit; the reader divides by 100.
Estimate ranges
    ``ranges={"min": "Duration1", "likely": "Duration2", "max": "Duration3", "dist": "pert"}`` reads
    three-point estimates from custom fields: ``DurationN`` (converted like ``Duration``),
    ``NumberN`` or ``TextN`` (working days), named by field name or by the alias given in MS
    Project; ``likely`` defaults to the planned duration and ``dist`` to ``pert`` (or
    ``triangular``). ``template={"min": 0.9, "max": 1.25}`` gives every task without a range
    -10%/+25% of its planned duration; ``template={"default": (0.9, 1.25), "by_tag": {"Build": (0.9,
    1.5)}, "by_name": {"*test*": (0.8, 1.6)}}`` picks factors by task-name pattern, then by tag
    (summary name), then the default. Tasks with neither keep a fixed duration, and a note counts
    them. A file written by :func:`write_mspdi` carries its ranges in fields aliased ``pmrisk min``,
    ``pmrisk likely``, ``pmrisk max``: they are used when ``ranges`` is not given.
Progress
    A task 100% complete (or with an actual finish) keeps its actual duration, fixed. A task in
    progress gets actual + remaining duration, the range applied to the remaining part only (the
    factors of its range, relative to the likely value, scale the remaining duration). Percent
    complete, actual start/finish and actual/remaining durations go to ``extra["actuals"]``.
Extra facts
    ``planned_duration`` (working days from ``StartDate`` to ``FinishDate`` over the calendar),
    ``summary_duration`` (the project summary task's duration), ``start_date``, ``finish_date``,
    ``status_date``, ``minutes_per_day``, ``outline``, ``schedule`` (each task's Start/Finish in the
    file), ``baselines`` (``Baseline`` elements by number) and ``actuals``.

Every problem in a file raises :class:`~pmrisk.errors.ProjectError` naming the file, the task UID
(and name) or the line, what is wrong and how to fix it.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import math
import os
import re
import xml.etree.ElementTree as ET  # building the file to write; reading goes through defusedxml
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml import ElementTree as SafeET

from pmrisk.calendar import WEEKDAYS, Calendar
from pmrisk.errors import ProjectError
from pmrisk.io.formats import Imported
from pmrisk.project import FORMAT_VERSION

if TYPE_CHECKING:
    from pmrisk.project import Project
    from pmrisk.results import SimulationResult

__all__ = ["FIELD_IDS", "read_mspdi", "write_mspdi"]

NS = "http://schemas.microsoft.com/project"
LINK_TYPES = {0: "FF", 1: "FS", 2: "SF", 3: "SS"}
LINK_CODES = {v: k for k, v in LINK_TYPES.items()}
ELAPSED_FORMATS = frozenset({4, 6, 8, 10, 12, 20, 36, 38, 40, 42, 44, 52})
PERCENT_FORMATS = frozenset({19, 20, 51, 52})
CONSTRAINTS = {0: "As Soon As Possible", 1: "As Late As Possible", 2: "Must Start On", 3: "Must Finish On",
               4: "Start No Earlier Than", 5: "Start No Later Than", 6: "Finish No Earlier Than",
               7: "Finish No Later Than"}
_TASK_FIELD_BASE = 188743000
#: MS Project's task custom fields (``Text1``, ``Number1``, ``Duration1``, ``Date1``, ...) -> MSPDI ``FieldID``.
FIELD_IDS: dict[str, int] = {
    f"{kind}{i}": _TASK_FIELD_BASE + code
    for kind, codes in {
        "Text": [731, 734, 737, 740, 743, 746, 747, 748, 749, 750, *range(997, 1017)],
        "Start": [732, 735, 738, 741, 744, 962, 964, 966, 968, 970],
        "Finish": [733, 736, 739, 742, 745, 963, 965, 967, 969, 971],
        "Cost": [786, 787, 788, *range(938, 945)],
        "Date": list(range(945, 955)),
        "Flag": [*range(752, 762), *range(972, 982)],
        "Number": [*range(767, 772), *range(982, 997)],
        "Duration": [783, 784, 785, *range(955, 962)],
    }.items()
    for i, code in enumerate(codes, 1)}
_FIELD_NAMES = {v: k for k, v in FIELD_IDS.items()}
_DEFAULT_HOURS = ((480, 720), (780, 1020))          # 08:00-12:00, 13:00-17:00 in minutes of the day
_MAX_EXCEPTION_DAYS = 366 * 100                      # a recurring exception is expanded over 100 years at most
_ISO_RE = re.compile(r"^(-)?P(?!$)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?"
                     r"(?:(\d+(?:\.\d+)?)D)?(?:T(?=\d)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?"
                     r"(?:(\d+(?:\.\d+)?)S)?)?$")
PMRISK_FIELDS = {"id": ("Text30", "pmrisk id"), "tags": ("Text29", "pmrisk tags"),
                 "min": ("Duration1", "pmrisk min"), "likely": ("Duration2", "pmrisk likely"),
                 "max": ("Duration3", "pmrisk max"), "criticality": ("Number1", "pmrisk criticality"),
                 "sensitivity": ("Number2", "pmrisk sensitivity")}


# --------------------------------------------------------------------------------------------
# Small readers of element text
# --------------------------------------------------------------------------------------------


class _Where:
    """Formats "file, task UID 12 ('Build')" for messages."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def task(self, el: ET.Element) -> str:
        uid, name = el.findtext("UID"), el.findtext("Name")
        who = f"task UID {uid.strip()}" if uid and uid.strip() else f"task ID {el.findtext('ID') or '?'}"
        return f"{self.path}, {who}" + (f" ({name.strip()!r})" if name and name.strip() else "")


def _text(el: ET.Element, tag: str) -> str | None:
    v = el.findtext(tag)
    return v.strip() if v is not None and v.strip() else None


def _num(el: ET.Element, tag: str, where: str, default: float | None = None) -> float | None:
    v = _text(el, tag)
    if v is None:
        return default
    try:
        x = float(v)
    except ValueError:
        raise ProjectError(f"{where}: <{tag}> is {v!r}, not a number. Fix the value in the XML "
                           "(or in MS Project, then save as XML again).") from None
    if not math.isfinite(x):
        raise ProjectError(f"{where}: <{tag}> is {v!r}; give a finite number.")
    return x


def _int(el: ET.Element, tag: str, where: str, default: int = 0) -> int:
    x = _num(el, tag, where)
    return default if x is None else int(x)


def _flag(el: ET.Element, tag: str, default: bool = False) -> bool:
    v = _text(el, tag)
    return default if v is None else v.lower() in ("1", "true")


def _when(el: ET.Element, tag: str, where: str) -> dt.datetime | None:
    v = _text(el, tag)
    if v is None:
        return None
    try:
        out = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise ProjectError(f"{where}: <{tag}> is {v!r}, not a date-time like 2027-02-01T08:00:00. "
                           "Fix the value in the XML.") from None
    return out.replace(tzinfo=None)


def _iso_parts(text: str) -> tuple[float, ...] | None:
    """``"P1DT8H30M"`` -> (sign, years, months, weeks, days, hours, minutes, seconds)."""
    m = _ISO_RE.match(text.strip())
    if not m:
        return None
    return (-1.0 if m.group(1) else 1.0, *(float(g) if g else 0.0 for g in m.groups()[1:]))


def _r(x: float, nd: int = 6) -> float:
    """Round for the project file, without negative zero."""
    return round(x, nd) + 0.0


def _listing(items: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# --------------------------------------------------------------------------------------------
# The calendar
# --------------------------------------------------------------------------------------------


@dataclass
class _Cal:
    """The project calendar: working weekdays, holidays and working hours (minutes of the day)."""

    working: dict[int, bool]                          # python weekday (0 = Monday) -> worked
    hours: dict[int, tuple[tuple[int, int], ...]]
    off: set[dt.date] = field(default_factory=set)    # non-working exception days
    on: set[dt.date] = field(default_factory=set)     # working exception days
    _bc: np.busdaycalendar | None = None               # built on first use, once the calendar is read

    @property
    def workdays(self) -> tuple[str, ...]:
        return tuple(WEEKDAYS[w] for w in range(7) if self.working[w])

    @property
    def holidays(self) -> tuple[dt.date, ...]:
        return tuple(sorted(d for d in self.off - self.on if self.working[d.weekday()]))

    def busday(self) -> np.busdaycalendar:
        if self._bc is None:
            self._bc = np.busdaycalendar(weekmask=[1 if self.working[w] else 0 for w in range(7)],
                                         holidays=np.array(self.holidays, dtype="datetime64[D]"))
        return self._bc

    def day_minutes(self, day: dt.date) -> int:
        if not self.working[day.weekday()] or (day in self.off and day not in self.on):
            return 0
        return sum(e - s for s, e in self.hours[day.weekday()])

    def offset(self, start: dt.date, when: dt.datetime) -> float:
        """Working days from the start of ``start`` to ``when``: whole days, plus the share of the day's
        working time before ``when`` (pmrisk's time: a finish at 17:00 on day k is offset k + 1)."""
        days = int(np.busday_count(np.datetime64(start, "D"), np.datetime64(when.date(), "D"), busdaycal=self.busday()))
        total = self.day_minutes(when.date())
        if total == 0:
            return float(days)
        t = when.hour * 60 + when.minute + when.second / 60
        done = sum(max(0.0, min(e, t) - s) for s, e in self.hours[when.weekday()])
        return days + done / total


def _intervals(el: ET.Element | None) -> tuple[tuple[int, int], ...]:
    out = []
    for wt in el.iter("WorkingTime") if el is not None else ():
        a, b = _text(wt, "FromTime"), _text(wt, "ToTime")
        if a is None or b is None:
            continue
        try:
            s, e = (dt.time.fromisoformat(x) for x in (a, b))
        except ValueError:
            continue
        lo, hi = s.hour * 60 + s.minute, e.hour * 60 + e.minute
        out.append((lo, hi if hi > lo else 1440))     # a ToTime of 00:00:00 is midnight at the day's end
    return tuple(sorted(out))


def _nth_in_month(day: dt.date, item: int, position: int) -> bool:
    """True when ``day`` is the ``position``-th (0-3; 4 = last) ``item`` of its month (MonthItem: 0 day,
    1 weekday, 2 weekend day, 3-9 Sunday-Saturday)."""
    def fits(d: dt.date) -> bool:
        if item == 0:
            return True
        if item in (1, 2):
            return (d.weekday() < 5) == (item == 1)
        return d.weekday() == (item - 4) % 7
    first = day.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    same = [first + dt.timedelta(days=k) for k in range((nxt - first).days)]
    same = [d for d in same if fits(d)]
    if not same:
        return False
    return day == (same[-1] if position >= 4 else same[position] if position < len(same) else None)


def _exception_days(exc: ET.Element, where: str, notes: list[str]) -> list[dt.date]:
    """The days a calendar exception covers (daily, weekly, monthly and yearly recurrences)."""
    frm, to = _when(exc, "TimePeriod/FromDate", where), _when(exc, "TimePeriod/ToDate", where)
    if frm is None:
        return []
    first, last = frm.date(), (to or frm).date()
    if (last - first).days >= _MAX_EXCEPTION_DAYS:
        notes.append(f"{where}: calendar exception {_text(exc, 'Name') or ''!r} runs from {first} to {last}; "
                     f"only its first {_MAX_EXCEPTION_DAYS // 366} years are read.")
        last = first + dt.timedelta(days=_MAX_EXCEPTION_DAYS - 1)
    kind = _int(exc, "Type", where, 1)
    period = max(_int(exc, "Period", where, 1), 1)
    month, month_day = _int(exc, "Month", where, 0) + 1, _int(exc, "MonthDay", where, 1)
    item, position = _int(exc, "MonthItem", where, 0), _int(exc, "MonthPosition", where, 0)
    mask = _int(exc, "DaysOfWeek", where, 0)
    week0 = first - dt.timedelta(days=(first.weekday() + 1) % 7)          # the Sunday that starts its week

    def months(d: dt.date) -> int:
        return (d.year - first.year) * 12 + d.month - first.month

    tests = {
        1: lambda d: (d - first).days % period == 0,
        2: lambda d: d.month == month and d.day == month_day,
        3: lambda d: d.month == month and _nth_in_month(d, item, position),
        4: lambda d: d.day == month_day and months(d) % period == 0,
        5: lambda d: months(d) % period == 0 and _nth_in_month(d, item, position),
        6: lambda d: bool(mask & (1 << ((d.weekday() + 1) % 7))) and ((d - week0).days // 7) % period == 0,
    }
    if kind not in tests:
        notes.append(f"{where}: calendar exception {_text(exc, 'Name') or ''!r} has recurrence type {kind}, "
                     "which pmrisk does not expand; it is ignored. Enter those days as single exceptions.")
        return []
    test = tests[kind]
    days = [d for d in (first + dt.timedelta(days=k) for k in range((last - first).days + 1)) if test(d)]
    count = _int(exc, "Occurrences", where, 0) if _flag(exc, "EnteredByOccurrences") else 0
    return days[:count] if count > 0 else days


def _read_calendar(root: ET.Element, path: Path, notes: list[str]) -> tuple[_Cal, str | None]:
    cals = {_text(c, "UID"): c for c in root.findall("Calendars/Calendar")}
    uid = _text(root, "CalendarUID")
    cal = _Cal(working={w: w < 5 for w in range(7)}, hours={w: _DEFAULT_HOURS for w in range(7)})
    chain: list[ET.Element] = []
    cur = cals.get(uid) if uid is not None else None
    if cur is None and cals:
        cur = next((c for c in cals.values() if _flag(c, "IsBaseCalendar")), None)
    while cur is not None and cur not in chain and len(chain) < 16:
        chain.append(cur)
        cur = cals.get(_text(cur, "BaseCalendarUID"))
    for c in reversed(chain):                                    # base calendars first, then what derives
        where = f"{path}, calendar {_text(c, 'Name') or _text(c, 'UID')!r}"
        for wd in c.findall("WeekDays/WeekDay"):
            day_type, working = _int(wd, "DayType", where, -1), _text(wd, "DayWorking")
            if 1 <= day_type <= 7:
                w = (day_type + 5) % 7
                if working is not None:
                    cal.working[w] = working == "1"
                hours = _intervals(wd.find("WorkingTimes"))
                if hours:
                    cal.hours[w] = hours
            elif day_type == 0:                                   # MS Project 2003: exceptions as week days
                target = cal.on if working == "1" else cal.off
                target.update(_exception_days(wd, where, notes))
        for exc in c.findall("Exceptions/Exception"):
            days = _exception_days(exc, where, notes)
            (cal.on if _flag(exc, "DayWorking") else cal.off).update(days)
            if not _flag(exc, "DayWorking"):
                cal.on.difference_update(days)
        if c.find("WorkWeeks/WorkWeek") is not None:
            notes.append(f"{where}: alternate work weeks (WorkWeeks) are not honoured; the default week is used.")
    if not any(cal.working.values()):
        raise ProjectError(f"{path}: the project calendar has no working weekday. Mark at least one weekday "
                           "as working time in MS Project (Project > Change Working Time).")
    extra_days = sorted(d for d in cal.on if not cal.working[d.weekday()])
    if extra_days:
        notes.append(f"{path}: {len(extra_days)} worked day(s) outside the work week ("
                     f"{_listing([d.isoformat() for d in extra_days], 5)}) cannot be expressed in pmrisk's calendar "
                     "(working weekdays + holidays) and are treated as non-working.")
    return cal, (_text(chain[0], "Name") if chain else None)


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


@dataclass
class _Raw:
    """One ``<Task>`` element, as far as the network needs it."""

    el: ET.Element
    uid: str
    name: str
    level: int
    summary: bool = False
    parents: list[_Raw] = field(default_factory=list)     # enclosing summary tasks, outermost first
    leaves: list[_Raw] = field(default_factory=list)      # for a summary: the tasks under it
    skip: str | None = None                               # why it is not a pmrisk task
    days: float = 0.0                                     # planned duration, working days
    elapsed: bool = False


class _Reader:
    def __init__(self, path: Path, root: ET.Element, ranges: Mapping[str, Any] | None,
                 template: Mapping[str, Any] | None, id_field: str | None) -> None:
        self.path, self.root, self.where = path, root, _Where(path)
        self.notes: list[str] = []
        self.mpd = _num(root, "MinutesPerDay", str(path), 480.0) or 480.0
        self.mpw = _num(root, "MinutesPerWeek", str(path), 5 * self.mpd) or 5 * self.mpd
        self.dpm = _num(root, "DaysPerMonth", str(path), 20.0) or 20.0
        self.cal, self.cal_name = _read_calendar(root, path, self.notes)
        self.week_share = sum(self.cal.working.values()) / 7.0
        self.aliases = self._field_aliases()
        self.declared = {int(f) for f in (_text(e, "FieldID") for e in root.findall("ExtendedAttributes/"
                                                                                     "ExtendedAttribute"))
                         if f is not None and f.isdigit()}
        self.id_field = id_field
        self.ranges = self._range_spec(ranges)
        self.template = _template_spec(template)
        self.grouped: dict[str, list[str]] = {}

    # ---- notes grouped by kind, one line each ---------------------------------------------------
    def group(self, key: str, uid: str) -> None:
        self.grouped.setdefault(key, []).append(uid)

    def flush(self) -> None:
        texts = {
            "null": "{n} blank task row(s) (IsNull) skipped",
            "inactive": "{n} inactive task(s) skipped (UID {uids})",
            "external": "{n} external (cross-project placeholder) task(s) skipped (UID {uids})",
            "subproject": "{n} inserted subproject(s) skipped: their tasks live in other files; insert them "
                          "into this project (or read each file) to simulate them (UID {uids})",
            "elapsed": "{n} task(s) with elapsed durations converted as calendar days x working weekdays/7 "
                       "(UID {uids})",
            "milestone_duration": "{n} task(s) marked as milestone in MS Project but with a duration are kept as "
                                  "tasks with that duration (UID {uids})",
            "task_calendar": "{n} task(s) have their own calendar, which pmrisk does not honour; the project "
                             "calendar is used (UID {uids})",
            "manual": "{n} manually scheduled task(s) are scheduled by their links like any other (UID {uids})",
            "complete": "{n} completed task(s) keep their actual duration, fixed (UID {uids})",
            "in_progress": "{n} task(s) in progress: actual duration so far + remaining duration, the estimate "
                           "range applied to the remaining part only (UID {uids})",
            "percent_lag": "{n} percent lag(s) fixed at that share of the predecessor's planned duration; LinkLag "
                           "read as whole percent, as MPXJ writes it (successor UID {uids})",
            "elapsed_lag": "{n} elapsed lag(s) converted as calendar days x working weekdays/7 (successor UID "
                           "{uids})",
            "summary_link": "{n} link(s) to or from summary tasks tied to every task under the summary (exact for "
                            "FS/SS into a summary and FS/FF out of one, an approximation otherwise; successor UID "
                            "{uids})",
            "cross_project": "{n} link(s) to other projects dropped (successor UID {uids})",
            "dangling": "{n} link(s) to unknown task UIDs dropped (successor UID {uids})",
            "skipped_link": "{n} link(s) to or from skipped (blank, inactive, external, subproject) tasks dropped "
                            "(successor UID {uids})",
            "no_range": "{n} task(s) have no estimate range and keep a fixed duration (UID {uids}); pass ranges= "
                        "(fields holding min/likely/max) or template= (e.g. {{'min': 0.9, 'max': 1.25}})",
            "summary_cost": "{n} summary task(s) carry a fixed cost of their own, which is not imported (UID "
                            "{uids}); move it to a task under the summary",
            "negative_cost": "{n} task(s) with a negative cost: set to 0 (UID {uids})",
        }
        for key, uids in self.grouped.items():
            self.notes.append(f"{self.path}: " + texts[key].format(n=len(uids), uids=_listing(uids)) + ".")
        self.grouped = {}

    # ---- custom fields --------------------------------------------------------------------------
    def _field_aliases(self) -> dict[str, int]:
        """Field names and aliases (lower case) of the file's ExtendedAttribute definitions -> FieldID."""
        out: dict[str, int] = {k.lower(): v for k, v in FIELD_IDS.items()}
        for ea in self.root.findall("ExtendedAttributes/ExtendedAttribute"):
            fid = _text(ea, "FieldID")
            if fid is None or not fid.isdigit():
                continue
            for key in ("FieldName", "Alias"):
                name = _text(ea, key)
                if name:
                    out.setdefault(name.lower(), int(fid))
        return out

    def field_id(self, name: str) -> int | None:
        return self.aliases.get(re.sub(r"\s+", " ", str(name).strip().lower())) or self.aliases.get(
            re.sub(r"\s+", "", str(name).strip().lower()))

    def field_value(self, task: ET.Element, fid: int) -> ET.Element | None:
        """The task's ``ExtendedAttribute`` of field ``fid`` (or a direct child element named like it)."""
        for ea in task.findall("ExtendedAttribute"):
            if _text(ea, "FieldID") == str(fid) and _text(ea, "Value") is not None:
                return ea
        name = _FIELD_NAMES.get(fid)
        direct = task.find(name) if name else None
        if direct is not None and direct.text and direct.text.strip():
            holder = ET.Element("ExtendedAttribute")
            ET.SubElement(holder, "Value").text = direct.text
            return holder
        return None

    def field_days(self, task: ET.Element, fid: int, label: str) -> float | None:
        ea = self.field_value(task, fid)
        if ea is None:
            return None
        value, kind = _text(ea, "Value") or "", _FIELD_NAMES.get(fid, "")
        where = f"{self.where.task(task)}, field {label}"
        if kind.startswith("Duration"):
            return self.duration_days(value, _int(ea, "DurationFormat", where, 7) in ELAPSED_FORMATS, where)
        try:
            out = float(value.replace(",", "."))
        except ValueError:
            raise ProjectError(f"{where}: {value!r} is not a number of working days. Put a number (or use a "
                               "Duration field) in that field.") from None
        if not math.isfinite(out) or out < 0:
            raise ProjectError(f"{where}: {value!r} is not a duration >= 0 in working days.")
        return out

    def _range_spec(self, ranges: Mapping[str, Any] | None) -> dict[str, Any] | None:
        auto = ranges is None
        if auto:
            names = {k: PMRISK_FIELDS[k][1] for k in ("min", "likely", "max")}
            if not all(self.field_id(n) in self.declared for n in (names["min"], names["max"])):
                return None
            ranges = names
        if not isinstance(ranges, Mapping):
            raise ProjectError("ranges must be a mapping such as {'min': 'Duration1', 'likely': 'Duration2', "
                               f"'max': 'Duration3'}} (got {ranges!r}).")
        unknown = set(ranges) - {"min", "likely", "max", "dist"}
        if unknown or "min" not in ranges or "max" not in ranges:
            raise ProjectError("ranges needs 'min' and 'max' (and optionally 'likely' and 'dist'): the custom fields "
                               "holding the estimates, e.g. {'min': 'Duration1', 'likely': 'Duration2', 'max': "
                               "'Duration3'}" + (f"; unknown key(s) {sorted(unknown)}" if unknown else "") + ".")
        spec: dict[str, Any] = {"dist": _dist_name(ranges.get("dist", "pert"), "ranges")}
        for key in ("min", "likely", "max"):
            if ranges.get(key) is None:
                continue
            fid = self.field_id(ranges[key])
            if fid is None or not _FIELD_NAMES.get(fid, "").startswith(("Duration", "Number", "Text")):
                known = sorted({_text(e, "Alias") or "" for e in self.root.findall("ExtendedAttributes/"
                                                                                   "ExtendedAttribute")} - {""})
                raise ProjectError(
                    f"{self.path}: ranges[{key!r}] = {ranges[key]!r} is not a Duration, Number or Text field "
                    f"(Duration1-10, Number1-20, Text1-30" + (f", or one of this file's aliases: {', '.join(known)}"
                                                            if known else "") + ").")
            spec[key] = (fid, str(ranges[key]))
        if auto:
            self.notes.append(f"{self.path}: estimate ranges read from the fields pmrisk wrote "
                              "(pmrisk min / likely / max).")
        return spec

    # ---- durations ------------------------------------------------------------------------------
    def duration_days(self, text: str, elapsed: bool, where: str) -> float:
        parts = _iso_parts(text)
        if parts is None:
            raise ProjectError(f"{where}: {text!r} is not an ISO 8601 duration such as PT8H0M0S or P2DT4H. "
                               "Fix the value in the XML (MS Project writes hours, minutes and seconds).")
        sign, y, mo, w, d, h, mi, s = parts
        if elapsed:
            minutes = ((y * 365 + mo * 30 + w * 7 + d) * 24 + h) * 60 + mi + s / 60
            return sign * minutes / 1440 * self.week_share
        minutes = (y * 12 + mo) * self.dpm * self.mpd + w * self.mpw + d * self.mpd + h * 60 + mi + s / 60
        return sign * minutes / self.mpd

    def task_duration(self, el: ET.Element, tag: str = "Duration") -> tuple[float | None, bool]:
        text = _text(el, tag)
        if text is None:
            return None, False
        fmt = _int(el, "DurationFormat", self.where.task(el), 7)
        elapsed = fmt in ELAPSED_FORMATS
        days = self.duration_days(text, elapsed, f"{self.where.task(el)}, <{tag}>")
        if days < 0:
            raise ProjectError(f"{self.where.task(el)}: <{tag}> {text} is negative; durations are >= 0.")
        return days, elapsed

    def lag_days(self, link: ET.Element, pred: _Raw, succ: _Raw, where: str) -> float:
        lag = _num(link, "LinkLag", where, 0.0) or 0.0
        fmt = _int(link, "LagFormat", where, 7)
        if lag == 0:
            return 0.0
        if fmt in PERCENT_FORMATS:
            self.group("percent_lag", succ.uid)
            return lag / 100 * pred.days
        if fmt in ELAPSED_FORMATS:
            self.group("elapsed_lag", succ.uid)
            return lag / 10 / 1440 * self.week_share
        return lag / 10 / self.mpd

    # ---- the tasks ------------------------------------------------------------------------------
    def raw_tasks(self) -> list[_Raw]:
        els = self.root.findall("Tasks/Task")
        ids = [_text(e, "ID") or "" for e in els]
        if all(re.fullmatch(r"-?\d+", i) for i in ids):
            els = [e for _, e in sorted(zip([int(i) for i in ids], els, strict=True), key=lambda p: p[0])]
        raws: list[_Raw] = []
        seen: dict[str, _Raw] = {}
        for pos, el in enumerate(els):
            where = self.where.task(el)
            uid = _text(el, "UID")
            if _flag(el, "IsNull"):
                self.group("null", uid or "?")
                continue
            if uid is None or not re.fullmatch(r"-?\d+", uid):
                raise ProjectError(f"{where} (the {pos + 1}. <Task>): <UID> is {uid!r}; every task needs a unique "
                                   "integer UID. Save the file from MS Project again, or add the UID.")
            level = _int(el, "OutlineLevel", where, 1)
            raw = _Raw(el=el, uid=uid, name=_text(el, "Name") or "", level=level,
                       summary=_flag(el, "Summary"))
            if uid in seen:
                raise ProjectError(f"{where}: UID {uid} is used by two tasks ({seen[uid].name!r} and {raw.name!r}). "
                                   "UIDs must be unique; save the file from MS Project again.")
            seen[uid] = raw
            if level <= 0 or (uid == "0" and raw.summary and _text(el, "OutlineLevel") is None):
                raw.skip = "project summary"
            raws.append(raw)
        for i, raw in enumerate(raws):           # files without <Summary>: a task followed by deeper ones is one
            if _text(raw.el, "Summary") is None and i + 1 < len(raws) and raws[i + 1].level > raw.level:
                raw.summary = True
        stack: list[_Raw] = []
        for raw in raws:
            if raw.skip == "project summary":
                continue
            while stack and stack[-1].level >= raw.level:
                stack.pop()
            raw.parents = list(stack)
            if raw.summary:
                stack.append(raw)
        for raw in raws:
            if raw.skip:
                continue
            where = self.where.task(raw.el)
            if not _flag(raw.el, "Active", True) or any(not _flag(p.el, "Active", True) for p in raw.parents):
                raw.skip = "inactive"
            elif _flag(raw.el, "ExternalTask"):
                raw.skip = "external"
            elif _flag(raw.el, "IsSubproject"):
                raw.skip = "subproject"
            if raw.skip:
                if not raw.summary or raw.skip == "subproject":
                    self.group(raw.skip, raw.uid)
                continue
            days, raw.elapsed = self.task_duration(raw.el)
            if days is None:
                start, finish = _when(raw.el, "Start", where), _when(raw.el, "Finish", where)
                days = max(self.cal.offset(start.date(), finish) - self.cal.offset(start.date(), start), 0.0) \
                    if start and finish else 0.0
            raw.days = days
            if not raw.summary:
                for p in raw.parents:
                    p.leaves.append(raw)
        return raws

    def task_ids(self, tasks: list[_Raw]) -> dict[str, str]:
        """pmrisk id of each task (by UID): UID, or ``id_field`` (ID, WBS or a custom field)."""
        auto = self.id_field is None
        choice = PMRISK_FIELDS["id"][1] if self.id_field is None else self.id_field
        if auto and self.field_id(choice) not in self.declared:
            return {t.uid: t.uid for t in tasks}
        out: dict[str, str] = {}
        for t in tasks:
            if choice.upper() in ("UID", "ID", "WBS", "OUTLINENUMBER"):
                value = _text(t.el, {"OUTLINENUMBER": "OutlineNumber"}.get(choice.upper(), choice.upper()))
            else:
                fid = self.field_id(choice)
                if fid is None:
                    raise ProjectError(f"{self.path}: id_field {choice!r} is neither UID, ID, WBS nor a custom field "
                                       "of this file.")
                ea = self.field_value(t.el, fid)
                value = _text(ea, "Value") if ea is not None else None
            out[t.uid] = value or ""
        missing = [u for u, v in out.items() if not v]
        dup: dict[str, list[str]] = {}
        for u, v in out.items():
            dup.setdefault(v, []).append(u)
        dups = {v: us for v, us in dup.items() if v and len(us) > 1}
        if missing or dups:
            problem = (f"tasks UID {_listing(missing)} have no {choice}" if missing else "; ".join(
                f"{choice} {v!r} is used by tasks UID {', '.join(us)}" for v, us in list(dups.items())[:3]))
            if auto:
                self.notes.append(f"{self.path}: the 'pmrisk id' field cannot serve as ids ({problem}); UIDs are "
                                  "used instead.")
                return {t.uid: t.uid for t in tasks}
            raise ProjectError(f"{self.path}: {choice} cannot serve as task ids: {problem}. Ids must be unique; "
                               "use id_field='UID' (the default) or fix the values.")
        return out

    def read(self) -> Imported:
        raws = self.raw_tasks()
        by_uid = {r.uid: r for r in raws}
        tasks = [r for r in raws if not r.skip and not r.summary]
        if not tasks:
            raise ProjectError(f"{self.path}: no tasks to simulate: the file has {len(raws)} task row(s), all summary, "
                               "blank, inactive or external. Add tasks in MS Project and save as XML again.")
        ids = self.task_ids(tasks)
        start = self.project_start(tasks)
        data_tasks = [self.task_data(t, ids, start) for t in tasks]
        self.links(raws, by_uid, ids, {d["id"]: d for d in data_tasks})
        self.flush()
        self.notes = list(dict.fromkeys(self.notes))
        hdr = self.root
        name = _text(hdr, "Title") or _text(hdr, "Name") or self.path.stem
        if name.lower().endswith(".xml"):
            name = name[:-4]
        project: dict[str, Any] = {"name": name, "calendar": {"workdays": list(self.cal.workdays),
                                                              "holidays": list(self.cal.holidays)}}
        if start is not None:
            project["start"] = start
        currency = _text(hdr, "CurrencyCode") or _text(hdr, "CurrencySymbol")
        if currency:
            project["currency"] = currency
        return Imported(data={"pmrisk": FORMAT_VERSION, "project": project, "tasks": data_tasks},
                        notes=self.notes, extra=self.extra(raws, tasks, ids, start), fmt="mspdi")

    def project_start(self, tasks: list[_Raw]) -> dt.date | None:
        when = _when(self.root, "StartDate", str(self.path))
        if when is None:
            starts = [s for s in (_when(t.el, "Start", self.where.task(t.el)) for t in tasks) if s is not None]
            if not starts:
                self.notes.append(f"{self.path}: no project StartDate and no task dates: results are in working "
                                  "days only, and date constraints are dropped.")
                return None
            when = min(starts)
            self.notes.append(f"{self.path}: no project StartDate; the earliest task start {when.date()} is used.")
        return when.date()

    def task_data(self, t: _Raw, ids: dict[str, str], start: dt.date | None) -> dict[str, Any]:
        el, where = t.el, self.where.task(t.el)
        out: dict[str, Any] = {"id": ids[t.uid], "name": t.name or ids[t.uid]}
        tags = [p.name for p in t.parents if p.name]
        fid = self.field_id(PMRISK_FIELDS["tags"][1])
        ea = self.field_value(el, fid) if fid is not None and fid in self.declared else None
        if ea is not None:
            tags += [x.strip() for x in re.split(r"[;,]", _text(ea, "Value") or "") if x.strip()]
        if tags:
            out["tags"] = list(dict.fromkeys(tags))
        if t.elapsed:
            self.group("elapsed", t.uid)
        if _int(el, "CalendarUID", where, -1) not in (-1, _int(self.root, "CalendarUID", str(self.path), -1)):
            self.group("task_calendar", t.uid)
        if _flag(el, "Manual"):
            self.group("manual", t.uid)
        likely = t.days
        if _flag(el, "Milestone") and likely > 0:
            self.group("milestone_duration", t.uid)
        if likely == 0:
            out["milestone"] = True
        else:
            out["duration"] = self.duration(t, likely)
        cost = self.cost(t, likely)
        if cost:
            out["cost"] = cost
        snet = self.constraint(t, start)
        if snet is not None:
            out["start_no_earlier_than"] = snet
        text = _text(el, "Notes")
        if text:
            out["notes"] = text
        return out

    def duration(self, t: _Raw, likely: float) -> float | dict[str, Any]:
        el, where = t.el, self.where.task(t.el)
        pc = _num(el, "PercentComplete", where, 0.0) or 0.0
        actual, _ = self.task_duration(el, "ActualDuration")
        remaining, _ = self.task_duration(el, "RemainingDuration")
        if pc >= 100 or _text(el, "ActualFinish") is not None:
            self.group("complete", t.uid)
            return _r(actual if actual else likely)
        done = 0.0
        if pc > 0 or _text(el, "ActualStart") is not None:
            self.group("in_progress", t.uid)
            if actual is not None:
                done = actual
            else:
                done = likely - remaining if remaining is not None and remaining <= likely else likely * pc / 100
            rest = remaining if remaining is not None else max(likely - done, 0.0)
            likely = done + rest
        three = self.three_point(t, likely)
        if three is None:
            self.group("no_range", t.uid)
            return _r(likely)
        lo, mode, hi, dist = three
        if done > 0 and mode > 0:             # the range scales the remaining part only
            rest = likely - done
            lo, mode, hi = (done + rest * x / mode for x in (lo, mode, hi))
        if hi - lo < 1e-9:
            return _r(mode)
        return {"dist": dist, "min": _r(lo), "likely": _r(mode), "max": _r(hi)}

    def three_point(self, t: _Raw, likely: float) -> tuple[float, float, float, str] | None:
        if self.ranges is not None:
            got = {k: self.field_days(t.el, v[0], v[1]) for k, v in self.ranges.items() if k != "dist"}
            lo, hi = got.get("min"), got.get("max")
            mode = got.get("likely")
            if lo is not None and hi is not None and hi > 0:
                mode = likely if mode is None else mode
                if not lo <= mode <= hi:
                    names = {k: v[1] for k, v in self.ranges.items() if k != "dist"}
                    raise ProjectError(
                        f"{self.where.task(t.el)}: the estimates are not in order: min {lo:g} ({names['min']}), likely "
                        f"{mode:g} ({names.get('likely', 'planned duration')}), max {hi:g} ({names['max']}) working "
                        "days. Fix the fields so that min <= likely <= max.")
                return lo, mode, hi, self.ranges["dist"]
        if self.template is not None:
            factors = self.template.factors(t)
            if factors is not None:
                return likely * factors[0], likely, likely * factors[1], self.template.dist
        return None

    def cost(self, t: _Raw, likely: float) -> dict[str, float] | None:
        where = self.where.task(t.el)
        fixed = (_num(t.el, "FixedCost", where, 0.0) or 0.0) / 100
        total = (_num(t.el, "Cost", where, None))
        variable = total / 100 - fixed if total is not None else 0.0
        for p in t.parents:
            if (_num(p.el, "FixedCost", self.where.task(p.el), 0.0) or 0.0) > 0 and p.uid not in self.grouped.get(
                    "summary_cost", []):
                self.group("summary_cost", p.uid)
        if fixed < 0 or variable < -0.005:
            self.group("negative_cost", t.uid)
            fixed, variable = max(fixed, 0.0), max(variable, 0.0)
        if variable > 0.005 and likely <= 0:
            fixed, variable = fixed + variable, 0.0
        out = {}
        if fixed > 0:
            out["fixed"] = _r(fixed, 2)
        if variable > 0.005:
            out["per_day"] = _r(variable / likely, 6)
        return out or None

    def constraint(self, t: _Raw, start: dt.date | None) -> dt.date | float | None:
        """The task's lower bound on its start from its own and its summaries' constraints."""
        best: tuple[float, dt.date | float] | None = None
        for el in [p.el for p in t.parents] + [t.el]:
            where = self.where.task(el)
            kind = _int(el, "ConstraintType", where, 0)
            when = _when(el, "ConstraintDate", where)
            if kind == 0 or (when is None and kind != 1):
                continue
            label = CONSTRAINTS.get(kind, f"type {kind}")
            if kind in (1, 5, 7) or kind not in CONSTRAINTS:
                self.notes.append(f"{where}: constraint {label}" + (f" {when:%Y-%m-%d %H:%M}" if when else "") +
                                  " is not honoured (pmrisk schedules as soon as possible with lower bounds only).")
                continue
            if start is None or when is None:
                continue
            off = self.cal.offset(start, when)
            at_day_start = off == self.cal.offset(start, dt.datetime.combine(when.date(), dt.time()))
            value: dt.date | float = when.date() if at_day_start else _r(max(off, 0.0), 6)
            if kind in (3, 6):
                dur = t.days if el is t.el else 0.0
                off = max(off - dur, 0.0)
                value = _r(off, 6)
                self.notes.append(f"{where}: {label} {when:%Y-%m-%d %H:%M} kept only as start no earlier than "
                                  f"working day {off:g} (the date minus the planned duration): a lower bound, not a "
                                  "fixed date.")
            elif kind == 2:
                self.notes.append(f"{where}: {label} {when:%Y-%m-%d %H:%M} kept only as start no earlier than that "
                                  "date: a lower bound, the task may start later.")
            if best is None or off > best[0]:
                best = (off, value)
        return None if best is None else best[1]

    def links(self, raws: list[_Raw], by_uid: dict[str, _Raw], ids: dict[str, str],
              data: dict[str, dict[str, Any]]) -> None:
        for succ in raws:
            if succ.skip == "project summary":
                continue
            for link in succ.el.findall("PredecessorLink"):
                where = f"{self.where.task(succ.el)}, predecessor link"
                puid = _text(link, "PredecessorUID")
                if _flag(link, "CrossProject"):
                    self.group("cross_project", succ.uid)
                    continue
                pred = by_uid.get(puid or "")
                if pred is None:
                    self.group("dangling", succ.uid)
                    continue
                if pred.skip or succ.skip:
                    self.group("skipped_link", succ.uid)
                    continue
                code = _int(link, "Type", where, 1)
                if code not in LINK_TYPES:
                    raise ProjectError(f"{where} from UID {puid}: <Type> {code} is not a link type (0 = FF, 1 = FS, "
                                       "2 = SF, 3 = SS). Fix the value in the XML.")
                typ = LINK_TYPES[code]
                lag = _r(self.lag_days(link, pred, succ, where))
                preds = pred.leaves if pred.summary else [pred]
                succs = succ.leaves if succ.summary else [succ]
                if pred.summary or succ.summary:
                    self.group("summary_link", succ.uid)
                for s in succs:
                    deps = data[ids[s.uid]].setdefault("depends_on", [])
                    for p in preds:
                        if p is s:
                            continue
                        same = next((d for d in deps if d["task"] == ids[p.uid] and d["type"] == typ), None)
                        if same is None:
                            deps.append({"task": ids[p.uid], "type": typ, "lag": lag})
                        else:
                            same["lag"] = max(same["lag"], lag)

    def extra(self, raws: list[_Raw], tasks: list[_Raw], ids: dict[str, str], start: dt.date | None) -> dict[str, Any]:
        root, path = self.root, str(self.path)
        out: dict[str, Any] = {"minutes_per_day": self.mpd, "calendar_name": self.cal_name,
                               "uids": {ids[t.uid]: int(t.uid) for t in tasks}}
        s, f, status = (_when(root, k, path) for k in ("StartDate", "FinishDate", "StatusDate"))
        out["start_date"] = s.isoformat() if s else None
        out["finish_date"] = f.isoformat() if f else None
        out["status_date"] = status.isoformat() if status else None
        out["planned_duration"] = (_r(self.cal.offset(start, f) - self.cal.offset(start, s), 4)
                                   if s and f and start else None)
        top = next((r for r in raws if r.skip == "project summary"), None)
        out["summary_duration"] = _r(self.task_duration(top.el)[0] or 0.0, 4) if top is not None and _text(
            top.el, "Duration") else None
        day = {self.cal.day_minutes(d) for d in (dt.date(2024, 1, 1) + dt.timedelta(k) for k in range(7))} - {0}
        if day and self.mpd not in day:
            self.notes.append(f"{self.path}: MinutesPerDay is {self.mpd:g} but the calendar's working days have "
                              f"{'/'.join(f'{m:g}' for m in sorted(day))} working minutes: durations are converted "
                              f"with {self.mpd:g} minutes a day, dates over the calendar.")
        out["outline"], out["schedule"], out["baselines"], out["actuals"] = {}, {}, {}, {}
        for t in tasks:
            tid, el, where = ids[t.uid], t.el, self.where.task(t.el)
            out["outline"][tid] = {"wbs": _text(el, "WBS"), "outline_number": _text(el, "OutlineNumber"),
                                   "outline_level": t.level, "summaries": [p.name for p in t.parents]}
            out["schedule"][tid] = {k.lower(): (v.isoformat() if v else None)
                                    for k, v in (("Start", _when(el, "Start", where)),
                                                 ("Finish", _when(el, "Finish", where)))}
            bls = {}
            for b in el.findall("Baseline"):
                n = _int(b, "Number", where, 0)
                bs, bf = _when(b, "Start", where), _when(b, "Finish", where)
                bd = _text(b, "Duration")
                bls[n] = {"start": bs.isoformat() if bs else None, "finish": bf.isoformat() if bf else None,
                          "duration": _r(self.duration_days(bd, False, f"{where}, baseline {n}"), 4) if bd else None}
            if bls:
                out["baselines"][tid] = bls
            pc = _num(el, "PercentComplete", where, 0.0) or 0.0
            a_s, a_f = _when(el, "ActualStart", where), _when(el, "ActualFinish", where)
            if pc > 0 or a_s or a_f:
                act, rem = self.task_duration(el, "ActualDuration")[0], self.task_duration(el, "RemainingDuration")[0]
                out["actuals"][tid] = {"percent_complete": pc, "actual_start": a_s.isoformat() if a_s else None,
                                       "actual_finish": a_f.isoformat() if a_f else None,
                                       "actual_duration": None if act is None else _r(act, 4),
                                       "remaining_duration": None if rem is None else _r(rem, 4)}
        return out


def _dist_name(value: Any, what: str) -> str:
    name = str(value).strip().lower()
    if name not in ("pert", "triangular"):
        raise ProjectError(f"{what}: dist {value!r} is not 'pert' or 'triangular'.")
    return name


@dataclass
class _Template:
    default: tuple[float, float] | None
    by_tag: dict[str, tuple[float, float]]
    by_name: dict[str, tuple[float, float]]
    dist: str

    def factors(self, t: _Raw) -> tuple[float, float] | None:
        for pattern, f in self.by_name.items():
            if fnmatch.fnmatchcase(t.name.lower(), pattern.lower()):
                return f
        for p in reversed(t.parents):
            if p.name.lower() in self.by_tag:
                return self.by_tag[p.name.lower()]
        return self.default


def _template_spec(template: Mapping[str, Any] | None) -> _Template | None:
    if template is None:
        return None
    if not isinstance(template, Mapping):
        raise ProjectError(f"template must be a mapping such as {{'min': 0.9, 'max': 1.25}} (got {template!r}).")
    unknown = set(template) - {"min", "max", "dist", "default", "by_tag", "by_name"}
    if unknown:
        raise ProjectError(f"template: unknown key(s) {sorted(unknown)}; use min/max, or default, by_tag, by_name "
                           "(and dist).")

    def pair(v: Any, what: str) -> tuple[float, float]:
        lo, hi = (v.get("min"), v.get("max")) if isinstance(v, Mapping) else (tuple(v) + (None, None))[:2] \
            if isinstance(v, Sequence) and not isinstance(v, str) else (None, None)
        try:
            lo_f, hi_f = float(lo), float(hi)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ProjectError(f"template {what}: {v!r} is not a pair of factors such as (0.9, 1.25)") from None
        if not (0 <= lo_f <= 1 <= hi_f and math.isfinite(hi_f)):
            raise ProjectError(f"template {what}: factors {v!r} must satisfy 0 <= min <= 1 <= max (e.g. 0.9 and "
                               "1.25 for -10% / +25% of the planned duration).")
        return lo_f, hi_f

    default = template.get("default")
    if "min" in template or "max" in template:
        default = {"min": template.get("min"), "max": template.get("max")}
    return _Template(
        default=None if default is None else pair(default, "default"),
        by_tag={str(k).lower(): pair(v, f"by_tag[{k!r}]") for k, v in (template.get("by_tag") or {}).items()},
        by_name={str(k): pair(v, f"by_name[{k!r}]") for k, v in (template.get("by_name") or {}).items()},
        dist=_dist_name(template.get("dist", "pert"), "template"))


def _parse(path: Path) -> ET.Element:
    if not path.exists():
        raise ProjectError(f"{path}: no such file. Check the path.")
    if path.is_dir():
        raise ProjectError(f"{path}: is a folder; give an MS Project XML file.")
    try:
        root = SafeET.parse(str(path), forbid_dtd=True).getroot()
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise ProjectError(
            f"{path}: refused: the file declares a DTD or entities ({type(exc).__name__}). MS Project XML never "
            "contains a <!DOCTYPE>; DTDs and entities are how entity-expansion and external-entity attacks work. "
            "Save the project from MS Project again (File > Save As > XML) and read that file.") from None
    except DefusedXmlException as exc:
        raise ProjectError(f"{path}: refused as unsafe XML ({exc}). Save it from MS Project again.") from None
    except SafeET.ParseError as exc:
        line, col = getattr(exc, "position", (0, 0))
        raise ProjectError(f"Cannot parse {path}, line {line}, column {col + 1}: {getattr(exc, 'msg', exc)}. "
                           "The file is not well-formed XML (truncated or edited by hand?); save it from MS "
                           "Project again.") from None
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    if root.tag != "Project":
        what = " (a Primavera P6 XML export: export XER from P6, or open it in MS Project and save as XML)" \
            if root.tag == "APIBusinessObjects" else ""
        raise ProjectError(f"{path}: not an MS Project XML (MSPDI) file: its root element is <{root.tag}>, not "
                           f"<Project>{what}.")
    return root


def read_mspdi(path: str | os.PathLike[str], *, ranges: Mapping[str, Any] | None = None,
               template: Mapping[str, Any] | None = None, id_field: str | None = None) -> Imported:
    """Read an MS Project XML (MSPDI) file into a pmrisk project mapping.

    Parameters
    ----------
    path
        The ``.xml`` file MS Project wrote (File > Save As > XML).
    ranges
        Custom fields holding three-point estimates: ``{"min": "Duration1", "likely": "Duration2",
        "max": "Duration3", "dist": "pert"}`` (field names such as ``Number1`` or ``Text3``, or their
        aliases; ``likely`` defaults to the planned duration, ``dist`` to ``pert``).
    template
        Quick-risk factors of the planned duration for tasks without a range: ``{"min": 0.9, "max":
        1.25}``, or ``{"default": (0.9, 1.25), "by_tag": {"Build": (0.9, 1.5)}, "by_name": {"*test*":
        (0.8, 1.6)}, "dist": "pert"}``.
    id_field
        What becomes the task id: ``"UID"`` (the default), ``"ID"``, ``"WBS"``, ``"OutlineNumber"`` or a
        custom field (``"Text1"`` or its alias). By default a field aliased ``pmrisk id`` (written by
        :func:`write_mspdi`) is used when the file has one, else the UID.

    Returns
    -------
    Imported
        ``data`` for :meth:`pmrisk.Project.from_dict`, ``notes`` on what was converted or not honoured,
        and ``extra`` facts (``planned_duration``, ``baselines``, ``outline``, ``actuals``, ...);
        ``fmt`` is ``"mspdi"``. The module docstring lists every conversion rule.

    Raises
    ------
    pmrisk.errors.ProjectError
        For unsafe XML (DTDs, entities), a file that is not MSPDI, and malformed values, naming the file,
        the task UID or line, and what is wrong.

    Examples
    --------
    >>> import pathlib, tempfile, pmrisk
    >>> from pmrisk.io.mspdi import read_mspdi
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "plan.xml"
    >>> _ = f.write_text('<Project xmlns="http://schemas.microsoft.com/project"><StartDate>2027-01-04T08:00:00'
    ...     '</StartDate><Tasks><Task><UID>1</UID><Name>Design</Name><Duration>PT40H0M0S</Duration></Task>'
    ...     '<Task><UID>2</UID><Name>Build</Name><Duration>PT80H0M0S</Duration><PredecessorLink>'
    ...     '<PredecessorUID>1</PredecessorUID><Type>1</Type><LinkLag>4800</LinkLag></PredecessorLink></Task>'
    ...     '</Tasks></Project>')
    >>> imported = read_mspdi(f, template={"min": 0.9, "max": 1.25})
    >>> imported.data["tasks"][1]["duration"], imported.data["tasks"][1]["depends_on"]
    ({'dist': 'pert', 'min': 9.0, 'likely': 10.0, 'max': 12.5}, [{'task': '1', 'type': 'FS', 'lag': 1.0}])
    >>> pmrisk.Project.from_dict(imported.data).finish_date(16)
    datetime.date(2027, 1, 25)
    """
    p = Path(path)
    return _Reader(p, _parse(p), ranges, template, id_field).read()


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

_WRITE_MPD = 480                               # the written calendar: 08:00-12:00 and 13:00-17:00


def _clock(day: dt.date, minutes: float, finish: bool) -> str:
    """The time ``minutes`` of working time into ``day`` (a finish at 240 is 12:00, a start 13:00)."""
    m = min(max(minutes, 0.0), _WRITE_MPD)
    m = m + 480 if (m <= 240 if finish else m < 240) else m + 540
    when = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=round(m))
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def _at(cal: Calendar, start: dt.date, offset: float, finish: bool) -> str:
    if finish and offset > 1e-9:
        k = math.ceil(offset - 1e-9) - 1
        return _clock(cal.finish_date(start, offset), (offset - k) * _WRITE_MPD, True)
    k = math.floor(offset + 1e-9)
    return _clock(cal.start_date(start, offset), (offset - k) * _WRITE_MPD, False)


def _iso(days: float) -> str:
    secs = round(days * _WRITE_MPD * 60)
    sign, secs = ("-" if secs < 0 else ""), abs(secs)
    h, rest = divmod(secs, 3600)
    return f"{sign}PT{h}H{rest // 60}M{rest % 60}S"


def _sub(parent: ET.Element, tag: str, value: Any = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if value is not None:
        el.text = str(value)
    return el


def _bounds(d: Any) -> tuple[float, float, float]:
    lo, hi = d.support()
    lo = lo if math.isfinite(lo) else float(d.ppf(0.01))
    hi = hi if math.isfinite(hi) else float(d.ppf(0.99))
    return max(lo, 0.0), float(d.mode()), max(hi, 0.0)


def write_mspdi(project: Project, path: str | os.PathLike[str], *, result: SimulationResult | None = None,
                levels: Iterable[int] = (50, 80, 90)) -> list[str]:
    """Write ``project`` as an MS Project XML (MSPDI) file, with simulated P-level dates if given.

    Tasks (in file order, ids kept in the text field aliased ``pmrisk id``, tags in ``pmrisk
    tags``), links with their type and lag, the calendar (working weekdays, holidays as exceptions),
    milestones and start-no-earlier-than constraints are written; each task's duration is its most
    likely value, and an uncertain duration's min / likely / max go to Duration1-3 (aliased ``pmrisk
    min``, ``pmrisk likely``, ``pmrisk max``; for an unbounded distribution its P1 / P99), which
    :func:`read_mspdi` reads back. Dates follow the deterministic plan on a 08:00-17:00 calendar
    (without a project start: from today). With ``result``, each task's P-level finish dates go to
    Date1, Date2, ... (aliased ``P50 finish``, ...; the project's on the project summary task), and
    its criticality index and sensitivity (0-1) to Number1 and Number2.

    Parameters
    ----------
    project
        The project to write.
    path
        The ``.xml`` file to create; never the file the project was read from.
    result
        A :class:`~pmrisk.SimulationResult` of ``project``, for the P-level dates and indices.
    levels
        The P-levels written (at most ten, 1-99).

    Returns
    -------
    list of str
        What MSPDI cannot carry and was left out or simplified (risks, drivers, correlations, costs
        per day folded into the fixed cost at the likely duration).

    Raises
    ------
    pmrisk.errors.ProjectError
        When ``path`` is the project's own source file, or ``levels`` are invalid.
    """
    from pmrisk.engine.simulate import deterministic_plan

    out = Path(path)
    if project.source:
        src = Path(project.source)
        if out.resolve() == src.resolve() or (out.exists() and src.exists() and os.path.samefile(out, src)):
            raise ProjectError(f"{out}: is the file the project was read from; write the MS Project XML to a new "
                               "file instead of over the input.")
    asked = list(levels)
    lv = [int(x) for x in asked] if result is not None else []
    if len(lv) > 10 or any(not 1 <= x <= 99 for x in lv):
        raise ProjectError(f"levels {asked}: give at most ten P-levels between 1 and 99 (Date1-Date10).")
    notes: list[str] = []
    cal = project.calendar
    start = project.start or cal.first_workday(dt.date.today())
    plan = deterministic_plan(project)
    ints = [t.id for t in project.tasks]
    if all(re.fullmatch(r"[1-9]\d{0,8}", i) for i in ints):
        uid = {t.id: int(t.id) for t in project.tasks}
    else:
        uid = {t.id: k for k, t in enumerate(project.tasks, 1)}

    root = ET.Element("Project", {"xmlns": NS})
    for tag, value in (("SaveVersion", 14), ("Name", project.name), ("Title", project.name),
                       ("ScheduleFromStart", 1), ("StartDate", _at(cal, start, 0, False)),
                       ("FinishDate", _at(cal, start, plan["duration"], True))):
        _sub(root, tag, value)
    if project.currency and re.fullmatch(r"[A-Za-z]{3}", project.currency):
        _sub(root, "CurrencyCode", project.currency.upper())
    for tag, value in (("CalendarUID", 1), ("DefaultStartTime", "08:00:00"), ("DefaultFinishTime", "17:00:00"),
                       ("MinutesPerDay", _WRITE_MPD), ("MinutesPerWeek", _WRITE_MPD * len(cal.workdays)),
                       ("DaysPerMonth", 20), ("DurationFormat", 7), ("WorkFormat", 2)):
        _sub(root, tag, value)

    uncertain = [t for t in project.tasks if not t.milestone and not t.duration.is_fixed]
    fields = [PMRISK_FIELDS["id"], PMRISK_FIELDS["tags"]]
    if uncertain:
        fields += [PMRISK_FIELDS[k] for k in ("min", "likely", "max")]
    if result is not None:
        fields += [(f"Date{k}", f"P{x} finish") for k, x in enumerate(lv, 1)]
        if result.start_hist is not None:           # kept with simulate(..., task_starts=True)
            fields += [(f"Start{k}", f"P{x} start") for k, x in enumerate(lv, 1)]
        fields += [PMRISK_FIELDS["criticality"], PMRISK_FIELDS["sensitivity"]]
    eas = _sub(root, "ExtendedAttributes")
    for name, alias in fields:
        ea = _sub(eas, "ExtendedAttribute")
        _sub(ea, "FieldID", FIELD_IDS[name])
        _sub(ea, "FieldName", name)
        _sub(ea, "Alias", alias)

    cals = _sub(_sub(root, "Calendars"), "Calendar")
    for tag, value in (("UID", 1), ("Name", "Standard"), ("IsBaseCalendar", 1), ("BaseCalendarUID", -1)):
        _sub(cals, tag, value)
    week = _sub(cals, "WeekDays")
    for day_type in range(1, 8):
        wd = _sub(week, "WeekDay")
        worked = WEEKDAYS[(day_type + 5) % 7] in cal.workdays
        _sub(wd, "DayType", day_type)
        _sub(wd, "DayWorking", int(worked))
        if worked:
            times = _sub(wd, "WorkingTimes")
            for a, b in (("08:00:00", "12:00:00"), ("13:00:00", "17:00:00")):
                wt = _sub(times, "WorkingTime")
                _sub(wt, "FromTime", a)
                _sub(wt, "ToTime", b)
    if cal.holidays:
        excs = _sub(cals, "Exceptions")
        for day in cal.holidays:
            exc = _sub(excs, "Exception")
            _sub(exc, "EnteredByOccurrences", 0)
            period = _sub(exc, "TimePeriod")
            _sub(period, "FromDate", f"{day:%Y-%m-%d}T00:00:00")
            _sub(period, "ToDate", f"{day:%Y-%m-%d}T23:59:00")
            for tag, value in (("Occurrences", 1), ("Name", "Holiday"), ("Type", 1), ("DayWorking", 0)):
                _sub(exc, tag, value)

    tasks = _sub(root, "Tasks")

    def task(uid_: int, name: str, level: int, s: float, f: float, days: float, *, summary: bool = False,
             milestone: bool = False) -> ET.Element:
        el = _sub(tasks, "Task")
        for tag, value in (("UID", uid_), ("ID", uid_ if level else 0), ("Name", name[:255]), ("Active", 1),
                           ("Manual", 0), ("Type", 1), ("IsNull", 0), ("WBS", uid_ if level else 0),
                           ("OutlineNumber", uid_ if level else 0), ("OutlineLevel", level),
                           ("Start", _at(cal, start, s, milestone and s > 0)), ("Finish", _at(cal, start, f, True)),
                           ("Duration", _iso(days)), ("DurationFormat", 7), ("Estimated", 0),
                           ("Milestone", int(milestone)), ("Summary", int(summary))):
            _sub(el, tag, value)
        return el

    def custom(el: ET.Element, name: str, value: str, duration: bool = False) -> None:
        ea = _sub(el, "ExtendedAttribute")
        _sub(ea, "FieldID", FIELD_IDS[name])
        _sub(ea, "Value", value)
        if duration:
            _sub(ea, "DurationFormat", 7)

    top = task(0, project.name, 0, 0.0, plan["duration"], plan["duration"], summary=True)
    _sub(top, "ConstraintType", 0)
    if result is not None:
        for k, x in enumerate(lv, 1):
            custom(top, f"Date{k}", _at(cal, start, result.percentile(x), True))
    crit = dict(zip(result.task_ids, result.criticality_counts / result.iterations, strict=True)) if result else {}
    sens = dict(zip(result.task_ids, result.sensitivity_values, strict=True)) if result else {}
    folded = 0
    for t in project.tasks:
        lo, mode, hi = _bounds(t.duration)
        days = 0.0 if t.milestone else mode
        el = task(uid[t.id], t.name, 1, plan["start"][t.id], plan["finish"][t.id], days, milestone=t.milestone)
        fixed = float(t.fixed_cost.mode()) + float(t.per_day_cost.mode()) * days
        folded += not (t.per_day_cost.is_fixed and t.per_day_cost.mode() == 0)
        _sub(el, "FixedCost", _r(fixed * 100, 2))
        _sub(el, "FixedCostAccrual", 3)
        _sub(el, "ConstraintType", 4 if t.start_no_earlier_than else 0)
        _sub(el, "CalendarUID", -1)
        if t.start_no_earlier_than:
            _sub(el, "ConstraintDate", _at(cal, start, t.start_no_earlier_than, False))
        for lk in t.predecessors:
            pl = _sub(el, "PredecessorLink")
            for tag, value in (("PredecessorUID", uid[lk.pred]), ("Type", LINK_CODES[lk.type]), ("CrossProject", 0),
                               ("LinkLag", round(lk.lag * _WRITE_MPD * 10)), ("LagFormat", 7)):
                _sub(pl, tag, value)
        custom(el, "Text30", t.id)
        if t.tags:
            custom(el, "Text29", "; ".join(t.tags))
        if not t.milestone and not t.duration.is_fixed:
            for name, v in zip(("Duration1", "Duration2", "Duration3"), (lo, mode, hi), strict=True):
                custom(el, name, _iso(v), duration=True)
        if result is not None and t.id in crit:
            for k, x in enumerate(lv, 1):
                custom(el, f"Date{k}", _at(cal, start, result.task_finish(t.id, x), True))
                if result.start_hist is not None:
                    custom(el, f"Start{k}", _at(cal, start, result.task_start(t.id, x), False))
            custom(el, "Number1", f"{crit[t.id]:.6g}")
            custom(el, "Number2", f"{float(sens[t.id]):.6g}")
    if folded:
        notes.append(f"{folded} task(s) with a cost per day: written as fixed cost at the likely duration (MSPDI "
                     "has no cost per day without resources).")
    for what, n in (("risks", len(project.risks)), ("drivers", len(project.drivers)),
                    ("correlations", len(getattr(project.risk, "correlations", ()) or ()))):
        if n:
            notes.append(f"{n} {what} not written: MSPDI has no place for them; keep the pmrisk project file.")
    if any(not math.isfinite(b) for t in project.tasks for b in t.duration.support()):
        notes.append("unbounded duration distributions written with their P1 / P99 as min / max.")
    ET.indent(root, space="  ")
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return notes
