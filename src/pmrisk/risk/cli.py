"""``pmrisk register``: rank the risks, export the register, import a register into a project file.

Thin shells over :mod:`pmrisk.risk.register`. Errors in the user's input end with a one-paragraph
message and exit status 2, never with a traceback (the handling of :mod:`pmrisk.cli`), and no
command ever writes over one of its input files.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click
import yaml

DEFAULT_SEED = 42            # as pmrisk.cli
_FORMATS = (".xlsx", ".csv", ".md")
_YAML = (".yaml", ".yml")


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """pmrisk.cli's error handling, looked up when the command runs (no import cycle with pmrisk.cli)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from pmrisk.cli import _guard as guard

        return guard(fn)(*args, **kwargs)

    return wrapper


def _fail(message: str) -> click.ClickException:
    from pmrisk.cli import _Fail

    return _Fail(message)


def _seed(value: str) -> int | None:
    from pmrisk.cli import _parse_seed

    return _parse_seed(value)


def _target(out: str, inputs: Sequence[Path], suffixes: Sequence[str]) -> Path:
    """The output path, refused when it is an input file, a folder, in a missing folder or of another type."""
    from pmrisk.cli import _check_output

    return _check_output(out, inputs, suffixes)


def _simulate(project: Any, iterations: int, seed: str, mitigated: bool) -> Any:
    import pmrisk

    return pmrisk.simulate(project, iterations=iterations, rng=_seed(seed), mitigated=mitigated)


@click.group("register", context_settings={"help_option_names": ["-h", "--help"]})
def register() -> None:
    """The risk register: rank the risks, export the register, import one into a project file."""


_iterations = click.option("-n", "--iterations", type=click.IntRange(min=1, max=100_000_000), default=10_000,
                           show_default=True, help="Monte Carlo iterations.")
_seed_option = click.option("--seed", default=str(DEFAULT_SEED), show_default=True,
                            help="Random seed (same seed, same result); 'random' for fresh entropy.")
_mitigated = click.option("--mitigated", is_flag=True, help="Simulate the risks after their responses.")


@register.command("rank")
@click.argument("project_file", type=click.Path(dir_okay=True, path_type=Path))
@_iterations
@_seed_option
@_mitigated
@click.option("--json", "json_out", metavar="OUT|-", default=None,
              help="Write the ranked register as JSON to a file, or to standard output with '-'.")
@click.option("--top", type=click.IntRange(min=0), default=0, help="Show only the first N risks (0: all).")
@_guard
def rank(project_file: Path, iterations: int, seed: str, mitigated: bool, json_out: str | None, top: int) -> None:
    """Simulate PROJECT_FILE and rank its risks by what each adds to the P80 duration, then cost."""
    import pmrisk
    from pmrisk.risk.register import register_rows

    project = pmrisk.load_project(project_file)
    if not project.risks:
        if json_out is not None:
            _emit_json({"project": project.name, "risks": []}, json_out, [project_file])
            if json_out == "-":
                return
        click.echo(f"{project_file}: no risks to rank. Add them under 'risks:' or import a register with "
                   "'pmrisk register import'.")
        return
    result = _simulate(project, iterations, seed, mitigated)
    rows = register_rows(project, result)
    if json_out is not None:
        _emit_json({"project": project.name, "iterations": result.iterations, "seed": result.seed,
                    "mitigated": mitigated, "risks": rows}, json_out, [project_file])
        if json_out == "-":
            return
    click.echo(format_ranking(rows[:top] if top else rows, project.name, result.iterations, result.seed,
                              mitigated, project.currency, total=len(rows)))


def _emit_json(data: Mapping[str, Any], out: str, inputs: list[Path]) -> None:
    from pmrisk.cli import _write_output

    _write_output(json.dumps(_finite_json(data), indent=2, default=str, allow_nan=False), out, inputs)


