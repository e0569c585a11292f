"""The login throttle as a domain (no HTTP): holds per address and name, their end, their bounds.

The HTTP side (two client addresses, answers alike in words and time, a
flood of names, the window's writes under attack) is test_login_attack.py.
"""
import hashlib
from datetime import timedelta

import pytest

from county_app import accounts, passwords, throttle
from county_app.db import Database, db
from county_app.maintenance import run_maintenance
from county_app.models import AuditLog, LoginThrottle, utcnow

from conftest import PASSWORD


@pytest.fixture
def conn(app):
    with db.connection_context():
        yield


@pytest.fixture
def fast_hashes(monkeypatch):
    """Password checks that cost nothing, for tests that make hundreds of attempts."""
    monkeypatch.setattr(passwords, "check_password_hash", lambda stored, password: False)


def fails(username, password, when, source):
    with pytest.raises(accounts.AccountError) as refused:
        accounts.authenticate(username, password, now=when, source=source)
    assert str(refused.value) == accounts.LOGIN_FAILED


def test_a_hold_is_per_address_and_name_and_ends_after_five_minutes(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    start = utcnow()
    for _ in range(throttle.PAIR_LIMIT):
        fails("li", "wrong password", start, "10.0.0.7")
    fails("li", PASSWORD, start + timedelta(minutes=4, seconds=59), "10.0.0.7")  # the right one, held back
    assert accounts.authenticate("li", PASSWORD, now=start, source="10.0.0.8").username == "li"
    later = start + timedelta(seconds=throttle.LOCK_SECONDS + 1)
    assert accounts.authenticate("li", PASSWORD, now=later, source="10.0.0.7").username == "li"
    assert [row.address for row in LoginThrottle.select().where(LoginThrottle.name_key.is_null(False))] == []


def test_a_success_starts_the_count_afresh(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    start = utcnow()
    for _ in range(throttle.PAIR_LIMIT - 1):
        fails("li", "wrong password", start, "10.0.0.7")
    accounts.authenticate("li", PASSWORD, now=start, source="10.0.0.7")
    for _ in range(throttle.PAIR_LIMIT - 1):
        fails("li", "wrong password", start, "10.0.0.7")
    assert accounts.authenticate("li", PASSWORD, now=start, source="10.0.0.7")


def test_an_unknown_name_is_counted_like_a_real_one(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    start = utcnow()
    for name in ("li", "nobody"):
        for _ in range(throttle.PAIR_LIMIT):
            fails(name, "wrong password", start, "10.0.0.7")
    assert throttle.is_held(throttle.Attempt.of("10.0.0.7", "li"), start.timestamp())
    assert throttle.is_held(throttle.Attempt.of("10.0.0.7", "nobody"), start.timestamp())
    pairs = [LoginThrottle.get(LoginThrottle.key == throttle.Attempt.of("10.0.0.7", name).pair_key)
             for name in ("li", "nobody")]
    assert (pairs[0].failures, pairs[0].locked_until) == (pairs[1].failures, pairs[1].locked_until)
    # only the real account's hold is worth an audit entry; the typed unknown name is not kept
    assert [row.entity_id for row in AuditLog.select().where(AuditLog.action == "login.locked")] == ["li"]
    assert "nobody" not in "".join(row.detail + row.entity_id + row.actor for row in AuditLog.select())


def test_every_failure_costs_exactly_one_hash_outside_any_transaction(conn, monkeypatch):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    accounts.add_user("gone", "clerk", PASSWORD, actor="test")
    accounts.deactivate_user("gone", actor="test")
    with pytest.raises(accounts.AccountError):
        accounts.authenticate("nobody", "warm up the dummy hash")
    calls = []
    real_scrypt = hashlib.scrypt

    def watched_scrypt(*args, **kwargs):
        calls.append((db.in_transaction(), getattr(Database._holding, "lock", False)))
        return real_scrypt(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", watched_scrypt)
    start = utcnow()
    attempts = [("unknown", "nobody", PASSWORD), ("deactivated", "gone", PASSWORD)]
    attempts += [("wrong", "li", "wrong password")] * throttle.PAIR_LIMIT
    attempts += [("held", "li", PASSWORD), ("held", "li", "wrong password")]
    for kind, name, password in attempts:
        before = len(calls)
        fails(name, password, start, "10.0.0.7")
        assert len(calls) - before == 1, kind
    assert calls == [(False, False)] * len(attempts)


def test_the_state_stays_bounded(conn, fast_hashes, monkeypatch):
    monkeypatch.setattr(throttle, "MAX_ROWS", 50)
    start = utcnow()
    for i in range(200):
        fails(f"name{i}", "x", start, f"10.0.{i // 100}.{i % 100}")
    assert LoginThrottle.select().count() <= 50
    # one address: its own row and the names counted before it was held back, however many names
    for i in range(500):
        fails(f"other{i}", "x", start, "10.9.9.9")
    assert LoginThrottle.select().where(LoginThrottle.address == "10.9.9.9").count() <= throttle.ADDRESS_LIMIT + 1


def test_idle_rows_go_with_failures_and_in_the_nightly_maintenance(app, data_dir, fast_hashes):
    start = utcnow()
    with db.connection_context():
        for i in range(10):
            fails(f"name{i}", "x", start, "10.0.0.7")
        assert LoginThrottle.select().count() == 11
        later = start + timedelta(seconds=throttle.WINDOW + 1)
        fails("one more", "x", later, "10.0.0.8")  # a failure prunes what is idle
        assert {row.address for row in LoginThrottle.select()} == {"10.0.0.8"}
    report = run_maintenance(data_dir, now=later + timedelta(seconds=throttle.WINDOW + 1))
    assert report.throttles_removed == 2 and not report.failures
    with db.connection_context():
        assert LoginThrottle.select().count() == 0


def test_reset_and_unlock_lift_the_users_holds_at_every_address(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    start = utcnow()
    for address in ("10.0.0.7", "10.0.0.8"):
        for _ in range(throttle.PAIR_LIMIT):
            fails("li", "wrong password", start, address)
    assert [address for address, _until in throttle.holds_on(accounts.get_user("li"), start.timestamp())] == [
        "10.0.0.7", "10.0.0.8"]
    accounts.unlock_user("li", actor="admin")
    assert throttle.holds_on(accounts.get_user("li"), start.timestamp()) == []
    assert accounts.authenticate("li", PASSWORD, now=start, source="10.0.0.7")
    for _ in range(throttle.PAIR_LIMIT):
        fails("li", "wrong password", start, "10.0.0.7")
    new = accounts.reset_password("li", actor="admin")
    assert accounts.authenticate("li", new, now=start, source="10.0.0.7").must_change_password


def test_odd_names_and_passwords_are_plain_failures(conn):
    accounts.add_user("li", "clerk", PASSWORD, actor="test")
    start = utcnow()
    for name, password in (("li\ud800", PASSWORD), ("li", "pass\ud800word"), ("\x00", "x"), (None, None),
                           ("x" * 10_000, "y" * 10_000), (" LI ", 42)):
        fails(name, password, start, "10.0.0.7")
    with pytest.raises(accounts.AccountError, match="无法使用的字符"):
        accounts.change_password("li", PASSWORD, "a fine sentence \ud800 27", actor="li")


def test_holds_on_a_name_counted_before_its_account_existed_are_lifted_by_a_reset(conn):
    """Found by the review of issue 7: the hold kept no user, so a reset could not find it."""
    start = utcnow()
    for _ in range(throttle.PAIR_LIMIT):
        fails("zhao", "whatever", start, "10.0.0.7")  # nobody's name yet
    accounts.add_user("zhao", "clerk", PASSWORD, actor="test")
    user = accounts.get_user("zhao")
    assert [address for address, _until in throttle.holds_on(user)] == ["10.0.0.7"]
    assert user.id in throttle.held_users(start.timestamp())
    new = accounts.reset_password("zhao", actor="admin")
    assert throttle.holds_on(user) == []
    assert accounts.authenticate("zhao", new, now=start, source="10.0.0.7").username == "zhao"
