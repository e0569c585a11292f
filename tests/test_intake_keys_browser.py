"""No question skipped by a key (issue 9, item 8), in chromium against waitress.

The hint says 数字键选择，Enter 到下一题: a digit picks an option and stays, Enter moves on —
never past a situation question not yet answered — and keys typed while Enter waits for the lists
to refresh land where the focus goes, not on the option left behind. (Without JavaScript: see
test_case_pages, answers changed together with 登记.)
"""
from test_browse_browser import focused
from test_intake_browser import focus_on, log_in, wait_settled, window  # noqa: F401 (fixture)


def answers(page):
    return {q: page.evaluate(f"(document.querySelector('input[name=\"q.{q}\"]:checked') || {{}}).value || null")
            for q in ("Q1", "Q2", "Q3", "Q4", "Q5")}


def open_newborn(page, base):
    page.goto(base + "/intake/new?bundle=YJS-XSECS")
    log_in(page, base)
    page.wait_for_url("**/intake/new?bundle=YJS-XSECS")
    focus_on(page, "el.name", "q.Q1")


def test_one_then_enter_answers_every_question_in_turn_even_typed_ahead(window, browser_page):
    base, page = window, browser_page
    open_newborn(page, base)
    for _ in range(5):  # as fast as the keyboard sends them: no waiting for the lists in between
        page.keyboard.press("1")
        page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('input[name=\"q.Q5\"]:checked')")
    wait_settled(page)
    assert answers(page) == {"Q1": "是", "Q2": "是", "Q3": "是", "Q4": "已婚", "Q5": "母亲"}
    matters = page.locator("#matters").inner_text()
    assert "社会保障卡申领" in matters and "户口登记" in matters  # Q2 and Q3 were not passed over
    assert page.locator("input[name=matters][value=RS-0101]").is_checked()
    focus_on(page, "el.name", "matters")  # the first matter that may be unticked: seen, not skipped
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path="/tmp/keys-questions.png")


def test_enter_does_not_leave_a_question_unanswered_and_a_digit_stays(window, browser_page):
    base, page = window, browser_page
    open_newborn(page, base)
    page.keyboard.press("Enter")
    assert focused(page, "el.name") == "q.Q1"
    note = page.locator("#q-Q1 .question-note")
    assert note.is_visible() and "请先回答本题" in note.inner_text()
    page.screenshot(path="/tmp/keys-unanswered.png")
    page.keyboard.press("2")  # 否: picked, and the focus stays on the question
    wait_settled(page)
    assert focused(page, "el.name + '=' + el.value") == "q.Q1=否"
    page.keyboard.press("7")  # no seventh option: nothing happens
    assert focused(page, "el.name + '=' + el.value") == "q.Q1=否"
    page.keyboard.press("1")  # a change of mind
    page.keyboard.press("Enter")
    focus_on(page, "el.name", "q.Q2")
    wait_settled(page)
    assert answers(page)["Q1"] == "是"


def test_a_date_typed_after_picking_an_option_goes_into_the_date(window, browser_page):
    base, page = window, browser_page
    open_newborn(page, base)
    for _ in range(4):
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        wait_settled(page)
    page.focus("#f-XSEXB-1")  # 新生儿性别, then 出生日期
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.keyboard.type("20261110")
    page.keyboard.press("Enter")
    assert page.input_value("#f-XSECSRQ") == "2026-11-10"
    assert page.evaluate("document.querySelector('input[name=\"f.XSEXB\"]:checked').value") == "女"
    assert focused(page, "el.name") == "f.XSECSDD"

    # The kind of applicant refreshes the lists: Enter does not wait for them (the name is already
    # there), so what is typed meanwhile — through an input method too — goes into the name.
    page.focus("input[name=kind][value=person]")
    page.keyboard.press("2")  # 企业: the lists refresh
    page.keyboard.press("1")  # 个人 again, at once
    page.keyboard.press("Enter")
    page.keyboard.type("李娜")
    wait_settled(page)
    page.wait_for_function("document.getElementById('p-name').value === '李娜'")
    assert page.locator("input[name=kind][value=person]").is_checked()
    assert focused(page, "el.id") == "p-name"
