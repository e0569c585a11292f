"""Accounts as a domain: hashing, lockout, tokens, role rules and the audit trail (no HTTP)."""
import json
import sqlite3
from datetime import timedelta

import pytest

from county_app import accounts
from county_app.db import database_path, db
from county_app.models import ApiToken, AuditLog, User, utcnow

from conftest import PASSWORD


@pytest.fixture
def conn(app):
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


def test_password_rules(conn):
    with pytest.raises(accounts.AccountError, match="至少需要 8"):
        accounts.add_user("li", "clerk", "short7!", actor="test")
    with pytest.raises(accounts.AccountError, match="用户名相同"):
        accounts.add_user("zhangsan", "clerk", "ZhangSan", actor="test")
    assert len(accounts.random_password()) >= accounts.MIN_PASSWORD_LENGTH
    assert accounts.random_password() != accounts.random_password()


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
    with pytest.raises(accounts.AccountError, match="用户名或密码错误"):
        accounts.authenticate("li", "wrong password")
    with pytest.raises(accounts.AccountError, match="用户名或密码错误"):
        accounts.authenticate("nobody", PASSWORD)
    assert User.get(User.username == "li").failed_logins == 1


def test_five_failures_lock_for_five_minutes(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    start = utcnow()
    for attempt in range(4):
        with pytest.raises(accounts.AccountError, match="用户名或密码错误"):
            accounts.authenticate("li", "wrong password", now=start)
    with pytest.raises(accounts.AccountError, match="已锁定至") as locked:
        accounts.authenticate("li", "wrong password", now=start)
    shown = accounts.local_time(start + accounts.LOCK_DURATION + timedelta(seconds=59))
    assert shown in str(locked.value)
    # even the right password is refused while locked
    with pytest.raises(accounts.AccountError, match="已锁定至"):
        accounts.authenticate("li", PASSWORD, now=start + timedelta(minutes=4, seconds=59))
    # released after five minutes, and a success clears the count
    assert accounts.authenticate("li", PASSWORD, now=start + timedelta(minutes=5, seconds=1))
    user = User.get(User.username == "li")
    assert user.failed_logins == 0 and user.locked_until is None
    assert actions("li").count("login.failed") == 5  # four wrong passwords, one try while locked
    assert actions("li")[-2:] == ["login.failed", "login.ok"]
    assert "login.locked" in actions("li")


def test_success_resets_failed_count(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    for _ in range(4):
        with pytest.raises(accounts.AccountError):
            accounts.authenticate("li", "wrong password")
    accounts.authenticate("li", PASSWORD)
    for _ in range(4):
        with pytest.raises(accounts.AccountError, match="用户名或密码错误"):
            accounts.authenticate("li", "wrong password")
    assert not accounts.is_locked(User.get(User.username == "li"))


def test_failed_count_survives_the_callers_transaction(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    with pytest.raises(accounts.AccountError):
        accounts.authenticate("li", "wrong password")
    assert User.get(User.username == "li").failed_logins == 1
    assert actions("li")[-1] == "login.failed"


def test_inactive_user_cannot_log_in_and_reactivates(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    accounts.deactivate_user("li", actor="admin")
    with pytest.raises(accounts.AccountError, match="已停用"):
        accounts.authenticate("li", PASSWORD)
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


def test_change_password_needs_the_old_one(conn):
    user = accounts.add_user("li", "clerk", PASSWORD, actor="test")
    stamp = accounts.session_stamp(user)
    with pytest.raises(accounts.AccountError, match="原密码不正确"):
        accounts.change_password("li", "not it at all", "new password 1", actor="li")
    with pytest.raises(accounts.AccountError, match="至少需要"):
        accounts.change_password("li", PASSWORD, "short", actor="li")
    changed = accounts.change_password("li", PASSWORD, "new password 1", actor="li")
    assert accounts.session_stamp(changed) != stamp
    assert accounts.authenticate("li", "new password 1")
    with pytest.raises(accounts.AccountError):
        accounts.authenticate("li", PASSWORD)


def test_admin_reset_returns_a_new_password_once_and_unlocks(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    start = utcnow()
    for _ in range(5):
        with pytest.raises(accounts.AccountError):
            accounts.authenticate("li", "wrong password", now=start)
    new = accounts.reset_password("li", actor="admin")
    assert len(new) >= accounts.MIN_PASSWORD_LENGTH
    assert accounts.authenticate("li", new, now=start).username == "li"
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
    issued = accounts.issue_token("li", actor="admin")
    accounts.revoke_token(issued.prefix, actor="admin")
    assert actions("li") == ["user.add", "user.password", "user.reset", "user.deactivate", "user.reactivate"]
    assert actions(issued.prefix) == ["token.issue", "token.revoke"]
    add = AuditLog.get(AuditLog.action == "user.add", AuditLog.entity_id == "li")
    assert add.actor == "admin" and json.loads(add.detail)["role"] == "clerk"
    assert PASSWORD not in "".join(row.detail for row in AuditLog.select())


def test_failed_write_leaves_no_audit_row(conn):
    before = AuditLog.select().count()
    with pytest.raises(accounts.AccountError):
        accounts.add_user("admin", "clerk", PASSWORD, actor="test")
    assert AuditLog.select().count() == before
