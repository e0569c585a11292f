"""The notices as the applicant gets them: printed to PDF by Debian's chromium.

Each case notice's QR code, rendered from the PDF at 150 dpi by poppler's
``pdftoppm`` and read by zbar's ``zbarimg`` (Debian's poppler-utils and
zbar-tools, which ``make test`` installs), gives the case number. PDFs and
page images are left in /tmp/notice-print-*.
"""
import shutil
import subprocess

import pytest

from county_app.db import db
from county_app.intake import cases, materials, workflow
from county_app.intake.records import CaseItem

from test_cases_domain import BEFORE_HOLIDAY, newborn
from test_notices import five_matters_by_an_agent, printer, restaurant  # noqa: F401  (printer is a fixture)

TOOLS = ("pdftoppm", "zbarimg")


def decoded_qr_codes(pdf, name, dpi=150):
    """The QR codes zbar reads on the first page of ``pdf``, rendered at ``dpi`` as a printer driver would."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{'、'.join(missing)} missing: install Debian's poppler-utils and zbar-tools (make test does)")
    stem = f"/tmp/notice-print-{name}"
    shutil.copy(pdf, stem + ".pdf")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", "-png", str(pdf), stem],
                   check=True, timeout=60)
    run = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", stem + ".png"],
                         capture_output=True, text=True, timeout=60)
    return run.stdout.split()


def test_the_qr_code_of_every_case_notice_scans_as_the_case_number_on_paper(printer, tmp_path):
    with db.connection_context():
        clerk, case = five_matters_by_an_agent()
        with pytest.raises(Exception):
            workflow.accept_case(case.case_no, actor=clerk, today=BEFORE_HOLIDAY)
    printed = {"receipt": printer.print(f"/cases/{case.case_no}/notices/receipt", "qr-receipt"),
               "correction": printer.print(f"/cases/{case.case_no}/notices/correction", "qr-correction")}
    with db.connection_context():
        materials.log_material(case.case_no, "JHZ", "original_verified", actor=clerk, copies=1)
        workflow.accept_case(case.case_no, actor=clerk, today=BEFORE_HOLIDAY)
        for item in CaseItem.select().where(CaseItem.case == case.id):
            workflow.record_result(case.case_no, item.matter_code, "approved", actor=clerk, result_no="安澜-2026-1")
        refused = cases.register_case(**newborn(), actor=clerk)
        workflow.reject_case(refused.case_no, "不属于本中心受理范围", actor=clerk)
    printed["acceptance"] = printer.print(f"/cases/{case.case_no}/notices/acceptance", "qr-acceptance")
    printed["completion"] = printer.print(f"/cases/{case.case_no}/notices/completion", "qr-completion")
    printed["rejection"] = printer.print(f"/cases/{refused.case_no}/notices/rejection", "qr-rejection")
    for kind in printed:
        number = refused.case_no if kind == "rejection" else case.case_no
        for large in ("", "-large"):
            name = f"qr-{kind}{large}"
            if large:
                printer.print(f"/cases/{number}/notices/{kind}?large=1", name)
            assert decoded_qr_codes(tmp_path / f"{name}.pdf", name) == [number], name
