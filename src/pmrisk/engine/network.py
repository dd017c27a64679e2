"""Compile a :class:`~pmrisk.project.Project` into flat arrays for the kernels.

Tasks are re-indexed in a topological order (Kahn's algorithm, ties broken by file order so the
order is deterministic); predecessor and successor lists are CSR arrays; link types are small
integers (``FS=0, SS=1, FF=2, SF=3``).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from pmrisk.distributions import Distribution
from pmrisk.engine.sampling import entity_keys
from pmrisk.project import Project

FS, SS, FF, SF = 0, 1, 2, 3
LINK_CODE = {"FS": FS, "SS": SS, "FF": FF, "SF": SF}


@dataclass(frozen=True)
class Network:
    """The schedule network as arrays, all indexed by topological position ``k``."""

    ids: tuple[str, ...]                 # task ids in topological order
    file_index: np.ndarray               # k -> position of the task in project.tasks
    pred_ptr: np.ndarray                 # CSR over incoming links, length n + 1
    pred_src: np.ndarray                 # predecessor position
    pred_type: np.ndarray                # link type code
    pred_lag: np.ndarray                 # lag in working days
    succ_ptr: np.ndarray                 # CSR over outgoing links, length n + 1
    succ_dst: np.ndarray
    succ_type: np.ndarray
    succ_lag: np.ndarray
    earliest: np.ndarray                 # lower bound on each start: max(0, start_no_earlier_than)
    keys_lo: np.ndarray                  # random-stream keys of the tasks (hash of the id)
    keys_hi: np.ndarray
    durations: tuple[Distribution, ...]
    fixed_costs: tuple[Distribution, ...]
    per_day_costs: tuple[Distribution, ...]
    milestone: np.ndarray

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def n_links(self) -> int:
        return int(self.pred_src.shape[0])


def topological_order(project: Project) -> list[int]:
    """Positions of ``project.tasks`` in a topological order (file order among ready tasks)."""
    pos = {t.id: i for i, t in enumerate(project.tasks)}
    n = len(project.tasks)
    indeg = [0] * n
    succ: list[list[int]] = [[] for _ in range(n)]
    for i, t in enumerate(project.tasks):
        for lk in t.predecessors:
            succ[pos[lk.pred]].append(i)
            indeg[i] += 1
    ready = [i for i in range(n) if indeg[i] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for s in succ[i]:
            indeg[s] -= 1
            if indeg[s] == 0:
                heapq.heappush(ready, s)
    if len(order) != n:  # Project validation already refuses cycles; keep the engine honest
        raise ValueError("the network has a cycle")
    return order


def compile_network(project: Project) -> Network:
    """Compile ``project`` to a :class:`Network`.

    Examples
    --------
    >>> from pmrisk.project import Project
    >>> p = Project.from_dict({"tasks": [{"id": "B", "duration": 2, "depends_on": ["A"]},
    ...                                  {"id": "A", "duration": 3}]})
    >>> compile_network(p).ids
    ('A', 'B')
    """
    order = topological_order(project)
    tasks = [project.tasks[i] for i in order]
    k_of = {t.id: k for k, t in enumerate(tasks)}
    n = len(tasks)

    incoming: list[list[tuple[int, int, float]]] = [[] for _ in range(n)]
    outgoing: list[list[tuple[int, int, float]]] = [[] for _ in range(n)]
    for k, t in enumerate(tasks):
        for lk in t.predecessors:
            p = k_of[lk.pred]
            code = LINK_CODE[lk.type]
            incoming[k].append((p, code, float(lk.lag)))
            outgoing[p].append((k, code, float(lk.lag)))

    def csr(lists: list[list[tuple[int, int, float]]]) -> tuple[np.ndarray, ...]:
        ptr = np.zeros(n + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(x) for x in lists])
        flat = [e for x in lists for e in x]
        idx = np.array([e[0] for e in flat], dtype=np.int64)
        typ = np.array([e[1] for e in flat], dtype=np.int64)
        lag = np.array([e[2] for e in flat], dtype=np.float64)
        return ptr, idx, typ, lag

    pp, ps, pt, pl = csr(incoming)
    sp, sd, st, sl = csr(outgoing)
    earliest = np.array([max(0.0, t.start_no_earlier_than or 0.0) for t in tasks], dtype=np.float64)
    lo, hi = entity_keys([t.id for t in tasks])
    return Network(
        ids=tuple(t.id for t in tasks), file_index=np.array(order, dtype=np.int64),
        pred_ptr=pp, pred_src=ps, pred_type=pt, pred_lag=pl,
        succ_ptr=sp, succ_dst=sd, succ_type=st, succ_lag=sl,
        earliest=earliest, keys_lo=lo, keys_hi=hi,
        durations=tuple(t.duration for t in tasks), fixed_costs=tuple(t.fixed_cost for t in tasks),
        per_day_costs=tuple(t.per_day_cost for t in tasks),
        milestone=np.array([t.milestone for t in tasks], dtype=bool),
    )
