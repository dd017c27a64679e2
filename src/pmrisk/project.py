"""The project model: tasks, links, costs, calendar, deadline and budget, validated once.

:func:`Project.from_dict` is the single boundary where raw data (parsed from YAML, JSON, TOML,
CSV or Excel by :mod:`pmrisk.io`) becomes a validated :class:`Project`. Structure and types are
checked with pydantic; meaning (unique ids, known predecessors, acyclic network, sensible
distributions) is checked here too, and every problem is reported with the file, the task id or
line, what is wrong and how to fix it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pmrisk.calendar import Calendar, normalise_weekday
from pmrisk.distributions import Distribution, Fixed, check_range, parse_distribution
from pmrisk.errors import CyclicDependencyError, DistributionError, ProjectError
from pmrisk.risk.model import Driver, Risk, RiskModel, build_risk_model

if TYPE_CHECKING:
    from pmrisk.calibration import CalibrationSpec
    from pmrisk.topdown import TopDownSpec

LINK_TYPES = ("FS", "SS", "FF", "SF")
FORMAT_VERSION = 1

# --------------------------------------------------------------------------------------------
# Raw schema (pydantic): what a file may contain, checked for structure and types.
# --------------------------------------------------------------------------------------------

Number = float | int
DistSpec = Number | dict[str, Any]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CalendarIn(_Strict):
    workdays: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    holidays: list[dt.date] = Field(default_factory=list)

    @field_validator("workdays")
    @classmethod
    def _days(cls, v: list[str]) -> list[str]:
        out = [normalise_weekday(d) for d in v]
        if not out:
            raise ValueError("workdays is empty; list at least one weekday, e.g. [mon, tue, wed, thu, fri]")
        return out


class ProjectIn(_Strict):
    name: str = "Untitled project"
    start: dt.date | None = None
    calendar: CalendarIn = Field(default_factory=CalendarIn)
    currency: str | None = None
    deadline: dt.date | Number | None = None
    budget: Number | None = None
    description: str | None = None
    cost_of_delay_per_day: Number | None = None
    correlation_repair: str | None = None

    @field_validator("budget", "cost_of_delay_per_day")
    @classmethod
    def _money(cls, v: Any) -> Any:
        _finite(v, "the amount", MAX_MONEY)
        if v is not None and v < 0:
            raise ValueError(f"{v!r} is negative; give an amount >= 0")
        return v

    @field_validator("deadline")
    @classmethod
    def _deadline(cls, v: Any) -> Any:
        return _finite(v, "the deadline", MAX_DAYS)

    @field_validator("correlation_repair")
    @classmethod
    def _repair(cls, v: str | None) -> str | None:
        if v is not None and str(v).strip().lower() not in ("nearest", "none"):
            raise ValueError("correlation_repair must be 'nearest' (use the nearest consistent matrix) or 'none'")
        return None if v is None else str(v).strip().lower()


MAX_DAYS = 1_000_000          # working days: ~3,800 years; anything larger is a unit mistake
MAX_MONEY = 1e15


def _finite(value: Any, what: str, limit: float) -> Any:
    if value is None or isinstance(value, dt.date):
        return value
    v = float(value)
    if v != v or abs(v) == float("inf"):
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    if abs(v) > limit:
        raise ValueError(f"{what} {value!r} is out of range (at most {limit:g} in size); check the units")
    return value


class LinkIn(_Strict):
    task: str
    type: str = "FS"
    lag: Number = 0

    @field_validator("lag")
    @classmethod
    def _lag(cls, v: Any) -> Any:
        return _finite(v, "the lag", MAX_DAYS)

    @field_validator("task", mode="before")
    @classmethod
    def _id(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v

    @field_validator("type")
    @classmethod
    def _type(cls, v: str) -> str:
        t = str(v).strip().upper()
        if t not in LINK_TYPES:
            raise ValueError(f"link type {v!r} is not one of FS, SS, FF, SF")
        return t


class CostIn(_Strict):
    fixed: DistSpec = 0
    per_day: DistSpec = 0


class TaskIn(_Strict):
    id: str
    name: str | None = None
    duration: DistSpec | None = None
    cost: CostIn | Number | None = None
    depends_on: list[str | LinkIn] = Field(default_factory=list)
    milestone: bool = False
    tags: list[str] = Field(default_factory=list)
    start_no_earlier_than: dt.date | Number | None = None
    probability: Number | None = None
    notes: str | None = None

    @field_validator("start_no_earlier_than")
    @classmethod
    def _snet(cls, v: Any) -> Any:
        return _finite(v, "start_no_earlier_than", MAX_DAYS)

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            return str(v)
        return v

    @field_validator("depends_on", mode="before")
    @classmethod
    def _deps(cls, v: Any) -> Any:
        if v is None:
            return []
        if isinstance(v, str):
            return [d.strip() for d in re.split(r"[;,]", v) if d.strip()]
        if isinstance(v, int) and not isinstance(v, bool):
            return [str(v)]
        if isinstance(v, list):
            return [str(x) if isinstance(x, int) and not isinstance(x, bool) else x for x in v]
        return v

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, v: Any) -> Any:
        if v is None:
            return []
        if isinstance(v, str):
            return [t.strip() for t in re.split(r"[;,]", v) if t.strip()]
        return v


class ProjectFileIn(_Strict):
    pmrisk: int = FORMAT_VERSION
    project: ProjectIn = Field(default_factory=ProjectIn)
    tasks: list[TaskIn]
    risks: list[dict[str, Any]] | None = None
    drivers: list[dict[str, Any]] | None = None
    correlations: list[dict[str, Any]] | None = None
    branches: list[dict[str, Any]] | None = None
    risk_matrix: dict[str, Any] | None = None
    calibration: dict[str, Any] | str | None = None
    top_down: Any = None


# --------------------------------------------------------------------------------------------
# Domain model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A precedence relationship ``pred -> succ`` of type FS/SS/FF/SF with a lag in working days."""

    pred: str
    succ: str
    type: Literal["FS", "SS", "FF", "SF"] = "FS"
    lag: float = 0.0

    def __str__(self) -> str:
        lag = "" if self.lag == 0 else f"{self.lag:+g}"
        return f"{self.pred} -{self.type}{lag}-> {self.succ}"


