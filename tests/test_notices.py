"""Printed notices from real cases built through the domain functions on the seed catalogue.

What each notice carries (applicant, matters, materials with what was
verified, dates, legal texts, QR code, clerk, seal), 补打 on a reprint and its
log, the state rules (409) and unknown cases (404), the 告知承诺书 and the
一次性告知单, a bearer token against the real server, and the A4 pages printed
to PDF by Debian's chromium through Playwright (screenshots in /tmp/notice-*.png).
"""
import json
import re
import urllib.error
import urllib.request
from datetime import date
from types import SimpleNamespace

import pytest

from county_app import accounts, settings
from county_app.db import db
from county_app.intake import cases, materials, scans, workflow
from county_app.intake.errors import Invalid
from county_app.intake.guide import guide_bundle
from county_app.intake.records import CaseEvent, CaseItem, Notice
from county_app.models import User

from conftest import PASSWORD, login, sample_pdf
from test_cases_domain import BEFORE_HOLIDAY, CENTRE, FATHER_ID, MOTHER_ID, PHONE, newborn

CENTRE_NAME = "安澜县城关镇便民服务中心"
CENTRE_PHONE = "0571-86001234"
CENTRE_ADDRESS = "安澜县城关镇人民路 8 号"
CLERK_PHONE = "0571-86001235"
CREDIT_CODE = "91350100M000100Y43"


def restaurant():
    """Story 2: Mr Zhao's noodle shop (a new company, a sign; no fire inspection, no tobacco)."""
    return dict(bundle="YJS-KBCY", answers={"Q1": "新办企业", "Q2": "是", "Q3": "否", "Q4": "否"},
                applicant={"kind": "company", "name": "安澜赵记面馆有限公司", "credit_code": CREDIT_CODE,
                           "legal_representative": "赵强", "phone": "13900139000", "address": "安澜县城关镇人民路 20 号"},
                form={"QYMC": "安澜赵记面馆有限公司", "ZTLX": "有限责任公司", "FDDBR": "赵强", "JBRXM": "赵强",
                      "QYZS": "安澜县城关镇人民路 20 号", "ZCZB": 10, "JYFW": "餐饮服务", "JYCSMJ": 120,
                      "ZTYT": "餐饮服务经营者", "JYXM": ["热食类食品制售"], "SPAQGLY": "赵强", "ZPCC": "4×1",
                      "ZPCZ": "亚克力"})


@pytest.fixture
def window(seeded_app, make_user):
    """The seed catalogue; the centre's code, name, phone and address; clerk 李芳 (li) logged in."""
    make_user("li", "clerk")
    db.connect(reuse_if_open=True)
    with db.atomic():
        for key, value in (("centre.code", CENTRE), ("centre.name", CENTRE_NAME), ("centre.phone", CENTRE_PHONE),
                           ("centre.address", CENTRE_ADDRESS)):
            settings.put(key, value)
        User.update(display_name="李芳", phone=CLERK_PHONE).where(User.username == "li").execute()
    client = seeded_app.test_client()
    login(client, "li")
    yield SimpleNamespace(clerk=User.get(User.username == "li"), client=client)
    if not db.is_closed():
        db.close()


def page(window, path, status=200):
    """GET ``path`` as the logged-in clerk; the page's text, after checking the status."""
    response = window.client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def register(window, **changes):
    return cases.register_case(**newborn(**changes), actor=window.clerk)


def hand_in_all_but_marriage_certificate(case_no, clerk):
    """Story 1 at the window: ID cards seen, register copied, birth certificate fetched, form scanned."""
    materials.log_material(case_no, "JMSFZ", "original_verified", actor=clerk)
    materials.log_material(case_no, "HKB", "copy_received", actor=clerk, copies=1)
    materials.log_material(case_no, "CSYXZM", "exempt", actor=clerk, licence_no="DZZZ-2026-0001")
    scans.attach_scan(case_no, "SQB", sample_pdf(3), "联办申请表.pdf", actor=clerk)


