"""The checklist by keyboard (issue 9, item 12), in chromium against waitress: after an entry the
focus goes to the next paper in the list's order, optional ones included; undo is one visible step
(U, 撤销登记) that leaves the focus on the paper; after a refused 受理 the 待补正 status, the message
and the correction notice are in view.
"""
from test_browse_browser import focused
from test_intake_browser import focus_on, log_in, window  # noqa: F401 (fixture)
from test_repeated_requests import register_case


def row_of_focus(page):
    return focused(page, "el.closest('tr') ? el.closest('tr').id : el.id")


def in_view(page, selector):
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768


def test_the_focus_follows_the_list_undo_is_one_step_and_a_refusal_stays_in_view(window, browser_page):
    base, page = window, browser_page
    case_no = register_case()
    page.goto(f"{base}/cases/{case_no}")
    log_in(page, base)
    page.wait_for_url(f"**/cases/{case_no}")
    focus_on(page, "el.closest('tr') && el.closest('tr').id", "m-JMSFZ")

    page.keyboard.press("o")
    page.wait_for_selector("#m-JMSFZ.is-ok")
    focus_on(page, "el.closest('tr') && el.closest('tr').id", "m-SQB")  # the next row
    page.focus("#m-CSYXZM input[name=licence_no]")
    page.keyboard.type("DZZZ-2026-0001")
    page.keyboard.press("Enter")
    page.wait_for_selector("#m-CSYXZM.is-ok")
    # the next row is 新生儿出院记录, optional: the focus stops there too, not back at 申请表
    focus_on(page, "el.closest('tr') && el.closest('tr').id", "m-CYJL")

    # Undo: a visible button on the row itself, and U in the row; the focus stays on that paper.
    undo = page.locator("#m-JMSFZ button[data-key=u]")
    assert undo.is_visible() and "撤销登记" in undo.inner_text()
    page.locator("#m-JMSFZ button[data-key=u]").focus()
    page.keyboard.press("u")
    page.wait_for_selector("#m-JMSFZ.is-missing")
    assert "未提交" in page.locator("#m-JMSFZ .mat-status").inner_text()
    focus_on(page, "el.closest('tr') && el.closest('tr').id", "m-JMSFZ")
    page.screenshot(path="/tmp/keys-checklist.png")

    # 受理 with papers missing: the case turns 待补正; status, message and notice are on screen.
    page.keyboard.press("Alt+a")
    page.wait_for_selector(".status-word.status-correction")
    focus_on(page, "el.id", "print-correction")
    assert in_view(page, ".status-word") and in_view(page, ".flash-error") and in_view(page, "#print-correction")
    assert "待补正" in page.locator(".flash-error").inner_text()
    page.screenshot(path="/tmp/keys-correction.png")