@dataclass(frozen=True)
class Task:
    """One activity (or milestone) of the schedule."""

    id: str
    name: str
    duration: Distribution
    fixed_cost: Distribution
    per_day_cost: Distribution
    milestone: bool = False
    tags: tuple[str, ...] = ()
    start_no_earlier_than: float | None = None
    predecessors: tuple[Link, ...] = ()
    line: int | None = None
    probability: float = 1.0          # existence risk: the share of iterations in which the task happens

    @property
    def has_cost(self) -> bool:
        return not (_is_zero(self.fixed_cost) and _is_zero(self.per_day_cost))


def _is_zero(d: Distribution) -> bool:
    return d.is_fixed and d.mode() == 0


@dataclass(frozen=True)
class Project:
    """A validated project: the input of :func:`pmrisk.simulate`.

    Build one with :func:`pmrisk.load_project` (from a file) or :meth:`Project.from_dict`.

    Examples
    --------
    >>> p = Project.from_dict({"tasks": [
    ...     {"id": "A", "duration": {"dist": "triangular", "min": 2, "likely": 3, "max": 6}},
    ...     {"id": "B", "duration": 4, "depends_on": ["A"]}]})
    >>> [t.id for t in p.tasks], p.links[0].type
    (['A', 'B'], 'FS')
    """

    name: str
    tasks: tuple[Task, ...]
    start: dt.date | None = None
    calendar: Calendar = field(default_factory=Calendar)
    currency: str | None = None
    deadline: float | None = None
    deadline_date: dt.date | None = None
    budget: float | None = None
    source: str | None = None
    cost_of_delay_per_day: float | None = None
    risk: RiskModel = field(default_factory=RiskModel)
    calibration: CalibrationSpec | None = None     # the 'calibration:' section (history read when simulated)
    top_down: TopDownSpec | None = None            # the 'top_down:' section (model read when simulated)
    notes: tuple[str, ...] = ()                    # import notes of a schedule read from another tool
    imported: dict[str, Any] | None = field(default=None, compare=False)   # that import's format and facts

    # ---- views -------------------------------------------------------------------------
    @property
    def links(self) -> list[Link]:
        return [lk for t in self.tasks for lk in t.predecessors]

    @property
    def task_ids(self) -> list[str]:
        return [t.id for t in self.tasks]

    @cached_property
    def _by_id(self) -> dict[str, Task]:
        return {t.id: t for t in self.tasks}

    def task(self, task_id: str) -> Task:
        """The task with this id (``KeyError`` if there is none)."""
        return self._by_id[task_id]

    @property
    def has_costs(self) -> bool:
        return any(t.has_cost for t in self.tasks)

    def finish_date(self, offset: float) -> dt.date | None:
        """Date of a finish at working-day ``offset`` (None without a project start)."""
        if self.start is None:
            return None
        return self.calendar.finish_date(self.start, offset)

    # ---- construction --------------------------------------------------------------------
    @property
    def risks(self) -> tuple[Risk, ...]:
        return self.risk.risks

    @property
    def drivers(self) -> tuple[Driver, ...]:
        return self.risk.drivers

    def without_risks(self, *ids: str) -> Project:
        """A copy of the project in which the named risks (all when none named) never occur."""
        keep = tuple(r for r in self.risk.risks if ids and r.id not in ids)
        return dataclasses.replace(self, risk=dataclasses.replace(self.risk, risks=keep))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None,
                  lines: Mapping[int, int] | None = None,
                  section_lines: Mapping[str, Mapping[int, int]] | None = None) -> Project:
        """Validate raw project data (the structure of a project file) into a :class:`Project`.

        Parameters
        ----------
        data
            The parsed file: ``{"pmrisk": 1, "project": {...}, "tasks": [...]}``.
        source
            The file name, used in error messages.
        lines
            Optional map from task position to the line where the task is written.
        section_lines
            Optional maps, per section (``risks``, ``drivers``, ...), from position to line.
        """
        return _build(data, source=source, lines=dict(lines or {}), section_lines=section_lines or {})


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _where(source: str | None) -> str:
    return f" ({source})" if source else ""


