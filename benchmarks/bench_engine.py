#!/usr/bin/env python
"""pmrisk engine benchmark: pmrisk's whole pipeline against its peers, in one run.

    python benchmarks/bench_engine.py                    # full run: 5 reps (3 on the 10k network)
    python benchmarks/bench_engine.py --quick            # smoke run: 1 rep, 2,000 iterations
    python benchmarks/bench_engine.py --out benchmarks   # also write results.json + results.md

Run it with pmrisk's python (the dev venv); pmrisk is imported from this checkout's ``src/``.
What it measures (see benchmarks/README.md):

1. ``pmrisk.simulate`` (sampling, forward + backward pass, criticality, cost, Spearman
   sensitivity, per-task finish histograms, project P-levels) on the peer harness's networks
   (``netgen.py``: serial10, dag100, dag1000, and ``random_dag(10000)``), Beta-PERT lambda=4 and
   triangular durations, with workers=1 and workers=all cores. Throughput = tasks x iterations /
   median wall seconds of the whole ``simulate`` call, after warm-up calls (numba compilation
   excluded; the first, compiling call is timed separately in fresh processes).
2. pmcontrols, trueppm-scheduler (via the harness's ``adapters.py``) and the harness's NumPy
   reference (``reference.simulate(full=True)``) on the same networks and iterations, in a worker
   subprocess running the peers venv's python, repetitions interleaved with pmrisk's.
3. Ratios pmrisk / peer throughput per network.
4. Peak memory (fresh process, ``VmHWM``) on the 10,000-task network, and how time grows with
   tasks and with iterations.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import functools
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import timed  # noqa: E402 - the folder must be on sys.path first

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_HARNESS = Path(os.environ.get("PMRISK_PEERS_DIR", REPO.parent / "shared" / "bench" / "peers"))
DEFAULT_PEERS_PY = Path(os.environ.get("PMRISK_PEERS_PY", REPO / ".venv-peers" / "bin" / "python"))
WORKER = HERE / "_peer_worker.py"

NETWORKS = ("serial10", "dag100", "dag1000", "dag10000")
BIG = "dag10000"
SPEC = {"pert": "pert4", "tri": "tri"}       # pmrisk dist -> the harness's name for the same law
SETUP_HINT = """\
  The peers venv is missing ({py}). Create it as bench/peers/README.md shows (Python 3.11 part):
    cd {repo}
    python3.11 -m venv .venv-peers
    .venv-peers/bin/pip install numpy scipy networkx \\
        pmcontrols planaco pycritical networkdiagram criticalpath pertdist betapert \\
        trueppm-scheduler cheche-pm simpm
    .venv-peers/bin/pip install --no-deps better-project-forecast
  Going on with pmrisk vs the NumPy reference only (run in pmrisk's own python)."""


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)




def med(xs):
    return statistics.median(xs) if xs else None


def import_harness(harness: Path):
    if not (harness / "netgen.py").is_file():
        sys.exit(f"bench_engine: the peer harness is not at {harness} (netgen.py missing); "
                 "pass --harness DIR or set PMRISK_PEERS_DIR")
    sys.path.insert(0, str(harness))
    import netgen  # noqa: PLC0415
    return netgen


def build_net(netgen, name: str) -> list[dict]:
    if name == "serial10":
        return netgen.serial_chain(10)
    if name.startswith("dag"):
        return netgen.random_dag(int(name[3:]))
    raise ValueError(name)


def fingerprint(tasks: list[dict]) -> str:
    import hashlib  # noqa: PLC0415
    return hashlib.sha256(json.dumps(tasks, sort_keys=True).encode()).hexdigest()[:16]


def to_project_dict(tasks: list[dict], dist: str, name: str) -> dict:
    def dur(t):
        if dist == "pert":
            return {"dist": "pert", "min": t["a"], "likely": t["m"], "max": t["b"], "lambda": 4}
        return {"dist": "triangular", "min": t["a"], "likely": t["m"], "max": t["b"]}
    return {"pmrisk": 1, "project": {"name": name},
            "tasks": [{"id": t["id"], "duration": dur(t), "depends_on": list(t["preds"])} for t in tasks]}


def with_risks(project_dict: dict, n_risks: int, seed: int = 0) -> dict:
    """The project with ``n_risks`` risk events (each on 3 random tasks, probability 0.1-0.5,
    triangular delay of 1-10 % of the network's task count in days; half with a mitigation)."""
    import random  # noqa: PLC0415
    rnd = random.Random(seed)
    ids = [t["id"] for t in project_dict["tasks"]]
    risks = []
    for i in range(n_risks):
        d = float(rnd.randint(2, 12))
        r = {"id": f"R{i}", "probability": round(rnd.uniform(0.1, 0.5), 2), "affects": rnd.sample(ids, 3),
             "delay": {"dist": "triangular", "min": d / 2, "likely": d, "max": 3 * d}}
        if i % 2 == 0:
            r["mitigation"] = {"cost": 1000, "probability": round(r["probability"] / 2, 3)}
        risks.append(r)
    return {**project_dict, "risks": risks}


def meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def proc_status(pid: int) -> dict:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:", "VmSize:")):
                    k, v = line.split(":")
                    out[k] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return out


class MemoryGuard:
    """Lower this process's address-space limit (RLIMIT_AS, soft) to its current size + cap while
    pmrisk runs in it, so an engine that needs more memory than the machine has fails with
    MemoryError instead of pushing the shared machine into the OOM killer. Child processes started
    meanwhile inherit the limit."""

    def __init__(self, cap_bytes: int | None) -> None:
        self.cap = cap_bytes
        self.old = None

    def __enter__(self):
        if self.cap:
            self.old = resource.getrlimit(resource.RLIMIT_AS)
            limit = proc_status(os.getpid()).get("VmSize", 0) + self.cap
            hard = self.old[1]
            if hard != resource.RLIM_INFINITY:
                limit = min(limit, hard)
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        return self

    def __exit__(self, *exc) -> None:
        if self.old is not None:
            resource.setrlimit(resource.RLIMIT_AS, self.old)
            self.old = None


