"""The notices as the applicant gets them: printed to PDF by Debian's chromium (issue 9, printing).

Each case notice's QR code, rendered from the PDF at 150 dpi by poppler's
``pdftoppm`` and read by zbar's ``zbarimg`` (Debian's poppler-utils and
zbar-tools, which ``make test`` installs), gives the case number. A case of
five matters and a dozen papers with a long company name and address gets
each notice on one A4 page; in large type on at most two, with no heading
left at the foot of a page. PDFs and page images are left in /tmp/notice-print-*.
"""
import shutil
import subprocess
import unicodedata

import pytest
from pypdf import PdfReader

from county_app.db import db
from county_app.intake import cases, materials, workflow
from county_app.intake.records import CaseEvent, CaseItem, CaseMaterial
from county_app.models import User

from test_cases_domain import BEFORE_HOLIDAY, MOTHER_ID, newborn
from test_material_conditions_api import DAUGHTER, RETIREE, RETIREMENT, RETIREMENT_FORM
from test_notices import CENTRE_NAME, five_matters_by_an_agent, restaurant
from test_notices import printer  # noqa: F401  (a fixture)

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
            workflow.record_result(case.case_no, item.matter_code, "approved", actor=clerk, result_no="安澜-2026-1", on_behalf=True)
        refused = cases.register_case(**newborn(), actor=clerk)
        workflow.reject_case(refused.case_no, "不属于本中心受理范围", actor=clerk)
        lease = cases.register_case(**restaurant(), actor=clerk)
    printed["commitment/CSSYZM"] = printer.print(f"/cases/{lease.case_no}/notices/commitment/CSSYZM", "qr-commitment")
    printed["acceptance"] = printer.print(f"/cases/{case.case_no}/notices/acceptance", "qr-acceptance")
    printed["completion"] = printer.print(f"/cases/{case.case_no}/notices/completion", "qr-completion")
    printed["rejection"] = printer.print(f"/cases/{refused.case_no}/notices/rejection", "qr-rejection")
    for kind in printed:
        number = {"rejection": refused.case_no, "commitment/CSSYZM": lease.case_no}.get(kind, case.case_no)
        for large in ("", "-large"):
            name = f"qr-{kind.split('/')[0]}{large}"
            if large:
                printer.print(f"/cases/{number}/notices/{kind}?large=1", name)
            assert decoded_qr_codes(tmp_path / f"{name}.pdf", name) == [number], name


LONG_COMPANY = "安澜县城关镇赵记老字号手工拉面餐饮管理有限责任公司"
LONG_ADDRESS = "浙江省安澜县城关镇人民路与解放街交叉口东南侧新世纪商业广场二号楼一层108至110号商铺"


def five_permit_restaurant(**answers):
    """Story 2 at its largest: all five permits, a company with a long name and address, an agent."""
    request = restaurant()
    request["answers"] = {"Q1": "新办企业", "Q2": "是", "Q3": "是", "Q4": "是", **answers}
    request["applicant"].update(name=LONG_COMPANY, address=LONG_ADDRESS)
    request["agent"] = {"name": "赵小红", "id_number": MOTHER_ID, "phone": "13700137000", "relation": "公司员工"}
    request["form"].update(QYMC=LONG_COMPANY, QYZS=LONG_ADDRESS, CSLC="一层", XFZRR="赵强",
                           JYFW="餐饮服务；食品销售；烟草制品零售；酒类经营；预包装食品销售")
    return request


def hand_in(case_no, clerk, codes):
    for code in codes:
        materials.log_material(case_no, code, "original_verified", actor=clerk, copies=1)


# Chromium's PDF maps some glyphs of the CJK font back to radicals (⼼ for 心, ⺠ for 民): NFKC folds the
# Kangxi radicals; the few supplement radicals in our texts are folded here.
RADICALS = str.maketrans({"⺠": "民", "⻅": "见", "⻓": "长", "⻔": "门", "⻛": "风", "⻢": "马", "⻚": "页", "⻝": "食"})


def pdf_lines(path):
    """The text lines of each page of a PDF, as printed (radicals folded, spaces trimmed, blank lines left out)."""
    pages = []
    for page in PdfReader(path).pages:
        text = unicodedata.normalize("NFKC", page.extract_text()).translate(RADICALS)
        pages.append([line.strip() for line in text.splitlines() if line.strip()])
    return pages


