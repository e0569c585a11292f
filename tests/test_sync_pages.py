"""The sync pages behind the real server: a township's (runs, backlog, 立即同步 with its progress, errors with
what to do, the sync settings) against a hub served by a real process, and the hub's (townships, refusals,
overdue items by department, conflicts); conflicts on the case page, resolved there."""
import json
import re
from datetime import date, timedelta

import pytest

from county_app import accounts, create_app, settings
from county_app.db import db
from county_app.sync import status

from conftest import PASSWORD, browser_login, serving
from sync_nodes import CENTRE, Hub, cli, count, free_port, rows, served_hub, township
from test_sync_conflicts import decided_on_both_sides
from test_sync_exchange import register_and_accept, sync
from test_sync_schedule import wait_for
from web_client import WebClient


@pytest.fixture
def hub(tmp_path):
    with served_hub(tmp_path / "hub") as node:
        yield node


def users(folder, *who):
    with db.connection_context(), db.atomic():
        for username, role in who:
            accounts.add_user(username, role, PASSWORD, actor="test")


def browser(url, username):
    client = WebClient(url)
    assert client.login(username)[0] == 302
    return client


def press_sync(admin):
    assert admin.post("/sync/run", {}, token_from="/sync")[0] == 302
    assert wait_for(lambda: json.loads(admin.get("/sync/progress")[2]).get("running") is False)
    return admin.get("/sync")[2]


def test_the_township_page_syncs_by_button_and_says_what_to_do_when_it_fails(hub, tmp_path):
    town = township(tmp_path / "town", hub)
    register_and_accept(town, 2)
    waiting = count(town, "sync_outbox")
    app = create_app(town, {"TESTING": True})
    users(town, ("boss", "admin"), ("li", "clerk"))
    with serving(app) as url:
        admin, clerk = browser(url, "boss"), browser(url, "li")
        page = admin.get("/sync")[2]
        assert f"<strong>2</strong> 件办件的 <strong>{waiting}</strong> 条变更尚未上传" in page
        assert "还没有同步过" in page and "立即同步</button>" in page
        status, _headers, seen_by_clerk = clerk.get("/sync")
        assert status == 200 and "等待上传" in seen_by_clerk and "立即同步</button>" not in seen_by_clerk
        assert clerk.post("/sync/run", {}, token_from="/sync")[0] == 403

        page = press_sync(admin)
        assert f"同步完成：上传 {waiting} 条，下载 0 条" in page and "没有等待上传的变更" in page
        assert "最近一次同步成功" in page and "boss 点“立即同步”" in page
        assert count(hub.dir, "case_record") == 2

        with db.connection_context():
            settings.change({"sync.url": f"http://127.0.0.1:{free_port()}"}, actor="test")
        page = press_sync(admin)
        assert "连不上县级汇聚中心" in page and "检查本机网络" in page and "系统设置中的汇聚中心地址" in page
        assert "错误说明：无法连接县级汇聚中心" in page
        health = admin.get("/admin/health")[2]
        assert "最近一次同步（" in health and "没有成功：连不上县级汇聚中心" in health


def test_sync_not_set_up_names_only_what_is_missing_and_the_press_is_audited(tmp_path):
    town = tmp_path / "town"
    town.mkdir()
    cli(town, "init", "--code", CENTRE, "--name", "城关镇便民服务中心")  # the centre code is set, the hub is not
    app = create_app(town, {"TESTING": True})
    with db.connection_context(), db.atomic():
        accounts.add_user("boss", "admin", PASSWORD, display_name="王主任", actor="test")
    with serving(app) as url:
        admin = browser(url, "boss")
        page = admin.get("/sync")[2]
        assert "自动同步未开启：在系统设置中填写汇聚中心地址、同步密钥后，每天 02:00 自动同步" in page
        assert "每天 02:00 自动同步（" not in page
        page = press_sync(admin)
        alert = re.search(r'<div class="flash flash-error" role="alert">(.*?)</div>', page, re.S).group(1)
        assert "尚未设置同步" in alert and "王主任 点“立即同步”" in alert
        assert "怎么办：在系统设置中填写汇聚中心地址、同步密钥（汇聚中心地址和同步密钥由县级管理员提供），再点“立即同步”" \
            in alert and 'href="/admin/settings#sync">打开系统设置</a>' in alert
        assert "区划代码" not in alert and "本页" not in alert and "README" not in alert
        assert "sync.url" not in page and "sync.secret" not in page and "admin 点" not in page
        assert "王主任 发起的同步没有完成" in page
        log = admin.get("/admin/audit")[2]
        assert "立即同步" in log and "王主任（boss）" in log
        assert rows(town, "select actor, action, entity from audit_log where action = 'sync.run'") == \
            [("boss", "sync.run", "sync")]
        # Once the address and secret are set, the advice of that old run says so, and automatic sync is on.
        with db.connection_context():
            settings.change({"sync.url": "http://127.0.0.1:9", "sync.secret": "x" * 43}, actor="test")
        page = admin.get("/sync")[2]
        assert "所需的设置现已填写" in page and "自动同步未开启" not in page and "每天 02:00 自动同步（" in page


