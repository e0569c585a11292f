"""The window's pages through the Flask test client, CSRF on: 新办件, the case page and its forms, the lists.

Every change is made by posting the real forms; the assertions then read the
case back through the domain (``cases.get_case`` / ``case_json``), so the
pages are shown to call the same functions as the API.
"""
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from county_app import settings
from county_app.db import db
from county_app.intake import cases, materials, workflow
from county_app.intake.events import STALE_MESSAGE
from county_app.intake.records import Case, CaseEvent, Notice

from conftest import login
from test_cases_domain import CENTRE, FATHER_ID, MOTHER_ID, PHONE, STORY_1_ANSWERS, XSECS_FORM
from conftest import sample_pdf

XSECS_OFFERED = ["WJ-0101", "WJ-0102", "GA-0101", "RS-0101", "YB-0101", "WJ-0103"]
BORN = (date.today() - timedelta(days=20)).isoformat()


@pytest.fixture
def window(seeded_app, make_user):
    """Logged-in test clients: clerk, admin, the 公安 department, a county officer; centre code set."""
    people = {"clerk": ("li", "clerk", None), "admin": ("boss", "admin", None),
              "police": ("gaj", "department", "县公安局"), "county": ("xian", "county", None)}
    clients = {}
    for key, (username, role, department) in people.items():
        make_user(username, role, department=department)
        clients[key] = seeded_app.test_client()
        assert login(clients[key], username).status_code == 302
    with db.connection_context(), db.atomic():
        settings.put("centre.code", CENTRE)
    return SimpleNamespace(**clients)


def token(client, path="/cases"):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def intake_form(client, **changes):
    """The intake form of story 1 as the browser posts it: everything but 医保 (YB-0101) ticked."""
    data = {"csrf_token": token(client, "/intake/new?bundle=YJS-XSECS"), "bundle": "YJS-XSECS",
            **{f"q.{q}": a for q, a in STORY_1_ANSWERS.items()}, "offered": XSECS_OFFERED,
            "matters": ["WJ-0101", "WJ-0102", "GA-0101", "RS-0101", "WJ-0103"], "kind": "person",
            "p.name": "李娜", "p.id_number": MOTHER_ID, "p.phone": PHONE, "p.address": "安澜县城关镇幸福路 1 号",
            "action": "register", **{f"f.{code}": value for code, value in XSECS_FORM.items()}, "f.XSECSRQ": BORN}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def register(client, **changes):
    answer = client.post("/intake/new", data=intake_form(client, **changes))
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    return answer.headers["Location"].rsplit("/", 1)[1]


def post(client, case_no, path, **data):
    """Post a case-page form with the token and the version shown on the case page."""
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    data.setdefault("version", re.search(r'name="version" value="(\d+)"', page).group(1))
    data["csrf_token"] = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(f"/cases/{case_no}/{path}", data=data)


def case(case_no):
    with db.connection_context():
        return cases.case_json(cases.get_case(case_no, actor="test"))


def text(answer):
    return answer.get_data(as_text=True)


def supply_all_but_marriage_certificate(client, case_no):
    for code, data in (("JMSFZ", {"status": "original_verified"}), ("SQB", {"status": "original_verified"}),
                       ("CSYXZM", {"status": "exempt", "licence_no": "DZZZ-2026-0001"}),
                       ("HKB", {"status": "copy_received", "copies": "1"})):
        assert post(client, case_no, f"materials/{code}", **data).status_code == 302


def accepted(client):
    case_no = register(client)
    supply_all_but_marriage_certificate(client, case_no)
    post(client, case_no, "materials/JHZ", status="original_verified")
    assert post(client, case_no, "accept").status_code == 302
    assert case(case_no)["status"] == "accepted"
    return case_no


# ----------------------------------------------------------------------------- pages render


