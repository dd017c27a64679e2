"""P-level start and finish dates per task, as CSV: results shown in the tools people already use."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from pmrisk.risk.register import _atomic_write, _csv_value


def write_task_dates_csv(result: Any, path: str | os.PathLike[str], levels: tuple[int, ...] = (10, 50, 80, 90)
                         ) -> Path:
    """Write :meth:`~pmrisk.results.SimulationResult.task_dates` (one row per task, file order) with
    the criticality and sensitivity of each task, atomically; text that a spreadsheet would take for
    a formula (``= + - @``) is written with a leading ``'``."""
    df = result.task_dates(levels)
    df["criticality"] = result.criticality()
    df["sensitivity"] = result.sensitivity()
    cols = ["id", *df.columns]

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(cols)
            for tid, row in df.iterrows():
                w.writerow([_csv_value(tid), *[_csv_value(None if v != v else v) for v in row.tolist()]])

    return _atomic_write(path, write)
