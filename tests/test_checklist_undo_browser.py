"""Undo leaves a clean row (browser walk-through after issue 9), in chromium against waitress:
after 撤销登记 the row shows no scans and every new entry — the same scan again, 原件核验 — records;
and a form of a page from before the undo (Back, a tab left open) is not answered as "done" from
the stored state, but refused as stale with the current page.
"""
from test_intake_browser import focus_on, log_in, window  # noqa: F401 (fixture)
from test_repeated_requests import clerk_web, events_of, material_form, register_case  # noqa: F401 (fixture)


def test_after_undo_the_same_scan_and_the_original_record_again(window, browser_page):
    base, page = window, browser_page
    case_no = register_case()
    page.goto(f"{base}/cases/{case_no}")
    log_in(page, base)
    page.wait_for_url(f"**/cases/{case_no}")
    focus_on(page, "el.closest('tr') && el.closest('tr').id", "m-JMSFZ")

    page.keyboard.press("s")  # the scanner folder's newest file
    page.wait_for_selector("#m-JMSFZ.is-ok")
    assert "扫描 1 个文件" in page.locator("#m-JMSFZ .mat-state").inner_text()
    page.locator("#m-JMSFZ button[data-key=u]").focus()
    page.keyboard.press("u")
    page.wait_for_selector("#m-JMSFZ.is-missing")
    assert "扫描" not in page.locator("#m-JMSFZ .mat-state").inner_text()  # a clean row
    page.screenshot(path="/tmp/wnd/undo-clean.png")
    focus_on(page, "el.closest('tr') && el.closest('tr').id", "m-JMSFZ")

    page.keyboard.press("s")  # the same file again: recorded again
    page.wait_for_selector("#m-JMSFZ.is-ok")
    assert "扫描 1 个文件" in page.locator("#m-JMSFZ .mat-state").inner_text()
    page.locator("#m-JMSFZ button[data-key=u]").focus()
    page.keyboard.press("u")
    page.wait_for_selector("#m-JMSFZ.is-missing")
    focus_on(page, "el.closest('tr') && el.closest('tr').id", "m-JMSFZ")
    page.keyboard.press("Enter")  # the focus is on 原件核验
    page.wait_for_selector("#m-JMSFZ.is-ok")
    assert "原件已核验" in page.locator("#m-JMSFZ .mat-status").inner_text()
    assert "扫描" not in page.locator("#m-JMSFZ .mat-state").inner_text()
    assert len(events_of(case_no, "scan")) == 2 and len(events_of(case_no, "material")) == 3
    history = page.locator("#history + table").inner_text()
    # The undo says it was undone, and names what it took off.
    undos = page.locator("#history + table tbody tr", has_text="撤下扫描件")
    assert undos.count() == 2  # newest first
    cells = undos.first.locator("td")
    assert cells.nth(2).inner_text() == "撤销登记" and cells.nth(4).inner_text() == "居民身份证（撤下扫描件 联办申请表.pdf）"
    assert "未提交" not in history
    page.locator("#history").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/wnd/undo-history.png")


def test_a_form_from_before_the_undo_is_stale_not_a_repeat(clerk_web):
    web, case_no = clerk_web, register_case()
    before = web.get(f"/cases/{case_no}")[2]
    action, verify = material_form(before, "JMSFZ", "original_verified")
    assert web.request("POST", action, verify)[0] == 302
    assert web.request("POST", action, verify)[0] == 302  # a double click: the same answer, once
    _action, undo = material_form(web.get(f"/cases/{case_no}")[2], "JMSFZ", "missing")
    assert web.request("POST", action, undo)[0] == 302
    assert len(events_of(case_no, "material")) == 2

    # the old page's 原件核验 again: not "done" from the stored state — the paper is 未提交 now
    status, _headers, page = web.request("POST", action, verify)
    assert status == 409 and "原来的提交不再有效" in page and "页面已更新为最新内容" in page
    assert len(events_of(case_no, "material")) == 2
    _action, fresh = material_form(page, "JMSFZ", "original_verified")  # the page shown is current
    assert fresh["request_key"] != verify["request_key"]
    assert web.request("POST", action, fresh)[0] == 302
    assert [e.detail for e in events_of(case_no, "material")][-1].count("original_verified") == 1
    assert len(events_of(case_no, "material")) == 3
