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


DCMA_SHARE = 0.05            # DCMA: at most 5% of tasks/links may fail checks 1, 3, 5, 6, 8
HIGH_FLOAT_DAYS = 44
CPLI_MIN = 0.95


def _check(cid: int, name: str, threshold: str, value: Any, passed: bool | None, items: list[str],
           advice: str) -> dict[str, Any]:
    return {"id": cid, "name": name, "threshold": threshold, "value": value,
            "result": "n/a" if passed is None else ("pass" if passed else "fail"), "items": items[:50],
            "count": len(items), "advice": advice}


def dcma_checks(project: Project, hard_constraints: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The DCMA 14-point schedule assessment, for the checks that apply without a baseline or status date.

    Each check: ``id`` (DCMA number), ``name``, ``threshold``, ``value`` (the metric), ``result``
    (``pass``/``fail``/``n/a``), ``items`` (offending tasks or links), ``advice``. ``hard_constraints``
    maps task ids to constraint types an importer found (pmrisk's own files only hold the soft
    start-no-earlier-than).
    """
    tasks = [t for t in project.tasks]
    work = [t for t in tasks if not t.milestone]
    links = project.links
    n_t = max(len(tasks), 1)
    det = deterministic_plan(project)
    out = []
    has_succ = {lk.pred for lk in links}
    starts = [t.id for t in tasks if not t.predecessors]
    ends = [t.id for t in tasks if t.id not in has_succ]
    # the one start and the one finish a well-linked network has are not "missing logic"
    first = min(starts, key=lambda i: det["start"][i]) if starts else None
    last = max(ends, key=lambda i: det["finish"][i]) if ends else None
    missing = [t for t in starts if t != first] + [t for t in ends if t != last and t not in starts]
    share = len(missing) / n_t
    out.append(_check(1, "logic (missing predecessors or successors)", "<= 5% of tasks", round(share, 4),
                      share <= DCMA_SHARE, missing, "link every task to a predecessor and a successor"))
    leads = [str(lk) for lk in links if lk.lag < 0]
    out.append(_check(2, "leads (negative lags)", "none", len(leads), not leads, leads,
                      "model an overlap with SS/FF links instead of a negative lag"))
    lags = [str(lk) for lk in links if lk.lag > 0]
    ls = len(lags) / max(len(links), 1)
    out.append(_check(3, "lags", "<= 5% of links", round(ls, 4), ls <= DCMA_SHARE, lags,
                      "a lag is certain waiting time; model it as a task with a range"))
    non_fs = [str(lk) for lk in links if lk.type != "FS"]
    fs = 1 - len(non_fs) / max(len(links), 1)
    out.append(_check(4, "relationship types (finish-to-start)", ">= 90% of links", round(fs, 4),
                      fs >= MIN_FS_SHARE if links else None, non_fs, "prefer finish-to-start links"))
    hard = sorted(f"{t} ({c})" for t, c in (hard_constraints or {}).items())
    hs = len(hard) / n_t
    out.append(_check(5, "hard constraints", "<= 5% of tasks", round(hs, 4), hs <= DCMA_SHARE, hard,
                      "replace hard constraints with logic; pmrisk honours only start-no-earlier-than"))
    tf = det["total_float"]
    high = [t.id for t in work if tf[t.id] > HIGH_FLOAT_DAYS]
    hf = len(high) / max(len(work), 1)
    out.append(_check(6, "high float (> 44 working days)", "<= 5% of tasks", round(hf, 4), hf <= DCMA_SHARE, high,
                      "high float usually means missing successor logic"))
    if project.deadline is not None:
        shift = project.deadline - det["duration"]
        neg = [t.id for t in tasks if tf[t.id] + shift < -1e-9]
        out.append(_check(7, "negative float (against the deadline)", "none", len(neg), not neg, neg,
                          "the most-likely plan misses the deadline along these tasks"))
    else:
        out.append(_check(7, "negative float", "none", None, None, [], "needs a deadline"))
    long = [t.id for t in work if t.duration.mode() > HIGH_DURATION_DAYS]
    hd = len(long) / max(len(work), 1)
    out.append(_check(8, "high duration (> 44 working days)", "<= 5% of tasks", round(hd, 4), hd <= DCMA_SHARE,
                      long, "break long tasks down so their ranges can be judged"))
    out.append(_check(9, "invalid dates", "none", None, None, [], "needs a status date (progress data)"))
    if project.has_costs:
        bare = [t.id for t in work if not t.has_cost]
        out.append(_check(10, "resources (tasks without cost)", "none", len(bare), not bare, bare,
                          "give every task its cost, or the cost forecast leaves it out"))
    else:
        out.append(_check(10, "resources", "none", None, None, [], "the project has no costs"))
    out.append(_check(11, "missed tasks", "<= 5%", None, None, [], "needs a baseline"))
    out.append(_critical_path_test(project, det))
    if project.deadline is not None and det["duration"] > 0:
        cpli = project.deadline / det["duration"]
        out.append(_check(13, "critical path length index (CPLI)", ">= 0.95", round(cpli, 4), cpli >= CPLI_MIN,
                          [], "the deadline leaves too little room for the critical path"))
    else:
        out.append(_check(13, "critical path length index (CPLI)", ">= 0.95", None, None, [], "needs a deadline"))
    out.append(_check(14, "baseline execution index (BEI)", ">= 0.95", None, None, [], "needs a baseline"))
    return out


def _critical_path_test(project: Project, det: dict[str, Any]) -> dict[str, Any]:
    """DCMA check 12: delay a critical task by 600 working days; the finish must move by as much."""
    crit = [t for t in det["critical_path"] if not project.task(t).milestone] or det["critical_path"]
    if not crit:
        return _check(12, "critical path test", "finish moves with a critical delay", None, None, [], "no tasks")
    tid = crit[0]
    import dataclasses

    from pmrisk.distributions import Fixed

    t = project.task(tid)
    delayed = dataclasses.replace(t, duration=Fixed(t.duration.mode() + 600.0), milestone=False)
    moved = dataclasses.replace(project, tasks=tuple(delayed if x.id == tid else x for x in project.tasks))
    shift = deterministic_plan(moved)["duration"] - det["duration"]
    ok = abs(shift - 600.0) < 1e-6
    return _check(12, "critical path test", "finish moves with a critical delay", round(shift, 6), ok,
                  [] if ok else [tid], f"a 600-day delay on {tid} moved the finish by {shift:g} days")


def quality_score(checks: list[dict[str, Any]]) -> float | None:
    """Share of the applicable checks passed, 0-100 (None when none applies)."""
    done = [c for c in checks if c["result"] != "n/a"]
    return round(100 * sum(c["result"] == "pass" for c in done) / len(done), 1) if done else None


def validate_project(project: Project, import_notes: list[str] | None = None,
                     hard_constraints: dict[str, str] | None = None) -> dict[str, Any]:
    """Counts, warnings and the DCMA checks for ``pmrisk validate`` (project-format.md, section 4).

    An imported schedule brings its import notes (``project.notes``) and the hard constraints its
    reader found (``project.imported["hard_constraints"]``, task id -> constraint type) by default.
    """
    if import_notes is None:
        import_notes = list(project.notes)
    if hard_constraints is None:
        hard_constraints = dict((project.imported or {}).get("hard_constraints") or {})
    checks = dcma_checks(project, hard_constraints)
    return {
        "tasks": len(project.tasks),
        "links": len(project.links),
        "milestones": sum(t.milestone for t in project.tasks),
        "risks": len(project.risks),
        "drivers": len(project.drivers),
        "correlations": len(project.risk.correlations),
        "warnings": list(import_notes or []) + schedule_warnings(project),
        "checks": checks,
        "quality_score": quality_score(checks),
    }
