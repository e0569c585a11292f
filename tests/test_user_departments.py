"""Users (issue 9, item 7): a department chosen from the catalogue in force; editing and deactivating a user.

A typed 县城管局 for the catalogue's 县城市管理局 made an approver who
silently saw nothing. Through the real command and the real waitress server
(seed catalogue loaded); the user page in chromium at 1366×768.
"""
import json
import re

import pytest

from county_app import accounts
from county_app.db import db
from county_app.models import AuditLog, User

from conftest import PASSWORD, browser_login, serving
from web_client import WebClient


def user(name):
    with db.connection_context():
        return User.get_or_none(User.username == name)


def audit(action):
    with db.connection_context():
        return [(row.entity_id, json.loads(row.detail or "{}"))
                for row in AuditLog.select().where(AuditLog.action == action).order_by(AuditLog.id)]


@pytest.fixture
def served(seeded_app):
    with serving(seeded_app) as url:
        yield url


def test_the_command_line_refuses_a_department_the_catalogue_does_not_name(seeded_app, run_cli):
    refused = run_cli("user", "add", "gcj", "--role", "department", "--department", "县城管局", "--password-stdin",
                      input=f"{PASSWORD}\n")
    assert refused.exit_code == 1
    assert "所属部门“县城管局”不是现行事项目录中的部门" in refused.stderr and "县城市管理局" in refused.stderr
    assert user("gcj") is None
    made = run_cli("user", "add", "gcj", "--role", "department", "--department", "县城市管理局", "--password-stdin",
                   input=f"{PASSWORD}\n")
    assert made.exit_code == 0, made.output
    assert user("gcj").department == "县城市管理局"

    edited = run_cli("user", "edit", "gcj", "--department", "县城管局")
    assert edited.exit_code == 1 and "不是现行事项目录中的部门" in edited.stderr
    edited = run_cli("user", "edit", "gcj", "--display-name", "陈城管", "--department", "县住房和城乡建设局")
    assert edited.exit_code == 0, edited.output
    assert "所属部门：县住房和城乡建设局" in edited.stdout and "登录已失效" in edited.stdout
    assert (user("gcj").display_name, user("gcj").department) == ("陈城管", "县住房和城乡建设局")
    gone = run_cli("user", "deactivate", "gcj")
    assert gone.exit_code == 0 and not user("gcj").active


def test_without_a_catalogue_no_department_user_can_be_made(app, run_cli):
    refused = run_cli("user", "add", "gaj", "--role", "department", "--department", "县公安局", "--password-stdin",
                      input=f"{PASSWORD}\n")
    assert refused.exit_code == 1 and "还没有导入事项目录" in refused.stderr
    assert user("gaj") is None


def test_the_page_offers_the_departments_of_the_catalogue_in_force(served, make_user):
    make_user("boss", "admin")
    admin = WebClient(served)
    admin.login("boss")
    status, _headers, page = admin.get("/admin/users")
    select = page.split('<select id="department" name="department">', 1)[1].split("</select>", 1)[0]
    offered = re.findall(r'<option value="([^"]*)"', select)
    assert offered[0] == "" and "县城市管理局" in offered and "县公安局" in offered and "县城管局" not in offered
    assert offered[1:] == sorted(offered[1:])

    form = {"username": "gcj", "display_name": "陈", "role": "department", "department": "县城管局",
            "phone": "", "password": PASSWORD}
    status, _headers, page = admin.post("/admin/users", form)  # a forged or stale form
    assert status == 422 and "所属部门“县城管局”不是现行事项目录中的部门" in page and user("gcj") is None
    status, _headers, _page = admin.post("/admin/users", {**form, "department": "县城市管理局"})
    assert status == 302 and user("gcj").department == "县城市管理局"
    # the department select keeps its value when another role is chosen: it is not the clerk's
    status, _headers, _page = admin.post("/admin/users", {**form, "username": "li", "role": "clerk",
                                                          "department": "县城市管理局"})
    assert status == 302 and (user("li").role, user("li").department) == ("clerk", None)


def test_an_administrator_edits_name_role_and_department(served, make_user, browser_page):
    make_user("boss", "admin")
    make_user("gcj", "department", department="县城市管理局")
    admin = WebClient(served)
    admin.login("boss")
    approver = WebClient(served)
    assert approver.login("gcj") == (302, "/")

    # A new display name and phone: the user stays logged in.
    status, _headers, _page = admin.post("/admin/users/gcj/edit", {
        "display_name": "陈建国", "phone": "0571-86001236", "role": "department", "department": "县城市管理局"},
        token_from="/admin/users/gcj")
    assert status == 302
    assert (user("gcj").display_name, user("gcj").phone) == ("陈建国", "0571-86001236")
    assert approver.logged_in()
    assert audit("user.edit")[-1] == ("gcj", {"display_name": "陈建国", "phone": "0571-86001236"})

    # A department the catalogue does not name is refused, what was typed stays, nothing changes.
    status, _headers, page = admin.post("/admin/users/gcj/edit", {
        "display_name": "陈国", "phone": "", "role": "department", "department": "县城管局"},
        token_from="/admin/users/gcj")
    assert status == 422 and "不是现行事项目录中的部门" in page and 'value="陈国"' in page
    assert user("gcj").display_name == "陈建国" and approver.logged_in()

    # Another department: what the user sees changes, so the user's sessions end.
    status, _headers, _page = admin.post("/admin/users/gcj/edit", {
        "display_name": "陈建国", "phone": "0571-86001236", "role": "department", "department": "县住房和城乡建设局"},
        token_from="/admin/users/gcj")
    assert status == 302 and user("gcj").department == "县住房和城乡建设局"
    assert not approver.logged_in()
    assert audit("user.role")[-1][1]["was_department"] == "县城市管理局"

    # The page in a browser: the select shows the department, keyboard first.
    page = browser_page
    browser_login(page, served, "boss")
    page.goto(served + "/admin/users/gcj")
    assert page.input_value("#department") == "县住房和城乡建设局"
    page.focus("#display_name")
    page.keyboard.press("Control+A")
    page.keyboard.type("陈建华")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "已更改用户 gcj 的信息" in page.inner_text("main")
    assert user("gcj").display_name == "陈建华"
    page.screenshot(path="/tmp/user-edit.png", full_page=True)

    # Deactivated from its page: it can no longer log in.
    status, _headers, _page = admin.post("/admin/users/gcj/deactivate", {})
    assert status == 302 and not user("gcj").active
    assert WebClient(served).login("gcj")[0] == 200


def test_a_department_the_new_catalogue_dropped_is_shown_and_the_rest_still_editable(served, make_user):
    make_user("boss", "admin")
    make_user("gcj", "department", department="县城市管理局")
    with db.connection_context():  # as a user made before departments were checked, or a renamed department
        User.update(department="县城管局").where(User.username == "gcj").execute()
    admin = WebClient(served)
    admin.login("boss")
    status, _headers, page = admin.get("/admin/users")
    assert "现行目录中没有此部门" in page
    status, _headers, page = admin.get("/admin/users/gcj")
    assert "该用户看不到任何办件" in page and "县城管局（现行目录中没有此部门）" in page
    status, _headers, _page = admin.post("/admin/users/gcj/edit", {
        "display_name": "陈", "phone": "", "role": "department", "department": "县城管局"},
        token_from="/admin/users/gcj")
    assert status == 302 and user("gcj").display_name == "陈"  # the department it has is kept
    with db.connection_context():
        with pytest.raises(accounts.AccountError, match="不是现行事项目录中的部门"):
            accounts.update_user("gcj", role="department", department="县城管理局", actor="boss")