def test_a_five_permit_restaurant_with_long_names_gets_each_notice_on_one_a4_page(printer, tmp_path):
    """Five matters, fourteen papers (the agent's two among them), a long company name and address, an
    agent: 收件回执, 一次性补正告知书, 受理通知书 and 办结通知书 each on one A4 page (they spilt their
    signature block onto a second)."""
    with db.connection_context():
        clerk = User.get(User.username == "li")
        case = cases.register_case(**five_permit_restaurant(), actor=clerk)
        checklist = [m.code for m in CaseMaterial.of_case(case.id)]
        # sixteen papers and the agent's two (授权委托书, 代理人身份证件)
        assert len(checklist) == 18 and CaseItem.select().where(CaseItem.case == case.id).count() == 5
        assert {"WTS", "DLRSFZJ"} <= set(checklist[:14]) and not {"XFZD", "XFPMT"} & set(checklist[:14])
        hand_in(case.case_no, clerk, checklist[:14])  # fourteen papers; the fire brigade's two are missing
        with pytest.raises(Exception):
            workflow.accept_case(case.case_no, actor=clerk, today=BEFORE_HOLIDAY)
    pages = {"receipt": printer.print(f"/cases/{case.case_no}/notices/receipt", "one-page-receipt"),
             "correction": printer.print(f"/cases/{case.case_no}/notices/correction", "one-page-correction")}
    with db.connection_context():
        hand_in(case.case_no, clerk, ["XFZD", "XFPMT"])
        workflow.accept_case(case.case_no, actor=clerk, today=BEFORE_HOLIDAY)
        for item in CaseItem.select().where(CaseItem.case == case.id):
            workflow.record_result(case.case_no, item.matter_code, "approved", actor=clerk,
                                   result_no=f"安澜{item.matter_code}-2026-000123", note="已核发，请妥善保管", on_behalf=True)
    pages["acceptance"] = printer.print(f"/cases/{case.case_no}/notices/acceptance", "one-page-acceptance")
    pages["completion"] = printer.print(f"/cases/{case.case_no}/notices/completion", "one-page-completion")
    for kind in pages:
        shutil.copy(tmp_path / f"one-page-{kind}.pdf", f"/tmp/notice-print-one-page-{kind}.pdf")
    assert pages == {"receipt": 1, "correction": 1, "acceptance": 1, "completion": 1}
    # Large type may take two pages, but a heading never ends a page (its table or text on the next) and the
    # centre's name under the seal is one line.
    for kind in pages:
        name = f"large-{kind}"
        assert printer.print(f"/cases/{case.case_no}/notices/{kind}?large=1", name) <= 2
        shutil.copy(tmp_path / f"{name}.pdf", f"/tmp/notice-print-{name}.pdf")
        headings = [text.strip() for text in printer.page.locator("h2, .legal strong").all_inner_texts()]
        printed = pdf_lines(tmp_path / f"{name}.pdf")
        for lines in printed[:-1]:
            assert lines[-1] not in headings, (kind, lines[-1])
        assert CENTRE_NAME in printed[-1] and "盖章处" in printed[-1], (kind, printed[-1])


def test_the_restaurant_storys_receipt_and_acceptance_fit_one_page(printer, tmp_path):
    """Story 2 as told (no fire inspection, no tobacco; the lease by 告知承诺): they spilt onto page 2."""
    with db.connection_context():
        clerk = User.get(User.username == "li")
        case = cases.register_case(**restaurant(), actor=clerk)
        for row in CaseMaterial.of_case(case.id):
            if row.code == "CSSYZM":
                materials.log_material(case.case_no, row.code, "commitment", actor=clerk)
            elif row.necessity != "optional":
                hand_in(case.case_no, clerk, [row.code])
        workflow.accept_case(case.case_no, actor=clerk, today=BEFORE_HOLIDAY)
    assert printer.print(f"/cases/{case.case_no}/notices/receipt", "story-receipt") == 1
    assert printer.print(f"/cases/{case.case_no}/notices/acceptance", "story-acceptance") == 1


def test_papers_accepted_under_rongque_are_listed_apart_with_their_due_dates(printer, tmp_path):
    """Story 2 with the owner's consent to the sign (建筑物所有权人同意设置的证明) and the food-safety rules still
    to come (容缺): the 受理通知书 and the 收件回执 list them under 容缺待补材料 with the date to bring each,
    not under 已收材料, and still fit one page."""
    later = {"CQRTY": "建筑物所有权人同意设置的证明", "SPAQZD": "保证食品安全的规章制度"}
    with db.connection_context():
        clerk = User.get(User.username == "li")
        case = cases.register_case(**restaurant(), actor=clerk)
        for row in CaseMaterial.of_case(case.id):
            if row.code == "CSSYZM":
                materials.log_material(case.case_no, row.code, "commitment", actor=clerk)
            elif row.code == "SPAQZD":
                materials.log_material(case.case_no, row.code, "deferred", actor=clerk, deferred_until="2026-10-20",
                                       today=BEFORE_HOLIDAY)
            elif row.necessity != "optional" and row.code not in later:
                hand_in(case.case_no, clerk, [row.code])
        workflow.accept_case(case.case_no, actor=clerk, today=BEFORE_HOLIDAY)  # CQRTY: five working days
        due = {m.code: m.deferred_until for m in CaseMaterial.of_case(case.id) if m.code in later}
    assert due["SPAQZD"].isoformat() == "2026-10-20" and due["CQRTY"] > BEFORE_HOLIDAY
    for kind in ("acceptance", "receipt"):
        assert printer.print(f"/cases/{case.case_no}/notices/{kind}", f"rongque-{kind}") == 1, kind
        shutil.copy(tmp_path / f"rongque-{kind}.pdf", f"/tmp/notice-print-rongque-{kind}.pdf")
        lines = pdf_lines(tmp_path / f"rongque-{kind}.pdf")[0]
        received = lines.index("已收材料")
        deferred = next(i for i, line in enumerate(lines) if line.startswith("容缺待补材料"))
        assert received < deferred
        for code, name in later.items():
            assert not any(name in line for line in lines[received:deferred]), (kind, name)  # not 已收
            when = f"{due[code].year}年{due[code].month}月{due[code].day}日前"
            assert any(name in line and when in line for line in lines[deferred:]), (kind, name, lines[deferred:])
    assert "另有容缺待补材料2项" in "".join(lines)
    acceptance = "".join(pdf_lines(tmp_path / "rongque-acceptance.pdf")[0])
    assert "容缺受理的材料请在所注日期前补交" in acceptance


