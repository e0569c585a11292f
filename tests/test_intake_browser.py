"""Window story 1 in a real browser, mostly by keyboard: Ms Li's newborn, a marriage certificate left at home.

Drives Debian's chromium through Playwright against the app served by waitress
(``live_server``, seed catalogue loaded): 新办件 → 新生儿出生一件事 (``xse``),
three questions, 医保 unticked, the applicant by ID number, the baby's form,
登记; then the checklist, 受理 → 待补正 with its correction notice; two days
later found by phone, the certificate ticked, 受理 → 已受理 and the acceptance
notice. Screenshots at 1366×768 go to /tmp/intake-*.png.
"""
import re
from datetime import date, timedelta

import pytest

from county_app import accounts, settings
from county_app.db import db
from county_app.identity import id_check_char
from county_app.intake import workflow

from conftest import PASSWORD, sample_pdf
from test_browse_browser import focused, no_horizontal_overflow

CENTRE = "331128101000"
# A woman born 1992-03-15 in 安澜县 (sequence 024: even, female) with her check character.
MOTHER_ID = "33112819920315024" + id_check_char("33112819920315024")
FATHER_ID = "331128198805123610"
PHONE = "13900139000"
ADDRESS = "安澜县城关镇幸福路 1 号"


@pytest.fixture
def window(live_server, make_user, tmp_path):
    """A clerk with a display name and phone, the centre code, and a scanner folder holding one PDF."""
    folder = tmp_path / "scanner"
    folder.mkdir()
    (folder / "联办申请表.pdf").write_bytes(sample_pdf(2))
    with db.connection_context():
        with db.atomic():
            accounts.add_user("li", "clerk", PASSWORD, display_name="王芳", phone="0578-8123456", actor="test")
            settings.put("centre.code", CENTRE)
            settings.put("scan.folder", str(folder))
    yield live_server


def focus_on(page, script, expected):
    """Wait until ``script`` (over ``el``, the focused element) gives ``expected``: autofocus runs after load."""
    page.wait_for_function(f"expected => ((el => {script})(document.activeElement)) === expected", arg=expected)


def wait_settled(page):
    """Wait for the intake page's background refresh to finish."""
    page.wait_for_function("!document.querySelector('form#intake.is-refreshing')")