def test_every_page_renders_for_a_clerk(window):
    home = text(window.clerk.get("/"))
    assert 'href="/intake/new"' in home and 'data-shortcut="n"' in home and 'href="/cases"' in home
    picker = text(window.clerk.get("/intake/new?q=xse"))
    assert 'href="/intake/new?bundle=YJS-XSECS"' in picker
    page = text(window.clerk.get("/intake/new?bundle=YJS-XSECS"))
    assert "新生儿是否在本县助产机构出生" in page and "打印一次性告知单" in page
    assert 'href="/guide/print?bundle=YJS-XSECS' in page
    single = text(window.clerk.get("/intake/new?matters=WJ-0101"))
    assert "出生医学证明签发" in single and 'name="single" value="WJ-0101"' in single
    case_no = register(window.clerk)
    for path in ("/cases", "/cases?today=1", "/cases?status=registered", "/cases/overdue", f"/cases/{case_no}"):
        answer = window.clerk.get(path)
        assert answer.status_code == 200, path
    shown = text(window.clerk.get(f"/cases/{case_no}"))
    assert "待受理" in shown and case_no in shown and f"/cases/{case_no}/notices/receipt" in shown
    assert MOTHER_ID not in shown and "331128********" in shown


def test_the_questionnaire_is_progressive_and_keeps_what_was_typed(window):
    data = {"csrf_token": token(window.clerk, "/intake/new?bundle=YJS-JYRX"), "bundle": "YJS-JYRX",
            "q.Q1": "小学一年级", "q.Q2": "是", "kind": "person", "p.name": "赵敏", "p.phone": "13700137000",
            "action": "refresh"}
    page = text(window.clerk.post("/intake/new", data=data))
    assert "儿童户籍是否在本县" in page and "是否已持有本县居住证" not in page  # Q3 only when Q2=否
    assert 'value="赵敏"' in page and 'value="13700137000"' in page
    page = text(window.clerk.post("/intake/new", data={**data, "q.Q2": "否"}))
    assert "是否已持有本县居住证" in page


def test_matters_follow_the_answers_and_an_untick_is_kept(window):
    page = text(window.clerk.post("/intake/new", data=intake_form(window.clerk, action="refresh")))
    assert 'value="YB-0101" id="m-YB-0101" >' in page  # unticked stays unticked
    assert "参保人姓名" not in page  # its fields left with it
    # 社会保障卡 not offered before (Q2=否), newly applicable when Q2 becomes 是: ticked by default
    data = intake_form(window.clerk, action="refresh", offered=["WJ-0101", "WJ-0102", "GA-0101", "YB-0101", "WJ-0103"])
    page = text(window.clerk.post("/intake/new", data=data))
    assert 'value="RS-0101" id="m-RS-0101" checked' in page


def test_registering_through_the_page_calls_the_domain(window):
    agent = {"g.name": "王芳", "g.id_number": "331128199207150023", "g.phone": "", "g.relation": "女儿"}
    # 医保 unticked without a refresh (no JavaScript): its field, still on the page, is set aside
    case_no = register(window.clerk, **agent, **{"f.CBRXM": "张小宝"})
    shown = case(case_no)
    assert shown["status"] == "registered" and shown["bundle"]["code"] == "YJS-XSECS"
    assert [i["matter"] for i in shown["items"]] == ["WJ-0101", "WJ-0102", "GA-0101", "RS-0101", "WJ-0103"]
    assert shown["agent"]["name"] == "王芳" and shown["form"]["XSEXM"] == "张小宝"
    assert shown["form"]["SJH"] == PHONE  # prefilled from the applicant
    page = text(window.clerk.get(f"/cases/{case_no}"))
    assert "data-clear-intake-draft" in page  # the browser's draft of this intake is dropped
    assert "data-clear-intake-draft" not in text(window.clerk.get(f"/cases/{case_no}"))


