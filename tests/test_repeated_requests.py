"""A repeated click is not a conflict (issue 9, item 10): the same change sent twice is made once
and both answers are the success — through the real waitress server, for the case page's forms
(their hidden ``request_key``) and for the API (``Idempotency-Key``), sent at the same moment
and one after the other; and in chromium with a real double click.
"""
import re
import threading

import pytest

from county_app import settings
from county_app.db import db
from county_app.intake import cases
from county_app.intake.records import CaseEvent, Notice

from conftest import PASSWORD
from test_cases_api import Api, apis  # noqa: F401 (fixture)
from test_cases_domain import CENTRE, newborn
from test_intake_browser import focus_on, log_in, window  # noqa: F401 (fixture)
from web_client import WebClient


def register_case(actor="li"):
    with db.connection_context():
        return cases.register_case(**newborn(), actor=actor).case_no


def events_of(case_no, action):
    with db.connection_context():
        return [e for e in CaseEvent.select().where(CaseEvent.action == action)
                if e.case.case_no == case_no]


def at_once(*calls):
    """Run the calls in threads released together; give their results in order."""
    gate, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i, call):
        gate.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def material_form(page, code, status):
    """(action, hidden fields) of the case page's form logging ``code`` as ``status``."""
    for action, body in re.findall(r'<form method="post" class="mini" action="([^"]+)"[^>]*>(.*?)</form>', page, re.S):
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
        if action.endswith(f"/materials/{code}") and fields.get("status") == status:
            return action, fields
    raise AssertionError(f"no form for {code} {status}")


@pytest.fixture
def clerk_web(live_server, make_user):
    make_user("li", "clerk")
    with db.connection_context(), db.atomic():
        settings.put("centre.code", CENTRE)
    web = WebClient(live_server)
    assert web.login("li", PASSWORD)[0] == 302
    return web


def test_a_form_posted_twice_at_once_is_one_change_and_two_successes(clerk_web):
    web, case_no = clerk_web, register_case()
    status, _headers, page = web.get(f"/cases/{case_no}")
    assert status == 200
    action, fields = material_form(page, "JMSFZ", "original_verified")
    assert fields["request_key"] and fields["version"] == "1"

    answers = at_once(lambda: web.request("POST", action, fields), lambda: web.request("POST", action, fields))
    assert [a[0] for a in answers] == [302, 302], [a[2][:300] for a in answers]
    assert all(f"/cases/{case_no}?" in a[1]["Location"] for a in answers)
    assert len(events_of(case_no, "material")) == 1
    # and once more, after both answered (a click on a page left open): still the success
    again = web.request("POST", action, fields)
    assert again[0] == 302 and len(events_of(case_no, "material")) == 1
    shown = web.get(f"/cases/{case_no}")[2]
    assert "已被其他人修改" not in shown and "原件核验" in shown

    # A real change by someone else is still a conflict: the same version, a new form (its own key).
    _action, other = material_form(shown, "HKB", "copy_received")
    stale = web.request("POST", f"/cases/{case_no}/materials/HKB", {**other, "version": fields["version"]})
    assert stale[0] == 409 and "已被其他人修改" in stale[2]


def test_the_api_answers_a_repeated_request_as_the_first(apis):
    clerk, case_no = apis["clerk"], register_case()
    path = f"/api/v1/cases/{case_no}/materials/JMSFZ"
    key = {"Idempotency-Key": "a1b2c3d4-first-click"}
    body = {"status": "original_verified", "version": 1}
    first, second = at_once(lambda: clerk.post(path, body, headers=key), lambda: clerk.post(path, body, headers=key))
    assert first == second and first[0] == 200, (first, second)
    assert first[1]["case_version"] == 2 and first[1]["status"] == "original_verified"
    assert clerk.post(path, body, headers=key) == first  # a retry after a lost answer
    assert len(events_of(case_no, "material")) == 1

    # the key names one change: used for another paper it is refused, and nothing changes
    status, answer = clerk.post(f"/api/v1/cases/{case_no}/materials/HKB", {"status": "copy_received", "version": 2},
                                headers=key)
    assert status == 409 and answer["error"]["code"] == "key_reused"
    assert clerk.post(path, body, headers={"Idempotency-Key": "x"})[0] == 422  # too short to be a key
    # without a key, the same body sent again is refused as stale, as before
    assert clerk.post(path, body)[1]["error"]["code"] == "stale"

    # 受理 with a paper missing, sent twice: one correction notice, the same 409 both times
    accept = f"/api/v1/cases/{case_no}/accept"
    twice = at_once(*[lambda: clerk.post(accept, {"version": 2}, headers={"Idempotency-Key": "accept-000001"})] * 2)
    assert twice[0] == twice[1] and twice[0][0] == 409
    assert twice[0][1]["error"]["code"] == "materials_missing"
    with db.connection_context():
        assert Notice.select().where(Notice.kind == "correction").count() == 1


def test_a_registration_sent_twice_over_the_api_is_one_case(apis):
    clerk, key = apis["clerk"], {"Idempotency-Key": "register-0000001"}
    first, second = at_once(lambda: clerk.post("/api/v1/cases", newborn(), headers=key),
                            lambda: clerk.post("/api/v1/cases", newborn(), headers=key))
    assert first[0] == second[0] == 201 and first[1]["case_no"] == second[1]["case_no"]
    assert clerk.get("/api/v1/cases")[1]["items"][0]["case_no"] == first[1]["case_no"]
    assert len(clerk.get("/api/v1/cases")[1]["items"]) == 1


def test_a_real_double_click_in_chromium_saves_once_and_shows_no_conflict(window, browser_page):
    base, page = window, browser_page
    case_no = register_case()
    page.goto(f"{base}/cases/{case_no}")
    log_in(page, base)
    page.wait_for_url(f"**/cases/{case_no}")
    for done, (code, key) in enumerate((("JMSFZ", "o"), ("HKB", "c"), ("SQB", "o")), start=1):
        # A quick double click (the second press ~10 ms after the first): the first form's answer
        # is on its way when the second is sent, with the same version and the same key.
        button = page.locator(f"#m-{code} button[data-key={key}]")
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, click_count=2, delay=5)
        page.wait_for_selector(f"#m-{code}.is-ok")
        page.wait_for_load_state()
        page.wait_for_timeout(300)  # the second answer, if any, replaces the page
        page.wait_for_load_state()
        assert page.locator(".flash-error, .field-error").count() == 0, page.locator(".flash").all_inner_texts()
        assert len(events_of(case_no, "material")) == done
    assert "已被其他人修改" not in page.content()
    page.screenshot(path="/tmp/keys-double-click.png")
