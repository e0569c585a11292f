"""Accounts as a domain: hashing, password rules, tokens, role rules and the audit trail (no HTTP).

The login throttle has its own file (test_login_throttle.py), sessions too (test_sessions.py).
"""
import json
import re
import sqlite3
from datetime import timedelta

import pytest

from county_app import accounts, passwords
from county_app.db import database_path, db
from county_app.models import ApiToken, AuditLog, LoginThrottle, User, utcnow

from conftest import PASSWORD


@pytest.fixture
def conn(app, departments):
    """An open connection to the test node's database for the duration of the test."""
    with db.connection_context():
        yield


def actions(entity_id=None):
    query = AuditLog.select().order_by(AuditLog.id)
    if entity_id is not None:
        query = query.where(AuditLog.entity_id == entity_id)
    return [row.action for row in query]


def test_password_is_hashed_with_werkzeug(conn):
    user = accounts.add_user("li", "clerk", PASSWORD, actor="test")
    stored = User.get_by_id(user.id).password_hash
    assert PASSWORD not in stored
    assert stored.startswith(("scrypt:", "pbkdf2:"))
    assert accounts.authenticate("li", PASSWORD).id == user.id


def test_usernames_are_checked_and_case_folded(conn):
    accounts.add_user("Li.Ming_2", "clerk", PASSWORD, actor="test")
    assert accounts.get_user("li.ming_2").username == "li.ming_2"
    accounts.add_user("阿依古丽·买买提", "clerk", PASSWORD, actor="test")
    for bad in ("", " ", "-li", "li ming", "a" * 65, "li/ming", "system"):
        with pytest.raises(accounts.AccountError):
            accounts.add_user(bad, "clerk", PASSWORD, actor="test")
    with pytest.raises(accounts.AccountError, match="已存在"):
        accounts.add_user("LI.MING_2", "clerk", PASSWORD, actor="test")


@pytest.mark.parametrize("field, value, message", [
    ("username", "\u200b\u200b", "用户名不能为空"),  # made of zero-width characters only
    ("username", "li\u202eming", "用户名含有看不见的控制字符 U+202E"),
    ("username", "li\x00", "用户名含有看不见的控制字符 U+0000"),
    ("display_name", "\u202e五王", "姓名含有看不见的控制字符 U+202E"),
    ("display_name", "王\x00五", "姓名含有看不见的控制字符 U+0000"),
    ("display_name", "王\ud800五", "姓名含有无法识别的字符"),
    ("department", "\u200b\u2060", "必须指定所属部门"),
    ("department", "县民政局\u202e", "所属部门含有看不见的控制字符 U+202E"),
])
def test_invisible_and_reversing_characters_are_refused_in_names(conn, field, value, message):
    fields = {"username": "wang", "display_name": "王五", "department": "县民政局", **{field: value}}
    with pytest.raises(accounts.AccountError, match=re.escape(message)):
        accounts.add_user(fields["username"], "department", PASSWORD, department=fields["department"],
                          display_name=fields["display_name"], actor="test")
    assert not User.select().where(User.username != "admin").exists()
    # a zero-width character pasted inside an otherwise good name is dropped, not stored
    user = accounts.add_user("wang\u200b", "department", PASSWORD, department="县\u200b民政局",
                             display_name="王\u200d五", actor="test")
    assert (user.username, user.department, user.display_name) == ("wang", "县民政局", "王五")
    with pytest.raises(accounts.AccountError, match="所属部门含有"):
        accounts.change_role("wang", "department", "\u202e局", actor="admin")


@pytest.mark.parametrize("password, message", [
    ("12345678", "至少需要 12 个字符"),
    ("short7!", "至少需要 12 个字符"),
    ("1234567890ab", "太容易被猜到"),
    ("password1234", "太容易被猜到"),
    ("qwertyuiop123", "太容易被猜到"),
    ("aaaaaaaaaaaaaaaa", "太容易被猜到"),
    ("woaini1314520", "太容易被猜到"),  # common in Chinese leaks, unknown to zxcvbn's English lists
    ("zhangsan12345", "太容易被猜到"),  # the user's own name and a run of digits
    ("ZhangSan1988", "太容易被猜到"),
    ("  ZhangSan  ", "用户名或姓名相同"),
    ("x" * 129, "不能超过 128 个字符"),
])
def test_password_rules(conn, password, message):
    with pytest.raises(accounts.AccountError, match=message):
        accounts.add_user("zhangsan", "clerk", password, display_name="张三", actor="test")
    assert not User.select().where(User.username == "zhangsan").exists()


