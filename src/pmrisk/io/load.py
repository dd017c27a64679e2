"""Read a project file of any supported format into a validated :class:`~pmrisk.project.Project`."""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from pathlib import Path
from typing import Any

import yaml

from pmrisk.errors import ProjectError
from pmrisk.io.formats import Imported
from pmrisk.project import Project

YAML_SUFFIXES = {".yaml", ".yml"}
TABLE_SUFFIXES = {".csv", ".tsv", ".xlsx", ".xlsm"}
SCHEDULE_SUFFIXES = {".xml", ".xer", ".sm", ".mpp"}
SUPPORTED = sorted(YAML_SUFFIXES | TABLE_SUFFIXES | SCHEDULE_SUFFIXES | {".json", ".toml"})
# --format values: pmrisk's own files, a task list, and the schedule formats of other tools
FORMATS = ("yaml", "json", "toml", "table", "mspdi", "xer", "dslib", "psplib", "mpp")
_BY_SUFFIX = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml", ".csv": "table", ".tsv": "table",
              ".xlsx": "table", ".xlsm": "table", ".xml": "mspdi", ".xer": "xer", ".sm": "psplib", ".mpp": "mpp"}


class _LineLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that records the line of every task mapping (never constructs objects)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    # remember where the mapping starts; popped again before validation
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a valid date ({exc}); write dates as YYYY-MM-DD",
            node.start_mark) from None


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def _strip_lines(obj: Any, seen: set[int] | None = None) -> Any:
    """Remove the ``__line__`` keys, visiting each object once (YAML aliases share objects, and a
    file of nested aliases must not take exponential time)."""
    seen = set() if seen is None else seen
    stack = [obj]
    while stack:
        cur = stack.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, dict):
            cur.pop("__line__", None)
            stack.extend(v for v in cur.values() if isinstance(v, dict | list))
        elif isinstance(cur, list):
            stack.extend(v for v in cur if isinstance(v, dict | list))
    return obj


SECTIONS = ("tasks", "risks", "drivers", "correlations", "branches")


def _section_lines(data: Any) -> dict[str, dict[int, int]]:
    """Line of each entry of each list section (tasks, risks, ...), where the reader knows it."""
    out: dict[str, dict[int, int]] = {}
    for name in SECTIONS:
        items = data.get(name) if isinstance(data, dict) else None
        if isinstance(items, list):
            out[name] = {i: int(t["__line__"]) for i, t in enumerate(items) if isinstance(t, dict) and "__line__" in t}
    return out


def _read_yaml(path: Path, text: str) -> tuple[Any, dict[str, dict[int, int]]]:
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass, no object construction
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ProjectError(f"Cannot parse {path}{where}: {exc.problem or exc}. "
                           "Check the indentation and the ':' after each key on that line.") from None
    except yaml.YAMLError as exc:
        raise ProjectError(f"Cannot parse {path}: {exc}") from None
    lines = _section_lines(data)
    return _strip_lines(data), lines


def _read_json(path: Path, text: str) -> tuple[Any, dict[str, dict[int, int]]]:
    try:
        return json.loads(text), {}
    except json.JSONDecodeError as exc:
        raise ProjectError(f"Cannot parse {path}, line {exc.lineno}, column {exc.colno}: {exc.msg}. "
                           "Fix the JSON syntax there.") from None


def _read_toml(path: Path, text: str) -> tuple[Any, dict[str, dict[int, int]]]:
    try:
        return tomllib.loads(text), {}
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"Cannot parse {path}: {exc}. Fix the TOML syntax there.") from None


