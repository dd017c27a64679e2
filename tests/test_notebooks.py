"""The notebooks in notebooks/ run top to bottom without an error, and are committed without outputs.

Each notebook is executed in a fresh Jupyter kernel (nbclient, as nbmake does) with a small
iteration count (``PMRISK_NB_ITERATIONS``) in the kernel's environment, from the notebooks folder,
so its relative paths resolve as they do in Jupyter. Where the shared datasets are absent the
budget-review notebook says so and skips its history cells; under CI=true they are present.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ITERATIONS = 300          # enough for every chart to have something to draw; all three run in ~15 s
CELL_TIMEOUT = 180        # seconds a cell may take
NOTEBOOK_TIMEOUT = 300    # seconds a whole notebook may take, kernel start and shutdown included


def test_the_three_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == ["01-pre-project-risk-assessment.ipynb",
                                          "02-budget-estimate-review.ipynb", "03-what-if-analysis.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    """Notebooks are kept clean in git: no outputs, no execution counts, no widget state."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    dirty = [i for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, (f"{path.name}: cells {dirty} have outputs or execution counts; clear them "
                       "(jupyter nbconvert --clear-output --inplace notebooks/*.ipynb)")
    assert "widgets" not in nb.get("metadata", {}), f"{path.name}: saved widget state in the metadata; clear it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_reads_iterations_from_the_environment(path):
    """Every notebook has ITERATIONS at the top, overridable by the test run."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    first_code = next(cell for cell in nb["cells"] if cell["cell_type"] == "code")
    assert 'ITERATIONS = int(os.environ.get("PMRISK_NB_ITERATIONS", 10_000))' in "".join(first_code["source"])


def _kernel_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["TMPDIR"] = str(tmp)                 # the report and model files the notebooks write land here
    env["PMRISK_NB_ITERATIONS"] = str(ITERATIONS)
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"      # draw the figures, as Jupyter does
    src = str(ROOT / "src")                  # this checkout's pmrisk, whether or not it is installed
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _kernel_manager(folder: Path) -> Any:
    """A kernel that runs with this interpreter (the one with pmrisk and the dev extra), whatever
    kernelspecs the machine has."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec = folder / "pmrisk-notebook-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "pmrisk notebook test", "language": "python"}), encoding="utf-8")
    ksm = KernelSpecManager(kernel_dirs=[str(folder)], ensure_native_kernel=False)
    return KernelManager(kernel_name=spec.name, kernel_spec_manager=ksm)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    for module in ("ipykernel", "ipywidgets", "matplotlib_inline"):
        if os.environ.get("CI") == "true":
            __import__(module)              # the dev extra brings them: their absence is a failure in CI
        else:
            pytest.importorskip(module)

    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, km=_kernel_manager(tmp_path / "kernels"), timeout=CELL_TIMEOUT,
                                     allow_errors=False, shutdown_kernel="immediate",
                                     resources={"metadata": {"path": str(path.parent)}})

    async def run() -> None:
        await client.async_execute(env=_kernel_env(tmp_path))

    try:
        asyncio.run(asyncio.wait_for(run(), NOTEBOOK_TIMEOUT))
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{path.name} failed:\n{exc}")
    errors = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    text = "\n".join(o.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                     for o in cell.get("outputs", []) if o.get("output_type") == "stream")
    assert "Traceback" not in text
    images = sum("image/png" in o.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
                 for o in cell.get("outputs", []))
    if not path.name.startswith("02"):      # the budget review draws only from the shared datasets
        assert images >= 1, f"{path.name}: no figure was drawn"


def test_notebook_code_is_ruff_clean():
    """The notebooks' code follows the house style too (ruff reads .ipynb files)."""
    import shutil
    import subprocess

    exe = Path(sys.executable).with_name("ruff")
    ruff = str(exe) if exe.exists() else shutil.which("ruff")
    if ruff is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ruff is not installed; CI installs the dev extra, which brings it")
        pytest.skip("ruff is not installed")
    proc = subprocess.run([ruff, "check", "notebooks"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
