"""The case lifecycle as domain functions (no HTTP): registration, materials, acceptance or
correction, time limits, suspension, results, delivery, ratings, concurrency and masking.

Runs on the seed catalogue; the centre code is set by the ``window`` fixture.
"""
import json
import threading
from contextlib import contextmanager
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from county_app import notices, settings
from county_app.catalogue import store
from county_app.db import db
from county_app.intake import cases, events, lists, materials, numbers, workflow
from county_app.intake.errors import Conflict, Forbidden, Invalid, NotFound
from county_app.intake.records import Case, CaseEvent, CaseItem, CaseMaterial, Notice, Rectification
from county_app.models import AuditLog, CatalogueVersion

from conftest import ON_BOTH
from plans import query_plan
from workbooks import Book

pytestmark = ON_BOTH  # a hub on PostgreSQL runs the same workflow

CENTRE = "331128101000"
MOTHER_ID = "331128199003071243"
FATHER_ID = "331128198805123610"
PHONE = "13800138000"
XSECS_MATTERS = ["WJ-0101", "WJ-0102", "GA-0101", "RS-0101", "WJ-0103"]  # all but 医保参保 (YB-0101)
XSECS_FORM = {
    "XSEXM": "张小宝", "XSEXB": "男", "XSECSRQ": "2026-09-20", "XSECSDD": "安澜县人民医院",
    "FQXM": "张伟", "FQSFZH": FATHER_ID, "MQXM": "李娜", "MQSFZH": MOTHER_ID, "LHFS": "随父落户",
    "CKRXM": "张小宝", "LKFS": "窗口领取",
}
# Accepted on the last working day before the 2026 National Day holiday (10-01 … 10-07 off, 10-10 worked).
BEFORE_HOLIDAY = date(2026, 9, 30)


# Story 1's answers: born here, a social-security card, parents registered here and married, the mother applies.
STORY_1_ANSWERS = {"Q1": "是", "Q2": "是", "Q3": "是", "Q4": "已婚", "Q5": "母亲"}


def newborn(**changes):
    """The registration of story 1 (Ms Li, 新生儿出生一件事), with ``changes``."""
    request = dict(bundle="YJS-XSECS", answers=dict(STORY_1_ANSWERS),
                   matters=list(XSECS_MATTERS),
                   applicant={"kind": "person", "name": "李娜", "id_number": MOTHER_ID, "phone": PHONE,
                              "address": "安澜县城关镇幸福路 1 号"},
                   form=dict(XSECS_FORM))
    request.update(changes)
    return request


def register(actor, **changes):
    return cases.register_case(**newborn(**changes), actor=actor)


def supply_all_but_marriage_certificate(case_no, clerk):
    materials.log_material(case_no, "JMSFZ", "original_verified", actor=clerk)
    materials.log_material(case_no, "HKB", "copy_received", actor=clerk, copies=1)
    materials.log_material(case_no, "CSYXZM", "exempt", actor=clerk, licence_no="DZZZ-2026-0001")
    materials.log_material(case_no, "SQB", "original_verified", actor=clerk)


@contextmanager
def centre_window(make_user):
    """The centre code set, a clerk, an admin and two department users; the connection open."""
    people = SimpleNamespace(
        clerk=make_user("li", "clerk"), admin=make_user("boss", "admin"),
        police=make_user("gaj", "department", department="县公安局"),
        health=make_user("wjj", "department", department="县卫生健康局"))
    db.connect(reuse_if_open=True)
    with db.atomic():
        settings.put("centre.code", CENTRE)
    try:
        yield people
    finally:
        if not db.is_closed():
            db.close()


@pytest.fixture
def window(seeded_app, make_user):
    """The seed catalogue and ``centre_window``."""
    with centre_window(make_user) as people:
        yield people


# ----------------------------------------------------------------------------- registration