def test_good_and_random_passwords_pass_the_checker(conn):
    for good in (PASSWORD, "a new secret 9", "Li Si window 8", "春天 骑车 去 县城 27",
                 "a clerk at the window types this whole sentence of well over seventy-two characters 1987"):
        passwords.check_rules(good, words=("li", "李四"))
    generated = {accounts.random_password() for _ in range(50)}
    assert len(generated) == 50
    for password in generated:
        assert len(password) >= accounts.MIN_PASSWORD_LENGTH
        passwords.check_rules(password)


def test_department_role_needs_exactly_one_department(conn):
    with pytest.raises(accounts.AccountError, match="必须指定所属部门"):
        accounts.add_user("wang", "department", PASSWORD, actor="test")
    with pytest.raises(accounts.AccountError, match="只有部门审批人员"):
        accounts.add_user("zhao", "clerk", PASSWORD, department="县民政局", actor="test")
    with pytest.raises(accounts.AccountError, match="未知的角色"):
        accounts.add_user("qian", "boss", PASSWORD, actor="test")
    user = accounts.add_user("wang", "department", PASSWORD, department=" 县民政局 ", actor="test")
    assert user.department == "县民政局"
    assert not User.select().where(User.username.in_(["zhao", "qian"])).exists()


def test_wrong_password_and_unknown_user_give_the_same_message(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    with pytest.raises(accounts.AccountError) as wrong:
        accounts.authenticate("li", "wrong password")
    with pytest.raises(accounts.AccountError) as unknown:
        accounts.authenticate("nobody", PASSWORD)
    assert str(wrong.value) == str(unknown.value) == accounts.LOGIN_FAILED
    assert accounts.authenticate("li", PASSWORD).username == "li"
    assert actions("li")[-1] == "login.ok"


def test_inactive_user_cannot_log_in_and_reactivates(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    accounts.deactivate_user("li", actor="admin")
    with pytest.raises(accounts.AccountError) as refused:
        accounts.authenticate("li", PASSWORD)
    assert str(refused.value) == accounts.LOGIN_FAILED  # the right password is not confirmed
    accounts.reactivate_user("li", actor="admin")
    assert accounts.authenticate("li", PASSWORD)


def test_last_admin_and_oneself_cannot_be_deactivated(conn):
    with pytest.raises(accounts.AccountError, match="唯一可用的系统管理员"):
        accounts.deactivate_user("admin", actor="someone")
    accounts.add_user("boss", "admin", PASSWORD, actor="admin")
    with pytest.raises(accounts.AccountError, match="不能停用自己"):
        accounts.deactivate_user("boss", actor="boss")
    accounts.deactivate_user("admin", actor="boss")
    assert not accounts.get_user("admin").active


def test_role_change_keeps_the_last_admin_and_the_department_rule(conn):
    with pytest.raises(accounts.AccountError, match="唯一可用的系统管理员"):
        accounts.change_role("admin", "clerk", actor="someone")
    accounts.add_user("li", "clerk", PASSWORD, actor="admin")
    with pytest.raises(accounts.AccountError, match="必须指定所属部门"):
        accounts.change_role("li", "department", actor="admin")
    with pytest.raises(accounts.AccountError, match="不能更改自己的角色"):
        accounts.change_role("li", "county", actor="li")
    changed = accounts.change_role("li", "department", " 县民政局 ", actor="admin")
    assert (changed.role, changed.department) == ("department", "县民政局")
    with pytest.raises(accounts.AccountError, match="已经是"):
        accounts.change_role("li", "department", "县民政局", actor="admin")
    assert accounts.change_role("li", "clerk", actor="admin").department is None
    assert actions("li")[-2:] == ["user.role", "user.role"]


def test_change_password_needs_the_old_one(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    with pytest.raises(accounts.AccountError, match="原密码不正确"):
        accounts.change_password("li", "not it at all", "new password 1", actor="li")
    with pytest.raises(accounts.AccountError, match="至少需要"):
        accounts.change_password("li", PASSWORD, "short", actor="li")
    with pytest.raises(accounts.AccountError, match="不能与原密码相同"):
        accounts.change_password("li", PASSWORD, PASSWORD, actor="li")
    accounts.change_password("li", PASSWORD, "new password 1", actor="li")
    assert accounts.authenticate("li", "new password 1")
    with pytest.raises(accounts.AccountError):
        accounts.authenticate("li", PASSWORD)


def test_admin_reset_gives_a_one_time_password_and_lifts_holds(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    start = utcnow()
    for _ in range(5):
        with pytest.raises(accounts.AccountError):
            accounts.authenticate("li", "wrong password", now=start, source="10.0.0.7")
    assert LoginThrottle.select().where(LoginThrottle.name_key.is_null(False)).exists()
    new = accounts.reset_password("li", actor="admin")
    assert len(new) >= accounts.MIN_PASSWORD_LENGTH
    passwords.check_rules(new)
    assert not LoginThrottle.select().where(LoginThrottle.name_key.is_null(False)).exists()
    user = accounts.authenticate("li", new, now=start, source="10.0.0.7")
    assert user.must_change_password
    with pytest.raises(accounts.AccountError):
        accounts.authenticate("li", PASSWORD, now=start)
    accounts.change_password("li", new, "new password 1", actor="li")
    assert not accounts.get_user("li").must_change_password
    assert new not in json.dumps([row.detail for row in AuditLog.select()])


def test_tokens_are_hashed_at_rest(app, conn, data_dir):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    issued = accounts.issue_token("li", actor="admin")
    assert len(issued.token) >= 40 and issued.token.startswith(issued.prefix)
    row = ApiToken.get(ApiToken.prefix == issued.prefix)
    assert row.token_hash != issued.token and len(row.token_hash) == 64
    raw = sqlite3.connect(database_path(data_dir))
    try:
        dump = "\n".join(raw.iterdump())
    finally:
        raw.close()
    assert issued.token not in dump
    for path in data_dir.iterdir():  # the database file, its WAL and anything else on disk
        if path.is_file():
            assert issued.token.encode() not in path.read_bytes()


def test_token_lookup_revoke_and_inactive_user(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    issued = accounts.issue_token("li", actor="admin")
    assert accounts.user_for_token(issued.token).username == "li"
    assert accounts.user_for_token(issued.token + "x") is None
    assert accounts.user_for_token("") is None
    accounts.deactivate_user("li", actor="admin")
    assert accounts.user_for_token(issued.token) is None
    accounts.reactivate_user("li", actor="admin")
    accounts.revoke_token(issued.prefix, actor="admin")
    assert accounts.user_for_token(issued.token) is None
    with pytest.raises(accounts.AccountError, match="已于"):
        accounts.revoke_token(issued.prefix, actor="admin")
    with pytest.raises(accounts.AccountError, match="没有编号"):
        accounts.revoke_token("nope", actor="admin")


def test_token_last_used_is_written_at_most_once_a_minute(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    issued = accounts.issue_token("li", actor="admin")
    start = utcnow()
    accounts.user_for_token(issued.token, now=start)
    first = ApiToken.get(ApiToken.prefix == issued.prefix).last_used_at
    assert accounts.as_utc(first) == start
    accounts.user_for_token(issued.token, now=start + timedelta(seconds=30))
    assert accounts.as_utc(ApiToken.get(ApiToken.prefix == issued.prefix).last_used_at) == start
    later = start + timedelta(seconds=61)
    accounts.user_for_token(issued.token, now=later)
    assert accounts.as_utc(ApiToken.get(ApiToken.prefix == issued.prefix).last_used_at) == later


def test_inactive_user_gets_no_token(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    accounts.deactivate_user("li", actor="admin")
    with pytest.raises(accounts.AccountError, match="已停用"):
        accounts.issue_token("li", actor="admin")
    assert ApiToken.select().count() == 0


def test_every_write_is_audited(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="admin")
    accounts.change_password("li", PASSWORD, "new password 1", actor="li")
    accounts.reset_password("li", actor="admin")
    accounts.deactivate_user("li", actor="admin")
    accounts.reactivate_user("li", actor="admin")
    accounts.change_role("li", "county", actor="admin")
    accounts.unlock_user("li", actor="admin")
    issued = accounts.issue_token("li", actor="admin")
    accounts.revoke_token(issued.prefix, actor="admin")
    assert actions("li") == ["user.add", "user.password", "user.reset", "user.deactivate", "user.reactivate",
                             "user.role", "user.unlock"]
    assert actions(issued.prefix) == ["token.issue", "token.revoke"]
    add = AuditLog.get(AuditLog.action == "user.add", AuditLog.entity_id == "li")
    assert add.actor == "admin" and json.loads(add.detail)["role"] == "clerk"
    assert PASSWORD not in "".join(row.detail for row in AuditLog.select())


def test_failed_write_leaves_no_audit_row(conn):
    before = AuditLog.select().count()
    with pytest.raises(accounts.AccountError):
        accounts.add_user("admin", "clerk", PASSWORD, actor="test")
    assert AuditLog.select().count() == before
