"""The county hub's cases (issue 10, item 1; docs/sync.md, Who owns what), on SQLite and on PostgreSQL.

The hub receives two townships' cases by signed pushes over HTTP (``hub_county``). A department user
sees the cases holding its matters from every township, each with the township it came from, and
records results, suspensions and resumptions for its own items only; an administrator sees every case.
The window's actions — registering, materials, 受理, 不予受理, 出件, 好差评 — are neither offered nor
allowed at the hub: 403, saying that the township owns them, through the API and the pages alike. A
department no matter names cannot be given to a user at the hub either.
"""
import re
from urllib.parse import urlencode
from types import SimpleNamespace

import pytest

from county_app import access, accounts, create_app
from county_app.bootstrap import initialise
from county_app.db import db
from county_app.sync.records import SyncNode, SyncOutbox
from county_app.views.catalogue import stop_checks

from conftest import ON_BOTH, PASSWORD, csrf_token, login, serving
from hub_county import CHENGGUAN, COUNTY, NANSHAN, hub_with_townships, make_townships
from test_cases_api import Api
from test_cases_domain import newborn

PEOPLE = {"police": ("gaj", "department", "县公安局"), "market": ("scj", "department", "县市场监督管理局"),
          "boss": ("boss", "admin", None), "clerk": ("chuangkou", "clerk", None)}


@pytest.fixture(scope="session")
def townships(tmp_path_factory):
    return make_townships(tmp_path_factory.mktemp("townships"))


@pytest.fixture
def hub(data_dir, db_backend, townships):
    """The hub (seed catalogue, county 331128) served by the real server, holding both townships' cases;
    bearer clients (``api``) and logged-in page clients (``pages``) of its users."""
    initialise(data_dir, role="hub", code=COUNTY, name="安澜县政务服务中心")
    app = create_app(data_dir, {"TESTING": True})
    with serving(app) as base:
        county = hub_with_townships(data_dir, townships, base)
        api, pages = {}, {}
        with db.connection_context():
            for key, (username, role, department) in PEOPLE.items():
                accounts.add_user(username, role, PASSWORD, department=department, actor="test")
                api[key] = Api(base, accounts.issue_token(username, actor="test").token)
        for key, (username, _role, _department) in PEOPLE.items():
            pages[key] = app.test_client()
            assert login(pages[key], username).status_code == 302
        yield SimpleNamespace(**vars(county), api=SimpleNamespace(**api), pages=SimpleNamespace(**pages),
                              base=base, app=app, data_dir=data_dir)
    stop_checks(app)
    if not db.is_closed():
        db.close()


def numbers(answer):
    return [row["case_no"] for row in answer["items"]]


def town(code, name):
    return {"code": code, "name": name}


@ON_BOTH
def test_a_department_sees_its_matters_cases_from_every_township_with_the_township(hub):
    police, market, boss = hub.api.police, hub.api.market, hub.api.boss
    status, found = police.get("/api/v1/cases")
    assert status == 200 and numbers(found) == [hub.wang, hub.li]
    assert [row["township"] for row in found["items"]] == [town(NANSHAN, "南山乡"), town(CHENGGUAN, "城关镇")]
    assert numbers(police.get("/api/v1/cases?" + urlencode({"q": "李娜"}))[1]) == [hub.wang, hub.li]  # the searches, as at a window
    assert numbers(market.get("/api/v1/cases")[1]) == [hub.shop]
    assert market.get("/api/v1/cases?" + urlencode({"q": "李娜"}))[1]["items"] == []
    assert numbers(boss.get("/api/v1/cases")[1]) == [hub.shop, hub.wang, hub.li]
    status, case = police.get(f"/api/v1/cases/{hub.li}")
    assert status == 200 and case["township"] == town(CHENGGUAN, "城关镇")
    status, answer = market.get(f"/api/v1/cases/{hub.li}")
    assert status == 404 and answer["error"]["message"] == f"没有编号为 {hub.li} 的办件"
    # the clerk's entry from the 人社局's paper arrived as what it is: 窗口代录, naming the department
    social_card = next(i for i in case["items"] if i["matter"] == "RS-0101")
    assert social_card["result"]["on_behalf"] == "县人力资源和社会保障局"
    # a township the hub does not name (its row gone, e.g. restored from an older backup): the code
    with db.connection_context(), db.atomic():
        SyncNode.update(name="").where(SyncNode.code == NANSHAN).execute()
    assert police.get(f"/api/v1/cases/{hub.wang}")[1]["township"] == town(NANSHAN, None)
    page = hub.pages.police.get("/cases").get_data(as_text=True)
    assert "<th>所属乡镇</th>" in page and ">城关镇</span>" in page and f">{NANSHAN}</span>" in page