def corrected(window):
    """A case sent to correction for the missing 结婚证, the day before National Day."""
    case = register(window)
    hand_in_all_but_marriage_certificate(case.case_no, window.clerk)
    with pytest.raises(Exception):
        workflow.accept_case(case.case_no, actor=window.clerk, today=BEFORE_HOLIDAY)
    return case.case_no


def accepted(window):
    """Story 1: corrected, then the 结婚证 brought and the case accepted."""
    case_no = corrected(window)
    materials.log_material(case_no, "JHZ", "original_verified", actor=window.clerk, copies=1)
    workflow.accept_case(case_no, actor=window.clerk, today=BEFORE_HOLIDAY)
    return case_no





def text_of(html):
    """The visible text of a page, tags removed and spaces collapsed, for content checks."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)))


def assert_common(html, case_no, title):
    """What every case notice carries: title, centre, applicant, QR code, clerk and phone, seal, print switch."""
    text = text_of(html)
    assert f"<h1>{title}</h1>" in html and CENTRE_NAME in text
    assert "李娜" in text and "**************1243" in text and MOTHER_ID not in html and PHONE in text
    assert re.search(r'<div class="qr"><svg[^>]*>.*?<path', html, re.S)  # the case number as an inline QR code
    assert "经办人：李芳" in text and CLERK_PHONE in text
    assert "data-seal" in html and "盖章处" in text
    assert 'src="/static/notice_print.js"' in html and "data-autoprint" in html  # the dialog opens on load
    assert "http://" not in html and "https://" not in html  # nothing from outside
    assert 'href="/static/print.css"' in html and "extends" not in html
    return text


# ----------------------------------------------------------------------------- the five notices


def test_receipt_lists_what_was_received_and_how(window):
    case = register(window)
    hand_in_all_but_marriage_certificate(case.case_no, window.clerk)
    html = page(window, f"/cases/{case.case_no}/notices/receipt")
    text = assert_common(html, case.case_no, "收件回执")
    assert f"编号：{case.case_no}-01" in text  # the receipt is issued at registration
    assert "“新生儿出生一件事”（共5个事项）" in text
    for name in ("出生医学证明签发", "出生登记（户口登记）", "社会保障卡申领", "生育登记", "县公安局"):
        assert name in text
    assert "居民身份证 原件核验" in text and "居民户口簿 复印件1份" in text
    assert "免提交（电子证照，编号：DZZZ-2026-0001）" in text and "申请表 扫描件3页" in text
    assert "结婚证" not in text  # not handed in: not on the receipt
    assert "不代表已经受理" in text and "申请人（签字）" in text


def test_correction_lists_exactly_the_missing_paper_deadline_and_article_32(window):
    case_no = corrected(window)
    text = assert_common(page(window, f"/cases/{case_no}/notices/correction"), case_no, "一次性补正告知书")
    notice = Notice.get((Notice.kind == "correction"))
    assert f"编号：{notice.number}" in text
    assert "结婚证 原件（核验）和复印件1份" in text
    assert "请于2026年10月13日前" in text  # five working days, National Day skipped
    assert "第三十二条第一款第（四）项" in text and "一次告知申请人需要补正的全部内容" in text
    # grouped by how each was supplied: a dozen papers seen in the original are one entry, not twelve
    assert "已收取的材料（无需重复提交）：居民身份证，原件核验；申请表，扫描件3页；" in text
    assert "申请人（签字）" in text and "2026年9月30日" in text


def test_acceptance_carries_dates_matters_and_materials(window):
    case_no = accepted(window)
    case = cases.get_case(case_no, actor="test")
    text = assert_common(page(window, f"/cases/{case_no}/notices/acceptance"), case_no, "受理通知书")
    assert f"于{date.today().year}年" in text and "本中心决定予以受理" in text
    assert "受理日期： 2026年9月30日" in text
    due = case.due_date
    assert f"承诺办结日期： {due.year}年{due.month}月{due.day}日" in text and due > date(2026, 10, 7)
    assert "社会保障卡申领 县人力资源和社会保障局 5个工作日" in text and "即办" in text
    assert "结婚证 原件核验，留存复印件1份" in text
    assert "凭办件编号" in text and case_no in text and "法定节假日不计" in text


@pytest.mark.usefixtures("unpublished_from_2027")
def test_a_due_date_in_a_year_without_its_notice_is_flagged_on_the_notice_and_the_page(window):
    case = register(window)
    hand_in_all_but_marriage_certificate(case.case_no, window.clerk)
    materials.log_material(case.case_no, "JHZ", "original_verified", actor=window.clerk, copies=1)
    workflow.accept_case(case.case_no, actor=window.clerk, today=date(2026, 12, 28))
    shown = cases.case_json(cases.get_case(case.case_no, actor="test"))
    # 社会保障卡申领, 5 working days from Monday 2026-12-28: 12-29, 12-30, 12-31, then 元旦 (Friday)
    # and the weekend rest, 2027-01-04, 2027-01-05.
    assert {item["matter"]: item["due_date"] for item in shown["items"]}["RS-0101"] == "2027-01-05"
    assert shown["calendar_complete"] is False
    notice = text_of(page(window, f"/cases/{case.case_no}/notices/acceptance"))
    assert "所跨年份的调休安排尚未公布，暂按周末和法定节假日计算，如有变化另行告知" in notice
    assert "受理时调休安排未公布" in text_of(page(window, f"/cases/{case.case_no}"))


def test_rejection_gives_reason_and_remedies(window):
    case = register(window)
    workflow.reject_case(case.case_no, "申请人户籍不在本县，且新生儿不在本县出生", actor=window.clerk)
    text = assert_common(page(window, f"/cases/{case.case_no}/notices/rejection"), case.case_no, "不予受理通知书")
    assert "本中心决定不予受理" in text and "不予受理的理由：申请人户籍不在本县" in text
    assert "六十日内依法申请行政复议" in text and "六个月内依法向人民法院提起行政诉讼" in text
    assert "行政复议法》第二十条" in text and "行政诉讼法》第四十六条" in text
    assert "申请人（签收）" in text


def test_rejection_names_the_authority_to_apply_to(window):
    case = register(window)
    workflow.reject_case(case.case_no, "该事项不属于本中心受理范围", actor=window.clerk,
                         refer_to="  安澜县市场监督管理局  ")
    notice = Notice.get((Notice.case == case.id) & (Notice.kind == "rejection"))
    assert json.loads(notice.content)["refer_to"] == "安澜县市场监督管理局"
    event = CaseEvent.get((CaseEvent.case == case.id) & (CaseEvent.action == "reject"))
    assert json.loads(event.detail)["refer_to"] == "安澜县市场监督管理局"
    text = assert_common(page(window, f"/cases/{case.case_no}/notices/rejection"), case.case_no, "不予受理通知书")
    assert "该申请事项依法不属于本机关职权范围，请向安澜县市场监督管理局申请。" in text
    assert "六十日内依法申请行政复议" in text
    shown = text_of(page(window, f"/cases/{case.case_no}"))
    assert "不予受理理由 该事项不属于本中心受理范围" in shown and "应向何机关申请 安澜县市场监督管理局" in shown


def test_rejection_without_authority_has_no_referral_and_too_long_changes_nothing(window):
    case = register(window)
    with pytest.raises(Invalid) as caught:
        workflow.reject_case(case.case_no, "不属于本中心受理范围", actor=window.clerk, refer_to="县" * 101)
    assert caught.value.details == [{"field": "refer_to", "message": caught.value.message}]
    assert "应向何机关申请" in caught.value.message and "100" in caught.value.message
    assert cases.get_case(case.case_no, actor="test").status == "registered"
    assert [n.kind for n in Notice.select().where(Notice.case == case.id)] == ["receipt"]
    workflow.reject_case(case.case_no, "申请人户籍不在本县", actor=window.clerk, refer_to="   ")
    notice = Notice.get((Notice.case == case.id) & (Notice.kind == "rejection"))
    assert "refer_to" not in json.loads(notice.content)
    text = text_of(page(window, f"/cases/{case.case_no}/notices/rejection"))
    assert "不属于本机关职权范围" not in text and "请向" not in text


def test_office_hours_are_printed_beside_the_address_only_when_set(window):
    case = register(window)
    path = f"/cases/{case.case_no}/notices/receipt?noprint=1"
    text = text_of(page(window, path))
    assert f"地址：{CENTRE_ADDRESS}" in text and "办公时间" not in text
    guide = text_of(page(window, "/guide/print?bundle=YJS-XSECS&Q1=是&Q2=是&Q3=是&Q4=已婚&Q5=母亲&noprint=1"))
    assert "办公时间：" not in guide and f"（{CENTRE_ADDRESS}），法定工作日办公时间内（法定节假日除外）。" in guide
    with db.atomic():
        settings.put("centre.hours", "工作日 9:00-12:00，14:00-17:30")
    text = text_of(page(window, path))
    assert f"地址：{CENTRE_ADDRESS} 办公时间：工作日 9:00-12:00，14:00-17:30" in text
    assert CENTRE_PHONE in text
    workflow.reject_case(case.case_no, "不属于本中心受理范围", actor=window.clerk)
    assert "办公时间：工作日 9:00-12:00，14:00-17:30" in text_of(
        page(window, f"/cases/{case.case_no}/notices/rejection"))
    guide = text_of(page(window, "/guide/print?bundle=YJS-XSECS&Q1=是&Q2=是&Q3=是&Q4=已婚&Q5=母亲&noprint=1"))
    assert f"（{CENTRE_ADDRESS}），办公时间：工作日 9:00-12:00，14:00-17:30。" in guide


def test_completion_gives_each_decision_result_number_and_delivery(window):
    case_no = accepted(window)
    for code in ("WJ-0101", "WJ-0102", "GA-0101", "RS-0101"):
        workflow.record_result(case_no, code, "approved", actor=window.clerk, result_no=f"NO-{code}", on_behalf=True)
    workflow.record_result(case_no, "WJ-0103", "denied", actor=window.clerk, note="已在外县办理生育登记", on_behalf=True)
    path = f"/cases/{case_no}/notices/completion"
    text = assert_common(page(window, path), case_no, "办结通知书")
    assert "出生登记（户口登记） 县公安局 准予 居民户口簿（新生儿户口页） NO-GA-0101" in text
    assert "生育登记 县卫生健康局 不予" in text and "说明：已在外县办理生育登记" in text
    assert "请您携带本通知书和身份证件到本中心窗口领取" in text and "领取人（签字）" in text
    assert "行政许可法》第三十八条第二款" in text and "六十日内依法申请行政复议" in text  # an item was denied
    workflow.deliver_case(case_no, "mail", actor=window.clerk, tracking_no="SF1234567890")
    text = text_of(page(window, path))
    assert "送达方式： 邮寄送达，快递单号：SF1234567890" in text and "领取人（签字）" not in text


def test_agent_is_printed_beside_the_applicant(window):
    case = register(window, agent={"name": "张伟", "id_number": FATHER_ID, "phone": "13700137000",
                                   "relation": "配偶"})
    text = text_of(page(window, f"/cases/{case.case_no}/notices/receipt"))
    assert "代办人 张伟（配偶）" in text and "**************3610" in text and FATHER_ID not in text


# ----------------------------------------------------------------------------- reprints, states, unknowns


def record_print(window, path, status=200):
    """Post the print of the notice at ``path`` as its page's script does (CSRF token from the page)."""
    html = page(window, path + "?noprint=1")
    token = re.search(r'data-csrf="([^"]+)"', html).group(1)
    assert f'data-print-log="{path}/prints"' in html
    response = window.client.post(path + "/prints", json={}, headers={"X-CSRFToken": token})
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def print_events():
    return [json.loads(e.detail) for e in CaseEvent.select().where(CaseEvent.action == "print").order_by(CaseEvent.id)]


