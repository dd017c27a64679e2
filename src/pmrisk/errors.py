"""Exception and warning types.

Every error caused by a user's input subclasses a built-in (mostly :class:`ValueError`) and
carries a message that says *where* (file, task/risk id or line), *what* is wrong and *how* to
fix it. The CLI turns :class:`PmriskError` into a one-paragraph message and exit status 2.
"""

from __future__ import annotations


class PmriskError(Exception):
    """Base class of every error pmrisk raises for a user's mistake."""


class ProjectError(PmriskError, ValueError):
    """A project file or project model is invalid (names the file, id or line)."""


class DistributionError(ProjectError):
    """A distribution specification is invalid (bad parameters or unknown name)."""


class CyclicDependencyError(ProjectError):
    """The schedule network has a dependency cycle."""


class UnsupportedFeatureError(ProjectError):
    """The file uses a feature this version of pmrisk does not simulate yet."""


class PmriskWarning(UserWarning):
    """A problem worth a look that does not stop the simulation (schedule health, ...)."""