def read_project_data(path: str | os.PathLike[str], fmt: str | None = None) -> tuple[Any, dict[str, dict[int, int]]]:
    """Parse a pmrisk project file or task list into raw data (no validation) and, per list section,
    the line of each entry."""
    p = Path(path)
    suffix = p.suffix.lower()
    fmt = fmt or _BY_SUFFIX.get(suffix)
    if fmt not in ("yaml", "json", "toml", "table"):
        raise ProjectError(f"{p}: unsupported file type '{suffix or '(none)'}'. pmrisk reads "
                           f"{', '.join(SUPPORTED)} project files.")
    if not p.exists():
        raise ProjectError(f"{p}: no such file. Check the path.")
    if p.is_dir():
        raise ProjectError(f"{p}: is a folder; give a project file.")
    if fmt == "table":
        from pmrisk.io.tabular import read_task_table

        data, task_lines = read_task_table(p)
        return data, {"tasks": task_lines}
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProjectError(f"{p}: is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8.") from None
    if fmt == "yaml":
        return _read_yaml(p, text)
    if fmt == "json":
        return _read_json(p, text)
    return _read_toml(p, text)


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format of a schedule file, from its extension and, where two formats share one, its
    content: an ``.xlsx`` is a Ghent DSLIB workbook when its sheets say so, else a task list; an
    ``.xml`` must be MS Project XML (MSPDI)."""
    p = Path(path)
    fmt = _BY_SUFFIX.get(p.suffix.lower())
    if fmt is None:
        raise ProjectError(f"{p}: unsupported file type '{p.suffix or '(none)'}'. pmrisk reads "
                           f"{', '.join(SUPPORTED)} files (or name the format with --format).")
    if fmt == "table" and p.suffix.lower() in (".xlsx", ".xlsm") and p.is_file():
        try:
            from pmrisk.io.dslib import is_dslib_workbook
        except ImportError:  # pragma: no cover - the DSLIB reader is part of the package
            return fmt
        if is_dslib_workbook(p):
            return "dslib"
    if fmt == "mspdi" and p.is_file():
        with open(p, "rb") as fh:
            head = fh.read(4096).decode("utf-8", "replace")
        if "<Project" not in head:
            raise ProjectError(f"{p}: an XML file that is not MS Project XML (no <Project> element at the top); "
                               "save the schedule from MS Project as 'XML Format (*.xml)'.")
    return fmt


def import_schedule(path: str | os.PathLike[str], fmt: str | None = None, **options: Any) -> Imported:
    """Read another tool's schedule (MSPDI, XER, DSLIB, PSPLIB, MPP) into a project mapping with the
    import notes and facts (:class:`~pmrisk.io.formats.Imported`); ``options`` go to the reader
    (``ranges=``, ``template=``, ``project=`` ...)."""
    p = Path(path)
    fmt = fmt or detect_format(p)
    if not p.exists():
        raise ProjectError(f"{p}: no such file. Check the path.")
    if fmt == "mspdi":
        from pmrisk.io.mspdi import read_mspdi

        return read_mspdi(p, **options)
    if fmt == "xer":
        from pmrisk.io.xer import read_xer

        t = options.get("template")
        if isinstance(t, dict) and set(t) == {"min", "max"}:      # fractions of the plan -> P6 relative changes
            options["template"] = (float(t["min"]) - 1.0, float(t["max"]) - 1.0)
        return read_xer(p, **options)
    if fmt == "dslib":
        from pmrisk.io.dslib import read_dslib

        return read_dslib(p, **options)
    if fmt == "psplib":
        from pmrisk.io.psplib import read_psplib

        return read_psplib(p, **options)
    if fmt == "mpp":
        from pmrisk.io.mpp import read_mpp

        return read_mpp(p, **options)
    raise ProjectError(f"{p}: '{fmt}' is not a schedule format pmrisk imports; use one of mspdi, xer, dslib, "
                       "psplib, mpp.")


def load_project(path: str | os.PathLike[str], format: str | None = None, **options: Any) -> Project:  # noqa: A002
    """Load and validate a project: a pmrisk file, a task list, or another tool's schedule.

    Parameters
    ----------
    path
        The file. Its format follows the extension and, where two formats share one, the content:
        ``.yaml``/``.yml``, ``.json``, ``.toml`` (pmrisk files), ``.csv``/``.tsv``/``.xlsx`` (one
        row per task), ``.xml`` (MS Project XML), ``.xer`` (Primavera P6), ``.xlsx`` Ghent DSLIB
        workbooks, ``.sm`` (PSPLIB), ``.mpp`` (MS Project binary, with the ``mpp`` extra).
    format
        Force a format: one of ``yaml, json, toml, table, mspdi, xer, dslib, psplib, mpp``.
    **options
        Reader options for imported schedules, e.g. ``ranges={"min": "Duration1", "likely":
        "Duration2", "max": "Duration3"}`` or ``template={"min": 0.9, "max": 1.25}``.

    Returns
    -------
    Project
        The validated project; an imported one carries its import notes (``project.notes``) and
        facts (``project.imported``).

    Raises
    ------
    pmrisk.errors.ProjectError
        For any problem in the file; the message names the file, the task id or line, what is wrong
        and how to fix it.

    Examples
    --------
    >>> import pmrisk, pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "p.yaml"
    >>> _ = f.write_text("tasks:\\n  - {id: A, duration: 5}\\n  - {id: B, duration: 3, depends_on: [A]}\\n")
    >>> pmrisk.load_project(f).task_ids
    ['A', 'B']
    """
    if format is not None and format not in FORMATS:
        raise ProjectError(f"{path}: unknown format '{format}'; use one of {', '.join(FORMATS)}.")
    fmt = format or detect_format(path)
    if fmt in ("mspdi", "xer", "dslib", "psplib", "mpp"):
        imp = import_schedule(path, fmt, **options)
        project = Project.from_dict(imp.data, source=str(path))
        notes = list(imp.notes)
        planned = imp.extra.get("planned_duration")
        if isinstance(planned, int | float) and planned == planned and fmt != "dslib":   # DSLIB checks its own
            from pmrisk.engine.simulate import deterministic_plan

            got = deterministic_plan(project)["duration"]
            if abs(got - planned) > max(0.5, 0.01 * abs(planned)):
                notes.append(f"{Path(path).name}: the imported plan computes to {got:g} working days, but the file's "
                             f"own schedule says {planned:g}: its dates are not what its durations and links give "
                             "(constraints, manual scheduling or stale dates). Check the schedule before trusting "
                             "the forecast.")
        return dataclasses.replace(project, notes=tuple(notes),
                                   imported={"format": imp.fmt or fmt, **imp.extra})
    if options:
        raise ProjectError(f"{path}: reader options ({', '.join(options)}) apply to imported schedules only.")
    data, lines = read_project_data(path, fmt)
    if data is None:
        raise ProjectError(f"{path}: the file is empty. Add a 'tasks:' list (see examples/).")
    return Project.from_dict(data, source=str(path), lines=lines.get("tasks", {}), section_lines=lines)
