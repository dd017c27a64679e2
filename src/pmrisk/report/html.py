"""The self-contained HTML report: one file a budget reviewer can open offline in any browser.

:func:`write_html_report` renders a simulation result through a jinja2 template (autoescaped: every
name and title from the project shows as text, never as markup) with the charts of
:mod:`pmrisk.plots` inlined as SVG. The page loads nothing: no script, no web font, no remote
image or style sheet; its Content-Security-Policy forbids any fetch, so it opens the same with
or without a network.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pmrisk.report.fmt import pct as fmt_pct

if TYPE_CHECKING:  # pragma: no cover
    from pmrisk.results import SimulationResult

__all__ = ["render_html_report", "write_html_report"]

_LEVELS = (10, 50, 80, 90)


# ---- formatting ---------------------------------------------------------------------------------

def fmt_days(x: float | None) -> str:
    """Working days with one decimal and thousands separators (``"1,234.5"``)."""
    return "" if x is None or x != x else f"{x:,.1f}"


def fmt_money(x: float | None) -> str:
    """Money rounded to whole units with thousands separators (``"1,234,568"``)."""
    return "" if x is None or x != x else f"{x:,.0f}"




def _signed_days(x: float) -> str:
    return f"{x + 0.0:+,.1f}"


def _signed_money(x: float) -> str:
    return f"{x + 0.0:+,.0f}"


def _chance_class(p: float) -> str:
    return "good" if p >= 0.8 else ("fair" if p >= 0.5 else "poor")


# ---- charts -------------------------------------------------------------------------------------

_XML_DECL = re.compile(r"<\?xml[^>]*\?>\s*", re.S)
_DOCTYPE = re.compile(r"<!DOCTYPE[^>]*>\s*", re.S | re.I)
_METADATA = re.compile(r"<metadata\b.*?</metadata>\s*", re.S)
_COMMENT = re.compile(r"<!--.*?-->\s*", re.S)


def _inline_svg(svg: str, prefix: str, label: str) -> str:
    """Make matplotlib's SVG fit inline in HTML: no XML prolog, no metadata (with its URLs), no
    namespace URLs (HTML knows SVG), ids made unique across the page, and scalable to the width."""
    svg = _COMMENT.sub("", _METADATA.sub("", _DOCTYPE.sub("", _XML_DECL.sub("", svg)))).strip()
    ids = set(re.findall(r'\bid="([^"]+)"', svg))

    def ref(m: re.Match[str]) -> str:
        return f"{m.group(1)}{prefix}-{m.group(2)}{m.group(3)}" if m.group(2) in ids else m.group(0)

    svg = re.sub(r'(\bid=")([^"]+)(")', ref, svg)
    svg = re.sub(r'(href="#)([^"]+)(")', ref, svg)
    svg = re.sub(r"(url\(#)([^)\s]+)(\))", ref, svg)
    m = re.search(r"<svg\b[^>]*>", svg)
    if m is None:
        raise ValueError("plots.figure_svg returned no <svg> element")
    tag = m.group(0)
    new = re.sub(r'\s(?:width|height|xmlns(?::\w+)?)="[^"]*"', "", tag)
    new = new[:-1].rstrip("/").rstrip() + f' class="chart" role="img" aria-label="{_attr(label)}">'
    if tag.endswith("/>"):
        new = new[:-1] + "/>"
    return svg[: m.start()] + new + svg[m.end():]


def _attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;"))


@dataclasses.dataclass
class _Chart:
    id: str
    title: str
    caption: str
    svg: Any = ""            # markupsafe.Markup once rendered


class _Charts:
    """Render each chart on its own figure, as inline SVG, in a fixed matplotlib style."""

    def __init__(self) -> None:
        self.items: list[_Chart] = []

    def add(self, id: str, title: str, caption: str, draw: Callable[[Any], Any], *,
            size: tuple[float, float] = (8.0, 4.6)) -> None:
        from markupsafe import Markup
        from matplotlib.figure import Figure

        from pmrisk import plots

        fig = Figure(figsize=size, layout="constrained")
        ax = fig.add_subplot()
        out = draw(ax)
        fig = getattr(out, "figure", None) or fig
        for a in fig.axes:      # the page says which project and how many runs; the charts need not
            right = a.get_title(loc="right")
            if right:
                shown = re.search(r"\(([\d,]+ of [\d,]+) iterations shown\)", right)
                a.set_title(f"{shown.group(1)} runs shown" if shown else "", loc="right")
        svg = _inline_svg(plots.figure_svg(fig), f"c{len(self.items) + 1}", title)
        self.items.append(_Chart(id=id, title=title, caption=caption, svg=Markup(svg)))


def _uncalibrated(result: SimulationResult) -> SimulationResult:
    """The same run before history calibration (its per-iteration outcomes), for side-by-side charts."""
    cal = result.calibration or {}
    return dataclasses.replace(result, durations=cal["uncalibrated_durations"], costs=cal["uncalibrated_costs"],
                               calibration=None, _sorted={})


def _bars(n: int) -> tuple[float, float]:
    """Figure size of a bar chart with ``n`` labelled bars: tall enough that labels never crowd."""
    return (8.0, max(3.2, 1.5 + 0.4 * n))


def _charts(result: SimulationResult, before: SimulationResult | None) -> list[_Chart]:
    from pmrisk import plots

    p = result.project
    has_costs = p.has_costs
    dated = p.start is not None
    c = _Charts()
    when = "date" if dated else "number of working days"
    c.add("s-curve-duration", "When will it finish? (S-curve)",
          f"Each point on the curve answers: what is the chance of finishing by this {when}? Read across from "
          "50% (P50, as likely to be late as early) or 80% (P80, the usual commitment level) to the curve and "
          "down to the axis. The plan's own finish, the deadline and the contingency between plan and P80 are "
          "marked. A steep curve means a predictable finish; a long flat tail means a real chance of a much "
          "later one.",
          lambda ax: plots.s_curve(result, kind="duration", ax=ax, dates=dated or None))
    if has_costs:
        c.add("s-curve-cost", "What will it cost? (S-curve)",
              "The same reading for cost: the chance that the total cost stays at or below each amount. The "
              "plan's cost, the budget and the P50/P80 levels are marked; the gap between the plan and P80 is the "
              "cost contingency an 80%-confident budget needs.",
              lambda ax: plots.s_curve(result, kind="cost", ax=ax))
    c.add("histogram", "How the simulated finishes spread (histogram)",
          "Each bar counts the simulated runs that finished in that range of working days. A tall, narrow "
          "shape means little uncertainty; a long tail to the right shows the bad cases that risks and long "
          "estimates produce.",
          lambda ax: plots.histogram(result, kind="duration", ax=ax))
    c.add("tornado", "Which tasks drive the finish date (tornado)",
          "Tasks ordered by how strongly their duration moves the project's finish (Spearman rank correlation, "
          "from -1 to +1). A long bar means that when this task runs long, the project usually finishes late: "
          "these are the estimates worth firming up and the work worth watching. Short bars barely matter.",
          lambda ax: plots.tornado(result, top=10, ax=ax), size=_bars(min(10, len(result.task_ids))))
    if result.risk_ids and result.risk_ranking:          # not with --no-ranking
        c.add("risk-ranking", "Which risks matter most (risk ranking)",
              "Each bar is how many working days the project's P80 finish would move earlier if that risk alone "
              "were removed (same random numbers in both runs, so the difference is the risk's, not chance). "
              "Start responses with the longest bars; a bar to the left is an opportunity that helps.",
              lambda ax: plots.risk_tornado(result, metric="P80_delay_contribution", top=10, ax=ax),
              size=_bars(min(10, len(result.risk_ids))))
        if has_costs:
            c.add("risk-ranking-cost", "Which risks cost most (risk ranking by cost)",
                  "The same ranking in money: how much the P80 cost would drop without each risk.",
                  lambda ax: plots.risk_tornado(result, metric="P80_cost_contribution", top=10, ax=ax),
                  size=_bars(min(10, len(result.risk_ids))))
    c.add("criticality", "How often each task is on the critical path (criticality)",
          "The share of simulated runs in which the task had no slack, so any slip in it delayed the finish. "
          "100% means it is always critical; tasks the plan shows as critical may rarely be, and tasks with "
          "float on paper may often become critical.",
          lambda ax: plots.criticality(result, top=15, ax=ax), size=_bars(min(15, len(result.task_ids))))
    if has_costs:
        c.add("jcl", "Finish date and cost together (joint confidence)",
              "Each dot is one simulated run: its finish across, its cost up. Dots in the lower-left box, inside "
              "both the deadline and the budget, are the runs that succeed on both; their share is the joint "
              "confidence level. Dots usually lean up and to the right: late projects also cost more.",
              lambda ax: plots.jcl_scatter(result, ax=ax))
    if p.risks:
        c.add("risk-matrix", "The register on the probability-impact matrix",
              "Each risk sits in the cell of its probability band (up) and impact band (across): green is low, "
              "amber medium, red high. This is the qualitative view risk owners know; the risk ranking above is "
              "the quantitative one and can order risks differently.",
              lambda ax: plots.risk_matrix(result, ax=ax, mitigated=result.mitigated), size=(8.0, 5.6))
    if any(v.get("merge_bias", 0) > 0.05 for v in result.merge_bias.values()):
        c.add("merge-bias", "Where parallel work converges (merge bias)",
              "Where several paths join, the task can only start when the last of them is done, so it "
              "typically starts later than any single path suggests. Each bar is that extra delay in working "
              "days (median start against the latest predecessor's median finish).",
              lambda ax: plots.merge_bias(result, top=10, ax=ax),
              size=_bars(min(10, sum(v.get("merge_bias", 0) > 0.05 for v in result.merge_bias.values()))))
    def pair(cid: str, title: str, caption: str, cost_title: str, cost_caption: str,
             curves: dict[str, SimulationResult]) -> None:
        """Overlaid S-curves of duration, and of cost when the project has costs."""
        c.add(cid, title, caption, lambda ax: plots.compare_s_curves(curves, "duration", ax=ax))
        if has_costs:
            c.add(f"{cid}-cost", cost_title, cost_caption, lambda ax: plots.compare_s_curves(curves, "cost", ax=ax))

    if before is not None:
        pair("mitigation", "Before and after the risk responses",
             "The finish-date S-curve with the risks in their current state and after the planned responses "
             "(same random numbers). The horizontal gap between the curves at 80% is what the responses buy at P80.",
             "Cost before and after the risk responses",
             "The cost S-curves before and after the responses; the after curve includes what the responses "
             "themselves cost.", {"Before the responses": before, "After the responses": result})
    if result.calibration is not None and "uncalibrated_durations" in result.calibration:
        pair("calibration", "The plan against past projects (history calibration)",
             "The team's own estimates (uncalibrated) against the forecast once each run is scaled by how "
             "comparable past plans actually turned out. If the calibrated curve sits far to the right, past "
             "projects like this one overran their plans, and the estimates here probably will too.",
             "Cost against past projects", "The same comparison for cost.",
             {"Own estimates": _uncalibrated(result), "Calibrated on history": result})
    return c.items


# ---- the page's data --------------------------------------------------------------------------

def sha256_of(path: str | os.PathLike[str]) -> str:
    """SHA-256 checksum (hex) of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _when(result: SimulationResult, days: float) -> str:
    d = result.project.finish_date(days)
    return d.isoformat() if d is not None else f"day {fmt_days(days)}"