def test_a_catalogue_published_during_registration_is_a_stale_conflict(window, tmp_path, monkeypatch):
    """The checks run before the write transaction; a new catalogue in between refuses the case."""
    checked = cases._guide

    def guide_then_publish(*args, **kwargs):
        guide = checked(*args, **kwargs)
        newer = Book().set("目录信息", 4, "内容", "2026-12-01")  # dated after the seed catalogue
        store.import_workbook(newer.save(tmp_path / "new.xlsx"), actor="officer")
        return guide

    monkeypatch.setattr(cases, "_guide", guide_then_publish)
    before = Case.select().count()
    with pytest.raises(Conflict) as refused:
        register(window.clerk)
    assert refused.value.code == "stale" and "目录刚刚更新" in refused.value.message
    assert Case.select().count() == before
    assert CatalogueVersion.in_force().version == "2026.11-02"


def test_registration_pins_items_checklist_and_first_event(window):
    case = register(window.clerk)
    assert case.status == "registered" and case.version == 1
    assert case.case_no.startswith(CENTRE + date.today().strftime("%Y%m%d"))
    assert len(case.case_no) == numbers.CASE_NO_LENGTH
    items = list(CaseItem.select().where(CaseItem.case == case).order_by(CaseItem.position))
    assert [i.matter_code for i in items] == XSECS_MATTERS
    assert all(i.status == "pending" and i.matter.catalogue_id == case.catalogue_id for i in items)
    checklist = {m.code: m for m in CaseMaterial.select().where(CaseMaterial.case == case)}
    assert set(checklist) == {"JMSFZ", "SQB", "CSYXZM", "CYJL", "HKB", "JHZ", "SBKZP"}
    assert checklist["JHZ"].necessity == "required" and checklist["CYJL"].necessity == "optional"
    assert checklist["CSYXZM"].waiver == "e_licence" and all(m.status == "missing" for m in checklist.values())
    form = json.loads(case.form)
    assert form["SFZH"] == MOTHER_ID and form["SJH"] == PHONE  # prefilled from the applicant
    (event,) = CaseEvent.select().where(CaseEvent.case == case)
    assert (event.action, event.from_status, event.to_status, event.actor) == ("register", "", "registered", "li")


def test_numbers_are_sequential_per_day_and_sortable(window):
    first = register(window.clerk).case_no
    second = register(window.clerk).case_no
    assert second > first and int(second[-numbers.SEQUENCE_DIGITS:]) == int(first[-numbers.SEQUENCE_DIGITS:]) + 1
    tomorrow = date.today() + timedelta(days=1)  # another day than the two cases' (a fixed date would be today once)
    with db.atomic():
        other_day = numbers.allocate(tomorrow)
    assert other_day == CENTRE + f"{tomorrow:%Y%m%d}" + "1".zfill(numbers.SEQUENCE_DIGITS)


def test_registration_without_centre_code_is_refused_with_the_command_to_run(window):
    with db.atomic():
        settings.put("centre.code", "")
    with pytest.raises(Conflict) as caught:
        register(window.clerk)
    assert "county-app config set centre.code" in caught.value.message
    assert Case.select().count() == 0


def test_registration_reports_every_problem_at_once(window):
    form = dict(XSECS_FORM, XSECSRQ="2026-02-30", MQSFZH="331128199003071244")
    del form["XSEXM"]
    request = newborn(applicant={"kind": "person", "name": "", "id_number": "331128199003071244",
                                 "phone": "1380013800"}, form=form)
    with pytest.raises(Invalid) as caught:
        cases.register_case(**request, actor=window.clerk)
    fields = {d["field"] for d in caught.value.details}
    assert {"applicant.name", "applicant.id_number", "applicant.phone", "form.XSECSRQ", "form.MQSFZH",
            "form.XSEXM"} <= fields
    assert Case.select().count() == 0


def test_a_company_needs_a_valid_credit_code(window):
    request = dict(bundle="YJS-KBCY", answers={"Q1": "已取得营业执照", "Q2": "否", "Q3": "否", "Q4": "否"},
                   applicant={"kind": "company", "name": "安澜面馆", "credit_code": "91350100M000100Y44",
                              "phone": PHONE}, form={})
    with pytest.raises(Invalid) as caught:
        cases.register_case(**request, actor=window.clerk)
    assert "applicant.credit_code" in {d["field"] for d in caught.value.details}


