import os

import numpy as np
import pytest

from pmrisk.project import Project


def make_project(tasks, **project):
    """A Project from a list of task dicts (and optional project settings)."""
    data = {"tasks": tasks}
    if project:
        data["project"] = project
    return Project.from_dict(data)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def pytest_report_header(config):
    from pmrisk.engine._jit import HAVE_NUMBA

    return [f"pmrisk kernels: {'numba' if HAVE_NUMBA else 'plain NumPy (numba unavailable)'}",
            f"CI={os.environ.get('CI', '')}"]


# Hypothesis runs derandomized (the same examples every run, as CI needs); set
# HYPOTHESIS_PROFILE=explore to search with fresh random examples while developing.
from hypothesis import settings as _hsettings  # noqa: E402

_hsettings.register_profile("default", derandomize=True, database=None)
_hsettings.register_profile("explore", derandomize=False)
_hsettings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def shared_home():
    """The shared data home (``$PMRISK_DATA_HOME`` or ``../shared/datasets``); skip without it,
    except under CI=true, where its absence fails the test."""
    from pmrisk.history.datasets import DataFileNotFoundError, data_home

    try:
        return data_home()
    except DataFileNotFoundError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs the shared datasets beside the repository: {exc}")
        pytest.skip(f"shared datasets not available: {exc}")