def _headline(result: SimulationResult, s: Mapping[str, Any]) -> dict[str, Any]:
    p = result.project
    cur = p.currency or ""
    det = s["deterministic"]
    dated = "finish_date" in s
    h: dict[str, Any] = {"dated": dated, "currency": cur, "has_costs": p.has_costs}
    h["finish"] = {lv: (s["finish_date"][f"P{lv}"] if dated else fmt_days(s["duration"][f"P{lv}"]))
                   for lv in (50, 80, 90)}
    h["duration"] = {lv: fmt_days(s["duration"][f"P{lv}"]) for lv in (10, 50, 80, 90)}
    h["plan_finish"] = det.get("finish_date") if dated else fmt_days(det["duration"])
    h["plan_duration"] = fmt_days(det["duration"])
    h["cost"] = {lv: fmt_money(s["cost"][f"P{lv}"]) for lv in (10, 50, 80, 90)}
    h["plan_cost"] = fmt_money(det["cost"])
    h["duration_confidence"] = fmt_pct(det["duration_confidence"])
    h["cost_confidence"] = fmt_pct(det["cost_confidence"])
    cont = s["contingency"]
    h["contingency_days"] = _signed_days(cont["duration"]["P80"])
    h["contingency_cost"] = _signed_money(cont["cost"]["P80"])
    h["contingency_cost_pct"] = (fmt_pct(cont["cost"]["P80"] / det["cost"]) if det["cost"] else "")
    chances = []
    if "deadline" in s:
        d = s["deadline"]
        target = d.get("date") or f"{d['target']:g} working days"
        chances.append({"label": "Chance of meeting the deadline", "value": fmt_pct(d["probability"]),
                        "cls": _chance_class(d["probability"]), "note": f"deadline {target}", "key": "deadline"})
    if "budget" in s:
        b = s["budget"]
        chances.append({"label": "Chance of staying within budget", "value": fmt_pct(b["probability"]),
                        "cls": _chance_class(b["probability"]),
                        "note": f"budget {fmt_money(b['target'])}{' ' + cur if cur else ''}", "key": "budget"})
    if "joint_probability" in s:
        chances.append({"label": "Chance of meeting both", "value": fmt_pct(s["joint_probability"]),
                        "cls": _chance_class(s["joint_probability"]), "note": "deadline and budget together",
                        "key": "joint"})
    h["chances"] = chances
    h["plan_finish_cls"] = _chance_class(det["duration_confidence"])
    h["plan_only"] = "only " if det["duration_confidence"] < 0.5 else ""
    h["plan_cost_only"] = "only " if det["cost_confidence"] < 0.5 else ""
    h["plan_cost_cls"] = _chance_class(det["cost_confidence"])
    se = s["standard_error"]["duration"]["P80"]
    h["se_p80"] = f"{se:.2f}"
    return h