def test_the_sync_settings_keep_the_secret_unseen_and_unchanged_when_left_blank(hub, tmp_path):
    town = township(tmp_path / "town", hub)
    app = create_app(town, {"TESTING": True})
    users(town, ("boss", "admin"))
    with serving(app) as url:
        admin = browser(url, "boss")
        page = admin.get("/admin/settings")[2]
        assert "<legend>同步</legend>" in page and f'value="{hub.url}"' in page
        assert hub.secret not in page and 'name="sync.secret" type="password" value=""' in page and "已设置" in page
        form = {key: value for key, value in re.findall(r'name="([a-z.]+)"[^>]*?value="([^"]*)"', page)}
        assert form["sync.secret"] == ""
        assert admin.post("/admin/settings", form)[0] == 302
        assert rows(town, "select value from setting where key = 'sync.secret'") == [(hub.secret,)]
        refused = admin.post("/admin/settings", {**form, "sync.url": "hub.example.cn/sync"})
        assert refused[0] == 422 and "汇聚中心地址（sync.url）：应为汇聚中心的网址" in refused[2]
        assert admin.post("/admin/settings", {**form, "sync.secret": "wrong-secret"})[0] == 302
        page = press_sync(admin)
    assert "同步密钥不对" in page and "node secret" in page


def test_a_conflict_shows_on_the_case_page_with_both_values_and_is_resolved_there(hub, tmp_path):
    town = township(tmp_path / "town", hub)
    case_no = decided_on_both_sides(hub, town)
    app = create_app(town, {"TESTING": True})
    users(town, ("boss", "admin"), ("li", "clerk"))
    with serving(app) as url:
        admin, clerk = browser(url, "boss"), browser(url, "li")
        case_page = clerk.get(f"/cases/{case_no}")[2]
        assert "同步冲突" in case_page and "HUB-1" in case_page and "待管理员处理" in case_page
        assert "采用县级汇聚中心的记录</button>" not in case_page
        assert "1 处待处理" in clerk.get("/sync")[2]
        case_page = admin.get(f"/cases/{case_no}")[2]
        conflict_id = re.search(r'/sync/conflicts/(\d+)/resolve', case_page).group(1)
        assert clerk.post(f"/sync/conflicts/{conflict_id}/resolve", {"side": "hub", "back": "case"},
                          token_from=f"/cases/{case_no}")[0] == 403
        done = admin.post(f"/sync/conflicts/{conflict_id}/resolve", {"side": "hub", "back": "case"},
                          token_from=f"/cases/{case_no}")
        assert done[0] == 303 and done[1]["Location"].endswith(f"/cases/{case_no}#sync-conflicts")
        case_page = admin.get(f"/cases/{case_no}")[2]
        assert "已处理" in case_page and "采用县级汇聚中心（部门）的记录" in case_page
        assert "处理同步冲突" in case_page  # in the case's history
        again = admin.post(f"/sync/conflicts/{conflict_id}/resolve", {"side": "township"}, token_from="/sync")
        assert again[0] == 303 and "已由 boss 处理" in admin.get("/sync")[2]
    sync(town)
    assert rows(hub.dir, "select count(*) from sync_conflict where resolved_at is null") == [(0,)]


def test_the_hub_page_shows_townships_refusals_overdue_items_and_conflicts(hub, tmp_path):
    town = township(tmp_path / "town", hub)
    case_no = decided_on_both_sides(hub, town)
    register_and_accept(town)  # a second case, its items still open at the hub
    sync(town)
    cli(town, "config", "set", "sync.secret", "wrong-secret")
    assert cli(town, "sync", "run", check=False).returncode == 1
    app = create_app(hub.dir, {"TESTING": True})  # the hub's folder served in this process too
    users(hub.dir, ("county", "admin"))
    with serving(app) as url:
        page = browser(url, "county").get("/sync")[2]
        with db.connection_context():
            later = status.overdue_by_department(date.today() + timedelta(days=400))
    assert CENTRE in page and "城关镇" in page and "正常" in page
    assert "签名不正确" in page  # the refusal, kept for the township's row
    assert "同步冲突（1 处待处理）" in page and case_no in page and "采用乡镇窗口的记录</button>" in page
    assert "没有逾期的事项" in page
    open_items = rows(hub.dir, "select department, count(*) from case_item where status = 'pending' group by 1")
    assert [(department, total) for department, _by_node, total in later] == \
        sorted(open_items, key=lambda row: (-row[1], row[0]))
    assert all(by_node == [(CENTRE, total)] for _department, by_node, total in later)


def test_a_browser_sees_the_button_run_go_then_its_outcome(tmp_path, browser_page):
    hub = Hub(tmp_path / "hub")
    hub.hold = 2  # each batch's transaction held open 2 s at the hub: the run lasts long enough to watch
    hub.start()
    try:
        town = township(tmp_path / "town", hub)
        register_and_accept(town, 2)
        waiting = count(town, "sync_outbox")
        app = create_app(town, {"TESTING": True})
        users(town, ("boss", "admin"))
        with serving(app) as url:
            page = browser_page
            browser_login(page, url, "boss")
            page.goto(url + "/sync")
            page.click("button:has-text('立即同步')")
            page.wait_for_selector("#sync-progress[data-running]")
            page.screenshot(path="/tmp/sync-button-running.png")
            page.wait_for_selector(f"text=同步完成：上传 {waiting} 条", timeout=60_000)  # polled, then reloaded
            assert page.locator("#sync-progress[data-running]").count() == 0
    finally:
        hub.stop()