def test_opening_a_notice_logs_nothing_and_a_second_print_is_marked_and_logged(window):
    case = register(window)
    path = f"/cases/{case.case_no}/notices/receipt"
    first, again = page(window, path), page(window, path)
    assert print_events() == []  # opening is not printing
    assert '<div class="reprint" data-reprint hidden>' in first and '<div class="reprint" data-reprint hidden>' in again
    assert record_print(window, path) == {"kind": "receipt", "number": f"{case.case_no}-01", "print_count": 1,
                                          "reprint": False}
    shown = page(window, path)  # printing it now would be the second print: the page shows the mark already
    assert '<div class="reprint" data-reprint>补打<small>第<span data-print-count>2</span>次打印' in shown
    assert record_print(window, path) == {"kind": "receipt", "number": f"{case.case_no}-01", "print_count": 2,
                                          "reprint": True}
    assert Notice.select().where(Notice.kind == "receipt").count() == 1  # one receipt, printed twice
    assert print_events() == [{"kind": "receipt", "number": f"{case.case_no}-01"}] * 2
    assert CaseEvent.get(CaseEvent.action == "print").actor == "li"


def test_a_print_needs_the_csrf_token_and_a_notice_that_may_be_printed(window):
    case = register(window)
    assert window.client.post(f"/cases/{case.case_no}/notices/receipt/prints", json={}).status_code == 400
    token = re.search(r'data-csrf="([^"]+)"', page(window, f"/cases/{case.case_no}/notices/receipt")).group(1)
    refused = window.client.post(f"/cases/{case.case_no}/notices/acceptance/prints", json={},
                                 headers={"X-CSRFToken": token})
    assert refused.status_code == 409 and "尚未受理" in refused.get_json()["error"]["message"]
    unknown = window.client.post("/cases/331128101000209901010001/notices/receipt/prints", json={},
                                 headers={"X-CSRFToken": token})
    assert unknown.status_code == 404
    assert "没有编号为 331128101000209901010001 的办件" in unknown.get_json()["error"]["message"]
    assert print_events() == []