@pytest.mark.parametrize("changes,field", [
    (dict(matters=["WJ-0101", "WJ-0102", "GA-0101", "RS-0101", "WJ-0103", "GA-0102"]), "matters"),  # not a member
    (dict(answers={**STORY_1_ANSWERS, "Q2": "否"}), "matters"),  # RS-0101 needs Q2=是
    (dict(answers={"Q1": "是"}, matters=None), "answers.Q2"),  # questions left unanswered
    (dict(answers={"Q1": "也许"}), "answers.Q1"),
    (dict(bundle="NO-SUCH"), "bundle"),
    (dict(bundle=None, matters=["SJ-0901"]), "matters"),  # 停用 matter
])
def test_matters_the_rules_do_not_allow_are_invalid(window, changes, field):
    with pytest.raises(Invalid) as caught:
        register(window.clerk, **changes)
    assert field in {d["field"] for d in caught.value.details}


def test_without_matters_every_applicable_member_is_taken(window):
    case = register(window.clerk, matters=None, form=dict(XSECS_FORM, CBRXM="张小宝"))
    codes = [i.matter_code for i in CaseItem.select().where(CaseItem.case == case).order_by(CaseItem.position)]
    assert codes == ["WJ-0101", "WJ-0102", "GA-0101", "RS-0101", "YB-0101", "WJ-0103"]


def test_an_agent_is_recorded_and_masked(window):
    case = register(window.clerk, agent={"name": "王芳", "id_number": "331128199207150023", "relation": "女儿"})
    shown = cases.case_json(case)
    assert shown["agent"]["name"] == "王芳" and shown["agent"]["id_number"] == "331128********0023"


# ----------------------------------------------------------------------------- masking


def test_id_numbers_are_masked_everywhere_but_the_logged_reveal(window):
    case = register(window.clerk)
    shown = cases.case_json(case)
    assert shown["applicant"]["id_number"] == "331128********1243"
    assert shown["form"]["SFZH"] == "331128********1243" and shown["form"]["FQSFZH"] == "331128********3610"
    assert MOTHER_ID not in json.dumps(shown) and FATHER_ID not in json.dumps(shown)
    for q in (MOTHER_ID, PHONE, "李", case.case_no):
        found = cases.find_cases(q, actor=window.clerk)["items"]
        assert [row["case_no"] for row in found] == [case.case_no], q
        assert MOTHER_ID not in json.dumps(found) and PHONE not in json.dumps(found)
    version = case.version
    assert cases.reveal_id_number(case.case_no, window.clerk) == MOTHER_ID
    viewed = CaseEvent.select().where(CaseEvent.case == case).order_by(CaseEvent.id.desc()).first()
    assert viewed.action == "view_id" and viewed.actor == "li"
    assert cases.get_case(case.case_no, actor="test").version == version  # looking makes nobody's next write stale


def test_search_by_id_number_and_phone_uses_an_index(window):
    case = register(window.clerk)
    for q, indexes in ((MOTHER_ID, ["id_number", "credit_code"]), (PHONE, ["phone"]), ("138-0013-8000", ["phone"]),
                       (case.case_no, ["case_no"])):
        sql, params = lists.search_query(q).limit(21).sql()
        plan = query_plan(sql, params)
        assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), plan
        for index in indexes:
            assert f"case_record_{index}" in plan, plan


# ----------------------------------------------------------------------------- story 1: correction, then acceptance