@ON_BOTH
def test_a_department_records_results_and_suspensions_of_its_own_items_only(hub):
    police = hub.api.police
    base = f"/api/v1/cases/{hub.li}/items"
    for action, body in (("suspend", {"reason": "检验"}), ("resume", {}), ("result", {"outcome": "approved"})):
        status, answer = police.post(f"{base}/WJ-0101/{action}", body)  # 卫健局's
        assert status == 403 and "由县卫生健康局办理" in answer["error"]["message"], (action, answer)
    assert police.post(f"{base}/GA-0101/suspend", {"reason": "检验"})[0] == 200
    assert police.post(f"{base}/GA-0101/resume", {})[0] == 200
    status, case = police.post(f"{base}/GA-0101/result", {"outcome": "approved", "result_no": "HJ-1"})
    assert status == 200, case
    item = next(i for i in case["items"] if i["matter"] == "GA-0101")
    assert item["result"]["result_no"] == "HJ-1" and item["result"]["on_behalf"] is None
    # the department's acts go down to the township the case came from, and only there
    with db.connection_context():
        down = list(SyncOutbox.select(SyncOutbox.node, SyncOutbox.action).tuples())
    assert down == [(CHENGGUAN, "suspend"), (CHENGGUAN, "resume"), (CHENGGUAN, "result")]
    # a clerk at the hub records no result: the department does, or the window (窗口代录)
    status, answer = hub.api.clerk.post(f"{base}/WJ-0101/result", {"outcome": "approved", "on_behalf": True})
    assert status == 403 and answer["error"]["message"] == access.DEPARTMENT_OWNS
    status, answer = hub.api.boss.post(f"{base}/WJ-0101/result", {"outcome": "approved"})
    assert status == 403


@ON_BOTH
def test_the_windows_actions_are_refused_at_the_hub_saying_the_township_owns_them(hub):
    case = f"/api/v1/cases/{hub.wang}"
    attempts = [("POST", "/api/v1/cases", newborn()), ("POST", f"{case}/materials/JHZ", {"status": "original_verified"}),
                ("POST", f"{case}/accept", {}), ("POST", f"/api/v1/cases/{hub.shop}/reject", {"reason": "不属本机关"}),
                ("POST", f"{case}/deliver", {"method": "window"}), ("POST", f"{case}/evaluation", {"rating": 5}),
                ("GET", "/api/v1/rectifications", None)]
    for who in ("clerk", "boss", "police"):
        for method, path, body in attempts:
            status, answer, _headers = getattr(hub.api, who).call(method, path, body)
            assert status == 403 and answer["error"]["message"] == access.TOWNSHIP_OWNS, (who, path, answer)
    with db.connection_context():
        events = db.execute_sql("select count(*) from case_event").fetchone()[0]
    # the pages: nothing of the window offered, the same refusal when posted anyway
    clerk, police = hub.pages.clerk, hub.pages.police
    for client in (clerk, police, hub.pages.boss):
        home = client.get(f"/cases/{hub.wang}").get_data(as_text=True)
        assert "新办件" not in home and "差评整改" not in home and "尚未设置" not in home
        for form in ("/accept", "/deliver", "/evaluation", "/materials/", "/reject"):
            assert f'action="/cases/{hub.wang}{form}' not in home, form
    for path, fields in (("accept", {}), ("materials/JHZ", {"status": "original_verified"}),
                         ("deliver", {"method": "window"}), ("reject", {"reason": "不属本机关"})):
        answer = clerk.post(f"/cases/{hub.wang}/{path}", data={"csrf_token": csrf_token(clerk), **fields})
        assert answer.status_code == 403 and access.TOWNSHIP_OWNS in answer.get_data(as_text=True), path
    assert clerk.get("/intake/new").status_code == 403
    with db.connection_context():
        assert db.execute_sql("select count(*) from case_event").fetchone()[0] == events  # nothing written