def test_story_one_newborn_by_keyboard(window, browser_page):
    base, page = window, browser_page
    baby_born = (date.today() - timedelta(days=20)).strftime("%Y%m%d")

    # Log in; Alt+N is 新办件 from anywhere.
    page.goto(base + "/login")
    focus_on(page, "el.id", "username")  # autofocus runs after load; typing earlier goes nowhere
    page.keyboard.type("li")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/")
    page.keyboard.press("Alt+n")
    page.wait_for_url("**/intake/new")
    focus_on(page, "el.id", "search-q")
    page.keyboard.type("xse")
    page.keyboard.press("Enter")
    page.wait_for_url("**/intake/new?q=xse")
    focus_on(page, "el.textContent.includes('新生儿出生')", True)
    page.keyboard.press("Enter")
    page.wait_for_url("**/intake/new?bundle=YJS-XSECS")

    # The three questions, and then the parents' marriage that the registration of the birth asks:
    # the digit picks the answer, Enter goes to the next question; the lists follow.
    for question in ("Q1", "Q2", "Q3", "Q4"):
        focus_on(page, "el.name", f"q.{question}")
        page.keyboard.press("1")  # 是, 已婚
        page.keyboard.press("Enter")
        wait_settled(page)
    assert page.locator("text=问题已答完").is_visible()
    assert page.locator("#matters input[name=matters][value=YB-0101]").is_checked()
    # Everything except the medical-insurance enrolment: Enter moves on, Space unticks.
    while focused(page, "el.value") != "YB-0101":
        page.keyboard.press("Enter")
        wait_settled(page)
    page.keyboard.press("Space")
    wait_settled(page)
    assert not page.locator("input[name=matters][value=YB-0101]").is_checked()
    assert page.locator("#fields-part input[name='f.CBRXM']").count() == 0  # 参保人姓名 left with 医保
    materials = page.locator(".materials-preview tbody tr")
    assert materials.count() == 7 and "结婚证" in page.locator(".materials-preview").inner_text()
    print_url = page.locator("#print-guide").get_attribute("href")
    assert print_url.startswith("/guide/print?bundle=YJS-XSECS") and "Q1=" in print_url
    assert "YB-0101" not in print_url
    printed = page.request.get(base + print_url)
    assert printed.ok and "新生儿出生" in printed.text()

    # The applicant: the ID number is checked on Enter, sex and birth date shown, then the phone.
    for _ in range(4):  # the last matter, then 个人 / 企业, to the name
        if focused(page, "el.id") == "p-name":
            break
        page.keyboard.press("Enter")
    assert focused(page, "el.id") == "p-name"
    page.keyboard.type("李娜")
    page.keyboard.press("Enter")
    page.keyboard.type(MOTHER_ID[:-1] + ("0" if MOTHER_ID[-1] != "0" else "1"))  # a misread last character
    page.keyboard.press("Enter")
    page.wait_for_selector("#p-id_number-error")
    assert "校验位" in page.locator("#p-id_number-error").inner_text()
    assert focused(page, "el.id") == "p-id_number"
    page.keyboard.type(MOTHER_ID)  # the card reader again: the field is selected, so this replaces it
    page.keyboard.press("Enter")
    focus_on(page, "el.id", "p-phone")  # moved on at once; the check answers meanwhile
    page.wait_for_function("document.getElementById('p-id_number-hint').textContent.includes('女 · 1992-03-15 出生')")
    assert page.locator("#p-id_number-error").count() == 0
    page.keyboard.type(PHONE)
    page.keyboard.press("Enter")
    page.keyboard.type(ADDRESS)
    page.keyboard.press("Enter")

    # The merged form: applicant fields already filled, the baby's asked once.
    form = {"f.GX": "2", "f.XSEXM": "张小宝", "f.XSEXB": "1", "f.XSECSRQ": baby_born, "f.XSECSDD": "安澜县人民医院",
            "f.FQXM": "张伟", "f.FQSFZH": FATHER_ID, "f.MQXM": "李娜", "f.MQSFZH": MOTHER_ID, "f.LHFS": "1",
            "f.CKRXM": "张小宝", "f.LKFS": "1"}
    prefilled = {"f.SQRXM": "李娜", "f.SFZH": MOTHER_ID, "f.SJH": PHONE, "f.ZZ": ADDRESS}
    visited = []
    for _ in range(40):
        name, kind = focused(page, "el.name"), focused(page, "el.type")
        if focused(page, "el.id") == "register":
            break
        visited.append(name)
        if name in form and kind == "radio":
            page.keyboard.press(form[name])  # picks; the Enter below moves on
        if name in form:
            page.keyboard.type(form[name])
        page.keyboard.press("Enter")
    assert focused(page, "el.id") == "register"
    # Enter passed over the agent's fields (no agent named) and the fields filled in from the applicant
    assert visited[0] == "g.name" and not [n for n in visited[1:] if n.startswith("g.") or n in prefilled]
    assert {name: page.input_value(f'[name="{name}"]') for name in prefilled} == prefilled
    page.focus('[name="f.SJH"]')  # Tab still stops there, to correct one
    page.keyboard.press("Shift+Tab")
    assert focused(page, "el.name") == "f.SFZH"
    page.focus("#register")
    assert page.input_value("#f-XSECSRQ") == f"{baby_born[:4]}-{baby_born[4:6]}-{baby_born[6:]}"
    assert no_horizontal_overflow(page)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path="/tmp/intake-new.png")
    page.screenshot(path="/tmp/intake-new-full.png", full_page=True)
    page.keyboard.press("Enter")
    page.wait_for_url("**/cases/" + CENTRE + "*")
    case_no = page.url.rsplit("/", 1)[1]
    assert page.locator(".status-word").inner_text() == "待受理"
    assert page.locator(".case-no").inner_text() == case_no
    assert MOTHER_ID not in page.content()  # masked until 显示完整证件号

    # The checklist, paper by paper: the focus starts on the first paper not yet seen.
    def row_key(code, key):
        focus_on(page, "el.closest('tr') && el.closest('tr').id", f"m-{code}")
        page.keyboard.press(key)
        page.wait_for_load_state()

    row_key("JMSFZ", "o")  # ID cards seen
    page.wait_for_selector("#m-JMSFZ.is-ok")
    row_key("SQB", "s")  # the joint form, from the scanner's folder
    page.wait_for_selector("#m-SQB.is-ok")
    assert "扫描 1 个文件，2 页" in page.locator("#m-SQB").inner_text()
    row_key("CSYXZM", "e")  # no licence number yet: E goes to its box
    assert focused(page, "el.name") == "licence_no"
    page.keyboard.type("DZZZ-2026-0001")
    page.keyboard.press("Enter")
    page.wait_for_selector("#m-CSYXZM.is-ok")
    assert "DZZZ-2026-0001" in page.locator("#m-CSYXZM").inner_text()
    focus_on(page, "el.closest('tr') && el.closest('tr').id", "m-CYJL")  # the next paper, optional: not handed in
    page.keyboard.press("ArrowDown")
    row_key("HKB", "c")  # register copied, one copy
    page.wait_for_selector("#m-HKB.is-ok")
    focus_on(page, "el.closest('tr') && el.closest('tr').id", "m-JHZ")  # the marriage certificate is missing
    assert page.locator("#m-JHZ").get_attribute("class").count("is-missing") == 1
    page.screenshot(path="/tmp/intake-case-checklist.png")

    page.keyboard.press("Alt+a")  # 受理: a required paper is missing
    page.wait_for_selector(".status-word.status-correction")
    assert page.locator(".status-word").inner_text() == "待补正"
    assert "结婚证" in page.locator("#correction").inner_text()
    correction = page.locator("#print-correction")
    assert correction.get_attribute("target") == "_blank"
    notice = page.request.get(base + correction.get_attribute("href"))
    assert notice.ok and "结婚证" in notice.text()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path="/tmp/intake-case-correction.png")

    # Two days later: found by her phone number (Alt+C), the certificate ticked, 受理.
    page.keyboard.press("Alt+c")
    page.wait_for_url("**/cases")
    focus_on(page, "el.id", "search-q")
    page.keyboard.type(PHONE)
    page.keyboard.press("Enter")
    page.wait_for_url("**/cases?q=*")
    focus_on(page, "el.textContent", case_no)
    assert "139****9000" in page.locator(".case-list").inner_text()
    page.keyboard.press("Enter")
    page.wait_for_url("**/cases/" + case_no)
    row_key("JHZ", "o")
    page.wait_for_selector("#m-JHZ.is-ok")
    focus_on(page, "el.closest('tr') && el.closest('tr').id", "m-SBKZP")  # the next paper, optional: not brought
    page.keyboard.press("Alt+a")
    page.wait_for_selector(".status-word.status-accepted")
    assert page.locator(".status-word").inner_text() == "已受理"
    assert page.locator(".case-due .due-date").inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    assert no_horizontal_overflow(page)
    page.screenshot(path="/tmp/intake-case.png")
    page.screenshot(path="/tmp/intake-case-full.png", full_page=True)

    # The acceptance notice opens in a new tab (Alt+P) and shows the case number.
    with page.context.expect_page() as opened:
        page.keyboard.press("Alt+p")
    notice_page = opened.value
    notice_page.wait_for_load_state()
    assert notice_page.url.endswith(f"/cases/{case_no}/notices/acceptance")
    assert case_no in notice_page.content()
    notice_page.close()

    # A week later the results are in: she collects them at the window (Alt+J) and rates 非常满意 (Alt+E, 5, Enter, Enter).
    with db.connection_context():
        for matter in ("WJ-0101", "WJ-0102", "GA-0101", "RS-0101", "WJ-0103"):
            workflow.record_result(case_no, matter, "approved", actor="li", result_no=f"R-{matter}")
    page.reload()
    assert page.locator(".status-word").inner_text() == "已办结"
    focus_on(page, "el.name", "method")
    page.keyboard.press("Alt+j")
    page.wait_for_selector(".status-word.status-delivered")
    assert page.locator(".status-word").inner_text() == "已出件"
    page.keyboard.press("Alt+e")  # into the rating pad (never focused by itself: test_rating_browser)
    page.keyboard.press("5")
    focus_on(page, "el.name + el.value + el.checked", "rating5true")
    page.keyboard.press("Enter")  # to 提交评价
    page.keyboard.press("Enter")
    page.wait_for_selector(".rating-done")
    assert "非常满意" in page.locator(".rating-done").inner_text()

    # The mouse works too: reveal the full ID number (logged on the case).
    page.get_by_role("button", name="显示完整证件号").click()
    page.wait_for_selector(".revealed")
    assert page.locator(".revealed").inner_text() == MOTHER_ID
    assert "查看完整证件号码" in page.locator("#history + table").inner_text()


