"""Schedule health checks: what ``pmrisk validate`` reports (and what a risk analyst looks at first).

A risk result is only as good as the schedule under it: open ends, leads, long lags and missing
estimate ranges make Monte Carlo output misleading. These checks follow the spirit of the DCMA
14-point assessment where it applies without a baseline; they warn, they do not refuse.
"""

from __future__ import annotations

from typing import Any

from pmrisk.engine.simulate import deterministic_plan
from pmrisk.project import Project

HIGH_DURATION_DAYS = 44       # DCMA: activities longer than two months are hard to estimate
MIN_FS_SHARE = 0.90           # DCMA: at least 90% of links finish-to-start
MERGE_HOT_SPOT = 3            # predecessors at which merge bias becomes noticeable


def _ids(ids: list[str], limit: int = 8) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def schedule_warnings(project: Project) -> list[str]:
    """Warnings on the schedule's health, most serious first."""
    warnings: list[str] = []
    tasks = project.tasks
    links = project.links
    has_succ = {lk.pred for lk in links}
    no_pred = [t.id for t in tasks if not t.predecessors]
    no_succ = [t.id for t in tasks if t.id not in has_succ]
    if len(tasks) > 1 and len(no_pred) > 1:
        warnings.append(f"open start: {len(no_pred)} tasks have no predecessor ({_ids(no_pred)}); a well-linked "
                        "schedule has one start. Link them to a start milestone or to the work they follow.")
    if len(tasks) > 1 and len(no_succ) > 1:
        warnings.append(f"open end: {len(no_succ)} tasks have no successor ({_ids(no_succ)}); their delays "
                        "cannot push the finish through logic. Link them to the finish milestone.")
    leads = [str(lk) for lk in links if lk.lag < 0]
    if leads:
        warnings.append(f"leads (negative lags) on {len(leads)} link(s): {_ids(leads, 5)}. DCMA advises none; "
                        "model the overlap with an SS or FF link instead.")
    lags = [str(lk) for lk in links if lk.lag > 0]
    if links and len(lags) / len(links) > 0.05:
        warnings.append(f"lags on {len(lags)} of {len(links)} links ({len(lags) / len(links):.0%}; DCMA advises "
                        f"at most 5%): {_ids(lags, 5)}. A lag is certain time; model waiting as a task with a range.")
    if links:
        fs = sum(lk.type == "FS" for lk in links)
        if fs / len(links) < MIN_FS_SHARE:
            warnings.append(f"relationship types: {fs} of {len(links)} links are finish-to-start "
                            f"({fs / len(links):.0%}; DCMA advises at least 90%).")
    sf = [str(lk) for lk in links if lk.type == "SF"]
    if sf:
        warnings.append(f"start-to-finish links are rarely right: {_ids(sf, 5)}.")
    start_linked = {lk.pred for lk in links if lk.type in ("SS", "SF")}
    reverse = [t.id for t in tasks if t.id in start_linked and not t.duration.is_fixed
               and any(lk.type in ("FF", "SF") for lk in t.predecessors)]
    if reverse:
        warnings.append(f"reverse logic: {_ids(reverse)} finish-linked to a predecessor (FF/SF) and start-linked "
                        "to a successor (SS/SF): when the FF link drives, a longer task starts earlier and so "
                        "do its successors, so it can show a negative sensitivity. Check that this is intended.")
    fixed = [t.id for t in tasks if not t.milestone and t.duration.is_fixed]
    if fixed:
        warnings.append(f"no estimate range on {len(fixed)} task(s) ({_ids(fixed)}): their durations are "
                        "certain in the simulation. Give min/likely/max if they are not.")
    long = [t.id for t in tasks if not t.milestone and t.duration.mode() > HIGH_DURATION_DAYS]
    if long:
        warnings.append(f"high duration: {len(long)} task(s) last more than {HIGH_DURATION_DAYS} working days "
                        f"({_ids(long)}); break them down so their ranges can be judged.")
    negative = []
    for t in tasks:
        if t.duration.kind == "normal" and t.duration.support()[0] < 0:
            share = float(t.duration.cdf(0.0))
            if share > 1e-4:
                negative.append(f"{t.id} ({share:.2%})")
    if negative:
        warnings.append(f"normal durations below zero are cut to zero: {_ids(negative)}; give them min: 0 or use "
                        "a lognormal.")
    merges = [f"{t.id} ({len(t.predecessors)})" for t in tasks if len(t.predecessors) >= MERGE_HOT_SPOT]
    if merges:
        warnings.append(f"merge hot spots (>= {MERGE_HOT_SPOT} predecessors; merge bias delays them beyond any "
                        f"single path): {_ids(merges)}.")
    snet = [t.id for t in tasks if t.start_no_earlier_than]
    if snet:
        warnings.append(f"start-no-earlier-than constraints on {len(snet)} task(s) ({_ids(snet)}): they hold "
                        "tasks back whatever the logic says.")
    det = deterministic_plan(project)
    if project.deadline is not None and det["duration"] > project.deadline + 1e-9:
        warnings.append(f"the most-likely plan itself ({det['duration']:g} working days) misses the deadline "
                        f"({project.deadline:g} working days).")
    if project.budget is not None and det["cost"] > project.budget * (1 + 1e-12):
        warnings.append(f"the most-likely plan itself ({det['cost']:,.0f}) exceeds the budget "
                        f"({project.budget:,.0f}).")
    return warnings


def validate_project(project: Project) -> dict[str, Any]:
    """Counts and warnings for ``pmrisk validate`` (project-format.md, section 4)."""
    return {
        "tasks": len(project.tasks),
        "links": len(project.links),
        "milestones": sum(t.milestone for t in project.tasks),
        "risks": len(project.risks),
        "drivers": len(project.drivers),
        "correlations": len(project.risk.correlations),
        "warnings": schedule_warnings(project),
    }
