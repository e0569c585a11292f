"""Logins under attack, through the real waitress server (issue 7, items 3 and 9).

- Failures from one client address hold back that address only: the same
  account still logs in from another (a second loopback address, 127.0.0.2;
  ``X-Forwarded-For`` is not believed).
- Every failure answers alike: one message, and about the time of one
  password hash, whether the name exists, the password is wrong, the
  account is deactivated or held back.
- A flood of made-up names adds a bounded number of rows, a bounded number
  of audit entries, and never stores what was typed.
- No password hash runs inside a database transaction, so clients sending
  wrong passwords do not hold up the window's writes.
"""
import hashlib
import json
import sqlite3
import statistics
import threading
import time
import urllib.error
import urllib.request

import pytest

from county_app import accounts, settings, throttle
from county_app.db import Database, database_path, db
from county_app.models import AuditLog, LoginThrottle

from conftest import PASSWORD, serving
from test_cases_domain import CENTRE, newborn
from web_client import WebClient, other_address_or_skip


@pytest.fixture
def served(app):
    """``app`` (no catalogue needed) behind the real server."""
    with serving(app) as url:
        yield url


def count(model):
    with db.connection_context():
        return model.select().count()


def test_failures_at_one_address_do_not_lock_the_account_at_another(served, make_user):
    make_user("boss", "admin")
    elsewhere = WebClient(served, other_address_or_skip("127.0.0.2"))
    for _ in range(throttle.PAIR_LIMIT):
        assert elsewhere.login("boss", "not the password")[0] == 200
    status, page = elsewhere.login("boss")  # the right password, at the address that guessed
    assert status == 200 and accounts.LOGIN_FAILED in page
    # a forwarded-for header naming another address changes nothing
    token = elsewhere.csrf("/login")
    status, _headers, page = elsewhere.request("POST", "/login", {"username": "boss", "password": PASSWORD,
                                                                  "csrf_token": token},
                                               headers={"X-Forwarded-For": "127.0.0.1"})
    assert status == 200 and accounts.LOGIN_FAILED in page

    at_the_window = WebClient(served, "127.0.0.1")
    assert at_the_window.login("boss")[0] == 302
    assert at_the_window.logged_in()
    assert not elsewhere.logged_in()
    with db.connection_context():
        held = AuditLog.get(AuditLog.action == "login.locked")
        assert held.entity_id == "boss" and json.loads(held.detail)["source"] == "127.0.0.2"


def test_every_failure_answers_alike_in_words_and_time(served, make_user):
    make_user("li", "clerk")
    make_user("gone", "clerk")
    with db.connection_context():
        accounts.deactivate_user("gone", actor="test")
    clients = {kind: WebClient(served, other_address_or_skip(address)) for kind, address in (
        ("unknown", "127.0.0.2"), ("wrong", "127.0.0.3"), ("deactivated", "127.0.0.4"), ("warm-up", "127.0.0.5"))}
    clients["warm-up"].login("nobody at all", "x")  # the first check of an unknown name also makes the dummy hash
    times, pages = {}, {}

    def attempt(kind, client, username, password):
        status, page = client.login(username, password)
        assert status == 200, (kind, page)
        times.setdefault(kind, []).append(client.last_ms)
        pages.setdefault(kind, set()).add(page.split('role="alert">', 1)[1].split("<", 1)[0])

    for i in range(throttle.PAIR_LIMIT):
        attempt("unknown", clients["unknown"], f"ghost{i}", "not the password")
        attempt("wrong", clients["wrong"], "li", f"not the password {i}")
        attempt("deactivated", clients["deactivated"], "gone", PASSWORD)
    for i in range(throttle.PAIR_LIMIT):  # "li" is now held back at 127.0.0.3, for the right password too
        attempt("held", clients["wrong"], "li", PASSWORD if i % 2 else "not the password")

    assert {text for texts in pages.values() for text in texts} == {accounts.LOGIN_FAILED}
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    # One hash check each (tens of ms); before, a held account answered at once (15 ms against 300 ms).
    assert max(medians.values()) < 3 * min(medians.values()), medians


def test_a_pc_left_logged_in_does_not_give_unlimited_guesses_at_its_password(served, make_user):
    """Found by the review of issue 7: wrong old passwords on 修改密码 were never counted."""
    make_user("li", "clerk")
    left_open = WebClient(served)
    assert left_open.login("li") == (302, "/")
    answers = []
    for i in range(throttle.PAIR_LIMIT + 2):
        status, _headers, page = left_open.post("/account/password", {
            "old_password": f"guess number {i}", "new_password": "a new secret 9", "confirm_password": "a new secret 9"})
        answers.append((status, "原密码不正确" in page, "连续输错" in page))
    assert answers[:throttle.PAIR_LIMIT] == [(422, True, False)] * throttle.PAIR_LIMIT
    assert answers[throttle.PAIR_LIMIT:] == [(422, False, True)] * 2
    # the right old password is refused too while held back; another PC still logs in
    status, _headers, page = left_open.post("/account/password", {
        "old_password": PASSWORD, "new_password": "a new secret 9", "confirm_password": "a new secret 9"})
    assert status == 422 and "连续输错" in page
    elsewhere = WebClient(served, other_address_or_skip("127.0.0.2"))
    assert elsewhere.login("li") == (302, "/")