def _story(result: SimulationResult, s: Mapping[str, Any], h: Mapping[str, Any]) -> list[str]:
    """The forecast in a few plain sentences (text only; the template escapes it)."""
    p = result.project
    cur = f" {p.currency}" if p.currency else ""
    unit = "" if h["dated"] else " working days"
    lines = [f"pmrisk played this project out {result.iterations:,} times. Each time, every task took a duration "
             "drawn from its estimated range, and each risk happened or not with its probability"
             + (", as it stands after its planned response." if result.mitigated else ".")]
    lines.append(f"Half of those runs finish by {h['finish'][50]}{unit} (P50) and 80% by {h['finish'][80]}{unit} "
                 f"(P80). The plan, with every estimate at its most likely value, finishes on "
                 f"{h['plan_finish']}{unit}: {h['duration_confidence']} of the runs finish that early.")
    if p.has_costs:
        lines.append(f"Half of the runs cost at most {h['cost'][50]}{cur} and 80% at most {h['cost'][80]}{cur}, "
                     f"against {h['plan_cost']}{cur} in the plan.")
    parts = []
    if "deadline" in s:
        parts.append(f"meets the deadline in {fmt_pct(s['deadline']['probability'])} of the runs")
    if "budget" in s:
        parts.append(f"stays within budget in {fmt_pct(s['budget']['probability'])}")
    if "joint_probability" in s:
        parts.append(f"does both in {fmt_pct(s['joint_probability'])}")
    if parts:
        lines.append("The project " + ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] + ".")
    text = f"To be 80% confident, allow {h['contingency_days']} working days"
    if p.has_costs:
        text += f" and {h['contingency_cost']}{cur}"
    lines.append(text + " over the plan (the contingency to P80).")
    return lines


