"""好差评 never recorded by stray keys (browser walk-through after issue 9), in chromium against waitress.

After 出件 (Alt+J) the focus is not on the rating pad, so "1 Enter" records nothing; the pad answers
keys only once entered (Alt+E): a digit picks, Enter goes to 提交评价, and a 差评 (1–2) needs its own
confirmation — a stray Enter there only shows it again. A 5 is still three keys away.
"""
import pytest

from county_app.db import db
from county_app.intake import materials, workflow
from county_app.intake.records import Case, Evaluation, Rectification

from test_browse_browser import focused
from test_intake_browser import focus_on, log_in, window  # noqa: F401 (fixture)
from test_repeated_requests import events_of, register_case
from test_cases_domain import supply_all_but_marriage_certificate

MATTERS = ("WJ-0101", "WJ-0102", "GA-0101", "RS-0101", "WJ-0103")


def concluded_case():
    case_no = register_case()
    with db.connection_context():
        supply_all_but_marriage_certificate(case_no, "li")
        materials.log_material(case_no, "JHZ", "original_verified", actor="li", copies=1)
        workflow.accept_case(case_no, actor="li")
        for matter in MATTERS:
            workflow.record_result(case_no, matter, "approved", actor="li", result_no=f"R-{matter}")
    return case_no


def delivered_at_the_window(page, base, case_no):
    page.goto(f"{base}/cases/{case_no}")
    log_in(page, base)
    page.wait_for_url(f"**/cases/{case_no}")
    focus_on(page, "el.name", "method")
    page.keyboard.press("Alt+j")
    page.wait_for_selector(".status-word.status-delivered")


def rated(case_no):
    with db.connection_context():
        return [e.rating for e in Evaluation.select().join(Case).where(Case.case_no == case_no)]


@pytest.fixture
def delivered(window, browser_page):
    case_no = concluded_case()
    delivered_at_the_window(browser_page, window, case_no)
    return case_no


def test_one_enter_right_after_delivery_records_nothing(window, browser_page, delivered):
    page, case_no = browser_page, delivered
    assert focused(page, "el.closest('#rating-pad') === null")  # the pad was not given the focus
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)  # time for a post, had one been sent
    assert page.url.endswith(f"/cases/{case_no}") and not page.locator(".rating-done").count()
    assert page.evaluate("document.querySelector('input[name=rating]:checked')") is None
    assert rated(case_no) == [] and events_of(case_no, "evaluate") == []
    page.evaluate("document.getElementById('h-rating').scrollIntoView()")
    page.screenshot(path="/tmp/wnd/rating-after-delivery.png")


def test_a_dissatisfied_rating_needs_its_own_confirmation(window, browser_page, delivered):
    page, case_no = browser_page, delivered
    page.keyboard.press("Alt+e")  # into the pad: nothing picked yet
    focus_on(page, "el.name", "rating")
    assert page.evaluate("document.querySelector('input[name=rating]:checked')") is None
    page.keyboard.press("1")
    assert "非常不满意" in page.locator("#rating-chosen").inner_text()
    page.keyboard.press("Enter")  # to 提交评价, not a submission
    focus_on(page, "el.id", "rating-submit")
    assert events_of(case_no, "evaluate") == []
    page.keyboard.press("Enter")  # 提交评价: the confirmation comes up, nothing recorded
    page.wait_for_selector("#rating-confirm-box")
    assert "非常不满意" in page.locator("#rating-confirm-box").inner_text()
    assert rated(case_no) == []
    focus_on(page, "el.name + el.value + el.checked", "rating1true")  # back on the choice, not on 确认
    page.locator("#rating-confirm-box").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/wnd/rating-confirm.png")
    for _ in range(2):  # stray Enters: to 提交评价, and the confirmation once more
        page.keyboard.press("Enter")
    page.wait_for_selector("#rating-confirm-box")
    assert rated(case_no) == []

    page.fill("#rating-comment", "等了一个小时")
    page.click("#rating-confirm")
    page.wait_for_selector(".rating-done")
    assert "非常不满意" in page.locator(".rating-done").inner_text()
    assert rated(case_no) == [1]
    with db.connection_context():
        assert Rectification.select().count() == 1


def test_a_confirmation_names_the_rating_it_confirms(window, browser_page, delivered):
    """Changing the choice after the confirmation came up is not confirmed by the old button."""
    page, case_no = browser_page, delivered
    page.keyboard.press("Alt+e")
    page.keyboard.press("2")
    page.click("#rating-submit")
    page.wait_for_selector("#rating-confirm-box")
    page.keyboard.press("1")
    page.click("#rating-confirm")  # it confirms 不满意, but 非常不满意 is chosen now: asked again
    page.wait_for_selector("#rating-confirm-box")
    assert "非常不满意" in page.locator("#rating-confirm-box").inner_text() and rated(case_no) == []


def test_a_keyboard_user_still_rates_quickly(window, browser_page, delivered):
    page, case_no = browser_page, delivered
    page.keyboard.press("Alt+e")
    page.keyboard.press("5")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.wait_for_selector(".rating-done")
    assert "非常满意" in page.locator(".rating-done").inner_text() and rated(case_no) == [5]