def log_in(page, base):
    page.fill("#username", "li")
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")


def test_a_login_that_timed_out_loses_nothing_typed(window, browser_page):
    base, page = window, browser_page
    page.goto(base + "/intake/new?bundle=YJS-XSECS")
    log_in(page, base)
    page.wait_for_url("**/intake/new?bundle=YJS-XSECS")
    for _ in range(3):
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        wait_settled(page)
    page.fill("#p-name", "李娜")
    page.fill("#p-phone", PHONE)
    page.fill("#f-XSEXM", "张小宝")
    page.context.clear_cookies()  # the session ends (12 hours, or logged out elsewhere)
    page.click("#register")
    page.wait_for_url("**/login**")
    assert "登录已过期" in page.locator("#login-expired").inner_text()  # it says why
    page.screenshot(path="/tmp/keys-login-expired.png")
    log_in(page, base)
    page.wait_for_url(re.compile(r"^[^?]*/intake/new$"))
    # back to the draft by itself: its 登记 was cut off by the ended login
    page.wait_for_function("document.getElementById('p-name') && document.getElementById('p-name').value === '李娜'")
    assert page.input_value("#p-name") == "李娜" and page.input_value("#f-XSEXM") == "张小宝"
    assert page.locator("input[name='q.Q3']:checked").count() == 1
    assert page.input_value("#f-SJH") == PHONE  # prefilled from the restored applicant

    # The same on the case page: a reason typed for 不予受理 survives a new login.
    with db.connection_context():
        from county_app.intake import cases
        from test_cases_domain import newborn
        case_no = cases.register_case(**newborn(), actor="li").case_no
    page.goto(f"{base}/cases/{case_no}")
    page.fill("#reject-reason", "申请人不在本县居住")
    page.context.clear_cookies()
    page.click("text=不予受理…")
    page.wait_for_url("**/login**")
    log_in(page, base)
    page.wait_for_url(re.compile(f"^[^?]*/cases/{case_no}$"))
    assert page.input_value("#reject-reason") == "申请人不在本县居住"
    assert "已恢复您填写的内容" in page.locator("#reject").inner_text()