@ON_BOTH
def test_the_case_page_at_the_hub_for_a_department(hub):
    police = hub.pages.police
    page = police.get(f"/cases/{hub.li}").get_data(as_text=True)
    assert re.search(r'来自 <strong>城关镇</strong> <span class="muted small">（331128101000）</span>', page)
    assert f"items/GA-0101/result" in page and "items/WJ-0101/result" not in page  # its own items only
    assert "窗口代录，依县人力资源和社会保障局书面决定" in page  # the 社保卡 result typed at the window
    assert "依县公安局书面决定代录" not in page  # a department records as itself: no 窗口代录 box
    answer = police.post(f"/cases/{hub.li}/items/WJ-0101/result",
                         data={"csrf_token": csrf_token(police), "outcome": "approved"})
    assert answer.status_code == 403 and "由县卫生健康局办理" in answer.get_data(as_text=True)
    answer = police.post(f"/cases/{hub.li}/items/GA-0101/result",
                         data={"csrf_token": csrf_token(police), "outcome": "approved", "result_no": "HJ-9"})
    assert answer.status_code == 302
    board = police.get("/cases/overdue").get_data(as_text=True)
    assert "<th>所属乡镇</th>" in board


def test_a_look_at_the_full_id_number_at_the_hub_is_audited_not_added_to_the_cases_history(hub):
    """The hub's history of a case is what both sides hold (docs/sync.md): a department's look goes to the
    操作日志 only, so that the township's and the hub's events of a case still count the same."""
    with db.connection_context():
        events = db.execute_sql("select count(*) from case_event").fetchone()[0]
    status, answer = hub.api.police.post(f"/api/v1/cases/{hub.li}/id-number", {})
    assert status == 200 and len(answer["id_number"]) == 18, answer
    with db.connection_context():
        assert db.execute_sql("select count(*) from case_event").fetchone()[0] == events
        assert db.execute_sql("select actor, entity_id from audit_log where action = 'case.view_id'").fetchall() \
            == [("gaj", hub.li)]


@ON_BOTH
def test_a_department_no_matter_names_is_refused_at_the_hub(hub, run_cli):
    done = run_cli("user", "add", "cgj", "--role", "department", "--department", "县城管局", "--password-stdin",
                   input=PASSWORD + "\n")
    assert done.exit_code == 1 and "县城管局" in done.output and "县公安局" in done.output, done.output
    done = run_cli("user", "add", "cgj", "--role", "department", "--department", "县城市管理局",
                   "--password-stdin", input=PASSWORD + "\n")
    assert done.exit_code == 0, done.output


def test_screenshots_of_the_hub_as_a_department(hub, browser_page):
    """The case page and the lists as the 公安局 sees them at the hub (look at them: /tmp/hub-*.png)."""
    page = browser_page
    page.goto(hub.base + "/login")
    page.fill("input[name=username]", "gaj")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(hub.base + "/cases")
    assert page.locator("text=南山乡").count() and page.locator("text=城关镇").count()
    page.screenshot(path="/tmp/hub-department-list.png")
    page.goto(hub.base + "/cases/overdue")
    page.screenshot(path="/tmp/hub-department-overdue.png")
    page.goto(hub.base + f"/cases/{hub.li}")
    assert page.locator(".case-township").inner_text().startswith("来自 城关镇")
    page.screenshot(path="/tmp/hub-department-case.png", full_page=True)
    page.locator("#item-GA-0101 summary").click()
    page.locator("#item-GA-0101 input[value=approved]").check()
    page.locator("#item-GA-0101 input[name=result_no]").fill("HJ-2026-7")
    page.locator("#item-GA-0101 button:has-text('录入结果')").click()
    page.wait_for_selector("text=已录入办理结果")
    page.screenshot(path="/tmp/hub-department-result.png", full_page=True)
