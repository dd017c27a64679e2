"""Forecast versus actual: pmrisk's forecasts of the shared DSLIB real projects against what happened.

Every DSLIB workbook in ``../shared/datasets/dslib-real-projects/projects`` (or under
``$PMRISK_DATA_HOME``) is imported with :func:`pmrisk.io.dslib.read_dslib`. A project is
forecast when its Risk Analysis sheet gives duration ranges, its imported baseline reproduces the
workbook's planned duration, and its last tracking period has the project complete. Its baseline is
then simulated twice with the same seed:

* **plain**: the workbook's own triangular activity durations;
* **calibrated**: the same, multiplied by a ratio drawn each iteration from the actual/planned
  ratios of the *other* DSLIB projects (``calibrate={"reference": <overview without this project>,
  "level": "project"}``: the overview CSV minus this project's row, so the check is out of sample),
  once with the duration ratios (for the duration forecast) and once with the cost ratios and
  ``scale_fixed_costs`` (for the cost forecast).

For each project and forecast the report gives the actual's percentile rank among the simulated
iterations (its PIT: the share of iterations below the actual, ties counted half), and across
projects the mean PIT (0.5 when calibrated), the share of actuals inside the P10-P90 band (80%
when calibrated), the share at or below P50/P80/P90, and a PIT histogram. The actual duration is
the project's actual finish in working days from its *planned* start (what the forecast, which
starts at day 0, predicts); the actual cost is the last tracking period's actual cost.

Usage::

    PYTHONPATH=src python benchmarks/forecast_vs_actual.py            # 10,000 iterations, writes docs/
    PYTHONPATH=src python benchmarks/forecast_vs_actual.py --quick    # 1,000 iterations, prints only

The Markdown goes to stdout (and to ``docs/forecast-vs-actual.md`` with the plot
``docs/img/forecast-vs-actual.svg``, unless ``--quick`` without ``--out``); progress to stderr.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import re
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import pmrisk
from pmrisk.errors import PmriskError, PmriskWarning
from pmrisk.history.datasets import _sha256, data_home
from pmrisk.io.dslib import PLAN_TOLERANCE_DAYS, read_dslib
from pmrisk.project import Project

SEED = 20240611
FOLDER = "dslib-real-projects"
LEVELS = (50, 80, 90)
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Outcome:
    """One project's forecasts and actuals."""

    code: str
    name: str
    sector: str
    tasks: int
    planned: float
    budget: float | None
    actual_finish: float
    actual_cost: float
    pit: dict[str, float] = field(default_factory=dict)          # "duration/plain" -> PIT
    quantiles: dict[str, dict[int, float]] = field(default_factory=dict)


def pit(samples: np.ndarray, actual: float) -> float:
    """The actual's percentile rank among the samples: share below it, ties counted half."""
    s = np.asarray(samples, dtype=float)
    return float((np.sum(s < actual) + 0.5 * np.sum(s == actual)) / s.size)


def verified_workbooks(folder: Path) -> tuple[list[Path], list[str]]:
    """The workbooks whose sha256 matches PROVENANCE.md (a changed file is left out, and said)."""
    expected: dict[str, str] = {}
    prov = folder / "PROVENANCE.md"
    if prov.is_file():
        table = re.finditer(r"^\| `(projects/[^`]+\.xlsx)` \|.*\| `([0-9a-f]{64})` \|$", prov.read_text("utf-8"), re.M)
        expected = {m.group(1): m.group(2) for m in table}
    ok, problems = [], []
    for path in sorted((folder / "projects").glob("*.xlsx")):
        want = expected.get(f"projects/{path.name}")
        if want is not None and _sha256(path) != want:
            problems.append(f"{path.name}: sha256 differs from PROVENANCE.md (left out)")
            continue
        ok.append(path)
    return ok, problems


