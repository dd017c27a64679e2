"""MS Project binary files (``.mpp``) through MPXJ, converted to MS Project XML in a subprocess.

MPXJ (https://www.mpxj.org, LGPL) reads ``.mpp`` files; its Python package drives a Java virtual
machine through JPype. A JVM cannot be restarted inside a process, so pmrisk runs the conversion in
a fresh Python subprocess that writes MSPDI to a temporary file, then reads that with the same
reader as any ``.xml`` (:func:`pmrisk.io.mspdi.read_mspdi`). Install with ``pip install
'pmrisk[mpp]'`` (MPXJ needs a Java runtime, 11 or later, on the PATH).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from pmrisk.errors import ProjectError
from pmrisk.io.formats import Imported

TIMEOUT_S = 300

# run in the subprocess: argv[1] the .mpp file, argv[2] the MSPDI file to write
_CONVERT = """
import sys
import jpype
import mpxj  # noqa: F401  (puts the MPXJ jars on the class path)
jpype.startJVM()
try:                                   # MPXJ 14 and later
    from org.mpxj.sample import MpxjConvert
except ImportError:                    # older releases
    from net.sf.mpxj.sample import MpxjConvert
MpxjConvert().process(sys.argv[1], sys.argv[2])   # the output format follows the extension (.xml: MSPDI)
jpype.shutdownJVM()
"""


def mpxj_available(python: str | None = None) -> bool:
    """Can ``python`` (default: this interpreter) import MPXJ and JPype?"""
    proc = subprocess.run([python or sys.executable, "-c", "import jpype, mpxj"], capture_output=True, check=False,
                          timeout=60)
    return proc.returncode == 0


def convert_mpp(path: str | os.PathLike[str], out: str | os.PathLike[str], *, python: str | None = None) -> None:
    """Write the MSPDI (XML) form of the ``.mpp`` file ``path`` to ``out``, with MPXJ in a subprocess."""
    p = Path(path)
    if not mpxj_available(python):
        raise ProjectError(f"{p}: reading .mpp files needs MPXJ and a Java runtime: pip install 'pmrisk[mpp]' and "
                           "install Java 11 or later; or save the schedule from MS Project as XML (*.xml), which "
                           "pmrisk reads without them.")
    try:
        proc = subprocess.run([python or sys.executable, "-c", _CONVERT, str(p), str(out)], capture_output=True,
                              text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ProjectError(f"{p}: MPXJ did not finish converting the file within {TIMEOUT_S} s.") from None
    if proc.returncode != 0 or not Path(out).is_file():
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ProjectError(f"{p}: MPXJ could not read the file ({detail[0]}). Check that it is an MS Project file, "
                           "or save it from MS Project as XML (*.xml).")


def read_mpp(path: str | os.PathLike[str], *, python: str | None = None, **options: Any) -> Imported:
    """Read an ``.mpp`` file: MPXJ converts it to MSPDI, which :func:`~pmrisk.io.mspdi.read_mspdi`
    reads with ``options`` (``ranges=``, ``template=``)."""
    from pmrisk.io.mspdi import read_mspdi

    with tempfile.TemporaryDirectory(prefix="pmrisk-mpp-") as tmp:
        xml = Path(tmp) / (Path(path).stem + ".xml")
        convert_mpp(path, xml, python=python)
        imp = read_mspdi(xml, **options)
    imp.fmt = "mpp"
    imp.notes.insert(0, f"{Path(path).name}: converted to MS Project XML by MPXJ before reading.")
    return imp
