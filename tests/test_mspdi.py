"""MS Project XML (MSPDI) in and out: pmrisk.io.mspdi.

Small files are written here, each checking one rule against MS Project's arithmetic worked out by
hand; the shared MPXJ samples are checked against facts counted from their XML text.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import pmrisk
from pmrisk.engine.simulate import deterministic_plan
from pmrisk.errors import ProjectError
from pmrisk.io.mspdi import FIELD_IDS, read_mspdi, write_mspdi

NS = "http://schemas.microsoft.com/project"
STANDARD_WEEK = "".join(
    f"<WeekDay><DayType>{d}</DayType><DayWorking>{int(1 < d < 7)}</DayWorking>"
    + ("<WorkingTimes><WorkingTime><FromTime>08:00:00</FromTime><ToTime>12:00:00</ToTime></WorkingTime>"
       "<WorkingTime><FromTime>13:00:00</FromTime><ToTime>17:00:00</ToTime></WorkingTime></WorkingTimes>"
       if 1 < d < 7 else "") + "</WeekDay>" for d in range(1, 8))
LINK_NAMES = {"0": "FF", "1": "FS", "2": "SF", "3": "SS"}


def link(pred, typ=1, lag=0, fmt=7, extra=""):
    return (f"<PredecessorLink><PredecessorUID>{pred}</PredecessorUID><Type>{typ}</Type>"
            f"<LinkLag>{lag}</LinkLag><LagFormat>{fmt}</LagFormat>{extra}</PredecessorLink>")


def task(uid, hours=8, *, name=None, level=1, summary=0, fmt=7, extra="", links=(), duration=None, row=None):
    dur = duration if duration is not None else f"PT{hours}H0M0S"
    return (f"<Task><UID>{uid}</UID><ID>{row or uid}</ID><Name>{name or f'T{uid}'}</Name>"
            f"<OutlineLevel>{level}</OutlineLevel><Summary>{summary}</Summary><Duration>{dur}</Duration><DurationFormat>{fmt}</DurationFormat>{extra}"
            + "".join(links) + "</Task>")


def project(*tasks, head="", calendar="", exceptions="", start="2027-01-04T08:00:00", finish=None, attrs=""):
    cal = calendar or (f"<Calendar><UID>1</UID><Name>Standard</Name><IsBaseCalendar>1</IsBaseCalendar>"
                       f"<BaseCalendarUID>-1</BaseCalendarUID><WeekDays>{STANDARD_WEEK}</WeekDays>"
                       f"<Exceptions>{exceptions}</Exceptions></Calendar>")
    fin = f"<FinishDate>{finish}</FinishDate>" if finish else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Project xmlns="{NS}"><Name>t.xml</Name><Title>T</Title>'
            f"<StartDate>{start}</StartDate>{fin}<CalendarUID>1</CalendarUID>{head}"
            f"<ExtendedAttributes>{attrs}</ExtendedAttributes><Calendars>{cal}</Calendars>"
            f"<Tasks>{''.join(tasks)}</Tasks></Project>")


@pytest.fixture
def xml(tmp_path):
    def write(text, name="plan.xml"):
        f = tmp_path / name
        f.write_text(text, encoding="utf-8")
        return f
    return write


def load(path, **kw):
    imported = read_mspdi(path, **kw)
    return imported, pmrisk.Project.from_dict(imported.data, source=str(path))


def spec(imported, tid):
    """The duration the reader wrote for a task (a number or a distribution mapping)."""
    return next(t for t in imported.data["tasks"] if t["id"] == tid)["duration"]


def dates(p, det, tid):
    """Start and finish dates of a task in the plan; a milestone sits at its finish, as MS Project shows it."""
    finish = p.calendar.finish_date(p.start, det["finish"][tid])
    return finish if p.task(tid).milestone else p.calendar.start_date(p.start, det["start"][tid]), finish


# ------------------------------------------------------------------------------------------------
# The shared samples: facts counted from the XML text
# ------------------------------------------------------------------------------------------------


def _blocks(text, tag):
    return re.findall(rf"<{tag}>(.*?)</{tag}>", text, re.S)


def test_shared_samples(shared_home):
    folder = Path(shared_home) / "mspdi-xer-samples"
    files = sorted(folder.glob("*.xml"))
    assert files
    read = 0
    for f in files:
        text = f.read_text(encoding="utf-8")
        if "<Project xmlns=\"http://schemas.microsoft.com/project\"" not in text:
            with pytest.raises(ProjectError, match="not an MS Project XML.*Primavera"):
                read_mspdi(f)
            continue
        imported, p = load(f)
        read += 1
        assert imported.fmt == "mspdi"
        tasks = [b for b in _blocks(text, "Task") if "<Summary>0</Summary>" in b and "<IsNull>1</IsNull>" not in b]
        assert len(p.tasks) == len(tasks), f.name
        uids = [re.search(r"<UID>(\d+)</UID>", b).group(1) for b in tasks]
        assert sorted(p.task_ids, key=int) == sorted(uids, key=int)
        links = _blocks(text, "PredecessorLink")
        types = sorted(LINK_NAMES[re.search(r"<Type>(\d)</Type>", b).group(1)] for b in links)
        assert sorted(lk.type for lk in p.links) == types, f.name
        # every task starts where MS Project put it (the file's own <Start>)
        det = deterministic_plan(p)
        for b in tasks:
            uid, start = re.search(r"<UID>(\d+)</UID>", b).group(1), re.search(r"<Start>([\d-]+)T", b).group(1)
            assert dates(p, det, uid)[0].isoformat() == start, (f.name, uid)
        s, fin = (re.search(rf"<{k}>([^<]+)</{k}>", text).group(1) for k in ("StartDate", "FinishDate"))
        assert imported.extra["start_date"] == s and imported.extra["finish_date"] == fin
        result = pmrisk.simulate(p, iterations=200, rng=1)
        assert result.iterations == 200 and np.all(result.durations >= 0)
    assert read == 3


def test_shared_relations_sample_is_ms_projects_plan(shared_home):
    f = Path(shared_home) / "mspdi-xer-samples" / "mspdirelations.xml"
    text = f.read_text(encoding="utf-8")
    imported, p = load(f)
    det = deterministic_plan(p)
    start = dt.date(2006, 9, 21)
    for b in _blocks(text, "Task")[1:]:
        uid = re.search(r"<UID>(\d+)</UID>", b).group(1)
        finish = dt.datetime.fromisoformat(re.search(r"<Finish>([^<]+)</Finish>", b).group(1))
        # MS Project's finish as a working-day offset: whole days before it, + 1 when it ends at 17:00
        expected = np.busday_count(start, finish.date()) + (finish.hour >= 17)
        assert det["finish"][uid] == expected, uid
    assert det["duration"] == imported.extra["planned_duration"] == np.busday_count(start, dt.date(2006, 9, 26))
    assert [(lk.pred, lk.succ, lk.type, lk.lag) for lk in p.links] == [
        ("1", "2", "FS", 0), ("2", "3", "SS", 1), ("3", "4", "FF", 0), ("4", "5", "SF", 0)]


# ------------------------------------------------------------------------------------------------
# A hand-made plan: MS Project's arithmetic, worked out by hand in the file's Start/Finish
# ------------------------------------------------------------------------------------------------

HAND_MADE = [  # uid, name, hours, links, MS Project's start, finish (Mon 2027-01-04; Wed 01-06 a holiday)
    ("1", "A", 24, [], "2027-01-04T08:00:00", "2027-01-07T17:00:00"),
    ("2", "B", 16, [link(1, 1, 4800)], "2027-01-11T08:00:00", "2027-01-12T17:00:00"),
    ("3", "C", 32, [link(1, 3, 9600)], "2027-01-07T08:00:00", "2027-01-12T17:00:00"),
    ("4", "D", 8, [link(2, 0)], "2027-01-12T08:00:00", "2027-01-12T17:00:00"),
    ("5", "E", 16, [link(3, 2)], "2027-01-04T08:00:00", "2027-01-05T17:00:00"),
    ("6", "M", 0, [link(4), link(5)], "2027-01-12T17:00:00", "2027-01-12T17:00:00"),
    ("8", "F", 8, [link(1)], "2027-01-13T08:00:00", "2027-01-13T17:00:00"),
]


def hand_made():
    rows = []
    for uid, name, hours, links, s, f in HAND_MADE:
        extra = f"<Start>{s}</Start><Finish>{f}</Finish>"
        if name == "F":
            extra += "<ConstraintType>4</ConstraintType><ConstraintDate>2027-01-13T08:00:00</ConstraintDate>"
        if name == "A":
            extra += "<FixedCost>100000</FixedCost><Cost>340000</Cost>"
        if name == "B":                  # the summary row (UID 7) comes right before B, C, D (outline level 2)
            rows.append(task(7, 56, name="Phase", summary=1, row=len(rows) + 1))
        rows.append(task(uid, hours, name=name, level=2 if name in "BCD" else 1, extra=extra, links=links,
                         row=len(rows) + 1))
    holiday = ("<Exception><TimePeriod><FromDate>2027-01-06T00:00:00</FromDate><ToDate>2027-01-06T23:59:00</ToDate>"
               "</TimePeriod><Name>Holiday</Name><Type>1</Type><DayWorking>0</DayWorking></Exception>")
    return project(*rows, exceptions=holiday, finish="2027-01-13T17:00:00")


def test_hand_made_plan_reproduces_ms_project(xml):
    text = hand_made()
    assert [re.search(r"<Name>(\w+)</Name>", b).group(1) for b in _blocks(text, "Task")] == [
        "A", "Phase", "B", "C", "D", "E", "M", "F"]
    imported, p = load(xml(text))
    assert p.calendar.holidays == (dt.date(2027, 1, 6),) and p.start == dt.date(2027, 1, 4)
    assert "7" not in p.task_ids and len(p.tasks) == 7                    # the summary is grouping only
    assert {t.id: t.tags for t in p.tasks if t.tags} == {"2": ("Phase",), "3": ("Phase",), "4": ("Phase",)}
    det = deterministic_plan(p)
    for uid, name, _, _, s, f in HAND_MADE:
        start, finish = dates(p, det, uid)
        assert (start.isoformat(), finish.isoformat()) == (s[:10], f[:10]), name
    assert p.task("6").milestone
    assert det["duration"] == imported.extra["planned_duration"] == 7
    assert p.finish_date(det["duration"]) == dt.date(2027, 1, 13)
    a = p.task("1")
    assert a.fixed_cost.mode() == 1000 and a.per_day_cost.mode() == pytest.approx((3400 - 1000) / 3)
    assert p.task("8").start_no_earlier_than == 6
    result = pmrisk.simulate(pmrisk.Project.from_dict(read_mspdi(xml(text), template={"min": 0.9, "max": 1.25}).data),
                             iterations=200, rng=1)
    assert 7 * 0.9 <= result.percentile(50) <= 7 * 1.25


# ------------------------------------------------------------------------------------------------
# Links: every type, every lag unit
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code, lag_days, typ, expected", [
    (0, 1, "FF", (2, 3)),        # B finish >= A finish (2) + 1
    (1, 1, "FS", (3, 4)),        # B start >= A finish + 1
    (2, 2, "SF", (1, 2)),        # B finish >= A start (0) + 2
    (3, 1, "SS", (1, 2)),        # B start >= A start + 1
])
def test_link_types(xml, code, lag_days, typ, expected):
    _, p = load(xml(project(task(1, 16), task(2, 8, links=[link(1, code, lag_days * 4800)]))))
    lk = p.task("2").predecessors[0]
    assert (lk.pred, lk.type, lk.lag) == ("1", typ, lag_days)
    det = deterministic_plan(p)
    assert (det["start"]["2"], det["finish"]["2"]) == expected


@pytest.mark.parametrize("fmt, lag, days", [
    (3, 2400, 0.5), (35, 2400, 0.5),            # minutes (and estimated): 240 working minutes
    (5, 9600, 2), (37, 9600, 2),                 # hours
    (7, 4800, 1), (39, 4800, 1), (53, 4800, 1),  # days (53: null format)
    (7, -4800, -1),                              # a lead
    (9, 24000, 5), (41, 24000, 5),               # weeks: 2400 working minutes
    (11, 96000, 20), (43, 96000, 20),            # months: 20 days of 480 minutes
    (4, 14400, 5 / 7), (36, 14400, 5 / 7),       # elapsed minutes: one calendar day -> 5/7 working day
    (6, 100800, 5), (38, 100800, 5),             # elapsed hours: 168 h = one week
    (8, 100800, 5), (40, 100800, 5),             # elapsed days
    (10, 100800, 5), (42, 100800, 5),            # elapsed weeks
    (12, 432000, 30 * 5 / 7), (44, 432000, 30 * 5 / 7),   # elapsed months: 30 calendar days
    (19, 50, 2), (20, 50, 2), (51, 25, 1), (52, 150, 6),  # percent of the predecessor's 4 days
])
def test_lag_units(xml, fmt, lag, days):
    imported, p = load(xml(project(task(1, 32), task(2, 8, links=[link(1, 1, lag, fmt)]))))
    assert p.task("2").predecessors[0].lag == pytest.approx(days, abs=1e-6)
    if fmt in (19, 20, 51, 52):
        assert any("percent lag" in n for n in imported.notes)
    if fmt in (4, 6, 8, 10, 12, 36, 38, 40, 42, 44):
        assert any("elapsed lag" in n for n in imported.notes)


def test_lags_follow_minutes_per_day(xml):
    text = project(task(1, duration="PT7H30M0S"), task(2, duration="PT15H0M0S", links=[link(1, 1, 4500, 7)]),
                   head="<MinutesPerDay>450</MinutesPerDay><MinutesPerWeek>2250</MinutesPerWeek>")
    imported, p = load(xml(text))
    assert p.task("1").duration.mode() == 1 and p.task("2").duration.mode() == 2
    assert p.links[0].lag == 1
    assert any("MinutesPerDay is 450" in n for n in imported.notes)


def test_links_into_and_out_of_summaries(xml):
    text = project(task(1, 8),
                   task(2, 16, name="Phase", summary=1, links=[link(1)]),
                   task(3, 8, level=2), task(4, 16, level=2, links=[link(3)]),
                   task(5, 8, links=[link(2, 1, 4800)]))
    imported, p = load(xml(text))
    assert p.task_ids == ["1", "3", "4", "5"]
    pairs = sorted((lk.pred, lk.succ, lk.type, lk.lag) for lk in p.links)
    assert pairs == [("1", "3", "FS", 0), ("1", "4", "FS", 0), ("3", "4", "FS", 0),
                     ("3", "5", "FS", 1), ("4", "5", "FS", 1)]
    assert any("summary tasks tied to every task under the summary" in n for n in imported.notes)
    assert deterministic_plan(p)["finish"]["5"] == 1 + 1 + 2 + 1 + 1


def test_dropped_links_and_tasks_are_noted(xml):
    text = project(task(1, 8), task(2, 8, extra="<IsNull>1</IsNull>"), task(3, 8, extra="<Active>0</Active>"),
                   task(4, 8, extra="<ExternalTask>1</ExternalTask>"),
                   task(5, 8, links=[link(1), link(3), link(99), link(4),
                                     link(1, 3, extra="<CrossProject>1</CrossProject>")]),
                   task(6, 8, name="Off", summary=1, extra="<Active>0</Active>"), task(7, 8, level=2),
                   task(8, 8, name="Sub", summary=1, extra="<IsSubproject>1</IsSubproject>"))
    imported, p = load(xml(text))
    assert p.task_ids == ["1", "5"] and [lk.pred for lk in p.links] == ["1"]
    notes = " ".join(imported.notes)
    for words in ("blank task row", "2 inactive task(s)", "external", "unknown task UIDs", "other projects",
                  "skipped (blank, inactive, external, subproject) tasks", "1 inserted subproject(s) skipped"):
        assert words in notes, words


# ------------------------------------------------------------------------------------------------
# Durations, milestones, calendars, constraints, costs
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, fmt, days", [
    ("PT8H0M0S", 7, 1), ("PT12H30M0S", 5, 12.5 / 8), ("P1DT4H0M0S", 7, 1.5), ("PT7.5H", 7, 7.5 / 8),
    ("P2W", 9, 10), ("P1M", 11, 20), ("PT0H0M1800S", 3, 1 / 16), ("P0Y0M2DT0H0M0S", 39, 2),
    ("PT168H0M0S", 8, 5), ("PT24H0M0S", 6, 5 / 7), ("P7D", 40, 5), ("P1W", 10, 5),
])
def test_durations(xml, text, fmt, days):
    imported, p = load(xml(project(task(1, duration=text, fmt=fmt))))
    assert p.task("1").duration.mode() == pytest.approx(days, abs=1e-6)
    assert any("elapsed durations" in n for n in imported.notes) == (fmt in (6, 8, 10, 40))


def test_milestones(xml):
    flagged = "<Milestone>1</Milestone>"
    text = project(task(1, 0), task(2, 8, extra=flagged), task(3, 0, extra=flagged))
    imported, p = load(xml(text))
    assert [t.milestone for t in p.tasks] == [True, False, True]
    assert any("marked as milestone" in n for n in imported.notes)


def test_calendar_week_and_exceptions(xml):
    def exc(frm, to, body="", working=0, name="X"):
        return (f"<Exception><TimePeriod><FromDate>{frm}T00:00:00</FromDate><ToDate>{to}T23:59:00</ToDate></TimePeriod>"
                f"<Name>{name}</Name>{body}<DayWorking>{working}</DayWorking></Exception>")
    exceptions = "".join([
        exc("2027-04-02", "2027-04-05", "<Type>1</Type>"),                                  # a range (Fri-Mon)
        exc("2027-01-01", "2029-01-01", "<Type>2</Type><Month>0</Month><MonthDay>1</MonthDay>"),  # New Year, yearly
        exc("2027-11-01", "2028-11-30", "<Type>3</Type><Month>10</Month><MonthItem>7</MonthItem>"
            "<MonthPosition>3</MonthPosition>"),                                             # 4th Thursday of November
        exc("2027-06-01", "2027-06-30", "<Type>4</Type><MonthDay>15</MonthDay><Period>1</Period>"),  # monthly, 15th
        exc("2027-08-01", "2027-08-14", "<Type>6</Type><DaysOfWeek>32</DaysOfWeek><Period>1</Period>"),  # Fridays
        exc("2027-09-01", "2027-12-31", "<Type>5</Type><MonthItem>4</MonthItem><MonthPosition>4</MonthPosition>"
            "<Period>2</Period>"),                                                          # last Monday, 2-monthly
        exc("2027-10-09", "2027-10-09", "<Type>1</Type>", working=1),                       # a worked Saturday
        exc("2027-03-01", "2027-03-10", "<Type>1</Type><EnteredByOccurrences>1</EnteredByOccurrences>"
            "<Occurrences>2</Occurrences>"),                                                # first 2 days only
    ])
    old_style = ("<WeekDay><DayType>0</DayType><DayWorking>0</DayWorking><TimePeriod><FromDate>2027-05-06T00:00:00"
                 "</FromDate><ToDate>2027-05-06T23:59:00</ToDate></TimePeriod></WeekDay>")
    cal = (f"<Calendar><UID>1</UID><Name>Standard</Name><IsBaseCalendar>1</IsBaseCalendar><WeekDays>{STANDARD_WEEK}"
           f"{old_style}</WeekDays><Exceptions>{exceptions}</Exceptions></Calendar>")
    imported, p = load(xml(project(task(1, 8), calendar=cal)))
    assert [d.isoformat() for d in p.calendar.holidays] == [
        "2027-01-01", "2027-03-01", "2027-03-02", "2027-04-02", "2027-04-05", "2027-05-06", "2027-06-15",
        "2027-08-06", "2027-08-13", "2027-09-27", "2027-11-25", "2027-11-29", "2028-11-23", "2029-01-01"]
    assert any("worked day(s) outside the work week (2027-10-09)" in n for n in imported.notes)


def test_calendar_work_week_and_base_calendar(xml):
    week = "".join(f"<WeekDay><DayType>{d}</DayType><DayWorking>{int(d in (1, 2, 3, 4, 5))}</DayWorking></WeekDay>"
                   for d in range(1, 8))                                        # Sunday-Thursday
    cal = (f"<Calendar><UID>3</UID><Name>Gulf</Name><IsBaseCalendar>1</IsBaseCalendar><WeekDays>{week}</WeekDays>"
           "</Calendar><Calendar><UID>1</UID><Name>Project</Name><IsBaseCalendar>0</IsBaseCalendar><BaseCalendarUID>3"
           "</BaseCalendarUID><WeekDays><WeekDay><DayType>2</DayType><DayWorking>0</DayWorking></WeekDay></WeekDays>"
           "<WorkWeeks><WorkWeek><Name>Summer</Name></WorkWeek></WorkWeeks></Calendar>")
    imported, p = load(xml(project(task(1, 8), calendar=cal)))
    assert p.calendar.workdays == ("tue", "wed", "thu", "sun")
    assert imported.extra["calendar_name"] == "Project"
    assert any("alternate work weeks" in n for n in imported.notes)


def test_constraints(xml):
    def constrained(uid, kind, when, hours=16):
        return task(uid, hours, extra=f"<ConstraintType>{kind}</ConstraintType><ConstraintDate>{when}</ConstraintDate>")
    text = project(constrained(1, 4, "2027-01-08T08:00:00"),        # SNET Friday -> working day 4, as a date
                   constrained(2, 4, "2027-01-08T13:00:00"),        # SNET mid-day -> 4.5
                   constrained(3, 2, "2027-01-11T08:00:00"),        # MSO -> SNET
                   constrained(4, 3, "2027-01-12T17:00:00"),        # MFO Tue 17:00 = offset 7, minus 2 days -> 5
                   constrained(5, 6, "2027-01-12T17:00:00"),        # FNET likewise
                   constrained(6, 5, "2027-01-12T08:00:00"), constrained(7, 7, "2027-01-12T17:00:00"),
                   task(8, 8, extra="<ConstraintType>1</ConstraintType>"),
                   task(9, 8, name="Late", summary=1, extra="<ConstraintType>4</ConstraintType>"
                        "<ConstraintDate>2027-01-06T08:00:00</ConstraintDate>"),
                   constrained(10, 4, "2027-01-05T08:00:00"), task(11, 8, level=2))
    text = text.replace("<OutlineLevel>1</OutlineLevel><Summary>0</Summary><Duration>PT16H0M0S</Duration>"
                        "<DurationFormat>7</DurationFormat><ConstraintType>4</ConstraintType><ConstraintDate>"
                        "2027-01-05", "<OutlineLevel>2</OutlineLevel><Summary>0</Summary><Duration>PT16H0M0S"
                        "</Duration><DurationFormat>7</DurationFormat><ConstraintType>4</ConstraintType>"
                        "<ConstraintDate>2027-01-05")
    imported, p = load(xml(text))
    raw = {t["id"]: t.get("start_no_earlier_than") for t in imported.data["tasks"]}
    assert raw["1"] == dt.date(2027, 1, 8) and raw["2"] == 4.5 and raw["3"] == dt.date(2027, 1, 11)
    assert (raw["4"], raw["5"]) == (5, 5)
    assert raw["6"] is raw["7"] is raw["8"] is None
    assert raw["10"] == raw["11"] == dt.date(2027, 1, 6)         # the summary's SNET is later than task 10's own
    snet = {t.id: t.start_no_earlier_than for t in p.tasks}
    assert (snet["1"], snet["2"], snet["3"], snet["4"], snet["10"]) == (4, 4.5, 5, 5, 2)
    notes = " ".join(imported.notes)
    for words in ("Start No Later Than 2027-01-12 08:00 is not honoured", "Finish No Later Than",
                  "As Late As Possible is not honoured", "Must Start On 2027-01-11 08:00 kept only",
                  "Must Finish On 2027-01-12 17:00 kept only as start no earlier than working day 5"):
        assert words in notes, words


def test_costs(xml):
    text = project(task(1, 16, extra="<FixedCost>50000</FixedCost><Cost>210000</Cost>"),
                   task(2, 0, extra="<FixedCost>0</FixedCost><Cost>12345</Cost>"),
                   task(3, 8, name="S", summary=1, extra="<FixedCost>999</FixedCost>"), task(4, 8, level=2))
    imported, p = load(xml(text))
    assert (p.task("1").fixed_cost.mode(), p.task("1").per_day_cost.mode()) == (500, 800)   # (2100 - 500) / 2 days
    assert p.task("2").fixed_cost.mode() == 123.45                                         # a milestone's cost is fixed
    assert any("summary task(s) carry a fixed cost" in n for n in imported.notes)


# ------------------------------------------------------------------------------------------------
# Estimate ranges, quick-risk templates, progress, ids
# ------------------------------------------------------------------------------------------------


def ea(field, value, fmt=None):
    return (f"<ExtendedAttribute><FieldID>{FIELD_IDS[field]}</FieldID><Value>{value}</Value>"
            + (f"<DurationFormat>{fmt}</DurationFormat>" if fmt else "") + "</ExtendedAttribute>")


def definition(field, alias):
    return (f"<ExtendedAttribute><FieldID>{FIELD_IDS[field]}</FieldID><FieldName>{field}</FieldName>"
            f"<Alias>{alias}</Alias></ExtendedAttribute>")


def test_ranges_from_custom_fields(xml):
    text = project(
        task(1, 40, extra=ea("Duration1", "PT32H0M0S", 7) + ea("Duration2", "PT40H0M0S", 7) + ea("Duration3",
                                                                                                "PT64H0M0S", 7)),
        task(2, 16, extra=ea("Number1", "1.5") + ea("Number3", "4")),
        task(3, 48, extra=ea("Duration1", "PT168H0M0S", 8) + ea("Duration3", "P2W", 9)),
        task(4, 24, extra="<Number1>2</Number1><Number3>5</Number3>"),
        task(5, 8), task(6, 0),
        attrs=definition("Number1", "Best case") + definition("Number3", "Worst case"))
    imported, p = load(xml(text), ranges={"min": "Duration1", "likely": "Duration2", "max": "Duration3"})
    assert spec(imported, "1") == {"dist": "pert", "min": 4, "likely": 5, "max": 8}
    assert spec(imported, "3") == {"dist": "pert", "min": 5, "likely": 6, "max": 10}   # elapsed, weeks
    imported, p = load(xml(text), ranges={"min": "best case", "max": "Number 3", "dist": "triangular"},
                       template={"min": 0.5, "max": 2})
    assert spec(imported, "2") == {"dist": "triangular", "min": 1.5, "likely": 2, "max": 4}
    assert spec(imported, "4") == {"dist": "triangular", "min": 2, "likely": 3, "max": 5}
    assert spec(imported, "1") == {"dist": "pert", "min": 2.5, "likely": 5, "max": 10}  # template
    assert p.task("6").milestone
    imported, p = load(xml(text), ranges={"min": "Text1", "max": "Text2"})
    assert sum(not t.duration.is_fixed for t in p.tasks) == 0
    assert any("5 task(s) have no estimate range" in n for n in imported.notes)


def test_range_errors(xml):
    bad_order = project(task(1, 40, extra=ea("Number1", "6") + ea("Number2", "5") + ea("Number3", "9")))
    with pytest.raises(ProjectError, match=r"task UID 1 \('T1'\): the estimates are not in order: min 6"):
        read_mspdi(xml(bad_order), ranges={"min": "Number1", "likely": "Number2", "max": "Number3"})
    with pytest.raises(ProjectError, match="'Flag1' is not a Duration, Number or Text field"):
        read_mspdi(xml(bad_order), ranges={"min": "Flag1", "max": "Number3"})
    with pytest.raises(ProjectError, match="task UID 1.*field Text1: 'soon' is not a number"):
        read_mspdi(xml(project(task(1, 8, extra=ea("Text1", "soon") + ea("Text2", "3")))),
                   ranges={"min": "Text1", "max": "Text2"})
    with pytest.raises(ProjectError, match="needs 'min' and 'max'"):
        read_mspdi(xml(bad_order), ranges={"low": "Number1"})
    with pytest.raises(ProjectError, match="0 <= min <= 1 <= max"):
        read_mspdi(xml(bad_order), template={"min": 1.1, "max": 1.3})


def test_templates_by_name_and_tag(xml):
    text = project(task(1, 80, name="Build", summary=1), task(2, 80, name="Code", level=2),
                   task(3, 40, name="Unit test", level=2), task(4, 40, name="Docs"))
    template = {"default": (0.9, 1.25), "by_tag": {"build": (0.8, 1.5)}, "by_name": {"*TEST*": [0.5, 3]}}
    imported, p = load(xml(text), template=template)
    assert spec(imported, "2") == {"dist": "pert", "min": 8, "likely": 10, "max": 15}
    assert spec(imported, "3") == {"dist": "pert", "min": 2.5, "likely": 5, "max": 15}
    assert spec(imported, "4") == {"dist": "pert", "min": 4.5, "likely": 5, "max": 6.25}
    imported, p = load(xml(text), template={"by_tag": {"Build": {"min": 1, "max": 1.1}}})
    assert p.task("4").duration.is_fixed and any("1 task(s) have no estimate range" in n for n in imported.notes)


def test_progress(xml):
    text = project(
        task(1, 40, extra="<PercentComplete>100</PercentComplete><ActualStart>2027-01-04T08:00:00</ActualStart>"
                          "<ActualFinish>2027-01-12T17:00:00</ActualFinish><ActualDuration>PT56H0M0S</ActualDuration>"),
        task(2, 80, extra="<PercentComplete>25</PercentComplete><ActualStart>2027-01-13T08:00:00</ActualStart>"
                          "<ActualDuration>PT16H0M0S</ActualDuration><RemainingDuration>PT48H0M0S</RemainingDuration>"),
        task(3, 40), head="<StatusDate>2027-01-15T17:00:00</StatusDate>")
    imported, p = load(xml(text), template={"min": 0.5, "max": 2})
    assert p.task("1").duration.is_fixed and p.task("1").duration.mode() == 7          # actual duration
    assert spec(imported, "2") == {"dist": "pert", "min": 5, "likely": 8, "max": 14}   # 2 done + 6 left
    assert imported.extra["actuals"]["2"] == {"percent_complete": 25, "actual_start": "2027-01-13T08:00:00",
                                              "actual_finish": None, "actual_duration": 2, "remaining_duration": 6}
    assert imported.extra["status_date"] == "2027-01-15T17:00:00"
    notes = " ".join(imported.notes)
    assert "1 completed task(s)" in notes and "1 task(s) in progress" in notes


def test_ids_and_extra_facts(xml):
    text = project(task(1, 8, name="Design", extra="<WBS>1.1</WBS><OutlineNumber>1.1</OutlineNumber>"
                                                   "<Baseline><Number>0</Number><Start>2027-01-04T08:00:00</Start>"
                                                   "<Finish>2027-01-05T17:00:00</Finish><Duration>PT16H0M0S</Duration>"
                                                   "</Baseline>"),
                   task(2, 8, extra="<WBS>1.2</WBS>", links=[link(1)]))
    text = text.replace("<ID>2</ID>", "<ID>7</ID>")
    imported, p = load(xml(text), id_field="WBS")
    assert p.task_ids == ["1.1", "1.2"] and p.links[0].pred == "1.1" and p.task("1.1").name == "Design"
    assert imported.extra["baselines"]["1.1"][0] == {"start": "2027-01-04T08:00:00", "finish": "2027-01-05T17:00:00",
                                                     "duration": 2}
    assert imported.extra["uids"] == {"1.1": 1, "1.2": 2}
    assert load(xml(text), id_field="ID")[1].task_ids == ["1", "7"]
    with pytest.raises(ProjectError, match="WBS cannot serve as task ids: WBS '1' is used by tasks UID 1, 2"):
        read_mspdi(xml(text.replace("1.1<", "1<").replace("1.2<", "1<")), id_field="WBS")


# ------------------------------------------------------------------------------------------------
# Hostile and malformed files
# ------------------------------------------------------------------------------------------------

HOSTILE = {
    "billion laughs": '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
                      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><Project><Name>&lol3;</Name></Project>',
    "external entity": '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                       '<Project><Name>&xxe;</Name></Project>',
    "external DTD": '<?xml version="1.0"?><!DOCTYPE Project SYSTEM "http://example.invalid/evil.dtd"><Project/>',
    "parameter entity": '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY % pe SYSTEM "http://example.invalid/x">%pe;]>'
                        '<Project/>',
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_xml_is_refused(xml, kind):
    with pytest.raises(ProjectError, match=r"plan.xml: refused: the file declares a DTD or entities"):
        read_mspdi(xml(HOSTILE[kind]))


@pytest.mark.parametrize("text, message", [
    (project(task(1, 8))[:-20], r"Cannot parse .*plan.xml, line 2, column \d+: .*not well-formed XML"),
    (project(task(1, duration="8 hours")), r"task UID 1 \('T1'\), <Duration>: '8 hours' is not an ISO 8601 duration"),
    (project(task(1, 8), task(2, 8, links=[link(1, 7)])), r"task UID 2 .*predecessor link from UID 1: <Type> 7 is not"),
    (project(task(1, 8), task(2, 8, links=[link(1, 1, "a lot")])), r"task UID 2.*<LinkLag> is 'a lot', not a number"),
    (project(task(1, 8), task(1, 8, name="Again")), r"UID 1 is used by two tasks \('T1' and 'Again'\)"),
    (project(task("x", 8)), r"task UID x.*<UID> is 'x'; every task needs a unique integer UID"),
    (project(task(1, 8, name="Sum", summary=1)), r"no tasks to simulate"),
    (project(task(1, 8, extra="<ConstraintType>4</ConstraintType><ConstraintDate>soon</ConstraintDate>")),
     r"task UID 1.*<ConstraintDate> is 'soon', not a date-time"),
    (project(task(1, duration="-PT8H0M0S")), r"task UID 1.*is negative"),
    ('<?xml version="1.0"?><Schedule><Task/></Schedule>', r"not an MS Project XML \(MSPDI\) file: its root element is "
                                                           r"<Schedule>"),
])
def test_malformed_files_get_clear_messages(xml, text, message):
    with pytest.raises(ProjectError, match=message):
        read_mspdi(xml(text))


def test_missing_file(tmp_path):
    with pytest.raises(ProjectError, match="no such file"):
        read_mspdi(tmp_path / "none.xml")


# ------------------------------------------------------------------------------------------------
# Writing, and the round trip pmrisk -> MSPDI -> pmrisk
# ------------------------------------------------------------------------------------------------

PROJECT = {
    "project": {"name": "CRM migration", "start": "2027-02-01", "currency": "EUR",
                "calendar": {"workdays": ["mon", "tue", "wed", "thu", "fri"],
                             "holidays": ["2027-02-03", "2027-04-02"]}},
    "tasks": [
        {"id": "REQ", "name": "Requirements", "duration": {"dist": "pert", "min": 2, "likely": 3, "max": 6},
         "tags": ["analysis"]},
        {"id": "BUILD", "duration": {"dist": "pert", "min": 4, "likely": 5.5, "max": 9},
         "depends_on": [{"task": "REQ", "type": "FS", "lag": 1.5}]},
        {"id": "MIGR", "duration": 4, "depends_on": [{"task": "REQ", "type": "SS", "lag": 2}],
         "start_no_earlier_than": 3},
        {"id": "TEST", "duration": {"dist": "pert", "min": 1, "likely": 2.25, "max": 5},
         "depends_on": [{"task": "BUILD", "type": "FF", "lag": -1}, {"task": "MIGR", "type": "SF", "lag": 0.25}]},
        {"id": "GO", "milestone": True, "depends_on": ["TEST", "BUILD"]},
    ]}


def _shape(p):
    return ([(t.id, t.name, t.milestone, t.duration.to_spec(), t.tags, t.start_no_earlier_than) for t in p.tasks],
            sorted((lk.pred, lk.succ, lk.type, round(lk.lag, 9)) for lk in p.links), p.calendar, p.start)


def test_round_trip(tmp_path):
    before = pmrisk.Project.from_dict(PROJECT)
    out = tmp_path / "crm.xml"
    assert write_mspdi(before, out) == []
    root = ET.parse(out).getroot()
    assert root.tag == f"{{{NS}}}Project" and len(root.findall(f"{{{NS}}}Tasks/{{{NS}}}Task")) == 6
    imported, after = load(out, ranges={"min": "Duration1", "likely": "Duration2", "max": "Duration3"})
    assert _shape(after) == _shape(before)
    assert imported.extra["planned_duration"] == deterministic_plan(before)["duration"]
    _, again = load(out)                                           # the fields pmrisk wrote are found by alias
    assert _shape(again) == _shape(before)


def test_round_trip_of_an_imported_file(xml, tmp_path):
    f = xml(hand_made())
    _, first = load(f, template={"min": 0.9, "max": 1.25})
    write_mspdi(first, tmp_path / "again.xml")
    _, second = load(tmp_path / "again.xml")
    assert [(lk.pred, lk.succ, lk.type, lk.lag) for lk in second.links] == [
        (lk.pred, lk.succ, lk.type, lk.lag) for lk in first.links]
    assert [t.duration.to_spec() for t in second.tasks] == [t.duration.to_spec() for t in first.tasks]
    assert deterministic_plan(second)["finish"] == deterministic_plan(first)["finish"]


def test_write_with_results(tmp_path):
    p = pmrisk.Project.from_dict(PROJECT)
    result = pmrisk.simulate(p, iterations=500, rng=7)
    out = tmp_path / "results.xml"
    write_mspdi(p, out, result=result, levels=(50, 80, 90))
    q = {"m": NS}
    root = ET.parse(out).getroot()
    aliases = {int(e.findtext("m:FieldID", namespaces=q)): e.findtext("m:Alias", namespaces=q)
               for e in root.findall("m:ExtendedAttributes/m:ExtendedAttribute", q)}
    assert aliases[FIELD_IDS["Date2"]] == "P80 finish" and aliases[FIELD_IDS["Number1"]] == "pmrisk criticality"
    crit = result.criticality()
    for el in root.findall("m:Tasks/m:Task", q)[1:]:
        values = {int(e.findtext("m:FieldID", namespaces=q)): e.findtext("m:Value", namespaces=q)
                  for e in el.findall("m:ExtendedAttribute", q)}
        tid = values[FIELD_IDS["Text30"]]
        for k, level in enumerate((50, 80, 90), 1):
            expected = p.finish_date(result.task_finish(tid, level))
            assert values[FIELD_IDS[f"Date{k}"]][:10] == expected.isoformat(), (tid, level)
        assert float(values[FIELD_IDS["Number1"]]) == pytest.approx(crit[tid], abs=1e-6)
    top = root.find("m:Tasks/m:Task", q)
    assert top.findtext("m:OutlineLevel", namespaces=q) == "0"
    top_dates = [e.findtext("m:Value", namespaces=q)[:10] for e in top.findall("m:ExtendedAttribute", q)]
    assert top_dates == [result.finish_date(lv).isoformat() for lv in (50, 80, 90)]
    with pytest.raises(ProjectError, match="at most ten P-levels"):
        write_mspdi(p, tmp_path / "x.xml", result=result, levels=range(1, 13))


def test_never_writes_over_the_input(xml):
    f = xml(hand_made())
    imported = read_mspdi(f)
    p = pmrisk.Project.from_dict(imported.data, source=str(f))
    before = f.read_bytes()
    with pytest.raises(ProjectError, match="is the file the project was read from"):
        write_mspdi(p, f)
    assert f.read_bytes() == before


def test_write_notes_what_mspdi_cannot_carry(tmp_path):
    data = {**PROJECT, "tasks": [{**PROJECT["tasks"][0], "cost": {"fixed": 100, "per_day": 10}}],
            "risks": [{"id": "R1", "probability": 0.3, "affects": ["REQ"], "delay": 2}]}
    p = pmrisk.Project.from_dict(data)
    notes = write_mspdi(p, tmp_path / "r.xml")
    assert any("cost per day" in n for n in notes) and any("1 risks not written" in n for n in notes)
    _, back = load(tmp_path / "r.xml")
    assert back.task("REQ").fixed_cost.mode() == 100 + 10 * 3
