"""``pmrisk history``: the shared datasets, reference-class uplift, cross-validated history models, and
fitted models saved as files (``fit``) and used for forecasts (``predict``).

Thin shells over :mod:`pmrisk.history`. Errors in the user's input end with a one-paragraph
message and exit status 2, never with a traceback (the handling of :mod:`pmrisk.cli`), and no
command ever writes over one of its input files.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from pmrisk.risk.cli import _fail, _guard, _seed  # one error handling for every command group

DEFAULT_SEED = 42            # as pmrisk.cli


def _finite(obj: Any) -> Any:
    """NaN and infinities become null: JSON has no NaN."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def _emit_json(data: Any, out: str, inputs: list[Path]) -> None:
    from pmrisk.cli import _write_output

    _write_output(json.dumps(_finite(data), indent=2, allow_nan=False), out, inputs)


def _inputs(data: str) -> list[Path]:
    """The input file (never overwritten), when DATA is a file rather than a dataset name."""
    return [Path(data)] if Path(data).exists() else []


def _check_json_target(json_out: str | None, inputs: list[Path]) -> None:
    """Refuse a bad --json path before any work is done."""
    if json_out is not None and json_out != "-":
        from pmrisk.cli import _check_output

        _check_output(json_out, inputs)


@click.group("history", context_settings={"help_option_names": ["-h", "--help"]})
def history() -> None:
    """Learn from past projects: shared datasets, reference-class uplift, model evaluation, fit and predict."""


_json_option = click.option("--json", "json_out", metavar="OUT|-", default=None,
                            help="Write JSON to a file, or to standard output with '-'.")
_seed_option = click.option("--seed", default=str(DEFAULT_SEED), show_default=True,
                            help="Random seed (same seed, same result); 'random' for fresh entropy.")


# --------------------------------------------------------------------------------------------
# pmrisk history datasets
# --------------------------------------------------------------------------------------------


def dataset_rows() -> list[dict[str, Any]]:
    """One entry per shared dataset, from its card: name, level, rows, target, estimate, unit, title."""
    from pmrisk.history.datasets import dataset_card, list_datasets

    rows = []
    for name in list_datasets():
        card = dataset_card(name)
        columns = card["columns"]
        target = card["target"]
        estimates = {c: s.get("estimate_for") for c, s in columns.items() if s["role"] == "estimate"}
        read = [f for f in card["files"] if f.get("read")]
        rows.append({"name": name, "level": card["level"], "rows": read[0].get("rows") if read else None,
                     "target": target, "unit": columns.get(target, {}).get("unit"),
                     "estimate": next((c for c, t in estimates.items() if t == target), None),
                     "estimates": estimates, "title": card.get("title", "")})
    return rows


@history.command("datasets")
@_json_option
@_guard
def datasets(json_out: str | None) -> None:
    """List the shared datasets of past projects and tasks (from their cards)."""
    rows = dataset_rows()
    if json_out is not None:
        _emit_json({"datasets": rows}, json_out, [])
        if json_out == "-":
            return
    header = ["Dataset", "Level", "Rows", "Target", "Estimate (plan)"]
    table = [[r["name"], r["level"], "" if r["rows"] is None else f"{r['rows']:,}",
              f"{r['target']}" + (f" ({r['unit']})" if r["unit"] else ""),
              ", ".join(f"{e} -> {t}" if t != r["target"] else e for e, t in r["estimates"].items())]
             for r in rows]
    click.echo(_table(header, table, right={2}))
    click.echo("\nRows: data rows of the main file (before the loader drops rows without a target). "
               "Datasets with an estimate give actual/planned ratios: 'pmrisk history uplift NAME'.")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Collection[int] = ()) -> str:
    widths = [max(len(str(x[i])) for x in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).rjust(widths[i]) if i in right else str(c).ljust(widths[i])
                         for i, c in enumerate(cells)).rstrip()

    return "\n".join([click.style(line(header), bold=True), *(line(r) for r in rows)])


# --------------------------------------------------------------------------------------------
# pmrisk history uplift
# --------------------------------------------------------------------------------------------


