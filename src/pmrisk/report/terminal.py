"""The readable summary ``pmrisk simulate`` prints."""

from __future__ import annotations

import click

from pmrisk.report.fmt import pct as _pct
from pmrisk.results import SimulationResult

LEVELS = (10, 50, 80, 90)


def _money(x: float) -> str:
    return f"{x:,.0f}"


def _days(x: float) -> str:
    return f"{x:,.1f}"




def _table(rows: list[list[str]], header: list[str], text_columns: int = 1) -> list[str]:
    """Columns padded to width: the first ``text_columns`` left-aligned, numbers right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt(r: list[str]) -> str:
        return "  ".join(c.ljust(widths[i]) if i < text_columns else c.rjust(widths[i])
                         for i, c in enumerate(r)).rstrip()

    return [click.style(fmt(header), bold=True)] + [fmt(r) for r in rows]


def format_summary(result: SimulationResult, top: int = 8) -> str:
    """The terminal summary of a simulation: forecast table, targets, contingency, top drivers."""
    s = result.summary()
    p = result.project
    cur = p.currency or ""
    lines: list[str] = []
    lines.append(click.style(f"{p.name}", bold=True) +
                 f"  ({len(p.tasks)} tasks, {result.iterations:,} iterations, seed {result.seed}, "
                 f"{result.elapsed:.2f} s)")
    if p.start is not None:
        lines.append(f"Start {p.start.isoformat()}; calendar {', '.join(p.calendar.workdays)}"
                     + (f", {len(p.calendar.holidays)} holidays" if p.calendar.holidays else ""))
    lines.append("")
    header = ["", "Plan", *[f"P{lv}" for lv in LEVELS], "Mean"]
    det = s["deterministic"]
    rows = [["Duration (working days)", _days(det["duration"]),
             *[_days(s["duration"][f"P{lv}"]) for lv in LEVELS], _days(s["duration"]["mean"])]]
    if p.start is not None:
        rows.append(["Finish date", det["finish_date"], *[s["finish_date"][f"P{lv}"] for lv in LEVELS], ""])
    if p.has_costs:
        rows.append([f"Cost{f' ({cur})' if cur else ''}", _money(det["cost"]),
                     *[_money(s["cost"][f"P{lv}"]) for lv in LEVELS], _money(s["cost"]["mean"])])
    lines += _table(rows, header)
    lines.append("")
    if "calibration" in s:
        c = s["calibration"]
        unc = c["uncalibrated"]
        cls = f", class {', '.join(f'{k} = {v}' for k, v in c['class'].items())}" if c.get("class") else ""
        if c.get("kind") == "model":
            med = c["median_ratio"]
            rng = (f"x{med['min']:.2f}" if abs(med["max"] - med["min"]) < 0.005
                   else f"x{med['min']:.2f} to x{med['max']:.2f}")
            lines.append(click.style("History-calibrated", bold=True) +
                         f" by model {c['model']} ({c.get('model_file') or c['reference']}, on {c.get('dataset')}, "
                         f"{c['n']:,} past {'tasks' if c['n'] != 1 else 'task'}): each of {c['tasks']} task(s) gets "
                         f"its own overrun from its {c.get('estimate_from', 'likely')} duration; median ratio "
                         f"actual/estimate {rng} across tasks.")
        else:
            lines.append(click.style("History-calibrated", bold=True) +
                         f" on {c['reference']}{cls} ({c['n']:,} past plans; one ratio per "
                         f"{'iteration for the whole plan' if c['level'] == 'project' else 'task'}): past plans "
                         f"turned out x{c['ratio']['P50']:.2f} at P50, x{c['ratio']['P80']:.2f} at P80, "
                         f"x{c['ratio']['max']:.2f} at worst.")
        crow = [["Duration, calibrated", *[_days(s["duration"][f"P{lv}"]) for lv in LEVELS]],
                ["Duration, uncalibrated", *[_days(unc["duration"][f"P{lv}"]) for lv in LEVELS]]]
        if p.has_costs:
            crow += [["Cost, calibrated", *[_money(s["cost"][f"P{lv}"]) for lv in LEVELS]],
                     ["Cost, uncalibrated", *[_money(unc["cost"][f"P{lv}"]) for lv in LEVELS]]]
        lines += ["  " + ln for ln in _table(crow, ["", *[f"P{lv}" for lv in LEVELS]])]
        lines.append("")
    if "top_down" in s:
        lines += format_top_down(s["top_down"], cur)
        lines.append("")

    def chance(prob: float) -> str:
        colour = "green" if prob >= 0.8 else ("yellow" if prob >= 0.5 else "red")
        return click.style(f"{_pct(prob)} chance", fg=colour, bold=True)

    if "deadline" in s:
        d = s["deadline"]
        when = f"{d['date']} ({d['target']:g} working days)" if "date" in d else f"{d['target']:g} working days"
        lines.append(f"Deadline {when}: {chance(d['probability'])} of meeting it")
    if "budget" in s:
        b = s["budget"]
        lines.append(f"Budget {_money(b['target'])}{f' {cur}' if cur else ''}: {chance(b['probability'])} "
                     "of staying within it")
    if "joint_probability" in s:
        lines.append(f"Both deadline and budget: {chance(s['joint_probability'])}")
    lines.append(f"The most-likely plan ({_days(det['duration'])} working days) is met in "
                 f"{_pct(det['duration_confidence'])} of iterations.")
    cont = s["contingency"]
    text = f"Contingency to P80 over the plan: {cont['duration']['P80']:+,.1f} working days"
    if p.has_costs:
        text += f", {cont['cost']['P80']:+,.0f}{f' {cur}' if cur else ''}"
    lines.append(text + ".")
    se = s["standard_error"]["duration"]
    lines.append(f"Monte Carlo standard error: P50 +-{se['P50']:.2f}, P80 +-{se['P80']:.2f} working days.")
    if result.risk_ids:
        lines.append("")
        lines.append(click.style("Risks ranked by what each does to P80" + (" (mitigated state)" if result.mitigated
                                                                              else "") + ":", bold=True))
        reg = result.risk_rows()
        reg = reg[:top] if top else reg
        rows = []
        for r in reg:
            rid = r["id"]
            occ = f"{100 * r['occurrence']:.0f}%"
            d80, c80 = r["P80_delay_contribution"], r["P80_cost_contribution"]
            dd = "" if d80 != d80 else f"{d80 + 0.0:+.1f}".replace("-0.0", "0.0")  # NaN without a ranking
            dc = "" if c80 != c80 else _money(c80)
            rows.append([str(int(r["rank"])), str(rid), str(r["title"])[:36], f"{r['probability']:.0%}", occ, dd, dc,
                         _money(r["expected_cost"])])
        header = ["#", "Risk", "Title", "Prob.", "Occurred", "P80 days", "P80 cost", "EMV cost"]
        lines += ["  " + ln for ln in _table(rows, header, text_columns=3)]
    mitigations = [(rid, row["mitigation"]) for rid, row in (result.risk_ranking or {}).items()
                   if row.get("mitigation")]
    if mitigations and not result.mitigated:
        lines.append("")
        lines.append(click.style("Risk responses: what each buys at P80 (same random numbers):", bold=True))
        mitigations.sort(key=lambda x: -x[1]["net_benefit"])
        rows = [[rid, _money(m["response_cost"]), f"{m['P80_duration_reduction']:+.1f}",
                 _money(m["P80_cost_reduction_before_response"]), _money(m["net_benefit"]),
                 "" if m["benefit_cost_ratio"] is None else f"{m['benefit_cost_ratio']:.1f}"]
                for rid, m in mitigations[: top or None]]
        cod = "incl. cost of delay" if p.cost_of_delay_per_day else "cost only"
        lines += ["  " + ln for ln in _table(rows, ["Risk", "Response cost", "P80 days saved", "P80 cost saved",
                                                    f"Net benefit ({cod})", "Benefit/cost"])]
    if result.merge_bias:
        worst = sorted(result.merge_bias.items(), key=lambda kv: -kv[1]["merge_bias"])[:3]
        worst = [(k, v) for k, v in worst if v["merge_bias"] > 0.05]
        if worst:
            lines.append("")
            lines.append("Merge bias (P50 start later than the latest predecessor's P50): " + "; ".join(
                f"{k} {v['merge_bias']:+.1f} d ({v['predecessors']} predecessors)" for k, v in worst))
    if top:
        lines.append("")
        rows = [[str(r["id"]), str(r["name"])[:40], f"{r['sensitivity']:+.2f}", _pct(r["criticality"])]
                for r in result.tornado_rows(top=top)]
        lines.append(click.style("What drives the finish (Spearman sensitivity, criticality index):", bold=True))
        lines += ["  " + ln for ln in _table(rows, ["Task", "Name", "Sensitivity", "Critical"], text_columns=2)]
    return "\n".join(lines)


def format_top_down(td: dict, currency: str = "") -> list[str]:
    """The top-down check's lines: the model's forecast against the bottom-up simulation."""
    kind = td.get("compared_as")
    unit = td.get("unit") or ""
    what = f"{td['quantity']}{f' in {unit}' if unit else ''}"
    if td.get("unit_rate"):
        what += f", costed at {td['unit_rate']:g}{f' {currency}' if currency else ''} per unit"
    lines = [click.style("Top-down check", bold=True) + f": {td['model']} on {td.get('dataset')} ({what})"]
    fmt = _days if kind == "duration" else _money
    label = {"duration": "Duration (working days)", "cost": f"Cost{f' ({currency})' if currency else ''}"}.get(
        str(kind), f"{td['quantity'].capitalize()}{f' ({unit})' if unit else ''}")
    top = td.get("top_down") or td["predicted"]
    rows = [[f"Top-down (model on {td['n']:,} past projects)", *[fmt(top[f'P{lv}']) for lv in LEVELS]]]
    if kind is not None:
        rows.append(["Bottom-up (Monte Carlo)", *[fmt(td["bottom_up"][f"P{lv}"]) for lv in LEVELS]])
        ratio = td["ratio"]
        rows.append(["Bottom-up / top-down", "", *["" if ratio.get(f"P{lv}") is None else f"{ratio[f'P{lv}']:.2f}"
                                                   for lv in (50, 80)], ""])
    lines += ["  " + ln for ln in _table(rows, [label, *[f"P{lv}" for lv in LEVELS]])]
    if td.get("note"):
        lines.append(f"  ({td['note']}.)")
    if td.get("warning"):
        lines.append(click.style(f"  Warning: optimism gap: {td['warning']}", fg="yellow", bold=True))
    return lines


def format_comparison(before: SimulationResult, after: SimulationResult) -> str:
    """Before/after-mitigation table (same seed: common random numbers)."""
    from pmrisk.results import compare

    table = compare({"before": before, "after": after})
    rows = []
    for metric, r in table.iterrows():
        is_prob = "probability" in str(metric)
        is_cost = str(metric).startswith("cost")
        fmt = (lambda v: f"{100 * v:.0f}%") if is_prob else (_money if is_cost else _days)
        diff = r["after"] - r["before"]
        dtext = f"{100 * diff:+.0f} pts" if is_prob else (f"{diff:+,.0f}" if is_cost else f"{diff:+,.1f}")
        rows.append([str(metric), fmt(r["before"]), fmt(r["after"]), dtext])
    head = click.style("Before and after the risk responses (same random numbers):", bold=True)
    return "\n".join([head] + ["  " + ln for ln in _table(rows, ["", "Before", "After", "Change"])])