def test_story_one_correction_once_then_acceptance(window):
    case = register(window.clerk)
    supply_all_but_marriage_certificate(case.case_no, window.clerk)
    with pytest.raises(Conflict) as caught:
        workflow.accept_case(case.case_no, actor=window.clerk, today=BEFORE_HOLIDAY)
    assert caught.value.code == "materials_missing"
    assert caught.value.details == [{"material": "JHZ", "name": "结婚证"}]
    case = cases.get_case(case.case_no, actor="test")
    assert case.status == "correction"  # committed although the call answered 409
    (notice,) = Notice.select().where(Notice.case == case, Notice.kind == "correction")
    assert [m["code"] for m in json.loads(notice.content)["materials"]] == ["JHZ"]
    assert notice.deadline == date(2026, 10, 13)  # five working days, National Day skipped
    # pressing 受理 again changes nothing and issues no second notice
    with pytest.raises(Conflict) as again:
        workflow.accept_case(case.case_no, actor=window.clerk, today=BEFORE_HOLIDAY)
    assert again.value.code == "materials_missing" and "系统管理员" in again.value.message
    assert Notice.select().where(Notice.kind == "correction").count() == 1
    # she comes back: nothing handed in before is asked again
    found = cases.find_cases(PHONE, actor=window.clerk)["items"]
    assert found[0]["status"] == "correction"
    materials.log_material(case.case_no, "JHZ", "original_verified", actor=window.clerk)
    accepted = workflow.accept_case(case.case_no, actor=window.clerk, today=BEFORE_HOLIDAY)
    assert accepted["status"] == "accepted" and accepted["accepted_on"] == "2026-09-30"
    assert [n["kind"] for n in accepted["notices"]] == ["receipt", "correction", "acceptance"]
    assert [e["action"] for e in accepted["events"]] == [
        "register", "material", "material", "material", "material", "correction", "material", "accept"]


def test_a_second_correction_needs_an_admin_reason_and_is_audited(window):
    case = register(window.clerk)
    for _ in range(2):
        with pytest.raises(Conflict):
            workflow.accept_case(case.case_no, actor=window.clerk)
    with pytest.raises(Forbidden):
        workflow.accept_case(case.case_no, actor=window.clerk, override_reason="材料要求有变化")
    with pytest.raises(Conflict) as caught:
        workflow.accept_case(case.case_no, actor=window.admin, override_reason="申请人补交的结婚证已过期")
    assert caught.value.code == "materials_missing"
    notices = list(Notice.select().where(Notice.kind == "correction").order_by(Notice.id))
    assert len(notices) == 2 and json.loads(notices[1].content)["override_reason"] == "申请人补交的结婚证已过期"
    assert AuditLog.get(AuditLog.action == "case.correction_override").actor == "boss"
    assert cases.get_case(case.case_no, actor="test").correction_count == 2


def test_deferrable_material_is_deferred_on_acceptance(window):
    request = dict(matters=["JT-0101"], applicant={"kind": "company", "name": "安澜货运有限公司",
                                                   "credit_code": "91350100M000100Y43", "phone": PHONE},
                   form={"QYMC": "安澜货运有限公司", "TYSHXYDM": "91350100M000100Y43", "JBRXM": "赵六",
                         "YSLB": "普通货运", "CLSL": 3, "FDDBR": "赵五"})
    case = cases.register_case(**request, actor=window.clerk)
    for entry in CaseMaterial.select().where(CaseMaterial.case == case, CaseMaterial.necessity == "required"):
        materials.log_material(case.case_no, entry.code, "original_verified", actor=window.clerk)
    accepted = workflow.accept_case(case.case_no, actor=window.clerk, today=BEFORE_HOLIDAY)
    deferred = next(m for m in accepted["materials"] if m["code"] == "AQZD")
    assert deferred["status"] == "deferred" and deferred["deferred_until"] == "2026-10-13"
    # brought later, after acceptance
    materials.log_material(case.case_no, "AQZD", "original_verified", actor=window.clerk)
    with pytest.raises(Conflict):
        materials.log_material(case.case_no, "JMSFZ", "missing", actor=window.clerk)


# ----------------------------------------------------------------------------- materials


@pytest.mark.parametrize("code,status,extra,field", [
    ("JMSFZ", "exempt", {"licence_no": "X1"}, "status"),  # no 免提交方式 for the ID card
    ("CSYXZM", "exempt", {}, "licence_no"),  # allowed, but the licence number is missing
    ("JHZ", "commitment", {}, "status"),  # 告知承诺 not allowed
    ("JHZ", "deferred", {}, "status"),  # not a 容缺 material
    ("JMSFZ", "copy_received", {}, "status"),  # an original is required
    ("HKB", "copy_received", {"copies": 0}, "copies"),
    ("HKB", "teleported", {}, "status"),
])
def test_statuses_the_catalogue_does_not_allow_are_invalid(window, code, status, extra, field):
    case = register(window.clerk)
    with pytest.raises(Invalid) as caught:
        materials.log_material(case.case_no, code, status, actor=window.clerk, **extra)
    assert field in {d["field"] for d in caught.value.details}


