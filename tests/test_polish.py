"""Issue 9's polish, through the real server: 您 or 贵单位, the menu at 1366 px, a 0-day suspension, the 告知承诺书.

Cases are set up with the domain functions (as the window would make them)
and read back as the applicant and the clerk see them: pages from waitress,
the menu in chromium.
"""
import html
import re
from urllib.parse import urlencode

import pytest

from county_app import settings
from county_app.db import db
from county_app.intake import cases, materials, workflow
from county_app.intake.errors import Conflict
from county_app.intake.records import Case
from county_app.models import User

from conftest import browser_login
from test_cases_domain import CENTRE, newborn
from test_notices import restaurant
from web_client import WebClient


@pytest.fixture
def window(live_server, make_user):
    """The centre code set; a clerk (li) and an administrator (boss); a browser logged in as the clerk."""
    make_user("li", "clerk")
    make_user("boss", "admin")
    with db.connection_context(), db.atomic():
        settings.put("centre.code", CENTRE)
    browser = WebClient(live_server)
    assert browser.login("li")[0] == 302
    return browser


def clerk():
    return User.get(User.username == "li")


def text_of(page):
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def read(browser, path):
    status, _, page = browser.get(path)
    assert status == 200, page[:300]
    return text_of(page)


def test_a_person_is_您_and_a_company_贵单位(window):
    with db.connection_context():
        person = cases.register_case(**newborn(), actor=clerk()).case_no
        company = cases.register_case(**restaurant(), actor=clerk()).case_no
        for case_no in (person, company):  # nothing handed in: to 补正, with its one-time notice
            with pytest.raises(Conflict):
                workflow.accept_case(case_no, actor=clerk())
    for kind in ("receipt", "correction"):
        mine = read(window, f"/cases/{person}/notices/{kind}")
        theirs = read(window, f"/cases/{company}/notices/{kind}")
        assert "您" in mine and "贵单位" not in mine and "您（单位）" not in mine, kind
        assert "贵单位" in theirs and "您" not in theirs, kind
    assert "收到贵单位提交的" in read(window, f"/cases/{company}/notices/receipt")
    letter = read(window, f"/cases/{company}/notices/commitment/CSSYZM")
    assert "本中心就贵单位申请办理" in letter and "本单位郑重承诺" in letter
    assert "本人" not in letter and "您" not in letter
    guide = read(window, "/guide/print?" + urlencode({"bundle": "YJS-KBCY", "Q1": "新办企业", "Q2": "是", "Q3": "否",
                                                      "Q4": "否", "noprint": 1}))
    assert "为方便贵单位一次办成" in guide and "按贵单位选择的情形" in guide and "您" not in guide
    assert "为方便您一次办成" in read(window, "/guide/print?" + urlencode(
        {"bundle": "YJS-XSECS", "Q1": "是", "Q2": "是", "Q3": "是", "Q4": "已婚", "noprint": 1}))


def test_the_commitment_letter_states_each_note_once(window):
    with db.connection_context():
        company = cases.register_case(**restaurant(), actor=clerk()).case_no
    letter = read(window, f"/cases/{company}/notices/commitment/CSSYZM")
    # Three matters ask for the lease, each with the same advice: the letter gives it once.
    assert letter.count("租赁的提供租赁合同，可签署告知承诺书，免提交") == 1
    assert "住所（经营场所）使用证明" in letter and "设置招牌的建筑物使用证明" in letter
    assert letter.count("告知的全部内容") == 1 and "已认真阅读" not in letter
    assert letter.count("承担") == 1  # 愿意承担不实承诺的法律责任 (the fifth commitment), not again after it


def test_a_suspension_of_no_working_day_does_not_move_the_due_date(window):
    with db.connection_context():
        case_no = cases.register_case(**newborn(), actor=clerk()).case_no
        for code, status, extra in (("JMSFZ", "original_verified", {}), ("HKB", "copy_received", {"copies": 1}),
                                    ("CSYXZM", "exempt", {"licence_no": "DZZZ-2026-0001"}),
                                    ("SQB", "original_verified", {}), ("JHZ", "original_verified", {})):
            materials.log_material(case_no, code, status, actor=clerk(), **extra)
        due = workflow.accept_case(case_no, actor=clerk())["due_date"]
    suspend = window.post(f"/cases/{case_no}/items/RS-0101/suspend", {"reason": "检验", "on_behalf": "1"}, token_from=f"/cases/{case_no}")
    assert suspend[0] == 302
    resume = window.post(f"/cases/{case_no}/items/RS-0101/resume", {"on_behalf": "1"}, token_from=f"/cases/{case_no}")
    assert resume[0] == 302
    page = read(window, f"/cases/{case_no}")
    assert "已恢复计时；暂停 0 个工作日，办结日期不变" in page and "顺延" not in page
    with db.connection_context():
        assert Case.get(Case.case_no == case_no).due_date.isoformat() == due


def test_the_admin_menu_wraps_between_entries_at_1366(live_server, make_user, browser_page):
    make_user("boss", "admin")
    with db.connection_context(), db.atomic():  # a township's usual name: the brand takes its room in the bar
        settings.put("centre.name", "安澜县城关镇便民服务中心")
    page = browser_page
    browser_login(page, live_server, "boss")
    assert page.viewport_size == {"width": 1366, "height": 768}
    entries = page.locator(".topbar nav a")
    assert entries.count() >= 8  # an administrator's menu: too long for one line beside the brand
    # Each entry is one line box: a label broken inside ("逾期督 / 办") has two.
    spread = page.evaluate("""() => [...document.querySelectorAll('.topbar nav a, .topbar .brand, .topbar .who')]
        .map(e => { const r = document.createRange(); r.selectNodeContents(e);
                    const tops = [...r.getClientRects()].map(b => b.top);
                    return [e.textContent.trim(), Math.max(...tops) - Math.min(...tops)]; })""")
    # A second line would start a line height (24 px) lower; a <kbd> beside the label sits a few px off.
    assert all(pixels < 10 for _, pixels in spread), spread


def test_a_long_centre_name_keeps_the_admin_menu_to_two_lines_and_a_name_is_shown_once(
        live_server, make_user, browser_page):
    make_user("boss", "admin")
    with db.connection_context(), db.atomic():
        User.update(display_name="系统管理员").where(User.username == "boss").execute()  # the role's own name
        settings.put("centre.name", "城关镇人民政府便民服务中心（县一件事一次办示范窗口）")
    page = browser_page
    browser_login(page, live_server, "boss")
    page.goto(f"{live_server}/sync")
    who = page.locator(".topbar .who").inner_text()
    assert who.startswith("系统管理员") and "系统管理员（系统管理员）" not in who
    lines = page.evaluate("""() => new Set([...document.querySelectorAll('.topbar nav a')]
        .map(a => Math.round(a.getBoundingClientRect().top / 10))).size""")
    assert lines <= 2
    spread = page.evaluate("""() => [...document.querySelectorAll('.topbar nav a')]
        .map(e => { const r = document.createRange(); r.selectNodeContents(e);
                    const tops = [...r.getClientRects()].map(b => b.top); return Math.max(...tops) - Math.min(...tops); })""")
    assert all(pixels < 10 for pixels in spread), spread  # no entry broken inside
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path="/tmp/admin-menu-long-name.png")
