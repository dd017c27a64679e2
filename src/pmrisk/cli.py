"""The ``pmrisk`` command: thin shells over the Python API.

Errors in the user's input end with a one-paragraph message on standard error and exit status 2,
never with a traceback.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from pmrisk.errors import PmriskError, PmriskWarning

EXIT_USAGE = 2
MAX_RUN_ITERATIONS = 100_000_000     # as pmrisk.engine.simulate (not imported here: start-up time)
MAX_CHUNK = 65_536
DEFAULT_SEED = 42


class _Fail(click.ClickException):
    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.secho(f"Error: {self.format_message()}", err=True, fg="red")


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn user errors into a clear message and exit status 2."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", PmriskWarning)
                out = fn(*args, **kwargs)
            for w in caught:
                if issubclass(w.category, PmriskWarning):
                    click.secho(f"Warning: {w.message}", err=True, fg="yellow")
                else:
                    warnings.showwarning(w.message, w.category, w.filename, w.lineno)
            return out
        except PmriskError as exc:
            raise _Fail(str(exc)) from None
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            raise _Fail(f"{exc.filename or ''}: {exc.strerror}") from None

    return wrapper


def _check_output(out: str, inputs: Sequence[Path], suffixes: str | Sequence[str] | None = None) -> Path:
    """Refuse an output path that is an input file, a folder, in a missing folder, or of the wrong type."""
    target = Path(out)
    for src in inputs:
        if target.exists() and src.exists() and target.resolve() == src.resolve():
            raise _Fail(f"{out}: is an input file; pmrisk never overwrites its input. Choose another name.")
    if suffixes is not None:
        allowed = [suffixes] if isinstance(suffixes, str) else list(suffixes)
        if target.suffix.lower() not in allowed:
            raise _Fail(f"{out}: give a file name ending in {' or '.join(allowed)}.")
    if target.is_dir():
        raise _Fail(f"{out}: is a folder; give a file name.")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise _Fail(f"{out}: the folder {parent} does not exist.")
    return target


def _write_output(text: str, out: str, inputs: list[Path]) -> None:
    """Write ``text`` to ``out`` (``-``: standard output) atomically, never over an input file."""
    if out == "-":
        click.echo(text)
        return
    target = _check_output(out, inputs)
    parent = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pmrisk", prog_name="pmrisk")
def main() -> None:
    """pmrisk: when will the project finish, what will it cost, and how sure are we?"""


def _parse_seed(value: str) -> int | None:
    if value.lower() in ("random", "none"):
        return None
    try:
        seed = int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a whole number (or 'random')") from None
    if seed < 0:
        raise click.BadParameter("the seed must be >= 0")
    return seed


_FORMAT_HELP = ("Read PROJECT_FILE as this format (default: from the extension and content): yaml, json, toml, "
                "table (CSV/Excel task list), mspdi (MS Project XML), xer (Primavera P6), dslib (Ghent DSLIB "
                "workbook), psplib (.sm), mpp (MS Project binary, needs the mpp extra).")


def _format_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--format, --ranges and --template: how an imported schedule is read."""
    fn = click.option("--template", metavar="LOW,HIGH", default=None,
                      help="Imported schedules: a quick-risk range on every task without one, as fractions of "
                           "its planned duration, e.g. 0.9,1.25 (-10%/+25%).")(fn)
    fn = click.option("--ranges", metavar="MIN,LIKELY,MAX", default=None,
                      help="Imported schedules: the custom fields that hold each task's min, likely and max "
                           "duration, e.g. Duration1,Duration2,Duration3.")(fn)
    return click.option("--format", "fmt", type=click.Choice(["yaml", "json", "toml", "table", "mspdi", "xer",
                                                              "dslib", "psplib", "mpp"]),
                        default=None, help=_FORMAT_HELP)(fn)