def test_a_flood_of_made_up_names_is_bounded_and_never_stored(served, data_dir):
    typed = [f"Secret-Pa55word-{i:03d}-typed-as-name" for i in range(60)]
    client = WebClient(served)
    audit_before = count(AuditLog)
    for name in typed:
        status, page = client.login(name, "whatever it was")
        assert status == 200 and accounts.LOGIN_FAILED in page
    # one row for the address, one per name counted before the address was held back
    assert count(LoginThrottle) <= throttle.ADDRESS_LIMIT + 1
    assert count(AuditLog) - audit_before <= 1  # the address held back: one entry, not one per name
    with db.connection_context():
        entry = AuditLog.get(AuditLog.action == "login.throttled")
        assert entry.entity_id == "127.0.0.1"
    raw = sqlite3.connect(database_path(data_dir))
    try:
        dump = "\n".join(raw.iterdump())
    finally:
        raw.close()
    files = b"".join(path.read_bytes() for path in data_dir.iterdir() if path.is_file())
    for name in typed:
        assert name not in dump and name.lower() not in dump
        assert name.encode() not in files and name.lower().encode() not in files


def waiting(name, method, path="/api/v1/cases"):
    request = type("Request", (), {"command": method, "path": path})()
    return type("Channel", (), {"name": name, "requests": [request]})()


def test_logins_go_after_the_windows_requests():
    from county_app.server import MAX_PASSED, ReadsFirst

    queue = ReadsFirst()
    queue.extend([waiting("login1", "POST", "/login"), waiting("login2", "POST", "/login"),
                  waiting("case", "POST"), waiting("page", "GET", "/cases")])
    assert [queue.popleft().name for _ in range(3)] == ["page", "case", "login1"]
    queue.login_done()
    assert queue.popleft().name == "login2"
    queue.login_done()
    queue.append(waiting("login", "POST", "/login"))
    queue.extend(waiting(f"w{i}", "POST") for i in range(MAX_PASSED + 2))
    order = [queue.popleft().name for _ in range(MAX_PASSED + 3)]
    assert order[MAX_PASSED] == "login"  # not starved either


def test_one_login_at_a_time_so_a_worker_stays_free_for_the_window():
    from county_app.server import ReadsFirst

    queue = ReadsFirst()
    queue.extend([waiting("login1", "POST", "/login"), waiting("login2", "POST", "/login")])
    assert queue.takeable() and queue.popleft().name == "login1"
    assert not queue.takeable()  # login2 waits while login1 is hashed: the other worker is not taken
    queue.append(waiting("case", "POST"))
    assert queue.takeable() and queue.popleft().name == "case"
    queue.login_done()
    assert queue.takeable() and queue.popleft().name == "login2"


def test_no_password_hash_runs_inside_a_transaction_while_clients_guess(live_server, make_user, monkeypatch):
    clerk_address = other_address_or_skip("127.0.0.2")
    make_user("li", "clerk")
    make_user("boss", "admin")
    with db.connection_context():
        with db.atomic():
            settings.put("centre.code", CENTRE)
        token = accounts.issue_token("li", actor="test").token

    hashes, running, most = [], [0], [0]
    counting = threading.Lock()
    real_scrypt = hashlib.scrypt

    def watched_scrypt(*args, **kwargs):  # every werkzeug password hash goes through here
        hashes.append((db.in_transaction(), getattr(Database._holding, "lock", False)))
        with counting:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            return real_scrypt(*args, **kwargs)
        finally:
            with counting:
                running[0] -= 1

    monkeypatch.setattr(hashlib, "scrypt", watched_scrypt)

    def register():
        request = urllib.request.Request(f"{live_server}/api/v1/cases", data=json.dumps(newborn()).encode(),
                                         method="POST", headers={"Authorization": f"Bearer {token}",
                                                                 "Content-Type": "application/json"})
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            with error:
                status = error.code
        assert status == 201
        return (time.perf_counter() - started) * 1000

    baseline = [register() for _ in range(10)]
    stop = threading.Event()
    attempts = []

    def guess(number):
        client = WebClient(live_server)
        n = 0
        while not stop.is_set():
            n += 1
            name = "boss" if n % 2 else f"guess{number}-{n}"
            client.login(name, f"wrong password {n}")
            attempts.append(n)

    attackers = [threading.Thread(target=guess, args=(n,), daemon=True) for n in range(6)]
    for thread in attackers:
        thread.start()
    try:
        while len(attempts) < 12:
            stop.wait(0.05)
        attacked = [register() for _ in range(10)]
        # a clerk at another PC still logs in meanwhile (the guessing address is held back)
        assert WebClient(live_server, clerk_address).login("li") == (302, "/")
    finally:
        stop.set()
        for thread in attackers:
            thread.join(timeout=60)

    assert len(hashes) >= 12
    inside = [h for h in hashes if any(h)]
    assert not inside, f"{len(inside)} of {len(hashes)} password hashes ran inside a transaction"
    assert most[0] == 1, f"{most[0]} logins hashed at once: the window's requests had no worker left"
    # Wide margin: before, each registration waited behind the guesses' hashes (9 ms → 994 ms).
    assert statistics.median(attacked) < 10 * statistics.median(baseline) + 250, (baseline, attacked)