def default_cap(args) -> int | None:
    if args.mem_cap_gb:
        return int(args.mem_cap_gb * 2**30)
    avail = meminfo_available()
    return int(0.70 * avail) if avail else None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_rev() -> str:
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return rev + ("+dirty" if dirty else "") if rev else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def source_fingerprint(pkg: Path) -> str:
    import hashlib  # noqa: PLC0415
    h = hashlib.sha256()
    for f in sorted(pkg.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts and f.suffix not in (".pyc", ".nbi", ".nbc"):
            h.update(str(f.relative_to(pkg)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:12]


def snapshot_pmrisk(which: str) -> tuple[str | None, str]:
    """Freeze the pmrisk source for the whole run (the parent and every child process import the
    same files, even while someone edits the checkout). Returns (folder for sys.path, description).

    worktree: a copy of this checkout's src/pmrisk as it is now; HEAD: the committed src/pmrisk
    (``git archive``, read-only); installed: whatever ``import pmrisk`` finds; else a folder that
    holds a ``pmrisk`` package. Copies live in the temp folder, one per source fingerprint, so
    numba's on-disk cache is reused by later runs of the same source."""
    import shutil  # noqa: PLC0415
    import tarfile  # noqa: PLC0415
    if which == "installed":
        return None, "installed pmrisk"
    if which not in ("worktree", "HEAD"):
        d = Path(which).resolve()
        if not (d / "pmrisk" / "__init__.py").is_file():
            sys.exit(f"--pmrisk-src {which}: no pmrisk package in that folder")
        return str(d), f"pmrisk from {d}"
    if which == "worktree":
        pkg = REPO / "src" / "pmrisk"
        if not pkg.is_dir():
            sys.exit(f"no {pkg}: use --pmrisk-src installed")
        dest = Path(tempfile.gettempdir()) / f"pmrisk-bench-src-wt-{source_fingerprint(pkg)}"
        if not (dest / "pmrisk" / "__init__.py").is_file():
            tmp = Path(tempfile.mkdtemp(prefix="pmrisk-bench-src-"))
            skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc")
            shutil.copytree(pkg, tmp / "pmrisk", ignore=skip)
            try:
                tmp.rename(dest)
            except OSError:                      # a concurrent run made it first
                shutil.rmtree(tmp, ignore_errors=True)
        return str(dest), f"working tree of git {git_rev()} (snapshot {dest.name[-12:]})"
    rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    if not rev:
        sys.exit("--pmrisk-src HEAD: not a git checkout")
    dest = Path(tempfile.gettempdir()) / f"pmrisk-bench-src-git-{rev[:12]}"
    if not (dest / "pmrisk" / "__init__.py").is_file():
        tmp = Path(tempfile.mkdtemp(prefix="pmrisk-bench-src-"))
        arch = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", rev, "src/pmrisk"],
                              capture_output=True, check=True).stdout
        import io  # noqa: PLC0415
        with tarfile.open(fileobj=io.BytesIO(arch)) as tf:
            tf.extractall(tmp, filter="data")
        (tmp / "src" / "pmrisk").rename(tmp / "pmrisk")
        (tmp / "src").rmdir()
        try:
            tmp.rename(dest)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    return str(dest), f"git HEAD {rev[:9]}"


# ---------------------------------------------------------------------------------------------
# child processes: first (compiling) call, peak memory
# ---------------------------------------------------------------------------------------------

def child_main(spec: dict) -> None:
    """Runs in a fresh interpreter; prints one JSON line."""
    if spec.get("src"):
        sys.path.insert(0, spec["src"])
    t0 = time.perf_counter()
    import pmrisk  # noqa: PLC0415
    t_import = time.perf_counter() - t0
    netgen = import_harness(Path(spec["harness"]))
    tasks = build_net(netgen, spec["net"])
    out: dict = {"import_s": t_import}
    if spec["kind"] == "first":
        for dist in ("pert", "tri"):
            proj = pmrisk.Project.from_dict(to_project_dict(tasks, dist, spec["net"]))
            ws = []
            for _ in range(2):
                t1 = time.perf_counter()
                pmrisk.simulate(proj, spec["n"], 1, workers=1)
                ws.append(time.perf_counter() - t1)
            out[dist] = {"first_s": ws[0], "second_s": ws[1]}
    else:  # "mem"
        proj = pmrisk.Project.from_dict(to_project_dict(tasks, spec["dist"], spec["net"]))
        pmrisk.simulate(proj, 64, 1, workers=spec["workers"])            # load/compile kernels
        gc.collect()
        out["rss_before"] = proc_status(os.getpid()).get("VmRSS")
        out["maxrss_before"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        t1 = time.perf_counter()
        r = pmrisk.simulate(proj, spec["n"], 1, workers=spec["workers"], chunk_size=spec.get("chunk"))
        out["wall_s"] = time.perf_counter() - t1
        out["chunk_size"] = r.chunk_size
        # VmHWM: this process image's own peak. ru_maxrss is not usable here: Linux carries the
        # forking parent's peak RSS across fork+exec into the child's ru_maxrss.
        out["maxrss"] = proc_status(os.getpid()).get("VmHWM") or resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss * 1024
        out["ru_maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(out), flush=True)


def run_child(spec: dict, env: dict | None = None, cap_bytes: int | None = None, timeout: float = 600) -> dict:
    """Run child_main(spec) in a fresh python; watch its RSS and kill it above cap_bytes."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", json.dumps(spec)]
    t0 = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as errf:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errf, text=True,
                             env={**os.environ, **(env or {})})
        hwm, killed = 0, None
        while p.poll() is None:
            st = proc_status(p.pid)
            hwm = max(hwm, st.get("VmHWM", 0), st.get("VmRSS", 0))
            el = time.perf_counter() - t0
            if cap_bytes and st.get("VmRSS", 0) > cap_bytes:
                killed = f"killed: resident memory passed the {cap_bytes / 2**30:.1f} GiB cap after {el:.0f} s"
            elif el > timeout:
                killed = f"killed: still running after {timeout:.0f} s"
            if killed:
                p.kill()
                p.wait()
                break
            time.sleep(0.1)
        out = p.stdout.read() if p.stdout else ""
        errf.seek(0)
        err = errf.read()
    res: dict = {"elapsed_s": time.perf_counter() - t0, "watched_peak_rss": hwm}
    if killed:
        res["error"] = killed
        return res
    if p.returncode:
        res["error"] = f"exit {p.returncode}: {err[-1500:]}"
        return res
    try:
        res.update(json.loads(out.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        res["error"] = f"no result: {out[-500:]} {err[-1500:]}"
    return res


def profile_call(pmrisk, proj, n: int, tasks: int, top: int = 14) -> dict:
    """cProfile of one ``simulate`` call: functions by own time (numba kernels appear under their
    Python names; a kernel's own time is its compiled run time)."""
    import cProfile  # noqa: PLC0415
    import pstats  # noqa: PLC0415
    pr = cProfile.Profile()
    t0 = time.perf_counter()
    pr.enable()
    pmrisk.simulate(proj, n, 1, workers=1)
    pr.disable()
    wall = time.perf_counter() - t0
    st = pstats.Stats(pr)
    rows = []
    for (fn, line, name), (_cc, nc, tt, ct, _callers) in st.stats.items():
        rows.append({"function": f"{Path(fn).name}:{line}({name})" if line else name, "calls": nc,
                     "tottime": tt, "cumtime": ct})
    rows.sort(key=lambda r: -r["tottime"])
    for r in rows:
        r["ns_per_ts"] = r["tottime"] / (tasks * n) * 1e9
    return {"wall": wall, "tasks": tasks, "iterations": n, "top": rows[:top]}


# ---------------------------------------------------------------------------------------------
# the peer worker
# ---------------------------------------------------------------------------------------------

class PeerWorker:
    def __init__(self, python: str, harness: Path) -> None:
        self.errf = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen([python, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.errf, text=True, bufsize=1)
        self.hello = self.ask(op="hello", harness=str(harness))

    def ask(self, **req) -> dict:
        try:
            self.p.stdin.write(json.dumps(req) + "\n")
            self.p.stdin.flush()
            line = self.p.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            self.errf.seek(0)
            raise RuntimeError(f"peer worker died (request {req.get('op')} {req.get('impl', '')} "
                               f"{req.get('name', '')}): {self.errf.read()[-2000:]}")
        return json.loads(line)

    def close(self) -> None:
        try:
            if self.p.poll() is None:
                self.ask(op="quit")
                self.p.wait(timeout=30)
        except Exception:  # noqa: BLE001
            pass
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        self.errf.close()


# ---------------------------------------------------------------------------------------------
# the benchmark
# ---------------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 rep, 2,000 iterations, no 100k memory point")
    ap.add_argument("--reps", type=int, default=5, help="interleaved repetitions (default 5)")
    ap.add_argument("--reps-big", type=int, default=3,
                    help=f"repetitions on {BIG} (default 3, at most --reps): its calls are the long ones")
    ap.add_argument("--iterations", type=int, default=None, help="iterations (default 10,000; --quick 2,000)")
    ap.add_argument("--out", default=None, help="folder to write results.json and results.md into")
    ap.add_argument("--harness", default=str(DEFAULT_HARNESS), help="bench/peers folder (netgen.py, adapters.py, ...)")
    ap.add_argument("--peers-python", default=str(DEFAULT_PEERS_PY), help="python of the peers venv")
    ap.add_argument("--no-peers", action="store_true", help="pmrisk vs the NumPy reference only")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="'all cores' worker count")
    ap.add_argument("--mem-cap-gb", type=float, default=None,
                    help="kill a memory probe above this resident size (default 70%% of MemAvailable)")
    ap.add_argument("--networks", default=",".join(NETWORKS), help="comma-separated subset of " + ",".join(NETWORKS))
    ap.add_argument("--pmrisk-src", default="worktree",
                    help="which pmrisk: worktree (default: a snapshot of this checkout's src/pmrisk taken at start), "
                         "HEAD (the committed source), installed, or a folder holding a pmrisk package")
    ap.add_argument("--no-profile", action="store_true", help="skip the cProfile of one call on dag1000")
    ap.add_argument("--render", action="store_true", help="only rewrite DIR/results.md from DIR/results.json (--out)")
    ap.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._child:
        child_main(json.loads(args._child))
        return
    if args.render:
        if not args.out:
            sys.exit("--render needs --out DIR (the folder holding results.json)")
        with open(os.path.join(args.out, "results.json")) as fh:
            md = render_md(json.load(fh))
        with open(os.path.join(args.out, "results.md"), "w") as fh:
            fh.write(md)
        print(md)
        return

    t_start = time.perf_counter()
    harness = Path(args.harness).resolve()
    netgen = import_harness(harness)
    import numpy as np  # noqa: PLC0415

    src, src_desc = snapshot_pmrisk(args.pmrisk_src)
    if src:
        sys.path.insert(0, src)
    import pmrisk  # noqa: PLC0415
    quick = args.quick
    N = args.iterations or (2_000 if quick else 10_000)
    # iterations per network: N everywhere; --quick runs the 10k-task network at N/8
    reps = 1 if quick else max(1, args.reps)
    reps_big = 1 if quick else max(1, min(args.reps_big, reps))
    W = max(1, args.workers)
    nets_sel = [n for n in args.networks.split(",") if n]
    for n in nets_sel:
        if n not in NETWORKS:
            sys.exit(f"unknown network {n!r}; choose from {', '.join(NETWORKS)}")

    # ---- environment ---------------------------------------------------------------------
    try:
        import numba  # noqa: PLC0415
        numba_v = numba.__version__
    except ImportError:
        numba_v = None
    env = {"date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
           "python": platform.python_version(), "numpy": np.__version__, "numba": numba_v,
           "pmrisk": getattr(pmrisk, "__version__", "?"), "pmrisk_path": str(Path(pmrisk.__file__).parent),
           "pmrisk_source": src_desc, "pmrisk_fingerprint": source_fingerprint(Path(pmrisk.__file__).parent),
           "git": git_rev(), "cpus": os.cpu_count(), "cpu": cpu_model(), "machine": platform.machine(),
           "mem_total_gib": (os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) / 2**30,
           "iterations": N, "reps": reps, "reps_big": reps_big, "workers_all": W, "quick": quick,
           "harness": str(harness)}
    log(f"pmrisk {env['pmrisk']}: {src_desc}, from {env['pmrisk_path']}; numba {numba_v}; "
        f"{env['cpus']} CPUs; N={N:,}, reps={reps} ({reps_big} on {BIG})")

    # ---- peers -----------------------------------------------------------------------------
    worker = None
    peers_note = None
    py = Path(args.peers_python)
    if args.no_peers:
        peers_note = "--no-peers: pmrisk vs the NumPy reference only"
        worker_py = sys.executable
    elif not py.exists():
        log(SETUP_HINT.format(py=py, repo=REPO))
        peers_note = f"peers venv missing ({py}): pmrisk vs the NumPy reference only"
        worker_py = sys.executable
    else:
        worker_py = str(py)
    worker = PeerWorker(worker_py, harness)
    hello = worker.hello
    if not hello.get("ok"):
        sys.exit(f"peer worker failed to start: {hello}")
    have = {k: v for k, v in hello["have"].items()} if worker_py != sys.executable else {}
    env["peers"] = {"python": hello["python"], "executable": hello["executable"], "numpy": hello["numpy"],
                    "versions": hello["versions"] if have else {}, "have": have, "note": peers_note}
    for k, why in hello.get("why", {}).items():
        if worker_py != sys.executable:
            log(f"  peer {k} unavailable: {why}")
    log(f"peer worker: python {hello['python']} ({hello['executable']}), numpy {hello['numpy']}, "
        f"peers: {', '.join(k for k, v in have.items() if v) or 'none (reference only)'}")

    # ---- networks & projects ----------------------------------------------------------------
    nets, projects, netinfo = {}, {}, {}
    for name in nets_sel:
        tasks = build_net(netgen, name)
        nets[name] = tasks
        a = worker.ask(op="net", name=name)
        if a.get("fingerprint") != fingerprint(tasks):
            sys.exit(f"network {name} differs between pmrisk's and the peers' process "
                     f"({fingerprint(tasks)} vs {a}); numpy versions differ?")
        info = netgen.stats(tasks)
        for dist in SPEC:
            t0 = time.perf_counter()
            projects[(name, dist)] = pmrisk.Project.from_dict(to_project_dict(tasks, dist, name))
            info[f"from_dict_s_{dist}"] = time.perf_counter() - t0
        netinfo[name] = info
    NN = {name: (max(100, N // 8) if quick and name == BIG else N) for name in nets_sel}
    env["iterations_per_network"] = NN
    log("networks: " + ", ".join(f"{k} ({v['tasks']} tasks, {v['edges']} links, depth {v['depth']})"
                                 for k, v in netinfo.items()))

    # ---- the first, compiling call (fresh processes) -------------------------------------------
    first = {}
    fnet = "dag1000" if "dag1000" in nets else nets_sel[-1]
    with tempfile.TemporaryDirectory(prefix="pmrisk-numba-cache-") as cache:
        for label, extra in (("cold (empty numba cache: compiles)", {"NUMBA_CACHE_DIR": cache}),
                             ("warm numba disk cache", {"NUMBA_CACHE_DIR": cache})):
            log(f"first call in a fresh process, {label} ...")
            first[label] = run_child({"kind": "first", "harness": str(harness), "net": fnet, "n": N, "src": src},
                                     env=extra, timeout=300)
    first["net"] = fnet

    # ---- configurations -----------------------------------------------------------------------
    # (key, label, runner) in the interleaving order of one repetition
    walls: dict[str, list[float]] = {}
    calls: dict[str, list[int]] = {}
    cpus: dict[str, list[tuple]] = {}
    stats_: dict[str, dict] = {}
    errors: dict[str, str] = {}

    def pm_cfg(dist, w, chunk=None):
        return f"pmrisk|{dist}|w{w}" + (f"|c{chunk}" if chunk else "")

    def run_pmrisk(name, dist, w, n, seed, chunk=None, record=True, min_total=0.5):
        proj = projects[(name, dist)]
        key = f"{name}|{pm_cfg(dist, w, chunk)}|n{n}"
        gate = f"{name}|pmrisk|n{n}|c{chunk}"          # a MemoryError skips this network's pmrisk runs
        if gate in errors:
            return None
        try:
            with MemoryGuard(guard_cap):
                wall, k, r, cpu = timed(lambda: pmrisk.simulate(proj, n, seed, workers=w, chunk_size=chunk),
                                        min_total)
        except MemoryError:
            gc.collect()
            errors[gate] = (f"MemoryError in pmrisk.simulate ({key}): needs more than the "
                            f"{guard_cap / 2**30:.1f} GiB allowed (--mem-cap-gb); its other runs here skipped")
            log(f"  {errors[gate]}")
            return None
        st = {"p50": r.percentile(50), "p80": r.percentile(80), "mean": float(np.mean(r.durations)),
              "chunk_size": r.chunk_size, "engine": r.engine}
        del r
        gc.collect()
        if record:
            walls.setdefault(key, []).append(wall)
            calls.setdefault(key, []).append(k)
            cpus.setdefault(key, []).append(cpu)
            stats_[key] = st
        return wall

    def run_peer(name, impl, dist, n, seed, record=True):
        key = f"{name}|{impl}|{dist}|n{n}"
        if key in errors:
            return None
        a = worker.ask(op="time", impl=impl, name=name, n=n, seed=seed, dist=dist, variant="full")
        if not a.get("ok"):
            errors[key] = a.get("error", "?")
            log(f"  {key}: FAILED {errors[key]}")
            return None
        if record:
            walls.setdefault(key, []).append(a["wall"])
            calls.setdefault(key, []).append(a["calls"])
            cpus.setdefault(key, []).append(tuple(a.get("cpu") or (None, None)))
            stats_[key] = {k: a[k] for k in ("p50", "p80", "mean")}
        return a["wall"]

    def schedule(name, n):
        """One repetition on one network, pmrisk and the others alternating."""
        peers = []
        if have.get("pmcontrols"):
            peers.append(("pmcontrols", "pert4"))
        if have.get("trueppm"):
            peers.append(("trueppm", "pertmom"))
        peers += [("ref", "tri"), ("ref", "pert4")]
        pm = [("pert", 1), ("pert", W), ("tri", 1), ("tri", W)] if W > 1 else [("pert", 1), ("tri", 1)]
        steps = []
        for i in range(max(len(pm), len(peers))):
            if i < len(pm):
                steps.append(("pmrisk",) + pm[i])
            if i < len(peers):
                steps.append(("peer",) + peers[i])
        return steps

    def run_step(step, name, n, seed, record=True):
        if step[0] == "pmrisk":
            return run_pmrisk(name, step[1], step[2], n, seed, record=record)
        return run_peer(name, step[1], step[2], n, seed, record=record)

    # ---- peak memory (fresh processes) ---------------------------------------------------------
    mem = []
    if BIG in nets:
        nb = NN[BIG]
        points = [(nb, None)] if quick else [(nb // 10, None), (nb, None), (10 * nb, None), (nb, 1024)]
        for n, chunk in points:
            prev = next((m for m in mem if m["chunk"] == chunk and m["iterations"] < n
                         and str(m.get("error", "")).startswith("killed: resident")), None)
            if prev:
                mem.append({"net": BIG, "tasks": len(nets[BIG]), "iterations": n, "chunk": chunk, "skipped": True,
                            "error": f"not run: {prev['iterations']:,} iterations already passed the cap"})
                continue
            cap = default_cap(args)
            log(f"peak memory: {BIG}, {n:,} iterations, chunk_size={chunk or 'auto'} "
                f"(cap {cap / 2**30 if cap else float('nan'):.1f} GiB) ...")
            r = run_child({"kind": "mem", "harness": str(harness), "net": BIG, "n": n, "dist": "pert",
                           "workers": 1, "chunk": chunk, "src": src}, cap_bytes=cap, timeout=420)
            r.update({"net": BIG, "tasks": len(nets[BIG]), "iterations": n, "chunk": chunk, "cap": cap})
            mem.append(r)
            log("  " + (r.get("error") or f"peak RSS {r['maxrss'] / 2**30:.2f} GiB, {r['wall_s']:.1f} s"))
        # a size that already passed the cap in a probe is not run in this process (it would end in
        # MemoryError after a long time and leave this process bloated for the runs after it)
        for m in mem:
            if m["iterations"] == nb and str(m.get("error", "")).startswith(("killed: resident", "not run")):
                gate = f"{BIG}|pmrisk|n{nb}|c{m['chunk']}"
                errors[gate] = (f"pmrisk on {BIG} at {nb:,} iterations, chunk_size={m['chunk'] or 'auto'}: not timed, "
                                "its memory probe passed the cap (see Peak memory)")
                log(f"  {errors[gate]}")

    guard_cap = default_cap(args)
    env["mem_cap_gib"] = guard_cap / 2**30 if guard_cap else None

    # ---- warm-up (untimed) ----------------------------------------------------------------------
    log("warm-up (compiles or loads the numba kernels; imports the peers) ...")
    t0 = time.perf_counter()
    inproc_first = {}
    for dist in SPEC:
        t1 = time.perf_counter()
        pmrisk.simulate(projects[(nets_sel[0], dist)], 100, 0, workers=1)
        inproc_first[dist] = time.perf_counter() - t1
    first["in_process_first_call_s"] = inproc_first
    env["first_inproc_net"] = nets_sel[0]
    # one untimed call of every configuration at the timed size: besides compilation, the first call
    # that needs more memory than the process has mapped pays the VM's first-touch cost (several x)
    for name in nets_sel:
        for step in schedule(name, NN[name]):
            run_step(step, name, NN[name], 0, record=False)
    log(f"  warm-up {time.perf_counter() - t0:.0f} s")

    # ---- interleaved repetitions -----------------------------------------------------------------
    for rep in range(reps):
        for name in nets_sel:
            if name == BIG and rep >= reps_big:
                continue
            t0 = time.perf_counter()
            for step in schedule(name, NN[name]):
                run_step(step, name, NN[name], rep + 1)
            log(f"  rep {rep + 1}/{reps} {name}: {time.perf_counter() - t0:.1f} s "
                f"(total {time.perf_counter() - t_start:.0f} s)")

    # ---- scaling: iterations on dag1000; a chunk-size probe on the big network ---------------------
    scal_net = "dag1000" if "dag1000" in nets else nets_sel[-1]
    iters = [N // 4, N, 4 * N]
    sreps = min(reps, 3)
    log(f"scaling with iterations on {scal_net}: {iters}, {sreps} reps ...")
    for rep in range(sreps):
        for n in iters:
            if n == N:          # already in the main table
                continue
            run_pmrisk(scal_net, "pert", 1, n, rep + 1)
    probe = BIG in nets and not quick
    if probe:
        log(f"chunk-size probe on {BIG}: chunk_size=1024, workers 1 and {W}, {min(sreps, reps_big)} reps ...")
        for w in sorted({1, W}):
            run_pmrisk(BIG, "pert", w, NN[BIG], 0, chunk=1024, record=False)      # warm-up
        for rep in range(min(sreps, reps_big)):
            for w in sorted({1, W}):
                run_pmrisk(BIG, "pert", w, NN[BIG], rep + 1, chunk=1024)

    worker.close()

    # ---- leave-one-risk-out ranking: its cost against one simulation --------------------------------
    ranking = []
    rnet = "dag1000" if "dag1000" in nets else nets_sel[-1]
    for n_r in ((5, 20) if quick else (5, 20, 50)):
        rproj = pmrisk.Project.from_dict(with_risks(to_project_dict(nets[rnet], "pert", rnet), n_r))
        n_var = n_r + (n_r + 1) // 2              # one variant per risk, one per mitigation
        pmrisk.simulate(rproj, 500, 0, rank_risks=True)                      # warm-up
        t_plain, t_rank = [], []
        for rep in range(sreps):
            for flag, out in ((False, t_plain), (True, t_rank)):
                out.append(timed(functools.partial(pmrisk.simulate, rproj, N, rep, rank_risks=flag))[0])
        extra = med(t_rank) - med(t_plain)
        ranking.append({"net": rnet, "risks": n_r, "variants": n_var, "iterations": N, "plain_s": med(t_plain),
                        "ranked_s": med(t_rank), "ranking_over_one_run": extra / med(t_plain),
                        "per_variant_over_one_run": extra / med(t_plain) / n_var})
        log(f"  ranking {n_r} risks on {rnet}: plain {med(t_plain):.3f} s, with ranking {med(t_rank):.3f} s")

    # ---- where the time goes: cProfile of one call -------------------------------------------------
    profiles = []
    todo = [] if args.no_profile else [(p, NN[p]) for p in ("dag1000",) if p in nets]
    if BIG in nets and not quick and not args.no_profile:
        todo.append((BIG, min(NN[BIG], 1000)))
    for pnet, pn in todo:
        log(f"cProfile of one simulate call ({pnet}, pert, {pn:,} iterations, 1 worker) ...")
        try:
            with MemoryGuard(guard_cap):
                prof = profile_call(pmrisk, projects[(pnet, "pert")], pn, len(nets[pnet]))
        except MemoryError:
            gc.collect()
            prof = {"error": "MemoryError", "tasks": len(nets[pnet]), "iterations": pn}
        prof["net"] = pnet
        profiles.append(prof)

    # ---- assemble --------------------------------------------------------------------------------
    rows = []
    for key, ws in walls.items():
        name, rest = key.split("|", 1)
        n = int(key.rsplit("|n", 1)[1])
        tasks = len(nets[name])
        m = med(ws)
        us = [c[0] for c in cpus.get(key, []) if c[0] is not None]
        ss = [c[1] for c in cpus.get(key, []) if c[1] is not None]
        rows.append({"key": key, "net": name, "impl": rest.rsplit("|n", 1)[0], "tasks": tasks, "iterations": n,
                     "walls": ws, "calls": calls[key], "wall_med": m, "tps": tasks * n / m,
                     "cpu": cpus.get(key, []), "user_med": med(us), "sys_med": med(ss),
                     "ns_per_ts": m / (tasks * n) * 1e9, **stats_.get(key, {})})
    by = {r["key"]: r for r in rows}

    def tps(name, impl, n=None):
        r = by.get(f"{name}|{impl}|n{n or NN[name]}")
        return r["tps"] if r else None

    ratios = {}
    for name in nets_sel:
        R = {}
        for w in sorted({1, W}):
            pp, pt = tps(name, pm_cfg("pert", w)), tps(name, pm_cfg("tri", w))
            for peer, base in (("pmcontrols", tps(name, "pmcontrols|pert4")),
                               ("trueppm", tps(name, "trueppm|pertmom")),
                               ("ref_full_pert4", tps(name, "ref|pert4"))):
                R[f"pert_w{w}/{peer}"] = pp / base if pp and base else None
            base = tps(name, "ref|tri")
            R[f"tri_w{w}/ref_full_tri"] = pt / base if pt and base else None
        if W > 1:
            for dist in SPEC:
                a, b = tps(name, pm_cfg(dist, W)), tps(name, pm_cfg(dist, 1))
                R[f"{dist}_w{W}/w1"] = a / b if a and b else None
        ratios[name] = R

    scaling = {"tasks": [], "iterations": [], "probe": []}
    for name in nets_sel:
        if name == "serial10":
            continue
        for dist in SPEC:
            r = by.get(f"{name}|{pm_cfg(dist, 1)}|n{NN[name]}")
            if r:
                scaling["tasks"].append({"net": name, "dist": dist, "tasks": r["tasks"], "iterations": NN[name],
                                         "wall_med": r["wall_med"], "ns_per_ts": r["ns_per_ts"]})
    for n in iters:
        r = by.get(f"{scal_net}|{pm_cfg('pert', 1)}|n{n}")
        if r:
            scaling["iterations"].append({"net": scal_net, "dist": "pert", "tasks": r["tasks"], "iterations": n,
                                          "wall_med": r["wall_med"], "ns_per_ts": r["ns_per_ts"],
                                          "reps": len(r["walls"])})
    if probe:
        for chunk in (None, 1024):
            for w in sorted({1, W}):
                r = by.get(f"{BIG}|{pm_cfg('pert', w, chunk)}|n{NN[BIG]}")
                if r:
                    scaling["probe"].append({"net": BIG, "chunk": chunk or r.get("chunk_size"), "auto": chunk is None,
                                             "workers": w, "wall_med": r["wall_med"], "ns_per_ts": r["ns_per_ts"],
                                             "user_med": r.get("user_med"), "sys_med": r.get("sys_med"),
                                             "reps": len(r["walls"])})

    results = {"env": env, "networks": netinfo, "rows": rows, "ratios": ratios, "first_call": first,
               "scaling": scaling, "memory": mem, "profiles": profiles, "errors": errors, "ranking": ranking,
               "elapsed_s": time.perf_counter() - t_start}
    md = render_md(results)
    print(md)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "results.json"), "w") as fh:
            json.dump(results, fh, indent=1, default=float)
        with open(os.path.join(args.out, "results.md"), "w") as fh:
            fh.write(md)
        log(f"wrote {os.path.join(args.out, 'results.json')} and results.md")
    log(f"done in {results['elapsed_s']:.0f} s")


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------

LABEL = {"pmcontrols|pert4": "pmcontrols (Beta-PERT l=4)", "trueppm|pertmom": "trueppm-scheduler (moment Beta)",
         "ref|tri": "NumPy reference full (tri)", "ref|pert4": "NumPy reference full (Beta-PERT)"}


def label(impl: str) -> str:
    if impl.startswith("pmrisk|"):
        parts = impl.split("|")
        s = f"**pmrisk {parts[1]}, {parts[2][1:]} worker{'s' if parts[2] != 'w1' else ''}**"
        if len(parts) > 3:
            s += f" chunk_size={parts[3][1:]}"
        return s
    return LABEL.get(impl, impl)


def f3(x, fmt="{:.2f}"):
    return "n/a" if x is None else fmt.format(x)


def render_md(R: dict) -> str:
    env = R["env"]
    N = env["iterations"]
    NN = env.get("iterations_per_network") or {k: N for k in R["networks"]}
    L = ["# pmrisk engine benchmark -- results\n"]
    L.append(f"Generated by `benchmarks/bench_engine.py{' --quick' if env['quick'] else ''}` on {env['date']}: "
             f"pmrisk {env['pmrisk']} ({env.get('pmrisk_source', 'git ' + env['git'])}, source fingerprint "
             f"{env.get('pmrisk_fingerprint', '?')}), Python {env['python']}, numpy {env['numpy']}, "
             f"numba {env['numba']}; {env['cpus']} CPUs ({env['cpu']}), {env['mem_total_gib']:.0f} GiB. "
             f"Shared, noisy machine: every time is the median of {env['reps']} interleaved repetitions "
             f"({env['reps_big']} on {BIG}); compare ratios within this run rather than absolutes. "
             f"pmrisk ran under a {env.get('mem_cap_gib') or 0:.1f} GiB memory cap (MemoryError beyond it).\n")
    pe = env["peers"]
    if pe.get("note"):
        L.append(f"Peers: {pe['note']}. Reference ran in Python {pe['python']} / numpy {pe['numpy']}.\n")
    else:
        L.append(f"Peers ran in a worker process: Python {pe['python']} / numpy {pe['numpy']}, "
                 + ", ".join(f"{k} {v}" for k, v in pe["versions"].items()) + ".\n")
    L.append("## Networks (bench/peers/netgen.py)\n")
    L.append("| network | tasks | links | depth | Project.from_dict s (pert / tri) |")
    L.append("|---|---|---|---|---|")
    for k, v in R["networks"].items():
        L.append(f"| {k} | {v['tasks']:,} | {v['edges']:,} | {v['depth']} | "
                 f"{v['from_dict_s_pert']:.3f} / {v['from_dict_s_tri']:.3f} |")
    L.append("")
    its = sorted(set(NN.values()))
    L.append(f"## Throughput, {' / '.join(f'{i:,}' for i in its)} iterations\n")
    L.append("task-samples/s = tasks x iterations / median wall seconds of the whole call: `pmrisk.simulate` "
             "(after warm-up; numba compilation excluded); peers: the harness adapter (model build + simulation + "
             "summary); reference: `reference.simulate(full=True)` (samples, forward + backward pass, "
             "criticality, exact Spearman of every task). Calls under 0.17 s are repeated for 0.5 s and averaged. "
             "The peers and the reference are single-threaded. CPU user / sys = median CPU seconds per call of the "
             "process running it (all its threads); sys is mostly page faults on freshly mapped memory, which cost "
             "several microseconds each on this VM.\n")
    L.append("| network | engine | iterations | median wall s | M task-samples/s | ns / task-sample | "
             "CPU user / sys s | reps | P50 | P80 | mean |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|")
    def order(r):
        return (list(R["networks"]).index(r["net"]), r["iterations"], not r["impl"].startswith("pmrisk"), r["impl"])
    untimed = {net: [v for k, v in R["errors"].items() if k.startswith(f"{net}|pmrisk|n{NN[net]}|cNone")]
               for net in R["networks"]}
    for r in sorted(R["rows"], key=order):
        if r["iterations"] != NN[r["net"]] or "|c" in r["impl"]:
            continue
        if untimed.get(r["net"]):
            L.append(f"| {r['net']} | **pmrisk (every configuration)** | {NN[r['net']]:,} | not timed: "
                     f"{untimed.pop(r['net'])[0].split(': ', 1)[-1].removeprefix('not timed, ')} | | | | | | | |")
        cpu = ("n/a" if r.get("user_med") is None else f"{r['user_med']:.3f} / {r['sys_med']:.3f}")
        L.append(f"| {r['net']} | {label(r['impl'])} | {r['iterations']:,} | {r['wall_med']:.3f} | "
                 f"{r['tps'] / 1e6:.2f} | "
                 f"{r['ns_per_ts']:.1f} | {cpu} | {len(r['walls'])} | {f3(r.get('p50'), '{:.1f}')} | "
                 f"{f3(r.get('p80'), '{:.1f}')} | {f3(r.get('mean'), '{:.1f}')} |")
    L.append("")
    L.append("## Ratios (throughput, > 1: pmrisk faster)\n")
    W = env["workers_all"]
    cols = []
    for w in sorted({1, W}):
        cols += [(f"pert_w{w}/pmcontrols", f"pert w{w} / pmcontrols"), (f"pert_w{w}/trueppm", f"pert w{w} / trueppm"),
                 (f"pert_w{w}/ref_full_pert4", f"pert w{w} / ref full (pert)"),
                 (f"tri_w{w}/ref_full_tri", f"tri w{w} / ref full (tri)")]
    if W > 1:
        cols += [(f"pert_w{W}/w1", f"pert w{W} / w1"), (f"tri_w{W}/w1", f"tri w{W} / w1")]
    L.append("| network | " + " | ".join(c[1] for c in cols) + " |")
    L.append("|---|" + "---|" * len(cols))
    for name, rr in R["ratios"].items():
        L.append(f"| {name} | " + " | ".join(f3(rr.get(c[0])) for c in cols) + " |")
    rows_by = {r["key"]: r for r in R["rows"]}
    for net in R["networks"]:
        for w in sorted({1, W}):
            pr = rows_by.get(f"{net}|pmrisk|pert|w{w}|c1024|n{NN[net]}")
            if not pr:
                continue
            parts = []
            for impl, lab in (("pmcontrols|pert4", "pmcontrols"), ("trueppm|pertmom", "trueppm"),
                              ("ref|pert4", "ref full (pert)")):
                b = rows_by.get(f"{net}|{impl}|n{NN[net]}")
                if b:
                    parts.append(f"/ {lab} **{pr['tps'] / b['tps']:.2f}**")
            L.append(f"\n{net} with `chunk_size=1024` (pert, {w} worker{'s' if w > 1 else ''}, "
                     f"{pr['ns_per_ts']:.1f} ns / task-sample): " + ", ".join(parts) + ".")
    L.append("\npmrisk pert samples Beta-PERT lambda=4, as pmcontrols does; trueppm samples a Beta fitted by moments "
             "(same mean, sd (b-a)/6), the closest it offers. wN = all cores.\n")
    fc = R["first_call"]
    L.append(f"## First call (fresh process, {fc.get('net')}, {N:,} iterations, workers=1)\n")
    L.append("| numba cache | import pmrisk s | pert: 1st call s | pert: 2nd call s | tri: 1st call s | "
             "tri: 2nd call s |")
    L.append("|---|---|---|---|---|---|")
    for k, v in fc.items():
        if not isinstance(v, dict) or "import_s" not in v and "error" not in v:
            continue
        if "error" in v:
            L.append(f"| {k} | {v['error']} | | | | |")
            continue
        L.append(f"| {k} | {v['import_s']:.2f} | {v['pert']['first_s']:.2f} | {v['pert']['second_s']:.3f} | "
                 f"{v['tri']['first_s']:.2f} | {v['tri']['second_s']:.3f} |")
    ipf = fc.get("in_process_first_call_s", {})
    if ipf:
        L.append("\nIn the benchmark process (numba's on-disk cache as found): first call, "
                 f"{R['env']['first_inproc_net']}, 100 iterations: "
                 + ", ".join(f"{k} {v:.2f} s" for k, v in ipf.items()) + ".\n")
    S = R["scaling"]
    untimed_big = [v for k, v in R["errors"].items() if k.startswith(f"{BIG}|pmrisk|n{NN.get(BIG, N)}|cNone")]
    L.append("## Scaling (pmrisk, 1 worker)\n")
    L.append("With tasks (the main table's runs). ns / task-sample is flat if time is linear in tasks.\n")
    L.append("| network | dist | tasks | iterations | median wall s | ns / task-sample |")
    L.append("|---|---|---|---|---|---|")
    for r in S["tasks"]:
        L.append(f"| {r['net']} | {r['dist']} | {r['tasks']:,} | {r['iterations']:,} | {r['wall_med']:.3f} | "
                 f"{r['ns_per_ts']:.1f} |")
    if S["iterations"]:
        L.append(f"\nWith iterations ({S['iterations'][0]['net']}, pert). "
                 "ns / task-sample is flat if time is linear in iterations.\n")
        L.append("| iterations | reps | median wall s | ns / task-sample |")
        L.append("|---|---|---|---|")
        for r in S["iterations"]:
            L.append(f"| {r['iterations']:,} | {r['reps']} | {r['wall_med']:.3f} | {r['ns_per_ts']:.1f} |")
    if S["probe"]:
        L.append(f"\nChunk size on {BIG} ({NN.get(BIG, N):,} iterations, pert): the default against "
                 "chunk_size=1024.\n")
        L.append("| chunk_size | workers | reps | median wall s | ns / task-sample | CPU user / sys s |")
        L.append("|---|---|---|---|---|---|")
        if not any(r["auto"] for r in S["probe"]) and untimed_big:
            L.append(f"| auto | | | not timed: {untimed_big[0].split(': ', 1)[-1].removeprefix('not timed, ')} | | |")
        for r in S["probe"]:
            cpu = "n/a" if r.get("user_med") is None else f"{r['user_med']:.2f} / {r['sys_med']:.2f}"
            L.append(f"| {r['chunk']}{' (auto)' if r['auto'] else ''} | {r.get('workers', 1)} | {r['reps']} | "
                     f"{r['wall_med']:.3f} | {r['ns_per_ts']:.1f} | {cpu} |")
    L.append("")
    if R.get("ranking"):
        rk = R["ranking"]
        L.append(f"## Leave-one-risk-out ranking ({rk[0]['net']}, pert, {rk[0]['iterations']:,} iterations, "
                 "1 worker)\n")
        L.append("Risks on 3 random tasks each, half with a mitigation; a variant = the project without one risk, or "
                 "with one risk mitigated (common random numbers). All variants run in one pass that samples each "
                 "chunk once.\n")
        L.append("| risks | variants | simulate s (no ranking) | with ranking s | ranking / one run | "
                 "per variant / one run |")
        L.append("|---|---|---|---|---|---|")
        for r in rk:
            L.append(f"| {r['risks']} | {r['variants']} | {r['plain_s']:.3f} | {r['ranked_s']:.3f} | "
                     f"{r['ranking_over_one_run']:.2f} | {r['per_variant_over_one_run']:.3f} |")
        L.append("")
    if R["memory"]:
        L.append("## Peak memory (pmrisk, fresh process, pert, 1 worker)\n")
        L.append("Peak RSS = `VmHWM` of the process (interpreter + numba + project included; not `ru_maxrss`, which "
                 "Linux carries over from the forking parent); 'before' = RSS "
                 "after import, project build and a 64-iteration call. A probe is killed if its RSS passes the cap.\n")
        L.append("| network | iterations | chunk_size | peak RSS GiB | RSS before GiB | wall s | note |")
        L.append("|---|---|---|---|---|---|---|")
        ok = [m for m in R["memory"] if "error" not in m]
        for m in R["memory"]:
            if "error" in m:
                note = m["error"].strip().splitlines()[-1].replace("|", "/")[:200]
                base = max((b for b in ok if b["chunk"] == m["chunk"] and b["iterations"] < m["iterations"]),
                           key=lambda b: b["iterations"], default=None)
                if base and m["error"].startswith("killed: resident"):
                    k = m["iterations"] / base["iterations"]
                    est = base["rss_before"] + k * (base["maxrss"] - base["rss_before"])
                    note += f"; linear extrapolation from {base['iterations']:,} iterations: ~{est / 2**30:.0f} GiB"
                if m.get("skipped"):
                    L.append(f"| {m['net']} | {m['iterations']:,} | {m['chunk'] or 'auto'} | | | | {note} |")
                    continue
                L.append(f"| {m['net']} | {m['iterations']:,} | {m['chunk'] or 'auto'} | "
                         f"> {m['watched_peak_rss'] / 2**30:.2f} | | > {m['elapsed_s']:.0f} | {note} |")
            else:
                L.append(f"| {m['net']} | {m['iterations']:,} | {m['chunk_size']}{'' if m['chunk'] else ' (auto)'} | "
                         f"{m['maxrss'] / 2**30:.2f} | {m['rss_before'] / 2**30:.2f} | {m['wall_s']:.1f} | |")
        L.append("")
    for P in R.get("profiles") or []:
        if "error" in P:
            L.append(f"## Where the time goes ({P['net']}, {P['iterations']:,} iterations): {P['error']}\n")
            continue
        L.append(f"## Where the time goes (cProfile, one call: {P['net']}, pert, {P['iterations']:,} iterations, "
                 f"1 worker, {P['wall']:.2f} s under the profiler)\n")
        L.append("Own time per function; numba kernels show under their Python names. ns / task-sample = own time / "
                 "(tasks x iterations).\n")
        L.append("| function | calls | own s | ns / task-sample | cumulative s |")
        L.append("|---|---|---|---|---|")
        for r in P["top"]:
            L.append(f"| `{r['function']}` | {r['calls']} | {r['tottime']:.3f} | {r['ns_per_ts']:.1f} | "
                     f"{r['cumtime']:.3f} |")
        L.append("")
    if R["errors"]:
        L.append("## Failures\n")
        for k, v in R["errors"].items():
            L.append(f"- {k}: {v}")
        L.append("")
    L.append("## All wall times (s), per repetition\n")
    for r in sorted(R["rows"], key=order):
        cs = "" if all(c == 1 for c in r["calls"]) else f" (calls averaged: {', '.join(map(str, r['calls']))})"
        L.append(f"- {r['net']} / {label(r['impl']).replace('**', '')} / {r['iterations']:,}: "
                 + ", ".join(f"{w:.4f}" for w in r["walls"]) + cs)
    L.append(f"\nTotal benchmark time: {R['elapsed_s']:.0f} s.\n")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main()
