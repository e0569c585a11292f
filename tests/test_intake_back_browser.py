"""Back, reload, expiry (issue 9, item 11), in chromium against waitress: a refused 登记 is a GET of
its draft (redirect-after-post), so a reload shows the corrections typed since and posts nothing
old; Back after 登记 says where the form went instead of showing an empty one or offering it again.
(An ended login: test_intake_browser.test_a_login_that_timed_out_loses_nothing_typed.)
"""
import re
from datetime import date, timedelta

from county_app.db import db
from county_app.intake.records import Case

from test_cases_domain import MOTHER_ID, PHONE, XSECS_FORM
from test_intake_browser import focus_on, log_in, wait_settled, window  # noqa: F401 (fixture)


def start_newborn(page, base):
    page.goto(base + "/intake/new?bundle=YJS-XSECS")
    log_in(page, base)
    page.wait_for_url("**/intake/new?bundle=YJS-XSECS")
    focus_on(page, "el.name", "q.Q1")
    for _ in range(5):  # 是, 是, 是, 已婚, the mother applies
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        wait_settled(page)
    page.fill("#p-name", "李娜")
    page.fill("#p-id_number", MOTHER_ID)
    page.fill("#p-phone", PHONE)
    page.fill("#p-address", "安澜县城关镇幸福路 1 号")


def fill_form(page, **changes):
    values = {**XSECS_FORM, "XSECSRQ": (date.today() - timedelta(days=20)).isoformat(), "CBRXM": "张小宝",
              **changes}
    for code, value in values.items():
        radio = page.locator(f"input[type=radio][name='f.{code}'][value='{value}']")
        if radio.count():
            radio.check()
        elif page.locator(f"#f-{code}").count():
            page.fill(f"#f-{code}", value)


def cases_count():
    with db.connection_context():
        return Case.select().count()


def test_a_reload_after_a_refusal_keeps_the_corrections_and_posts_nothing_old(window, browser_page):
    base, page = window, browser_page
    start_newborn(page, base)
    fill_form(page, XSEXM="")  # the baby's name forgotten
    page.click("#register")
    page.wait_for_url(re.compile(r"/intake/new\?draft="))
    assert "新生儿姓名：此项必填" in page.locator("#problems").inner_text()
    draft_url = page.url
    page.fill("#f-XSEXM", "张小宝")  # corrected, then F5
    page.fill("#f-XSECSDD", "安澜县妇幼保健院")
    posted = []
    page.on("request", lambda request: posted.append(request.url) if request.method == "POST"
            and request.url.endswith("/intake/new") and request.is_navigation_request() else None)
    page.reload()
    page.wait_for_function("document.getElementById('f-XSEXM').value === '张小宝'")
    assert page.url == draft_url and posted == []  # a GET: nothing old sent again
    assert page.input_value("#f-XSECSDD") == "安澜县妇幼保健院"
    assert "已恢复您在本页改正的内容" in page.content()
    wait_settled(page)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path="/tmp/keys-reload.png")

    # 登记 now; Back comes to the draft's page, which says where the form went.
    assert "新生儿姓名：此项必填" in page.locator("#problems").inner_text()  # still listed after the reload
    page.click("#register")
    page.wait_for_url("**/cases/**")
    case_no = page.url.rsplit("/", 1)[1]
    page.go_back()
    page.wait_for_selector("text=这份新办件已经登记")
    assert case_no in page.content() and page.locator("#register").count() == 0
    page.screenshot(path="/tmp/keys-back-draft.png")
    assert cases_count() == 1


def test_back_after_a_registration_shows_where_it_went_and_offers_nothing_again(window, browser_page):
    base, page = window, browser_page
    start_newborn(page, base)
    fill_form(page)
    page.click("#register")
    page.wait_for_url("**/cases/**")
    case_no = page.url.rsplit("/", 1)[1]
    page.go_back()
    page.wait_for_url("**/intake/new?bundle=YJS-XSECS")
    # the page cache shows the very form (then 登记 is off), or a new blank one says where the last went
    page.wait_for_function(f"document.body.innerText.includes('{case_no}')")
    page.screenshot(path="/tmp/keys-back.png")
    if page.locator("input[name='p.name']").input_value() == "李娜":
        assert page.locator("#register").is_disabled()
    else:
        assert "上一份新办件已登记为" in page.locator("#draft-banner").inner_text()
        box = page.locator("#draft-banner").bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= 768 and page.input_value("#f-XSEXM") == ""
        assert page.locator("input[name='f.XSEXB']:checked").count() == 0  # nothing of the registered form
    page.evaluate("document.querySelector('#register').disabled = false")
    page.click("#register")  # even sent again: one form, one case
    page.wait_for_load_state()
    assert cases_count() == 1