@pytest.mark.parametrize("kind,words", [
    ("acceptance", "尚未受理，还不能打印受理通知书"),
    ("completion", "尚未办结，还不能打印办结通知书"),
    ("rejection", "没有作出不予受理决定"),
    ("correction", "没有出具过一次性补正告知书"),
])
def test_a_notice_the_state_does_not_allow_is_409_in_chinese(window, kind, words):
    case = register(window)
    html = page(window, f"/cases/{case.case_no}/notices/{kind}", status=409)
    assert words in html and ("当前状态为「待受理」" in html or kind == "correction")
    assert not CaseEvent.select().where(CaseEvent.action == "print").exists()  # nothing logged


def test_receipt_of_a_rejected_case_never_printed_is_409(window):
    case = register(window)
    workflow.reject_case(case.case_no, "不属于本机关职权范围", actor=window.clerk)
    assert "请打印不予受理通知书" in page(window, f"/cases/{case.case_no}/notices/receipt", status=409)
    assert f"/cases/{case.case_no}/notices/receipt" not in page(window, f"/cases/{case.case_no}")
    printed = register(window)
    record_print(window, f"/cases/{printed.case_no}/notices/receipt")
    workflow.reject_case(printed.case_no, "不属于本机关职权范围", actor=window.clerk)
    assert f"/cases/{printed.case_no}/notices/receipt" in page(window, f"/cases/{printed.case_no}")
    assert record_print(window, f"/cases/{printed.case_no}/notices/receipt")["reprint"] is True  # a copy, as before


