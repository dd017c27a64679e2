"""Read a project file of any supported format into a validated :class:`~pmrisk.project.Project`."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

import yaml

from pmrisk.errors import ProjectError
from pmrisk.project import Project

YAML_SUFFIXES = {".yaml", ".yml"}
TABLE_SUFFIXES = {".csv", ".tsv", ".xlsx", ".xlsm"}
SUPPORTED = sorted(YAML_SUFFIXES | TABLE_SUFFIXES | {".json", ".toml"})


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


def read_project_data(path: str | os.PathLike[str]) -> tuple[Any, dict[str, dict[int, int]]]:
    """Parse a project file into raw data (no validation) and, per list section, the line of each entry."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED:
        raise ProjectError(f"{p}: unsupported file type '{suffix or '(none)'}'. pmrisk reads "
                           f"{', '.join(SUPPORTED)} project files.")
    if not p.exists():
        raise ProjectError(f"{p}: no such file. Check the path.")
    if p.is_dir():
        raise ProjectError(f"{p}: is a folder; give a project file.")
    if suffix in TABLE_SUFFIXES:
        from pmrisk.io.tabular import read_task_table

        data, task_lines = read_task_table(p)
        return data, {"tasks": task_lines}
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProjectError(f"{p}: is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8.") from None
    if suffix in YAML_SUFFIXES:
        return _read_yaml(p, text)
    if suffix == ".json":
        return _read_json(p, text)
    return _read_toml(p, text)


def load_project(path: str | os.PathLike[str]) -> Project:
    """Load and validate a project file (YAML, JSON, TOML, CSV or Excel task list).

    Parameters
    ----------
    path
        The project file. The format follows the suffix: ``.yaml``/``.yml``, ``.json``, ``.toml``,
        ``.csv``/``.tsv`` or ``.xlsx`` (one row per task).

    Returns
    -------
    Project
        The validated project.

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
    data, lines = read_project_data(path)
    if data is None:
        raise ProjectError(f"{path}: the file is empty. Add a 'tasks:' list (see examples/).")
    return Project.from_dict(data, source=str(path), lines=lines.get("tasks", {}), section_lines=lines)
