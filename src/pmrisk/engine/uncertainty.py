"""Risk events, risk drivers, existence risk, branching and correlation, compiled for the chunk loop.

:func:`compile_uncertainty` turns a project's :class:`~pmrisk.risk.model.RiskModel` into arrays
indexed by topological task position; :meth:`Uncertainty.apply` then changes one chunk's sampled
durations and costs in place, in this order (semantics in :mod:`pmrisk.risk.model`):

1. correlation: Iman-Conover rearranges the duration grades of correlated tasks within each block
   of ``CORRELATION_BLOCK`` iterations (a permutation: every marginal is kept exactly);
2. durations by inverse CDF (done by the caller);
3. drivers multiply the durations (and optionally fixed costs) of their tasks, and a history
   calibration (:mod:`pmrisk.calibration`) multiplies them by past ratios actual / planned;
4. risk events multiply (``impact``) and then lengthen (``delay``) the durations of the tasks
   they affect, and add their ``cost`` to the project;
5. existence and branching zero the duration and cost of tasks that do not happen;
6. durations are cut at 0.

Every draw comes from its own stream keyed by the risk's, driver's, task's or branch's id, so the
pre- and post-mitigation runs, and runs with one risk left out, share their random numbers
(common random numbers), and a risk keeps its numbers when others are added or removed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pmrisk.distributions import BatchSampler, Distribution
from pmrisk.engine.network import Network
from pmrisk.engine.sampling import entity_keys, uniforms
from pmrisk.risk.model import RiskModel

STREAM_RISK = 2            # u_a: occurrence, u_b: delay
STREAM_RISK_IMPACT = 3     # u_a: cost impact, u_b: duration factor
STREAM_DRIVER = 4          # u_a: occurrence, u_b: factor
STREAM_EXISTENCE = 5       # u_a: does the task happen
STREAM_BRANCH = 6          # u_a: which option
STREAM_RESPONSE = 7        # u_a: response (mitigation) cost
STREAM_CALIBRATION = 8     # u_a: the history ratio (of the project, or of each task)
CORRELATION_BLOCK = 512    # iterations per Iman-Conover block; chunks are aligned to it


def _sampler(dists: list[Distribution | None]) -> tuple[BatchSampler | None, np.ndarray]:
    rows = np.array([i for i, d in enumerate(dists) if d is not None], dtype=np.int64)
    if rows.size == 0:
        return None, rows
    return BatchSampler([dists[i] for i in rows]), rows


@dataclass
class Uncertainty:
    """A risk model compiled against a network (see :func:`compile_uncertainty`)."""

    n_tasks: int
    risk_ids: tuple[str, ...] = ()
    risk_keys: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.uint64), np.zeros(0, np.uint64))
    risk_prob: np.ndarray = field(default_factory=lambda: np.zeros(0))
    risk_rows: list[np.ndarray] = field(default_factory=list)       # topological rows each risk affects
    delay: tuple[BatchSampler | None, np.ndarray] = (None, np.zeros(0, np.int64))
    impact: tuple[BatchSampler | None, np.ndarray] = (None, np.zeros(0, np.int64))
    cost: tuple[BatchSampler | None, np.ndarray] = (None, np.zeros(0, np.int64))
    response: tuple[BatchSampler | None, np.ndarray] = (None, np.zeros(0, np.int64))
    driver_ids: tuple[str, ...] = ()
    driver_keys: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.uint64), np.zeros(0, np.uint64))
    driver_prob: np.ndarray = field(default_factory=lambda: np.zeros(0))
    driver_rows: list[np.ndarray] = field(default_factory=list)
    driver_scale_cost: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    driver_factor: BatchSampler | None = None
    exist_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    exist_prob: np.ndarray = field(default_factory=lambda: np.zeros(0))
    branch_keys: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.uint64), np.zeros(0, np.uint64))
    branch_cum: list[np.ndarray] = field(default_factory=list)      # cumulative option probabilities
    branch_rows: list[list[np.ndarray]] = field(default_factory=list)
    corr_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    corr_chol: np.ndarray | None = None
    correlation: Any = None                                          # the CorrelationModel, for reports
    affected: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # duration not monotone in own grade
    calibration: Any = None                                          # pmrisk.calibration.Calibration
    calib_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    calib_keys: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.uint64), np.zeros(0, np.uint64))

    @property
    def n_risks(self) -> int:
        return len(self.risk_ids)

    @property
    def block(self) -> int:
        """Iterations that must stay together in one chunk (1 without correlations)."""
        return CORRELATION_BLOCK if self.corr_chol is not None else 1

    @property
    def active(self) -> bool:
        return bool(self.n_risks or self.driver_ids or self.exist_rows.size or self.branch_cum
                    or self.corr_chol is not None or self.calib_rows.size)

    def correlate(self, key: tuple[int, int], first: int, u_dur: np.ndarray) -> None:
        """Rearrange the duration grades of correlated tasks (in place), block by block."""
        if self.corr_chol is None:
            return
        from pmrisk.engine.correlation import apply_correlation

        if first % CORRELATION_BLOCK or u_dur.shape[1] % CORRELATION_BLOCK:
            raise ValueError("chunks must be aligned to correlation blocks")
        apply_correlation(u_dur, self.corr_rows, self.corr_chol, CORRELATION_BLOCK)

    def apply(self, key: tuple[int, int], first: int, dur: np.ndarray, fixed: np.ndarray | None
              ) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]:
        """Apply drivers, risks, existence and branches to one chunk, in place.

        Returns ``(extra_cost, occurred, absent)``: the cost added per iteration by risks and
        responses, a boolean ``[risks, C]`` array of which risks occurred, and for each task row that
        existence or branching can remove, a boolean ``[C]`` mask of the iterations without it.
        """
        absent: dict[int, np.ndarray] = {}
        count = dur.shape[1]
        extra = np.zeros(count)
        # drivers
        if self.driver_ids:
            lo, hi = self.driver_keys
            u_occ, u_fac = uniforms(key, first, count, lo, hi, STREAM_DRIVER)
            fac = self.driver_factor.ppf(u_fac)  # type: ignore[union-attr]
            fac[u_occ >= self.driver_prob[:, None]] = 1.0
            for d, rows in enumerate(self.driver_rows):
                dur[rows] *= fac[d]
                if self.driver_scale_cost[d] and fixed is not None:
                    fixed[rows] *= fac[d]
        # history calibration: one past ratio an iteration (level project) or a task (level task), from
        # one distribution or, model-based, from each task's own
        if self.calib_rows.size:
            lo, hi = self.calib_keys
            u_cal, _ = uniforms(key, first, count, lo, hi, STREAM_CALIBRATION)
            ratio = self.calibration.ppf(u_cal)          # [1, C] or [rows, C]
            rows = self.calib_rows
            dur[rows] *= ratio
            if fixed is not None and self.calibration.spec.scale_fixed_costs:
                fixed[rows] *= ratio
        occurred = np.zeros((self.n_risks, count), dtype=bool)
        if self.n_risks:
            lo, hi = self.risk_keys
            u_occ, u_delay = uniforms(key, first, count, lo, hi, STREAM_RISK)
            u_cost, u_imp = uniforms(key, first, count, lo, hi, STREAM_RISK_IMPACT)
            np.less(u_occ, self.risk_prob[:, None], out=occurred)
            factor = _draw(self.impact, u_imp, self.n_risks, count, 1.0, occurred)
            delay = _draw(self.delay, u_delay, self.n_risks, count, 0.0, occurred)
            for r, rows in enumerate(self.risk_rows):
                if rows.size:
                    if factor is not None and r in self._impact_set:
                        dur[rows] *= factor[r]
                    if delay is not None and r in self._delay_set:
                        dur[rows] += delay[r]
            cost = _draw(self.cost, u_cost, self.n_risks, count, 0.0, occurred)
            if cost is not None:
                for r in self.cost[1]:
                    extra += cost[r]
            if self.response[0] is not None:
                u_resp, _ = uniforms(key, first, count, lo, hi, STREAM_RESPONSE)
                resp = self.response[0].ppf(u_resp[self.response[1]])
                for i in range(resp.shape[0]):
                    extra += resp[i]
        # existence and branches
        if self.exist_rows.size:
            u_ex, _ = uniforms(key, first, count, self._exist_keys[0], self._exist_keys[1], STREAM_EXISTENCE)
            gone = u_ex >= self.exist_prob[:, None]
            for i, row in enumerate(self.exist_rows):
                absent[int(row)] = gone[i]
                dur[row][gone[i]] = 0.0
                if fixed is not None:
                    fixed[row][gone[i]] = 0.0
        if self.branch_cum:
            lo, hi = self.branch_keys
            u_br, _ = uniforms(key, first, count, lo, hi, STREAM_BRANCH)
            for b, cum in enumerate(self.branch_cum):
                choice = np.searchsorted(cum, u_br[b], side="right")
                for o, rows in enumerate(self.branch_rows[b]):
                    off = choice != o
                    for row in rows:
                        absent[int(row)] = off | absent[int(row)] if int(row) in absent else off
                        dur[row][off] = 0.0
                        if fixed is not None:
                            fixed[row][off] = 0.0
        np.maximum(dur, 0.0, out=dur)
        return extra, occurred, absent

    # filled by compile_uncertainty
    _impact_set: frozenset[int] = frozenset()
    _delay_set: frozenset[int] = frozenset()
    _exist_keys: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.uint64), np.zeros(0, np.uint64))


def _draw(spec: tuple[BatchSampler | None, np.ndarray], u: np.ndarray, n: int, count: int, neutral: float,
          occurred: np.ndarray) -> np.ndarray | None:
    """Samples of one impact kind for every risk ``[risks, C]``; ``neutral`` where absent or not occurred."""
    sampler, rows = spec
    if sampler is None:
        return None
    out = np.full((n, count), neutral)
    out[rows] = sampler.ppf(np.ascontiguousarray(u[rows]))
    out[~occurred] = neutral
    return out


def compile_uncertainty(model: RiskModel, net: Network, task_probability: dict[str, float], *,
                        mitigated: bool | frozenset[str] = False, source: str | None = None,
                        calibration: Any = None) -> Uncertainty:
    """Compile ``model`` against ``net`` (rows in topological order).

    ``mitigated`` picks the risks' state: False (as they are), True (every risk with a mitigation in
    its residual state, response costs included) or a set of risk ids to mitigate.
    ``calibration`` is a resolved :class:`pmrisk.calibration.Calibration` (or None); a per-task table
    (model-based) needs level task: one uniform per task, inverted with that task's row.
    """
    pos = {tid: k for k, tid in enumerate(net.ids)}
    n = net.n
    unc = Uncertainty(n_tasks=n)
    affected = np.zeros(n, dtype=bool)
    if calibration is not None:
        if getattr(calibration, "per_task", False):        # a per-task table: its rows in topological order
            if calibration.spec.level != "task":
                raise ValueError("a per-task calibration table needs level 'task'")
            table_row = {t: i for i, t in enumerate(calibration.task_ids)}
            ids = tuple(sorted(calibration.spec.tasks, key=pos.__getitem__))
            if ids != calibration.task_ids:
                calibration = dataclasses.replace(calibration, task_ids=ids,
                                                  values=calibration.values[[table_row[t] for t in ids]])
        unc.calibration = calibration
        rows = np.array(sorted(pos[t] for t in calibration.spec.tasks), dtype=np.int64)
        unc.calib_rows = rows
        if calibration.spec.level == "task":
            unc.calib_keys = (net.keys_lo[rows], net.keys_hi[rows])
        else:
            unc.calib_keys = entity_keys(["calibration: " + calibration.spec.label])
        affected[rows] = True
    risks = model.risks
    if risks:
        unc.risk_ids = tuple(r.id for r in risks)
        unc.risk_keys = entity_keys([r.id for r in risks])
        mit = {r.id for r in risks} if mitigated is True else set(mitigated or ())
        states = [r.mitigated_state() if r.id in mit else r.state for r in risks]
        unc.risk_prob = np.array([s.probability for s in states])
        unc.risk_rows = [np.array([pos[t] for t in r.affects], dtype=np.int64) for r in risks]
        unc.delay = _sampler([s.delay for s in states])
        unc.impact = _sampler([s.impact for s in states])
        unc.cost = _sampler([s.cost for s in states])
        unc._delay_set = frozenset(int(i) for i in unc.delay[1])
        unc._impact_set = frozenset(int(i) for i in unc.impact[1])
        if mit:
            unc.response = _sampler([r.mitigation.cost if r.mitigation is not None and r.id in mit else None
                                     for r in risks])
        for rows in unc.risk_rows:
            affected[rows] = True
    if model.drivers:
        unc.driver_ids = tuple(d.id for d in model.drivers)
        unc.driver_keys = entity_keys(list(unc.driver_ids))
        unc.driver_prob = np.array([d.probability for d in model.drivers])
        unc.driver_rows = [np.array([pos[t] for t in d.tasks], dtype=np.int64) for d in model.drivers]
        unc.driver_scale_cost = np.array([d.scale_cost for d in model.drivers], dtype=bool)
        unc.driver_factor = BatchSampler([d.factor for d in model.drivers])
        for rows in unc.driver_rows:
            affected[rows] = True
    exist = [(pos[t], p) for t, p in task_probability.items() if p < 1.0]
    exist.sort()
    if exist:
        unc.exist_rows = np.array([k for k, _ in exist], dtype=np.int64)
        unc.exist_prob = np.array([p for _, p in exist])
        unc._exist_keys = (net.keys_lo[unc.exist_rows], net.keys_hi[unc.exist_rows])
        affected[unc.exist_rows] = True
    if model.branches:
        unc.branch_keys = entity_keys([b.id for b in model.branches])
        for b in model.branches:
            cum = np.cumsum([o.probability for o in b.options])
            cum[-1] = 1.0 + 1e-12       # every uniform in (0, 1) picks an option
            unc.branch_cum.append(cum[:-1])
            option_rows = [np.array([pos[t] for t in o.tasks], dtype=np.int64) for o in b.options]
            unc.branch_rows.append(option_rows)
            for r in option_rows:
                affected[r] = True
    if model.correlations:
        cm = model.correlation_model
        if cm is None:      # a RiskModel built by hand rather than validated from a file
            from pmrisk.engine.correlation import build_correlation_model

            cm = build_correlation_model([(c.a, c.b, c.rho) for c in model.correlations],
                                         repair=model.correlation_repair, source=source)
        unc.correlation = cm
        unc.corr_rows = np.array([pos[t] for t in cm.tasks], dtype=np.int64)
        unc.corr_chol = cm.cholesky()
    unc.affected = affected
    return unc
