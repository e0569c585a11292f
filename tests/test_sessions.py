"""Login sessions end when they end (issue 7, item 7), through the real waitress server.

A cookie copied from a browser is tried after logout, a password change, a
reset, a deactivation and a role change. One-time passwords (an
administrator's reset, ``user reset-password``) lead to 修改密码 first.
"""
import json
from datetime import timedelta

import pytest

from county_app import accounts, sessions
from county_app.db import db
from county_app.maintenance import run_maintenance
from county_app.models import AuditLog, LoginSession, utcnow

from conftest import PASSWORD, serving
from web_client import WebClient


@pytest.fixture
def served(app):
    with serving(app) as url:
        yield url


def copy_of(client):
    """Another browser holding a copy of ``client``'s cookies (as someone who copied them would)."""
    thief = WebClient(f"http://{client.host}:{client.port}", client.address)
    thief.cookies = dict(client.cookies)
    return thief


def logged_in_as(served, username, password=PASSWORD):
    client = WebClient(served)
    assert client.login(username, password)[0] == 302  # to / (an administrator: 系统设置 until a centre code is set)
    return client


def test_logout_ends_that_session_and_every_copy_of_its_cookie(served, make_user):
    make_user("li", "clerk")
    browser = logged_in_as(served, "li")
    other_pc = logged_in_as(served, "li")
    thief = copy_of(browser)
    assert thief.logged_in()
    status, headers, _page = browser.post("/logout", {}, token_from="/")
    assert status == 302 and headers["Location"].startswith("/login")
    assert not browser.logged_in()
    assert not thief.logged_in()  # before: the copied cookie worked for 12 hours
    assert other_pc.logged_in()  # logging out at one PC ends that session only


def test_logging_in_again_in_the_same_browser_ends_the_session_it_had(served, make_user):
    """Found by the review of issue 7: the earlier session, and every copy of its cookie, stayed open."""
    make_user("li", "clerk")
    make_user("wang", "clerk")
    browser = logged_in_as(served, "li")
    thief = copy_of(browser)
    status, headers, _page = browser.request("POST", "/login", {  # the login form, still open in a tab
        "username": "wang", "password": PASSWORD, "csrf_token": browser.csrf("/")})
    assert status == 302
    assert browser.logged_in() and not thief.logged_in()
    with db.connection_context():
        assert LoginSession.select().where(LoginSession.ended_at.is_null()).count() == 1


def test_a_password_change_ends_the_users_other_sessions(served, make_user):
    make_user("li", "clerk")
    here, there = logged_in_as(served, "li"), logged_in_as(served, "li")
    status, _headers, _page = here.post("/account/password", {
        "old_password": PASSWORD, "new_password": "a new secret 9", "confirm_password": "a new secret 9"})
    assert status == 302
    assert here.logged_in()
    assert not there.logged_in()


@pytest.mark.parametrize("action", ["reset", "deactivate", "role"])
def test_reset_deactivation_and_role_change_end_every_session(served, make_user, action):
    make_user("boss", "admin")
    make_user("li", "clerk")
    admin = logged_in_as(served, "boss")
    li_here, li_there = logged_in_as(served, "li"), logged_in_as(served, "li")
    thief = copy_of(li_here)
    if action == "reset":
        status, _headers, page = admin.post("/admin/users/li/reset", {})
        assert status == 200 and "一次性" in page
    elif action == "deactivate":
        status, _headers, _page = admin.post("/admin/users/li/deactivate", {})
        assert status == 302
    else:
        status, _headers, _page = admin.post("/admin/users/li/edit", {"role": "county", "department": ""},
                                             token_from="/admin/users/li")
        assert status == 302
        with db.connection_context():
            assert accounts.get_user("li").role == "county"
            assert AuditLog.get(AuditLog.action == "user.role").actor == "boss"
    for client in (li_here, li_there, thief):
        assert not client.logged_in(), action
    assert admin.logged_in()


