"""The risk side of a project: risk events, risk drivers, correlations, branches, the risk matrix.

Semantics (project-format.md, section 2, extended):

- A **risk event** occurs in an iteration with its ``probability`` (one draw per iteration, shared
  by every task it affects). When it occurs, each task in ``affects`` has its duration multiplied
  by the sampled ``impact`` factor (if given) and then lengthened by the sampled ``delay`` in
  working days (if given; a negative delay or a factor below 1 is an opportunity), and the
  sampled ``cost`` is added to the project cost.
- A **mitigation** describes the risk after its response: a certain response ``cost`` (added to
  the project cost whenever the mitigated state is simulated) and residual ``probability``,
  ``delay``, ``impact`` and ``cost_impact``; what it does not restate keeps the pre-mitigation value.
- A **risk driver** (Hulett; AACE 57R-09) is one uncertain factor that, with its probability,
  multiplies the durations (and with ``scale_cost: true`` the fixed costs) of every task it
  applies to, all by the same draw in an iteration.
- A task's duration in an iteration is ``base x driver factors x risk factors + risk delays``,
  never below 0.
- **Existence risk**: a task with ``probability: p`` takes place in a share p of iterations; when it
  does not, it has zero duration and cost, and its links still pass logic through.
- **Probabilistic branching**: a branch picks exactly one of its options per iteration, by the
  options' probabilities; the tasks of the options not taken have zero duration and cost.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pmrisk.distributions import Distribution, check_range, parse_distribution
from pmrisk.errors import DistributionError, ProjectError

Number = float | int
DistSpec = Number | dict[str, Any]

RESPONSES = ("avoid", "mitigate", "transfer", "accept", "exploit", "enhance", "share", "escalate")
STATUSES = ("open", "monitoring", "occurred", "closed")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _str_list(v: Any) -> Any:
    if v is None:
        return []
    if isinstance(v, str):
        return [s.strip() for s in v.replace(";", ",").split(",") if s.strip()]
    if isinstance(v, int | float) and not isinstance(v, bool):
        return [str(v)]
    if isinstance(v, list):
        return [str(x) if isinstance(x, int | float) and not isinstance(x, bool) else x for x in v]
    return v


def _id_text(v: Any) -> Any:
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


def _selector(v: Any) -> Any:
    """``affects`` / ``applies_to``: a mapping ``{tasks, tags}`` or a list (or text) of task ids."""
    return v if isinstance(v, dict) else _str_list(v)


class SelectorIn(_Strict):
    tasks: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)

    _lists = field_validator("tasks", "tags", mode="before")(lambda cls, v: _str_list(v))


class MitigationIn(_Strict):
    action: str | None = None
    cost: DistSpec = 0
    probability: Number | None = None
    delay: DistSpec | None = None
    impact: DistSpec | None = None
    cost_impact: DistSpec | None = None
    response: str | None = None
    owner: str | None = None
    due: str | None = None


class RiskIn(_Strict):
    id: str
    title: str | None = None
    name: str | None = None
    cause: str | None = None
    event: str | None = None
    effect: str | None = None
    category: str | None = None
    owner: str | None = None
    status: str | None = None
    type: str | None = None
    probability: Number
    affects: list[str] | SelectorIn = Field(default_factory=list)
    delay: DistSpec | None = None
    impact: DistSpec | None = None
    cost: DistSpec | None = None
    mitigation: MitigationIn | None = None
    response: str | None = None
    notes: str | None = None

    _id = field_validator("id", mode="before")(lambda cls, v: _id_text(v))
    _affects = field_validator("affects", mode="before")(lambda cls, v: _selector(v))


class DriverIn(_Strict):
    id: str
    name: str | None = None
    applies_to: list[str] | SelectorIn
    factor: DistSpec
    probability: Number = 1.0
    scale_cost: bool = False
    notes: str | None = None

    _id = field_validator("id", mode="before")(lambda cls, v: _id_text(v))
    _applies = field_validator("applies_to", mode="before")(lambda cls, v: _selector(v))


class CorrelationIn(_Strict):
    between: list[str]
    rho: Number

    _between = field_validator("between", mode="before")(lambda cls, v: _str_list(v))


class BranchOptionIn(_Strict):
    name: str | None = None
    probability: Number
    tasks: list[str] = Field(default_factory=list)

    _tasks = field_validator("tasks", mode="before")(lambda cls, v: _str_list(v))


class BranchIn(_Strict):
    id: str
    name: str | None = None
    options: list[BranchOptionIn]


# --------------------------------------------------------------------------------------------
# Domain
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskState:
    """A risk's probability and impacts, before or after its response."""

    probability: float
    delay: Distribution | None = None
    impact: Distribution | None = None
    cost: Distribution | None = None