def _tasks(result: SimulationResult) -> list[dict[str, Any]]:
    frame = result.to_frame()
    p = result.project
    rows = []
    for tid, r in frame.iterrows():
        rows.append({
            "id": str(tid), "name": str(r["name"]), "milestone": bool(r["milestone"]),
            "likely": fmt_days(float(r["duration_likely"])), "mean": fmt_days(float(r["duration_mean"])),
            "plan_finish": _when(result, float(r["planned_finish"])) if p.start is not None
            else fmt_days(float(r["planned_finish"])),
            "p50": _when(result, float(r["finish_P50"])) if p.start is not None else fmt_days(float(r["finish_P50"])),
            "p80": _when(result, float(r["finish_P80"])) if p.start is not None else fmt_days(float(r["finish_P80"])),
            "criticality": fmt_pct(float(r["criticality"])), "crit_value": float(r["criticality"]),
            "sensitivity": _signed(float(r["sensitivity"]), 2), "sens_value": float(r["sensitivity"]),
            "on_path": bool(r["on_planned_critical_path"]),
        })
    return rows


def _num(x: float) -> str:
    """A number as people write it: no trailing zeros, thousands separators from 1,000 on."""
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.2f}".rstrip("0").rstrip(".") if x != round(x) else f"{x:.0f}"


