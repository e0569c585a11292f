"""Setting up a centre (issue 9, items 5 and 6): the first administrator's password and 系统设置.

Through the real parts: ``county-app init`` through the real command, the
app behind the real waitress server, chromium for the page as the
administrator uses it (keyboard only; screenshots at 1366×768 in /tmp), and
a plain HTTP client for the refusals.
"""
import json
import time

import pytest

from county_app import create_app, settings
from county_app.db import db
from county_app.models import AuditLog, Setting
from county_app.views.catalogue import stop_checks

from conftest import serving
from web_client import WebClient

CODE = "331128101000"
NAME = "安澜县城关镇便民服务中心"
NEW_PASSWORD = "春天 骑车 去 县城 27"


def focused(page, script):
    return page.evaluate(f"(el => {script})(document.activeElement)")


def stored(key):
    with db.connection_context():
        row = Setting.get_or_none(Setting.key == key)
        return None if row is None else row.value


def config_audit():
    with db.connection_context():
        return [(row.actor, row.entity_id, json.loads(row.detail)["value"])
                for row in AuditLog.select().where(AuditLog.action == "config.set").order_by(AuditLog.id)]


@pytest.fixture
def fresh_node(data_dir, run_cli):
    """A data folder made by ``county-app init`` as on a new PC; yields (base URL, admin's one-time password)."""
    result = run_cli("init")
    assert result.exit_code == 0, result.output
    assert "只显示这一次" in result.stdout
    password = result.stdout.rstrip("\n").splitlines()[-1]
    app = create_app(data_dir, {"TESTING": True})
    try:
        with serving(app) as url:
            yield url, password
    finally:
        stop_checks(app)
        if not db.is_closed():
            db.close()


@pytest.fixture
def served(app):
    with serving(app) as url:
        yield url


def test_first_run_changes_the_one_time_password_then_leads_to_the_settings(fresh_node, browser_page):
    url, one_time = fresh_node
    page = browser_page
    page.goto(url + "/")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'username'")  # autofocus
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type(one_time)
    page.keyboard.press("Enter")
    page.wait_for_url(url + "/account/password")
    assert "一次性密码" in page.inner_text("main")
    page.goto(url + "/admin/users")  # nothing else until it is changed
    assert page.url == url + "/account/password"
    assert focused(page, "el.id") == "old_password"
    page.keyboard.type(one_time)
    page.keyboard.press("Tab")
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Enter")

    # The centre code is not set: the administrator lands on 系统设置, on the centre code.
    page.wait_for_url(url + "/admin/settings")
    assert "设置前窗口不能登记办件" in page.inner_text("main")
    assert focused(page, "el.name") == "centre.code"
    page.screenshot(path="/tmp/settings-first-run.png")

    # A wrong code is refused next to its field, naming it, and nothing is stored.
    page.keyboard.type("3311")
    page.keyboard.press("Tab")
    page.keyboard.type(NAME)
    with page.expect_navigation():  # the same address: wait for the answer to the POST, not the old page
        page.keyboard.press("Enter")
    main = page.inner_text("main")
    assert "本中心区划代码（centre.code）：必须是 12 位数字" in main and "所有设置都没有保存" in main
    assert focused(page, "el.name") == "centre.code"
    assert page.input_value("[name='centre.name']") == NAME  # what was typed stays
    assert stored("centre.code") is None and stored("centre.name") is None
    page.screenshot(path="/tmp/settings-refused.png")

    page.fill("[name='centre.code']", CODE)
    with page.expect_navigation(url=url + "/admin/settings"):
        page.press("[name='centre.code']", "Enter")
    assert "已保存：本中心区划代码、本中心名称" in page.inner_text("main")
    assert NAME in page.inner_text("header")  # at once: every page reads the setting
    assert "设置前窗口不能登记办件" not in page.inner_text("main")
    page.screenshot(path="/tmp/settings-saved.png", full_page=True)
    assert stored("centre.code") == CODE
    assert config_audit()[-2:] == [("admin", "centre.code", CODE), ("admin", "centre.name", NAME)]

    # Once set up, a login goes to the home page as usual.
    again = WebClient(url)
    assert again.login("admin", NEW_PASSWORD) == (302, "/")


def test_a_clerk_is_told_before_starting_an_intake(served, make_user):
    make_user("boss", "admin")
    make_user("li", "clerk")
    clerk = WebClient(served)
    assert clerk.login("li") == (302, "/")
    for path in ("/", "/intake/new"):
        status, _headers, page = clerk.get(path)
        assert status == 200 and "尚未设置，现在还不能登记办件" in page and "本中心区划代码" in page, path
    admin = WebClient(served)
    assert admin.login("boss") == (302, "/admin/settings")
    status, _headers, page = admin.get("/")
    assert "去系统设置填写" in page  # on every page until it is done
    status, _headers, _page = admin.post("/admin/settings", {"centre.code": CODE})
    assert status == 302
    status, _headers, page = clerk.get("/intake/new")
    assert status == 200 and "还不能登记办件" not in page
    assert WebClient(served).login("boss") == (302, "/")


