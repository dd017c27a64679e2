"""pmrisk: Monte Carlo schedule and cost risk for IT projects.

>>> import pmrisk
>>> project = pmrisk.Project.from_dict({"tasks": [{"id": "A", "duration": 5}]})
>>> pmrisk.simulate(project, iterations=100, rng=1).percentiles()["P80"]
5.0
"""

from pmrisk.engine.simulate import simulate
from pmrisk.errors import CyclicDependencyError, DistributionError, PmriskError, ProjectError
from pmrisk.io.load import load_project
from pmrisk.project import Link, Project, Task
from pmrisk.results import SimulationResult, compare

__version__ = "0.1.0"

__all__ = [
    "CyclicDependencyError",
    "DistributionError",
    "Link",
    "PmriskError",
    "Project",
    "ProjectError",
    "SimulationResult",
    "Task",
    "__version__",
    "compare",
    "load_project",
    "simulate",
]