@dataclass(frozen=True)
class Mitigation:
    """The response to a risk and the residual risk after it."""

    action: str | None
    cost: Distribution
    residual: RiskState
    response: str | None = None
    owner: str | None = None
    due: str | None = None


@dataclass(frozen=True)
class Risk:
    """A risk event (threat or opportunity) of the register."""

    id: str
    title: str
    affects: tuple[str, ...]
    state: RiskState
    mitigation: Mitigation | None = None
    cause: str | None = None
    event: str | None = None
    effect: str | None = None
    category: str | None = None
    owner: str | None = None
    status: str | None = None
    response: str | None = None
    notes: str | None = None
    line: int | None = None

    @property
    def is_opportunity(self) -> bool:
        """True when the risk's expected effect shortens or saves (negative delay/cost, factor < 1)."""
        s = self.state
        score = 0.0
        for d, neutral in ((s.delay, 0.0), (s.cost, 0.0), (s.impact, 1.0)):
            if d is not None:
                score += d.mean() - neutral
        return score < 0

    def mitigated_state(self) -> RiskState:
        """The state simulated with ``--mitigated`` (the pre-response state without a mitigation)."""
        return self.mitigation.residual if self.mitigation is not None else self.state

    def expected_delay(self, mitigated: bool = False) -> float:
        """Probability x mean delay in working days (0 without a delay)."""
        s = self.mitigated_state() if mitigated else self.state
        return s.probability * (s.delay.mean() if s.delay is not None else 0.0)

    def expected_cost(self, mitigated: bool = False) -> float:
        """Expected monetary value of the cost impact: probability x mean cost."""
        s = self.mitigated_state() if mitigated else self.state
        return s.probability * (s.cost.mean() if s.cost is not None else 0.0)


@dataclass(frozen=True)
class Driver:
    """A risk driver: one uncertain factor scaling the durations of many tasks at once."""

    id: str
    name: str
    tasks: tuple[str, ...]
    factor: Distribution
    probability: float = 1.0
    scale_cost: bool = False


@dataclass(frozen=True)
class Correlation:
    """A target rank correlation between two tasks' durations."""

    a: str
    b: str
    rho: float


@dataclass(frozen=True)
class BranchOption:
    name: str
    probability: float
    tasks: tuple[str, ...]


@dataclass(frozen=True)
class Branch:
    """Probabilistic branching: exactly one option happens in an iteration."""

    id: str
    name: str
    options: tuple[BranchOption, ...]


@dataclass(frozen=True)
class RiskModel:
    """Everything a project says about risk, validated."""

    risks: tuple[Risk, ...] = ()
    drivers: tuple[Driver, ...] = ()
    correlations: tuple[Correlation, ...] = ()
    correlation_repair: bool = False
    branches: tuple[Branch, ...] = ()
    matrix_spec: dict[str, Any] | None = field(default=None, compare=False)
    correlation_model: Any = field(default=None, compare=False)   # engine.correlation.CorrelationModel

    @property
    def empty(self) -> bool:
        return not (self.risks or self.drivers or self.correlations or self.branches)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _src(source: str | None) -> str:
    return f"{source}, " if source else ""