def test_unknown_case_and_kind_are_404(window):
    assert "没有编号为 331128101000209901010001 的办件" in page(
        window, "/cases/331128101000209901010001/notices/receipt", status=404)
    case = register(window)
    assert "没有“licence”这种通知书" in page(window, f"/cases/{case.case_no}/notices/licence", status=404)


def test_notices_need_a_login(seeded_app):
    response = seeded_app.test_client().get("/cases/331128101000209901010001/notices/receipt")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# ----------------------------------------------------------------------------- 告知承诺书 and 一次性告知单


def test_commitment_letter_for_the_lease(window):
    case = cases.register_case(**restaurant(), actor=window.clerk)
    html = page(window, f"/cases/{case.case_no}/notices/commitment/CSSYZM")
    text = text_of(html)
    assert "<h1>证明事项告知承诺书</h1>" in html and "安澜赵记面馆有限公司" in text and CREDIT_CODE in text
    assert "法定代表人 赵强" in text
    assert "证明事项： 房屋租赁合同或场所使用证明（原需提交复印件1份）" in text
    assert "国办发〔2020〕42号" in text and "自主选择" in text
    assert "终止办理" in text and "责令限期整改" in text and "依法撤销相关决定" in text and "信用记录" in text
    assert "申请人（签字或盖章）" in text and "盖章处" in text and "食品经营许可" in text
    assert "data-reprint hidden" in html and print_events() == []
    path = f"/cases/{case.case_no}/notices/commitment/CSSYZM"
    assert record_print(window, path)["reprint"] is False
    assert record_print(window, path) == {"kind": "commitment", "number": f"{case.case_no}-CSSYZM", "print_count": 2,
                                          "reprint": True}
    assert "data-reprint hidden" not in page(window, path)
    assert print_events() == [{"kind": "commitment", "number": f"{case.case_no}-CSSYZM", "material": "CSSYZM"}] * 2