def _load(project_file: Path, fmt: str | None, ranges: str | None, template: str | None, notes: bool = True) -> Any:
    """Load PROJECT_FILE with the reader options of the command line."""
    import pmrisk

    options: dict[str, Any] = {}
    if ranges:
        parts = [x.strip() for x in ranges.split(",")]
        if len(parts) != 3 or not all(parts):
            raise _Fail(f"--ranges {ranges!r}: give three field names, MIN,LIKELY,MAX (e.g. "
                        "Duration1,Duration2,Duration3).")
        options["ranges"] = {"min": parts[0], "likely": parts[1], "max": parts[2]}
    if template:
        try:
            lo, hi = (float(x) for x in template.split(","))
        except ValueError:
            raise _Fail(f"--template {template!r}: give two fractions LOW,HIGH such as 0.9,1.25.") from None
        if not 0 < lo <= 1 <= hi:
            raise _Fail(f"--template {template!r}: need 0 < LOW <= 1 <= HIGH (fractions of the planned duration).")
        options["template"] = {"min": lo, "max": hi}
    project = pmrisk.load_project(project_file, format=fmt, **options)
    for note in project.notes if notes else ():
        click.secho(f"Import note: {note}", err=True, fg="yellow")
    return project


@main.command()
@click.argument("project_file", type=click.Path(dir_okay=True, path_type=Path))
@click.option("-n", "--iterations", type=click.IntRange(min=1, max=MAX_RUN_ITERATIONS), default=10_000,
              show_default=True, help="Monte Carlo iterations.")
@click.option("--seed", default=str(DEFAULT_SEED), show_default=True,
              help="Random seed (same seed, same result); 'random' for fresh entropy (the seed used is shown).")
@click.option("--json", "json_out", metavar="OUT|-", default=None,
              help="Write the JSON summary to a file, or to standard output with '-'.")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Threads (0 = all cores). Never changes the result.")
@click.option("--chunk-size", type=click.IntRange(min=1, max=MAX_CHUNK), default=None,
              help="Iterations per chunk (default: automatic). Never changes the result.")
@click.option("--p80-tolerance", type=click.FloatRange(min=0, min_open=True), default=None, metavar="DAYS",
              help="Keep doubling the iterations until the P80 duration's standard error is at most DAYS.")
@click.option("--max-iterations", type=click.IntRange(min=1, max=MAX_RUN_ITERATIONS), default=1_000_000,
              show_default=True, help="Upper bound on iterations with --p80-tolerance.")
@click.option("--top", type=click.IntRange(min=0), default=8, show_default=True,
              help="Tasks and risks shown in the tables.")
@click.option("--mitigated", is_flag=True,
              help="Simulate the risks after their responses (and show the change against before).")
@click.option("--no-ranking", is_flag=True, help="Skip the risk ranking (one extra light pass per risk).")
@click.option("--excel", "excel_out", metavar="OUT.xlsx", default=None,
              help="Also write an Excel workbook: summary, P-levels, tasks, drivers, the ranked risk register, "
                   "with charts.")
@click.option("--excel-iterations", is_flag=True,
              help="With --excel: add every iteration's duration and cost (sheet Iterations).")
@click.option("--report", "report_out", metavar="OUT.html", default=None,
              help="Also write a self-contained HTML report (charts, tables, assumptions) for a budget review.")
@click.option("--calibrate", "calibrate", metavar="HISTORY|MODEL.json", default=None,
              help="Calibrate on past plans and their actuals: a shared dataset (pmrisk history datasets), a "
                   "CSV/Excel/ARFF file, or a MODEL.json estimate-aware model from 'pmrisk history fit' (each "
                   "task's own overrun from its estimate); overrides the file's 'calibration:' section. 'none' "
                   "turns it off.")
@click.option("--calibration-level", type=click.Choice(["project", "task"]), default="project", show_default=True,
              help="With --calibrate: one past ratio an iteration for the whole plan, or one per task.")
@click.option("--dates", "dates_out", metavar="OUT.csv", default=None,
              help="Also write each task's P10/P50/P80/P90 start and finish (working days and dates) to a CSV.")
@click.option("--mspdi", "mspdi_out", metavar="OUT.xml", default=None,
              help="Also write the project as MS Project XML with each task's P50/P80/P90 start and finish dates, "
                   "criticality and sensitivity in custom fields (Start1-3, Date1-3, Number1-2).")