def test_validation_errors_keep_every_typed_value(window):
    bad_id = MOTHER_ID[:-1] + ("0" if MOTHER_ID[-1] != "0" else "1")
    answer = window.clerk.post("/intake/new", data=intake_form(
        window.clerk, **{"p.id_number": bad_id, "f.XSEXM": "", "g.name": "", "g.phone": "123"}))
    # redirect-after-post: the refused form is a GET of its draft, so a reload never posts it again
    assert answer.status_code == 303 and "/intake/new?draft=" in answer.headers["Location"]
    page = text(window.clerk.get(answer.headers["Location"]))
    assert text(window.clerk.get(answer.headers["Location"])).count(f'value="{bad_id}"') == page.count(
        f'value="{bad_id}"')  # a reload: the same
    assert f'value="{bad_id}"' in page and 'value="李娜"' in page and 'value="安澜县城关镇幸福路 1 号"' in page
    assert 'value="张伟"' in page and f'value="{FATHER_ID}"' in page and f'value="{BORN}"' in page
    assert re.search(r'id="p-id_number-error">[^<]*校验位', page)
    assert re.search(r'id="f-XSEXM-error">新生儿姓名：此项必填', page)
    assert re.search(r'id="g-name-error">代办人姓名', page)
    assert 'href="#p-id_number"' in page and "已填写的内容都已保留" in page
    assert 'data-focus="p-id_number"' in page
    with db.connection_context():
        assert Case.select().count() == 0


def test_identity_check_for_the_card_reader(window):
    check = window.clerk.post("/intake/check", data={"kind": "id_number", "value": MOTHER_ID.lower()},
                              headers={"X-CSRFToken": token(window.clerk)}).get_json()
    assert check == {"ok": True, "value": MOTHER_ID, "sex": "女", "birth_date": "1990-03-07"}
    wrong = window.clerk.post("/intake/check", data={"kind": "phone", "value": "1380013800"},
                              headers={"X-CSRFToken": token(window.clerk)}).get_json()
    assert not wrong["ok"] and "11 位" in wrong["message"]
    assert window.clerk.post("/intake/check", data={"kind": "phone", "value": PHONE}).status_code == 400  # no CSRF


# ----------------------------------------------------------------------------- the case page's forms


def test_story_one_materials_correction_then_acceptance(window):
    case_no = register(window.clerk)
    supply_all_but_marriage_certificate(window.clerk, case_no)
    shown = case(case_no)
    states = {m["code"]: m["status"] for m in shown["materials"]}
    assert states["JMSFZ"] == "original_verified" and states["CSYXZM"] == "exempt" and states["JHZ"] == "missing"
    answer = post(window.clerk, case_no, "accept")
    assert answer.status_code == 302
    page = text(window.clerk.get(f"/cases/{case_no}"))
    assert case(case_no)["status"] == "correction"
    assert "待补正" in page and "结婚证" in page and f"/cases/{case_no}/notices/correction" in page
    assert "材料不齐，办件已转为待补正" in page
    # 受理 again without the certificate: no second notice, the reason said
    post(window.clerk, case_no, "accept")
    assert "系统管理员" in text(window.clerk.get(f"/cases/{case_no}"))
    with db.connection_context():
        assert Notice.select().where(Notice.kind == "correction").count() == 1
    # 结婚证 is asked as 原件和复印件: the 原件核验 form also records the copies kept (the catalogue's 1 by default)
    form = re.search(r'<form[^>]*materials/JHZ[^>]*>(?:(?!</form>).)*value="original_verified"(?:(?!</form>).)*</form>',
                     page, re.S).group(0)
    assert re.search(r'name="copies"[^>]*value="1"', form)
    post(window.clerk, case_no, "materials/JHZ", status="original_verified", copies="2")
    assert {m["code"]: m["copies_received"] for m in case(case_no)["materials"]}["JHZ"] == 2
    assert post(window.clerk, case_no, "accept").status_code == 302
    page = text(window.clerk.get(f"/cases/{case_no}"))
    assert case(case_no)["status"] == "accepted" and "已受理" in page
    assert "原件核验，留存复印件2份" in text(window.clerk.get(f"/cases/{case_no}/notices/receipt"))
    assert f"/cases/{case_no}/notices/acceptance" in page


