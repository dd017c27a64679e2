"""Working days <-> calendar dates.

Time inside pmrisk is measured in working days from the project start (day 0). A task with start
``s`` and duration ``d`` finishes at ``s + d``. A finish at offset ``f > 0`` falls on working day
``ceil(f) - 1`` (counting the start day as working day 0), so a 10-day task starting on Monday
2027-01-04 finishes on Friday 2027-01-15, as MS Project shows it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ALIASES = {
    "monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu", "friday": "fri",
    "saturday": "sat", "sunday": "sun", "tues": "tue", "thur": "thu", "thurs": "thu",
}


def normalise_weekday(name: str) -> str:
    """Return the three-letter lower-case weekday for ``name`` (``"Monday"`` -> ``"mon"``).

    Raises
    ------
    ValueError
        If ``name`` is not a weekday.
    """
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in WEEKDAYS:
        raise ValueError(f"unknown weekday {name!r}; use mon, tue, wed, thu, fri, sat or sun")
    return key


@dataclass(frozen=True)
class Calendar:
    """A working-day calendar: which weekdays are worked and which dates are holidays.

    Examples
    --------
    >>> import datetime as dt
    >>> cal = Calendar(holidays=(dt.date(2027, 1, 6),))
    >>> cal.finish_date(dt.date(2027, 1, 4), 3)
    datetime.date(2027, 1, 7)
    >>> cal.working_days_through(dt.date(2027, 1, 4), dt.date(2027, 1, 15))
    9
    """

    workdays: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    holidays: tuple[dt.date, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        days = tuple(normalise_weekday(d) for d in self.workdays)
        if not days:
            raise ValueError("a calendar needs at least one working weekday")
        object.__setattr__(self, "workdays", tuple(d for d in WEEKDAYS if d in days))
        object.__setattr__(self, "holidays", tuple(sorted(set(self.holidays))))

    @property
    def weekmask(self) -> list[int]:
        return [1 if d in self.workdays else 0 for d in WEEKDAYS]

    def _busdaycal(self) -> np.busdaycalendar:
        return np.busdaycalendar(weekmask=self.weekmask,
                                 holidays=np.array(self.holidays, dtype="datetime64[D]"))

    def is_workday(self, day: dt.date) -> bool:
        """True when ``day`` is a working day of this calendar."""
        return bool(np.is_busday(np.datetime64(day, "D"), busdaycal=self._busdaycal()))

    def first_workday(self, day: dt.date) -> dt.date:
        """``day`` itself if it is worked, else the next working day (where day 0 falls)."""
        out = np.busday_offset(np.datetime64(day, "D"), 0, roll="forward", busdaycal=self._busdaycal())
        return _to_date(out)

    def day_date(self, start: dt.date, index: int | np.ndarray) -> dt.date | np.ndarray:
        """Date of working day ``index`` (0 = the first working day on or after ``start``)."""
        cal = self._busdaycal()
        arr = np.busday_offset(np.datetime64(start, "D"), np.asarray(index, dtype=np.int64),
                               roll="forward", busdaycal=cal)
        return _to_date(arr) if np.ndim(arr) == 0 else arr

    def finish_date(self, start: dt.date, offset: float) -> dt.date:
        """Calendar date on which a finish at working-day ``offset`` falls.

        A finish at ``f > 0`` falls on working day ``ceil(f) - 1``; a finish at 0 (a milestone at
        the project start) on the first working day.
        """
        idx = max(int(math.ceil(offset - 1e-9)) - 1, 0)
        return self.day_date(start, idx)  # type: ignore[return-value]

    def start_date(self, start: dt.date, offset: float) -> dt.date:
        """Calendar date on which a start at working-day ``offset`` falls (working day ``floor``)."""
        return self.day_date(start, max(int(math.floor(offset + 1e-9)), 0))  # type: ignore[return-value]

    def working_days_through(self, start: dt.date, day: dt.date) -> int:
        """Number of working days from ``start`` through ``day`` inclusive.

        This is the working-day offset of a deadline: finishing at an offset ``f`` no larger than
        this number means finishing on or before ``day``.
        """
        s = np.datetime64(self.first_workday(start), "D")
        e = np.datetime64(day, "D") + np.timedelta64(1, "D")
        if e <= s:
            return -int(np.busday_count(e, s, busdaycal=self._busdaycal()))
        return int(np.busday_count(s, e, busdaycal=self._busdaycal()))

    def offset_of(self, start: dt.date, day: dt.date) -> int:
        """Working-day offset at which a task starting on ``day`` starts (working days before it)."""
        s = np.datetime64(self.first_workday(start), "D")
        d = np.datetime64(self.first_workday(day), "D")
        if d <= s:
            return -int(np.busday_count(d, s, busdaycal=self._busdaycal()))
        return int(np.busday_count(s, d, busdaycal=self._busdaycal()))

    def finish_dates(self, start: dt.date, offsets: Iterable[float]) -> list[dt.date]:
        """Vector form of :meth:`finish_date`."""
        return [self.finish_date(start, f) for f in offsets]

    @classmethod
    def from_spec(cls, workdays: Sequence[str] | None, holidays: Sequence[dt.date] | None) -> Calendar:
        return cls(workdays=tuple(workdays) if workdays else cls.workdays,
                   holidays=tuple(holidays or ()))


def _to_date(value: Any) -> dt.date:
    out = value.astype("datetime64[D]").astype(dt.date)
    if not isinstance(out, dt.date):         # numpy gives an int beyond year 9999
        from pmrisk.errors import ProjectError

        raise ProjectError(f"a date {value} working days' worth past the start lies beyond 9999-12-31; "
                           "check the durations and lags (are they in working days?).")
    return out