@click.option("--strict", is_flag=True, help="Refuse to simulate a schedule with health warnings or failed "
                                               "DCMA checks (see pmrisk validate); exit status 2.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@_format_options
@_guard
def simulate(project_file: Path, iterations: int, seed: str, json_out: str | None, workers: int,
             chunk_size: int | None, p80_tolerance: float | None, max_iterations: int, top: int,
             mitigated: bool, no_ranking: bool, excel_out: str | None, excel_iterations: bool,
             report_out: str | None, calibrate: str | None,
             calibration_level: str, dates_out: str | None, mspdi_out: str | None, strict: bool, quiet: bool,
             fmt: str | None, ranges: str | None, template: str | None) -> None:
    """Simulate PROJECT_FILE and print (or write) the forecast."""
    import pmrisk
    from pmrisk.report.terminal import format_comparison, format_summary

    rng = _parse_seed(seed)
    project = _load(project_file, fmt, ranges, template)
    if strict:
        from pmrisk.health import validate_project

        _strict(True, validate_project(project), str(project_file))
    bar = None
    progress = None
    show_bar = (not quiet and sys.stderr.isatty() and iterations * len(project.tasks) >= 2_000_000)
    if show_bar:
        from tqdm import tqdm

        bar = tqdm(total=100, unit="%", desc="simulating", leave=False, file=sys.stderr)

        def progress(done: int, total: int) -> None:
            pct = math.floor(100 * done / max(total, 1))
            bar.update(pct - bar.n)

    if excel_out is not None:
        _check_output(excel_out, [project_file], ".xlsx")
    elif excel_iterations:
        raise _Fail("--excel-iterations adds a sheet to the --excel workbook; give --excel OUT.xlsx too.")
    if report_out is not None:
        _check_output(report_out, [project_file], (".html", ".htm"))
    if dates_out is not None:
        _check_output(dates_out, [project_file], ".csv")
    if mspdi_out is not None:
        _check_output(mspdi_out, [project_file], ".xml")
    cal: Any = None
    if calibrate is not None:
        if calibrate.strip().lower() == "none":
            cal = False
        elif calibrate.strip().lower().endswith(".json"):      # a fitted overrun model: one ratio per task
            cal = {"model": calibrate}
        else:
            cal = {"reference": calibrate, "level": calibration_level}
    try:
        result = pmrisk.simulate(project, iterations=iterations, rng=rng, workers=workers,
                                 chunk_size=chunk_size, p80_tolerance=p80_tolerance, mitigated=mitigated,
                                 rank_risks=not no_ranking, max_iterations=max(max_iterations, iterations),
                                 progress=progress, calibrate=cal,
                                 task_starts=dates_out is not None or mspdi_out is not None)
        before = None
        if mitigated and project.risks:
            before = pmrisk.simulate(project, iterations=result.iterations, rng=result.seed, workers=workers,
                                     chunk_size=chunk_size, rank_risks=False, calibrate=cal)
    finally:
        if bar is not None:
            bar.close()
    summary = result.summary()
    if before is not None:
        summary["unmitigated"] = {k: before.summary()[k] for k in ("duration", "cost")}
    if excel_out is not None:
        from pmrisk.report.excel import write_excel_workbook

        write_excel_workbook(result, excel_out, before=before, iterations=excel_iterations,
                             source_path=project_file)
    if report_out is not None:
        from pmrisk.report.html import write_html_report

        write_html_report(result, report_out, before=before, source_path=project_file)
    if dates_out is not None:
        from pmrisk.report.dates import write_task_dates_csv

        write_task_dates_csv(result, dates_out)
    if mspdi_out is not None:
        from pmrisk.io.mspdi import write_mspdi

        for note in write_mspdi(project, mspdi_out, result=result):
            click.secho(f"MS Project XML: {note}", err=True, fg="yellow")
    if json_out is not None:
        _write_output(json.dumps(summary, indent=2, allow_nan=False), json_out, [project_file])
        if json_out == "-":
            return
    click.echo(format_summary(result, top=top))
    if before is not None:
        click.echo("")
        click.echo(format_comparison(before, result))
    if excel_out is not None:
        click.echo(f"\nWrote {excel_out}")
    if report_out is not None:
        click.echo(("" if excel_out else "\n") + f"Wrote {report_out}")
    for out in (dates_out, mspdi_out):
        if out is not None:
            click.echo(f"Wrote {out}")
    from pmrisk.health import schedule_warnings

    warnings = schedule_warnings(project)
    if warnings:
        click.secho(f"\nSchedule health: {len(warnings)} warning(s); see them with "
                    f"'pmrisk validate {project_file}'.", fg="yellow")


@main.command()
@click.argument("project_file", type=click.Path(dir_okay=True, path_type=Path))
@click.argument("out", metavar="OUT.html")
@click.option("-n", "--iterations", type=click.IntRange(min=1, max=MAX_RUN_ITERATIONS), default=10_000,
              show_default=True, help="Monte Carlo iterations.")
@click.option("--seed", default=str(DEFAULT_SEED), show_default=True,
              help="Random seed (same seed, same numbers); 'random' for fresh entropy.")
@click.option("--mitigated", is_flag=True,
              help="Simulate the risks after their responses, and show what the responses buy.")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Threads (0 = all cores). Never changes the result.")
@_format_options
@_guard
def report(project_file: Path, out: str, iterations: int, seed: str, mitigated: bool, workers: int,
           fmt: str | None, ranges: str | None, template: str | None) -> None:
    """Simulate PROJECT_FILE and write a self-contained HTML report to OUT.html.

    One file that opens offline in any browser: headline numbers, charts with a plain-language
    caption each, the task table, the ranked risk register and the assumptions (iterations, seed,
    version, the input file's SHA-256 checksum).
    """
    import pmrisk
    from pmrisk.report.html import write_html_report

    _check_output(out, [project_file], (".html", ".htm"))
    rng = _parse_seed(seed)
    project = _load(project_file, fmt, ranges, template)
    result = pmrisk.simulate(project, iterations=iterations, rng=rng, workers=workers, mitigated=mitigated)
    before = None
    if mitigated and project.risks:
        before = pmrisk.simulate(project, iterations=result.iterations, rng=result.seed, workers=workers,
                                 rank_risks=False)
    write_html_report(result, out, before=before, source_path=project_file)
    click.echo(f"Wrote {out}")


@main.command()
@click.argument("project_file", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--json", "json_out", metavar="OUT|-", default=None,
              help="Write the findings as JSON to a file, or to standard output with '-'.")
@click.option("--strict", is_flag=True, help="Treat every warning and failed check as an error (exit status 2).")
@_format_options
@_guard
def validate(project_file: Path, json_out: str | None, strict: bool, fmt: str | None, ranges: str | None,
             template: str | None) -> None:
    """Check PROJECT_FILE without simulating: structure, logic, schedule health (DCMA checks)."""
    from pmrisk.health import validate_project

    project = _load(project_file, fmt, ranges, template, notes=False)      # the notes are in the report
    report = validate_project(project)
    if json_out is not None:
        _write_output(json.dumps(report, indent=2, allow_nan=False), json_out, [project_file])
    if json_out != "-":
        click.secho(f"{project_file}: valid", fg="green", bold=True)
        click.echo(f"  {report['tasks']} tasks ({report['milestones']} milestones), {report['links']} links, "
                   f"{report['risks']} risks")
        score = report["quality_score"]
        click.echo(f"  Schedule health (DCMA 14-point checks that apply without a baseline): "
                   f"{'n/a' if score is None else f'{score:g}/100'}")
        for c in report["checks"]:
            mark = {"pass": click.style("pass", fg="green"), "fail": click.style("FAIL", fg="red", bold=True),
                    "n/a": click.style("n/a ", dim=True)}[c["result"]]
            val = "" if c["value"] is None else (f"{c['value']:.0%}" if isinstance(c["value"], float)
                                                 and c["threshold"].endswith(("tasks", "links")) else f"{c['value']}")
            extra = f" ({c['count']}: {', '.join(c['items'][:5])}{' ...' if c['count'] > 5 else ''})" \
                if c["result"] == "fail" and c["items"] else ""
            click.echo(f"    {mark} {c['id']:>2}. {c['name']}: {val or '-'} [{c['threshold']}]{extra}")
        if report["warnings"]:
            click.secho(f"  {len(report['warnings'])} warning(s):", fg="yellow")
            for w in report["warnings"]:
                click.echo(f"  - {w}")
        else:
            click.echo("  no warnings")
    _strict(strict, report, str(project_file))


def _strict(strict: bool, report: dict[str, Any], where: str) -> None:
    if not strict:
        return
    failed = [f"DCMA {c['id']} {c['name']}" for c in report["checks"] if c["result"] == "fail"]
    if failed or report["warnings"]:
        raise _Fail(f"{where}: --strict: {len(failed)} failed check(s) and {len(report['warnings'])} warning(s)"
                    + (f": {'; '.join(failed)}" if failed else "") + ". Fix them, or run without --strict.")


def _attach_groups() -> None:
    """The command groups of other modules (imported here, at the end: they use this module's helpers)."""
    from pmrisk.history.cli import history
    from pmrisk.risk.cli import register

    main.add_command(register)
    main.add_command(history)


_attach_groups()


if __name__ == "__main__":  # pragma: no cover
    main()