def right_border_share(pdf, name, dpi=150):
    """Of the dark pixels of the tables' left edge on page 1 below the head (rendered at ``dpi`` in grey), the
    share that has a dark pixel at the mirrored place on the right: the tables' right border, the margins
    being equal."""
    from PIL import Image

    stem = f"/tmp/notice-print-border-{name}"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", "-gray", str(pdf), stem],
                   check=True, timeout=60)
    with Image.open(stem + ".pgm") as image:
        width, height = image.size
        px = image.load()
        left = next(x for x in range(width // 4) if sum(px[x, y] < 128 for y in range(height)) > 100)
        right = width - 1 - left
        # below the head's rule (a line across the whole width): the 补打 mark's box sits at the left
        rule = next(y for y in range(height) if all(px[x, y] < 128 for x in range(left + 1, right, 8)))
        edge = [y for y in range(rule + 3, height) if px[left, y] < 128]
        mirrored = [y for y in edge if min(px[x, y] for x in range(right - 3, right + 2)) < 128]
    return len(mirrored) / len(edge), len(edge)


def test_printed_tables_keep_their_right_border(printer, tmp_path):
    """Chromium clipped the right border of full-width tables in the PDF (the page's content box is not a
    whole number of pixels): every table row's right edge is drawn as dark as its left."""
    with db.connection_context():
        clerk = User.get(User.username == "li")
        case = cases.register_case(**restaurant(), actor=clerk)
        hand_in(case.case_no, clerk, [row.code for row in CaseMaterial.of_case(case.id) if row.necessity != "optional"
                                      and row.code != "CSSYZM"])
        materials.log_material(case.case_no, "CSSYZM", "commitment", actor=clerk)
        workflow.accept_case(case.case_no, actor=clerk, today=BEFORE_HOLIDAY)
    for kind in ("receipt", "acceptance", "guide"):
        for large in ("", "?large=1"):
            name = f"border-{kind}{'-large' if large else ''}"
            printer.print(f"/cases/{case.case_no}/notices/{kind}{large}", name)
            share, edge = right_border_share(tmp_path / f"{name}.pdf", name)
            assert edge > 200 and share > 0.9, (name, share, edge)


def test_the_retirees_one_time_notice_prints_in_large_type_from_his_case_page(printer, tmp_path):
    """Story 3: Mr Wang's daughter applies for him; the clerk prints his 一次性告知单 in large type from the
    case page, built from what the case recorded (answers, matters, the agent): nothing is asked again."""
    with db.connection_context():
        clerk = User.get(User.username == "li")
        case = cases.register_case(bundle="YJS-TX", answers=RETIREMENT, matters=["RS-0201"], applicant=RETIREE,
                                   agent=DAUGHTER, form=RETIREMENT_FORM, actor=clerk)
        catalogue_version = case.catalogue.version
    page = printer.page
    page.goto(printer.base + f"/cases/{case.case_no}")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.screenshot(path="/tmp/notice-print-retiree-case-page.png")
    link = page.locator("#print-guide-large")
    assert link.inner_text() == "一次性告知单（大字）"
    path = link.get_attribute("href")
    assert path == f"/cases/{case.case_no}/notices/guide?large=1"
    assert printer.print(path, "retiree-guide-large") <= 2
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 19  # 15pt
    text = page.locator(".sheet").inner_text()
    assert "一次性告知单" in text and "退休" in text and f"办件编号：{case.case_no}" in text
    assert "尚待确认" not in text and f"依据事项目录{catalogue_version}版" in text
    for question in ("企业职工基本养老保险",):  # the answers the case recorded, as chosen at the window
        assert question in text
    # the agent is known now: her papers are asked plainly, not "if someone else applies"
    assert "授权委托书" in text and "由他人代办时提交" not in text
    shutil.copy(tmp_path / "retiree-guide-large.pdf", "/tmp/notice-print-retiree-guide-large.pdf")
    # standard type too, and nothing was logged as printed (the one-time notice is not numbered)
    assert printer.print(f"/cases/{case.case_no}/notices/guide", "retiree-guide") == 1
    with db.connection_context():
        assert not CaseEvent.select().where(CaseEvent.action == "print").exists()
