"""Peer side of ``bench_engine.py``: times pmcontrols, trueppm-scheduler and the harness's NumPy
reference in a separate process (the peers are not pmrisk dependencies and live in their own venv).

Started by ``bench_engine.py`` with the peers venv's python (or, when that venv is missing, with
pmrisk's own python, reference only). It speaks JSON lines: one request on stdin, one answer on
stdout, so the parent can interleave peer repetitions with pmrisk's. Networks are rebuilt here
from ``netgen.py`` by name and fingerprinted, so the parent can check both sides use the same
tasks. Anything the peers print goes to stderr; stdout carries only the protocol.

Requests::

    {"op": "hello", "harness": DIR}
    {"op": "net", "name": "dag1000"}                       -> tasks, fingerprint
    {"op": "time", "impl": "pmcontrols" | "trueppm" | "ref", "name": NET, "n": ITER, "seed": S,
     "dist": "tri" | "pert4" | "pertmom", "variant": "full" | "crit" | "fwd", "min_total": 0.5}
    {"op": "quit"}
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import timed  # noqa: E402 - the folder must be on sys.path first

NETS: dict = {}


def fingerprint(tasks: list[dict]) -> str:
    return hashlib.sha256(json.dumps(tasks, sort_keys=True).encode()).hexdigest()[:16]


def build_net(netgen, name: str) -> list[dict]:
    """``serial10`` / ``dagN`` (``random_dag(N)``, the harness's dag100 / dag1000 and larger)."""
    if name not in NETS:
        if name == "serial10":
            NETS[name] = netgen.serial_chain(10)
        elif name.startswith("dag"):
            NETS[name] = netgen.random_dag(int(name[3:]))
        else:
            raise ValueError(f"unknown network {name!r}")
    return NETS[name]




def main() -> None:
    # protocol on a private copy of stdout; fd 1 (C and Python prints) goes to stderr
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    mods: dict = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            op = req["op"]
            if op == "quit":
                proto.write(json.dumps({"ok": True}) + "\n")
                break
            if op == "hello":
                sys.path.insert(0, req["harness"])
                import netgen
                import numpy as np
                import reference
                mods.update(np=np, netgen=netgen, reference=reference)
                have, versions, why = {}, {}, {}
                try:
                    import adapters
                    mods["adapters"] = adapters
                except Exception as e:  # noqa: BLE001 - report, do not die
                    why["adapters"] = repr(e)
                from importlib import metadata
                for impl, mod, pkg in (("pmcontrols", "pmcontrols", "pmcontrols"),
                                       ("trueppm", "trueppm_scheduler", "trueppm-scheduler")):
                    try:
                        __import__(mod)
                        have[impl] = "adapters" in mods
                        versions[pkg] = metadata.version(pkg)
                    except Exception as e:  # noqa: BLE001
                        have[impl] = False
                        why[impl] = repr(e)
                ans = {"ok": True, "python": platform.python_version(), "executable": sys.executable,
                       "numpy": np.__version__, "have": have, "versions": versions, "why": why}
            elif op == "net":
                tasks = build_net(mods["netgen"], req["name"])
                ans = {"ok": True, "fingerprint": fingerprint(tasks), "tasks": len(tasks)}
            elif op == "time":
                tasks = build_net(mods["netgen"], req["name"])
                n, seed, impl = int(req["n"]), int(req["seed"]), req["impl"]
                if impl == "pmcontrols":
                    fn = lambda t=tasks, n=n, s=seed: mods["adapters"].run_pmcontrols(t, n, s)  # noqa: E731
                elif impl == "trueppm":
                    fn = lambda t=tasks, n=n, s=seed: mods["adapters"].run_trueppm(t, n, s)  # noqa: E731
                elif impl == "ref":
                    var = req.get("variant", "full")
                    kw = {"full": {"full": True}, "crit": {"crit": True}, "fwd": {}}[var]
                    fn = lambda t=tasks, n=n, d=req["dist"], s=seed, kw=kw: mods["reference"].simulate(  # noqa: E731
                        t, n, d, s, **kw)
                else:
                    raise ValueError(f"unknown impl {impl!r}")
                wall, calls, r, cpu = timed(fn, float(req.get("min_total", 0.5)))
                ans = {"ok": True, "wall": wall, "calls": calls, "cpu": cpu,
                       "p50": None if r.get("p50") is None else float(r["p50"]),
                       "p80": None if r.get("p80") is None else float(r["p80"]),
                       "mean": None if r.get("mean") is None else float(r["mean"])}
                del r
            else:
                raise ValueError(f"unknown op {op!r}")
        except Exception as e:  # noqa: BLE001 - the parent decides what a failure means
            ans = {"ok": False, "error": repr(e), "trace": traceback.format_exc()[-3000:]}
        proto.write(json.dumps(ans) + "\n")


if __name__ == "__main__":
    main()
