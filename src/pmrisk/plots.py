"""Charts of a simulation for risk analysts, sponsors and budget reviewers (matplotlib only).

Every chart function draws on ``ax`` (a new figure when ``ax`` is None) and returns the Axes; none
shows, saves or closes the figure. :func:`figure_svg` turns a chart into an SVG string for an HTML
page (text stays text), :func:`save` writes it to a file and :func:`dashboard` puts the four
headline charts on one figure.

Durations are in working days from the project start; when the project has a start date the charts
also show calendar dates (a finish at working-day offset ``f`` falls on working day ``ceil(f) - 1``,
as everywhere in pmrisk). Costs are in the project's currency.

The artists that carry a number have a ``gid`` starting with ``pmrisk-`` (``pmrisk-p80``,
``pmrisk-target``, ``pmrisk-frontier``, ...), so tests and tools can find what was drawn.

``import pmrisk`` does not import matplotlib; this module imports it only when a chart is drawn.

Examples
--------
>>> import pmrisk
>>> from pmrisk import plots
>>> p = pmrisk.Project.from_dict({"tasks": [
...     {"id": "A", "duration": {"dist": "triangular", "min": 5, "likely": 8, "max": 15}}]})
>>> r = pmrisk.simulate(p, iterations=500, rng=1)
>>> ax = plots.s_curve(r)
>>> [bool(ln.get_xdata()[0] == r.percentile(80)) for ln in ax.get_lines() if ln.get_gid() == "pmrisk-p80"]
[True]
>>> plots.figure_svg(ax, close=True).startswith("<svg")
True
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pmrisk.project import Project
from pmrisk.report.fmt import pct as _pct
from pmrisk.results import SimulationResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "PALETTE",
    "calibration_plot",
    "compare_s_curves",
    "criticality",
    "dashboard",
    "figure_svg",
    "histogram",
    "jcl_frontier",
    "jcl_scatter",
    "merge_bias",
    "risk_matrix",
    "risk_tornado",
    "s_curve",
    "save",
    "tornado",
]

#: The one palette every chart uses (colour-blind safe, after Okabe and Ito).
PALETTE: dict[str, str] = {
    "main": "#0072B2",         # the simulated distribution, bars
    "light": "#9CC3E4",        # fills, tasks off the planned critical path
    "plan": "#444444",         # the deterministic plan
    "p50": "#009E73",
    "p80": "#E69F00",
    "band": "#8C8C8C",         # P10/P90, reference lines
    "target": "#D55E00",       # deadline and budget
    "threat": "#D55E00",
    "opportunity": "#009E73",
    "text": "#222222",
    "muted": "#666666",
    "grid": "#E6E6E6",
}
#: Colours of several series (scenarios, calibration series), in order.
SERIES = ("#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#444444")
#: Cell colours of the risk matrix by rating.
RATING_COLOURS = {"low": "#CFE8D5", "medium": "#FBE3A6", "high": "#F4B6A6"}

_TITLE_SIZE = 12
_LABEL_SIZE = 10
_TICK_SIZE = 9
_NOTE_SIZE = 8.5
_FIGSIZE = (8.0, 5.0)
_METRICS = ("P50_delay_contribution", "P80_delay_contribution", "P90_delay_contribution",
            "P50_cost_contribution", "P80_cost_contribution", "P90_cost_contribution",
            "expected_delay", "expected_cost", "mitigation_net_benefit")


# ============================================================================================
# helpers: figure, style, text
# ============================================================================================


def _axes(ax: Axes | None, figsize: tuple[float, float] = _FIGSIZE) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def _style(ax: Axes, grid: str = "both") -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#999999")
    ax.tick_params(labelsize=_TICK_SIZE, colors=PALETTE["text"])
    if grid != "none":
        ax.grid(True, axis=grid, color=PALETTE["grid"], linewidth=0.8)  # type: ignore[arg-type]
    ax.set_axisbelow(True)


def _title(ax: Axes, main: str, sub: str | None = None) -> None:
    ax.set_title(_plain(main), loc="left", fontsize=_TITLE_SIZE, fontweight="bold", color=PALETTE["text"])
    if sub:
        ax.set_title(_plain(sub), loc="right", fontsize=_NOTE_SIZE, color=PALETTE["muted"])


def _labels(ax: Axes, x: str, y: str) -> None:
    ax.set_xlabel(x, fontsize=_LABEL_SIZE, color=PALETTE["text"])
    ax.set_ylabel(y, fontsize=_LABEL_SIZE, color=PALETTE["text"])


def _plain(text: Any) -> str:
    """User text as matplotlib shows it literally: a ``$`` would otherwise start mathtext."""
    return str(text).replace("$", r"\$")


def _short(text: str, width: int = 42) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "\u2026"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(text))


def _message(ax: Axes, text: str, title: str | None = None) -> Axes:
    """An axes that says why there is nothing to draw, instead of an empty chart."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color(PALETTE["grid"])
    ax.text(0.5, 0.5, _plain(text), transform=ax.transAxes, ha="center", va="center", wrap=True,
            fontsize=11, color=PALETTE["muted"], gid="pmrisk-message")
    if title:
        _title(ax, title)
    return ax


def _days(x: float) -> str:
    s = f"{x:,.1f}"
    return s[:-2] if s.endswith(".0") else s




def _money(x: float, currency: str | None) -> str:
    s = f"{abs(x):,.0f}"
    sign = "-" if x < 0 else ""
    return f"{sign}{currency} {s}" if currency else f"{sign}{s}"


def _short_money(x: float, _pos: Any = None) -> str:
    a = abs(x)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{x / div:.4g}{suffix}"
    return f"{x:.4g}"


def _percent_axis(ax: Axes, axis: str = "y", decimals: int | None = 0) -> None:
    from matplotlib.ticker import PercentFormatter

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(PercentFormatter(xmax=1.0, decimals=decimals))


def _money_axis(ax: Axes, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(_short_money))


def _check_kind(kind: str) -> None:
    if kind not in ("duration", "cost"):
        raise ValueError(f"kind must be 'duration' or 'cost', not {kind!r}")


def _has_costs(result: SimulationResult) -> bool:
    return bool(np.any(np.asarray(result.costs) != 0))


def _values(result: SimulationResult, kind: str) -> np.ndarray:
    return np.asarray(result.durations if kind == "duration" else result.costs, dtype=float)


def _cost_label(project: Project) -> str:
    return f"Project cost ({project.currency})" if project.currency else "Project cost"


def _subtitle(result: SimulationResult) -> str:
    tag = " \u00b7 after responses" if result.mitigated else ""
    return f"{_short(result.project.name, 32)} \u00b7 {result.iterations:,} iterations{tag}"


def _target(result: SimulationResult, kind: str) -> float | None:
    p = result.project
    return p.deadline if kind == "duration" else p.budget


def _plan(result: SimulationResult, kind: str) -> float:
    return float(result.deterministic[kind])


# ---- dates ---------------------------------------------------------------------------------


def _use_dates(project: Project, kind: str, dates: bool | None) -> bool:
    if kind != "duration":
        return False
    if dates is None:
        return project.start is not None
    if dates and project.start is None:
        raise ValueError(f"dates=True needs a project start date, and '{project.name}' has none; "
                         "set project.start in the file or leave dates=None")
    return bool(dates)


def _finish_datenums(project: Project, offsets: Any) -> np.ndarray:
    """Matplotlib date numbers of the calendar days on which finishes at ``offsets`` fall."""
    from matplotlib.dates import date2num

    assert project.start is not None
    off = np.atleast_1d(np.asarray(offsets, dtype=float))
    idx = np.maximum(np.ceil(off - 1e-9).astype(np.int64) - 1, 0)
    days = np.asarray(project.calendar.day_date(project.start, idx), dtype="datetime64[D]")
    return np.asarray(date2num(days), dtype=float)