def test_settings_are_checked_all_or_nothing_and_name_the_field(served, make_user, tmp_path):
    make_user("boss", "admin")
    admin = WebClient(served)
    admin.login("boss")
    status, _headers, _page = admin.post("/admin/settings", {"centre.code": CODE, "centre.phone": "0571-86001234"})
    assert status == 302
    before = config_audit()
    cases = [
        ({"centre.phone": "请拨 0571"}, "咨询电话（centre.phone）：只能包含数字"),
        ({"centre.name": "城关镇\u202e中心"}, "本中心名称（centre.name）：含有看不见的控制字符 U+202E"),
        ({"centre.hours": "工作日" * 40}, "办公时间（centre.hours）：不能超过 100 个字"),
        ({"scan.folder": str(tmp_path / "no such folder")}, "扫描文件夹（scan.folder）：文件夹"),
        ({"scan.folder": "scans"}, "扫描文件夹（scan.folder）：须写完整路径"),
        ({"centre.code": "33112810100"}, "本中心区划代码（centre.code）：必须是 12 位数字"),
        ({"centre.code": "٣٣١١٢٨١٠١٠٠٠"}, "本中心区划代码（centre.code）：必须是 12 位数字"),  # other scripts' digits
    ]
    for values, message in cases:
        # a good value beside the bad one is not stored either
        status, _headers, page = admin.post("/admin/settings", {"centre.name": NAME, **values})
        assert status == 422 and message in page, (values, page[:2000])
        assert stored("centre.name") is None
    assert config_audit() == before and stored("centre.phone") == "0571-86001234"

    folder = tmp_path / "扫描"
    folder.mkdir()
    status, _headers, _page = admin.post("/admin/settings", {"centre.code": "３３１１２８ １０１００１"})
    assert status == 302 and stored("centre.code") == "331128101001"  # typed with a Chinese input method
    before = config_audit()
    status, _headers, _page = admin.post("/admin/settings", {
        "centre.name": f"  {NAME}\u200b ", "centre.hours": "工作日 9:00-12:00，14:00-17:30", "scan.folder": str(folder),
        "node.role": "hub", "sync.node": "not on the page"})
    assert status == 302
    assert stored("centre.name") == NAME  # typed text: trimmed, the zero-width space dropped
    assert stored("scan.folder") == str(folder)
    assert stored("node.role") is None and stored("sync.node") is None  # not on the page: not taken from it
    with db.connection_context():
        assert settings.get("centre.hours") == "工作日 9:00-12:00，14:00-17:30"
    assert [key for _actor, key, _value in config_audit()[len(before):]] == ["centre.name", "centre.hours",
                                                                             "scan.folder"]


def test_only_administrators_see_the_settings(served, make_user):
    make_user("li", "clerk")
    clerk = WebClient(served)
    clerk.login("li")
    status, _headers, page = clerk.get("/admin/settings")
    assert status == 403
    assert 'href="/admin/settings"' not in clerk.get("/")[2]


def test_config_set_names_the_field_and_is_audited(app, run_cli):
    bad = run_cli("config", "set", "centre.phone", "call me")
    assert bad.exit_code == 1 and "咨询电话（centre.phone）：只能包含数字" in bad.stderr
    ok = run_cli("config", "set", "centre.name", NAME)
    assert ok.exit_code == 0 and ok.stdout.strip().endswith(f"centre.name = {NAME}")
    assert config_audit()[-1][1:] == ("centre.name", NAME)


def test_the_backup_folder_chosen_on_the_settings_page_is_where_backups_go(served, make_user, tmp_path):
    make_user("boss", "admin")
    admin = WebClient(served)
    admin.login("boss")
    assert 'name="backup.folder"' in admin.get("/admin/settings")[2]
    status, _headers, page = admin.post("/admin/settings", {"backup.folder": "U盘备份"})
    assert status == 422 and "备份文件夹（backup.folder）：须写完整路径" in page and stored("backup.folder") is None
    usb = tmp_path / "U盘备份"
    usb.mkdir()
    status, _headers, _page = admin.post("/admin/settings", {"backup.folder": str(usb)})
    assert status == 302 and stored("backup.folder") == str(usb)
    assert config_audit()[-1] == ("boss", "backup.folder", str(usb))
    status, _headers, _page = admin.post("/admin/backups/run", {}, token_from="/admin/backups")
    assert status == 302
    for _ in range(600):  # 立即备份 and its verification run in the background
        page = admin.get("/admin/backups")[2]
        if "已校验" in page:
            break
        time.sleep(0.1)
    (taken,) = usb.glob("county-app-*.zip")
    assert str(usb) in page and taken.name in page and "已校验" in page
