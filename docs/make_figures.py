"""Render the documentation figures of the CRM migration example into docs/img/.

Run from the repository root::

    python docs/make_figures.py            # 10,000 iterations, seed 42 (what the docs show)
    python docs/make_figures.py -n 2000    # quicker
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pmrisk  # noqa: E402
from pmrisk import plots  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "crm-migration.yaml"
OUT = ROOT / "docs" / "img"


def main(argv: list[str] | None = None) -> list[Path]:
    """Simulate the CRM example and write its S-curve, tornado, JCL scatter and risk matrix as PNGs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--iterations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    project = pmrisk.load_project(EXAMPLE)
    result = pmrisk.simulate(project, iterations=args.iterations, rng=args.seed)
    charts = {
        "crm-s-curve.png": plots.s_curve(result),
        "crm-tornado.png": plots.tornado(result),
        "crm-jcl.png": plots.jcl_scatter(result),
        "crm-risk-matrix.png": plots.risk_matrix(result),
    }
    written = []
    for name, ax in charts.items():
        written.append(plots.save(ax, args.out / name, dpi=110, close=True))
        print(f"wrote {written[-1].relative_to(ROOT) if written[-1].is_relative_to(ROOT) else written[-1]}")
    return written


if __name__ == "__main__":
    main()