def _x_converter(project: Project, use_dates: bool) -> Callable[[Any], np.ndarray]:
    if use_dates:
        return lambda v: _finish_datenums(project, v)
    return lambda v: np.atleast_1d(np.asarray(v, dtype=float))


def _date_text(project: Project, offset: float) -> str:
    d = project.finish_date(offset)
    return d.isoformat() if d is not None else ""


def _fmt_value(project: Project, kind: str, v: float, use_dates: bool) -> str:
    if kind == "cost":
        return _money(v, project.currency)
    if use_dates:
        return _date_text(project, v)
    return f"{_days(v)} working days"


def _date_xaxis(ax: Axes) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    ax.xaxis_date()
    locator = AutoDateLocator(minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _secondary_date_axis(ax: Axes, project: Project) -> None:
    """Finish dates along the top of an axes whose x axis is working days."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    lo, hi = ax.get_xlim()
    last = max(int(math.ceil(hi)) + 10, 2)
    ks = np.arange(1, last + 1, dtype=float)
    nums = _finish_datenums(project, ks)
    first = min(lo, 0.0) - 10.0
    ks = np.concatenate([[first], ks])
    nums = np.concatenate([[nums[0] - (1.0 - first)], nums])

    def forward(x: Any) -> Any:
        return np.interp(x, ks, nums)

    def inverse(y: Any) -> Any:
        return np.interp(y, nums, ks)

    sec = ax.secondary_xaxis("top", functions=(forward, inverse))
    locator = AutoDateLocator(minticks=3, maxticks=8)
    sec.xaxis.set_major_locator(locator)
    sec.xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=False))
    sec.tick_params(labelsize=_TICK_SIZE, colors=PALETTE["muted"])
    sec.spines["top"].set_color("#BBBBBB")
    sec.set_xlabel("Finish date", fontsize=_NOTE_SIZE, color=PALETTE["muted"])


# ---- empirical distributions -----------------------------------------------------------------


def _ecdf(x: np.ndarray, max_points: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """The empirical CDF as steps: distinct values and the share of values at or below each.

    Thinned to at most ``max_points`` steps (at evenly spaced probabilities) so that an SVG stays
    small; a kept step is exact, a dropped one is drawn at the next kept probability's value.
    """
    xs, counts = np.unique(np.asarray(x, dtype=float), return_counts=True)
    ys = np.cumsum(counts) / counts.sum()
    if len(xs) > max_points:
        keep = np.unique(np.searchsorted(ys, np.linspace(0, 1, max_points + 1)[1:] - 1e-12, side="left"))
        keep = np.minimum(keep, len(xs) - 1)
        xs, ys = xs[keep], ys[keep]
    return xs, ys


def _draw_ecdf(ax: Axes, x: np.ndarray, colour: str, label: str | None, gid: str, lw: float = 2.2) -> None:
    xs, ys = _ecdf(x)
    ax.plot(np.concatenate([[xs[0]], xs]), np.concatenate([[0.0], ys]), drawstyle="steps-post", color=colour,
            lw=lw, label=label, gid=gid, zorder=3)


# ============================================================================================
# S-curve and histogram
# ============================================================================================


def s_curve(result: SimulationResult, kind: str = "duration", ax: Axes | None = None, dates: bool | None = None,
            *, title: str | None = None) -> Axes:
    """The S-curve: the chance of finishing by each date (or within each duration, or cost).

    Marks the deterministic plan (every estimate at its most likely value) with its chance, P50
    and P80, the deadline (or budget) with its chance, and annotates the P80 contingency over the
    plan.

    Parameters
    ----------
    result
        A :class:`~pmrisk.results.SimulationResult`.
    kind
        ``"duration"`` (finish) or ``"cost"``.
    ax
        The axes to draw on; a new figure when None.
    dates
        Show finish dates on the x axis (duration only). Default: when the project has a start.
    title
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes
        Its P50/P80/plan markers have ``gid`` ``pmrisk-p50``, ``pmrisk-p80``, ``pmrisk-plan``, the
        target line ``pmrisk-target`` and the contingency arrow ``pmrisk-contingency``.
    """
    _check_kind(kind)
    ax = _axes(ax)
    p = result.project
    if kind == "cost" and not _has_costs(result):
        return _message(ax, "No costs in this project: give tasks or risks a cost to see the cost S-curve.",
                        title or "Cost S-curve")
    use_dates = _use_dates(p, kind, dates)
    conv = _x_converter(p, use_dates)
    values = _values(result, kind)
    _draw_ecdf(ax, conv(values), PALETTE["main"], "Simulated", "pmrisk-cdf")

    def prob(v: float) -> float:
        return result.probability(duration=v) if kind == "duration" else result.probability(cost=v)

    box = {"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85}
    # P50 and P80: markers on the curve, labels to their left
    for lv, colour in ((50, PALETTE["p50"]), (80, PALETTE["p80"])):
        v = result.percentile(lv, kind)
        x = float(conv(v)[0])
        ax.plot([x, x], [0, lv / 100], color=colour, lw=1.2, ls=":", zorder=2)
        ax.plot([x], [lv / 100], marker="o", ms=8, color=colour, mec="white", mew=1.2, ls="none",
                gid=f"pmrisk-p{lv}", zorder=5, label=f"P{lv}")
        ax.annotate(f"P{lv}  {_fmt_value(p, kind, v, use_dates)}", (x, lv / 100), xytext=(-10, 0),
                    textcoords="offset points", ha="right", va="center", fontsize=_LABEL_SIZE,
                    fontweight="bold", color=colour, bbox=box, zorder=6)
    # the plan and the target: markers on the curve, labels to their right (kept apart)
    plan = _plan(result, kind)
    x_plan = float(conv(plan)[0])
    conf = prob(plan)
    target = _target(result, kind)
    t_conf = prob(target) if target is not None else None
    y_plan = max(conf, 0.1)
    if t_conf is not None and abs(y_plan - t_conf) < 0.11:
        y_plan = t_conf - 0.11 if t_conf - 0.11 >= 0.06 else t_conf + 0.11
    ax.plot([x_plan, x_plan], [0, conf], color=PALETTE["plan"], lw=1.2, ls="--", zorder=2)
    ax.plot([x_plan], [conf], marker="D", ms=7, color=PALETTE["plan"], mec="white", ls="none", gid="pmrisk-plan",
            zorder=5, label="Plan")
    ax.annotate(f"Plan (most likely estimates)  {_fmt_value(p, kind, plan, use_dates)}\n{_pct(conf)} chance",
                (x_plan, conf), xytext=(10, y_plan), textcoords=("offset points", "data"), ha="left", va="center",
                fontsize=_NOTE_SIZE, color=PALETTE["plan"], bbox=box, zorder=6,
                arrowprops={"arrowstyle": "-", "color": PALETTE["plan"], "lw": 0.7, "shrinkA": 0, "shrinkB": 3}
                if y_plan != conf else None)
    if target is not None and t_conf is not None:
        x_t = float(conv(target)[0])
        ax.axvline(x_t, color=PALETTE["target"], lw=1.5, ls="--", zorder=2, gid="pmrisk-target")
        ax.plot([x_t], [t_conf], marker="s", ms=7, color=PALETTE["target"], mec="white", ls="none", zorder=5,
                gid="pmrisk-target-probability")
        what = "Deadline" if kind == "duration" else "Budget"
        ax.annotate(f"{what}  {_fmt_value(p, kind, target, use_dates)}\n{_pct(t_conf)} chance", (x_t, t_conf),
                    xytext=(10, 0), textcoords="offset points", ha="left", va="center", fontsize=_LABEL_SIZE,
                    fontweight="bold", color=PALETTE["target"], bbox=box, zorder=6)
    # the P80 contingency over the plan, in the empty upper left
    p80 = result.percentile(80, kind)
    x80 = float(conv(p80)[0])
    extra = p80 - plan
    y_arrow = 0.93
    ax.annotate("", xy=(x80, y_arrow), xytext=(x_plan, y_arrow), gid="pmrisk-contingency",
                arrowprops={"arrowstyle": "<|-|>", "color": PALETTE["p80"], "lw": 1.4, "shrinkA": 0, "shrinkB": 0})
    amount = f"{_days(extra)} working days" if kind == "duration" else _money(extra, p.currency)
    sign = "+" if extra >= 0 else ""
    ax.annotate(f"P80 contingency over the plan: {sign}{amount}", ((x_plan + x80) / 2, y_arrow), xytext=(0, 5),
                textcoords="offset points", ha="center", va="bottom", fontsize=_NOTE_SIZE, color=PALETTE["text"],
                bbox=box, zorder=6)
    # the view: the long tail beyond P99.5 would squeeze the rest
    _clip_view(ax, result, kind, conv, [plan, target], use_dates)
    _style(ax)
    _percent_axis(ax)
    ax.set_ylim(0, 1.04)
    if use_dates:
        _date_xaxis(ax)
    elif kind == "cost":
        _money_axis(ax, "x")
    if kind == "duration":
        xlabel = "Finish date" if use_dates else "Project duration (working days)"
        ylabel = "Chance of finishing by then"
        main = "S-curve: chance of finishing by each date" if use_dates else \
            "S-curve: chance of finishing within each duration"
    else:
        xlabel, ylabel = _cost_label(p), "Chance of costing at most this"
        main = "S-curve: chance of staying within each cost"
    _labels(ax, xlabel, ylabel)
    _title(ax, title or main, _subtitle(result))
    return ax


_VIEW_LEVEL = 99.5


def _clip_view(ax: Axes, result: SimulationResult, kind: str, conv: Callable[[Any], np.ndarray],
               marks: Sequence[float | None], use_dates: bool, axis: str = "x", note: bool = True,
               note_at: tuple[float, float] = (1.0, 0.01)) -> None:
    """Limit the axis to the bulk of the distribution (up to P99.5 and every marked value), with a note."""
    values = _values(result, kind)
    vmax = float(values.max())
    shown = [m for m in marks if m is not None]
    hi = max([result.percentile(_VIEW_LEVEL, kind), *shown])
    lo = min([float(values.min()), *shown])
    x_lo, x_hi = float(conv(lo)[0]), float(conv(hi)[0])
    pad = 0.03 * ((x_hi - x_lo) or 1.0)
    (ax.set_xlim if axis == "x" else ax.set_ylim)(x_lo - pad, x_hi + pad)
    if hi < vmax and note:
        longest = _fmt_value(result.project, kind, vmax, use_dates)
        what = "longest run" if kind == "duration" else "highest cost"
        ax.text(*note_at, f"axis ends at P{_VIEW_LEVEL:g}; {what}: {longest}", transform=ax.transAxes,
                ha="right" if note_at[0] > 0.5 else "left", va="bottom" if note_at[1] < 0.5 else "top",
                fontsize=7.5, color=PALETTE["muted"], zorder=6,
                bbox={"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})


def histogram(result: SimulationResult, kind: str = "duration", ax: Axes | None = None, bins: int = 60,
              *, dates: bool | None = None, title: str | None = None) -> Axes:
    """The distribution of the project duration (or cost) with P10, P50, P80, P90, the plan and the target.

    Parameters
    ----------
    result
        A :class:`~pmrisk.results.SimulationResult`.
    kind
        ``"duration"`` or ``"cost"``.
    ax
        The axes to draw on; a new figure when None.
    bins
        Number of histogram bins.
    dates
        Show finish dates along the top (duration only). Default: when the project has a start.
    title
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes
        The P-level lines have ``gid`` ``pmrisk-p10`` ... ``pmrisk-p90``, the target ``pmrisk-target``.
    """
    _check_kind(kind)
    ax = _axes(ax)
    p = result.project
    if kind == "cost" and not _has_costs(result):
        return _message(ax, "No costs in this project: give tasks or risks a cost to see the cost distribution.",
                        title or "Cost distribution")
    use_dates = _use_dates(p, kind, dates)
    values = _values(result, kind)
    weights = np.full(len(values), 1.0 / len(values))
    marks = [_plan(result, kind), _target(result, kind)]
    lo = min([float(values.min()), *[m for m in marks if m is not None]])
    hi = max(result.percentile(_VIEW_LEVEL, kind), lo)
    if isinstance(bins, int) and hi > lo and float(values.max()) > hi:
        width = (hi - lo) / bins          # bins of one width across the view, continued over the tail
        edges: Any = lo + width * np.arange(math.ceil((float(values.max()) - lo) / width) + 1)
        edges = np.append(edges, edges[-1] + width) if edges[-1] < float(values.max()) else edges
    else:
        edges = bins
    heights, _, _ = ax.hist(values, bins=edges, weights=weights, color=PALETTE["light"], edgecolor="white",
                            linewidth=0.5, gid="pmrisk-hist", zorder=2)
    ax.set_ylim(0, float(np.max(heights)) * 1.5)      # headroom for the legend

    def text(v: float) -> str:
        if kind == "cost":
            return _money(v, p.currency)
        return f"{_days(v)} wd" + (f" ({_date_text(p, v)})" if use_dates else "")

    styles = {10: (PALETTE["band"], "--", 1.3), 50: (PALETTE["p50"], "-", 2.0), 80: (PALETTE["p80"], "-", 2.0),
              90: (PALETTE["band"], "--", 1.3)}
    for lv, (colour, ls, lw) in styles.items():
        v = result.percentile(lv, kind)
        ax.axvline(v, color=colour, ls=ls, lw=lw, gid=f"pmrisk-p{lv}", label=f"P{lv}  {text(v)}", zorder=3)
    plan = _plan(result, kind)
    ax.axvline(plan, color=PALETTE["plan"], ls=":", lw=1.6, gid="pmrisk-plan", label=f"Plan  {text(plan)}",
               zorder=3)
    target = _target(result, kind)
    if target is not None:
        pr = result.probability(duration=target) if kind == "duration" else result.probability(cost=target)
        what = "Deadline" if kind == "duration" else "Budget"
        ax.axvline(target, color=PALETTE["target"], ls="--", lw=2.0, gid="pmrisk-target",
                   label=f"{what}  {text(target)}: {_pct(pr)} chance", zorder=4)
    _clip_view(ax, result, kind, _x_converter(p, False), marks, use_dates, note_at=(0.01, 0.99))
    _style(ax, "y")
    _percent_axis(ax, decimals=None)
    leg = ax.legend(fontsize=_NOTE_SIZE, frameon=True, framealpha=0.9, edgecolor="none", loc="upper right")
    leg.set_zorder(10)
    if kind == "duration":
        _labels(ax, "Project duration (working days; wd)", "Share of iterations")
        main = "Distribution of the project duration"
    else:
        _money_axis(ax, "x")
        _labels(ax, _cost_label(p), "Share of iterations")
        main = "Distribution of the project cost"
    if use_dates:
        _secondary_date_axis(ax, p)
    _title(ax, title or main, _subtitle(result))
    return ax


# ============================================================================================
# tornado, risk ranking, criticality, merge bias
# ============================================================================================


def _bar_height(n: int) -> tuple[float, float]:
    """Figure size for ``n`` labelled bars."""
    return (8.0, max(4.0, 1.5 + 0.45 * n))


def _hbars(ax: Axes, labels: Sequence[str], values: Sequence[float], colours: Sequence[str],
           gids: Sequence[str]) -> None:
    """Horizontal bars, first at the top, each with its label written above it (room for long names)."""
    from matplotlib.transforms import blended_transform_factory

    n = len(values)
    y = np.arange(n)[::-1].astype(float)
    bars = ax.barh(y, list(values), color=list(colours), height=0.45, zorder=3)
    for bar, gid in zip(bars.patches, gids, strict=True):
        bar.set_gid(gid)
    tr = blended_transform_factory(ax.transAxes, ax.transData)
    for yi, lab, gid in zip(y, labels, gids, strict=True):
        ax.text(0.0, yi + 0.27, _plain(lab), transform=tr, ha="left", va="bottom", fontsize=_TICK_SIZE,
                color=PALETTE["text"], gid=gid.replace("pmrisk-", "pmrisk-label-", 1), zorder=4)
    ax.set_yticks([])
    ax.set_ylim(-0.45, n - 0.05)
    ax.spines["left"].set_visible(False)


def _row_label(ident: str, name: str | None, width: int = 70) -> str:
    if not name or name == ident:
        return ident
    return f"{ident}  {_short(name, width)}"


def _value_texts(ax: Axes, values: Sequence[float], texts: Sequence[str], gids: Sequence[str]) -> None:
    """Each bar's value just beyond its end."""
    y = np.arange(len(values))[::-1]
    for yi, v, t, gid in zip(y, values, texts, gids, strict=True):
        ax.annotate(_plain(t), (v, yi), xytext=(4 if v >= 0 else -4, 0), textcoords="offset points",
                    ha="left" if v >= 0 else "right", va="center", fontsize=_NOTE_SIZE, color=PALETTE["text"],
                    zorder=4, gid=gid)


def _pad_xlim(ax: Axes, values: Sequence[float], frac: float = 0.22) -> None:
    lo, hi = min(0.0, *values), max(0.0, *values)
    span = (hi - lo) or 1.0
    ax.set_xlim(lo - (frac * span if lo < 0 else 0), hi + (frac * span if hi > 0 else 0.05 * span))


def tornado(result: SimulationResult, top: int = 10, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """Tornado of the task durations that drive the project duration (Spearman rank correlation).

    Bars are sorted by the strength of the correlation (largest at the top); each task's
    criticality index is printed beside its bar. Milestones and tasks of fixed duration are left out.

    Parameters
    ----------
    result
        A :class:`~pmrisk.results.SimulationResult`.
    top
        How many tasks to show.
    ax
        The axes to draw on; a new figure when None.
    title
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes
        Bar ``k`` has ``gid`` ``pmrisk-sensitivity-<task id>`` and width the task's sensitivity.
    """
    p = result.project
    crit = np.asarray(result.criticality_counts, dtype=float) / result.iterations
    sens = np.asarray(result.sensitivity_values, dtype=float)
    rows = [(tid, float(sens[k]), float(crit[k])) for k, tid in enumerate(result.task_ids)
            if math.isfinite(sens[k]) and sens[k] != 0 and not p.task(tid).milestone]
    rows.sort(key=lambda r: -abs(r[1]))
    rows = rows[: max(int(top), 0)]
    ax = _axes(ax, _bar_height(len(rows)))
    main = "Tornado: which task durations drive the finish"
    if not rows:
        return _message(ax, "No task duration varies with the project duration: nothing to rank.",
                        title or "Sensitivity (tornado)")
    values = [r[1] for r in rows]
    _hbars(ax, [_row_label(r[0], p.task(r[0]).name) for r in rows], values,
           [PALETTE["main"] if v >= 0 else PALETTE["threat"] for v in values],
           [f"pmrisk-sensitivity-{_slug(r[0])}" for r in rows])
    _value_texts(ax, values, [f"{r[1]:+.2f}   critical in {_pct(r[2])}" for r in rows],
                 [f"pmrisk-value-{_slug(r[0])}" for r in rows])
    ax.axvline(0, color="#999999", lw=0.8, zorder=2)
    _pad_xlim(ax, values, 0.42)
    _style(ax, "x")
    _labels(ax, "Spearman rank correlation of task duration with project duration", "")
    _title(ax, title or main, _subtitle(result))
    return ax


def _metric_words(metric: str) -> tuple[str, str, bool]:
    """(title, x label, is_money) of a risk ranking metric."""
    m = re.fullmatch(r"P(\d+)_(delay|cost)_contribution", metric)
    if m:
        lv, what = m.group(1), m.group(2)
        if what == "delay":
            return (f"Risks ranked by the days they add to the P{lv} finish",
                    f"P{lv} duration saved if the risk were removed (working days)", False)
        return (f"Risks ranked by what they add to the P{lv} cost",
                f"P{lv} cost saved if the risk were removed", True)
    if metric == "expected_delay":
        return "Risks ranked by expected delay", "Expected delay: probability x mean delay (working days)", False
    if metric == "expected_cost":
        return "Risks ranked by expected cost", "Expected cost: probability x mean cost (EMV)", True
    return "Risk responses ranked by net benefit", "Net benefit of the response", True


def risk_tornado(result: SimulationResult, metric: str = "P80_delay_contribution", top: int = 10,
                 ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """The risk ranking: how much each risk moves the project's P80 (or another metric), largest first.

    A risk's ``P80_delay_contribution`` is how many working days the project's P80 duration drops
    when that risk alone is removed (same random numbers); ``P80_cost_contribution`` the same for
    cost. Threats are drawn in red, opportunities (negative contributions) in green.

    Parameters
    ----------
    result
        A :class:`~pmrisk.results.SimulationResult`.
    metric
        A column of :meth:`~pmrisk.results.SimulationResult.risks`: ``P50/P80/P90_delay_contribution``,
        ``P50/P80/P90_cost_contribution``, ``expected_delay``, ``expected_cost`` or
        ``mitigation_net_benefit``.
    top
        How many risks to show.
    ax
        The axes to draw on; a new figure when None.
    title
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes
        Bar of risk ``R`` has ``gid`` ``pmrisk-risk-<R>`` and width its ``metric``.
    """
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {', '.join(_METRICS)}; got {metric!r}")
    p = result.project
    main, xlabel, is_money = _metric_words(metric)
    rows = [(str(r["id"]), str(r["title"]), float(r[metric])) for r in result.risk_rows()] if result.risk_ids else []
    rows = [r for r in rows if math.isfinite(r[2])]
    rows.sort(key=lambda r: -abs(r[2]))
    rows = rows[: max(int(top), 0)]
    ax = _axes(ax, _bar_height(len(rows)))
    if not result.risk_ids:
        return _message(ax, "No risks in this project's register: nothing to rank.", title or "Risk ranking")
    if not rows:
        return _message(ax, f"No risk has a value for {metric}: the ranking was not computed in this run "
                        "(simulate with rank_risks=True, or use metric='expected_delay' or 'expected_cost').",
                        title or "Risk ranking")
    values = [r[2] for r in rows]
    _hbars(ax, [_row_label(r[0], r[1]) for r in rows], values,
           [PALETTE["threat"] if v >= 0 else PALETTE["opportunity"] for v in values],
           [f"pmrisk-risk-{_slug(r[0])}" for r in rows])

    def fmt(v: float) -> str:
        sign = "+" if v > 0 else ("-" if v < 0 else "")
        return sign + (_money(abs(v), p.currency) if is_money else f"{_days(abs(v))} d")

    _value_texts(ax, values, [fmt(v) for v in values], [f"pmrisk-value-{_slug(r[0])}" for r in rows])
    ax.axvline(0, color="#999999", lw=0.8, zorder=2)
    _pad_xlim(ax, values, 0.25)
    if is_money:
        _money_axis(ax, "x")
        if p.currency:
            xlabel += f" ({p.currency})"
    _style(ax, "x")
    _labels(ax, xlabel, "")
    if any(v < 0 for v in values):
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color=PALETTE["threat"], label="threat"),
                           Patch(color=PALETTE["opportunity"], label="opportunity")],
                  fontsize=_NOTE_SIZE, loc="lower right", frameon=False)
    _title(ax, title or main, _subtitle(result))
    return ax