def test_commitment_only_where_the_catalogue_allows_it(window):
    case = cases.register_case(**restaurant(), actor=window.clerk)
    assert "不适用告知承诺" in page(window, f"/cases/{case.case_no}/notices/commitment/JMSFZ", status=409)
    assert "没有编码为 NOPE 的材料" in page(window, f"/cases/{case.case_no}/notices/commitment/NOPE", status=404)


def test_one_time_notice_for_a_bundle_and_answers(window):
    answers = {"Q1": "是", "Q2": "是", "Q3": "是", "Q4": "已婚", "Q5": "母亲"}
    guide = guide_bundle("YJS-XSECS", answers)
    html = page(window, "/guide/print?bundle=YJS-XSECS&Q1=是&Q2=是&Q3=是&Q4=已婚&Q5=母亲")
    text = text_of(html)
    assert "<h1>一次性告知单</h1>" in html and "新生儿出生一件事" in text and "<svg" not in html
    assert "新生儿是否在本县助产机构出生？是" in text
    assert f"一、办理事项（共{len(guide.matters)}项）" in text
    for matter in guide.matters:
        assert f"{matter.name} {matter.department}" in text and matter.result_name in text
    assert f"二、申请材料（一套材料，共{len(guide.materials)}项" in text
    for material in guide.materials:
        assert material.name in text and material.instructions.splitlines()[0] in text
    assert "结婚证 必要；原件（核验）和复印件1份" in text and "可调取电子证照，免提交" in text
    assert "个事项共用，只交一份" in text
    for field in guide.fields:
        assert field.name + ("*" if field.required else "") in text
    assert "新生儿姓名*" in text and "申请人姓名*（自动带出）" in text
    assert f"受理后{guide.totals.promised_days_parallel}个工作日内全部办结" in text
    assert "五、收费标准： 以上事项均不收取行政事业性收费（城乡居民基本医疗保险参保登记：参保缴费按" in text
    assert CENTRE_ADDRESS in text and "法定工作日" in text and CENTRE_PHONE in text and "告知人：李芳" in text
    assert 'class="large"' not in html


