"""The 备份与恢复 page through the real server: 立即备份 in the background with its result, a restore chosen
on the page (listed or uploaded) after a confirmation, applied by the real ``serve`` at its next start."""
import http.client
import re
import sqlite3
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit

import pytest

from county_app import accounts, migrations
from county_app.db import db
from conftest import serving
from program import started_serving
from web_client import WebClient


@pytest.fixture
def admin(seeded_app, make_user):
    make_user("boss", "admin")
    make_user("li", "clerk")
    with serving(seeded_app) as url:
        browser = WebClient(url)
        assert browser.login("boss")[0] == 302
        yield browser


def audit_actions(data_dir):
    con = sqlite3.connect(data_dir / "county_app.sqlite3")
    try:
        return [row[0] for row in con.execute("select action from audit_log where entity = 'backup' order by id")]
    finally:
        con.close()


def back_up_on_the_page(browser):
    status, headers, _ = browser.post("/admin/backups/run", {}, token_from="/admin/backups")
    assert status == 302
    for _ in range(300):  # the page refreshes itself while the backup runs; bounded here
        status, _, page = browser.get("/admin/backups")
        if "备份完成并已校验" in page or "备份失败" in page:
            return page
        assert 'http-equiv="refresh"' in page and ("正在备份" in page or "正在校验" in page)
        time.sleep(0.1)
    raise AssertionError("the backup did not finish")


def test_only_an_administrator_has_the_page(admin, live_server):
    assert admin.get("/admin/backups")[0] == 200
    clerk = WebClient(admin_url(admin))
    assert clerk.login("li")[0] == 302
    assert clerk.get("/admin/backups")[0] == 403
    assert clerk.post("/admin/backups/run", {}, token_from="/")[0] == 403


def admin_url(browser):
    return f"http://{browser.host}:{browser.port}"


def test_back_up_now_then_choose_a_backup_to_restore(admin, data_dir):
    page = back_up_on_the_page(admin)
    (name,) = re.findall(r"county-app-\d{8}-\d{6}\.zip", page)[:1]
    assert (data_dir / "backups" / name).is_file() and migrations.MIGRATIONS[-1][0] in page and "已校验" in page
    status, _, confirm = admin.get(f"/admin/backups/{name}/restore")
    assert status == 200 and "确认恢复" in confirm
    assert not (data_dir / "restore-pending.json").exists()  # the confirmation page changes nothing
    status, _, _ = admin.post(f"/admin/backups/{name}/restore", {})
    assert status == 302
    status, _, page = admin.get("/admin/backups")
    assert "已安排恢复" in page and name in page
    assert audit_actions(data_dir) == ["backup.create", "backup.verified", "backup.restore_staged"]
    # unknown or made-up names are 404, never a path outside the folder
    for wrong in ("county-app-20200101-000000.zip", "..%2Fcounty_app.sqlite3", "secret_key"):
        assert admin.get(f"/admin/backups/{wrong}/restore")[0] == 404


def upload(browser, data, filename="备份.zip"):
    token = browser.csrf("/admin/backups")
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"backup\"; filename=\"{filename}\"\r\n"
            "Content-Type: application/zip\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection(browser.host, browser.port, timeout=30)
    try:
        conn.request("POST", "/admin/backups/upload", body=body, headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())})
        response = conn.getresponse()
        response.read()
        for header, value in response.getheaders():  # the flashed message rides in the session cookie
            if header.lower() == "set-cookie":
                cookie, _, rest = value.partition("=")
                browser.cookies[cookie] = rest.split(";", 1)[0]
        return response.status, response.getheader("Location") or ""
    finally:
        conn.close()


def test_an_uploaded_file_is_checked_before_anything_is_kept(admin, data_dir, tmp_path):
    status, location = upload(admin, b"PK\x03\x04 not really a backup")
    assert status == 302 and urlsplit(location).path == "/admin/backups"
    status, _, page = admin.get("/admin/backups")
    assert "上传的文件不能用于恢复" in page and "不完整" in page
    assert not (data_dir / "backups").exists() or not list((data_dir / "backups").iterdir())
    good = tmp_path / "good.zip"
    done = subprocess.run([sys.executable, "-m", "county_app", "--data-dir", str(data_dir), "backup", str(good)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    status, location = upload(admin, good.read_bytes())
    assert status == 302 and re.search(r"/admin/backups/county-app-\d{8}-\d{6}-uploaded\.zip/restore$", location)
    assert admin.get(urlsplit(location).path)[0] == 200
    assert "backup.upload" in audit_actions(data_dir)


def test_serve_applies_the_restore_chosen_on_the_page_at_its_next_start(admin, seeded_app, data_dir):
    page = back_up_on_the_page(admin)
    (name,) = re.findall(r"county-app-\d{8}-\d{6}\.zip", page)[:1]
    assert admin.post(f"/admin/backups/{name}/restore", {})[0] == 302
    with db.connection_context():
        accounts.add_user("later", "clerk", "correct horse 42", actor="test")  # after the backup
    db.close_all()
    with started_serving(data_dir) as printed:
        text = "".join(printed)
    assert "已恢复备份" in text and "被替换的数据库" in text, text
    assert not (data_dir / "restore-pending.json").exists()
    con = sqlite3.connect(data_dir / "county_app.sqlite3")
    assert "later" not in {row[0] for row in con.execute("select username from user")}
    con.close()
    assert audit_actions(data_dir)[-1] == "backup.restore"


def test_a_chosen_backup_that_fails_its_full_check_at_the_start_changes_nothing(admin, data_dir, tmp_path):
    from test_backups import damaged_page, rewrite

    good = tmp_path / "good.zip"
    done = subprocess.run([sys.executable, "-m", "county_app", "--data-dir", str(data_dir), "backup", str(good)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # whole in structure, its database changed since its checksum was taken: only the full check sees it
    (data_dir / "backups").mkdir(exist_ok=True)
    name = "county-app-20261130-101500.zip"
    rewrite(good, data_dir / "backups" / name, database=damaged_page, rehash=False)
    assert admin.post(f"/admin/backups/{name}/restore", {})[0] == 302
    db.close_all()
    with started_serving(data_dir) as printed:
        text = "".join(printed)
    assert "恢复失败" in text and "SHA-256 校验和与清单不符" in text, text
    assert not list(data_dir.glob("county_app.sqlite3.replaced-*")) and not list(data_dir.glob(".restore-*"))
    assert not (data_dir / "restore-pending.json").exists()
    assert audit_actions(data_dir)[-1] == "backup.restore_failed"
    con = sqlite3.connect(data_dir / "county_app.sqlite3")
    assert {"boss", "li"} <= {row[0] for row in con.execute("select username from user")}
    con.close()


def test_before_the_first_backup_the_page_says_so_without_an_error(admin, data_dir):
    """The default folder (<data>/backups) is made by the first backup: until then no error is shown."""
    assert not (data_dir / "backups").exists()
    status, _, page = admin.get("/admin/backups")
    assert status == 200 and "还没有做过备份" in page
    assert "目前不存在或无法访问" not in page and "无法读取" not in page  # no error about the folder
    back_up_on_the_page(admin)
    page = admin.get("/admin/backups")[2]
    assert "还没有做过备份" not in page and "已校验" in page
