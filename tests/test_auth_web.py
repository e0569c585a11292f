"""Login, logout and the administrator's pages through the Flask test client, with CSRF on."""
import re
from contextlib import contextmanager
from urllib.parse import unquote

import pytest

from county_app import accounts
from county_app.db import db
from county_app.models import ApiToken, AuditLog, User

from conftest import PASSWORD, csrf_token, login


@contextmanager
def database():
    """A short connection for checks between requests (each request closes its own)."""
    with db.connection_context():
        yield


def get_user(username):
    with database():
        return User.get_or_none(User.username == username)


def shown_value(page):
    """The password or token a page shows once (in its read-only field)."""
    return re.search(r'id="shown"[^>]*value="([^"]+)"', page).group(1)


@pytest.fixture
def admin_client(app, make_user):
    make_user("boss", "admin")
    client = app.test_client()
    assert login(client, "boss").status_code == 302
    return client


@pytest.fixture
def clerk_client(app, make_user):
    make_user("li", "clerk")
    client = app.test_client()
    assert login(client, "li").status_code == 302
    return client


def test_login_form_is_keyboard_friendly_and_has_csrf(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    assert '<label for="username">' in page and "autofocus" in page
    assert 'type="submit"' in page


def test_login_ok_and_home_page(client, make_user):
    make_user("li", "clerk")
    response = login(client, "li")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "窗口人员" in page and "退出" in page


def test_wrong_password(client, make_user):
    make_user("li", "clerk")
    response = login(client, "li", "not the password")
    assert response.status_code == 200
    assert accounts.LOGIN_FAILED in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_held_back_after_five_failures_with_the_same_message(client, make_user):
    make_user("li", "clerk")
    pages = [login(client, "li", "not the password").get_data(as_text=True) for _ in range(5)]
    response = login(client, "li")  # the right password, from the same address
    assert response.status_code == 200
    pages.append(response.get_data(as_text=True))
    for page in pages:
        assert accounts.LOGIN_FAILED in page
        assert "已锁定至" not in page and "再错" not in page
    assert client.get("/").status_code == 302


def test_login_without_csrf_token_is_refused(client, make_user):
    make_user("li", "clerk")
    client.get("/login")
    response = client.post("/login", data={"username": "li", "password": PASSWORD})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "页面已过期" in page and 'value="li"' in page
    assert client.get("/").status_code == 302


def test_post_without_csrf_token_changes_nothing(admin_client):
    response = admin_client.post("/admin/users", data={"username": "wang", "role": "clerk", "display_name": "王五",
                                                       "password": PASSWORD})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "页面已过期，请刷新后重试" in page
    assert "王五" in page and PASSWORD not in page  # what was typed is kept, except the password
    assert get_user("wang") is None
    bad = admin_client.post("/admin/users", data={"username": "wang", "role": "clerk", "password": PASSWORD,
                                                  "csrf_token": "forged"})
    assert bad.status_code == 400 and get_user("wang") is None


def test_logout(clerk_client):
    assert clerk_client.get("/logout").status_code == 405
    response = clerk_client.post("/logout", data={"csrf_token": csrf_token(clerk_client)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert clerk_client.get("/").status_code == 302


def test_logout_needs_csrf_token(clerk_client):
    assert clerk_client.post("/logout").status_code == 400
    assert clerk_client.get("/").status_code == 200


def test_page_redirects_to_login_and_back(client, make_user):
    make_user("li", "clerk")
    response = client.get("/matters?q=户口")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    token = csrf_token(client, "/login")
    assert 'name="next"' in page
    carried = re.search(r'name="next" value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"username": "li", "password": PASSWORD, "csrf_token": token,
                                         "next": carried})
    assert unquote(answer.headers["Location"]) == "/matters?q=户口"


@pytest.mark.parametrize("target", [
    "//evil.example/", "https://evil.example/", "http:evil.example", "/\\evil.example",
    "\\\\evil.example", "javascript:alert(1)", "evil.example", "//%09evil.example", "/%09/evil.example",
])
def test_next_open_redirect_is_blocked(client, make_user, target):
    make_user("li", "clerk")
    token = csrf_token(client, "/login")
    response = client.post(f"/login?next={target}", data={"username": "li", "password": PASSWORD,
                                                           "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_admin_pages_are_forbidden_for_a_clerk(clerk_client):
    for path in ("/admin/users", "/admin/audit", "/admin/users/admin", "/admin/users/admin/reset"):
        response = clerk_client.get(path)
        assert response.status_code == 403, path
        assert "无权" in response.get_data(as_text=True)
    token = csrf_token(clerk_client)
    response = clerk_client.post("/admin/users", data={"username": "wang", "role": "admin", "password": PASSWORD,
                                                       "csrf_token": token})
    assert response.status_code == 403 and get_user("wang") is None
    page = clerk_client.get("/").get_data(as_text=True)
    assert "用户管理" not in page and "操作日志" not in page


def test_admin_adds_a_user(admin_client, departments):
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "系统管理员" in page and "添加用户" in page
    response = admin_client.post("/admin/users", data={
        "username": "wang", "display_name": "王五", "role": "department", "department": "县民政局",
        "phone": "0571-1234567", "password": PASSWORD, "csrf_token": csrf_token(admin_client, "/admin/users")})
    assert response.status_code == 302
    user = get_user("wang")
    assert user.role == "department" and user.department == "县民政局" and user.display_name == "王五"
    with database():
        assert AuditLog.get(AuditLog.action == "user.add", AuditLog.entity_id == "wang").actor == "boss"
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "王五" in page and "部门审批人员" in page and "县民政局" in page


def test_admin_add_user_errors_keep_the_form(admin_client):
    response = admin_client.post("/admin/users", data={
        "username": "wang", "display_name": "王五", "role": "department", "department": "",
        "password": PASSWORD, "csrf_token": csrf_token(admin_client, "/admin/users")})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "必须指定所属部门" in page and 'value="王五"' in page
    assert get_user("wang") is None


def test_admin_adds_a_user_with_generated_password(admin_client):
    response = admin_client.post("/admin/users", data={
        "username": "zhao", "role": "clerk", "password": "", "csrf_token": csrf_token(admin_client, "/admin/users")})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "只显示这一次" in page
    with database():
        shown = shown_value(page)
        assert accounts.authenticate("zhao", shown).username == "zhao"


def test_deactivate_needs_confirmation_and_ends_sessions(app, admin_client, clerk_client):
    page = admin_client.get("/admin/users/li/deactivate").get_data(as_text=True)
    assert "确认停用" in page and get_user("li").active
    token = csrf_token(admin_client, "/admin/users/li/deactivate")
    response = admin_client.post("/admin/users/li/deactivate", data={"csrf_token": token})
    assert response.status_code == 302 and not get_user("li").active
    assert clerk_client.get("/").status_code == 302
    admin_client.post("/admin/users/li/reactivate", data={"csrf_token": csrf_token(admin_client)})
    assert get_user("li").active


def test_reset_password_shows_it_once(admin_client, make_user):
    make_user("li", "clerk")
    assert "确认重置" in admin_client.get("/admin/users/li/reset").get_data(as_text=True)
    response = admin_client.post("/admin/users/li/reset", data={"csrf_token": csrf_token(admin_client)})
    assert response.headers["Cache-Control"] == "no-store"
    with database():
        with pytest.raises(accounts.AccountError):
            accounts.authenticate("li", PASSWORD)
    assert get_user("li").must_change_password
    assert "一次性" in response.get_data(as_text=True)


def test_change_own_password_keeps_this_session_and_ends_others(app, make_user):
    make_user("li", "clerk")
    here, there = app.test_client(), app.test_client()
    login(here, "li")
    login(there, "li")
    form = {"old_password": PASSWORD, "new_password": "a new secret 9", "confirm_password": "a new secret 9",
            "csrf_token": csrf_token(here, "/account/password")}
    assert here.post("/account/password", data=form).status_code == 302
    assert here.get("/").status_code == 200
    assert there.get("/").status_code == 302
    wrong = dict(form, old_password="wrong one", csrf_token=csrf_token(here, "/account/password"))
    assert here.post("/account/password", data=wrong).status_code == 422


def test_issue_and_revoke_a_token_through_the_pages(admin_client, make_user):
    make_user("li", "clerk")
    response = admin_client.post("/admin/users/li/tokens", data={"csrf_token": csrf_token(admin_client)})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    with database():
        record = ApiToken.get()
    page = response.get_data(as_text=True)
    token = shown_value(page)
    assert token.startswith(record.prefix)
    assert admin_client.get("/api/v1/bundles", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    detail = admin_client.get("/admin/users/li").get_data(as_text=True)
    assert record.prefix in detail and "从未使用" not in detail
    confirm = admin_client.get(f"/admin/tokens/{record.prefix}/revoke").get_data(as_text=True)
    assert "确认吊销" in confirm
    with database():
        assert ApiToken.get().revoked_at is None
    response = admin_client.post(f"/admin/tokens/{record.prefix}/revoke",
                                 data={"csrf_token": csrf_token(admin_client, "/admin/users/li")})
    assert response.status_code == 302
    with database():
        assert ApiToken.get().revoked_at is not None
        assert accounts.user_for_token(token) is None
    assert "吊销" in admin_client.get("/admin/users/li").get_data(as_text=True)


def test_audit_page_filters(admin_client, make_user):
    make_user("li", "clerk")
    # The filter takes the action's code; the table shows its words (record_words).
    page = admin_client.get("/admin/audit?action=login.ok").get_data(as_text=True)
    rows = page.split("<tbody>")[1]
    assert 'value="login.ok" selected' in page and "<td>登录</td>" in rows and "新建用户" not in rows
    page = admin_client.get("/admin/audit?actor=test").get_data(as_text=True)
    rows = page.split("<tbody>")[1]
    assert "新建用户" in rows and "<td>登录</td>" not in rows