def test_material_records_who_when_and_trust_level(window):
    case = register(window.clerk)
    answer = materials.log_material(case.case_no, "CSYXZM", "exempt", actor=window.clerk, licence_no="DZ-1")
    assert answer["trust_level"] == "A" and answer["logged_by"] == "li" and answer["logged_at"]
    assert answer["case_version"] == 2
    levels = {}
    for code, status, extra in (("JMSFZ", "original_verified", {}), ("HKB", "copy_received", {"copies": 2})):
        levels[code] = materials.log_material(case.case_no, code, status, actor=window.clerk, **extra)["trust_level"]
    assert levels == {"JMSFZ": "B", "HKB": "C"}
    with pytest.raises(NotFound):
        materials.log_material(case.case_no, "NOPE", "original_verified", actor=window.clerk)


def test_commitment_where_the_catalogue_allows_it(window):
    request = dict(matters=["GA-0102"], applicant={"kind": "person", "name": "李娜", "id_number": MOTHER_ID,
                                                   "phone": PHONE, "address": "安澜县城关镇"}, form={})
    case = cases.register_case(**request, actor=window.clerk)
    answer = materials.log_material(case.case_no, "CSSYZM", "commitment", actor=window.clerk)
    assert answer["status"] == "commitment" and answer["trust_level"] == "D"


# ----------------------------------------------------------------------------- states


def accepted_case(window, today=BEFORE_HOLIDAY):
    case = register(window.clerk)
    supply_all_but_marriage_certificate(case.case_no, window.clerk)
    materials.log_material(case.case_no, "JHZ", "original_verified", actor=window.clerk)
    workflow.accept_case(case.case_no, actor=window.clerk, today=today)
    return case.case_no


def test_reject_and_wrong_state_conflicts(window):
    case = register(window.clerk)
    with pytest.raises(Invalid):
        workflow.reject_case(case.case_no, "  ", actor=window.clerk)
    rejected = workflow.reject_case(case.case_no, "不属于本机关职权范围", actor=window.clerk)
    assert rejected["status"] == "rejected" and rejected["notices"][-1]["kind"] == "rejection"
    for attempt in (lambda: workflow.accept_case(case.case_no, actor=window.clerk),
                    lambda: workflow.reject_case(case.case_no, "再次", actor=window.clerk),
                    lambda: workflow.record_result(case.case_no, "WJ-0101", "approved", actor=window.clerk, on_behalf=True),
                    lambda: workflow.deliver_case(case.case_no, "window", actor=window.clerk),
                    lambda: materials.log_material(case.case_no, "JHZ", "original_verified", actor=window.clerk)):
        with pytest.raises(Conflict) as caught:
            attempt()
        assert caught.value.code == "wrong_state" and "不予受理" in caught.value.message


def test_result_before_acceptance_is_a_conflict(window):
    case = register(window.clerk)
    with pytest.raises(Conflict) as caught:
        workflow.record_result(case.case_no, "WJ-0101", "approved", actor=window.clerk, on_behalf=True)
    assert caught.value.code == "wrong_state"


def test_transition_table_refuses_skips(window):
    case = register(window.clerk)
    with db.atomic(), pytest.raises(Conflict) as caught:
        events.transition(case, "deliver", "delivered", window.clerk)
    assert caught.value.code == "wrong_state"
    with pytest.raises(RuntimeError):  # never outside a transaction
        events.transition(case, "material", "registered", window.clerk)


# ----------------------------------------------------------------------------- time limits


def test_due_dates_skip_the_national_day_holiday(window):
    shown = cases.case_json(cases.get_case(accepted_case(window), actor="test"))
    dues = {item["matter"]: item["due_date"] for item in shown["items"]}
    assert dues["WJ-0101"] == "2026-09-30"  # 即办件: the same day
    assert dues["RS-0101"] == "2026-10-13"  # 5 working days: 10-08, 10-09, 10-10 (调休), 10-12, 10-13
    assert shown["due_date"] == "2026-10-13" and shown["accepted_on"] == "2026-09-30"