def test_numbers_typed_in_full_width_are_checked_and_shown_in_ascii(window, browser_page):
    """A Chinese input method in full-width mode (or a card reader typing through it): １１０…Ｘ, spaces."""
    base, page = window, browser_page
    page.goto(base + "/intake/new?bundle=YJS-XSECS")
    log_in(page, base)
    page.wait_for_url("**/intake/new?bundle=YJS-XSECS")
    for _ in range(3):
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        wait_settled(page)
    sent = []
    page.on("request", lambda request: sent.append(request.post_data) if request.url.endswith("/intake/check") else None)
    full_width = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
    page.focus("#p-id_number")
    page.keyboard.type(f"{MOTHER_ID[:6]}\u3000{MOTHER_ID[6:14]}－{MOTHER_ID[14:]}".translate(full_width))
    page.keyboard.press("Enter")
    focus_on(page, "el.id", "p-phone")
    page.wait_for_function("document.getElementById('p-id_number-hint') && "
                           "document.getElementById('p-id_number-hint').textContent.includes('女 · 1992-03-15 出生')")
    assert page.input_value("#p-id_number") == MOTHER_ID
    assert page.locator("#p-id_number-error").count() == 0
    page.keyboard.type("１３９　００１３　９０００")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('p-phone-hint') && "
                           "document.getElementById('p-phone-hint').textContent.includes('号码正确')")
    assert page.input_value("#p-phone") == PHONE
    # the form fields filled in from the applicant follow the ASCII form
    assert page.input_value('[name="f.SFZH"]') == MOTHER_ID and page.input_value('[name="f.SJH"]') == PHONE
    # the page itself sends the canonical form (String.prototype.normalize("NFKC")), not only the server reads it
    values = [re.search(r'name="value"\r\n\r\n(.*?)\r\n', body).group(1) for body in sent]
    assert set(values) == {MOTHER_ID, PHONE}, values  # checked on Enter and again on leaving the box


def test_the_material_list_follows_the_agent_section_and_the_applicants_kind(window, browser_page):
    """Story 3: the daughter typed in as agent adds her authorisation and ID card; a person connecting
    power brings no business licence (材料 适用条件 over 代办 and 申请人类型)."""
    base, page = window, browser_page
    page.goto(base + "/intake/new?bundle=YJS-TX")
    log_in(page, base)
    page.wait_for_url("**/intake/new?bundle=YJS-TX")
    for question, answer in (("Q1", "企业职工基本养老保险"), ("Q2", "否"), ("Q3", "否")):
        page.check(f"input[name='q.{question}'][value='{answer}']")
        wait_settled(page)
    materials = page.locator(".materials-preview")
    assert page.locator("text=问题已答完").is_visible()
    assert "授权委托书" not in materials.inner_text() and "代理人身份证件" not in materials.inner_text()

    page.click("#g-name")
    page.keyboard.type("王小红")
    page.wait_for_function("document.querySelector('.materials-preview').innerText.includes('授权委托书')")
    wait_settled(page)
    assert "代理人身份证件" in materials.inner_text()
    assert page.input_value("#g-name") == "王小红" and focused(page, "el.id") == "g-name"  # typing goes on
    page.screenshot(path="/tmp/intake-agent.png")
    page.fill("#g-name", "")
    page.wait_for_function("!document.querySelector('.materials-preview').innerText.includes('授权委托书')")

    page.goto(base + "/intake/new?bundle=YJS-SDQW")
    for question in ("Q1", "Q2"):
        page.check(f"input[name='q.{question}'][value='否']")
        wait_settled(page)
    assert page.locator("input[name=kind][value=company]").is_checked()  # the bundle serves companies
    assert "营业执照" in materials.inner_text()
    page.check("input[name=kind][value=person]")
    page.wait_for_function("!document.querySelector('.materials-preview').innerText.includes('营业执照')")
