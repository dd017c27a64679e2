"""Reference-class uplift of every shared planned-vs-actual dataset, printed as the Markdown tables of docs/history.md.

Usage::

    PYTHONPATH=src python benchmarks/history_uplift.py > /tmp/uplift.md

Reads ../shared/datasets (or $PMRISK_DATA_HOME) through pmrisk's loaders; seeded, so the output
is the same on every run.
"""

from __future__ import annotations

import math
import sys
import warnings
from typing import Any

from pmrisk.errors import PmriskWarning
from pmrisk.history.datasets import dataset_card
from pmrisk.history.reference import reference_class_uplift

SEED = 42
SIP_UNFINISHED = ["CANCELLED", "ESTIMATED", "TEMPLATE", "AUTHORISE"]

#: (dataset, actual column or None, class columns, excluded rows, label)
CASES: list[tuple[str, str | None, list[str], dict[str, list[str]], str]] = [
    ("dslib-real-projects", None, ["sector", "size_class"], {}, "DSLIB projects, duration"),
    ("dslib-real-projects", "real_cost_eur", ["sector", "size_class"], {}, "DSLIB projects, cost"),
    ("sip-tasks", None, ["Category", "size_class"], {"StatusCode": SIP_UNFINISHED}, "SiP tasks, effort"),
    ("cesaw", None, ["process_name", "size_class"], {}, "CESAW tasks, effort"),
    ("renzo-pomodoro", None, ["size_class"], {}, "Renzo Pomodoro tasks, effort"),
    ("jorgensen-tasks-49", None, ["size_class"], {}, "Jørgensen 49 tasks, effort"),
    ("project-22", None, ["Phase"], {}, "Project-22 stories (hours per story point)"),
]


def pct(x: float) -> str:
    return "" if not math.isfinite(x) else f"{100 * x:.0f}%"


def up(x: float) -> str:
    return "" if not math.isfinite(x) else f"{100 * (x - 1):+.0f}%"


def num(x: float) -> str:
    return "" if not math.isfinite(x) else f"{x:.2f}" if x < 100 else f"{x:,.0f}"


def cells(c: Any, dimensionless: bool) -> list[str]:
    shown = up if dimensionless else num
    out = [f"{c.n:,}" + (" *" if c.small else ""), pct(c.share_overrun), num(c.mean), num(c.median)]
    for level in (50, 80, 90):
        low, high = c.intervals[f"P{level}"]
        out.append(f"{shown(c.quantiles[f'P{level}'])} ({shown(low)}..{shown(high)})")
    out += [num(c.quantiles["P95"]), num(c.quantiles["P99"]), num(c.max), pct(c.share_above_2x),
            pct(c.share_above_3x), "" if not math.isfinite(c.tail_index) else f"{c.tail_index:.1f}"]
    return out


HEADER = ["n", "overrun", "mean", "median", "P50", "P80", "P90", "P95", "P99", "max", ">2x", ">3x", "tail α"]


def row(first: str, rest: list[str]) -> str:
    return "| " + " | ".join([first, *rest]) + " |"


def main() -> None:
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PmriskWarning)
        for name, actual, by, exclude, label in CASES:
            results.append((label, reference_class_uplift(name, by=by, actual=actual, exclude=exclude, rng=SEED)))
    print("| dataset | " + " | ".join(HEADER) + " |")
    print("|---|" + "---:|" * len(HEADER))
    for label, r in results:
        print(row(label, cells(r.get(), r.dimensionless)))
    print()
    print("Per class (classes under 20 ratios folded into *(other)*; `*`: fewer than 20 ratios):")
    for label, r in results:
        print()
        dropped = "; ".join(f"{v:,} {k}" for k, v in r.dropped.items())
        print(f"**{label}** (`{r.source}`: `{r.actual}` / `{r.planned}`, {r.unit}; left out: {dropped or 'none'})")
        print()
        print("| class | " + " | ".join(HEADER) + " |")
        print("|---|" + "---:|" * len(HEADER))
        for c in r.classes:
            print(row("all" if c.by is None else f"{c.by} = {c.label}", cells(c, r.dimensionless)))
    print()
    print("Sources:")
    print()
    for name in dict.fromkeys(name for name, *_ in CASES):
        card = dataset_card(name)
        print(f"- `{name}`: {' '.join(card['citation'])} Licence: {' '.join(card['licence'])}")


if __name__ == "__main__":
    sys.exit(main())