def test_suspension_extends_the_due_date(window):
    case_no = accepted_case(window)
    with pytest.raises(Invalid):
        workflow.suspend_item(case_no, "RS-0101", "喝茶", actor=window.clerk, today=date(2026, 10, 9), on_behalf=True)
    workflow.suspend_item(case_no, "RS-0101", "检验", actor=window.clerk, today=date(2026, 10, 9), on_behalf=True)
    with pytest.raises(Conflict):
        workflow.record_result(case_no, "RS-0101", "approved", actor=window.clerk, on_behalf=True)
    shown = workflow.resume_item(case_no, "RS-0101", actor=window.clerk, today=date(2026, 10, 12), on_behalf=True)
    item = next(i for i in shown["items"] if i["matter"] == "RS-0101")
    assert item["suspended_days"] == 2  # 10-10 (调休) and 10-12
    assert item["due_date"] == "2026-10-15" and shown["due_date"] == "2026-10-15"
    with pytest.raises(Conflict):
        workflow.resume_item(case_no, "RS-0101", actor=window.clerk, on_behalf=True)


def test_boards_overdue_and_due_soon(window):
    case_no = accepted_case(window)
    assert [row["case_no"] for row in cases.overdue(today=date(2026, 10, 1), actor=window.clerk)] == [case_no]
    late = cases.overdue(today=date(2026, 10, 1), actor=window.clerk)[0]["due_items"]
    assert {i["matter"] for i in late} == {"WJ-0101", "WJ-0102", "GA-0101", "WJ-0103"}
    for code in ("WJ-0101", "WJ-0102", "GA-0101", "WJ-0103"):
        workflow.record_result(case_no, code, "approved", actor=window.clerk, result_no=f"R-{code}", on_behalf=True)
    assert cases.overdue(today=date(2026, 10, 1), actor=window.clerk) == []
    assert cases.due_soon(today=date(2026, 10, 1), actor=window.clerk) == []
    assert cases.due_soon(today=date(2026, 10, 9), actor=window.clerk) == []  # three working days left: 10-10, 10-12, 10-13
    soon = cases.due_soon(today=date(2026, 10, 10), actor=window.clerk)  # two left
    assert [row["case_no"] for row in soon] == [case_no] and soon[0]["urgency"] == "due_soon"
    assert cases.overdue(today=date(2026, 10, 14), actor=window.clerk)[0]["urgency"] == "overdue"
    assert [row["case_no"] for row in cases.today(actor=window.clerk)] == [case_no]  # registered today
    assert cases.today(date(2020, 1, 1), actor=window.clerk) == []


# ----------------------------------------------------------------------------- results, delivery, ratings


def test_results_conclude_delivery_and_rating(window):
    case_no = accepted_case(window)
    with pytest.raises(Forbidden):
        workflow.record_result(case_no, "GA-0101", "approved", actor=window.health)
    with pytest.raises(Invalid):
        workflow.record_result(case_no, "GA-0101", "maybe", actor=window.police)
    shown = workflow.record_result(case_no, "GA-0101", "approved", actor=window.police, result_no="HJ-2026-001")
    assert shown["status"] == "accepted"
    with pytest.raises(Conflict):
        workflow.record_result(case_no, "GA-0101", "denied", actor=window.police)
    with pytest.raises(Conflict):
        workflow.deliver_case(case_no, "window", actor=window.clerk)
    for code, person in (("WJ-0101", window.health), ("WJ-0102", window.health), ("RS-0101", window.clerk)):
        workflow.record_result(case_no, code, "approved", actor=person, on_behalf=person is window.clerk)
    shown = workflow.record_result(case_no, "WJ-0103", "denied", actor=window.health, note="不符合条件")
    assert shown["status"] == "concluded" and shown["notices"][-1]["kind"] == "completion"
    with pytest.raises(Invalid):
        workflow.deliver_case(case_no, "mail", actor=window.clerk)
    shown = workflow.deliver_case(case_no, "mail", actor=window.clerk, tracking_no="SF1234567890")
    assert shown["status"] == "delivered" and shown["delivery"]["tracking_no"] == "SF1234567890"
    for bad in (0, 6, "5", True, 4.5):
        with pytest.raises(Invalid):
            workflow.evaluate_case(case_no, bad, actor=window.clerk)
    shown = workflow.evaluate_case(case_no, 5, actor=window.clerk, comment="非常满意")
    assert shown["evaluation"]["rating"] == 5 and shown["evaluation"]["rectification"] is None
    with pytest.raises(Conflict):
        workflow.evaluate_case(case_no, 4, actor=window.clerk)
    assert Rectification.select().count() == 0


