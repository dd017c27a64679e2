"""What-if scenarios: variants of a project, simulated on common random numbers, side by side.

A scenario is a variant of a :class:`~pmrisk.project.Project` (which is immutable: every function
here returns a new project and leaves its input alone):

- :func:`scale_tasks`: durations (and per-day or fixed costs) of some tasks times a factor, e.g. a
  second team on the ``build`` tasks (shorter, at a higher day rate);
- :func:`cut_scope`: some tasks cut (zero duration and cost; logic still passes through them) and
  the risks that concerned only them removed;
- :func:`mitigate`: some risks in their post-response state, with their response cost as a
  zero-duration task of the plan;
- :func:`set_risk_probability`: a risk judged more or less likely;
- :func:`set_deadline`: another deadline (a date or working days).

:func:`run_scenarios` simulates them all with one seed. pmrisk draws every random number from
(seed, iteration, task or risk, stream), so the same seed gives every scenario the same draws for
the tasks and risks it shares with the others: a difference between two scenarios is the change,
not sampling noise (common random numbers). :func:`scenario_table` puts the P50/P80 finish and cost,
the chances of meeting the deadline and the budget, and the change against a baseline side by side;
:func:`contingency_table` is the view a budget reviewer signs (plan, P50, P80, contingency).

Examples
--------
>>> import pmrisk
>>> from pmrisk import scenarios
>>> p = pmrisk.Project.from_dict({"project": {"deadline": 24}, "tasks": [
...     {"id": "A", "duration": {"dist": "triangular", "min": 8, "likely": 10, "max": 15}, "cost": {"per_day": 100}},
...     {"id": "B", "duration": {"dist": "triangular", "min": 8, "likely": 10, "max": 16}, "depends_on": ["A"],
...      "tags": ["build"], "cost": {"per_day": 100}}]})
>>> runs = scenarios.run_scenarios({"baseline": p, "faster B": scenarios.scale_tasks(p, 0.5, tags=["build"])},
...                                iterations=2000, rng=1)
>>> table = scenarios.scenario_table(runs)
>>> bool(table.loc["faster B", "finish_P80_change"] < -3), bool(table.loc["faster B", "deadline_probability"] == 1.0)
(True, True)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from pmrisk.distributions import Distribution, Fixed, parse_distribution
from pmrisk.errors import ProjectError
from pmrisk.project import Project, Task

if TYPE_CHECKING:
    import pandas as pd

    from pmrisk.results import SimulationResult

__all__ = [
    "contingency_table",
    "cut_scope",
    "mitigate",
        "run_scenarios",
    "scale_distribution",
    "scale_tasks",
    "scenario_table",
    "set_deadline",
    "set_risk_probability",
]

# spec keys that are values of the quantity (scaled), as opposed to shapes, levels and weights
_VALUE_KEYS = ("value", "min", "likely", "max", "mean", "sd", "p10", "p90")


# --------------------------------------------------------------------------------------------
# Variants of a project
# --------------------------------------------------------------------------------------------


def scale_distribution(dist: Distribution, factor: float) -> Distribution:
    """The distribution of ``factor`` times the quantity: every value parameter scaled, shapes kept.

    The inverse CDF scales with it, ``scaled.ppf(u) == factor * dist.ppf(u)``, so a simulation of the
    scaled project on the same seed draws exactly ``factor`` times the original values.

    Examples
    --------
    >>> from pmrisk.distributions import Pert
    >>> scale_distribution(Pert(min=10, likely=15, max=30), 0.8)
    Pert(min=8.0, likely=12.0, max=24.0, lambda_=4.0)
    >>> scale_distribution(parse_distribution({"dist": "lognormal", "p10": 10, "p90": 30}), 2).to_spec()
    {'dist': 'lognormal', 'p10': 20.0, 'p90': 60.0}
    """
    factor = float(factor)
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"a scale factor must be a finite number > 0, not {factor!r}")
    if factor == 1.0:
        return dist
    spec = dist.to_spec()
    if not isinstance(spec, dict):                       # a fixed value
        return Fixed(float(spec) * factor)
    out: dict[str, Any] = {}
    for key, value in spec.items():
        if key in _VALUE_KEYS:
            out[key] = float(value) * factor
        elif key == "values":
            out[key] = [float(v) * factor for v in value]
        elif key == "mu":                                # lognormal by the mean of the log
            out[key] = float(value) + math.log(factor)
        else:                                            # dist, lambda, sigma, low, high, weights
            out[key] = value
    return parse_distribution(out)


def _hint(name: str, known: Sequence[str]) -> str:
    """`` Did you mean 'X'?`` for a name close to a known one (case aside), else ``""``."""
    by_case = {k.casefold(): k for k in known}
    close = ([by_case[name.casefold()]] if name.casefold() in by_case
             else difflib.get_close_matches(name, list(known), n=1))
    return f" Did you mean '{close[0]}'?" if close else ""


def _select(project: Project, tasks: Iterable[str] | None, tags: Iterable[str] | None, what: str) -> set[str]:
    """Ids of the tasks named or tagged (every task when neither is given)."""
    if tasks is None and tags is None:
        return set(project.task_ids)
    chosen: set[str] = set()
    known = project.task_ids
    for tid in tasks or ():
        if tid not in known:
            raise ProjectError(f"{what}: unknown task '{tid}'.{_hint(str(tid), known)}")
        chosen.add(tid)
    tag_set = set(tags or ())
    if tag_set:
        tagged = {t.id for t in project.tasks if tag_set & set(t.tags)}
        if not tagged:
            all_tags = sorted({g for t in project.tasks for g in t.tags})
            raise ProjectError(f"{what}: no task has the tag(s) {', '.join(sorted(tag_set))}; the tags are "
                               f"{', '.join(all_tags) or '(none)'}.")
        chosen |= tagged
    return chosen


def scale_tasks(project: Project, factor: float = 1.0, *, tasks: Iterable[str] | None = None,
                tags: Iterable[str] | None = None, per_day_cost: float = 1.0, fixed_cost: float = 1.0) -> Project:
    """A copy in which the selected tasks' durations are ``factor`` times as long.

    Parameters
    ----------
    project
        The project to vary.
    factor
        Duration factor (> 0): 0.8 makes the tasks 20% shorter (another team, a better tool), 1.2
        longer (less experienced staff).
    tasks, tags
        The tasks: by id and/or by tag (default: every task).
    per_day_cost, fixed_cost
        Factors on the same tasks' cost per working day and fixed cost: a second team shortens the
        work but costs more a day (two teams at 0.6 of the duration: ``per_day_cost=2``).

    Examples
    --------
    >>> p = Project.from_dict({"tasks": [{"id": "A", "duration": 10, "tags": ["build"], "cost": {"per_day": 5}},
    ...                                  {"id": "B", "duration": 4, "depends_on": ["A"]}]})
    >>> q = scale_tasks(p, 0.5, tags=["build"], per_day_cost=1.5)
    >>> q.task("A").duration.mode(), q.task("A").per_day_cost.mode(), q.task("B").duration.mode()
    (5.0, 7.5, 4.0)
    """
    chosen = _select(project, tasks, tags, "scale_tasks")
    new = []
    for t in project.tasks:
        if t.id in chosen and not t.milestone:
            t = dataclasses.replace(t, duration=scale_distribution(t.duration, factor),
                                    per_day_cost=scale_distribution(t.per_day_cost, per_day_cost),
                                    fixed_cost=scale_distribution(t.fixed_cost, fixed_cost))
        new.append(t)
    return dataclasses.replace(project, tasks=tuple(new))


def cut_scope(project: Project, *ids: str) -> Project:
    """A copy in which the tasks ``ids`` are cut from the scope (the work moves to a later release).

    A cut task stays in the network as a zero-duration, zero-cost placeholder: logic passes through
    it, so a successor still waits for what the cut task waited for (lags included) and no link has
    to be rewritten by guesswork, and every other task, risk and driver keeps its random numbers, so a
    comparison on the same seed is exact iteration by iteration (a correlation with a cut task keeps
    its partner's draws as they were). The cut tasks leave the risks' ``affects``; a risk that
    affected only cut tasks is removed, as the event it describes can no longer happen.

    Examples
    --------
    >>> p = Project.from_dict({"tasks": [{"id": "A", "duration": 5}, {"id": "B", "duration": 3, "depends_on": ["A"]},
    ...                                  {"id": "C", "duration": 2, "depends_on": ["B SS+1"]}],
    ...                        "risks": [{"id": "R1", "probability": 0.5, "affects": ["B"], "delay": 4}]})
    >>> q = cut_scope(p, "B")
    >>> q.task("B").duration.mode(), [str(lk) for lk in q.task("C").predecessors], q.risks
    (0.0, ['B -SS+1-> C'], ())
    """
    cut = _select(project, ids, None, "cut_scope") if ids else set()
    if not cut:
        return project
    zero = Fixed(0.0)
    tasks = tuple(dataclasses.replace(t, duration=zero, fixed_cost=zero, per_day_cost=zero) if t.id in cut else t
                  for t in project.tasks)
    risks = []
    for r in project.risks:
        affects = tuple(x for x in r.affects if x not in cut)
        if r.affects and not affects:
            continue                                     # the event concerned only the cut work
        risks.append(r if affects == r.affects else dataclasses.replace(r, affects=affects))
    return dataclasses.replace(project, tasks=tasks, risk=dataclasses.replace(project.risk, risks=tuple(risks)))


def _risk(project: Project, risk_id: str, what: str) -> Any:
    for r in project.risks:
        if r.id == risk_id:
            return r
    ids = [r.id for r in project.risks]
    hint = _hint(str(risk_id), ids) or f" The risks are {', '.join(ids) or '(none)'}."
    raise ProjectError(f"{what}: unknown risk '{risk_id}'.{hint}")


def _replace_risk(project: Project, new: Any) -> Project:
    risks = tuple(new if r.id == new.id else r for r in project.risks)
    return dataclasses.replace(project, risk=dataclasses.replace(project.risk, risks=risks))


def mitigate(project: Project, *risk_ids: str) -> Project:
    """A copy in which the named risks are in their post-response (residual) state.

    Each response's certain cost becomes a zero-duration task ``<risk id>-RESPONSE`` (tag
    ``risk-response``) with that fixed cost, as a response is planned work; it does not move the
    finish. ``simulate(project, mitigated=True)`` does the same for every risk at once.

    Examples
    --------
    >>> p = Project.from_dict({"tasks": [{"id": "A", "duration": 20}], "risks": [
    ...     {"id": "R1", "probability": 0.5, "affects": ["A"], "delay": 10,
    ...      "mitigation": {"cost": 100, "probability": 0.1}}]})
    >>> q = mitigate(p, "R1")
    >>> q.risks[0].state.probability, q.task("R1-RESPONSE").fixed_cost.mode()
    (0.1, 100.0)
    """
    out = project
    for rid in risk_ids:
        r = _risk(out, rid, "mitigate")
        task_id = f"{rid}-RESPONSE"
        if task_id in out.task_ids:
            raise ProjectError(f"mitigate: risk '{rid}' is already mitigated (task {task_id} exists).")
        if r.mitigation is None:
            raise ProjectError(f"mitigate: risk '{rid}' has no mitigation in the register; give it one "
                               "(action, cost, residual probability and impacts) or change its probability.")
        action = r.mitigation.action or "risk response"
        response = Task(id=task_id, name=f"Response to {rid}: {action}", duration=Fixed(0.0),
                        fixed_cost=r.mitigation.cost, per_day_cost=Fixed(0.0), tags=("risk-response",))
        residual = dataclasses.replace(r, state=r.mitigated_state(), mitigation=None, status="mitigated",
                                       response=r.mitigation.response or r.response)
        out = _replace_risk(dataclasses.replace(out, tasks=(*out.tasks, response)), residual)
    return out


def set_risk_probability(project: Project, risk_id: str, probability: float) -> Project:
    """A copy in which one risk occurs with ``probability`` (0-1); its impacts stay as they are.

    Examples
    --------
    >>> p = Project.from_dict({"tasks": [{"id": "A", "duration": 20}],
    ...                        "risks": [{"id": "R1", "probability": 0.5, "affects": ["A"], "delay": 10}]})
    >>> set_risk_probability(p, "R1", 0.2).risks[0].state.probability
    0.2
    """
    p = float(probability)
    if not 0.0 <= p <= 1.0:
        raise ProjectError(f"set_risk_probability: {probability!r} is outside [0, 1]; give the chance the risk "
                           "occurs, e.g. 0.3.")
    r = _risk(project, risk_id, "set_risk_probability")
    return _replace_risk(project, dataclasses.replace(r, state=dataclasses.replace(r.state, probability=p)))


def set_deadline(project: Project, deadline: dt.date | float | None) -> Project:
    """A copy with another deadline: a date (needs the project's start) or working days; None removes it.

    Examples
    --------
    >>> import datetime as dt
    >>> p = Project.from_dict({"project": {"start": "2027-02-01"}, "tasks": [{"id": "A", "duration": 20}]})
    >>> q = set_deadline(p, dt.date(2027, 2, 12))
    >>> q.deadline, q.deadline_date, set_deadline(q, 30).deadline_date
    (10.0, datetime.date(2027, 2, 12), None)
    """
    if deadline is None:
        return dataclasses.replace(project, deadline=None, deadline_date=None)
    if isinstance(deadline, dt.datetime):
        deadline = deadline.date()
    if isinstance(deadline, dt.date):
        if project.start is None:
            raise ProjectError(f"set_deadline: {deadline.isoformat()} is a date but the project has no start date; "
                               "give the deadline in working days instead.")
        days = float(project.calendar.working_days_through(project.start, deadline))
        if days < 0:
            raise ProjectError(f"set_deadline: {deadline.isoformat()} is before the project start {project.start}.")
        return dataclasses.replace(project, deadline=days, deadline_date=deadline)
    days = float(deadline)
    if not (math.isfinite(days) and days >= 0):
        raise ProjectError(f"set_deadline: {deadline!r} is not a number of working days >= 0.")
    return dataclasses.replace(project, deadline=days, deadline_date=None)


# --------------------------------------------------------------------------------------------
# Running and comparing
# --------------------------------------------------------------------------------------------


def run_scenarios(scenarios: Mapping[str, Project], iterations: int = 10_000,
                  rng: int | np.random.SeedSequence | np.random.Generator | None = 42, *,
                  rank_risks: bool = False, **options: Any) -> dict[str, SimulationResult]:
    """Simulate every scenario with one seed (common random numbers), in the mapping's order.

    Parameters
    ----------
    scenarios
        Name -> project (the baseline and its variants).
    iterations
        Iterations of each run.
    rng
        The seed shared by every run (an int, SeedSequence or Generator, resolved once; None: fresh
        entropy, the same for all, reported in each result's ``seed``).
    rank_risks
        Rank each scenario's risks too (one light pass per risk; off by default, as a scenario table
        does not need it).
    options
        More keywords of :func:`pmrisk.simulate` (``mitigated``, ``calibrate``, ``workers``, ...), the
        same for every scenario.

    Returns
    -------
    dict
        Name -> :class:`~pmrisk.results.SimulationResult`.
    """
    from pmrisk.engine.simulate import resolve_seed, simulate

    if not scenarios:
        raise ValueError("run_scenarios: give at least one scenario (name -> project)")
    seed = resolve_seed(rng)
    out = {}
    for name, project in scenarios.items():
        if not isinstance(project, Project):
            raise TypeError(f"scenario {name!r}: expected a pmrisk Project, not {type(project).__name__}")
        out[str(name)] = simulate(project, iterations, rng=seed, rank_risks=rank_risks, **options)
    return out


def _when(project: Project, days: float) -> dt.date | None:
    return project.finish_date(days) if project.start is not None else None


def scenario_table(results: Mapping[str, SimulationResult], baseline: str | None = None) -> pd.DataFrame:
    """Key figures of each scenario and their change against the baseline, one row per scenario.

    Columns: ``finish_P50``, ``finish_P80`` (working days from the start), ``finish_date_P50``,
    ``finish_date_P80`` (dates, when the project has a start), ``cost_P50``, ``cost_P80``, ``deadline``
    (working days), ``deadline_probability``, ``budget_probability`` (NaN without a deadline or budget),
    ``finish_P80_change`` (working days), ``cost_P80_change`` and ``deadline_probability_change``
    (against the baseline: ``baseline`` or the first scenario). With the same seed (as
    :func:`run_scenarios` runs them), the changes are the scenarios' effects, not noise.
    """
    import pandas
    if not results:
        raise ValueError("scenario_table: no results")
    names = list(results)
    base = baseline if baseline is not None else names[0]
    if base not in results:
        raise KeyError(f"scenario_table: no scenario named {base!r}; the scenarios are {', '.join(names)}")
    rows = []
    for name in names:
        r = results[name]
        p = r.project
        f50, f80 = r.percentile(50), r.percentile(80)
        rows.append({
            "scenario": name, "finish_P50": f50, "finish_P80": f80,
            "finish_date_P50": _when(p, f50), "finish_date_P80": _when(p, f80),
            "cost_P50": r.percentile(50, "cost"), "cost_P80": r.percentile(80, "cost"),
            "deadline": p.deadline if p.deadline is not None else math.nan,
            "deadline_probability": r.probability(duration=p.deadline) if p.deadline is not None else math.nan,
            "budget_probability": r.probability(cost=p.budget) if p.budget is not None else math.nan,
        })
    frame = pandas.DataFrame(rows).set_index("scenario")
    ref = frame.loc[base]
    frame["finish_P80_change"] = frame["finish_P80"] - ref["finish_P80"]
    frame["cost_P80_change"] = frame["cost_P80"] - ref["cost_P80"]
    frame["deadline_probability_change"] = frame["deadline_probability"] - ref["deadline_probability"]
    if frame["finish_date_P50"].isna().all():
        frame = frame.drop(columns=["finish_date_P50", "finish_date_P80"])
    return frame


def contingency_table(results: Mapping[str, SimulationResult], levels: Sequence[int] = (50, 80)) -> pd.DataFrame:
    """Plan, P-levels and contingency of cost and duration for each run: what a budget reviewer signs.

    One row per (run, quantity), ``quantity`` being ``cost`` (the project's currency) or
    ``duration`` (working days). Columns: ``plan`` (the deterministic, most-likely plan), ``P50``,
    ``P80`` (the ``levels``), ``contingency_P50``, ``contingency_P80`` (P-level minus plan: the reserve
    to hold for that confidence), ``target`` (budget or deadline) and ``target_probability`` (the chance
    of meeting it); for durations with a start date also ``date_P50``, ``date_P80``.

    Examples
    --------
    >>> import pmrisk
    >>> p = pmrisk.Project.from_dict({"project": {"budget": 1000}, "tasks": [
    ...     {"id": "A", "duration": {"dist": "uniform", "min": 8, "max": 12}, "cost": {"per_day": 100}}]})
    >>> t = contingency_table({"bottom-up": pmrisk.simulate(p, 4000, rng=1)})
    >>> float(t.loc[("bottom-up", "cost"), "plan"]), bool(t.loc[("bottom-up", "cost"), "contingency_P80"] > 0)
    (1000.0, True)
    """
    import pandas
    rows = []
    for name, r in results.items():
        p = r.project
        det = r.deterministic
        for quantity, plan, target in (("cost", float(det["cost"]), p.budget),
                                       ("duration", float(det["duration"]), p.deadline)):
            kind = "cost" if quantity == "cost" else "duration"
            row: dict[str, Any] = {"run": name, "quantity": quantity, "plan": plan}
            for lv in levels:
                row[f"P{lv}"] = r.percentile(lv, kind)
            for lv in levels:
                row[f"contingency_P{lv}"] = row[f"P{lv}"] - plan
            row["target"] = math.nan if target is None else float(target)
            row["target_probability"] = (math.nan if target is None else
                                         r.probability(cost=target) if kind == "cost" else
                                         r.probability(duration=target))
            if kind == "duration" and p.start is not None:
                for lv in levels:
                    row[f"date_P{lv}"] = p.finish_date(row[f"P{lv}"])
            rows.append(row)
    return pandas.DataFrame(rows).set_index(["run", "quantity"])
