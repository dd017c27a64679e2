"""The risk register: one row per risk, imported from and exported to Excel, CSV and Markdown.

The register is the ``risks:`` section of a project file in the shape risk managers work with.
Qualitative and quantitative views share one band table, the project's
:class:`~pmrisk.risk.matrix.RiskMatrix`: a row that gives only bands (probability band 3, time
impact band 4) becomes a quantitative risk through that table, and every exported row shows the
bands, score and rating of its numbers.

Canonical columns
-----------------
Exports write these names (CSV, :func:`register_frame`) or their readable headers (Excel); imports
accept both, and the aliases below, ignoring case, spaces and punctuation.

=============================  ======================================================================
column                         meaning (common aliases accepted on import)
=============================  ======================================================================
rank                           1 = most important; by P80 delay then cost contribution after a
                               simulation, else by score (output only)
id                             unique risk id (Risk ID, Ref, Risk no)
title                          short name (Risk, Name, Description, Summary)
cause, event, effect           cause -> event -> effect (Root cause; Risk event; Consequence)
category, owner, status        free text (Risk category, Type; Risk owner, Responsible; State);
                               statuses offered: open, monitoring, occurred, closed
tasks                          ids of the tasks the risk delays, ``A; B`` (Affects, Affected tasks,
                               Activities, Linked tasks, WBS)
probability                    chance of occurring: 0.3 or 30% (Prob., Chance, Probability (%));
                               a column holding only whole numbers 1-5 is read as bands
time_dist, time_min,           delay in working days when the risk occurs; min/likely/max is a
time_likely, time_max          triangular, min/max a uniform, likely alone a fixed delay; the dist
                               column may name triangular, pert or uniform, or hold a full spec such
                               as ``{dist: lognormal, p10: 3, p90: 12}`` (Delay, Impact (days),
                               Schedule impact, Time impact: the likely or single value)
duration_factor                factor on the affected tasks' durations (Impact factor)
cost_dist, cost_min,           cost impact in the project's currency, read like the delay (Cost
cost_likely, cost_max          impact, Financial impact, Impact (EUR); ``(kEUR)`` in a header
                               means thousands)
probability_band, time_band,   qualitative bands 1-5 or labels (Very low .. Very high, rare ..
cost_band, impact_band         almost certain, negligible .. severe) (P, Likelihood; Time impact
                               band, Schedule score; Cost band; I, Impact, Severity); used only
                               where the number is missing (a time band beside a duration factor
                               describes the factor and is not read); ``impact_band`` is read only
                               when a row has no other impact, as the time impact of a risk linked
                               to tasks, else as its cost impact. A band stands for the matrix's
                               representative value (:mod:`pmrisk.risk.matrix`)
score, rating                  probability band x impact band (1-25) and low/medium/high (output)
expected_delay, expected_cost  probability x mean impact (EMV) (output)
response                       avoid, mitigate, transfer, accept, exploit, enhance, share, escalate
                               (Response strategy, Strategy, Treatment; also "reduce", "insure"...)
response_action                what is done (Mitigation, Mitigation action, Action, Response plan)
response_owner, response_due   who and when (Action owner; Due date)
response_cost                  certain cost of the response (Mitigation cost)
residual_probability,          the risk after the response: probability and ranges read like the
residual_time_*, residual_     ones before; empty means unchanged (Residual probability,
duration_factor,               Post-mitigation probability, Residual P, Residual delay, Residual
residual_cost_*                cost impact)
residual_probability_band,     the residual risk's place in the matrix (output; the probability
residual_impact_band,          band is read where the residual probability is empty)
residual_score, residual_rating
notes                          free text (Comments); a Contingency (plan) column is added to it
occurrence,                    after a simulation: the share of iterations in which the risk
P80_delay_contribution,        occurred; how much P80 duration and cost drop without it (same
P80_cost_contribution,         random numbers); the response's net benefit (output)
mitigation_net_benefit
=============================  ======================================================================

Output columns are ignored on import; so are columns pmrisk does not know (a
:class:`~pmrisk.errors.PmriskWarning` lists them). Excel formulas are never evaluated, and the
Excel writer stores every text cell as text, so a title such as ``=HYPERLINK(...)`` or ``-5 days``
is never run as a formula.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import difflib
import math
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from pmrisk.distributions import Distribution, parse_distribution
from pmrisk.errors import DistributionError, PmriskWarning, ProjectError
from pmrisk.io.tabular import _Cell, _is_empty, _number, _open_workbook, _read_csv, _sheet_rows, _text, _Where
from pmrisk.risk.matrix import RiskMatrix
from pmrisk.risk.model import RESPONSES, STATUSES, build_risk_model

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from pmrisk.project import Project
    from pmrisk.results import SimulationResult

__all__ = ["COLUMNS", "COLUMN_ALIASES", "HEADERS", "RESULT_COLUMNS", "RegisterRows", "merge_register",
           "read_register", "register_frame", "register_rows", "write_register_csv", "write_register_excel",
           "write_register_markdown"]

# --------------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------------

_RANGE = ("dist", "min", "likely", "max")

#: Columns filled only when a simulation result is given.
RESULT_COLUMNS: tuple[str, ...] = ("occurrence", "P80_delay_contribution", "P80_cost_contribution",
                                   "mitigation_net_benefit")

#: Every column of a register row, in export order.
COLUMNS: tuple[str, ...] = (
    "rank", "id", "title", "cause", "event", "effect", "category", "owner", "status", "tasks",
    "probability", *(f"time_{k}" for k in _RANGE), "duration_factor", *(f"cost_{k}" for k in _RANGE),
    "probability_band", "time_band", "cost_band", "impact_band", "score", "rating",
    "expected_delay", "expected_cost", "occurrence", "P80_delay_contribution", "P80_cost_contribution",
    "response", "response_action", "response_owner", "response_due", "response_cost",
    "residual_probability", *(f"residual_time_{k}" for k in _RANGE), "residual_duration_factor",
    *(f"residual_cost_{k}" for k in _RANGE),
    "residual_probability_band", "residual_impact_band", "residual_score", "residual_rating",
    "mitigation_net_benefit", "notes",
)

# left out of written files when no row fills them
_OPTIONAL = ("duration_factor", "residual_duration_factor", "response_owner", "response_due", "notes")

#: Readable headers of the Excel register (each is also accepted on import).
HEADERS: dict[str, str] = {
    "rank": "Rank", "id": "ID", "title": "Title", "cause": "Cause", "event": "Event", "effect": "Effect",
    "category": "Category", "owner": "Owner", "status": "Status", "tasks": "Affected tasks",
    "probability": "Probability",
    "time_dist": "Time dist", "time_min": "Time min (days)", "time_likely": "Time likely (days)",
    "time_max": "Time max (days)", "duration_factor": "Duration factor",
    "cost_dist": "Cost dist", "cost_min": "Cost min", "cost_likely": "Cost likely", "cost_max": "Cost max",
    "probability_band": "P band", "time_band": "Time band", "cost_band": "Cost band",
    "impact_band": "Impact band", "score": "Score", "rating": "Rating",
    "expected_delay": "Expected delay (days)", "expected_cost": "EMV", "occurrence": "Occurrence",
    "P80_delay_contribution": "P80 delay contribution (days)", "P80_cost_contribution": "P80 cost contribution",
    "response": "Response", "response_action": "Response action", "response_owner": "Response owner",
    "response_due": "Response due", "response_cost": "Response cost",
    "residual_probability": "Residual probability",
    "residual_time_dist": "Residual time dist", "residual_time_min": "Residual time min (days)",
    "residual_time_likely": "Residual time likely (days)", "residual_time_max": "Residual time max (days)",
    "residual_duration_factor": "Residual duration factor",
    "residual_cost_dist": "Residual cost dist", "residual_cost_min": "Residual cost min",
    "residual_cost_likely": "Residual cost likely", "residual_cost_max": "Residual cost max",
    "residual_probability_band": "Residual P band", "residual_impact_band": "Residual impact band",
    "residual_score": "Residual score", "residual_rating": "Residual rating",
    "mitigation_net_benefit": "Mitigation net benefit", "notes": "Notes",
}

#: Header names accepted on import for each input column (canonical name first).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "risk id", "risk no", "risk number", "risk ref", "ref", "reference", "risk key", "key", "no"),
    "title": ("title", "risk", "risk title", "name", "risk name", "summary", "short description",
              "description", "risk description"),
    "cause": ("cause", "causes", "root cause", "risk cause", "source"),
    "event": ("event", "risk event", "uncertain event"),
    "effect": ("effect", "effects", "consequence", "consequences", "impact description", "outcome"),
    "category": ("category", "risk category", "type", "risk type", "rbs", "area", "risk area"),
    "owner": ("owner", "risk owner", "responsible", "assigned to", "assignee", "accountable"),
    "status": ("status", "risk status", "state"),
    "tasks": ("tasks", "affects", "affected tasks", "affected task", "task", "task ids", "linked tasks",
              "linked task ids", "activities", "affected activities", "activity ids", "linked activities",
              "wbs", "work packages"),
    "probability": ("probability", "prob", "probability (%)", "chance", "chance (%)", "likelihood (%)",
                    "probability of occurrence", "occurrence probability"),
    "probability_band": ("probability_band", "p", "likelihood", "probability band", "probability score",
                         "probability rating", "probability level", "likelihood band", "likelihood score",
                         "likelihood rating", "likelihood level", "p band", "p score", "prob band"),
    "time_dist": ("time_dist", "time dist", "time distribution", "delay dist", "delay distribution"),
    "time_min": ("time_min", "time min", "min delay", "delay min", "minimum delay", "time impact min",
                 "schedule impact min", "optimistic delay", "best case delay", "min days"),
    "time_likely": ("time_likely", "time likely", "likely delay", "most likely delay", "delay likely",
                    "delay", "delay (days)", "impact (days)", "time impact", "time impact (days)",
                    "time impact likely", "schedule impact", "schedule impact (days)", "schedule impact likely",
                    "days", "slip", "schedule slip"),
    "time_max": ("time_max", "time max", "max delay", "delay max", "maximum delay", "time impact max",
                 "schedule impact max", "pessimistic delay", "worst case delay", "max days"),
    "time_band": ("time_band", "time band", "time impact band", "time impact score", "time impact rating",
                  "time impact level", "time score", "schedule band", "schedule impact band",
                  "schedule impact score", "schedule impact rating", "schedule impact level", "schedule score",
                  "i time", "delay band"),
    "duration_factor": ("duration_factor", "duration factor", "impact factor", "duration impact factor"),
    "cost_dist": ("cost_dist", "cost dist", "cost distribution"),
    "cost_min": ("cost_min", "cost min", "min cost", "minimum cost", "cost impact min", "optimistic cost",
                 "best case cost"),
    "cost_likely": ("cost_likely", "cost likely", "likely cost", "most likely cost", "cost impact",
                    "cost impact likely", "cost", "financial impact", "budget impact", "impact (eur)"),
    "cost_max": ("cost_max", "cost max", "max cost", "maximum cost", "cost impact max", "pessimistic cost",
                 "worst case cost"),
    "cost_band": ("cost_band", "cost band", "cost impact band", "cost impact score", "cost impact rating",
                  "cost impact level", "cost score", "i cost", "financial impact band", "financial impact score",
                  "budget impact score"),
    "impact_band": ("impact_band", "impact", "i", "impact band", "impact score", "impact rating", "impact level",
                    "severity", "consequence rating", "consequence score", "consequence level", "overall impact"),
    "response": ("response", "response strategy", "response type", "strategy", "treatment", "risk response",
                 "risk treatment", "response category"),
    "response_action": ("response_action", "response action", "mitigation", "mitigation action",
                        "mitigation actions", "mitigation plan", "mitigating action", "action", "actions",
                        "response plan", "risk response action", "treatment plan", "countermeasure",
                        "countermeasures"),
    "response_owner": ("response_owner", "response owner", "action owner", "mitigation owner", "actionee"),
    "response_due": ("response_due", "response due", "due", "due date", "action due", "target date",
                     "mitigation due"),
    "response_cost": ("response_cost", "response cost", "mitigation cost", "cost of response", "action cost",
                      "cost of mitigation", "mitigation budget"),
    "residual_probability": ("residual_probability", "residual probability", "residual prob",
                             "post-mitigation probability", "probability after response", "target probability",
                             "residual probability (%)", "residual likelihood (%)"),
    "residual_probability_band": ("residual_probability_band", "residual p", "residual p band",
                                  "residual probability band", "residual likelihood", "residual likelihood score",
                                  "residual probability score", "post-mitigation likelihood"),
    "residual_time_dist": ("residual_time_dist", "residual time dist", "residual time distribution"),
    "residual_time_min": ("residual_time_min", "residual time min", "residual min delay"),
    "residual_time_likely": ("residual_time_likely", "residual time likely", "residual delay",
                             "residual time impact", "residual schedule impact", "post-mitigation delay",
                             "residual impact (days)"),
    "residual_time_max": ("residual_time_max", "residual time max", "residual max delay"),
    "residual_time_band": ("residual_time_band", "residual time band", "residual time impact band",
                           "residual schedule impact score", "residual schedule score"),
    "residual_duration_factor": ("residual_duration_factor", "residual duration factor",
                                 "residual impact factor"),
    "residual_cost_dist": ("residual_cost_dist", "residual cost dist", "residual cost distribution"),
    "residual_cost_min": ("residual_cost_min", "residual cost min", "residual min cost"),
    "residual_cost_likely": ("residual_cost_likely", "residual cost likely", "residual cost impact",
                             "residual cost", "post-mitigation cost impact", "residual impact (eur)"),
    "residual_cost_max": ("residual_cost_max", "residual cost max", "residual max cost"),
    "residual_cost_band": ("residual_cost_band", "residual cost band", "residual cost impact band",
                           "residual cost score"),
    "notes": ("notes", "note", "comments", "comment", "remarks"),
    "contingency": ("contingency", "contingency plan", "contingency action", "contingency actions", "fallback",
                    "fallback plan"),
}

# computed columns: recognised (so not reported as unknown) and ignored on import
_OUTPUT_ALIASES: dict[str, tuple[str, ...]] = {
    "rank": ("rank", "ranking"),
    "score": ("score", "risk score", "pxi", "p x i", "probability x impact", "exposure score"),
    "rating": ("rating", "risk rating", "risk level", "rag", "rag status"),
    "residual_impact_band": ("residual_impact_band", "residual impact band", "residual impact", "residual i"),
    "residual_score": ("residual_score", "residual score", "residual risk score", "post-mitigation score"),
    "residual_rating": ("residual_rating", "residual rating", "residual risk rating", "residual risk level"),
    "expected_delay": ("expected_delay", "expected delay"),
    "expected_cost": ("expected_cost", "emv", "expected monetary value", "expected cost", "exposure",
                      "risk exposure"),
    "occurrence": ("occurrence", "occurrence rate", "simulated occurrence"),
    "P80_delay_contribution": ("p80_delay_contribution", "p80 delay contribution", "p80 delay"),
    "P80_cost_contribution": ("p80_cost_contribution", "p80 cost contribution", "p80 cost"),
    "P50_delay_contribution": ("p50_delay_contribution", "p50 delay contribution"),
    "P50_cost_contribution": ("p50_cost_contribution", "p50 cost contribution"),
    "P90_delay_contribution": ("p90_delay_contribution", "p90 delay contribution"),
    "P90_cost_contribution": ("p90_cost_contribution", "p90 cost contribution"),
    "mitigation_net_benefit": ("mitigation_net_benefit", "mitigation net benefit", "net benefit"),
}

# an alias that means another column when its first meaning is already taken by a column of the file
_SECOND_CHOICE: dict[str, tuple[str, ...]] = {"description": ("event", "notes"),
                                              "riskdescription": ("event", "notes")}

_RESPONSE_WORDS: dict[str, str] = {
    **{r: r for r in RESPONSES},
    "avoidance": "avoid", "eliminate": "avoid", "terminate": "avoid",
    "mitigation": "mitigate", "reduce": "mitigate", "reduction": "mitigate", "control": "mitigate",
    "treat": "mitigate", "minimise": "mitigate", "minimize": "mitigate",
    "transference": "transfer", "insure": "transfer", "insurance": "transfer", "outsource": "transfer",
    "acceptance": "accept", "retain": "accept", "retention": "accept", "tolerate": "accept",
    "activeacceptance": "accept", "passiveacceptance": "accept",
    "exploitation": "exploit", "enhancement": "enhance", "sharing": "share", "escalation": "escalate",
}

_DIST_NAMES = {"triangular": "triangular", "triang": "triangular", "tri": "triangular", "triangle": "triangular",
               "pert": "pert", "betapert": "pert", "uniform": "uniform", "fixed": "fixed", "constant": "fixed"}

_DAYS_UNITS = {"d", "day", "days", "wd", "workingdays", "workdays", "businessdays", "workingday"}
_MONEY_SYMBOLS = ("€", "$", "£", "¥", "chf", "eur", "usd", "gbp", "money", "currency", "cost")
_PERCENT = re.compile(r"^\s*([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+))\s*%\s*$")


def _alnum(s: str) -> str:
    return re.sub(r"[^0-9a-z]", "", s.lower())


def _unit_info(unit: str) -> tuple[str | None, float]:
    """(class, scale) of a header's bracketed unit: ('days', 1), ('money', 1000) for kEUR, ..."""
    original = unit.strip()
    u = original.lower()
    if _alnum(u) in _DAYS_UNITS:
        return "days", 1.0
    if "%" in u:
        return "percent", 1.0
    scale = 1.0
    m = re.fullmatch(r"(k|m|thousands?|millions?|'000|000)\s*(.*)", u)
    if m and (m.group(2) or m.group(1) not in ("k", "m")):
        scale = 1e6 if m.group(1).startswith("m") else 1e3
        u = m.group(2) or "money"
        original = original[len(original) - len(m.group(2)):] if m.group(2) else ""
    if any(s in u for s in _MONEY_SYMBOLS) or re.fullmatch(r"[A-Z]{3}", original):
        return "money", scale
    return None, 1.0


