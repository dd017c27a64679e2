"""One entry point for every schedule format: detection, --format, reader options, import notes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import pmrisk
from pmrisk.cli import main
from pmrisk.errors import ProjectError
from pmrisk.io.load import detect_format

XER = """ERMHDR\t8.4\t2027-01-01\tProject\tadmin\tadmin\tdbx\tProject Management\tUSD
%T\tPROJECT
%F\tproj_id\tproj_short_name\tlast_recalc_date\tplan_start_date
%R\t1\tDEMO\t2027-01-04 08:00\t2027-01-04 08:00
%T\tCALENDAR
%F\tclndr_id\tclndr_name\tday_hr_cnt\tdefault_flag
%R\t1\tStandard\t8\tY
%T\tTASK
%F\ttask_id\tproj_id\tclndr_id\ttask_code\ttask_name\ttask_type\tstatus_code\ttarget_drtn_hr_cnt\tremain_drtn_hr_cnt
%R\t10\t1\t1\tA1\tDesign\tTT_Task\tTK_NotStart\t80\t80
%R\t11\t1\t1\tA2\tBuild\tTT_Task\tTK_NotStart\t160\t160
%T\tTASKPRED
%F\ttask_pred_id\ttask_id\tpred_task_id\tproj_id\tpred_proj_id\tpred_type\tlag_hr_cnt
%R\t1\t11\t10\t1\t1\tPR_FS\t0
%E
"""


def test_formats_are_detected_and_can_be_forced(tmp_path):
    x = tmp_path / "plan.xer"
    x.write_text(XER)
    assert detect_format(x) == "xer"
    p = pmrisk.load_project(x)
    assert p.imported["format"] == "xer" and len(p.tasks) == 2
    same = tmp_path / "plan.txt"
    same.write_text(XER)
    with pytest.raises(ProjectError, match="unsupported file type"):
        pmrisk.load_project(same)
    assert pmrisk.load_project(same, format="xer").task_ids == p.task_ids
    with pytest.raises(ProjectError, match="unknown format"):
        pmrisk.load_project(x, format="primavera")
    bad = tmp_path / "not-project.xml"
    bad.write_text("<html><body>hello</body></html>")
    with pytest.raises(ProjectError, match="not MS Project XML"):
        pmrisk.load_project(bad)
    y = tmp_path / "p.yaml"
    y.write_text("tasks:\n  - {id: A, duration: 1}\n")
    with pytest.raises(ProjectError, match="imported schedules only"):
        pmrisk.load_project(y, template={"min": 0.9, "max": 1.2})


def test_a_quick_risk_template_reaches_every_reader_in_one_form(tmp_path):
    x = tmp_path / "plan.xer"
    x.write_text(XER)
    p = pmrisk.load_project(x, template={"min": 0.9, "max": 1.25})
    build = p.task(p.task_ids[1]).duration
    assert build.support() == pytest.approx((18.0, 25.0))        # 20 days: -10% .. +25%
    res = CliRunner().invoke(main, ["validate", str(x), "--template", "0.9,1.25", "--json", "-"])
    assert res.exit_code == 0, res.output
    assert not any("fixed" in w and "duration" in w for w in json.loads(res.output)["warnings"] if "A2" in w)
    res = CliRunner().invoke(main, ["validate", str(x), "--template", "1.1,1.25"])
    assert res.exit_code == 2 and "LOW <= 1 <= HIGH" in res.output


def test_shared_samples_import_through_load_project_and_the_cli(shared_home):
    folder = shared_home / "mspdi-xer-samples"
    for name in ("sample.xml", "mspdirelations.xml", "percent-complete-8.4.xer", "resource-rates-test.xer"):
        p = pmrisk.load_project(folder / name)
        assert p.imported is not None and p.tasks
        r = pmrisk.simulate(p, iterations=200, rng=1)
        assert r.iterations == 200
    # sample.xml's own dates disagree with its durations (a task of 800 h inside 50 working days): noted
    p = pmrisk.load_project(folder / "sample.xml")
    assert any("computes to" in n for n in p.notes)
    res = CliRunner().invoke(main, ["validate", str(folder / "sample.xml"), "--json", "-"])
    assert res.exit_code == 0 and any("computes to" in w for w in json.loads(res.output)["warnings"])
    res = CliRunner().invoke(main, ["simulate", str(folder / "mspdirelations.xml"), "-n", "300"])
    assert res.exit_code == 0, res.output


def test_mpp_without_mpxj_says_how_to_get_it(tmp_path):
    from pmrisk.io.mpp import mpxj_available

    f = tmp_path / "plan.mpp"
    f.write_bytes(b"\xd0\xcf\x11\xe0 not really an mpp")
    if mpxj_available():
        with pytest.raises(ProjectError, match="MPXJ"):          # installed: MPXJ itself refuses the bytes
            pmrisk.load_project(f)
        return
    with pytest.raises(ProjectError, match=r"pmrisk\[mpp\]") as err:
        pmrisk.load_project(f)
    assert "XML" in str(err.value)                               # ... and the way around it
    res = CliRunner().invoke(main, ["validate", str(f)])
    assert res.exit_code == 2 and "Traceback" not in res.output