def _label(kind: str, raw: Any, i: int, lines: Mapping[int, int], source: str | None) -> str:
    rid = raw.get("id") if isinstance(raw, Mapping) else None
    line = f"line {lines[i]}, " if i in lines else ""
    return f"{_src(source)}{line}{kind} {rid if rid is not None else f'#{i + 1}'}"


def _validate(model: type[BaseModel], raw: Any, label: str) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        msgs = []
        for e in err.errors()[:5]:
            loc = ".".join(str(x) for x in e["loc"] if not _is_tag(x))
            if e["type"] == "extra_forbidden":
                known = list(model.model_fields)
                sub = _submodel(model, e["loc"])
                if sub is not None:
                    known = list(sub.model_fields)
                close = difflib.get_close_matches(str(e["loc"][-1]), known, n=1)
                hint = f" Did you mean '{close[0]}'?" if close else f" Known keys: {', '.join(known)}."
                msgs.append(f"{loc}: unknown key '{e['loc'][-1]}'.{hint}")
            elif e["type"] == "missing":
                msgs.append(f"required key '{e['loc'][-1]}' is missing; add it")
            else:
                msgs.append(f"{loc}: {e['msg'].removeprefix('Value error, ')} (got {e.get('input')!r})")
        raise ProjectError(f"{label}: " + "; ".join(dict.fromkeys(msgs))) from None


def _is_tag(x: Any) -> bool:
    s = str(x)
    return s in ("str", "float", "int", "bool", "SelectorIn", "MitigationIn") or s.startswith(
        ("list[", "dict[", "function-", "constrained-"))