def test_a_material_the_catalogue_does_not_allow_shows_the_error_in_its_row(window):
    case_no = register(window.clerk)
    page = text(window.clerk.get(f"/cases/{case_no}"))
    assert "materials/CSYXZM" in page and 'name="licence_no"' in page
    assert page.count('name="licence_no"') == 1  # 免提交 only where the catalogue allows it
    answer = post(window.clerk, case_no, "materials/CSYXZM", status="exempt", licence_no="")
    assert answer.status_code == 422
    assert re.search(r'id="m-CSYXZM-error">免提交「出生医学证明」须填写', text(answer))
    answer = post(window.clerk, case_no, "materials/JHZ", status="exempt", licence_no="X1")
    assert answer.status_code == 422 and "目录未规定" in text(answer)


def test_a_stale_version_keeps_the_typed_value_and_says_so(window):
    case_no = register(window.clerk)
    page = text(window.clerk.get(f"/cases/{case_no}"))
    old = re.search(r'name="version" value="(\d+)"', page).group(1)
    with db.connection_context():  # a second clerk logs a paper meanwhile
        materials.log_material(case_no, "JMSFZ", "original_verified", actor="another")
    answer = post(window.clerk, case_no, "materials/CSYXZM", status="exempt", licence_no="DZZZ-9", version=old)
    assert answer.status_code == 409
    page = text(answer)
    assert STALE_MESSAGE in page and "页面已更新为最新内容" in page
    assert 'value="DZZZ-9"' in page  # what was typed is still in the field
    assert f'name="version" value="{int(old) + 1}"' in page  # a second press now goes through
    assert case(case_no)["materials"][2]["status"] == "missing"


def test_scan_upload_and_the_scanner_folder(window, tmp_path):
    case_no = register(window.clerk)
    page = text(window.clerk.get(f"/cases/{case_no}"))
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1), "status": "scanned",
            "version": re.search(r'name="version" value="(\d+)"', page).group(1)}
    from io import BytesIO
    answer = window.clerk.post(f"/cases/{case_no}/materials/SQB", content_type="multipart/form-data",
                               data={**data, "scan": (BytesIO(b"not a scan"), "x.pdf")})
    assert answer.status_code == 422 and "不是 PDF" in text(answer)
    answer = window.clerk.post(f"/cases/{case_no}/materials/SQB", content_type="multipart/form-data",
                               data={**data, "scan": (BytesIO(sample_pdf(3)), "申请表.pdf")})
    assert answer.status_code == 302 and case(case_no)["materials"][1]["pages"] == 3
    answer = post(window.clerk, case_no, "materials/JMSFZ", status="scanned", source="folder")
    assert answer.status_code == 409 and "scan.folder" in text(answer)  # not configured: what to do
    (tmp_path / "scan.pdf").write_bytes(sample_pdf(1))
    with db.connection_context(), db.atomic():
        settings.put("scan.folder", str(tmp_path))
    assert post(window.clerk, case_no, "materials/JMSFZ", status="scanned", source="folder").status_code == 302
    assert case(case_no)["materials"][0]["status"] == "scanned"


def test_reject_needs_a_reason_and_a_confirmation(window):
    case_no = register(window.clerk)
    answer = post(window.clerk, case_no, "reject", reason="")
    assert answer.status_code == 422 and "请填写理由" in text(answer)
    answer = post(window.clerk, case_no, "reject", reason="不属于本中心受理范围")
    assert answer.status_code == 200 and "确认不予受理" in text(answer)
    assert case(case_no)["status"] == "registered"  # nothing yet
    assert post(window.clerk, case_no, "reject", reason="不属于本中心受理范围", confirm="1").status_code == 302
    shown = case(case_no)
    assert shown["status"] == "rejected" and shown["rejected_reason"] == "不属于本中心受理范围"
    assert f"/cases/{case_no}/notices/rejection" in text(window.clerk.get(f"/cases/{case_no}"))