def _factor(x: float) -> str:
    """A duration factor as a change: 1.2 -> ``+20%``, 0.6 -> ``-40%``."""
    return f"{100 * (x - 1) + 0.0:+.0f}%"


def _describe(dist: Any, *, factor: bool = False) -> str:
    """A distribution in a few characters: ``5 / 10 / 25`` (min / likely / max), ``5 to 25``,
    ``5 or 10``, or its P10 to P90 range; a duration factor as percentage changes."""
    from pmrisk import distributions as d

    f = _factor if factor else _num
    if dist is None:
        return ""
    if isinstance(dist, d.Fixed):
        return f(dist.mode())
    if isinstance(dist, d.Triangular | d.Pert):
        lo, hi = dist.support()
        return " / ".join(f(v) for v in (lo, dist.mode(), hi))
    if isinstance(dist, d.Uniform):
        lo, hi = dist.support()
        return f"{f(lo)} to {f(hi)}"
    if isinstance(dist, d.Discrete):
        values = [float(v) for v in getattr(dist, "values", ())]
        if 0 < len(values) <= 4:
            return " or ".join(f(v) for v in values)
    lo, hi = (float(v) for v in dist.ppf([0.1, 0.9]))
    return f"{f(lo)} to {f(hi)} (P10 to P90)"


def _signed(x: float, digits: int = 1) -> str:
    return f"{round(x, digits) + 0.0:+,.{digits}f}"


def _risks(result: SimulationResult) -> list[dict[str, Any]]:
    from pmrisk.risk.register import register_rows

    by_id = {r.id: r for r in result.project.risks}
    simulated = {str(r["id"]): r for r in result.risk_rows()}     # the state simulated (after responses or not)
    out = []
    for r in register_rows(result.project, result):
        def num(key: str, f: Callable[[float], str], r: Mapping[str, Any] = r) -> str:
            v = r.get(key)
            return "" if v is None or v != v else f(float(v))

        risk = by_id.get(str(r.get("id")))
        impacts: list[str] = []
        if risk is not None:
            state = risk.mitigated_state() if result.mitigated else risk.state
            if state.delay is not None:
                impacts.append(f"delay {_describe(state.delay)} days")
            if state.impact is not None:
                impacts.append(f"duration {_describe(state.impact, factor=True)}")
            if state.cost is not None:
                impacts.append(f"cost {_describe(state.cost)}")
        sim = simulated.get(str(r.get("id")), {})
        prob = sim.get("probability", r.get("probability"))
        residual = result.mitigated and r.get("residual_rating") is not None
        rating, score = ((r.get("residual_rating"), r.get("residual_score")) if residual
                         else (r.get("rating"), r.get("score")))
        out.append({
            "rank": r.get("rank"), "id": str(r.get("id")), "title": str(r.get("title") or ""),
            "owner": str(r.get("owner") or ""), "category": str(r.get("category") or ""),
            "tasks": str(r.get("tasks") or ""), "impacts": impacts,
            "probability": fmt_pct(float(prob)) if prob is not None else "",
            "occurrence": num("occurrence", fmt_pct),
            "rating": str(rating or ""), "score": score,
            "delay80": num("P80_delay_contribution", _signed),
            "cost80": num("P80_cost_contribution", lambda x: _signed(x, 0)),
            "emv": num("expected_cost", fmt_money),
            "response": str(r.get("response") or ""), "action": str(r.get("response_action") or ""),
            "net_benefit": num("mitigation_net_benefit", fmt_money),
        })
    return out


def _calibration(result: SimulationResult, s: Mapping[str, Any]) -> dict[str, Any] | None:
    cal = s.get("calibration")
    if not cal:
        return None
    unc = cal["uncalibrated"]
    rows = [{"label": "Finish (working days), own estimates", "values": [fmt_days(unc["duration"][f"P{lv}"])
                                                                         for lv in _LEVELS]},
            {"label": "Finish (working days), calibrated", "values": [fmt_days(s["duration"][f"P{lv}"])
                                                                      for lv in _LEVELS]}]
    if result.project.has_costs:
        rows += [{"label": "Cost, own estimates", "values": [fmt_money(unc["cost"][f"P{lv}"]) for lv in _LEVELS]},
                 {"label": "Cost, calibrated", "values": [fmt_money(s["cost"][f"P{lv}"]) for lv in _LEVELS]}]
    ratio = cal.get("ratio") or {}
    return {"reference": str(cal.get("reference") or ""), "n": cal.get("n"), "level": cal.get("level"),
            "ratio_p50": f"x{ratio['P50']:.2f}" if "P50" in ratio else "",
            "ratio_p80": f"x{ratio['P80']:.2f}" if "P80" in ratio else "", "rows": rows}


