"""Never type a thing twice, in a real browser: the intake page fills the form as the applicant, the
agent or another field is typed, and leaves alone what the clerk changed by hand.

Chromium through Playwright against the app served by waitress, on the seed catalogue. Story 2's
noodle shop: its name, credit code, legal representative, phone and address typed once as the
applicant fill the form; the employee typed in as agent is the 经办人. Story 1: the baby's name is
typed once and the card holder's follows; the mother's fields are not filled from the applicant.
Screenshots go to /tmp/intake-prefill-*.png.
"""
import json

from county_app.db import db
from county_app.intake.records import Case

from test_browse_browser import focused
from test_intake_browser import MOTHER_ID, PHONE, log_in, wait_settled, window  # noqa: F401 (a fixture)

SHOP = {"#c-name": "安澜县味道面馆有限公司", "#c-credit_code": "91350100M000100Y43", "#c-legal_representative": "赵强",
        "#c-phone": "13700137000", "#c-address": "安澜县城关镇人民路 12 号"}


def values(page, *codes):
    return {code: page.input_value(f'[name="f.{code}"]') for code in codes}


def type_into(page, selector, text):
    page.click(selector)
    page.keyboard.type(text)


def test_a_company_typed_once_fills_the_form_and_a_hand_change_stays(window, browser_page):
    base, page = window, browser_page
    page.goto(base + "/intake/new?bundle=YJS-KBCY")
    log_in(page, base)
    page.wait_for_url("**/intake/new?bundle=YJS-KBCY")
    for question, answer in (("Q1", "已取得营业执照"), ("Q2", "是"), ("Q3", "否"), ("Q4", "否")):
        page.check(f"input[name='q.{question}'][value='{answer}']")
        wait_settled(page)
    assert page.locator("input[name=kind][value=company]").is_checked()  # the bundle serves companies
    assert "4 项按申请人" not in page.inner_text("#h-fields")
    # each hint names what it really fills from: the company's name, not a person's 姓名
    assert page.locator("#f-QYMC-hint").inner_text() == "按申请单位名称自动填写"
    assert page.locator("#f-FDDBR-hint").inner_text() == "按申请单位法定代表人自动填写"
    page.locator("#f-QYMC").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/wnd/prefill-company-hints.png")

    for selector, text in SHOP.items():
        type_into(page, selector, text)
    page.keyboard.press("Enter")
    assert values(page, "QYMC", "TYSHXYDM", "FDDBR", "SJH", "QYZS") == {
        "QYMC": "安澜县味道面馆有限公司", "TYSHXYDM": "91350100M000100Y43", "FDDBR": "赵强",
        "SJH": "13700137000", "QYZS": "安澜县城关镇人民路 12 号"}
    assert values(page, "JBRXM") == {"JBRXM": ""}  # no agent yet

    # The employee at the window is recorded as agent: the 经办人 follows, also across the refresh
    # that the agent section starts (materials may hinge on it).
    type_into(page, "#g-name", "钱小二")
    wait_settled(page)
    page.wait_for_function("document.querySelector('[name=\"f.JBRXM\"]').value === '钱小二'")

    # A field changed by hand stays so; the others keep following the applicant.
    page.fill('[name="f.FDDBR"]', "赵四")
    page.fill("#c-legal_representative", "赵大强")
    page.fill("#c-name", "安澜县味道面馆")
    assert values(page, "FDDBR", "QYMC") == {"FDDBR": "赵四", "QYMC": "安澜县味道面馆"}
    page.fill("#g-name", "钱二")
    page.fill("#g-id_number", "11010519491231002X")
    wait_settled(page)
    assert values(page, "JBRXM") == {"JBRXM": "钱二"}

    # Enter passes over what was filled in, straight to what only the clerk can type.
    page.focus("#c-address")
    for _ in range(12):
        name = focused(page, "el.name")
        assert name not in ("f.QYMC", "f.TYSHXYDM", "f.SJH", "f.QYZS", "f.JBRXM"), name
        if name == "f.JYCSMJ":
            break
        page.keyboard.press("Enter")
    assert focused(page, "el.name") == "f.JYCSMJ"
    page.keyboard.type("120")
    page.check("input[name='f.ZTYT'][value='餐饮服务经营者']")
    page.check("input[name='f.JYXM'][value='热食类食品制售']")
    page.fill('[name="f.SPAQGLY"]', "赵强")
    page.fill('[name="f.ZPCC"]', "6×1.2")
    page.check("input[name='f.ZPCZ'][value='亚克力']")
    page.screenshot(path="/tmp/intake-prefill-company.png", full_page=True)
    page.click("#register")
    page.wait_for_selector("#problems, .case-no")
    assert page.locator("#problems").count() == 0, page.inner_text("#problems")
    case_no = page.url.rsplit("/", 1)[1]
    with db.connection_context():
        form = json.loads(Case.get(Case.case_no == case_no).form)
    assert {code: form[code] for code in ("QYMC", "TYSHXYDM", "FDDBR", "SJH", "QYZS", "JBRXM")} == {
        "QYMC": "安澜县味道面馆", "TYSHXYDM": "91350100M000100Y43", "FDDBR": "赵四", "SJH": "13700137000",
        "QYZS": "安澜县城关镇人民路 12 号", "JBRXM": "钱二"}


def test_the_babys_name_once_and_the_mother_not_from_the_applicant(window, browser_page):
    base, page = window, browser_page
    page.goto(base + "/intake/new?bundle=YJS-XSECS")
    log_in(page, base)
    page.wait_for_url("**/intake/new?bundle=YJS-XSECS")
    for question in ("Q1", "Q2", "Q3", "Q4"):
        page.check(f"input[name='q.{question}'][value='{'已婚' if question == 'Q4' else '是'}']")
        wait_settled(page)
    type_into(page, "#p-name", "李娜")
    type_into(page, "#p-id_number", MOTHER_ID)
    page.keyboard.press("Enter")
    type_into(page, "#p-phone", PHONE)
    # a father applies as often as a mother: filled from the applicant, these took his name unseen
    assert values(page, "SQRXM", "MQXM", "MQSFZH") == {"SQRXM": "李娜", "MQXM": "", "MQSFZH": ""}
    assert page.locator("#f-CKRXM-hint").inner_text() == "按新生儿姓名自动填写"

    type_into(page, '[name="f.XSEXM"]', "张小宝")
    assert values(page, "CKRXM", "CBRXM") == {"CKRXM": "张小宝", "CBRXM": "张小宝"}
    # unticking 医保 takes its field away; the card holder still follows the baby
    page.uncheck("input[name=matters][value=YB-0101]")
    wait_settled(page)
    assert page.locator("[name='f.CBRXM']").count() == 0
    page.fill('[name="f.XSEXM"]', "张晓宝")
    assert values(page, "CKRXM") == {"CKRXM": "张晓宝"}
    page.screenshot(path="/tmp/intake-prefill-newborn.png", full_page=True)