def test_reject_form_takes_the_authority_to_apply_to(window):
    case_no = register(window.clerk)
    page = text(window.clerk.get(f"/cases/{case_no}"))
    assert '<label for="reject-refer-to">应向何机关申请（不属于本机关职权时填写）</label>' in page
    answer = post(window.clerk, case_no, "reject", reason="不属于本中心受理范围", refer_to="县" * 101)
    page = text(answer)
    assert answer.status_code == 422 and "「应向何机关申请」不能超过 100 个字" in page
    assert re.search(r'id="reject-refer-to"[^>]*aria-invalid="true"[^>]*autofocus', page, re.S)
    assert case(case_no)["status"] == "registered"
    answer = post(window.clerk, case_no, "reject", reason="不属于本中心受理范围", refer_to=" 安澜县民政局 ")
    assert answer.status_code == 200 and "告知申请人向安澜县民政局申请" in text(answer)
    assert '<input type="hidden" name="refer_to" value=" 安澜县民政局 ">' in text(answer)
    assert post(window.clerk, case_no, "reject", reason="不属于本中心受理范围", refer_to=" 安澜县民政局 ",
                confirm="1").status_code == 302
    shown = case(case_no)
    assert shown["status"] == "rejected" and shown["events"][-1]["detail"]["refer_to"] == "安澜县民政局"
    page = text(window.clerk.get(f"/cases/{case_no}"))
    assert "<dt>应向何机关申请</dt><dd>安澜县民政局</dd>" in page and "；应向安澜县民政局申请" in page


def test_second_correction_is_for_administrators(window):
    case_no = register(window.clerk)
    post(window.clerk, case_no, "accept")
    assert "再次出具" not in text(window.clerk.get(f"/cases/{case_no}"))
    assert post(window.clerk, case_no, "accept", override_reason="申请人遗失告知书").status_code == 403
    assert "再次出具一次性补正告知书" in text(window.admin.get(f"/cases/{case_no}"))
    assert post(window.admin, case_no, "accept", override_reason="").status_code == 422
    assert post(window.admin, case_no, "accept", override_reason="申请人遗失告知书").status_code == 302
    with db.connection_context():
        assert Notice.select().where(Notice.kind == "correction").count() == 2


def test_results_delivery_rating_and_rectification(window):
    case_no = accepted(window.clerk)
    for matter in ("WJ-0101", "WJ-0102", "GA-0101", "RS-0101", "WJ-0103"):
        assert post(window.clerk, case_no, f"items/{matter}/result", outcome="approved",
                    result_no=f"R-{matter}", on_behalf="1").status_code == 302
    assert case(case_no)["status"] == "concluded"
    answer = post(window.clerk, case_no, "deliver", method="mail", tracking_no="")
    assert answer.status_code == 422 and "快递单号" in text(answer)
    assert 'value="mail" checked' in text(answer)  # the choice is kept
    assert post(window.clerk, case_no, "deliver", method="window").status_code == 302
    page = text(window.clerk.get(f"/cases/{case_no}"))
    assert "已出件" in page and "非常满意" in page and 'data-rating' in page
    answer = post(window.clerk, case_no, "evaluation", comment="等了一个小时")
    assert answer.status_code == 422 and "等了一个小时" in text(answer)
    # a 差评 is confirmed on its own: the first post shows the confirmation and records nothing
    answer = post(window.clerk, case_no, "evaluation", rating="2", comment="等了一个小时")
    assert answer.status_code == 200 and "确认提交「不满意」" in text(answer) and "等了一个小时" in text(answer)
    assert case(case_no)["evaluation"] is None
    assert post(window.clerk, case_no, "evaluation", rating="2", comment="等了一个小时", confirm="1").status_code == 200
    assert post(window.clerk, case_no, "evaluation", rating="2", comment="等了一个小时", confirm="2").status_code == 302
    tasks = text(window.admin.get("/cases/rectifications"))
    assert case_no in tasks and "等了一个小时" in tasks
    task_id = re.search(r'/cases/rectifications/(\d+)/close', tasks).group(1)
    close = f"/cases/rectifications/{task_id}/close"
    answer = window.admin.post(close, data={"csrf_token": token(window.admin), "resolution": "  "})
    assert answer.status_code == 422 and "请填写整改结果" in text(answer)
    answer = window.admin.post(close, data={"csrf_token": token(window.admin), "resolution": "已回访致歉"})
    assert answer.status_code == 200 and f"整改任务 {task_id} 已办结" in text(answer)


