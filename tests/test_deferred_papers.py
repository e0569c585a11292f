"""容缺 papers still to come after acceptance (browser walk-through after issue 9): concluding and
delivering such a case is allowed — the domain facts set no rule withholding the result — but never
silent. Every API answer about the case carries a ``deferred_outstanding`` warning naming the papers and
their dates; the case page shows it, and its 出件 (Alt+J) first asks the clerk to confirm that the
applicant was told. Through the real waitress server and chromium.
"""
from county_app.db import db
from county_app.intake import cases, materials, workflow
from county_app.intake.records import CaseItem, CaseMaterial
from county_app.models import User

from test_browse_browser import focused
from test_cases_api import apis  # noqa: F401 (fixture)
from test_cases_domain import BEFORE_HOLIDAY
from test_intake_browser import focus_on, log_in, window  # noqa: F401 (fixture)
from test_notices import restaurant

LATER = {"CQRTY": "建筑物所有权人同意设置的证明", "SPAQZD": "保证食品安全的规章制度"}


def warned(answer):
    return [w for w in answer.get("warnings", []) if w["code"] == "deferred_outstanding"]


def test_every_answer_warns_while_rongque_papers_are_outstanding(apis):
    clerk = apis["clerk"]
    status, case = clerk.post("/api/v1/cases", restaurant())
    assert status == 201 and case["warnings"] == []
    case_no, path = case["case_no"], f"/api/v1/cases/{case['case_no']}"
    for m in case["materials"]:
        if m["code"] == "CSSYZM":
            assert clerk.post(f"{path}/materials/CSSYZM", {"status": "commitment"})[0] == 200
        elif m["necessity"] != "optional" and m["code"] not in LATER:
            assert clerk.post(f"{path}/materials/{m['code']}", {"status": "original_verified"})[0] == 200
    status, accepted = clerk.post(f"{path}/accept", {})
    assert status == 200 and accepted["status"] == "accepted"
    [warning] = warned(accepted)
    assert {m["material"] for m in warning["materials"]} == set(LATER)
    assert all(name in warning["message"] for name in LATER.values()) and "办结和出件前" in warning["message"]

    for item in accepted["items"]:
        status, answer = clerk.post(f"{path}/items/{item['matter']}/result", {"outcome": "approved", "result_no": "R-1",
                                                                          "on_behalf": True})
        assert status == 200 and warned(answer), answer
    assert answer["status"] == "concluded" and "出件时请收取" in warned(answer)[0]["message"]
    status, delivered = clerk.post(f"{path}/deliver", {"method": "window"})
    assert status == 200 and delivered["status"] == "delivered" and warned(delivered)  # allowed, and said

    # once the papers come, the warning goes
    for code in LATER:
        assert clerk.post(f"{path}/materials/{code}", {"status": "original_verified"})[0] == 200
    assert clerk.get(path)[1]["warnings"] == []


def concluded_with_papers_to_come():
    with db.connection_context():
        clerk = User.get(User.username == "li")
        case = cases.register_case(**restaurant(), actor=clerk)
        for row in CaseMaterial.of_case(case.id):
            if row.code == "CSSYZM":
                materials.log_material(case.case_no, row.code, "commitment", actor=clerk)
            elif row.necessity != "optional" and row.code not in LATER:
                materials.log_material(case.case_no, row.code, "original_verified", actor=clerk, copies=1)
        workflow.accept_case(case.case_no, actor=clerk, today=BEFORE_HOLIDAY)  # due dates already past
        for item in CaseItem.of_case(case.id):
            workflow.record_result(case.case_no, item.matter_code, "approved", actor=clerk, result_no="R-1",
                                   on_behalf=True)
        return case.case_no


def test_delivery_on_the_page_asks_to_confirm_the_applicant_was_told(window, browser_page):
    base, page = window, browser_page
    case_no = concluded_with_papers_to_come()
    page.goto(f"{base}/cases/{case_no}")
    log_in(page, base)
    page.wait_for_selector("#warning-deferred_outstanding")
    banner = page.locator("#warning-deferred_outstanding")
    assert banner.is_visible() and all(name in banner.inner_text() for name in LATER.values())
    assert "已逾期" in banner.inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path="/tmp/wnd/deferred-banner.png")

    focus_on(page, "el.name", "method")
    page.keyboard.press("Alt+j")  # not yet: the page says why, nothing changes
    page.wait_for_selector("#deliver .field-error")
    assert "容缺受理的材料尚未补交" in page.locator("#deliver .field-error").inner_text()
    assert page.locator(".status-word").inner_text() == "已办结"
    page.locator("#deliver").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/wnd/deferred-deliver-refused.png")

    page.check("#deferred-told")
    page.keyboard.press("Alt+j")
    page.wait_for_selector(".status-word.status-delivered")
    flash = page.locator(".flash-ok").inner_text()
    assert "已出件" in flash and "注意：容缺受理的材料尚未补交" in flash
    assert "督促申请人按期补交" in page.locator("#warning-deferred_outstanding").inner_text()
    assert focused(page, "el.closest('#rating-pad') === null")