def _src(source: str | None) -> str:
    return f"{source}, " if source else ""


def _task_label(tasks_raw: Any, idx: int, lines: Mapping[int, int], source: str | None = None) -> str:
    """``"crm.yaml, line 12, task BUILD"``: where a task is, as precisely as known."""
    tid = None
    if isinstance(tasks_raw, list) and 0 <= idx < len(tasks_raw) and isinstance(tasks_raw[idx], Mapping):
        tid = tasks_raw[idx].get("id")
    label = f"task {tid}" if tid is not None else f"task #{idx + 1}"
    line = f"line {lines[idx]}, " if idx in lines else ""
    return f"{_src(source)}{line}{label}"


def _format_validation_error(err: ValidationError, data: Mapping[str, Any], source: str | None,
                             lines: Mapping[int, int]) -> str:
    errors = err.errors()
    # a value that fits neither member of a union (id or {task, type, lag}) is reported for both;
    # when the mapping member explains the problem, the "should be a string" half is only noise
    model_branches = {tuple(e["loc"][:i]) for e in errors for i, x in enumerate(e["loc"]) if str(x) in _MODELS}
    errors = [e for e in errors if not any(str(x) in ("str", "float", "int") and tuple(e["loc"][:i]) in model_branches
                                           for i, x in enumerate(e["loc"]))]
    # several members of a number-or-distribution union failing at one place: one message
    by_place: dict[tuple, list] = {}
    for e in errors:
        by_place.setdefault(tuple(x for x in e["loc"] if not _is_union_tag(x)), []).append(e)
    errors = []
    for place, group in by_place.items():
        if len(group) > 1 and place and place[-1] in ("duration", "fixed", "per_day", "cost"):
            e = dict(group[0])  # type: ignore[assignment]
            e["type"] = "dist_union"
            e["loc"] = place
            e["msg"] = ("expected a number or a distribution such as {dist: pert, min: 5, likely: 8, max: 15}"
                        f" (got {group[0].get('input')!r})")
            errors.append(e)
        else:
            errors.extend(group)
    msgs = []
    for e in errors[:10]:
        loc = list(e["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "tasks" and isinstance(loc[1], int):
            where = _task_label(data.get("tasks"), loc[1], lines)
            rest = [str(x) for x in loc[2:] if not _is_union_tag(x)]
            if rest:
                where += ", " + ".".join(rest)
        else:
            where = ".".join(str(x) for x in loc if not _is_union_tag(x)) or "file"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            field_name = str(loc[-1])
            known = list(_model_for(loc).model_fields)
            close = difflib.get_close_matches(field_name, known, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else f" Known keys: {', '.join(known)}."
            msg = f"unknown key '{field_name}'.{hint}"
        elif e["type"] == "missing":
            msg = f"required key '{loc[-1]}' is missing; add it"
        elif "input" in e and e["type"] not in ("value_error", "dist_union"):
            msg = f"{msg} (got {e['input']!r})"
        msgs.append(f"{where}: {msg}")
    more = len(errors) - len(msgs)
    tail = f"\n  ... and {more} more" if more > 0 else ""
    return (f"Invalid project file{_where(source)}:\n  " + "\n  ".join(msgs) + tail)


_MODELS: dict[str, type[BaseModel]] = {m.__name__: m for m in (ProjectFileIn, ProjectIn, CalendarIn, TaskIn,
                                                                 LinkIn, CostIn)}
_CHILD: dict[tuple[type[BaseModel], str], type[BaseModel]] = {
    (ProjectFileIn, "project"): ProjectIn, (ProjectFileIn, "tasks"): TaskIn, (ProjectIn, "calendar"): CalendarIn,
    (TaskIn, "cost"): CostIn, (TaskIn, "depends_on"): LinkIn}


def _is_union_tag(x: Any) -> bool:
    """pydantic puts the name of the union member it tried into ``loc``; users never wrote it."""
    s = str(x)
    return s in _MODELS or s in ("str", "float", "int", "date", "bool") or s.startswith(
        ("function-", "union[", "dict[", "list[", "constrained-"))


def _model_for(loc: Sequence[Any]) -> type[BaseModel]:
    """The schema model that owns the last key of a pydantic error location."""
    model: type[BaseModel] = ProjectFileIn
    for x in loc[:-1]:
        if isinstance(x, int):
            continue
        model = _MODELS.get(str(x)) or _CHILD.get((model, str(x)), model)
    return model


def _dist(spec: Any, what: str, *, nonneg: bool, source: str | None) -> Distribution:
    try:
        d = parse_distribution(spec)
    except DistributionError as exc:
        raise DistributionError(f"{what}: {exc}") from None
    if nonneg:
        lo, _ = d.support()
        if lo < 0 and not _normal_like(d):
            raise ProjectError(
                f"{what}: the distribution allows negative values (lowest {lo:g}); "
                "durations and costs must be >= 0. Raise the minimum to 0 or more.")
    check_range(d, MAX_DAYS if what.endswith("duration") else MAX_MONEY, what)
    return d


def _normal_like(d: Distribution) -> bool:
    return d.kind in ("normal",)


_DATE_OR_DAYS = "a date (YYYY-MM-DD) or a number of working days"


def _offset(value: dt.date | float | int | None, start: dt.date | None, cal: Calendar, what: str,
            source: str | None, *, deadline: bool) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        if start is None:
            raise ProjectError(
                f"{what}: is the date {value.isoformat()} but the project has no start date; "
                f"add project.start, or give {what} as a number of working days.")
        return float(cal.working_days_through(start, value) if deadline else cal.offset_of(start, value))
    v = float(value)
    if v != v or v in (float("inf"), float("-inf")):
        raise ProjectError(f"{what}: {value!r} is not a finite number; give {_DATE_OR_DAYS}.")
    return v


def _build(data: Mapping[str, Any], *, source: str | None, lines: Mapping[int, int],
           section_lines: Mapping[str, Mapping[int, int]]) -> Project:
    if not isinstance(data, Mapping):
        raise ProjectError(
            f"Invalid project file{_where(source)}: the top level must be a mapping with a 'tasks' list "
            f"(got {type(data).__name__}). See the example files in examples/.")
    if "tasks" in data and not data.get("tasks"):
        raise ProjectError(
            f"Empty task list{_where(source)}: the project has no tasks. Add at least one task under 'tasks:'.")
    try:
        raw = ProjectFileIn.model_validate(data)
    except ValidationError as err:
        raise ProjectError(_format_validation_error(err, data, source, lines)) from None
    if raw.pmrisk != FORMAT_VERSION:
        raise ProjectError(f"File format version pmrisk: {raw.pmrisk}{_where(source)} is not supported; "
                           f"this pmrisk reads version {FORMAT_VERSION}. Set 'pmrisk: {FORMAT_VERSION}'.")

    pin = raw.project
    cal = Calendar.from_spec(pin.calendar.workdays, pin.calendar.holidays)
    start = pin.start
    if start is not None and not cal.is_workday(start):
        start = cal.first_workday(start)

    # ids
    seen: dict[str, int] = {}
    for i, t in enumerate(raw.tasks):
        tid = t.id.strip()
        if not tid:
            raise ProjectError(f"{_task_label(data.get('tasks'), i, lines, source)}: the id is empty; "
                               "give every task a unique, non-empty id.")
        if tid in seen:
            first = seen[tid]
            raise ProjectError(
                f"Duplicate task id '{tid}'{_where(source)}: used by task #{first + 1}"
                f"{_line(lines, first)} and task #{i + 1}{_line(lines, i)}. Task ids must be unique; rename one.")
        seen[tid] = i
    ids = list(seen)

    tasks: list[Task] = []
    for i, t in enumerate(raw.tasks):
        label = _task_label(data.get("tasks"), i, lines, source)
        tid = t.id.strip()
        if t.milestone:
            if t.duration is not None and not (isinstance(t.duration, int | float) and t.duration == 0):
                raise ProjectError(f"{label}: a milestone has duration 0 but a duration is given; "
                                   "remove 'duration' or 'milestone: true'.")
            duration: Distribution = Fixed(0.0)
        else:
            if t.duration is None:
                raise ProjectError(f"{label}: no duration; give 'duration' (working days, a number "
                                   "or a distribution such as {dist: pert, min: 5, likely: 8, max: 15}) or "
                                   "mark it 'milestone: true'.")
            if isinstance(t.duration, int | float) and t.duration < 0:
                raise ProjectError(f"{label}, duration: negative duration {t.duration:g}; "
                                   "durations are working days >= 0.")
            duration = _dist(t.duration, f"{label}, duration", nonneg=True, source=source)
        cost = t.cost
        if cost is None:
            fixed: Distribution = Fixed(0.0)
            per_day: Distribution = Fixed(0.0)
        elif isinstance(cost, int | float):
            fixed = _dist(cost, f"{label}, cost", nonneg=True, source=source)
            per_day = Fixed(0.0)
        else:
            fixed = _dist(cost.fixed, f"{label}, cost.fixed", nonneg=True, source=source)
            per_day = _dist(cost.per_day, f"{label}, cost.per_day", nonneg=True, source=source)
        links: list[Link] = []
        for dep in t.depends_on:
            lk = _parse_link(dep, tid, label, seen)
            if lk.pred not in seen:
                close = difflib.get_close_matches(lk.pred, ids, n=1)
                hint = f" Did you mean '{close[0]}'?" if close else " Check the spelling or add that task."
                if " " in lk.pred:
                    hint += " A link with a type and a lag is written like 'REQ SS+5' or 'REQ FF-2'."
                raise ProjectError(f"{label}: unknown predecessor '{lk.pred}'.{hint}")
            if lk.pred == tid:
                raise CyclicDependencyError(
                    f"Dependency cycle {tid} -> {tid}{_where(source)}: task {tid} depends on itself. "
                    "Remove that link; a schedule must be acyclic.")
            links.append(lk)
        snet = _offset(t.start_no_earlier_than, start, cal, f"{label}, start_no_earlier_than", source,
                       deadline=False)
        if snet is not None and snet < 0:
            snet = 0.0
        prob = 1.0
        if t.probability is not None:
            prob = float(t.probability)
            if not 0.0 <= prob <= 1.0:
                raise ProjectError(f"{label}, probability: existence probability {t.probability!r} is outside "
                                   "[0, 1]; give the share of iterations in which the task happens, e.g. 0.7.")
        tasks.append(Task(id=tid, name=t.name or tid, duration=duration, fixed_cost=fixed, per_day_cost=per_day,
                          milestone=t.milestone, tags=tuple(t.tags), start_no_earlier_than=snet,
                          predecessors=tuple(links), line=lines.get(i), probability=prob))

    _check_acyclic(tasks, source)
    calibration = None
    if raw.calibration is not None:
        from pmrisk.calibration import parse_calibration

        calibration = parse_calibration(raw.calibration, [t.id for t in tasks], {t.id: set(t.tags) for t in tasks},
                                        source=source)
    top_down = None
    if raw.top_down is not None:
        from pmrisk.topdown import parse_top_down

        top_down = parse_top_down(raw.top_down, source=source)
    risk = build_risk_model(data, [t.id for t in tasks], {t.id: set(t.tags) for t in tasks}, source=source,
                            lines=section_lines, correlation_repair=pin.correlation_repair == "nearest")

    deadline = _offset(pin.deadline, start, cal, f"{_src(source)}project.deadline", source, deadline=True)
    if deadline is not None and deadline < 0:
        when = f"is before the project start {start}" if start is not None else "is negative"
        raise ProjectError(f"{_src(source)}project.deadline: {pin.deadline} {when}; give a deadline after the "
                           "start (a date, or working days >= 0).")
    if pin.budget is not None and (pin.budget != pin.budget or pin.budget < 0):
        raise ProjectError(f"{_src(source)}project.budget: {pin.budget!r} must be a number >= 0.")
    return Project(name=pin.name, tasks=tuple(tasks), start=start, calendar=cal, currency=pin.currency,
                   deadline=deadline, deadline_date=pin.deadline if isinstance(pin.deadline, dt.date) else None,
                   budget=None if pin.budget is None else float(pin.budget), source=source, risk=risk,
                   calibration=calibration, top_down=top_down,
                   cost_of_delay_per_day=None if pin.cost_of_delay_per_day is None
                   else float(pin.cost_of_delay_per_day))


def _line(lines: Mapping[int, int], idx: int) -> str:
    return f" (line {lines[idx]})" if idx in lines else ""


_LINK_RE = re.compile(
    r"^(?P<task>\S(?:.*?\S)??)"
    r"(?:\s+(?P<type>FS|SS|FF|SF)(?:\s*(?P<lag>[+-]\s*(?:\d+(?:\.\d*)?|\.\d+))\s*(?:d|days?|wd)?)?)?$",
    re.IGNORECASE)


_COMPACT_RE = re.compile(
    r"^(?P<task>\S+?)(?P<type>FS|SS|FF|SF)(?:\s*(?P<lag>[+-]\s*(?:\d+(?:\.\d*)?|\.\d+))\s*(?:d|days?|wd)?)?$",
    re.IGNORECASE)


def parse_link_text(text: str, known_ids: Collection[str] | None = None) -> tuple[str, str, float]:
    """Parse a predecessor written as in a task list: ``"REQ"``, ``"MIGR SS+5"``, ``"B FF-2d"``.

    The link type follows the task id after a space, so ids such as ``PROCESS`` or ``STAFF`` are
    read whole. With ``known_ids``, an exact id always wins, and MS Project's compact form
    (``"12FS+3"``) is read too when its id is known. Returns ``(task, type, lag)``; raises
    :class:`ValueError` for text it cannot read.

    Examples
    --------
    >>> parse_link_text("MIGR SS+5")
    ('MIGR', 'SS', 5.0)
    >>> parse_link_text("PROCESS")
    ('PROCESS', 'FS', 0.0)
    >>> parse_link_text("12FS+3 days", known_ids={"12"})
    ('12', 'FS', 3.0)
    """
    s = str(text).strip()
    if known_ids is not None and s in known_ids:
        return s, "FS", 0.0
    m = _LINK_RE.match(s)
    if not s or not m:
        raise ValueError(f"cannot read predecessor {text!r}; write it like 'REQ', 'REQ SS+5' or 'REQ FF-2'")
    out = _groups(m)
    if known_ids is not None and out[0] not in known_ids:
        c = _COMPACT_RE.match(s)
        if c and c.group("task") in known_ids:
            return _groups(c)
    return out


def _groups(m: re.Match[str]) -> tuple[str, str, float]:
    lag = float(m.group("lag").replace(" ", "")) if m.group("lag") else 0.0
    return m.group("task").strip(), (m.group("type") or "FS").upper(), lag


def _parse_link(dep: str | LinkIn, succ: str, label: str, ids: Mapping[str, int]) -> Link:
    if isinstance(dep, LinkIn):
        return Link(pred=dep.task.strip(), succ=succ, type=dep.type, lag=float(dep.lag))  # type: ignore[arg-type]
    try:
        task, typ, lag = parse_link_text(dep, ids)
    except ValueError as exc:
        raise ProjectError(f"{label}, depends_on: {exc}") from None
    return Link(pred=task, succ=succ, type=typ, lag=lag)  # type: ignore[arg-type]


def _check_acyclic(tasks: Sequence[Task], source: str | None) -> None:
    """Raise :class:`CyclicDependencyError` naming the tasks on a cycle, if there is one."""
    succs: dict[str, list[str]] = {t.id: [] for t in tasks}
    for t in tasks:
        for lk in t.predecessors:
            succs[lk.pred].append(t.id)
    WHITE, GREY, BLACK = 0, 1, 2
    color = dict.fromkeys(succs, WHITE)
    for root in succs:
        if color[root] != WHITE:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        color[root] = GREY
        while stack:
            node, i = stack[-1]
            nxt = succs[node]
            if i < len(nxt):
                stack[-1] = (node, i + 1)
                child = nxt[i]
                if color[child] == GREY:
                    cyc = path[path.index(child):] + [child]
                    raise CyclicDependencyError(
                        f"Dependency cycle {' -> '.join(cyc)}{_where(source)}. Remove one of these links; "
                        "a schedule must be acyclic.")
                if color[child] == WHITE:
                    color[child] = GREY
                    stack.append((child, 0))
                    path.append(child)
            else:
                color[node] = BLACK
                stack.pop()
                path.pop()
