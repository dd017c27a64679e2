"""Read PSPLIB ``.sm`` / ``.mm`` project networks (Kolisch & Sprecher's standard research instances).

A PSPLIB file describes one project (some collections concatenate several; a folder such as
``j30.sm/`` holds one file per instance): a header (``jobs (incl. supersource/sink )``,
``horizon``, resource counts), ``PROJECT INFORMATION`` (due date, ``MPM-Time``: the critical path
length), ``PRECEDENCE RELATIONS`` (per job its modes and successors, all finish-to-start without
lag), ``REQUESTS/DURATIONS`` (per job and mode the duration in periods and the demand on each
resource) and ``RESOURCEAVAILABILITIES``.

:func:`read_psplib` makes one task per job with the file's duration (a period is taken as a working
day), FS links to its successors, and the dummy source and sink (duration 0) as milestones. A
``template`` turns each fixed duration into a range (for Monte Carlo experiments on standard
networks). Resource requests and availabilities are kept in ``extra`` (pmrisk does not level
resources), with the reader's own critical path length (a longest path over the file's precedence
relations), the resource-based lower bound, and the file's ``MPM-Time``.

Every problem raises :class:`~pmrisk.errors.ProjectError` naming the file, the line and what was
expected.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pmrisk.errors import ProjectError
from pmrisk.io.formats import Imported

__all__ = ["list_instances", "read_psplib"]

_RULE = re.compile(r"^\*{5,}\s*$")
_SUFFIXES = (".sm", ".mm", ".rcp", ".txt")


@dataclass
class _Instance:
    """One parsed instance: jobs -> modes [(duration, requests)], successors; header facts."""

    name: str
    first_line: int
    jobs: int | None = None
    horizon: int | None = None
    resources: list[str] = field(default_factory=list)
    availability: list[int] = field(default_factory=list)
    due_date: int | None = None
    mpm_time: int | None = None
    successors: dict[int, list[int]] = field(default_factory=dict)
    n_modes: dict[int, int] = field(default_factory=dict)
    modes: dict[int, list[tuple[int, list[int]]]] = field(default_factory=dict)


def _natural(name: str) -> list[Any]:
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", name)]


def list_instances(path: str | os.PathLike[str]) -> list[str]:
    """The instance names in a PSPLIB folder (``j30.sm/``: ``j301_1``, ``j301_2``, ...) or file.

    Examples
    --------
    >>> list_instances("j30.sm")[:3]  # doctest: +SKIP
    ['j301_1', 'j301_2', 'j301_3']
    """
    p = Path(path)
    if p.is_dir():
        return sorted((f.stem for f in p.iterdir() if f.is_file() and f.suffix.lower() in _SUFFIXES), key=_natural)
    return [inst.name for inst in _parse(p, _read_text(p))]


def read_psplib(path: str | os.PathLike[str], *, instance: int | str | None = None,
                template: Mapping[str, Any] | None = None) -> Imported:
    """Read one PSPLIB instance as a pmrisk project.

    Parameters
    ----------
    path : path-like
        A ``.sm``/``.mm`` file, or a folder of them (such as ``j30.sm/``).
    instance : int or str, optional
        Which instance: its name (``"j301_1"``, with or without the suffix) or its position
        (0-based, in natural order) in the folder or in a file of concatenated instances. Needed
        for a folder or a file of several instances; a single-instance file needs none.
    template : mapping, optional
        Turn each job's fixed duration ``d`` into a range: ``{"dist": "pert", "min": 0.8,
        "likely": 1.0, "max": 1.5}`` gives ``{dist: pert, min: 0.8 d, likely: d, max: 1.5 d}``
        (factors of ``d``; ``dist`` one of pert, triangular, uniform; default pert, likely 1).
        Milestones stay at 0.

    Returns
    -------
    Imported
        ``data``: tasks ``"1"``..``"n"`` (the dummy source and sink as milestones), FS links.
        ``extra``: ``instance``, ``jobs``, ``horizon``, ``due_date``, ``mpm_time`` (the file's),
        ``critical_path_length`` (computed here by a longest path over the precedence relations:
        the resource-unconstrained lower bound of the makespan),
        ``resource_lower_bound`` (max over resources of total demand / availability),
        ``lower_bound`` (the larger of the two), ``resources`` (name -> availability), ``requests``
        (job -> demands) and ``best_known_makespan`` (with ``best_lower_bound`` where the optimum
        is not proven) where an ``optimum/optimum.csv`` lies beside the file.

    Raises
    ------
    pmrisk.errors.ProjectError
        For a file that is not PSPLIB or is damaged (names the file and line), an unknown instance,
        or a bad template.

    Examples
    --------
    >>> imp = read_psplib("j30.sm", instance="j301_1")  # doctest: +SKIP
    >>> imp.extra["critical_path_length"], imp.extra["mpm_time"], len(imp.data["tasks"])  # doctest: +SKIP
    (38, 38, 32)
    """
    p = Path(path)
    file, inst = _locate(p, instance)
    jobs = sorted(inst.successors)
    where = f"{file} (instance {inst.name})"
    durations = {j: inst.modes[j][0][0] for j in jobs}
    preds: dict[int, list[int]] = {j: [] for j in jobs}
    for j in jobs:
        for s in inst.successors[j]:
            preds[s].append(j)
    cpl = _longest_path(jobs, inst.successors, durations, where)
    spec = _template(template, where)
    notes: list[str] = ["PSPLIB durations are in periods, read as working days; resources are not levelled "
                        "(pmrisk schedules the network without resource limits)."]
    multi = [j for j in jobs if len(inst.modes[j]) > 1]
    if multi:
        notes.append(f"{len(multi)} jobs have several modes (e.g. job {multi[0]}): mode 1 is used.")
    tasks: list[dict[str, Any]] = []
    for j in jobs:
        d = durations[j]
        task: dict[str, Any] = {"id": str(j), "name": f"job {j}"}
        if d == 0:
            task["milestone"] = True
            task["name"] = "source" if not preds[j] else "sink" if not inst.successors[j] else f"job {j} (milestone)"
        task["duration"] = d if d == 0 or spec is None else _ranged(d, spec)
        if preds[j]:
            task["depends_on"] = [str(q) for q in preds[j]]
        tasks.append(task)
    res = inst.resources or [f"R{k + 1}" for k in range(len(inst.availability))]
    demand = [sum(inst.modes[j][0][1][k] * durations[j] for j in jobs if k < len(inst.modes[j][0][1]))
              for k in range(len(res))]
    rlb = max((math.ceil(demand[k] / inst.availability[k]) for k in range(len(res))
               if k < len(inst.availability) and inst.availability[k] > 0), default=0)
    extra: dict[str, Any] = {
        "source": str(file), "instance": inst.name, "jobs": len(jobs), "horizon": inst.horizon,
        "due_date": inst.due_date, "mpm_time": inst.mpm_time, "critical_path_length": cpl,
        "resource_lower_bound": rlb, "lower_bound": max(cpl, rlb),
        "resources": dict(zip(res, inst.availability, strict=False)),
        "requests": {str(j): dict(zip(res, inst.modes[j][0][1], strict=False)) for j in jobs},
        "modes": {str(j): [{"duration": d, "requests": dict(zip(res, r, strict=False))} for d, r in inst.modes[j]]
                  for j in multi},
    }
    if inst.mpm_time is not None and inst.mpm_time != cpl:
        notes.append(f"The file's MPM-Time is {inst.mpm_time}, the critical path of its precedence relations is {cpl}.")
    best = _best_known(file)
    if best is not None:
        extra["best_known_makespan"] = best[1]
        if best[0] is not None and best[0] != best[1]:
            extra["best_lower_bound"] = best[0]        # the optimum is not proven: it lies in this range
    data = {"pmrisk": 1, "project": {"name": inst.name}, "tasks": tasks}
    return Imported(data=data, notes=notes, extra=extra, fmt="psplib")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise ProjectError(f"{path}: cannot be read ({exc.strerror or exc}).") from None


def _locate(p: Path, instance: int | str | None) -> tuple[Path, _Instance]:
    if p.is_dir():
        names = list_instances(p)
        if not names:
            raise ProjectError(f"{p}: the folder holds no PSPLIB file (.sm, .mm). Name a file or another folder.")
        if instance is None:
            raise ProjectError(f"{p}: the folder holds {len(names)} instances; choose one with instance= (a name such "
                               f"as {names[0]!r} or a position 0..{len(names) - 1}).")
        name = _pick(names, instance, p)
        file = next(f for f in p.iterdir() if f.is_file() and f.stem == name and f.suffix.lower() in _SUFFIXES)
        insts = _parse(file, _read_text(file))
        if len(insts) > 1:
            raise ProjectError(f"{file}: the file holds {len(insts)} instances; read the file itself with instance=.")
        return file, insts[0]
    if not p.is_file():
        raise ProjectError(f"{p}: no such file or folder. Give a PSPLIB .sm/.mm file or a folder of them.")
    insts = _parse(p, _read_text(p))
    if len(insts) == 1 and instance in (None, 0, insts[0].name, p.name, p.stem):
        return p, insts[0]
    if instance is None:
        raise ProjectError(f"{p}: the file holds {len(insts)} instances; choose one with instance= (a position "
                           f"0..{len(insts) - 1} or a name such as {insts[0].name!r}).")
    names = [i.name for i in insts]
    return p, insts[names.index(_pick(names, instance, p))]


def _pick(names: list[str], instance: int | str, where: Path) -> str:
    if isinstance(instance, int) and not isinstance(instance, bool):
        if not 0 <= instance < len(names):
            raise ProjectError(f"{where}: there is no instance {instance}; positions run from 0 to {len(names) - 1}.")
        return names[instance]
    key = Path(str(instance)).stem if str(instance).lower().endswith(_SUFFIXES) else str(instance)
    if key not in names:
        import difflib

        close = difflib.get_close_matches(key, names, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ProjectError(f"{where}: no instance named {instance!r}.{hint} Use list_instances() to see them.")
    return key


def _ints(text: str, path: Path, line: int, what: str) -> list[int]:
    try:
        return [int(x) for x in text.split()]
    except ValueError:
        raise ProjectError(f"{path}, line {line}: expected whole numbers ({what}), found {text.strip()!r}. "
                           "Is this a PSPLIB .sm/.mm file?") from None


def _parse(path: Path, text: str) -> list[_Instance]:
    """Parse a file's instances (one, or several concatenated)."""
    insts: list[_Instance] = []
    cur: _Instance | None = None
    section = ""
    last_job = 0
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        low = line.lower()
        if not line or _RULE.match(line):
            section = ""
            continue
        key, _, value = (x.strip() for x in low.partition(":"))
        if key.startswith(("file with basedata", "projects")) and (cur is None or cur.successors):
            if cur is not None:
                insts.append(cur)
            cur = _Instance(name="", first_line=n)
        if cur is None:
            raise ProjectError(f"{path}, line {n}: expected a PSPLIB header ('file with basedata :' or 'projects :'), "
                               f"found {line[:60]!r}. Is this a PSPLIB .sm/.mm file?")
        if key.startswith("file with basedata"):
            cur.name = Path(line.split(":", 1)[1].strip()).stem
        elif key.startswith("jobs (incl"):
            cur.jobs = _ints(value, path, n, "number of jobs")[0]
        elif key.startswith("horizon"):
            cur.horizon = _ints(value, path, n, "horizon")[0]
        elif key.startswith("- renewable"):
            cur.resources = [f"R{k + 1}" for k in range(_ints(value.split()[0], path, n, "renewable resources")[0])]
        elif key in ("precedence relations", "requests/durations", "resourceavailabilities", "project information"):
            section = key
        elif not line[0].isdigit():
            continue                                          # column headings and other labels
        elif section == "project information":
            vals = _ints(line, path, n, "pronr, #jobs, rel.date, duedate, tardcost, MPM-Time")
            if len(vals) >= 6:
                cur.due_date, cur.mpm_time = vals[3], vals[5]
        elif section == "precedence relations":
            vals = _ints(line, path, n, "jobnr, #modes, #successors, successors")
            if len(vals) < 3 or len(vals) != 3 + vals[2]:
                raise ProjectError(f"{path}, line {n}: a precedence line is 'jobnr #modes #successors successors...' "
                                   f"with as many successors as announced; found {line!r}.")
            if vals[0] in cur.successors:
                raise ProjectError(f"{path}, line {n}: job {vals[0]} is listed twice in PRECEDENCE RELATIONS.")
            cur.successors[vals[0]], cur.n_modes[vals[0]] = vals[3:], vals[1]
        elif section == "requests/durations":
            vals = _ints(line, path, n, "jobnr, mode, duration, requests")
            width = 3 + len(cur.resources)
            if len(vals) == width:
                last_job, mode = vals[0], vals[1:]
            elif len(vals) == width - 1 and len(cur.modes.get(last_job, [])) < cur.n_modes.get(last_job, 1):
                mode = vals                                   # a further mode of the same job
            else:
                raise ProjectError(f"{path}, line {n}: a request line is 'jobnr mode duration' and one demand per "
                                   f"renewable resource ({width} numbers); found {line!r}.")
            if mode[1] < 0:
                raise ProjectError(f"{path}, line {n}: job {last_job} has a negative duration ({mode[1]}).")
            cur.modes.setdefault(last_job, []).append((mode[1], mode[2:]))
        elif section == "resourceavailabilities":
            cur.availability = _ints(line, path, n, "resource availabilities")
    if cur is not None and cur.successors:
        insts.append(cur)
    if not insts:
        raise ProjectError(f"{path}: no PRECEDENCE RELATIONS section found. Is this a PSPLIB .sm/.mm file?")
    for k, inst in enumerate(insts):
        inst.name = inst.name if len(insts) > 1 and inst.name else path.stem if len(insts) == 1 else f"{path.stem}#{k}"
        _check(inst, path)
    if len({i.name for i in insts}) < len(insts):
        for k, inst in enumerate(insts):
            inst.name = f"{inst.name}#{k}"
    return insts


def _check(inst: _Instance, path: Path) -> None:
    where = f"{path}, instance starting at line {inst.first_line}"
    jobs = set(inst.successors)
    if inst.jobs is not None and len(jobs) != inst.jobs:
        raise ProjectError(f"{where}: the header announces {inst.jobs} jobs, PRECEDENCE RELATIONS lists {len(jobs)}. "
                           "The file is incomplete or damaged.")
    for j, succ in inst.successors.items():
        unknown = [s for s in succ if s not in jobs]
        if unknown:
            raise ProjectError(f"{where}: job {j} has successor {unknown[0]}, which is not a job of the instance.")
    missing = sorted(jobs - set(inst.modes))
    if missing:
        raise ProjectError(f"{where}: job {missing[0]} has no line in REQUESTS/DURATIONS. The file is incomplete.")
    for j, modes in inst.modes.items():
        if j not in jobs:
            raise ProjectError(f"{where}: REQUESTS/DURATIONS has job {j}, which PRECEDENCE RELATIONS does not list.")
        if inst.n_modes.get(j, len(modes)) != len(modes):
            raise ProjectError(f"{where}: job {j} announces {inst.n_modes[j]} modes but REQUESTS/DURATIONS gives "
                               f"{len(modes)}.")
    if inst.resources and len(inst.availability) != len(inst.resources):
        raise ProjectError(f"{where}: RESOURCEAVAILABILITIES gives {len(inst.availability)} values for "
                           f"{len(inst.resources)} renewable resources.")


def _longest_path(jobs: list[int], successors: dict[int, list[int]], durations: dict[int, int], where: str) -> int:
    """Critical path length: the longest path over the FS precedence relations (Kahn's order)."""
    indeg = {j: 0 for j in jobs}
    for j in jobs:
        for s in successors[j]:
            indeg[s] += 1
    ready = [j for j in jobs if indeg[j] == 0]
    start = dict.fromkeys(jobs, 0)
    done = 0
    while ready:
        j = ready.pop()
        done += 1
        for s in successors[j]:
            start[s] = max(start[s], start[j] + durations[j])
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
    if done < len(jobs):
        stuck = sorted(j for j in jobs if indeg[j] > 0)
        raise ProjectError(f"{where}: the precedence relations have a cycle through jobs {stuck[:6]}. "
                           "A project network must be acyclic.")
    return max((start[j] + durations[j] for j in jobs), default=0)


def _template(template: Mapping[str, Any] | None, where: str) -> dict[str, Any] | None:
    if template is None:
        return None
    if not isinstance(template, Mapping):
        raise ProjectError(f"{where}: template must be a mapping such as {{'dist': 'pert', 'min': 0.8, 'max': 1.5}}.")
    unknown = set(template) - {"dist", "min", "likely", "max"}
    if unknown:
        raise ProjectError(f"{where}: unknown template key {sorted(unknown)[0]!r}; use dist, min, likely, max.")
    spec = {"dist": str(template.get("dist", "pert")).lower(), "min": template.get("min", 1.0),
            "likely": template.get("likely", 1.0), "max": template.get("max", 1.0)}
    if spec["dist"] not in ("pert", "triangular", "uniform"):
        raise ProjectError(f"{where}: template dist {spec['dist']!r} is not pert, triangular or uniform.")
    try:
        lo, ml, hi = (float(spec[k]) for k in ("min", "likely", "max"))
    except (TypeError, ValueError):
        raise ProjectError(f"{where}: template min, likely and max must be numbers (factors of the "
                           "duration).") from None
    if not 0 <= lo <= ml <= hi:
        raise ProjectError(f"{where}: template factors must satisfy 0 <= min <= likely <= max (got {lo}, {ml}, {hi}).")
    return {"dist": spec["dist"], "min": lo, "likely": ml, "max": hi}


def _ranged(d: int, spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"dist": spec["dist"], "min": d * spec["min"], "max": d * spec["max"]}
    if spec["dist"] != "uniform":
        out["likely"] = d * spec["likely"]
    return out


def _best_known(file: Path) -> tuple[int | None, int] | None:
    """(lower bound, best-known makespan) from ``optimum/optimum.csv`` beside the file (``104..105``
    or ``..70`` where the optimum is not proven; equal where it is), if there is one."""
    csv_path = file.parent / "optimum" / "optimum.csv"
    if not csv_path.is_file():
        return None
    try:
        for row in csv_path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
            name, _, value = row.partition(",")
            if name.strip() == file.name:
                low, _, high = value.strip().partition("..")
                return (int(low) if low else None), int(high or low)
    except (OSError, ValueError):
        return None
    return None