def _header_keys(name: str) -> list[str]:
    """Lookup keys of a header, most specific first: full text, base + unit class, base."""
    raw = str(name).strip()
    units = [a or b for a, b in re.findall(r"\(([^)]*)\)|\[([^\]]*)\]", raw)]
    bare = re.sub(r"\([^)]*\)|\[[^\]]*\]", "", raw)
    keys = [_alnum(raw.replace("%", "pct"))]
    base = _alnum(bare.replace("%", "pct"))
    for u in units:
        cls, _ = _unit_info(u)
        if cls:
            keys.append(f"{base}|{cls}")
    keys += [base, _alnum(bare)]
    return list(dict.fromkeys(k for k in keys if k))


def _build_lookup() -> dict[str, str]:
    out: dict[str, str] = {}

    def add(key: str, canon: str) -> None:
        if out.get(key, canon) != canon:  # pragma: no cover - a programming error in the alias tables
            raise RuntimeError(f"register alias '{key}' means both {out[key]} and {canon}")
        out[key] = canon

    tables: list[dict[str, tuple[str, ...]]] = [COLUMN_ALIASES, _OUTPUT_ALIASES,
                                                {c: (h,) for c, h in HEADERS.items()}]
    for table in tables:
        for canon, names in table.items():
            for name in names:
                keys = _header_keys(name)
                if re.search(r"[(\[]", name):        # "Impact (days)": not plain "impact"
                    bare = _header_keys(re.sub(r"\([^)]*\)|\[[^\]]*\]", "", name))
                    keys = [k for k in keys if k not in bare]
                for k in keys:
                    add(k, canon)
    return out


