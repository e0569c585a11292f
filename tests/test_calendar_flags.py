"""Every date counted into a year whose 调休 is not published is flagged wherever it is shown or printed.

Issue 8 (leftovers): the case's due date was flagged, but not the 补正 deadline, a 容缺 date, the
差评 rectification's due date, an item's due date, nor a due date moved by 恢复计时. The calendar is
chinesecalendar as 1.11.0 has it (``unpublished_from_2027``: nothing after 2026); the seed catalogue,
a real SQLite file, the pages and printed notices as the app renders them.
"""
import re
from datetime import date

import pytest

from county_app.intake import cases, materials, outcomes, workflow
from county_app.intake.errors import Conflict
from county_app.intake.records import Case, CaseItem
from county_app.notice_texts import CALENDAR_NOTE

from test_notices import hand_in_all_but_marriage_certificate, page, register, restaurant, window  # noqa: F401

MARK = "（调休安排未公布，日期可能变动）"
MONDAY = date(2026, 12, 28)  # + 5 working days: 12-29, 12-30, 12-31, (元旦 Fri, weekend) 2027-01-04, 01-05

pytestmark = pytest.mark.usefixtures("unpublished_from_2027")


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_correction_deadline_in_2027_is_flagged_on_the_page_the_notice_the_history_and_the_message(window):
    case = register(window)
    with pytest.raises(Conflict) as refused:
        workflow.accept_case(case.case_no, actor=window.clerk, today=MONDAY)
    assert f"请申请人在 2027-01-05{MARK} 前补齐" in refused.value.message
    shown = text_of(page(window, f"/cases/{case.case_no}"))
    assert f"补正期限 2027-01-05{MARK}" in shown  # the header and the 待补正 card
    assert f"补正期限 2027-01-05{MARK}；待补" in shown  # the history
    notice = text_of(page(window, f"/cases/{case.case_no}/notices/correction"))
    assert f"请于2027年1月5日前将上述材料补正齐全，到本中心窗口提交{CALENDAR_NOTE}。" in notice


def test_a_correction_deadline_within_a_published_year_is_not_flagged(window):
    case = register(window)
    with pytest.raises(Conflict) as refused:
        workflow.accept_case(case.case_no, actor=window.clerk, today=date(2026, 12, 1))
    assert MARK not in refused.value.message
    assert "调休" not in text_of(page(window, f"/cases/{case.case_no}/notices/correction"))
    assert MARK not in text_of(page(window, f"/cases/{case.case_no}"))


def test_a_deferred_material_s_date_in_2027_is_flagged_on_the_checklist_and_the_acceptance_notice(window):
    case = cases.register_case(**restaurant(), actor=window.clerk)
    logged = materials.log_material(case.case_no, "SPAQZD", "deferred", actor=window.clerk, today=MONDAY)
    assert (logged["deferred_until"], logged["calendar_complete"]) == ("2027-01-05", False)
    assert f"须于 2027-01-05{MARK} 前补交" in text_of(page(window, f"/cases/{case.case_no}"))
    # A date the clerk types is the applicant's promise, not a count: nothing to flag.
    typed = materials.log_material(case.case_no, "SPAQZD", "deferred", actor=window.clerk, today=MONDAY,
                                   deferred_until="2027-01-08")
    assert typed["calendar_complete"] is True


def test_deferred_at_acceptance_and_item_due_dates_are_flagged(window):
    case = cases.register_case(**restaurant(), actor=window.clerk)
    for row in cases.case_json(Case.get_by_id(case.id))["materials"]:
        if row["necessity"] == "required":
            materials.log_material(case.case_no, row["code"], "original_verified", actor=window.clerk)
    workflow.accept_case(case.case_no, actor=window.clerk, today=MONDAY)
    shown = cases.case_json(Case.get_by_id(case.id))
    deferred = [m for m in shown["materials"] if m["status"] == "deferred"]
    assert deferred and all(not m["calendar_complete"] for m in deferred)
    assert all(not item["calendar_complete"] for item in shown["items"] if item["due_date"] > "2026-12-31")
    notice = text_of(page(window, f"/cases/{case.case_no}/notices/acceptance"))
    assert "容缺待补材料" in notice and f"2027年1月5日{MARK}前" in notice  # listed apart, with its date
    html = text_of(page(window, f"/cases/{case.case_no}"))
    late = [item for item in shown["items"] if item["due_date"] > "2026-12-31"]
    assert late and all(f"{item['due_date']}{MARK}" in html for item in late)


def test_resuming_into_2027_flags_the_item_and_the_case(window):
    """恢复计时 moves a due date by the working days the clock stood still: into 2027, it is flagged."""
    case = register(window)
    hand_in_all_but_marriage_certificate(case.case_no, window.clerk)
    materials.log_material(case.case_no, "JHZ", "original_verified", actor=window.clerk, copies=1)
    workflow.accept_case(case.case_no, actor=window.clerk, today=date(2026, 12, 1))
    assert Case.get_by_id(case.id).due_complete
    workflow.suspend_item(case.case_no, "RS-0101", "检验", actor=window.clerk, today=date(2026, 12, 2), on_behalf=True)
    workflow.resume_item(case.case_no, "RS-0101", actor=window.clerk, today=date(2026, 12, 30), on_behalf=True)
    item = CaseItem.get((CaseItem.case == case.id) & (CaseItem.matter_code == "RS-0101"))
    assert item.due_date.year == 2027 and not item.due_complete
    assert not Case.get_by_id(case.id).due_complete
    html = text_of(page(window, f"/cases/{case.case_no}"))
    assert "受理时调休安排未公布" in html or MARK in html
    assert f"{item.due_date.isoformat()}{MARK}" in html


def test_a_rectification_due_in_2027_is_flagged_on_the_list_and_the_case(window):
    case = register(window)
    hand_in_all_but_marriage_certificate(case.case_no, window.clerk)
    materials.log_material(case.case_no, "JHZ", "original_verified", actor=window.clerk, copies=1)
    workflow.accept_case(case.case_no, actor=window.clerk, today=date(2026, 12, 1))
    for item in CaseItem.select().where(CaseItem.case == case.id):
        outcomes.record_result(case.case_no, item.matter_code, "approved", actor=window.clerk, on_behalf=True)
    outcomes.evaluate_case(case.case_no, 1, actor=window.clerk, comment="等太久", today=MONDAY)
    task = outcomes.rectifications(actor=window.clerk)[0]
    assert (task["due_date"], task["calendar_complete"]) == ("2027-01-05", False)
    assert f"期限 2027-01-05{MARK}" in text_of(page(window, f"/cases/{case.case_no}"))