def test_bad_rating_opens_a_rectification_for_admins(window):
    case_no = accepted_case(window)
    with pytest.raises(Conflict):
        workflow.evaluate_case(case_no, 2, actor=window.clerk)  # not concluded yet
    for code in XSECS_MATTERS:
        workflow.record_result(case_no, code, "approved", actor=window.clerk, on_behalf=True)
    shown = workflow.evaluate_case(case_no, 2, actor=window.clerk, comment="等太久", today=date(2026, 10, 30))
    task = shown["evaluation"]["rectification"]
    assert task["status"] == "open" and task["due_date"] == "2026-11-06"
    (listed,) = workflow.rectifications(actor=window.admin)
    assert listed["case_no"] == case_no and listed["rating"] == 2 and listed["comment"] == "等太久"
    with pytest.raises(Forbidden):
        workflow.close_rectification(listed["id"], "已回访", actor=window.clerk)
    closed = workflow.close_rectification(listed["id"], "已回访致歉，增设叫号屏", actor=window.admin)
    assert closed["status"] == "closed" and workflow.rectifications(actor=window.admin) == []
    assert AuditLog.get(AuditLog.action == "rectification.close").actor == "boss"


# ----------------------------------------------------------------------------- events and versions


def test_events_strictly_increase_and_every_change_is_one(window):
    case_no = accepted_case(window)
    for code in XSECS_MATTERS:
        workflow.record_result(case_no, code, "approved", actor=window.clerk, on_behalf=True)
    workflow.deliver_case(case_no, "window", actor=window.clerk)
    workflow.evaluate_case(case_no, 5, actor=window.clerk)
    case = cases.get_case(case_no, actor="test")
    rows = list(CaseEvent.select().where(CaseEvent.case == case).order_by(CaseEvent.id))
    ids = [row.id for row in rows]
    assert ids == sorted(set(ids))
    assert [(r.from_status, r.to_status) for r in rows if r.from_status != r.to_status] == [
        ("", "registered"), ("registered", "accepted"), ("accepted", "concluded"), ("concluded", "delivered")]
    changes = [r for r in rows if r.action not in ("register", "view_id", "print")]
    assert case.version == 1 + len(changes)  # every change bumped the version once, with its event
    assert [e["seq"] for e in cases.case_json(case)["events"]] == ids


def test_expected_version_mismatch_is_stale(window):
    case = register(window.clerk)
    materials.log_material(case.case_no, "JMSFZ", "original_verified", actor=window.clerk, expected_version=1)
    with pytest.raises(Conflict) as caught:
        materials.log_material(case.case_no, "HKB", "copy_received", actor=window.clerk, expected_version=1)
    assert caught.value.code == "stale" and "您填写的内容已保留" in caught.value.message


def test_a_stale_row_never_overwrites(window):
    case = register(window.clerk)
    old = cases.get_case(case.case_no, actor="test")
    materials.log_material(case.case_no, "JMSFZ", "original_verified", actor=window.clerk)
    with db.atomic(), pytest.raises(Conflict) as caught:
        events.transition(old, "reject", "rejected", window.clerk)
    assert caught.value.code == "stale"
    assert cases.get_case(case.case_no, actor="test").status == "registered"