def _parse_exclude(values: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for value in values:
        column, sep, rest = value.partition("=")
        if not sep or not column.strip() or not rest.strip():
            raise click.BadParameter(f"{value!r}: write COLUMN=VALUE[,VALUE...], e.g. StatusCode=CANCELLED",
                                     param_hint="--exclude")
        out.setdefault(column.strip(), []).extend(v.strip() for v in rest.split(",") if v.strip())
    return out


@history.command("uplift")
@click.argument("data")
@click.option("--by", "by", multiple=True, metavar="COLUMN",
              help="Class column (sector, task type, size_class = tertiles of the plan, ...); repeat or separate "
                   "with commas for several.")
@click.option("--planned", default=None, metavar="COL", help="Plan column (required for a file).")
@click.option("--actual", default=None, metavar="COL",
              help="Actual column (required for a file; for a dataset, e.g. real_cost_eur).")
@click.option("--exclude", multiple=True, metavar="COLUMN=V1,V2",
              help="Leave out rows with these values (e.g. StatusCode=CANCELLED,ESTIMATED); repeatable.")
@click.option("--min-size", type=click.IntRange(min=1), default=20, show_default=True,
              help="Smallest class reported on its own.")
@click.option("--small", type=click.Choice(["fold", "flag"]), default="fold", show_default=True,
              help="Fold smaller classes into '(other)', or show them flagged with '*'.")
@click.option("--confidence", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.9,
              show_default=True, help="Confidence level of the bootstrap intervals.")
@click.option("--resamples", type=click.IntRange(min=1, max=1_000_000), default=2000, show_default=True,
              help="Bootstrap resamples per class.")
@_json_option
@_seed_option
@_guard
def uplift(data: str, by: tuple[str, ...], planned: str | None, actual: str | None, exclude: tuple[str, ...],
           min_size: int, small: str, confidence: float, resamples: int, json_out: str | None, seed: str) -> None:
    """How far past actuals ran over plan, and the uplift a plan needs for P50/P80/P90.

    DATA is a shared dataset name (see 'pmrisk history datasets') or a CSV, Excel or ARFF file of
    past projects or tasks with a plan and an actual column.
    """
    from pmrisk.errors import PmriskWarning
    from pmrisk.history.reference import reference_class_uplift

    inputs = _inputs(data)
    _check_json_target(json_out, inputs)
    columns = [c.strip() for value in by for c in value.split(",") if c.strip()]
    with warnings.catch_warnings():     # the notes are part of the result (printed below, and in the JSON)
        warnings.simplefilter("ignore", PmriskWarning)
        result = reference_class_uplift(data, by=columns, planned=planned, actual=actual,
                                        exclude=_parse_exclude(exclude), min_class_size=min_size,
                                        small="flag" if small == "flag" else "fold", confidence_level=confidence,
                                        resamples=resamples, rng=_seed(seed))
    if json_out is not None:
        _emit_json({**result.to_dict(), "seed": _seed(seed)}, json_out, inputs)
        if json_out == "-":
            return
    click.echo(format_uplift(result, seed=_seed(seed)))


def _pct(x: float, digits: int = 0) -> str:
    return "" if not math.isfinite(x) else f"{100 * x:.{digits}f}%"


def _signed(x: float) -> str:
    return "" if not math.isfinite(x) else f"{x:+.0f}%"


def _ratio(x: float) -> str:
    return "" if not math.isfinite(x) else f"{x:.2f}" if x < 100 else f"{x:,.0f}"


def format_uplift(result: Any, seed: int | None = None) -> str:
    """The readable table ``pmrisk history uplift`` prints (``result``: a ReferenceClassUplift)."""
    from pmrisk.history.reference import UPLIFT_LEVELS

    uplift = result.dimensionless
    head = [f"P{lv} uplift" if uplift else f"P{lv} ratio" for lv in UPLIFT_LEVELS]
    header = ["Class", "n", "Overrun", "Mean", "Median", *head, "P95", "P99", "Max", ">2x", ">3x", "Tail α"]
    rows = []
    for c in result.classes:
        label = c.label if c.by is None else f"{c.by}={c.label}"
        cells = [label + (" *" if c.small else ""), f"{c.n:,}", _pct(c.share_overrun), _ratio(c.mean),
                 _ratio(c.median)]
        for lv in UPLIFT_LEVELS:
            low, high = c.intervals[f"P{lv}"]
            if uplift:
                cells.append(f"{_signed(c.uplift(lv))} ({_signed(100 * (low - 1))}..{_signed(100 * (high - 1))})")
            else:
                cells.append(f"{_ratio(c.quantiles[f'P{lv}'])} ({_ratio(low)}..{_ratio(high)})")
        cells += [_ratio(c.quantiles["P95"]), _ratio(c.quantiles["P99"]), _ratio(c.max), _pct(c.share_above_2x),
                  _pct(c.share_above_3x), "" if not math.isfinite(c.tail_index) else f"{c.tail_index:.1f}"]
        rows.append(cells)
    unit = f" ({result.unit})" if result.unit else ""
    dropped = "; ".join(f"{v:,} {k}" for k, v in result.dropped.items())
    lines = [click.style(result.source, bold=True) + f": {result.actual} against {result.planned}{unit}, "
             f"{result.n:,} ratios ({result.ratio_unit})" + (f"; left out: {dropped}" if dropped else ""), "",
             _table(header, rows, right=set(range(1, len(header)))), ""]
    conf = f"{100 * result.confidence_level:g}%"
    seeded = f", seed {seed}" if seed is not None else ""
    if uplift:
        lines.append("Uplift: what to add to a plan so that it is met with that confidence (P80: 8 past plans in "
                     "10 finished within it).")
    lines += [f"(a..b): {conf} bootstrap interval ({result.resamples:,} resamples{seeded}). Overrun: share with "
              "actual > plan. Mean, Median, P95, P99, Max: actual/planned.",
              ">2x, >3x: share of ratios above 2 and 3. Tail α: Hill tail index of the largest ratios (below 2, rare "
              "huge overruns dominate the spread; empty under 100 ratios)."]
    if any(c.small for c in result.classes):
        lines.append(f"*: fewer than {result.min_class_size} ratios; read as rough.")
    lines += [click.style(f"Note: {w}", fg="yellow") for w in result.warnings]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# pmrisk history evaluate
# --------------------------------------------------------------------------------------------


def _parse_cv(value: str) -> str | int:
    text = value.strip().lower()
    if text == "loo":
        return "loo"
    try:
        k = int(text)
    except ValueError:
        raise click.BadParameter(f"{value!r}: use 'loo' (leave-one-out) or a number of folds K >= 2") from None
    if k < 2:
        raise click.BadParameter(f"{value!r}: K-fold needs K >= 2 (or 'loo')")
    return k


def load_data(data: str, target: str, features: Sequence[str] | None) -> Any:
    """A shared dataset (by name) or a user's CSV/Excel/ARFF file, as a HistoryData."""
    from pmrisk.history.datasets import load_dataset, load_history
    from pmrisk.history.reference import resolve_source

    source = resolve_source(data)
    if isinstance(source, str):
        return load_dataset(source, target=target, features=features)
    return load_history(source, target=target, features=features)


@history.command("evaluate")
@click.argument("data")
@click.option("--target", required=True, metavar="COLUMN", help="The actual to predict (effort, cost, duration).")
@click.option("--features", default=None, metavar="A,B,...",
              help="Columns known before a project starts (default: the dataset card's, or every other column).")
@click.option("--cv", "cv", default="loo", show_default=True, metavar="loo|K",
              help="Leave-one-out, or K folds repeated and seeded.")
@_json_option
@_seed_option
@_guard
def evaluate(data: str, target: str, features: str | None, cv: str, json_out: str | None, seed: str) -> None:
    """Cross-validate the default history model on DATA: accuracy (MAE, SA, Pred25) and interval coverage.

    DATA is a CSV, Excel or ARFF file of past projects, or a shared dataset name.
    """
    from pmrisk.history.datasets import HistoryDataError

    try:
        from pmrisk.history.evaluate import evaluate as cross_validate
        from pmrisk.history.models import default_model
    except ImportError as exc:  # pragma: no cover - part of the package
        raise _fail(f"the history models are not available in this installation ({exc}).") from None

    folds = _parse_cv(cv)
    inputs = _inputs(data)
    _check_json_target(json_out, inputs)
    chosen = [f.strip() for f in features.split(",") if f.strip()] if features is not None else None
    if chosen is not None and not chosen:
        raise click.BadParameter("give at least one column name", param_hint="--features")
    history_data = load_data(data, target, chosen)
    if not history_data.features:
        raise HistoryDataError(f"{data}: no feature columns to learn from; name them with --features A,B,...")
    try:
        report = cross_validate(default_model(), history_data.X, history_data.y, cv=folds, rng=_seed(seed),
                                target=target, features=history_data.features)
    except ValueError as exc:
        raise HistoryDataError(f"{data}: {exc}") from None
    gaps = history_data.X.isna()
    if gaps.any(axis=None):
        click.secho(f"Note: {int(gaps.sum().sum()):,} feature value(s) are missing in {int(gaps.any(axis=1).sum()):,} "
                    f"of {len(gaps):,} rows; every row is kept, and the model fills each gap from the training rows "
                    "of its fold (a number: their median; a category: none of theirs).", err=True, fg="yellow")
    if json_out is not None:
        _emit_json(report, json_out, inputs)
        if json_out == "-":
            return
    click.echo(format_evaluation(report, data, history_data.units.get(target)))


def format_evaluation(report: Mapping[str, Any], data: str, unit: str | None = None) -> str:
    """The readable summary ``pmrisk history evaluate`` prints (``report``: the JSON of project-format.md)."""
    m = report["metrics"]
    cv = "leave-one-out" if report["cv"] == "loo" else f"{report['cv']}-fold"
    if report.get("repeats", 1) and report["cv"] != "loo":
        cv += f" x {report['repeats']}"
    unit_text = f" ({unit})" if unit else ""

    def num(key: str, digits: int = 2) -> str:
        value = m.get(key)
        return "" if value is None or not math.isfinite(value) else f"{value:,.{digits}f}"

    coverage = m.get("coverage", {})
    width = m.get("interval_width_ratio", {})
    lines = [click.style(f"{data}", bold=True) + f": {report.get('model', 'default model')}, {cv}, "
             f"{report['n']} projects, target {report['target']}{unit_text}",
             f"  features: {', '.join(report['features'])}",
             f"  MAE {num('MAE', 1)}   MdAE {num('MdAE', 1)}   SA {num('SA')}   Pred25 {num('Pred25')}",
             "  coverage " + "   ".join(f"{k} {v:.2f}" for k, v in coverage.items() if v is not None)
             + ("   (target: the P-level itself)" if coverage else "")]
    if width:
        lines.append("  interval width (median upper/lower) " + "   ".join(f"{k} {v:.2f}" for k, v in width.items()
                                                                          if v is not None))
    lines.append("SA: 1 - MAE / MAE of random guessing (1 perfect, 0 no better than guessing). Coverage: share of "
                 "held-out projects inside the central interval.")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# pmrisk history fit / predict
# --------------------------------------------------------------------------------------------


def _parse_fit_cv(value: str) -> Any:
    text = value.strip().lower()
    if text == "auto":
        return "auto"
    if text == "none":
        return None
    return _parse_cv(value)


@history.command("fit")
@click.argument("data")
@click.option("--target", required=True, metavar="COLUMN", help="The actual to predict (effort, cost, duration).")
@click.option("--features", default=None, metavar="A,B,...",
              help="Columns known before a project starts (default: the dataset card's, or every other column).")
@click.option("--estimate", default=None, metavar="COLUMN",
              help="The team's estimate of the target (default: the card's, if any; 'none' for no estimate).")
@click.option("--model", "kind", type=click.Choice(["atlm", "logridge", "estimate-aware"]), default=None,
              help="Estimator, inside conformal predictive intervals (default: estimate-aware with an estimate, "
                   "else logridge).")
@click.option("--out", "out", required=True, metavar="MODEL.json", help="Where to save the fitted model (JSON).")
@click.option("--cv", "cv", default="auto", show_default=True, metavar="auto|loo|K|none",
              help="Cross-validation of the metrics saved with the model (auto: leave-one-out up to 100 rows, "
                   "else 10 folds).")
@click.option("--unit", default=None, metavar="UNIT",
              help="Unit of the target (and estimate) when the data do not say, e.g. hours or EUR.")
@click.option("--post-project", "post_project", default=None, metavar="A,B,...",
              help="Columns of a file known only after a project ended (never used as features).")
@_json_option
@_seed_option
@_guard
def fit(data: str, target: str, features: str | None, estimate: str | None, kind: str | None, out: str, cv: str,
        unit: str | None, post_project: str | None, json_out: str | None, seed: str) -> None:
    """Fit a history model on DATA and save it (with where it came from and its cross-validated accuracy).

    DATA is a CSV, Excel or ARFF file of past projects (or tasks), or a shared dataset name. The saved
    MODEL.json feeds 'pmrisk history predict', a project's 'top_down:' check, and (estimate-aware
    models) 'pmrisk simulate --calibrate MODEL.json'.
    """
    from pmrisk.cli import _check_output
    from pmrisk.history.fitted import fit_history_model

    inputs = _inputs(data)
    target_path = _check_output(out, inputs, ".json")
    _check_json_target(json_out, [*inputs, target_path])
    if json_out not in (None, "-") and Path(json_out).resolve() == target_path.resolve():
        raise _fail(f"{json_out}: is also --out; give the JSON report another name.")
    chosen = _columns(features, "--features")
    fitted = fit_history_model(data, target, features=chosen, estimate=estimate, kind=kind, cv=_parse_fit_cv(cv),
                               rng=_seed(seed), unit=unit, post_project=_columns(post_project, "--post-project") or ())
    _save_atomic(fitted, target_path)
    meta = fitted.metadata
    if json_out is not None:
        _emit_json({"model_file": str(target_path), **meta}, json_out, [*inputs, target_path])
        if json_out == "-":
            return
    click.echo(format_fit(meta, str(target_path)))


def _columns(text: str | None, option: str) -> list[str] | None:
    if text is None:
        return None
    cols = [c.strip() for c in text.split(",") if c.strip()]
    if not cols:
        raise click.BadParameter("give at least one column name", param_hint=option)
    return cols


def _save_atomic(fitted: Any, target: Path) -> None:
    """Save next to ``target`` and move into place, so a failed write never leaves half a model."""
    import os
    import tempfile

    parent = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        fitted.save(tmp)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def format_fit(meta: Mapping[str, Any], out: str) -> str:
    """What ``pmrisk history fit`` prints: the model, its data and its cross-validated accuracy."""
    unit = f" ({meta['unit']})" if meta.get("unit") else ""
    src = meta.get("dataset") or meta["files"][0]["path"]
    lines = [click.style(f"Saved {out}", bold=True) + f": {meta['model']} on {src}, {meta['n']:,} rows, "
             f"target {meta['target']}{unit}",
             f"  inputs: {', '.join(meta['inputs'])}" + (f" (estimate: {meta['estimate']})" if meta.get("estimate")
                                                         else "")]
    m = meta.get("metrics")
    if m:
        cv = "leave-one-out" if meta["cv"] == "loo" else f"{meta['cv']}-fold x {meta.get('repeats') or 1}"

        def num(key: str, digits: int = 2) -> str:
            v = m.get(key)
            return "n/a" if v is None else f"{v:,.{digits}f}"

        cov = m.get("coverage") or {}
        lines.append(f"  cross-validated ({cv}): MAE {num('MAE', 1)}  MdAE {num('MdAE', 1)}  SA {num('SA')}  "
                     f"Pred25 {num('Pred25')}  coverage " + "  ".join(f"{k} {v:.2f}" for k, v in cov.items()
                                                                     if v is not None))
    lines.append("  files: " + ", ".join(f"{f['path']} (sha256 {f['sha256'][:12]}...)" for f in meta["files"]))
    return "\n".join(lines)


def _parse_set(values: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{value!r}: write FEATURE=VALUE, e.g. Size=450", param_hint="--set")
        out[name.strip()] = rest.strip()
    return out


@history.command("predict")
@click.argument("model_file", metavar="MODEL.json")
@click.option("--set", "values", multiple=True, metavar="FEATURE=VALUE",
              help="An input of the model for the new project (repeat for each input).")
@_json_option
@_guard
def predict(model_file: str, values: tuple[str, ...], json_out: str | None) -> None:
    """Forecast a new project with a saved model: its P10/P50/P80/P90.

    MODEL.json is a file written by 'pmrisk history fit'. Loading it never executes code.
    """
    from pmrisk.history.fitted import open_model

    _check_json_target(json_out, [Path(model_file)])
    fm = open_model(model_file)
    given = fm.check_inputs(_parse_set(values))
    q = fm.predict([given]).quantiles([0.1, 0.5, 0.8, 0.9])[0]
    quantiles = {f"P{lv}": float(v) for lv, v in zip((10, 50, 80, 90), q, strict=True)}
    result = {"model_file": model_file, "model": fm.name, "dataset": fm.source, "n": fm.n, "target": fm.target,
              "unit": fm.unit, "features": given,
              "quantiles": quantiles}
    if json_out is not None:
        _emit_json(result, json_out, [Path(model_file)])
        if json_out == "-":
            return
    unit = f" ({fm.unit})" if fm.unit else ""
    lines = [click.style(f"{model_file}", bold=True) + f": {fm.name} on {fm.source} ({fm.n:,} past rows), "
             f"{fm.target}{unit}",
             "  " + ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in given.items()),
             _table(["", "P10", "P50", "P80", "P90"],
                    [[fm.target or "prediction", *[f"{v:,.1f}" for v in quantiles.values()]]],
                    right={1, 2, 3, 4})]
    click.echo("\n".join(lines))