def overview_rows(folder: Path) -> tuple[list[str], list[dict[str, str]]]:
    with (folder / "dslib_overview.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def reference_without(code: str, header: list[str], rows: list[dict[str, str]], tmp: Path) -> Path:
    """The overview as a CSV file without the project ``code`` (its own row must not calibrate it)."""
    path = tmp / f"overview-without-{code}.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(r for r in rows if r["code"] != code)
    return path


def forecast(paths: list[Path], iterations: int, log: Any) -> tuple[list[Outcome], list[tuple[str, str]], dict]:
    folder = paths[0].parents[1] if paths else Path()
    header, rows = overview_rows(folder)
    sector = {r["code"]: r["sector"] for r in rows}
    outcomes: list[Outcome] = []
    skipped: list[tuple[str, str]] = []
    counts = {"workbooks": len(paths), "imported": 0, "with_risk": 0, "plan_reproduced": 0}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for k, path in enumerate(paths, 1):
            code = path.name[:8]
            t0 = time.perf_counter()
            try:
                imp = read_dslib(path)
            except PmriskError as exc:
                why = str(exc).replace(f" ({path})", "").split(": ", 2)[-1]
                skipped.append((code, f"not imported: {why[:110]}"))
                continue
            counts["imported"] += 1
            e, act = imp.extra, imp.extra["actuals"] or {}
            check = e["plan_check"]
            counts["with_risk"] += e["has_risk_analysis"]
            counts["plan_reproduced"] += bool(check["matches"])
            reason = ("no Risk Analysis ranges" if not e["has_risk_analysis"] else
                      f"baseline does not reproduce the plan ({check['computed_duration']:g} vs "
                      f"{check['planned_duration']:g} days)" if not check["matches"] else
                      "no tracking periods" if not act else
                      f"not complete at the last tracking period ({act.get('percent_complete') or 0:.0f}%)"
                      if not act.get("complete") else
                      "no actual finish or cost" if not act.get("finish") or not act.get("cost") else None)
            if reason:
                skipped.append((code, reason))
                continue
            project = Project.from_dict(imp.data, source=str(path))
            ref = str(reference_without(code, header, rows, tmp))
            cal_d = {"reference": ref, "level": "project", "planned": "planned_duration_days",
                     "actual": "real_duration_days"}
            cal_c = {"reference": ref, "level": "project", "planned": "bac_eur", "actual": "real_cost_eur",
                     "scale_fixed_costs": True}
            res_d = pmrisk.simulate(project, iterations=iterations, rng=SEED, calibrate=cal_d, rank_risks=False)
            res_c = pmrisk.simulate(project, iterations=iterations, rng=SEED, calibrate=cal_c, rank_risks=False)
            cal = res_d.calibration or {}
            samples = {"duration/plain": np.asarray(cal["uncalibrated_durations"]),
                       "duration/calibrated": np.asarray(res_d.durations),
                       "cost/plain": np.asarray(cal["uncalibrated_costs"]),
                       "cost/calibrated": np.asarray(res_c.costs)}
            out = Outcome(code, project.name, sector.get(code, ""), len(project.tasks), e["planned_duration"],
                          e["planned_cost"], act["finish"], act["cost"])
            for key, s in samples.items():
                actual = out.actual_finish if key.startswith("duration") else out.actual_cost
                out.pit[key] = pit(s, actual)
                out.quantiles[key] = {q: float(np.percentile(s, q)) for q in (10, *LEVELS)}
            outcomes.append(out)
            print(f"[{k}/{len(paths)}] {code}: {len(project.tasks)} tasks, {time.perf_counter() - t0:.2f}s", file=log)
    return outcomes, skipped, counts


def summary(outcomes: list[Outcome], key: str) -> dict[str, Any]:
    pits = np.array([o.pit[key] for o in outcomes])
    actual = np.array([o.actual_finish if key.startswith("duration") else o.actual_cost for o in outcomes])
    q = {lv: np.array([o.quantiles[key][lv] for o in outcomes]) for lv in (10, *LEVELS)}
    return {"n": len(pits), "mean_pit": float(pits.mean()), "median_pit": float(np.median(pits)),
            "in_p10_p90": float(np.mean((actual >= q[10]) & (actual <= q[90]))),
            **{f"le_p{lv}": float(np.mean(actual <= q[lv])) for lv in LEVELS},
            "above_p90": float(np.mean(actual > q[90])), "below_p10": float(np.mean(actual < q[10])),
            "hist": np.histogram(pits, bins=10, range=(0, 1))[0].tolist(), "pits": pits}


def plot(outcomes: list[Outcome], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = np.linspace(0.01, 0.99, 99)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    ax = axes[0]
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="perfectly calibrated")
    styles = {"duration/plain": ("tab:blue", "-"), "duration/calibrated": ("tab:blue", ":"),
              "cost/plain": ("tab:orange", "-"), "cost/calibrated": ("tab:orange", ":")}
    for key, (color, ls) in styles.items():
        pits = np.array([o.pit[key] for o in outcomes])
        ax.plot(levels, [np.mean(pits <= lv) for lv in levels], color=color, ls=ls, lw=1.8, label=key)
    ax.set(xlabel="forecast level (P-level / 100)", ylabel="share of actuals at or below it",
           title="Reliability", xlim=(0, 1), ylim=(0, 1))
    ax.legend(fontsize=8, loc="upper left")
    for ax, what in zip(axes[1:], ("duration", "cost"), strict=True):
        for key, color in ((f"{what}/plain", "tab:gray"), (f"{what}/calibrated", "tab:green")):
            ax.hist([o.pit[key] for o in outcomes], bins=10, range=(0, 1), histtype="step", lw=2, color=color,
                    label=key.split("/")[1])
        ax.axhline(len(outcomes) / 10, color="0.6", ls="--", lw=1, label="uniform (calibrated)")
        ax.set(xlabel="PIT of the actual (percentile rank in the forecast)", ylabel="projects",
               title=f"PIT histogram, {what}", xlim=(0, 1))
        ax.legend(fontsize=8)
    fig.suptitle(f"pmrisk forecasts vs actual outcomes, {len(outcomes)} DSLIB real projects", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Date": None})
    if os.environ.get("FVA_PNG"):                     # a raster copy to look at while developing
        fig.savefig(os.environ["FVA_PNG"], dpi=80)
    plt.close(fig)


def pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def money(x: float | None) -> str:
    return "" if x is None or not math.isfinite(x) else f"{x:,.0f}"


def markdown(outcomes: list[Outcome], skipped: list[tuple[str, str]], counts: dict, iterations: int,
             problems: list[str], img: str | None) -> str:
    keys = ("duration/plain", "duration/calibrated", "cost/plain", "cost/calibrated")
    stats = {k: summary(outcomes, k) for k in keys}
    lines = [
        "# Forecast versus actual: DSLIB real projects",
        "",
        "Generated by `benchmarks/forecast_vs_actual.py` "
        f"({iterations:,} iterations per forecast, seed {SEED}; pmrisk {pmrisk.__version__}). Do not edit by hand.",
        "",
        "How good are pmrisk's forecasts of real projects? The Ghent DSLIB database (Batselier & Vanhoucke, "
        "2015) publishes real projects with their baseline schedule, a risk analysis of every activity "
        "(optimistic / most probable / pessimistic durations) and their tracked actuals. Each project's "
        "baseline is imported (`pmrisk.io.dslib.read_dslib`), simulated, and the actual outcome is placed in "
        "the forecast distribution: its **PIT** (probability integral transform) is the share of simulated "
        "iterations below the actual. Over many projects, well-calibrated forecasts give PITs spread evenly "
        "over 0-1: mean 0.5, 80% of actuals inside the P10-P90 band, 80% at or below P80.",
        "",
        "## What was forecast",
        "",
        f"- {counts['workbooks']} workbooks; {counts['imported']} import "
        f"({counts['workbooks'] - counts['imported']} are malformed and refused with a message naming the cell); "
        f"{counts['with_risk']} have Risk Analysis ranges; {counts['plan_reproduced']} reproduce the workbook's "
        f"planned duration within {PLAN_TOLERANCE_DAYS} working days (the others are not simulated: their "
        "baseline dates break their own links, or the project row disagrees with its activities).",
        f"- **{len(outcomes)} projects** have all of that and are complete at their last tracking period: "
        "these are forecast.",
        "- **plain**: the workbook's own risk analysis (triangular activity durations, baseline costs; each "
        "activity keeps its baseline start as a start-no-earlier-than constraint).",
        "- **calibrated**: the same plan multiplied, per iteration, by an actual/planned ratio of the *other* "
        "DSLIB projects (the overview minus this project, `level: project`): duration ratios for the "
        "duration forecast, cost ratios (with fixed costs scaled) for the cost forecast.",
        "- Actual duration: working days from the *planned* start to the last activity's actual finish "
        "(a late start counts as delay). Actual cost: the last tracking period's actual cost.",
        "",
        "## Calibration across projects",
        "",
        "| forecast | n | mean PIT | median PIT | inside P10-P90 | at or below P50 | at or below P80 "
        "| at or below P90 | below P10 | above P90 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for k in keys:
        s = stats[k]
        lines.append(f"| {k} | {s['n']} | {s['mean_pit']:.2f} | {s['median_pit']:.2f} | {pct(s['in_p10_p90'])} | "
                     f"{pct(s['le_p50'])} | {pct(s['le_p80'])} | {pct(s['le_p90'])} | {pct(s['below_p10'])} | "
                     f"{pct(s['above_p90'])} |")
    lines += ["| ideal | | 0.50 | 0.50 | 80% | 50% | 80% | 90% | 10% | 10% |", "",
              "PIT histogram (projects per tenth of the forecast distribution, 0-0.1 first; a calibrated "
              "forecast has about n/10 in each):", "",
              "| forecast | " + " | ".join(f"{i / 10:.1f}" for i in range(10)) + " |",
              "|---|" + "---|" * 10]
    for k in keys:
        lines.append(f"| {k} | " + " | ".join(str(c) for c in stats[k]["hist"]) + " |")
    if img:
        lines += ["", f"![Reliability and PIT histograms]({img})"]
    d, c = stats["duration/plain"], stats["cost/plain"]
    dc, cc = stats["duration/calibrated"], stats["cost/calibrated"]

    def verdict(s: dict[str, Any]) -> str:
        return "far too narrow" if s["in_p10_p90"] < 0.5 else "too narrow" if s["in_p10_p90"] < 0.7 else "about right"

    lines += [
        "",
        "## Reading it",
        "",
        f"- Duration: the workbooks' own risk analyses are {verdict(d)}: {pct(d['in_p10_p90'])} of the actual "
        f"durations lie inside the plain P10-P90 band (ideal 80%), {pct(d['above_p90'])} above P90 and "
        f"{pct(d['below_p10'])} below P10; mean PIT {d['mean_pit']:.2f}. Activity ranges of a few tens of percent, "
        "drawn independently, average out over the network, while real projects end far earlier or later as a whole "
        "(rescheduled work, changed scope, levelling that no longer holds).",
        f"- Cost: {verdict(c)} as well ({pct(c['in_p10_p90'])} inside P10-P90, {pct(c['above_p90'])} above P90, "
        f"{pct(c['below_p10'])} below P10; mean PIT {c['mean_pit']:.2f}). Baseline activity costs are mostly "
        "proportional to duration, so cost inherits the narrow duration ranges; real cost deviations (scope, "
        "prices, under-spend) are not in the risk analysis at all.",
        f"- Calibrated with the reference class (the other projects' actual/planned ratios), the share inside "
        f"P10-P90 goes from {pct(d['in_p10_p90'])} to {pct(dc['in_p10_p90'])} for duration and from "
        f"{pct(c['in_p10_p90'])} to {pct(cc['in_p10_p90'])} for cost; at or below P80 from {pct(d['le_p80'])} to "
        f"{pct(dc['le_p80'])} (duration) and {pct(c['le_p80'])} to {pct(cc['le_p80'])} (cost). Duration "
        "calibration scales activity durations, not the baseline start dates the plan keeps as constraints, so "
        "where activities wait for their dates only part of a project-level ratio reaches the finish."
        + (f" The calibrated duration forecasts lean high (mean PIT {dc['mean_pit']:.2f}, {pct(dc['below_p10'])} of "
           "the actuals below P10): the other projects' overruns are applied to projects that finished early too."
           if dc["mean_pit"] < 0.45 else ""),
        f"- {len(outcomes)} projects, mostly Belgian construction; read the shares with their sampling "
        f"error in mind (a share of 80% from {len(outcomes)} projects has a standard error of about "
        f"{100 * math.sqrt(0.8 * 0.2 / max(len(outcomes), 1)):.0f} points).",
        "",
        "## Per project",
        "",
        "PIT = percentile rank of the actual in the forecast (0.95: the actual is above 95% of the iterations).",
        "",
        "| project | sector | tasks | planned days | actual days | P50 / P80 plain | PIT plain | PIT calibrated "
        "| budget | actual cost | PIT plain | PIT calibrated |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        q = o.quantiles["duration/plain"]
        lines.append(
            f"| {o.code} {o.name[:34]} | {o.sector[:22]} | {o.tasks} | {o.planned:g} | {o.actual_finish:g} | "
            f"{q[50]:.0f} / {q[80]:.0f} | {o.pit['duration/plain']:.2f} | {o.pit['duration/calibrated']:.2f} | "
            f"{money(o.budget)} | {money(o.actual_cost)} | {o.pit['cost/plain']:.2f} | "
            f"{o.pit['cost/calibrated']:.2f} |")
    lines += ["", "## Not forecast", "", "| project | why |", "|---|---|"]
    lines += [f"| {code} | {why} |" for code, why in skipped]
    lines += [f"| (file) | {p} |" for p in problems]
    lines += ["", "## Reproduce", "", "```", "PYTHONPATH=src .venv/bin/python benchmarks/forecast_vs_actual.py"
              "            # this page and its plot (about a minute)",
              "PYTHONPATH=src .venv/bin/python benchmarks/forecast_vs_actual.py --quick    # 1,000 iterations, "
              "printed only", "```"]
    lines += ["", "Data: J. Batselier, M. Vanhoucke, \"Construction and evaluation framework for a real-life project "
              "database\", International Journal of Project Management 33(3):697-710, 2015 (DSLIB, Ghent "
              "University); see `../shared/datasets/dslib-real-projects/PROVENANCE.md`.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1,000 iterations per forecast; print only")
    ap.add_argument("--iterations", type=int, default=None, help="iterations per forecast (default 10,000)")
    ap.add_argument("--out", type=Path, default=None, help="docs folder to write (default docs/ unless --quick)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N workbooks (for a smoke test)")
    args = ap.parse_args(argv)
    iterations = args.iterations or (1_000 if args.quick else 10_000)
    out = args.out if args.out is not None else (None if args.quick else ROOT / "docs")
    warnings.simplefilter("ignore", PmriskWarning)
    folder = data_home() / FOLDER
    paths, problems = verified_workbooks(folder)
    paths = paths[:args.limit] if args.limit else paths
    t0 = time.perf_counter()
    outcomes, skipped, counts = forecast(paths, iterations, sys.stderr)
    if not outcomes:
        print("No project could be forecast.", file=sys.stderr)
        return 1
    img = None
    if out is not None:
        plot(outcomes, out / "img" / "forecast-vs-actual.svg")
        img = "img/forecast-vs-actual.svg"
    text = markdown(outcomes, skipped, counts, iterations, problems, img)
    if out is not None:
        (out / "forecast-vs-actual.md").write_text(text, encoding="utf-8")
    print(text)
    print(f"{len(outcomes)} projects forecast in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