def test_suspend_and_resume_an_item(window):
    case_no = accepted(window.clerk)
    answer = post(window.clerk, case_no, "items/RS-0101/suspend", reason="不是理由")
    assert answer.status_code == 422 and "行政许可法 第45条" in text(answer)
    answer = post(window.clerk, case_no, "items/RS-0101/suspend", reason="检验")
    assert answer.status_code == 422 and "依县人力资源和社会保障局书面决定代录" in text(answer)  # 窗口代录 is ticked, never assumed
    assert post(window.clerk, case_no, "items/RS-0101/suspend", reason="检验", on_behalf="1").status_code == 302
    assert case(case_no)["items"][3]["status"] == "suspended"
    assert "恢复计时" in text(window.clerk.get(f"/cases/{case_no}"))
    assert post(window.clerk, case_no, "items/RS-0101/resume", on_behalf="1").status_code == 302
    page = text(window.clerk.get(f"/cases/{case_no}"))
    assert page.count("（窗口代录，依县人力资源和社会保障局书面决定）") == 2  # both entries in the history name the department
    assert case(case_no)["items"][3]["status"] == "pending"


def test_reveal_is_logged_and_lists_stay_masked(window):
    case_no = register(window.clerk)
    found = re.search(r'<table class="case-list"[^>]*>.*?</table>', text(window.clerk.get(f"/cases?q={PHONE}")), re.S)[0]
    assert case_no in found and "138****8000" in found and PHONE not in found and MOTHER_ID not in found
    page = text(window.clerk.post(f"/cases/{case_no}/reveal-id", data={"csrf_token": token(window.clerk)}))
    assert MOTHER_ID in page
    with db.connection_context():
        assert CaseEvent.select().where(CaseEvent.action == "view_id").count() == 1


def test_overdue_board_names_the_department(window):
    case_no = register(window.clerk)
    supply_all_but_marriage_certificate(window.clerk, case_no)
    with db.connection_context():
        materials.log_material(case_no, "JHZ", "original_verified", actor="li")
        workflow.accept_case(case_no, actor="li", today=date.today() - timedelta(days=30))
    board = text(window.clerk.get("/cases/overdue"))
    assert case_no in board and "县公安局" in board and "逾期" in board
    assert "逾期" in text(window.clerk.get(f"/cases/{case_no}"))


# ----------------------------------------------------------------------------- who may do what


def test_a_department_user_sees_no_clerk_actions(window):
    case_no = accepted(window.clerk)
    page = text(window.police.get(f"/cases/{case_no}"))
    assert "已受理" in page and "materials/JMSFZ" not in page and "不予受理的理由" not in page
    assert "items/GA-0101/result" in page and "items/WJ-0101/result" not in page  # its own department only
    assert post(window.police, case_no, "materials/JHZ", status="original_verified").status_code == 403
    assert post(window.police, case_no, "accept").status_code == 403
    assert post(window.police, case_no, "items/WJ-0101/result", outcome="approved").status_code == 403
    assert post(window.police, case_no, "items/GA-0101/result", outcome="approved").status_code == 302
    assert case(case_no)["items"][2]["status"] == "approved"


