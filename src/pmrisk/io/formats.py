"""What every schedule importer returns, and how pmrisk recognises a file's format.

Each reader (MS Project XML, Primavera P6 XER, Ghent DSLIB workbooks, PSPLIB ``.sm``) turns a
file into the same thing: the mapping of a pmrisk project file (section 1 of project-format.md:
``project``, ``tasks`` with ``duration``, ``depends_on`` with type and lag in working days,
``start_no_earlier_than``, costs, tags), plus the notes an analyst must see (what was converted or
could not be honoured) and format-specific facts (baseline dates, actuals, the file's own planned
duration). :func:`pmrisk.load_project` validates the mapping like any project file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Imported:
    """A schedule read from another tool's file.

    Attributes
    ----------
    data : dict
        A pmrisk project-file mapping (what :meth:`pmrisk.Project.from_dict` accepts).
    notes : list of str
        Import warnings: constraints pmrisk cannot honour, activities dropped or converted, units
        assumed. Shown by ``pmrisk validate`` and before a simulation.
    extra : dict
        Format-specific facts, e.g. ``planned_duration`` (working days, as the source tool computed
        it), ``baseline`` dates, ``actuals`` (DSLIB tracking), ``critical_path_length`` (PSPLIB).
    fmt : str
        The format read: ``"mspdi"``, ``"xer"``, ``"dslib"``, ``"psplib"``, ``"mpp"``.
    """

    data: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    fmt: str = ""
