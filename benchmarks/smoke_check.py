#!/usr/bin/env python
"""Smoke check (no pytest): ``bench_engine.py --quick`` runs, finishes in time and reports sane numbers.

    python benchmarks/smoke_check.py              # exit 0: OK; 1: failed (reason printed)
    python benchmarks/smoke_check.py --limit 120  # seconds allowed (default 180; target ~2 minutes)

It runs the quick benchmark in a subprocess with the same python, writes into a temporary folder,
and checks that results.json / results.md exist, that every network has a positive pmrisk
throughput for both distributions, that pmrisk's mean finish agrees with the NumPy reference's
on the same law within 1%, and that each peer that was available produced a ratio.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=float, default=180.0, help="seconds allowed for the quick run")
    ap.add_argument("extra", nargs="*", help="extra arguments for bench_engine.py (after --)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="pmrisk-bench-smoke-") as out:
        cmd = [sys.executable, str(HERE / "bench_engine.py"), "--quick", "--out", out, *args.extra]
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.limit)
        except subprocess.TimeoutExpired:
            print(f"FAIL: bench_engine.py --quick still running after {args.limit:.0f} s")
            return 1
        el = time.perf_counter() - t0
        if p.returncode:
            print(f"FAIL: exit {p.returncode}\n{p.stderr[-3000:]}")
            return 1
        problems = []
        try:
            R = json.loads((Path(out) / "results.json").read_text())
            md = (Path(out) / "results.md").read_text()
        except (OSError, ValueError) as e:
            print(f"FAIL: results not written: {e!r}")
            return 1
        if "## Throughput" not in md:
            problems.append("results.md has no throughput table")
        rows = {r["key"]: r for r in R["rows"]}
        NN = R["env"].get("iterations_per_network") or {k: R["env"]["iterations"] for k in R["networks"]}
        for net in R["networks"]:
            N = NN[net]
            for dist, law in (("pert", "pert4"), ("tri", "tri")):
                r = rows.get(f"{net}|pmrisk|{dist}|w1|n{N}")
                if not r or not r["tps"] > 0:
                    problems.append(f"{net}: no pmrisk {dist} throughput")
                    continue
                ref = rows.get(f"{net}|ref|{law}|n{N}")
                if not ref:
                    problems.append(f"{net}: no reference ({law}) timing")
                elif abs(r["mean"] - ref["mean"]) > 0.01 * abs(ref["mean"]):
                    problems.append(f"{net}: pmrisk {dist} mean {r['mean']:.1f} vs reference {ref['mean']:.1f}")
            have = R["env"]["peers"].get("have", {})
            if have.get("pmcontrols") and R["ratios"][net].get("pert_w1/pmcontrols") is None:
                problems.append(f"{net}: no pmrisk / pmcontrols ratio")
            if have.get("trueppm") and R["ratios"][net].get("pert_w1/trueppm") is None:
                problems.append(f"{net}: no pmrisk / trueppm ratio")
        if R.get("errors"):
            problems.append(f"failures reported: {R['errors']}")
        if problems:
            print("FAIL:\n  " + "\n  ".join(problems))
            return 1
        peers = [k for k, v in R["env"]["peers"].get("have", {}).items() if v] or ["reference only"]
        print(f"OK: bench_engine.py --quick in {el:.0f} s (limit {args.limit:.0f} s); "
              f"{len(R['networks'])} networks; peers: {', '.join(peers)}")
        if el > 120:
            print(f"note: over the ~2 minute target ({el:.0f} s); the machine may be busy")
        return 0


if __name__ == "__main__":
    sys.exit(main())