def test_a_decision_is_chosen_never_taken_by_one_click(window):
    """The result form had 准予 ticked: one stray click approved (browser walk of issue 7)."""
    case_no = accepted(window.clerk)
    page = text(window.police.get(f"/cases/{case_no}"))
    form = page.split("items/GA-0101/result", 1)[1].split("</form>", 1)[0]
    assert 'value="approved" required' in form and "checked" not in form
    answer = post(window.police, case_no, "items/GA-0101/result", result_no="", note="")
    assert answer.status_code == 422 and "请选择办理结果：准予或不予" in text(answer)
    assert case(case_no)["items"][2]["status"] == "pending"


def test_pages_refuse_roles_without_permission(window):
    assert window.police.get("/intake/new").status_code == 403
    assert window.clerk.get("/cases/rectifications").status_code == 403
    assert window.county.get("/cases").status_code == 403
    assert window.admin.get("/intake/new").status_code == 403
    assert 'data-shortcut="n"' not in text(window.police.get("/"))


def test_an_action_path_opened_after_a_login_goes_back_to_the_case(window):
    case_no = register(window.clerk)
    answer = window.clerk.get(f"/cases/{case_no}/materials/JMSFZ")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/cases/{case_no}")
    assert window.clerk.get("/cases/NO-SUCH-CASE").status_code == 404


def test_bundle_and_matter_pages_start_an_intake(seeded_app, make_user):
    from conftest import login as log_in

    client = seeded_app.test_client()
    make_user("starter", "clerk")
    log_in(client, "starter")
    page = client.get("/bundles/YJS-XSECS").get_data(as_text=True)
    assert "/intake/new?bundle=YJS-XSECS" in page and "开始受理" in page
    assert "/intake/new?matters=WJ-0101" in client.get("/matters/WJ-0101").get_data(as_text=True)


def test_answers_changed_with_the_registration_itself_add_no_matter_unseen(window):
    """Without JavaScript: Q2 changed to 是 and 登记 pressed at once — 社会保障卡申领 appears first."""
    clerk = window.clerk
    shown = ["WJ-0101", "WJ-0102", "GA-0101", "YB-0101", "WJ-0103"]  # the page as it was, Q2=否
    answer = clerk.post("/intake/new", data=intake_form(clerk, offered=shown, matters=shown))
    assert answer.status_code == 303
    page = clerk.get(answer.headers["Location"]).get_data(as_text=True)
    assert "办理事项随回答有变化" in page and "新增 社会保障卡申领" in page
    assert 'value="RS-0101"' in page  # now on the list, for the clerk to see and keep or untick


def test_one_intake_form_is_one_case_however_often_it_is_sent(window):
    """登记 pressed twice, or again after Back: the form's request_key gives the same case."""
    form = intake_form(window.clerk, request_key="intake-form-0001")
    first = window.clerk.post("/intake/new", data=form)
    again = window.clerk.post("/intake/new", data={**form, "csrf_token": token(window.clerk)})
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    with db.connection_context():
        assert Case.select().count() == 1


def test_an_ended_login_says_so_on_the_login_page(window, seeded_app):
    """A page asked for with a login that has ended (12 hours, or ended elsewhere) leads to a login
    form that says why; a first visit without any login does not."""
    from county_app import sessions
    from county_app.models import User

    assert "登录已过期" not in text(seeded_app.test_client().get("/login?next=/cases"))
    with db.connection_context():
        sessions.end_all(User.get(User.username == "li"))
    answer = window.clerk.get("/cases")
    assert answer.status_code == 302 and "expired=1" in answer.headers["Location"]
    page = text(window.clerk.get(answer.headers["Location"]))
    assert "登录已过期" in page and 'name="next" value="/cases"' in page