def test_two_clerks_at_once_one_loses(window, make_user):
    case = register(window.clerk)
    db.close()  # each thread below opens its own connection
    barrier, outcomes = threading.Barrier(2), []

    def clerk(code):
        with db.connection_context():
            barrier.wait()
            try:
                materials.log_material(case.case_no, code, "original_verified", actor=window.clerk,
                                       expected_version=1)
                outcomes.append("ok")
            except Conflict as exc:
                outcomes.append(exc.code)

    threads = [threading.Thread(target=clerk, args=(code,)) for code in ("JMSFZ", "SQB")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["ok", "stale"]
    db.connect(reuse_if_open=True)
    assert cases.get_case(case.case_no, actor="test").version == 2
    logged = CaseMaterial.select().where(CaseMaterial.case == case, CaseMaterial.status != "missing").count()
    assert logged == 1


# ----------------------------------------------------------------------------- catalogue versions


def test_a_case_keeps_its_catalogue_version_after_a_new_import(app, make_user, tmp_path):
    clerk = make_user("li", "clerk")
    with db.connection_context():
        with db.atomic():
            settings.put("centre.code", CENTRE)
        store.import_workbook(Book().save(tmp_path / "v1.xlsx"), actor="county")
        request = dict(bundle="B01", answers={"Q1": "否"},
                       applicant={"kind": "person", "name": "李娜", "id_number": MOTHER_ID, "phone": PHONE},
                       form={})
        case = cases.register_case(**request, actor=clerk)
        newer = Book().set("目录信息", 2, "内容", "2026.12-01").set("事项", 2, "承诺办结时限", 15)
        newer.set("材料", 2, "必要性", "非必要")
        assert store.import_workbook(newer.save(tmp_path / "v2.xlsx"), actor="county").status == "applied"
        with pytest.raises(Conflict):  # the old rule still holds: C01 is 必要 for this case
            workflow.accept_case(case.case_no, actor=clerk, today=BEFORE_HOLIDAY)
        case = cases.get_case(case.case_no, actor="test")
        materials.log_material(case.case_no, "C01", "original_verified", actor=clerk)
        shown = workflow.accept_case(case.case_no, actor=clerk, today=BEFORE_HOLIDAY)
        assert shown["catalogue_version"] == "2026.11-02"
        assert shown["items"][0]["promised_days"] == 5 and shown["due_date"] == "2026-10-13"
        fresh = cases.register_case(**request, actor=clerk)
        assert cases.case_json(fresh)["catalogue_version"] == "2026.12-01"
        assert next(m for m in cases.case_json(fresh)["materials"] if m["code"] == "C01")["required"] is False


# ----------------------------------------------------------------------------- notices


def test_notices_are_numbered_and_printing_is_logged(window):
    case = register(window.clerk)
    assert [(n["kind"], n["number"]) for n in cases.case_json(case)["notices"]] == [
        ("receipt", f"{case.case_no}-01")]  # issued at registration, with the papers
    with pytest.raises(Conflict):
        notices.record_print(case.case_no, "acceptance", actor=window.clerk)
    with pytest.raises(NotFound):
        notices.record_print(case.case_no, "love_letter", actor=window.clerk)
    assert not CaseEvent.select().where(CaseEvent.action == "print").exists()
    first = notices.record_print(case.case_no, "receipt", actor=window.clerk)
    assert first == {"kind": "receipt", "number": f"{case.case_no}-01", "print_count": 1, "reprint": False}
    again = notices.record_print(case.case_no, "receipt", actor=window.clerk)
    assert again == {"kind": "receipt", "number": f"{case.case_no}-01", "print_count": 2, "reprint": True}
    shown = cases.case_json(cases.get_case(case.case_no, actor="test"))
    assert [(e["action"], e["detail"].get("kind")) for e in shown["events"][-2:]] == [("print", "receipt")] * 2
    assert shown["version"] == 1  # printing changes nothing of the case
    with pytest.raises(Conflict):
        workflow.accept_case(case.case_no, actor=window.clerk)
    shown = cases.case_json(cases.get_case(case.case_no, actor="test"))
    assert [n["number"][-2:] for n in shown["notices"]] == ["01", "02"]
    assert notices.record_print(case.case_no, "correction", actor=window.clerk)["kind"] == "correction"


def test_an_optional_material_can_still_be_brought_after_acceptance(window):
    case_no = accepted_case(window)
    answer = materials.log_material(case_no, "CYJL", "copy_received", actor=window.clerk)
    assert answer["status"] == "copy_received"
    with pytest.raises(Conflict):  # but what was verified stays verified
        materials.log_material(case_no, "JMSFZ", "copy_received", actor=window.clerk)