def criticality(result: SimulationResult, top: int = 15, ax: Axes | None = None, *, milestones: bool = False,
                title: str | None = None) -> Axes:
    """Criticality index of the tasks (share of iterations on a critical path), highest first.

    Tasks on the deterministic plan's critical path are drawn dark, the others light: a light bar
    with a high index is a task the plan does not watch but the simulation says often decides
    the finish.

    Parameters
    ----------
    result
        A :class:`~pmrisk.results.SimulationResult`.
    top
        How many tasks to show.
    ax
        The axes to draw on; a new figure when None.
    milestones
        Include milestones (they are as critical as the tasks leading into them).
    title
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes
        Bar of task ``T`` has ``gid`` ``pmrisk-criticality-<T>`` and width its criticality index.
    """
    p = result.project
    crit = np.asarray(result.criticality_counts, dtype=float) / result.iterations
    on_path = set(result.deterministic.get("critical_path", ()))
    rows = [(tid, float(crit[k])) for k, tid in enumerate(result.task_ids)
            if milestones or not p.task(tid).milestone]
    rows.sort(key=lambda r: -r[1])
    rows = rows[: max(int(top), 0)]
    ax = _axes(ax, _bar_height(len(rows)))
    if not rows:
        return _message(ax, "No tasks to show.", title or "Criticality")
    values = [r[1] for r in rows]
    _hbars(ax, [_row_label(r[0], p.task(r[0]).name) for r in rows], values,
           [PALETTE["main"] if r[0] in on_path else PALETTE["light"] for r in rows],
           [f"pmrisk-criticality-{_slug(r[0])}" for r in rows])
    _value_texts(ax, values, [_pct(v) for v in values], [f"pmrisk-value-{_slug(r[0])}" for r in rows])
    ax.set_xlim(0, 1.1)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    _percent_axis(ax, "x")
    _style(ax, "x")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=PALETTE["main"], label="on the plan's critical path"),
                       Patch(color=PALETTE["light"], label="not on the plan's critical path")],
              fontsize=_NOTE_SIZE, loc="lower right", frameon=True, framealpha=0.95, edgecolor="none").set_zorder(10)
    _labels(ax, "Criticality index (share of iterations in which the task is critical)", "")
    _title(ax, title or "Criticality: how often each task decides the finish", _subtitle(result))
    return ax