def test_one_time_notice_in_large_type_and_for_single_matters(window):
    html = page(window, "/guide/print?bundle=YJS-TX&Q1=企业职工基本养老保险&Q2=是&Q3=是&Q4=是&large=1&noprint=1")
    assert '<body class="large">' in html and "退休一件事" in html
    assert 'src="/static/notice_print.js"' in html and "data-autoprint" not in html  # noprint: no dialog on load
    text = text_of(page(window, "/guide/print?matters=GA-0102"))
    assert "居住证申领" in text and "尚待确认" not in text


def test_one_time_notice_shows_questions_still_open_and_refuses_bad_requests(window):
    text = text_of(page(window, "/guide/print?bundle=YJS-XSECS&Q1=是"))
    assert "尚待确认的情形： “是否为新生儿申领社会保障卡？”“父母一方的户籍是否在本县？”" in text
    assert "没有编码为 NOPE 的一件事" in page(window, "/guide/print?bundle=NOPE", status=404)
    assert "的回答应为" in page(window, "/guide/print?bundle=YJS-XSECS&Q1=也许", status=422)
    assert "请指定" in page(window, "/guide/print", status=422)


# ----------------------------------------------------------------------------- bearer token


def test_bearer_token_opens_the_notice_on_the_real_server(live_server, make_user):
    make_user("li", "clerk")
    with db.connection_context():
        with db.atomic():
            settings.put("centre.code", CENTRE)
        clerk = User.get(User.username == "li")
        case = cases.register_case(**newborn(), actor=clerk)
        token = accounts.issue_token("li", actor="test").token
    url = f"{live_server}/cases/{case.case_no}/notices/receipt?noprint=1"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=20) as response:
        html = response.read().decode()
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/html")
    assert "<h1>收件回执</h1>" in html and "李娜" in html
    forged = urllib.request.Request(url, headers={"Authorization": "Bearer not-a-real-token"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=20)
    with refused.value:
        assert refused.value.code == 401


# ----------------------------------------------------------------------------- A4 pages in a real browser

PDF_PAGE = re.compile(rb"/Type\s*/Page(?!s)")


@pytest.fixture
def printer(live_server, make_user, tmp_path, chromium):
    """Chromium with the clerk's bearer token on every request, the centre configured; ``print(path, name)``."""
    make_user("li", "clerk")
    with db.connection_context():
        with db.atomic():
            for key, value in (("centre.code", CENTRE), ("centre.name", CENTRE_NAME),
                               ("centre.phone", CENTRE_PHONE), ("centre.address", CENTRE_ADDRESS),
                               ("centre.hours", "工作日 9:00-12:00，14:00-17:30")):
                settings.put(key, value)
            User.update(display_name="李芳", phone=CLERK_PHONE).where(User.username == "li").execute()
        token = accounts.issue_token("li", actor="test").token
    context = chromium.new_context(extra_http_headers={"Authorization": f"Bearer {token}"}, locale="zh-CN",
                                   viewport={"width": 1000, "height": 1200})
    page = context.new_page()
    page.set_default_timeout(20000)

    def print_to_pdf(path, name):
        """Open ``path`` (no dialog), print it to an A4 PDF; give the PDF's page count."""
        page.goto(live_server + path + ("&" if "?" in path else "?") + "noprint=1")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=f"/tmp/notice-{name}.png", full_page=True)
        target = tmp_path / f"{name}.pdf"
        page.pdf(path=str(target), format="A4", print_background=True)
        return len(PDF_PAGE.findall(target.read_bytes()))

    try:
        yield SimpleNamespace(page=page, base=live_server, print=print_to_pdf)
    finally:
        context.close()


def five_matters_by_an_agent():
    """Story 1 with the father as agent, every paper but the 结婚证 handed in; (clerk li, case)."""
    clerk = User.get(User.username == "li")
    case = cases.register_case(**newborn(agent={"name": "张伟", "id_number": FATHER_ID, "phone": "13700137000",
                                                "relation": "配偶"}), actor=clerk)
    hand_in_all_but_marriage_certificate(case.case_no, clerk)
    for code in ("WTS", "DLRSFZJ"):  # the agent's papers: her authorisation and his ID card
        materials.log_material(case.case_no, code, "original_verified", actor=clerk)
    return clerk, case