def _submodel(model: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    for x in loc[:-1]:
        if str(x) == "mitigation":
            return MitigationIn
        if str(x) in ("affects", "applies_to"):
            return SelectorIn
    return None


def _dist(spec: Any, what: str, *, lower: float | None = None) -> Distribution:
    try:
        d = parse_distribution(spec)
    except DistributionError as exc:
        raise DistributionError(f"{what}: {exc}") from None
    if lower is not None and d.support()[0] < lower:
        raise ProjectError(f"{what}: the distribution allows values below {lower:g} (lowest "
                           f"{d.support()[0]:g}); a factor multiplies durations and must be >= {lower:g}.")
    limit = 1000.0 if lower is not None else (1e6 if what.endswith(("delay", ".delay")) else 1e15)
    check_range(d, limit, what)
    return d


def _prob(value: Any, what: str) -> float:
    try:
        p = float(value)
    except (TypeError, ValueError):
        raise ProjectError(f"{what}: {value!r} is not a number; give a probability between 0 and 1.") from None
    if not 0.0 <= p <= 1.0 or math.isnan(p):
        hint = f" Did you mean {p / 100:g}?" if 1 < p <= 100 else ""
        raise ProjectError(f"{what}: probability {value!r} is outside [0, 1]; write probabilities as fractions "
                           f"between 0 and 1.{hint}")
    return p


def _resolve(sel: list[str] | SelectorIn, task_ids: Sequence[str], tags: Mapping[str, set[str]],
             what: str) -> tuple[str, ...]:
    ids = list(sel) if isinstance(sel, list) else list(sel.tasks)
    want_tags = [] if isinstance(sel, list) else list(sel.tags)
    known = set(task_ids)
    for tid in ids:
        if tid not in known:
            close = difflib.get_close_matches(tid, task_ids, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else " Check the spelling or add that task."
            raise ProjectError(f"{what}: unknown task '{tid}'.{hint}")
    all_tags = sorted({t for ts in tags.values() for t in ts})
    for tag in want_tags:
        if not any(tag in ts for ts in tags.values()):
            close = difflib.get_close_matches(tag, all_tags, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ProjectError(f"{what}: no task has the tag '{tag}'.{hint}")
    chosen = set(ids) | {tid for tid, ts in tags.items() if ts & set(want_tags)}
    return tuple(t for t in task_ids if t in chosen)


def _claim_id(kind: str, raw_id: str, label: str, seen: dict[str, str]) -> str:
    """The stripped id, refused when empty or already used by a risk, driver or branch."""
    rid = raw_id.strip()
    if not rid:
        raise ProjectError(f"{label}: the id is empty; give every {kind} a unique id.")
    if rid in seen:
        raise ProjectError(f"{label}: duplicate id '{rid}' (also {seen[rid]}); risk, driver and branch ids must "
                           "be unique.")
    seen[rid] = label
    return rid


def build_risk_model(data: Mapping[str, Any], task_ids: Sequence[str], task_tags: Mapping[str, set[str]], *,
                     source: str | None = None, lines: Mapping[str, Mapping[int, int]] | None = None,
                     correlation_repair: bool = False) -> RiskModel:
    """Validate the ``risks``, ``drivers``, ``correlations``, ``branches`` and ``risk_matrix`` sections."""
    lines = lines or {}
    risks: list[Risk] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(data.get("risks") or []):
        label = _label("risk", raw, i, lines.get("risks", {}), source)
        if not isinstance(raw, Mapping):
            raise ProjectError(f"{label}: each risk must be a mapping with id, probability, affects, delay/cost.")
        r = _validate(RiskIn, raw, label)
        rid = _claim_id("risk", r.id, label, seen)
        p = _prob(r.probability, f"{label}, probability")
        affects = _resolve(r.affects, task_ids, task_tags, f"{label}, affects")
        delay = _dist(r.delay, f"{label}, delay") if r.delay is not None else None
        impact = _dist(r.impact, f"{label}, impact", lower=0.0) if r.impact is not None else None
        cost = _dist(r.cost, f"{label}, cost") if r.cost is not None else None
        if delay is None and impact is None and cost is None:
            raise ProjectError(f"{label}: no impact; give 'delay' (working days), 'impact' (a factor on the "
                               "affected tasks' durations) and/or 'cost'.")
        if (delay is not None or impact is not None) and not affects:
            raise ProjectError(f"{label}: has a schedule impact but affects no task; list the tasks it delays "
                               "under 'affects:'.")
        mit = None
        if r.mitigation is not None:
            m = r.mitigation
            mlabel = f"{label}, mitigation"
            residual = RiskState(
                probability=p if m.probability is None else _prob(m.probability, f"{mlabel}.probability"),
                delay=delay if m.delay is None else _dist(m.delay, f"{mlabel}.delay"),
                impact=impact if m.impact is None else _dist(m.impact, f"{mlabel}.impact", lower=0.0),
                cost=cost if m.cost_impact is None else _dist(m.cost_impact, f"{mlabel}.cost_impact"))
            if (residual.delay is not None or residual.impact is not None) and not affects:
                raise ProjectError(f"{mlabel}: has a schedule impact but the risk affects no task.")
            mit = Mitigation(action=m.action, cost=_dist(m.cost, f"{mlabel}.cost"), residual=residual,
                             response=_choice(m.response, RESPONSES, f"{mlabel}.response"), owner=m.owner,
                             due=m.due)
        risks.append(Risk(id=rid, title=r.title or r.name or rid, affects=affects,
                          state=RiskState(probability=p, delay=delay, impact=impact, cost=cost), mitigation=mit,
                          cause=r.cause, event=r.event, effect=r.effect, category=r.category, owner=r.owner,
                          status=r.status, response=_choice(r.response, RESPONSES, f"{label}, response"),
                          notes=r.notes, line=lines.get("risks", {}).get(i)))

    drivers: list[Driver] = []
    for i, raw in enumerate(data.get("drivers") or []):
        label = _label("driver", raw, i, lines.get("drivers", {}), source)
        if not isinstance(raw, Mapping):
            raise ProjectError(f"{label}: each driver must be a mapping with id, applies_to and factor.")
        d = _validate(DriverIn, raw, label)
        did = _claim_id("driver", d.id, label, seen)
        tasks = _resolve(d.applies_to, task_ids, task_tags, f"{label}, applies_to")
        if not tasks:
            raise ProjectError(f"{label}, applies_to: selects no task; name tasks or tags.")
        drivers.append(Driver(id=did, name=d.name or did, tasks=tasks,
                              factor=_dist(d.factor, f"{label}, factor", lower=0.0),
                              probability=_prob(d.probability, f"{label}, probability"), scale_cost=d.scale_cost))

    correlations: list[Correlation] = []
    for i, raw in enumerate(data.get("correlations") or []):
        label = _label("correlation", {"id": f"#{i + 1}"}, i, lines.get("correlations", {}), source)
        c = _validate(CorrelationIn, raw, label)
        if len(c.between) != 2:
            raise ProjectError(f"{label}: 'between' must name exactly two tasks, like [BUILD, TEST].")
        a, b = (x.strip() for x in c.between)
        _resolve([a, b], task_ids, task_tags, label)
        if a == b:
            raise ProjectError(f"{label}: task {a} is correlated with itself; a correlation needs two different "
                               "tasks.")
        rho = float(c.rho)
        if not -1.0 <= rho <= 1.0:
            raise ProjectError(f"{label}: rho {rho:g} between {a} and {b} is outside [-1, 1].")
        correlations.append(Correlation(a=a, b=b, rho=rho))

    branches: list[Branch] = []
    in_branch: dict[str, str] = {}
    for i, raw in enumerate(data.get("branches") or []):
        label = _label("branch", raw, i, lines.get("branches", {}), source)
        br = _validate(BranchIn, raw, label)
        _claim_id("branch", br.id, label, seen)
        if len(br.options) < 2:
            raise ProjectError(f"{label}: a branch needs at least two options.")
        opts = []
        for j, o in enumerate(br.options):
            olabel = f"{label}, option {j + 1}"
            tasks = _resolve(o.tasks, task_ids, task_tags, olabel)
            for t in tasks:
                if t in in_branch:
                    raise ProjectError(f"{olabel}: task {t} is already in {in_branch[t]}; a task can belong to "
                                       "one branch option only.")
                in_branch[t] = olabel
            opts.append(BranchOption(name=o.name or f"option {j + 1}", probability=_prob(o.probability, olabel),
                                     tasks=tasks))
        total = sum(o.probability for o in opts)
        if abs(total - 1.0) > 1e-9:
            raise ProjectError(f"{label}: the options' probabilities add up to {total:g}; exactly one option "
                               "happens, so they must add up to 1.")
        branches.append(Branch(id=br.id, name=br.name or br.id, options=tuple(opts)))

    correlation_model = None
    if correlations:
        from pmrisk.engine.correlation import build_correlation_model

        correlation_model = build_correlation_model([(c.a, c.b, c.rho) for c in correlations],
                                                    repair=correlation_repair, source=source)
    matrix = data.get("risk_matrix")
    if matrix is not None:
        from pmrisk.risk.matrix import RiskMatrix

        RiskMatrix.from_spec(matrix, source=source)
    return RiskModel(risks=tuple(risks), drivers=tuple(drivers), correlations=tuple(correlations),
                     correlation_repair=correlation_repair, branches=tuple(branches),
                     matrix_spec=dict(matrix) if matrix else None, correlation_model=correlation_model)


def _choice(value: str | None, allowed: Sequence[str], what: str) -> str | None:
    if value is None:
        return None
    v = str(value).strip().lower()
    if v not in allowed:
        close = difflib.get_close_matches(v, allowed, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ProjectError(f"{what}: '{value}' is not one of {', '.join(allowed)}.{hint}")
    return v