def _top_down(s: Mapping[str, Any]) -> dict[str, Any] | None:
    """The top-down check beside the bottom-up forecast (``summary()["top_down"]``), as table rows."""
    td = s.get("top_down")
    if not td or not (td.get("top_down") or td.get("predicted")):
        return None
    kind = td.get("compared_as")
    fmt = fmt_days if kind == "duration" else fmt_money        # effort without a rate: a plain number too

    def row(label: str, values: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"label": label, "values": [fmt(values[f"P{lv}"]) if values and f"P{lv}" in values else ""
                                           for lv in _LEVELS]}

    rows = [row(f"Top-down: {td.get('model', 'model')} on {td.get('n', '?')} past projects",
                td.get("top_down") or td.get("predicted"))]
    if td.get("bottom_up"):
        rows.append(row("Bottom-up (this simulation)", td["bottom_up"]))
    ratio = td.get("ratio") or {}
    return {"rows": rows, "quantity": td.get("quantity") or kind or "", "unit": td.get("compared_unit") or
            td.get("unit") or "", "dataset": str(td.get("dataset") or ""),
            "ratio": ", ".join(f"{k} x{v:.2f}" for k, v in ratio.items() if v is not None),
            "warning": td.get("warning") or "", "note": td.get("note") or ""}


def _comparison(before: SimulationResult, result: SimulationResult) -> list[dict[str, str]]:
    b, a = before.summary(), result.summary()
    rows = []
    for lv in (50, 80):
        rows.append({"label": f"Finish P{lv} (working days)", "before": fmt_days(b["duration"][f"P{lv}"]),
                     "after": fmt_days(a["duration"][f"P{lv}"]),
                     "change": _signed_days(a["duration"][f"P{lv}"] - b["duration"][f"P{lv}"])})
        if "finish_date" in a:
            rows.append({"label": f"Finish date P{lv}", "before": b["finish_date"][f"P{lv}"],
                         "after": a["finish_date"][f"P{lv}"], "change": ""})
    if result.project.has_costs:
        for lv in (50, 80):
            rows.append({"label": f"Cost P{lv}", "before": fmt_money(b["cost"][f"P{lv}"]),
                         "after": fmt_money(a["cost"][f"P{lv}"]),
                         "change": _signed_money(a["cost"][f"P{lv}"] - b["cost"][f"P{lv}"])})
    for key, label in (("deadline", "Chance of meeting the deadline"), ("budget", "Chance of staying within budget")):
        if key in a and key in b:
            rows.append({"label": label, "before": fmt_pct(b[key]["probability"]),
                         "after": fmt_pct(a[key]["probability"]), "change": ""})
    if "joint_probability" in a and "joint_probability" in b:
        rows.append({"label": "Chance of meeting both", "before": fmt_pct(b["joint_probability"]),
                     "after": fmt_pct(a["joint_probability"]), "change": ""})
    return rows


def input_facts(source: Path) -> list[tuple[str, str]]:
    """The input file's name and SHA-256 (or why there is none), for the report and the workbook."""
    try:
        digest = sha256_of(source)
    except OSError as exc:
        digest = f"not available ({exc.strerror})"
    return [("Input file", source.name), ("Input file SHA-256", digest)]