def merge_bias(result: SimulationResult, top: int = 10, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """Merge bias at the schedule's merge points: waiting on several predecessors delays the start.

    For each task with two or more predecessors, the bar is its P50 start minus the P50 of its
    latest predecessor (working days, from ``result.merge_bias``): the delay that comes only from
    the uncertainty of several paths meeting, which a single-point plan cannot see.

    Parameters
    ----------
    result
        A :class:`~pmrisk.results.SimulationResult`.
    top
        How many merge points to show (largest bias first).
    ax
        The axes to draw on; a new figure when None.
    title
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes
        Bar of merge point ``T`` has ``gid`` ``pmrisk-merge-<T>`` and width its merge bias.
    """
    mb = result.merge_bias or {}
    points = [(tid, info) for tid, info in mb.items() if math.isfinite(float(info.get("merge_bias", math.nan)))]
    rows = [r for r in points if float(r[1]["merge_bias"]) >= 0.05]
    rows.sort(key=lambda r: -float(r[1]["merge_bias"]))
    rows = rows[: max(int(top), 0)]
    ax = _axes(ax, _bar_height(len(rows)))
    if not points:
        return _message(ax, "No merge points: no task waits on two or more predecessors.", title or "Merge bias")
    if not rows:
        return _message(ax, f"No merge bias at any of the {len(points)} merge points: their latest predecessor "
                        "always decides the start.", title or "Merge bias")
    values = [float(r[1]["merge_bias"]) for r in rows]
    labels = []
    for tid, info in rows:
        npred = int(info.get("predecessors", 0))
        labels.append(_row_label(tid, result.project.task(tid).name, 50) + f"  (waits on {npred} tasks)")
    _hbars(ax, labels, values, [PALETTE["p80"]] * len(rows), [f"pmrisk-merge-{_slug(r[0])}" for r in rows])
    texts = [f"+{float(info['merge_bias']):.1f} d   (P50 start day {float(info['start_P50']):.1f}; latest "
             f"predecessor {info.get('latest_predecessor', '?')}: P50 day {float(info['latest_predecessor_P50']):.1f})"
             for _tid, info in rows]
    _value_texts(ax, values, texts, [f"pmrisk-value-{_slug(r[0])}" for r in rows])
    ax.set_xlim(0, max(values) * 2.6)
    ax.axvline(0, color="#999999", lw=0.8, zorder=2)
    _style(ax, "x")
    _labels(ax, "Merge bias: P50 start minus the latest predecessor's P50 (working days)", "")
    _title(ax, title or "Merge bias: delay from waiting on several paths", _subtitle(result))
    return ax


# ============================================================================================
# joint confidence (cost vs finish)
# ============================================================================================


def jcl_frontier(durations: Any, costs: Any, probability: float, points: int = 250,
                 at: Sequence[float] = ()) -> tuple[np.ndarray, np.ndarray]:
    """The iso-probability frontier of a joint (duration, cost) distribution.

    For each duration ``d`` (a grid of simulated durations, plus the durations in ``at``), the
    smallest cost ``c`` such that a share of at least ``probability`` of the iterations finish by
    ``d`` *and* cost at most ``c``. Durations at which even an unlimited budget does not reach
    ``probability`` are left out.

    Parameters
    ----------
    durations, costs
        The per-iteration project durations and costs (same length).
    probability
        The joint probability of the frontier, in (0, 1].
    points
        About how many durations to evaluate.
    at
        Durations to include exactly (e.g. the deadline).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Durations (increasing) and their frontier costs (non-increasing).

    Examples
    --------
    >>> d = np.array([1.0, 2.0, 3.0, 4.0]); c = np.array([40.0, 30.0, 20.0, 10.0])
    >>> jcl_frontier(d, c, 0.5)
    (array([2., 3., 4.]), array([40., 30., 20.]))
    """
    D = np.asarray(durations, dtype=float)
    C = np.asarray(costs, dtype=float)
    if D.shape != C.shape or D.ndim != 1 or len(D) == 0:
        raise ValueError("durations and costs must be 1-d arrays of the same, non-zero length")
    if not 0 < probability <= 1:
        raise ValueError(f"probability must be in (0, 1], got {probability}")
    n = len(D)
    k = max(1, math.ceil(probability * n - 1e-9))
    order = np.argsort(D, kind="stable")
    Ds, Cs = D[order], C[order]
    grid_idx = np.unique(np.linspace(k - 1, n - 1, max(int(points), 2)).round().astype(np.int64))
    grid = np.unique(np.concatenate([Ds[grid_idx], [float(a) for a in at if a >= Ds[k - 1]]]))
    out_d, out_c = [], []
    for d in grid:
        m = int(np.searchsorted(Ds, d + 1e-9, side="right"))
        if m < k:
            continue
        out_d.append(float(d))
        out_c.append(float(np.partition(Cs[:m], k - 1)[k - 1]))
    return np.array(out_d), np.array(out_c)


def jcl_scatter(result: SimulationResult, ax: Axes | None = None, max_points: int = 5000, *,
                title: str | None = None) -> Axes:
    """Joint confidence: cost against finish of each iteration, with the targets and a frontier.

    The deadline and budget cross the cloud; the share of iterations that meet both (the joint
    confidence level, JCL) is printed in the lower-left quadrant and the other three shares in
    theirs. The line is the iso-probability frontier: the (duration, cost) pairs met jointly with
    the same probability as the targets (80% without both targets), computed from the iterations
    (:func:`jcl_frontier`). The star marks P80 duration with P80 cost, whose joint chance is below 80%.

    Parameters
    ----------
    result
        A :class:`~pmrisk.results.SimulationResult`.
    ax
        The axes to draw on; a new figure when None.
    max_points
        At most this many iterations are drawn (a fixed, seeded subsample); every number uses all.
    title
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes
        Gids: ``pmrisk-iterations`` (the points), ``pmrisk-deadline``, ``pmrisk-budget``,
        ``pmrisk-joint`` (the JCL text), ``pmrisk-frontier``, ``pmrisk-p80-pair``.
    """
    ax = _axes(ax)
    p = result.project
    if not _has_costs(result):
        return _message(ax, "No costs in this project: the joint confidence chart needs task or risk costs.",
                        title or "Joint confidence: cost vs finish")
    D = np.asarray(result.durations, dtype=float)
    C = np.asarray(result.costs, dtype=float)
    n = len(D)
    idx = np.arange(n)
    if n > max_points > 0:
        idx = np.sort(np.random.default_rng(20270201).choice(n, size=max_points, replace=False))
    dl, bud = p.deadline, p.budget
    both = dl is not None and bud is not None
    if both:
        assert dl is not None and bud is not None
        met = (D[idx] <= dl + 1e-9) & (C[idx] <= bud + 1e-9 * max(1.0, abs(bud)))
        colours = np.where(met, PALETTE["main"], "#A8A8A8")
    else:
        colours = np.full(len(idx), PALETTE["main"])
    ax.scatter(D[idx], C[idx], s=7, c=list(colours), alpha=0.35, linewidths=0, rasterized=len(idx) > 500,
               gid="pmrisk-iterations", zorder=2)
    from matplotlib.transforms import blended_transform_factory

    box = {"boxstyle": "round,pad=0.3", "fc": "white", "ec": "none", "alpha": 0.85}
    if dl is not None:
        ax.axvline(dl, color=PALETTE["target"], lw=1.5, ls="--", gid="pmrisk-deadline", zorder=3)
        tr = blended_transform_factory(ax.transData, ax.transAxes)
        ax.text(dl, 0.01, f" deadline {_date_text(p, dl) or _days(dl) + ' wd'}", transform=tr, ha="left",
                va="bottom", fontsize=_NOTE_SIZE, color=PALETTE["target"], zorder=6)
    if bud is not None:
        ax.axhline(bud, color=PALETTE["target"], lw=1.5, ls="--", gid="pmrisk-budget", zorder=3)
        tr = blended_transform_factory(ax.transAxes, ax.transData)
        ax.text(0.99, bud, f"budget {_money(bud, p.currency)}", transform=tr, ha="right", va="bottom",
                fontsize=_NOTE_SIZE, color=PALETTE["target"], zorder=6)
    if both:
        assert dl is not None and bud is not None
        joint = result.probability(duration=dl, cost=bud)
        on_t = result.probability(duration=dl)
        on_b = result.probability(cost=bud)
        ax.annotate(_pct(joint), (dl, bud), xytext=(-8, -8), textcoords="offset points", ha="right", va="top",
                    fontsize=15, fontweight="bold", color=PALETTE["main"], bbox=box, zorder=7, gid="pmrisk-joint")
        table = (f"both targets met:  {_pct(joint)}\n"
                 f"on time, over budget:  {_pct(on_t - joint)}\n"
                 f"late, within budget:  {_pct(on_b - joint)}\n"
                 f"late and over budget:  {_pct(1 - on_t - on_b + joint)}")
        ax.text(0.99, 0.98, table, transform=ax.transAxes, ha="right", va="top", fontsize=_NOTE_SIZE,
                color=PALETTE["text"], linespacing=1.5, zorder=7, gid="pmrisk-quadrants",
                bbox={"boxstyle": "round,pad=0.5", "fc": "white", "ec": "#CCCCCC", "alpha": 0.92})
        level = joint
        flabel = f"{_pct(level)} frontier: as likely as meeting both targets"
    else:
        level = 0.8
        flabel = "80% joint-confidence frontier"
    if level > 0:
        fd, fc = jcl_frontier(D, C, level, at=[dl] if dl is not None else [])
        if len(fd):
            ax.plot(fd, fc, drawstyle="steps-post", color=PALETTE["text"], lw=1.8, gid="pmrisk-frontier",
                    label=flabel, zorder=5)
    d80, c80 = result.percentile(80), result.percentile(80, "cost")
    j80 = result.probability(duration=d80, cost=c80)
    ax.plot([d80], [c80], marker="*", ms=15, color=PALETTE["p80"], mec="white", ls="none", gid="pmrisk-p80-pair",
            label=f"P80 duration with P80 cost: only {_pct(j80)} jointly", zorder=6)
    _clip_view(ax, result, "duration", _x_converter(p, False), [dl], False, "x", note=False)
    _clip_view(ax, result, "cost", _x_converter(p, False), [bud], False, "y", note=False)
    _style(ax)
    _money_axis(ax, "y")
    ax.legend(fontsize=_NOTE_SIZE, loc="upper left", frameon=True, framealpha=0.92, edgecolor="none").set_zorder(8)
    _labels(ax, "Project duration (working days)", _cost_label(p))
    if p.start is not None:
        _secondary_date_axis(ax, p)
    shown = f"; {len(idx):,} drawn" if len(idx) < n else ""
    _title(ax, title or "Joint confidence: cost against finish", _subtitle(result) + shown)
    return ax


# ============================================================================================
# risk matrix
# ============================================================================================


def _band_text(m: Any, kind: str, band: int) -> str:
    """A band's range, short: ``10-30%``, ``5-10``, ``30k-60k``, ``> 120k``."""
    lo, hi = m.band_range(kind, band)
    if kind == "probability":
        return f"{100 * lo:.0f}-{100 * hi:.0f}%"
    fmt = _short_money if kind == "cost" else _days
    if band == 1:
        return f"\u2264 {fmt(hi)}"
    if band == len(m.labels):
        return f"> {fmt(lo)}"
    return f"{fmt(lo)}-{fmt(hi)}"


def risk_matrix(project_or_result: Project | SimulationResult, ax: Axes | None = None, mitigated: bool = False,
                *, title: str | None = None) -> Axes:
    """The 5x5 probability-impact heat map with each risk's id in its cell.

    Bands, scores and ratings come from :class:`pmrisk.risk.matrix.RiskMatrix` (the project's
    ``risk_matrix:`` section or the defaults); the impact band is the worse of the time and cost
    bands. Several risks in one cell are stacked; opportunities are written in green.

    Parameters
    ----------
    project_or_result
        A :class:`~pmrisk.project.Project` or a :class:`~pmrisk.results.SimulationResult`.
    ax
        The axes to draw on; a new figure when None.
    mitigated
        Place the risks after their responses (residual risk) instead of before.
    title
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes
        Risk ``R``'s label has ``gid`` ``pmrisk-risk-<R>``; the x axis is the impact band (1-5),
        the y axis the probability band.
    """
    from matplotlib.patches import Patch, Rectangle

    from pmrisk.risk.matrix import BANDS, RiskMatrix

    project = project_or_result.project if isinstance(project_or_result, SimulationResult) else project_or_result
    ax = _axes(ax, (8.0, 6.6))
    m = RiskMatrix.for_project(project)
    for pb in range(1, BANDS + 1):
        for ib in range(1, BANDS + 1):
            rating = m.rating_of(pb, ib)
            ax.add_patch(Rectangle((ib - 0.5, pb - 0.5), 1, 1, facecolor=RATING_COLOURS[rating], edgecolor="white",
                                   lw=2.5, zorder=1))
            ax.text(ib + 0.45, pb - 0.45, str(pb * ib), ha="right", va="bottom", fontsize=7, color="#888888",
                    zorder=2)
    cells: dict[tuple[int, int], list[tuple[str, bool]]] = {}
    for risk in project.risks:
        a = m.assess(risk, mitigated=mitigated, project=project)
        cells.setdefault((a.impact_band, a.probability_band), []).append((risk.id, risk.is_opportunity))
    for (ib, pb), items in cells.items():
        k = len(items)
        cols = 1 if k <= 4 else (2 if k <= 10 else 3)
        nrows = math.ceil(k / cols)
        size = 10 if nrows <= 3 else (8.5 if nrows <= 4 else 7)
        for j, (rid, opp) in enumerate(items):
            r, c = divmod(j, cols)
            x = ib + (c - (cols - 1) / 2) * (0.8 / cols)
            y = pb + ((nrows - 1) / 2 - r) * min(0.8 / nrows, 0.2)
            ax.text(x, y, _plain(_short(rid, 12)), ha="center", va="center", fontsize=size, fontweight="bold",
                    color=PALETTE["opportunity"] if opp else PALETTE["text"], gid=f"pmrisk-risk-{_slug(rid)}",
                    zorder=3)
    ax.set_xlim(0.5, BANDS + 0.5)
    ax.set_ylim(0.5, BANDS + 0.5)
    ax.set_aspect("equal")
    cur = project.currency
    xt, yt = [], []
    for b in range(1, BANDS + 1):
        ranges = [_band_text(m, kind, b) for kind in ("time", "cost")]
        xt.append(_plain(f"{m.label(b)}\n{ranges[0]} d\n{ranges[1]}" + (f" {cur}" if cur else "")))
        yt.append(_plain(f"{m.label(b)}\n{_band_text(m, 'probability', b)}"))
    ax.set_xticks(range(1, BANDS + 1), xt, fontsize=_NOTE_SIZE)
    ax.set_yticks(range(1, BANDS + 1), yt, fontsize=_NOTE_SIZE)
    ax.tick_params(length=0, colors=PALETTE["text"])
    for spine in ax.spines.values():
        spine.set_visible(False)
    _labels(ax, "Impact (worse of time and cost; mean impact if the risk occurs)", "Probability")
    handles = [Patch(color=RATING_COLOURS[r], label=f"{r} (score {lim})") for r, lim in
               (("low", f"\u2264 {m.low}"), ("medium", f"{m.low + 1}-{m.medium}"), ("high", f"> {m.medium}"))]
    if any(opp for items in cells.values() for _, opp in items):
        handles.append(Patch(color="white", label="green id: opportunity"))
    ax.legend(handles=handles, fontsize=_NOTE_SIZE, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    state = "after responses (residual)" if mitigated else "before responses"
    n = len(project.risks)
    main = f"Risk matrix, {state}"
    if n == 0:
        ax.text(3, 3, "No risks in this project's register", ha="center", va="center", fontsize=12,
                color=PALETTE["muted"], gid="pmrisk-message", zorder=4,
                bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": "none", "alpha": 0.9})
    _title(ax, title or main, f"{_short(project.name, 32)} \u00b7 {n} risk{'s' if n != 1 else ''}")
    return ax


# ============================================================================================
# comparisons and calibration
# ============================================================================================


def compare_s_curves(results: Mapping[str, SimulationResult], kind: str = "duration", ax: Axes | None = None,
                     *, dates: bool | None = None, title: str | None = None) -> Axes:
    """Several S-curves overlaid (before/after responses, scenarios), each with its P80 marked.

    Runs made with the same seed share their random numbers, so the gap between the curves
    reflects the change, not sampling noise.

    Parameters
    ----------
    results
        ``{label: SimulationResult}``, drawn in order.
    kind
        ``"duration"`` or ``"cost"``.
    ax
        The axes to draw on; a new figure when None.
    dates
        Finish dates on the x axis (duration only). Default: when every project has the same start.
    title
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes
        Series ``i``'s P80 marker has ``gid`` ``pmrisk-p80-<i>``.
    """
    _check_kind(kind)
    if not results:
        raise ValueError("results is empty: give a dict {label: SimulationResult}")
    ax = _axes(ax)
    items = list(results.items())
    first = items[0][1].project
    starts = {r.project.start for _, r in items}
    if kind == "cost" and not any(_has_costs(r) for _, r in items):
        return _message(ax, "No costs in these projects: nothing to compare.", title or "Cost S-curves")
    if dates is None:
        use_dates = kind == "duration" and len(starts) == 1 and first.start is not None
    else:
        use_dates = all(_use_dates(r.project, kind, dates) for _, r in items)
    for i, (label, r) in enumerate(items):
        colour = SERIES[i % len(SERIES)]
        conv = _x_converter(r.project, use_dates)
        v80 = r.percentile(80, kind)
        _draw_ecdf(ax, conv(_values(r, kind)), colour, None, f"pmrisk-cdf-{i}")
        t = _target(r, kind)
        chance = ""
        if t is not None:
            pr = r.probability(duration=t) if kind == "duration" else r.probability(cost=t)
            chance = f"; {_pct(pr)} by the {'deadline' if kind == 'duration' else 'budget'}"
        ax.plot([float(conv(v80)[0])], [0.8], marker="o", ms=8, color=colour, mec="white", ls="none",
                gid=f"pmrisk-p80-{i}", zorder=5,
                label=_plain(f"{_short(label, 30)}: P80 {_fmt_value(r.project, kind, v80, use_dates)}{chance}"))
    ax.axhline(0.8, color=PALETTE["band"], lw=0.8, ls=":", zorder=1)
    target = _target(items[0][1], kind)
    if target is not None and all(_target(r, kind) == target for _, r in items):
        x_t = float(_x_converter(first, use_dates)(target)[0])
        what = "deadline" if kind == "duration" else "budget"
        ax.axvline(x_t, color=PALETTE["target"], lw=1.5, ls="--", gid="pmrisk-target", zorder=2,
                   label=f"{what} {_fmt_value(first, kind, target, use_dates)}")
    marks = [target, *[r.percentile(_VIEW_LEVEL, kind) for _, r in items]]
    lo = min(float(_values(r, kind).min()) for _, r in items)
    conv0 = _x_converter(first, use_dates)
    shown = [float(conv0(v)[0]) for v in [lo, *marks] if v is not None]
    pad = 0.03 * ((max(shown) - min(shown)) or 1.0)
    ax.set_xlim(min(shown) - pad, max(shown) + pad)
    _style(ax)
    _percent_axis(ax)
    ax.set_ylim(0, 1.04)
    if use_dates:
        _date_xaxis(ax)
    elif kind == "cost":
        _money_axis(ax, "x")
    ax.legend(fontsize=_NOTE_SIZE, loc="lower right", frameon=True, framealpha=0.9, edgecolor="none")
    if kind == "duration":
        _labels(ax, "Finish date" if use_dates else "Project duration (working days)", "Chance of finishing by then")
        main = "Finish S-curves compared"
    else:
        _labels(ax, _cost_label(first), "Chance of costing at most this")
        main = "Cost S-curves compared"
    iters = {r.iterations for _, r in items}
    sub = f"{_short(first.name, 32)}" + (f" \u00b7 {iters.pop():,} iterations each" if len(iters) == 1 else "")
    _title(ax, title or main, sub)
    return ax


def _rank_series(ranks: Any, label: str | None) -> dict[str, np.ndarray]:
    items = ranks.items() if isinstance(ranks, Mapping) else [(label or "forecasts", ranks)]
    out: dict[str, np.ndarray] = {}
    for name, values in items:
        a = np.asarray(values, dtype=float).ravel()
        if not np.all(np.isfinite(a)):
            raise ValueError(f"ranks of {name!r} contain NaN or infinite values; give percentile ranks in [0, 1]")
        if a.size and (a.min() < 0 or a.max() > 1):
            hint = " (they look like percentages: divide by 100)" if a.max() <= 100 else ""
            raise ValueError(f"ranks of {name!r} must lie in [0, 1], found {a.min():g} to {a.max():g}{hint}")
        out[str(name)] = a
    return out


def calibration_plot(ranks: Any, ax: Axes | None = None, label: str | None = None, *,
                     title: str | None = None) -> Axes:
    """Calibration of forecasts against actuals: a PIT reliability diagram.

    Each actual outcome's percentile rank in its own forecast distribution (0.8: the actual equals
    the forecast's P80) is collected over past projects; for calibrated forecasts the ranks are
    uniform and their empirical CDF follows the diagonal. The shaded band is the 95%
    Kolmogorov-Smirnov band around it: a curve leaving it signals miscalibration. Above the
    diagonal, actuals fell low in their forecasts (too pessimistic); below, high (too
    optimistic); an S through the diagonal (flat in the middle) says the ranges are too narrow.

    Parameters
    ----------
    ranks
        The ranks (array-like in [0, 1]) or a dict ``{label: ranks}`` for several series.
    ax
        The axes to draw on; a new figure when None.
    label
        Name of a single series.
    title
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes
        Series ``i`` has ``gid`` ``pmrisk-calibration-<i>``, the band ``pmrisk-ks-band``.
    """
    from scipy import stats

    series = _rank_series(ranks, label)
    ax = _axes(ax, (6.4, 6.0))
    series = {k: v for k, v in series.items() if v.size}
    if not series:
        return _message(ax, "No actual outcomes to compare with their forecasts yet.", title or "Calibration")
    n_min = min(v.size for v in series.values())
    eps = float(stats.kstwo.ppf(0.95, n_min))
    u = np.linspace(0, 1, 201)
    ax.fill_between(u, np.clip(u - eps, 0, 1), np.clip(u + eps, 0, 1), color=PALETTE["grid"], alpha=0.9, lw=0,
                    gid="pmrisk-ks-band", label=f"95% Kolmogorov-Smirnov band (n = {n_min})", zorder=1)
    ax.plot([0, 1], [0, 1], color=PALETTE["band"], ls="--", lw=1.2, label="perfect calibration", zorder=2)
    for i, (name, a) in enumerate(series.items()):
        ks = stats.kstest(a, "uniform")
        xs = np.concatenate([[0.0], np.sort(a), [1.0]])
        ys = np.concatenate([[0.0], np.arange(1, a.size + 1) / a.size, [1.0]])
        ax.plot(xs, ys, drawstyle="steps-post", color=SERIES[i % len(SERIES)], lw=2.0, gid=f"pmrisk-calibration-{i}",
                label=f"{_plain(_short(name, 28))} (n = {a.size}, KS p = {float(ks.pvalue):.2f})", zorder=3)
    note = ("above the diagonal: actuals low in their forecasts (pessimistic)\n"
            "below: actuals high in their forecasts (optimistic)\n"
            "flat in the middle: forecast ranges too narrow")
    ax.text(0.98, 0.02, note, transform=ax.transAxes, ha="right", va="bottom", fontsize=7.5, color=PALETTE["muted"])
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    _percent_axis(ax, "x")
    _percent_axis(ax, "y")
    _style(ax)
    ax.legend(fontsize=_NOTE_SIZE, loc="upper left", frameon=True, framealpha=0.9, edgecolor="none")
    _labels(ax, "Forecast percentile of the actual outcome", "Share of actuals at or below")
    _title(ax, title or "Calibration: where actuals fell in their forecasts")
    return ax


# ============================================================================================
# output
# ============================================================================================


def _figure(fig_or_ax: Any) -> Figure:
    from matplotlib.axes import Axes as _Axes
    from matplotlib.figure import Figure as _Figure
    from matplotlib.figure import SubFigure

    obj = fig_or_ax
    if isinstance(obj, _Axes):
        obj = obj.figure
    while isinstance(obj, SubFigure):
        obj = obj.figure
    if not isinstance(obj, _Figure):
        raise TypeError(f"expected a matplotlib Figure or Axes, not {type(fig_or_ax).__name__}")
    return obj


def figure_svg(fig_or_ax: Any, *, close: bool = False) -> str:
    """The figure as an SVG string to inline in an HTML page.

    Text stays text (``svg.fonttype='none'``), escaped as XML, so a page can be searched and copied
    and no user text becomes markup. The XML declaration and doctype are left out; the output is
    deterministic (fixed id salt, no date).

    Parameters
    ----------
    fig_or_ax
        A matplotlib Figure or one of its Axes.
    close
        Close the figure afterwards (frees it when building a report of many charts).
    """
    import matplotlib

    fig = _figure(fig_or_ax)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "pmrisk"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", dpi=150, metadata={"Date": None})
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    text = buf.getvalue()
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def save(fig_or_ax: Any, path: str | Path, *, dpi: int = 150, close: bool = False, **kwargs: Any) -> Path:
    """Write the figure to ``path`` (format from the suffix: .png, .svg, .pdf, ...); returns the path.

    SVG keeps its text as text; ``kwargs`` go to :meth:`matplotlib.figure.Figure.savefig`.
    """
    import matplotlib

    fig = _figure(fig_or_ax)
    out = Path(path)
    kwargs.setdefault("bbox_inches", "tight")
    if out.suffix.lower() == ".svg":
        kwargs.setdefault("metadata", {"Date": None})
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "pmrisk"}):
        fig.savefig(out, dpi=dpi, **kwargs)
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return out


def dashboard(result: SimulationResult) -> Figure:
    """A 2x2 overview: S-curve, histogram, tornado and criticality chart of one simulation.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (its four Axes in ``fig.axes``, in that order, plus any date axes).
    """
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(2, 2, figsize=(16, 12), layout="constrained")
    s_curve(result, ax=axs[0, 0])
    histogram(result, ax=axs[0, 1])
    tornado(result, ax=axs[1, 0])
    criticality(result, ax=axs[1, 1])
    p = result.project
    bits = [f"{result.iterations:,} iterations, seed {result.seed}"]
    if p.deadline is not None:
        bits.append(f"{_pct(result.probability(duration=p.deadline))} chance of meeting the deadline")
    if p.budget is not None:
        bits.append(f"{_pct(result.probability(cost=p.budget))} of staying within budget")
    fig.suptitle(_plain(f"{p.name}: schedule risk overview ({'; '.join(bits)})"), fontsize=14, fontweight="bold",
                 color=PALETTE["text"])
    return fig