def test_five_matter_acceptance_correction_and_one_time_notice_fit_one_a4_page(printer):
    with db.connection_context():
        clerk, case = five_matters_by_an_agent()
        with pytest.raises(Exception):
            workflow.accept_case(case.case_no, actor=clerk, today=BEFORE_HOLIDAY)
    assert printer.print(f"/cases/{case.case_no}/notices/correction", "correction") == 1
    with db.connection_context():
        materials.log_material(case.case_no, "JHZ", "original_verified", actor=clerk, copies=1)
        workflow.accept_case(case.case_no, actor=clerk, today=BEFORE_HOLIDAY)
        assert CaseItem.select().where(CaseItem.case == case.id).count() == 5
    assert printer.print(f"/cases/{case.case_no}/notices/acceptance", "acceptance") == 1
    page = printer.page
    assert page.locator("h1").inner_text() == "受理通知书" and page.locator(".qr svg").count() == 1
    fonts = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert fonts.endswith('"Noto Serif CJK SC", "Noto Sans CJK SC"')
    page.emulate_media(media="print")
    assert not page.locator(".toolbar").is_visible()  # hidden in print
    page.emulate_media(media="null")  # back to the default: page.pdf prints with print media
    assert printer.print("/guide/print?bundle=YJS-XSECS&Q1=是&Q2=是&Q3=是&Q4=已婚&Q5=母亲", "guide") == 1
    assert printer.print("/guide/print?bundle=YJS-TX&Q1=企业职工基本养老保险&Q2=是&Q3=是&Q4=是&large=1",
                         "guide-large") >= 1
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 19  # 15pt


def test_receipt_completion_rejection_and_commitment_each_fit_one_a4_page(printer):
    with db.connection_context():
        clerk, case = five_matters_by_an_agent()
        materials.log_material(case.case_no, "JHZ", "original_verified", actor=clerk, copies=1)
    assert printer.print(f"/cases/{case.case_no}/notices/receipt", "receipt") == 1
    with db.connection_context():
        workflow.accept_case(case.case_no, actor=clerk, today=BEFORE_HOLIDAY)
        for item in CaseItem.select().where(CaseItem.case == case.id):
            workflow.record_result(case.case_no, item.matter_code, "approved", actor=clerk,
                                   result_no=f"安澜{item.matter_code}-2026-000123", note="已核发", on_behalf=True)
        workflow.deliver_case(case.case_no, "mail", actor=clerk, tracking_no="SF1234567890")
    assert printer.print(f"/cases/{case.case_no}/notices/completion", "completion") == 1
    with db.connection_context():
        refused = cases.register_case(**newborn(), actor=clerk)
        workflow.reject_case(refused.case_no, "申请人户籍不在本县，且新生儿不在本县出生，依法不属于本中心受理范围",
                             refer_to="新生儿出生地县级公安机关户籍管理部门", actor=clerk)
        lease = cases.register_case(**restaurant(), actor=clerk)
    assert printer.print(f"/cases/{refused.case_no}/notices/rejection", "rejection") == 1
    assert printer.print(f"/cases/{lease.case_no}/notices/commitment/CSSYZM", "commitment") == 1


def test_the_page_opens_the_print_dialog_on_load_unless_noprint(printer):
    page = printer.page
    page.add_init_script("window.print = function () { window.__printed = (window.__printed || 0) + 1; };")
    page.goto(printer.base + "/guide/print?matters=GA-0102")
    page.wait_for_load_state("load")
    page.wait_for_function("window.__printed === 1")
    page.goto(printer.base + "/guide/print?matters=GA-0102&noprint=1")
    page.wait_for_load_state("load")
    assert page.evaluate("window.__printed") is None
    page.click("#large-button")  # 大字 without reloading: the page and the address change, no new print
    assert page.evaluate("document.body.classList.contains('large')") and "large=1" in page.url
    page.click("#print-button")
    assert page.evaluate("window.__printed") == 1