_LOOKUP = _build_lookup()
_OUTPUTS = frozenset(_OUTPUT_ALIASES)


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _RWhere(path: Path, unit: str, sheet: str | None = None) -> _Where:  # noqa: N802 - reads like the class
    """Error locations that name the risk rather than a task."""
    return _Where(path, unit, sheet, entity="risk")


@dataclasses.dataclass(frozen=True)
class _Column:
    canon: str
    header: str
    letter: str | None
    percent: bool = False
    scale: float = 1.0
    bands: bool = False        # a probability column that holds bands 1-5


class RegisterRows(list[dict[str, Any]]):
    """The ``risks:`` entries read from a register: a list of dicts that remembers where each came from.

    Attributes
    ----------
    source : str
        The register file (and sheet).
    lines : dict of int to int
        Entry position -> line (CSV) or row (Excel) of the file.
    ignored : list of str
        Headers of the columns that were not read (unknown to pmrisk).
    """

    def __init__(self, entries: Iterable[dict[str, Any]] = (), *, source: str = "", unit: str = "line",
                 lines: dict[int, int] | None = None, ignored: list[str] | None = None) -> None:
        super().__init__(entries)
        self.source = source
        self.unit = unit
        self.lines: dict[int, int] = dict(lines or {})
        self.ignored: list[str] = list(ignored or [])


def read_register(path: str | os.PathLike[str], matrix: RiskMatrix | None = None) -> RegisterRows:
    """Read a risk register (CSV/TSV or Excel) into ``risks:`` entries of a project file.

    Parameters
    ----------
    path
        A ``.csv``/``.tsv`` file (UTF-8; ``,``, ``;`` or tab separated) or an ``.xlsx``/``.xlsm``
        workbook (the sheet ``Register`` or ``Risks``, any case, else the first sheet). The header
        is the first row that names at least two known columns, so title rows above it are fine.
        See the module documentation for the columns and their aliases.
    matrix
        The band table for qualitative cells (default: :class:`~pmrisk.risk.matrix.RiskMatrix`
        defaults; pass the target project's matrix).

    Returns
    -------
    RegisterRows
        A list of dicts with the keys of a ``risks:`` entry (id, title, cause, event, effect,
        category, owner, status, probability, affects, delay, impact, cost, mitigation{action,
        cost, probability, delay, impact, cost_impact, owner, due}, response, notes), ready for
        :func:`merge_register`. Task ids are checked there, against the project.

    Raises
    ------
    pmrisk.errors.ProjectError
        Naming the file, the row and the column: missing required columns (id, a probability or
        probability band, an impact), duplicate ids, cells that are not numbers, probabilities or
        bands, incomplete ranges, unknown responses.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "register.csv"
    >>> _ = f.write_text("Risk ID,Risk,Likelihood,Schedule impact,Cost impact,Affected tasks,Response strategy\\n"
    ...                  "R1,Vendor late,30%,10,20000,B,Mitigate\\n"
    ...                  "R2,Key tester leaves,High,Medium,,B,accept\\n")
    >>> risks = read_register(f)
    >>> risks[0]
    {'id': 'R1', 'title': 'Vendor late', 'probability': 0.3, 'affects': ['B'], 'delay': 10, 'cost': 20000, \
'response': 'mitigate'}
    >>> r2 = risks[1]; r2["probability"], r2["delay"], risks.lines
    (0.6, {'dist': 'uniform', 'min': 5, 'max': 10}, {0: 2, 1: 3})
    """
    p = Path(path)
    m = matrix or RiskMatrix()
    suffix = p.suffix.lower()
    if not p.exists():
        raise ProjectError(f"{p}: no such file. Check the path.")
    if p.is_dir():
        raise ProjectError(f"{p}: is a folder; give a register file (.xlsx or .csv).")
    if suffix in (".xlsx", ".xlsm"):
        rows, where = _read_excel(p)
    elif suffix in (".csv", ".tsv", ".txt"):
        where = _RWhere(p, "line")
        try:
            header, body, _settings, _w = _read_csv(p, tab=suffix == ".tsv")
        except ProjectError as exc:
            if "no header line found" not in str(exc):
                raise
            header, body = [], []
        rows = [header, *body] if header else []
    else:
        raise ProjectError(f"{p}: unsupported register type '{suffix or '(none)'}'. Use a .xlsx, .xlsm, .csv or "
                           ".tsv file.")
    return _parse(rows, where, m)


def _read_excel(path: Path) -> tuple[list[list[_Cell]], _Where]:
    from openpyxl.utils import get_column_letter

    wb, wbf = _open_workbook(path, "the register")
    try:
        sheets = list(wb.worksheets)
        if not sheets:
            raise ProjectError(f"{path}: the workbook has no worksheet. Add a sheet 'Register' with one row "
                               "per risk.")
        by_name = {ws.title.strip().lower(): ws for ws in sheets}
        ws = by_name.get("register") or by_name.get("risks") or by_name.get("risk register") or sheets[0]
        where = _RWhere(path, "row", ws.title)
        rows = [[_Cell(v, r, "", get_column_letter(j + 1)) for j, v in enumerate(values)]
                for r, values in _sheet_rows(ws, wbf[ws.title], where)]
        return rows, where
    finally:
        wb.close()
        wbf.close()


def _lookup_header(name: str) -> tuple[str | None, list[str]]:
    keys = _header_keys(name)
    for k in keys:
        if k in _LOOKUP:
            return _LOOKUP[k], keys
    return None, keys


def _find_header(rows: list[list[_Cell]]) -> int | None:
    """Index of the header row: the first of the first 20 filled rows naming two known columns."""
    filled = [i for i, r in enumerate(rows) if any(not _is_empty(c.value) for c in r)]
    for i in filled[:20]:
        known = sum(1 for c in rows[i] if isinstance(c.value, str) and _lookup_header(c.value)[0] is not None)
        if known >= 2:
            return i
    return filled[0] if filled else None


def _columns(header: list[_Cell], body: list[list[_Cell]], where: _Where) -> tuple[dict[int, _Column], list[str]]:
    line = header[0].line if header else None
    first: list[tuple[int, str, list[str]]] = []
    second: list[tuple[int, str, list[str]]] = []
    ignored: list[str] = []
    for j, cell in enumerate(header):
        name = _text(cell.value)
        if name is None:
            continue
        canon, keys = _lookup_header(name)
        if canon is None:
            ignored.append(name)
            continue
        (second if any(k in _SECOND_CHOICE for k in keys) else first).append((j, canon, keys))
    taken: dict[str, str] = {}
    cols: dict[int, _Column] = {}
    for j, canon, keys in first + second:
        name = _text(header[j].value) or ""
        choice = canon
        if canon in taken:
            alts = next((_SECOND_CHOICE[k] for k in keys if k in _SECOND_CHOICE), ())
            choice = next((a for a in alts if a not in taken), canon)
        if choice in taken:
            raise where.error(line, f"columns '{taken[choice]}' and '{name}' both mean '{choice}'",
                              "Keep one of them (rename or delete the other).")
        taken[choice] = name
        if choice in _OUTPUTS:
            continue
        units = [a or b for a, b in re.findall(r"\(([^)]*)\)|\[([^\]]*)\]", name)]
        scale = next((s for u in units for cls, s in [_unit_info(u)] if cls == "money"), 1.0)
        cols[j] = _Column(choice, name, header[j].letter, percent="%" in name, scale=scale)
    missing = []
    have = set(taken)
    if "id" not in have:
        missing.append("'id' (the risk's unique id; also: Risk ID, Ref)")
    if not have & {"probability", "probability_band"}:
        missing.append("a probability ('probability' as 0.3 or 30%, or a band 1-5 or Very low..Very high in "
                       "'probability_band', also: P, Likelihood)")
    impact_cols = {f"{k}_{x}" for k in ("time", "cost") for x in ("min", "likely", "max", "dist", "band")}
    if not have & (impact_cols | {"impact_band", "duration_factor"}):
        missing.append("an impact (time_min/time_likely/time_max in working days, cost_min/cost_likely/"
                       "cost_max, or a band: time_band, cost_band, impact_band; also: Impact (days), Schedule "
                       "impact, Cost impact, I)")
    if missing:
        near = []
        for name in ignored:
            close = difflib.get_close_matches(_alnum(name), list(_LOOKUP), n=1, cutoff=0.75)
            if close:
                near.append(f"'{name}' (did you mean '{_LOOKUP[close[0]]}'?)")
        hint = f" Columns not recognised: {', '.join(near)}." if near else ""
        raise where.error(line, "missing column" + ("s" if len(missing) > 1 else "") + ": " + "; ".join(missing),
                          "Add " + ("them" if len(missing) > 1 else "it") + " to the header row; case, spaces and "
                          "punctuation do not matter." + hint)
    # a probability column holding only whole numbers 1-5 is a column of bands
    for j, col in list(cols.items()):
        if col.canon in ("probability", "residual_probability") and not col.percent:
            nums = []
            for rec in body:
                v = rec[j].value if j < len(rec) else None
                if isinstance(v, str) and _looks_number(v):
                    v = float(v)
                if isinstance(v, int | float) and not isinstance(v, bool):
                    nums.append(float(v))
            if nums and all(x.is_integer() and 1 <= x <= 5 for x in nums) and max(nums) > 1:
                cols[j] = dataclasses.replace(col, bands=True)
    return cols, ignored