def test_a_one_time_password_must_be_changed_before_anything_else(served, make_user):
    make_user("boss", "admin")
    make_user("li", "clerk")
    admin = logged_in_as(served, "boss")
    _status, _headers, page = admin.post("/admin/users/li/reset", {})
    one_time = page.split('id="shown"', 1)[1].split('value="', 1)[1].split('"', 1)[0]

    li = WebClient(served)
    assert li.login("li", one_time) == (302, "/account/password")
    for path in ("/", "/cases", "/matters", "/admin/users"):
        status, headers, _page = li.get(path)
        assert status == 302 and headers["Location"] == "/account/password", path
    status, _headers, body = li.get("/api/v1/bundles")
    assert status == 403 and json.loads(body)["error"]["code"] == "password_change_required"
    status, _headers, page = li.get("/account/password")
    assert status == 200 and "一次性密码" in page
    status, headers, _page = li.post("/logout", {}, token_from="/account/password")
    assert status == 302 and headers["Location"].startswith("/login")  # logging out is allowed
    assert li.login("li", one_time) == (302, "/account/password")
    status, _headers, page = li.post("/account/password", {
        "old_password": one_time, "new_password": "12345678", "confirm_password": "12345678"})
    assert status == 422 and "至少需要 12 个字符" in page
    status, _headers, page = li.post("/account/password", {
        "old_password": one_time, "new_password": "password12345", "confirm_password": "password12345"})
    assert status == 422 and "太容易被猜到" in page
    status, _headers, _page = li.post("/account/password", {
        "old_password": one_time, "new_password": "my own secret 31", "confirm_password": "my own secret 31"})
    assert status == 302
    assert li.get("/")[0] == 200
    with db.connection_context():
        assert not accounts.get_user("li").must_change_password


def test_the_database_holds_only_hashes_of_session_ids(served, make_user, data_dir):
    make_user("li", "clerk")
    browser = logged_in_as(served, "li")
    cookie = browser.cookies["session"]
    with db.connection_context():
        rows = list(LoginSession.select())
        assert len(rows) == 1 and rows[0].source == "127.0.0.1" and len(rows[0].token_hash) == 64
    files = b"".join(path.read_bytes() for path in data_dir.iterdir() if path.is_file())
    assert cookie.encode() not in files


def test_sessions_last_twelve_hours_and_finished_ones_are_cleaned(app, data_dir, make_user):
    user = make_user("li", "clerk")
    start = utcnow()
    with db.connection_context():
        token = sessions.start(user, now=start)
        assert sessions.find(token, now=start + timedelta(hours=11, minutes=59))
        assert sessions.find(token, now=start + timedelta(hours=12, seconds=1)) is None
        ended = sessions.start(user, now=start)
        sessions.end(ended)
        assert sessions.find(ended, now=start) is None
        assert sessions.find("not a session", now=start) is None
    report = run_maintenance(data_dir, now=start + timedelta(hours=1))
    assert report.sessions_removed == 1 and not report.failures  # the ended one
    report = run_maintenance(data_dir, now=start + timedelta(hours=13))
    assert report.sessions_removed == 1  # the expired one
    with db.connection_context():
        assert LoginSession.select().count() == 0
        sessions.end(sessions.start(user, now=start))
        sessions.start(user, now=start)  # a login also clears the user's finished sessions
        assert LoginSession.select().count() == 1


def test_a_department_user_made_a_clerk_from_the_page_loses_the_department(served, make_user, departments):
    """The role form keeps the old department in its field; changing the role to 窗口人员 was refused for it."""
    make_user("boss", "admin")
    make_user("gaj", "department", department="县公安局")
    admin = logged_in_as(served, "boss")
    status, _headers, page = admin.post("/admin/users/gaj/edit", {"role": "clerk", "department": "县公安局"},
                                        token_from="/admin/users/gaj")
    assert status == 302, page
    with db.connection_context():
        user = accounts.get_user("gaj")
        assert (user.role, user.department) == ("clerk", None)