def _assumptions(result: SimulationResult, s: Mapping[str, Any], source: Path | None,
                 generated: dt.datetime) -> list[tuple[str, str]]:
    p = result.project
    facts = input_facts(source) if source is not None else [("Input file", "none (project built in Python)")]
    facts += [("Iterations", f"{result.iterations:,}"), ("Random seed", str(result.seed)),
              ("pmrisk version", str(s["pmrisk_version"])),
              ("Engine", f"{result.engine}" + (f", {result.workers} workers" if result.workers > 1 else "")),
              ("Report generated", generated.strftime("%Y-%m-%d %H:%M"))]
    if p.start is not None:
        cal = p.calendar
        facts.append(("Project start", p.start.isoformat()))
        facts.append(("Working calendar", ", ".join(cal.workdays)
                      + (f"; {len(cal.holidays)} holidays" if cal.holidays else "; no holidays")))
    else:
        facts.append(("Project start", "not set: results are in working days from the start"))
    facts.append(("Units", "durations in working days" + (f"; costs in {p.currency}" if p.currency else "")))
    model = p.risk
    facts.append(("Model", f"{len(p.tasks)} tasks, {len(p.links)} links, {len(model.risks)} risks, "
                           f"{len(model.drivers)} risk drivers, {len(model.correlations)} correlations"))
    facts.append(("Risks simulated", "after their planned responses (mitigated)" if result.mitigated
                  else "in their current state (before responses)"))
    cal_info = s.get("calibration")
    facts.append(("History calibration", f"{cal_info.get('reference')} ({cal_info.get('n')} past plans, "
                                         f"level {cal_info.get('level')})" if cal_info else "none"))
    if "correlation_repair" in s:
        facts.append(("Correlations", f"{len(s['correlation_repair'])} adjusted to a consistent matrix"))
    se = s["standard_error"]["duration"]
    facts.append(("Monte Carlo precision", f"standard error of P50 {se['P50']:.2f}, of P80 {se['P80']:.2f} "
                                           "working days (more iterations make it smaller)"))
    return facts


# ---- rendering ----------------------------------------------------------------------------------

def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("pmrisk.report", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


def render_html_report(result: SimulationResult, *, before: SimulationResult | None = None,
                       source_path: str | os.PathLike[str] | None = None,
                       generated: dt.datetime | None = None) -> str:
    """The report as one HTML string (see :func:`write_html_report`)."""
    s = result.summary()
    src = Path(source_path) if source_path is not None else (
        Path(result.project.source) if result.project.source and Path(result.project.source).is_file() else None)
    when = generated or dt.datetime.now().astimezone()
    h = _headline(result, s)
    charts = _charts(result, before)
    ctx = {
        "project": result.project, "s": s, "h": h, "story": _story(result, s, h), "charts": charts,
        "tasks": _tasks(result), "risks": _risks(result), "calibration": _calibration(result, s),
        "top_down": _top_down(s),
        "comparison": _comparison(before, result) if before is not None else None,
        "assumptions": _assumptions(result, s, src, when), "critical_path": s["deterministic"]["critical_path"],
        "generated": when.strftime("%Y-%m-%d"), "mitigated": result.mitigated,
        "levels": [f"P{lv}" for lv in _LEVELS],
    }
    return str(_environment().get_template("report.html.j2").render(**ctx))


def write_html_report(result: SimulationResult, path: str | os.PathLike[str], *,
                      before: SimulationResult | None = None,
                      source_path: str | os.PathLike[str] | None = None) -> Path:
    """Write a self-contained HTML report of a simulation for a budget or steering review.

    One file, readable offline in any browser: headline numbers (P50/P80 finish and cost, chances
    of meeting the deadline and budget, the contingency to P80, the plan's own confidence), the
    charts with a plain-language caption each, the task table, the ranked risk register and the
    assumptions (iterations, seed, version, input file and its SHA-256 checksum).

    Parameters
    ----------
    result
        A simulation (:func:`pmrisk.simulate`).
    path
        The ``.html`` file to write (through a temporary file, then moved into place).
    before
        The same project simulated before its risk responses (same seed), to show what the
        responses buy; pass it with a ``mitigated=True`` result.
    source_path
        The input file, for its name and checksum (default: the project's source file).

    Examples
    --------
    >>> import pathlib, tempfile, pmrisk
    >>> p = pmrisk.Project.from_dict({"project": {"name": "<b>Demo</b>"}, "tasks": [
    ...     {"id": "A", "duration": {"dist": "triangular", "min": 2, "likely": 3, "max": 6}}]})
    >>> f = write_html_report(pmrisk.simulate(p, iterations=500, rng=1), pathlib.Path(tempfile.mkdtemp()) / "r.html")
    >>> text = f.read_text(encoding="utf-8")
    >>> "&lt;b&gt;Demo&lt;/b&gt;" in text, "<b>Demo</b>" in text, "<script" in text
    (True, False, False)
    """
    from pmrisk.risk.register import _atomic_write

    text = render_html_report(result, before=before, source_path=source_path)

    def write(tmp: str) -> None:
        Path(tmp).write_text(text, encoding="utf-8")
        shareable(tmp)

    return _atomic_write(path, write)


def shareable(path: str) -> None:
    """Give a file written through a private temporary file the usual permissions (umask applied)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)