def _looks_number(s: str) -> bool:
    return re.fullmatch(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*", s) is not None


def _parse(rows: list[list[_Cell]], where: _Where, matrix: RiskMatrix) -> RegisterRows:
    h = _find_header(rows)
    if h is None:
        raise where.error(None, "the register is empty",
                          "Put a header row (id, title, probability, time_min, time_likely, time_max, cost_likely, "
                          "tasks, ...) and one row per risk in it.")
    header = rows[h]
    header = [_Cell(c.value, c.line, _text(c.value) or "", c.letter) for c in header]
    body = rows[h + 1:]
    cols, ignored = _columns(header, body, where)
    out = RegisterRows(source=where.at(), unit=where.unit, ignored=ignored)
    if ignored:
        warnings.warn(PmriskWarning(f"{where.at()}: column(s) not read: {', '.join(ignored)}. pmrisk reads the "
                                    "register columns listed in the pmrisk.risk.register docs."), stacklevel=2)
    seen: dict[str, int] = {}
    for rec in body:
        if all(_is_empty(c.value) for c in rec):
            continue
        line = next(c.line for c in rec)
        row = {col.canon: (_Cell(rec[j].value, rec[j].line, col.header, col.letter), col)
               for j, col in cols.items() if j < len(rec) and not _is_empty(rec[j].value)}
        id_cell = row.get("id")
        rid = _text(id_cell[0].value) if id_cell else None
        if rid is not None and rid.startswith("#"):
            continue                                        # a commented-out row
        if rid is None:
            if not row:
                continue                                    # only unknown columns filled
            raise where.error(line, "the row has content but no id",
                              "Give the risk a unique id in the id column, or clear the row.")
        if rid in seen:
            raise where.error(line, f"duplicate id '{rid}' (also on {where.unit} {seen[rid]})",
                              "Risk ids must be unique; rename one.", task=rid)
        seen[rid] = line
        out.lines[len(out)] = line
        out.append(_entry(rid, row, line, where, matrix))
    return out


_Row = dict[str, tuple[_Cell, _Column]]


def _entry(rid: str, row: _Row, line: int, where: _Where, matrix: RiskMatrix) -> dict[str, Any]:
    def text(col: str) -> str | None:
        c = row.get(col)
        return _text(c[0].value) if c else None

    entry: dict[str, Any] = {"id": rid}
    for col in ("title", "cause", "event", "effect", "category", "owner", "status"):
        if (t := text(col)) is not None:
            entry[col] = t

    p = _probability(row, "", where, rid, matrix)
    if p is None:
        raise where.error(line, "no probability",
                          "Fill the probability (0.3 or 30%) or its band (1-5, or Very low .. Very high).", task=rid)
    entry["probability"] = p
    if (c := row.get("tasks")) is not None:
        entry["affects"] = [t.strip() for t in re.split(r"[;,\n]", _text(c[0].value) or "") if t.strip()]

    factor = _single(row, "duration_factor", where, rid)
    # a time band exported next to a duration factor describes the factor: not a delay of its own
    delay = _range(row, "time_", where, rid, matrix, use_band=factor is None)
    cost = _range(row, "cost_", where, rid, matrix)
    if delay is None and cost is None and factor is None and (c := row.get("impact_band")) is not None:
        band = _band(c, where, rid, matrix)
        kind = "time" if entry.get("affects") else "cost"
        if kind == "time":
            delay = matrix.impact_distribution("time", band)
        else:
            cost = matrix.impact_distribution("cost", band)
    if delay is None and cost is None and factor is None:
        raise where.error(line, "no impact",
                          "Fill the delay (time_min/time_likely/time_max, working days), the cost impact "
                          "(cost_min/cost_likely/cost_max), or a band (time_band, cost_band, impact_band).",
                          task=rid)
    if delay is not None:
        entry["delay"] = delay
    if factor is not None:
        entry["impact"] = factor
    if cost is not None:
        entry["cost"] = cost

    if (c := row.get("response")) is not None:
        entry["response"] = _response(c[0], where, rid)

    mit: dict[str, Any] = {}
    if (t := text("response_action")) is not None:
        mit["action"] = t
    if (v := _single(row, "response_cost", where, rid)) is not None:
        mit["cost"] = v
    if (v := _probability(row, "residual_", where, rid, matrix)) is not None:
        mit["probability"] = v
    residual_factor = _single(row, "residual_duration_factor", where, rid)
    if (v := _range(row, "residual_time_", where, rid, matrix, use_band=residual_factor is None)) is not None:
        mit["delay"] = v
    if residual_factor is not None:
        mit["impact"] = residual_factor
    if (v := _range(row, "residual_cost_", where, rid, matrix)) is not None:
        mit["cost_impact"] = v
    for col, key in (("response_owner", "owner"), ("response_due", "due")):
        if (t := text(col)) is not None:
            mit[key] = t
    if mit:
        entry["mitigation"] = mit

    notes = [t for t in (text("notes"), text("contingency")) if t]
    if text("contingency") is not None:
        notes[-1] = f"Contingency plan: {notes[-1]}"
    if notes:
        entry["notes"] = "\n".join(notes)
    return entry


def _num_out(x: float) -> int | float:
    """A number as it reads best in a project file: 10 rather than 10.0."""
    x = float(x)
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def _number_cell(cell: _Cell, col: _Column, where: _Where, rid: str) -> int | float | None:
    v = _number(cell, where, rid)
    if v is None:
        return None
    return _num_out(v * col.scale) if col.scale != 1.0 else v


def _probability(row: _Row, prefix: str, where: _Where, rid: str, matrix: RiskMatrix) -> float | None:
    """A probability from the ``probability`` cell (value, percentage or band), else from its band cell."""
    c = row.get(f"{prefix}probability")
    if c is not None:
        cell, col = c
        if col.bands:
            return matrix.band_probability(_band(c, where, rid, matrix))
        v = cell.value
        if isinstance(v, str) and (m := _PERCENT.match(v)):
            return _check_p(float(m.group(1).replace(",", ".")) / 100, cell, where, rid)
        if isinstance(v, str) and not _looks_number(v):
            band = matrix.parse_band(v)
            if band is not None:
                return matrix.band_probability(band)
            raise where.error(cell.line, f"{v.strip()!r} is not a probability",
                              "Write it as 0.3 or 30%, or as a band 1-5 or a label (" + ", ".join(matrix.labels)
                              + ").", task=rid, field=cell.label)
        x = _number(cell, where, rid)
        assert x is not None
        if col.percent:
            x = x / 100
        return _check_p(float(x), cell, where, rid)
    c = row.get(f"{prefix}probability_band")
    if c is not None:
        cell = c[0]
        v = cell.value
        if isinstance(v, str) and (m := _PERCENT.match(v)):
            return _check_p(float(m.group(1).replace(",", ".")) / 100, cell, where, rid)
        x = v if not isinstance(v, str) else (float(v) if _looks_number(v) else None)
        if isinstance(x, int | float) and not isinstance(x, bool) and 0 < x < 1:
            return float(x)                                 # a probability in a likelihood column
        return matrix.band_probability(_band(c, where, rid, matrix))
    return None


def _check_p(p: float, cell: _Cell, where: _Where, rid: str) -> float:
    if not 0.0 <= p <= 1.0:
        hint = f" Did you mean {p / 100:g} ({p:g}%)?" if 1 < p <= 100 else ""
        raise where.error(cell.line, f"probability {_text(cell.value)} is outside 0-100%",
                          f"Write probabilities as fractions (0.3) or percentages (30%).{hint}", task=rid,
                          field=cell.label)
    return float(f"{p:.12g}")


def _band(c: tuple[_Cell, _Column], where: _Where, rid: str, matrix: RiskMatrix) -> int:
    cell = c[0]
    band = matrix.parse_band(cell.value)
    if band is None:
        raise where.error(cell.line, f"{_text(cell.value)!r} is not a band",
                          f"Write a band 1-5 or one of the labels {', '.join(matrix.labels)}.", task=rid,
                          field=cell.label)
    return band


def _spec_text(cell: _Cell, where: _Where, rid: str) -> dict[str, Any]:
    text = _text(cell.value) or ""
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError:
        spec = None
    if not isinstance(spec, dict):
        raise where.error(cell.line, f"cannot read the distribution {text!r}",
                          "Write it like {dist: lognormal, p10: 3, p90: 12} or give only the name (triangular, "
                          "pert, uniform) and fill min/likely/max.", task=rid, field=cell.label)
    try:
        d = parse_distribution(spec)
    except DistributionError as exc:
        raise where.error(cell.line, str(exc), "Correct the distribution.", task=rid, field=cell.label) from None
    out = d.to_spec()
    return out if isinstance(out, dict) else {"dist": "fixed", "value": out}


def _single(row: _Row, col: str, where: _Where, rid: str) -> Any:
    """A number or a distribution spec (``{dist: ...}``) from one cell; None when empty."""
    c = row.get(col)
    if c is None:
        return None
    cell, column = c
    if isinstance(cell.value, str) and cell.value.strip().startswith("{"):
        return _spec_text(cell, where, rid)
    return _number_cell(cell, column, where, rid)


def _range(row: _Row, prefix: str, where: _Where, rid: str, matrix: RiskMatrix, *, use_band: bool = True) -> Any:
    """The impact of columns ``<prefix>dist/min/likely/max`` (or ``<prefix>band``): a number, a spec or None."""
    kind = "time" if "time" in prefix else "cost"
    dist_c = row.get(f"{prefix}dist")
    cells = {k: row[f"{prefix}{k}"] for k in ("min", "likely", "max") if f"{prefix}{k}" in row}
    # a label in a single impact column ("Schedule impact: High") is a band
    lk = cells.get("likely")
    if lk is not None and len(cells) == 1 and dist_c is None and isinstance(lk[0].value, str) \
            and not _looks_number(lk[0].value) and matrix.parse_band(lk[0].value) is not None:
        return matrix.impact_distribution(kind, _band(lk, where, rid, matrix))
    nums = {k: v for k, c in cells.items() if (v := _number_cell(c[0], c[1], where, rid)) is not None}
    name = None
    if dist_c is not None:
        cell = dist_c[0]
        text = _text(cell.value) or ""
        if text.startswith("{"):
            if nums:
                c = next(iter(cells.values()))[0]
                raise where.error(c.line, "both a full distribution and min/likely/max are given",
                                  f"Clear the min/likely/max cells, or put only a name in {cell.label}.", task=rid,
                                  field=c.label)
            return _spec_text(cell, where, rid)
        name = _DIST_NAMES.get(_alnum(text))
        if name is None:
            raise where.error(cell.line, f"unknown distribution '{text}'",
                              "Name triangular, pert, uniform or fixed and fill min/likely/max, or write a full "
                              "spec such as {dist: lognormal, p10: 3, p90: 12}.", task=rid, field=cell.label)
    band_c = row.get(f"{prefix}band") if use_band else None
    if not nums:
        if band_c is not None:
            return matrix.impact_distribution(kind, _band(band_c, where, rid, matrix))
        if dist_c is not None:
            raise where.error(dist_c[0].line, f"{dist_c[0].label} says {name} but no values are given",
                              f"Fill {kind}_min/{kind}_likely/{kind}_max, or clear the dist cell.", task=rid)
        return None
    where_cell = next(iter(cells.values()))[0]
    if name is None:
        if set(nums) == {"min", "likely", "max"}:
            name = "triangular"
        elif set(nums) == {"min", "max"}:
            name = "uniform"
        elif set(nums) == {"likely"}:
            name = "fixed"
        else:
            raise where.error(where_cell.line, f"incomplete {kind} impact range (only {', '.join(nums)})",
                              f"Fill {kind}_min, {kind}_likely and {kind}_max (a triangular), {kind}_min and "
                              f"{kind}_max (a uniform), or only {kind}_likely (a fixed value).", task=rid)
    need = {"triangular": ("min", "likely", "max"), "pert": ("min", "likely", "max"), "uniform": ("min", "max"),
            "fixed": ("likely",)}[name]
    if set(nums) != set(need):
        raise where.error(where_cell.line, f"a {name} {kind} impact needs {', '.join(f'{kind}_{k}' for k in need)}"
                          f" (given: {', '.join(f'{kind}_{k}' for k in nums)})",
                          "Fill exactly those cells, or change the dist cell.", task=rid)
    if name == "fixed":
        return nums["likely"]
    spec: dict[str, Any] = {"dist": name, **{k: nums[k] for k in need}}
    try:
        parse_distribution(spec)
    except DistributionError as exc:
        raise where.error(where_cell.line, f"{kind} impact: {exc}", "Correct the range.", task=rid) from None
    return spec


def _response(cell: _Cell, where: _Where, rid: str) -> str:
    text = _text(cell.value) or ""
    key = _alnum(text)
    if key in _RESPONSE_WORDS:
        return _RESPONSE_WORDS[key]
    close = difflib.get_close_matches(key, list(_RESPONSE_WORDS), n=1)
    hint = f"Did you mean '{_RESPONSE_WORDS[close[0]]}'? " if close else ""
    raise where.error(cell.line, f"unknown response '{text}'",
                      f"{hint}Use one of {', '.join(RESPONSES)} (describe the action itself in 'response_action').",
                      task=rid, field=cell.label)


# --------------------------------------------------------------------------------------------
# Merging into a project
# --------------------------------------------------------------------------------------------


def merge_register(project_data: Mapping[str, Any], risks: Sequence[Mapping[str, Any]], *,
                   source: str | None = None) -> dict[str, Any]:
    """A new raw project dict whose ``risks:`` holds the register's risks.

    A risk with the id of an existing risk replaces it (in its place); new ones are added at the
    end; the project's other risks are kept. The result is validated with
    :meth:`pmrisk.project.Project.from_dict`; ``project_data`` is not changed.

    Parameters
    ----------
    project_data
        The parsed project file (``{"pmrisk": 1, "project": {...}, "tasks": [...], ...}``).
    risks
        ``risks:`` entries, e.g. from :func:`read_register` (whose file and rows then appear in
        error messages).
    source
        The project file's name, for error messages.

    Raises
    ------
    pmrisk.errors.ProjectError
        When the project is invalid, or a risk is (an unknown task id, a bad distribution, ...).

    Examples
    --------
    >>> data = {"tasks": [{"id": "A", "duration": 10}],
    ...         "risks": [{"id": "R1", "probability": 0.1, "affects": ["A"], "delay": 3},
    ...                   {"id": "R2", "probability": 0.2, "cost": 5000}]}
    >>> new = merge_register(data, [{"id": "R1", "probability": 0.4, "affects": ["A"], "delay": 5},
    ...                             {"id": "R3", "probability": 0.5, "cost": 100}])
    >>> [(r["id"], r["probability"]) for r in new["risks"]]
    [('R1', 0.4), ('R2', 0.2), ('R3', 0.5)]
    >>> merge_register(data, [{"id": "R9", "probability": 0.4, "affects": ["X"], "delay": 5}])
    Traceback (most recent call last):
    ...
    pmrisk.errors.ProjectError: risk R9, affects: unknown task 'X'. Check the spelling or add that task.
    """
    import copy

    from pmrisk.project import Project

    if not isinstance(project_data, Mapping):
        raise ProjectError(f"{source or 'the project'}: the top level must be a mapping with a 'tasks' list.")
    # the tasks as they stand; the project's own risks are checked with the merged result
    base = Project.from_dict({**project_data, "risks": []}, source=source)
    task_ids = base.task_ids
    tags = {t.id: set(t.tags) for t in base.tasks}
    reg_source = getattr(risks, "source", None) or None
    reg_lines = getattr(risks, "lines", {}) or {}
    unit = getattr(risks, "unit", "line")
    for i, raw in enumerate(risks):
        # each imported risk on its own first, so that errors point at the register's row
        label_src = f"{reg_source}, {unit} {reg_lines[i]}" if reg_source and i in reg_lines else reg_source
        build_risk_model({"risks": [raw]}, task_ids, tags, source=label_src)
    new = copy.deepcopy(dict(project_data))
    old = list(new.get("risks") or [])
    position = {str(r.get("id")).strip(): k for k, r in enumerate(old) if isinstance(r, Mapping)}
    for raw in risks:
        entry = copy.deepcopy(dict(raw))
        rid = str(entry.get("id")).strip()
        if rid in position:
            old[position[rid]] = entry
        else:
            position[rid] = len(old)
            old.append(entry)
    new["risks"] = old
    Project.from_dict(new, source=source)
    return new


# --------------------------------------------------------------------------------------------
# Rows from a project (and a simulation)
# --------------------------------------------------------------------------------------------


def _flow(spec: Mapping[str, Any]) -> str:
    """A spec as one line of YAML, as written in project files: ``{dist: lognormal, p10: 3, p90: 12}``."""
    tidy = {k: (_num_out(v) if isinstance(v, float) else v) for k, v in spec.items()}
    return yaml.safe_dump(tidy, default_flow_style=True, sort_keys=False, width=10_000).strip()


def _dist_cells(d: Distribution | None) -> tuple[str | None, Any, Any, Any]:
    """(dist, min, likely, max) cells of an impact distribution."""
    if d is None:
        return None, None, None, None
    spec = d.to_spec()
    if not isinstance(spec, dict):
        return None, None, _num_out(spec), None
    kind = spec.get("dist")
    if kind in ("triangular", "pert") and (kind == "triangular" or spec.get("lambda", 4.0) == 4.0):
        return kind, _num_out(spec["min"]), _num_out(spec["likely"]), _num_out(spec["max"])
    if kind == "uniform":
        return kind, _num_out(spec["min"]), None, _num_out(spec["max"])
    return _flow(spec), None, None, None


def _single_cell(d: Distribution | None) -> Any:
    if d is None:
        return None
    spec = d.to_spec()
    return _flow(spec) if isinstance(spec, dict) else _num_out(spec)


def _put_range(row: dict[str, Any], prefix: str, d: Distribution | None) -> None:
    for k, v in zip(_RANGE, _dist_cells(d), strict=True):
        row[f"{prefix}{k}"] = v


def _clean(x: Any) -> Any:
    """NaN -> None, numpy scalars -> Python numbers."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return x
    if math.isnan(f):
        return None
    return int(x) if isinstance(x, int) or (hasattr(x, "dtype") and "int" in str(x.dtype)) else f


def register_rows(project: Project, result: SimulationResult | None = None,
                  matrix: RiskMatrix | None = None) -> list[dict[str, Any]]:
    """The register of a project: one dict per risk with the canonical columns, ranked.

    Parameters
    ----------
    project
        A validated project.
    result
        A simulation of it (:func:`pmrisk.simulate`): adds occurrence, P80 delay and cost
        contributions and the mitigation's net benefit, and ranks by P80 delay contribution, then
        P80 cost contribution, then EMV (``result.risks()``). Without it risks rank by score, then
        expected delay, then EMV.
    matrix
        The band table (default: the project's ``risk_matrix:``).

    Returns
    -------
    list of dict
        Keys: :data:`COLUMNS` (without :data:`RESULT_COLUMNS` when no result is given); empty
        cells are None.

    Examples
    --------
    >>> from pmrisk.project import Project
    >>> p = Project.from_dict({"tasks": [{"id": "A", "duration": 10}], "risks": [
    ...     {"id": "R1", "title": "Vendor late", "probability": 0.3, "affects": ["A"],
    ...      "delay": {"dist": "triangular", "min": 5, "likely": 10, "max": 20}},
    ...     {"id": "R2", "probability": 0.6, "cost": 200000}]})
    >>> [(r["rank"], r["id"], r["score"], r["rating"], r["time_likely"], r["cost_likely"])
    ...  for r in register_rows(p)]
    [(1, 'R2', 16, 'high', None, 200000), (2, 'R1', 8, 'medium', 10, None)]
    """
    m = matrix or RiskMatrix.for_project(project)
    quant: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    if result is not None:
        table = result.risks()
        for rid, rec in table.iterrows():
            quant[str(rid)] = {str(k): _clean(v) for k, v in rec.items()}
            order.append(str(rid))
    rows: list[dict[str, Any]] = []
    for r in project.risks:
        row: dict[str, Any] = dict.fromkeys(c for c in COLUMNS if result is not None or c not in RESULT_COLUMNS)
        row.update(id=r.id, title=r.title, cause=r.cause, event=r.event, effect=r.effect, category=r.category,
                   owner=r.owner, status=r.status, tasks="; ".join(r.affects) or None,
                   probability=r.state.probability, notes=r.notes)
        _put_range(row, "time_", r.state.delay)
        row["duration_factor"] = _single_cell(r.state.impact)
        _put_range(row, "cost_", r.state.cost)
        a = m.assess(r, project=project)
        row.update(probability_band=a.probability_band, time_band=a.time_band, cost_band=a.cost_band,
                   impact_band=a.impact_band, score=a.score, rating=a.rating,
                   expected_delay=r.expected_delay(), expected_cost=r.expected_cost())
        mit = r.mitigation
        row["response"] = r.response or (mit.response if mit is not None else None)
        if mit is not None:
            res = mit.residual
            row.update(response_action=mit.action, response_owner=mit.owner, response_due=mit.due,
                       response_cost=_single_cell(mit.cost), residual_probability=res.probability)
            if res.delay != r.state.delay:
                _put_range(row, "residual_time_", res.delay)
            if res.impact != r.state.impact:
                row["residual_duration_factor"] = _single_cell(res.impact)
            if res.cost != r.state.cost:
                _put_range(row, "residual_cost_", res.cost)
            ra = m.assess(r, mitigated=True, project=project)
            row.update(residual_probability_band=ra.probability_band, residual_impact_band=ra.impact_band,
                       residual_score=ra.score, residual_rating=ra.rating)
        if result is not None and r.id in quant:
            q = quant[r.id]
            for col in ("occurrence", "P80_delay_contribution", "P80_cost_contribution", "expected_delay",
                        "expected_cost", "mitigation_net_benefit"):
                row[col] = q.get(col)
        rows.append(row)
    if result is not None:
        pos = {rid: k for k, rid in enumerate(order)}
        rows.sort(key=lambda row: pos.get(row["id"], len(pos)))
    else:
        rows = sorted(rows, key=lambda row: (-row["score"], -abs(row["expected_delay"] or 0.0),
                                             -abs(row["expected_cost"] or 0.0)))
    for k, row in enumerate(rows, start=1):
        row["rank"] = k
    return rows


def register_frame(project: Project, result: SimulationResult | None = None,
                   matrix: RiskMatrix | None = None) -> pd.DataFrame:
    """:func:`register_rows` as a DataFrame indexed by risk id (columns in :data:`COLUMNS` order).

    Examples
    --------
    >>> from pmrisk.project import Project
    >>> p = Project.from_dict({"tasks": [{"id": "A", "duration": 10}],
    ...                        "risks": [{"id": "R1", "probability": 0.3, "cost": 60000}]})
    >>> register_frame(p)[["rank", "probability", "cost_likely", "score", "rating"]]
        rank  probability  cost_likely  score rating
    id
    R1     1          0.3        60000      6 medium
    """
    import pandas as pd

    rows = register_rows(project, result, matrix)
    cols = [c for c in COLUMNS if result is not None or c not in RESULT_COLUMNS]
    return pd.DataFrame(rows, columns=cols).set_index("id")


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------


def _columns_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    present: dict[str, None] = {}
    for row in rows:
        present.update(dict.fromkeys(row))
    cols = [c for c in COLUMNS if c in present] + [c for c in present if c not in COLUMNS]
    if not rows:
        cols = [c for c in COLUMNS if c not in RESULT_COLUMNS]
    return [c for c in cols if c not in _OPTIONAL or any(not _empty(row.get(c)) for row in rows)]


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def _csv_value(v: Any) -> str:
    if _empty(v):
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(_num_out(v)) if v.is_integer() else repr(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    s = str(v)
    if s[:1] in ("=", "+", "-", "@"):
        return "'" + s               # a spreadsheet opening the CSV must not run it as a formula
    return s


def _atomic_write(path: str | os.PathLike[str], write: Callable[[str], None]) -> Path:
    """Write through a temporary file in the target's folder, then move it into place."""
    target = Path(path)
    if target.is_dir():
        raise ProjectError(f"{target}: is a folder; give a file name.")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise ProjectError(f"{target}: the folder {parent} does not exist.")
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


def write_register_csv(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Write register rows as CSV (UTF-8, canonical column names, numbers in full precision).

    Columns follow :data:`COLUMNS`; optional ones (duration factors, response owner and due date,
    notes) only when a row fills them. Text that starts with ``=``, ``+``, ``-`` or ``@`` gets a
    leading ``'`` so that a spreadsheet program shows it as text instead of running it as a formula;
    :func:`read_register` removes that guard again.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "reg.csv"
    >>> _ = write_register_csv([{"rank": 1, "id": "R1", "title": "Vendor late", "probability": 0.3}], f)
    >>> print(f.read_text())
    rank,id,title,probability
    1,R1,Vendor late,0.3
    <BLANKLINE>
    """
    cols = _columns_of(rows)

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(cols)
            for row in rows:
                w.writerow([_csv_value(row.get(c)) for c in cols])

    return _atomic_write(path, write)


def _md_cell(v: Any) -> str:
    s = _csv_value(v)
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _fmt_num(x: Any, digits: int = 1) -> str:
    if _empty(x):
        return ""
    x = float(x)
    return f"{x:,.0f}" if digits == 0 or (x.is_integer() and abs(x) >= 100) else f"{x:,.{digits}f}"


def _fmt_range(row: Mapping[str, Any], prefix: str, digits: int) -> str:
    """``5 / 10 / 20`` (min / likely / max), ``10,000 to 30,000`` (uniform), ``10`` (fixed) or the spec."""
    dist, lo, ml, hi = (row.get(f"{prefix}{k}") for k in _RANGE)

    def n(x: Any) -> str:
        return f"{float(x):,.0f}" if float(x).is_integer() else f"{float(x):,.{digits}f}"

    if not _empty(lo) and not _empty(hi) and _empty(ml):
        return f"{n(lo)} to {n(hi)}"
    nums = [x for x in (lo, ml, hi) if not _empty(x)]
    if nums:
        text = " / ".join(n(x) for x in nums)
        return f"{text} ({dist})" if dist and len(nums) > 1 and dist != "triangular" else text
    return "" if _empty(dist) else str(dist)


def write_register_markdown(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike[str] | None = None) -> str:
    """The register as a Markdown table (for reports and wikis); written to ``path`` when given.

    The table is a readable digest: rank, id, title, owner, status, probability, time and cost
    impact (``min / likely / max`` for a triangular, ``min to max`` for a uniform, the spec of
    other distributions), duration factor, response, score and rating, and, after a simulation,
    occurrence, P80 delay and cost contributions and EMV; columns no row fills are left out. Use
    CSV or Excel for every column.

    Examples
    --------
    >>> print(write_register_markdown([{"rank": 1, "id": "R1", "title": "Vendor | API late",
    ...     "probability": 0.3, "time_dist": "triangular", "time_min": 5, "time_likely": 10, "time_max": 20,
    ...     "score": 8, "rating": "medium"}]))
    | Rank | ID | Title | Probability | Time impact (days) | Score | Rating |
    |---:|---|---|---:|---|---:|---|
    | 1 | R1 | Vendor \\| API late | 30% | 5 / 10 / 20 | 8 | medium |
    <BLANKLINE>
    """
    spec: list[tuple[str, str, bool, Callable[[Mapping[str, Any]], str]]] = [
        ("rank", "Rank", True, lambda r: _md_cell(r.get("rank"))),
        ("id", "ID", False, lambda r: _md_cell(r.get("id"))),
        ("title", "Title", False, lambda r: _md_cell(r.get("title"))),
        ("owner", "Owner", False, lambda r: _md_cell(r.get("owner"))),
        ("status", "Status", False, lambda r: _md_cell(r.get("status"))),
        ("probability", "Probability", True,
         lambda r: "" if _empty(r.get("probability")) else f"{100 * float(r['probability']):.0f}%"),
        ("time", "Time impact (days)", False, lambda r: _md_cell(_fmt_range(r, "time_", 1))),
        ("cost", "Cost impact", False, lambda r: _md_cell(_fmt_range(r, "cost_", 0))),
        ("duration_factor", "Duration factor", False, lambda r: _md_cell(r.get("duration_factor"))),
        ("response", "Response", False,
         lambda r: _md_cell(": ".join(str(x) for x in (r.get("response"), r.get("response_action")) if not _empty(x)))),
        ("score", "Score", True, lambda r: _md_cell(r.get("score"))),
        ("rating", "Rating", False, lambda r: _md_cell(r.get("rating"))),
        ("occurrence", "Occurrence", True,
         lambda r: "" if _empty(r.get("occurrence")) else f"{100 * float(r['occurrence']):.0f}%"),
        ("P80_delay_contribution", "P80 delay (days)", True, lambda r: _fmt_num(r.get("P80_delay_contribution"))),
        ("P80_cost_contribution", "P80 cost", True, lambda r: _fmt_num(r.get("P80_cost_contribution"), 0)),
        ("expected_cost", "EMV", True, lambda r: _fmt_num(r.get("expected_cost"), 0)),
    ]

    def used(key: str) -> bool:
        if key in ("time", "cost"):
            return any(not _empty(r.get(f"{key}_{k}")) for r in rows for k in _RANGE)
        if key == "response":
            return any(not _empty(r.get("response")) or not _empty(r.get("response_action")) for r in rows)
        return any(not _empty(r.get(key)) for r in rows) or (not rows and key in ("rank", "id", "title"))

    chosen = [s for s in spec if used(s[0])]
    lines = ["| " + " | ".join(s[1] for s in chosen) + " |",
             "|" + "|".join("---:" if s[2] else "---" for s in chosen) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(s[3](r) for s in chosen) + " |")
    text = "\n".join(lines) + "\n"
    if path is not None:
        def write(tmp: str) -> None:
            Path(tmp).write_text(text, encoding="utf-8")

        _atomic_write(path, write)
    return text


# ---- Excel ------------------------------------------------------------------------------------

_TEXT_COLUMNS = {"id", "title", "cause", "event", "effect", "category", "owner", "status", "tasks", "time_dist",
                 "cost_dist", "rating", "response", "response_action", "response_owner", "response_due",
                 "residual_time_dist", "residual_cost_dist", "residual_rating", "notes"}
_WIDE = {"title": 34, "cause": 30, "event": 30, "effect": 30, "response_action": 34, "notes": 34}
_PCT = {"probability", "residual_probability", "occurrence"}
_DAYS_OUT = {"expected_delay", "P80_delay_contribution"}
_MONEY_OUT = {"expected_cost", "P80_cost_contribution", "mitigation_net_benefit"}
_MONEY_IN = {"cost_min", "cost_likely", "cost_max", "residual_cost_min", "residual_cost_likely",
             "residual_cost_max", "response_cost"}
_INT = {"rank", "probability_band", "time_band", "cost_band", "impact_band", "score", "residual_probability_band",
        "residual_impact_band", "residual_score"}
_GREEN, _AMBER, _RED = "#C6EFCE", "#FFEB9C", "#FFC7CE"
_GREEN_T, _AMBER_T, _RED_T = "#006100", "#9C5700", "#9C0006"


def write_register_excel(path: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]], matrix: RiskMatrix,
                         summary: Mapping[str, Any] | None = None, *, currency: str | None = None) -> Path:
    """Write the register as an Excel workbook that people can work in.

    Sheets:

    - **Register**: an Excel table (filters, banded rows) with readable headers (:data:`HEADERS`),
      frozen header row and id column, number formats, dropdowns for status (other text allowed
      after a warning) and response, and green/amber/red colouring of score and rating by the
      matrix's ratings.
    - **Matrix**: the 5x5 probability-impact grid with the number of risks in each cell (their ids
      in the cell's note), coloured by rating, before and after the responses, and the band table.
    - **Summary** (when ``summary``, the dict of :meth:`pmrisk.SimulationResult.summary`, is
      given): P10/P50/P80/P90 duration, finish date and cost, the deterministic plan, deadline,
      budget and joint probabilities.

    Every text cell is stored as text (never as a formula), whatever it starts with. The file
    is written through a temporary file and then moved into place.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from openpyxl import load_workbook
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "register.xlsx"
    >>> _ = write_register_excel(f, [{"rank": 1, "id": "R1", "title": "=1+1", "probability": 0.3,
    ...                               "probability_band": 2, "impact_band": 4, "score": 8, "rating": "medium"}],
    ...                          RiskMatrix())
    >>> ws = load_workbook(f)["Register"]
    >>> ws["C2"].value, ws["C2"].data_type, list(ws.tables)
    ('=1+1', 's', ['RiskRegister'])
    """
    import xlsxwriter

    cur = currency or ((summary or {}).get("units") or {}).get("cost")

    def write(tmp: str) -> None:
        wb = xlsxwriter.Workbook(tmp, {"strings_to_formulas": False, "strings_to_urls": False,
                                       "strings_to_numbers": False, "nan_inf_to_errors": True})
        try:
            fmts = _formats(wb)
            _register_sheet(wb, fmts, rows, matrix)
            _matrix_sheet(wb, fmts, rows, matrix, cur)
            if summary is not None:
                _summary_sheet(wb, fmts, summary)
        finally:
            wb.close()

    return _atomic_write(path, write)


def _formats(wb: Any) -> dict[str, Any]:
    f = {
        "header": wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E78", "text_wrap": True,
                                 "valign": "top", "border": 1}),
        "text": wb.add_format({"valign": "top"}),
        "wrap": wb.add_format({"valign": "top", "text_wrap": True}),
        "pct": wb.add_format({"num_format": "0.0%", "valign": "top"}),
        "days": wb.add_format({"num_format": "#,##0.0", "valign": "top"}),
        "money": wb.add_format({"num_format": "#,##0", "valign": "top"}),
        "int": wb.add_format({"num_format": "0", "valign": "top", "align": "center"}),
        "general": wb.add_format({"valign": "top"}),
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "bold": wb.add_format({"bold": True}),
        "note": wb.add_format({"italic": True, "font_color": "#595959"}),
        "axis": wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True,
                               "valign": "vcenter", "align": "center"}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
    }
    for name, bg, fg in (("low", _GREEN, _GREEN_T), ("medium", _AMBER, _AMBER_T), ("high", _RED, _RED_T)):
        f[name] = wb.add_format({"bg_color": bg, "font_color": fg})
        f[f"cell_{name}"] = wb.add_format({"bg_color": bg, "font_color": fg, "border": 1, "align": "center",
                                           "valign": "vcenter", "bold": True, "font_size": 12})
    return f


def _write_value(ws: Any, r: int, c: int, v: Any, fmt: Any) -> None:
    """One cell: text always as text (never a formula), numbers as numbers, empty as blank."""
    if _empty(v):
        ws.write_blank(r, c, None, fmt)
    elif isinstance(v, bool):
        ws.write_boolean(r, c, v, fmt)
    elif isinstance(v, int) and abs(v) > 2**53:
        ws.write_string(r, c, str(v), fmt)       # a 128-bit seed must not be rounded to a float
    elif isinstance(v, int | float):
        if math.isfinite(float(v)):
            ws.write_number(r, c, float(v), fmt)
        else:
            ws.write_string(r, c, str(v), fmt)
    elif isinstance(v, dt.date):
        ws.write_string(r, c, v.isoformat(), fmt)
    else:
        ws.write_string(r, c, str(v), fmt)


def _register_sheet(wb: Any, f: dict[str, Any], rows: Sequence[Mapping[str, Any]], matrix: RiskMatrix) -> None:
    ws = wb.add_worksheet("Register")
    cols = _columns_of(rows)
    n = len(rows)
    for j, col in enumerate(cols):
        fmt = (f["pct"] if col in _PCT else f["days"] if col in _DAYS_OUT else f["money"]
               if col in _MONEY_OUT or col in _MONEY_IN else f["int"] if col in _INT
               else f["wrap"] if col in _WIDE else f["general"])
        for i, row in enumerate(rows, start=1):
            _write_value(ws, i, j, row.get(col), fmt)
        header = HEADERS.get(col, col)
        width = _WIDE.get(col, max(9, min(22, len(header) * 0.9 + 2)))
        ws.set_column(j, j, width)
    last = max(n, 1)
    ws.add_table(0, 0, last, len(cols) - 1, {
        "name": "RiskRegister", "style": "Table Style Medium 2", "autofilter": True,
        "columns": [{"header": HEADERS.get(c, c), "header_format": f["header"]} for c in cols]})
    ws.set_row(0, 32)
    ws.freeze_panes(1, min(3, len(cols)))
    idx = {c: j for j, c in enumerate(cols)}
    extra = last + 200                        # room for new rows that keep the dropdowns
    if "status" in idx:
        ws.data_validation(1, idx["status"], extra, idx["status"], {
            "validate": "list", "source": list(STATUSES), "error_type": "warning",
            "input_title": "Status", "input_message": "Pick a status (other text is allowed).",
            "error_title": "Status", "error_message": "Not one of the usual statuses; keep it anyway?"})
    if "response" in idx:
        ws.data_validation(1, idx["response"], extra, idx["response"], {
            "validate": "list", "source": list(RESPONSES), "error_type": "stop",
            "input_title": "Response", "input_message": "How the risk is treated.",
            "error_title": "Response", "error_message": f"Pick one of: {', '.join(RESPONSES)}."})
    for col in ("score", "residual_score"):
        if col in idx:
            j = idx[col]
            ws.conditional_format(1, j, extra, j, {"type": "cell", "criteria": "between", "minimum": 1,
                                                   "maximum": matrix.low, "format": f["low"]})
            ws.conditional_format(1, j, extra, j, {"type": "cell", "criteria": "between",
                                                   "minimum": matrix.low + 1, "maximum": matrix.medium,
                                                   "format": f["medium"]})
            ws.conditional_format(1, j, extra, j, {"type": "cell", "criteria": ">", "value": matrix.medium,
                                                   "format": f["high"]})
    for col in ("rating", "residual_rating"):
        if col in idx:
            j = idx[col]
            for name in ("low", "medium", "high"):
                ws.conditional_format(1, j, extra, j, {"type": "cell", "criteria": "==", "value": f'"{name}"',
                                                       "format": f[name]})
    for col, colour in (("P80_delay_contribution", "#F4B183"), ("P80_cost_contribution", "#9DC3E6"),
                        ("expected_cost", "#BDD7EE")):
        if col in idx and n:
            ws.conditional_format(1, idx[col], n, idx[col], {"type": "data_bar", "bar_color": colour})


def _grid(rows: Sequence[Mapping[str, Any]], pcol: str, icol: str) -> dict[tuple[int, int], list[str]]:
    cells: dict[tuple[int, int], list[str]] = {}
    for r in rows:
        pb, ib = r.get(pcol), r.get(icol)
        if isinstance(pb, int | float) and isinstance(ib, int | float) and not _empty(pb) and not _empty(ib):
            cells.setdefault((int(pb), int(ib)), []).append(str(r.get("id")))
    return cells


def _matrix_sheet(wb: Any, f: dict[str, Any], rows: Sequence[Mapping[str, Any]], matrix: RiskMatrix,
                  currency: str | None) -> None:
    ws = wb.add_worksheet("Matrix")
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 12)
    ws.set_column(2, 6, 17)
    ws.set_column(8, 12, 16)
    ws.write_string(0, 0, "Probability-impact matrix", f["title"])
    ws.write_string(1, 0, "Number of risks in each cell (their ids in the cell's note); score = probability band x "
                    "impact band, impact = the worse of time and cost.", f["note"])
    row = 3
    grids = [("Before the response", _grid(rows, "probability_band", "impact_band"))]
    after = _grid(rows, "residual_probability_band", "residual_impact_band")
    if after:
        # risks without a response sit in the same cell after it
        for r in rows:
            if _empty(r.get("residual_probability_band")) and not _empty(r.get("probability_band")) \
                    and not _empty(r.get("impact_band")):
                after.setdefault((int(r["probability_band"]), int(r["impact_band"])), []).append(str(r.get("id")))
        grids.append(("After the response", after))
    for title, cells in grids:
        ws.write_string(row, 0, title, f["bold"])
        row += 1
        ws.write_string(row, 0, "Probability", f["axis"])
        ws.write_string(row, 1, "range", f["axis"])
        for ib in range(1, 6):
            ws.write_string(row, 1 + ib, f"Impact {ib}: {matrix.label(ib)}\n"
                            f"{matrix.range_text('time', ib)}\n{matrix.range_text('cost', ib, currency)}", f["axis"])
        ws.set_row(row, 48)
        row += 1
        for pb in range(5, 0, -1):
            ws.write_string(row, 0, f"{pb}: {matrix.label(pb)}", f["axis"])
            ws.write_string(row, 1, matrix.range_text("probability", pb), f["axis"])
            for ib in range(1, 6):
                ids = cells.get((pb, ib), [])
                ws.write_number(row, 1 + ib, len(ids), f[f"cell_{matrix.rating_of(pb, ib)}"])
                if ids:
                    ws.write_comment(row, 1 + ib, "Risks: " + ", ".join(ids))
            ws.set_row(row, 28)
            row += 1
        row += 1
    # the band table
    ws.write_string(3, 8, "Band table (risk_matrix)", f["bold"])
    heads = ["Band", "Label", "Probability", "Time impact (working days)",
             f"Cost impact{f' ({currency})' if currency else ''}"]
    for j, h in enumerate(heads):
        ws.write_string(4, 8 + j, h, f["axis"])
    for b in range(1, 6):
        ws.write_number(4 + b, 8, b)
        ws.write_string(4 + b, 9, matrix.label(b))
        ws.write_string(4 + b, 10, matrix.range_text("probability", b))
        ws.write_string(4 + b, 11, matrix.range_text("time", b))
        ws.write_string(4 + b, 12, matrix.range_text("cost", b, currency))
    ws.write_string(11, 8, "Ratings", f["bold"])
    for k, (name, text) in enumerate((("low", f"score <= {matrix.low}"),
                                      ("medium", f"{matrix.low + 1} <= score <= {matrix.medium}"),
                                      ("high", f"score > {matrix.medium}"))):
        ws.write_string(12 + k, 8, name, f[f"cell_{name}"])
        ws.write_string(12 + k, 9, text)
    ws.write_string(16, 8, "A register row with only bands is imported as the band's midpoint probability and a "
                    "uniform impact over the band (the top band up to 1.5 x its lower limit).", f["note"])


def _summary_sheet(wb: Any, f: dict[str, Any], s: Mapping[str, Any]) -> None:
    ws = wb.add_worksheet("Summary")
    ws.set_column(0, 0, 34)
    ws.set_column(1, 6, 14)
    cur = (s.get("units") or {}).get("cost")
    ws.write_string(0, 0, f"Simulation summary: {s.get('project', '')}", f["title"])
    info = [("Iterations", s.get("iterations")), ("Seed", s.get("seed")),
            ("Risks simulated after their responses", "yes" if s.get("mitigated") else "no"),
            ("pmrisk version", s.get("pmrisk_version"))]
    r = 2
    for k, v in info:
        if v is not None:
            ws.write_string(r, 0, k)
            _write_value(ws, r, 1, v, f["general"])
            r += 1
    r += 1
    levels = ("P10", "P50", "P80", "P90")
    for j, h in enumerate(["", "Plan", *levels, "Mean"]):
        ws.write_string(r, j, h, f["header"])
    r += 1
    det = s.get("deterministic") or {}

    def line(label: str, plan: Any, stats: Mapping[str, Any] | None, fmt: Any) -> None:
        nonlocal r
        ws.write_string(r, 0, label, f["bold"])
        _write_value(ws, r, 1, plan, fmt)
        for j, lv in enumerate(levels):
            _write_value(ws, r, 2 + j, (stats or {}).get(lv), fmt)
        _write_value(ws, r, 6, (stats or {}).get("mean"), fmt)
        r += 1

    line("Duration (working days)", det.get("duration"), s.get("duration"), f["days"])
    if "finish_date" in s:
        line("Finish date", det.get("finish_date"), s.get("finish_date"), f["general"])
    line(f"Cost{f' ({cur})' if cur else ''}", det.get("cost"), s.get("cost"), f["money"])
    before = s.get("unmitigated")
    if isinstance(before, Mapping):
        line("Duration before the responses", None, before.get("duration"), f["days"])
        line("Cost before the responses", None, before.get("cost"), f["money"])
    r += 1
    facts: list[tuple[str, Any, Any]] = []
    if "duration_confidence" in det:
        facts.append(("Chance of meeting the plan's duration", det["duration_confidence"], f["pct"]))
    if "cost_confidence" in det:
        facts.append(("Chance of meeting the plan's cost", det["cost_confidence"], f["pct"]))
    if "deadline" in s:
        d = s["deadline"]
        facts.append(("Deadline (working days)", d.get("target"), f["days"]))
        if "date" in d:
            facts.append(("Deadline date", d["date"], f["general"]))
        facts.append(("Chance of meeting the deadline", d.get("probability"), f["pct"]))
    if "budget" in s:
        b = s["budget"]
        facts.append((f"Budget{f' ({cur})' if cur else ''}", b.get("target"), f["money"]))
        facts.append(("Chance of staying within budget", b.get("probability"), f["pct"]))
    if "joint_probability" in s:
        facts.append(("Chance of meeting both", s["joint_probability"], f["pct"]))
    cont = s.get("contingency") or {}
    if cont:
        facts.append(("Contingency to P80: duration (working days)", (cont.get("duration") or {}).get("P80"),
                      f["days"]))
        facts.append((f"Contingency to P80: cost{f' ({cur})' if cur else ''}", (cont.get("cost") or {}).get("P80"),
                      f["money"]))
    if det.get("critical_path"):
        facts.append(("Critical path of the plan", " -> ".join(map(str, det["critical_path"])), f["general"]))
    for label, value, fmt in facts:
        ws.write_string(r, 0, label)
        _write_value(ws, r, 1, value, fmt)
        r += 1