def _finite_json(obj: Any) -> Any:
    """NaN and infinities (an empty statistic) become null: JSON has no NaN."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {k: _finite_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite_json(v) for v in obj]
    return obj


def format_ranking(rows: Sequence[Mapping[str, Any]], name: str, iterations: int, seed: int, mitigated: bool,
                   currency: str | None = None, total: int | None = None) -> str:
    """The readable ranking ``pmrisk register rank`` prints (``rows`` from ``register_rows``)."""
    cur = f" ({currency})" if currency else ""
    header = ["Rank", "ID", "Title", "Prob.", "P80 delay (d)", f"P80 cost{cur}", f"EMV{cur}", "Score"]
    table: list[list[str]] = []
    ratings: list[str] = []
    for r in rows:
        title = str(r.get("title") or "")
        table.append([str(r.get("rank", "")), str(r.get("id")), title if len(title) <= 40 else title[:39] + "…",
                      _pct(r.get("probability")), _num(r.get("P80_delay_contribution"), 1),
                      _num(r.get("P80_cost_contribution"), 0), _num(r.get("expected_cost"), 0),
                      f"{r.get('score', '')} {r.get('rating') or ''}".strip()])
        ratings.append(str(r.get("rating") or ""))
    widths = [max(len(x[i]) for x in [header, *table]) for i in range(len(header))]
    left = {1, 2, 7}

    def fmt(cells: list[str]) -> list[str]:
        return [c.ljust(widths[i]) if i in left else c.rjust(widths[i]) for i, c in enumerate(cells)]

    state = "after their responses" if mitigated else "before their responses"
    count = f"the top {len(rows)} of {total} risks" if total and total > len(rows) else f"{len(rows)} risk(s)"
    lines = [click.style(name, bold=True) + f": {count} {state}, ranked by what each adds to the P80 "
             f"duration, then cost ({iterations:,} iterations, seed {seed})", "",
             click.style("  ".join(fmt(header)).rstrip(), bold=True)]
    colour = {"low": "green", "medium": "yellow", "high": "red"}
    for cells, rating in zip(table, ratings, strict=True):
        out = fmt(cells)
        out[-1] = click.style(out[-1].rstrip(), fg=colour.get(rating))
        lines.append("  ".join(out).rstrip())
    lines += ["", "P80 delay/cost: how much the project's P80 drops when that risk alone is removed (same random "
              "numbers).", "EMV: probability x mean cost impact. Score: probability band x impact band "
              "(the project's risk_matrix)."]
    return "\n".join(lines)


def _pct(x: Any) -> str:
    return "" if x is None else f"{100 * float(x):.0f}%"


def _num(x: Any, digits: int) -> str:
    return "" if x is None else f"{float(x):,.{digits}f}"


@register.command("export")
@click.argument("project_file", type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--out", required=True, metavar="FILE",
              help="The register to write: .xlsx (formatted workbook), .csv or .md (Markdown table).")
@click.option("--simulate/--no-simulate", "simulate", default=True, show_default=True,
              help="Simulate first, to add occurrence, P80 contributions and the Summary sheet.")
@_iterations
@_seed_option
@_mitigated
@_guard
def export(project_file: Path, out: str, simulate: bool, iterations: int, seed: str, mitigated: bool) -> None:
    """Write the risk register of PROJECT_FILE to an Excel, CSV or Markdown file."""
    import pmrisk
    from pmrisk.risk.matrix import RiskMatrix
    from pmrisk.risk.register import (
        register_rows,
        write_register_csv,
        write_register_excel,
        write_register_markdown,
    )

    target = _target(out, [project_file], _FORMATS)
    project = pmrisk.load_project(project_file)
    matrix = RiskMatrix.for_project(project)
    result = _simulate(project, iterations, seed, mitigated) if simulate else None
    rows = register_rows(project, result, matrix)
    suffix = target.suffix.lower()
    if suffix == ".xlsx":
        write_register_excel(target, rows, matrix, summary=result.summary() if result is not None else None,
                             currency=project.currency)
    elif suffix == ".csv":
        write_register_csv(rows, target)
    else:
        write_register_markdown(rows, target)
    how = f", simulated ({result.iterations:,} iterations, seed {result.seed})" if result is not None else ""
    click.echo(f"Wrote {target}: {len(rows)} risk(s){how}.")


class _FlowDumper(yaml.SafeDumper):
    """A safe YAML dumper that writes small mappings and lists of plain values on one line."""


_SCALARS = (str, int, float, bool, dt.date)


def _represent_dict(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.Node:
    flat = len(data) <= 6 and all(isinstance(v, _SCALARS) or v is None for v in data.values()) \
        and all(not isinstance(v, str) or (len(v) <= 30 and "\n" not in v) for v in data.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=flat)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flat = all(isinstance(v, _SCALARS) for v in data) and sum(len(str(v)) + 2 for v in data) <= 80
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat)


_FlowDumper.add_representer(dict, _represent_dict)
_FlowDumper.add_representer(list, _represent_list)


def dump_project_yaml(data: Mapping[str, Any]) -> str:
    """A project dict as YAML, in the style of the examples (safe dumper; no Python tags)."""
    return yaml.dump(dict(data), Dumper=_FlowDumper, sort_keys=False, allow_unicode=True, width=110)


@register.command("import")
@click.argument("register_file", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--into", "project_file", required=True, type=click.Path(dir_okay=True, path_type=Path),
              help="The project file whose risks the register updates (it is not changed).")
@click.option("-o", "--out", required=True, metavar="NEW.yaml",
              help="The new project file to write (.yaml); '-' for standard output.")
@_guard
def import_register(register_file: Path, project_file: Path, out: str) -> None:
    """Merge the risks of REGISTER_FILE (.xlsx or .csv) into a project and write a new YAML project file.

    A risk whose id is already in the project replaces it; the others are added; the project's
    remaining risks are kept. The result is validated before it is written. The project file
    itself is not changed (comments in it are not carried over to the new file).
    """
    from pmrisk.errors import PmriskWarning
    from pmrisk.io.load import load_project, read_project_data
    from pmrisk.risk.matrix import RiskMatrix
    from pmrisk.risk.register import merge_register, read_register

    inputs = [register_file, project_file]
    if out != "-":
        _target(out, inputs, _YAML)
    data, _lines = read_project_data(project_file)
    if not isinstance(data, Mapping):
        from pmrisk.errors import ProjectError

        raise ProjectError(f"{project_file}: the project file must be a mapping with a 'tasks' list "
                           f"(got {type(data).__name__}); see examples/.")
    spec = data.get("risk_matrix")
    matrix = RiskMatrix.from_spec(spec, source=str(project_file))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PmriskWarning)
        risks = read_register(register_file, matrix)
    for w in caught:
        if issubclass(w.category, PmriskWarning):
            click.secho(f"Note: {w.message}", fg="yellow", err=True)
    old_ids = {str(r.get("id")).strip() for r in (data.get("risks") or []) if isinstance(r, Mapping)}
    new = merge_register(data, risks, source=str(project_file))
    from pmrisk.cli import _write_output

    _write_output(dump_project_yaml(new).rstrip("\n"), out, inputs)
    replaced = sum(1 for r in risks if str(r["id"]) in old_ids)
    if out != "-":
        load_project(out)                  # what was written reads back as a valid project
    click.echo(f"Imported {len(risks)} risk(s) from {register_file} ({replaced} replaced, {len(risks) - replaced} "
               f"new) into {out if out != '-' else 'standard output'}; the project has {len(new['risks'])} risk(s) "
               "and is valid.", err=out == "-")
