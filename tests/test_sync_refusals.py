"""Requests the hub refuses, each with nothing applied and the refusal logged: replayed, stale, forged,
unknown, revoked, oversized, malformed, another node's cases, a gap; and a resend applied once."""
import gzip
import json
import time
import urllib.error
import urllib.request

import pytest

from county_app.sync import batches, outbox, signing
from county_app.sync.hub import PULL_PATH, PUSH_PATH

from sync_nodes import CENTRE, at, cli, count, rows, served_hub, township
from test_sync_exchange import hub_database, register_and_accept  # noqa: F401 (a fixture)


@pytest.fixture
def hub(tmp_path, hub_database):
    with served_hub(tmp_path / "hub", hub_database) as node:
        yield node


@pytest.fixture
def town(tmp_path, hub):
    folder = township(tmp_path / "town", hub)
    register_and_accept(folder)
    return folder


def outbox_batch(folder, node=CENTRE):
    changes = [{"seq": seq, "case_no": case_no, "action": action, "payload": json.loads(payload)}
               for seq, case_no, action, payload in rows(folder, "select seq, case_no, action, payload "
                                                                 "from sync_outbox order by seq")]
    return {"node": node, "first": changes[0]["seq"], "last": changes[-1]["seq"], "changes": changes}


def sent_batch(folder):
    """The first batch as the township sends it (``outbox.batch_after``): a change followed by a later one of
    its case carries part of its payload."""
    with at(folder):
        sent = outbox.batch_after(outbox.UP, 0)
    changes = [{"seq": row.seq, "case_no": row.case_no, "action": row.action, "payload": json.loads(row.payload)}
               for row in sent]
    return {"node": CENTRE, "first": changes[0]["seq"], "last": changes[-1]["seq"], "changes": changes}


def post(hub, body, *, path=PUSH_PATH, node=CENTRE, secret=None, headers=None, now=None):
    """``(status, answer JSON)`` of a POST signed as ``node`` with ``secret`` (the hub's one by default)."""
    signed = signing.signed_headers(node, secret or hub.secret, "POST", path, body, now=now)
    request = urllib.request.Request(hub.url + path, data=body, method="POST",
                                     headers={**signed, **(headers or {}), "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def nothing_applied(hub):
    return count(hub, "case_record") == 0 and count(hub, "case_event") == 0 and \
        rows(hub, "select applied_through from sync_node") == [(0,)]


def test_a_batch_sent_twice_is_applied_once(hub, town):
    body = batches.encode(outbox_batch(town))
    events = count(town, "case_event")
    first = post(hub, body)
    assert first == (200, {"applied_through": events, "applied": events, "conflicts": 0})
    again = post(hub, body)  # the answer was lost: the township sends it again, with a new nonce
    assert again == (200, {"applied_through": events, "applied": 0, "conflicts": 0})
    assert count(hub, "case_event") == events and count(hub, "case_record") == 1
    # the next run finds the batch acknowledged and resumes after it
    assert "已上传变更 %d 条" % events in cli(town, "sync", "run").stdout
    assert count(hub, "case_event") == events


def test_a_batch_after_a_gap_is_refused_with_the_mark(hub, town):
    batch = outbox_batch(town)
    later = {**batch, "first": 2, "changes": batch["changes"][1:]}
    status, answer = post(hub, batches.encode(later))
    assert status == 409 and answer["applied_through"] == 0 and "请从第 1 条重发" in answer["error"]["message"]
    assert nothing_applied(hub)


def refusals(hub, town):
    body = batches.encode(outbox_batch(town))
    signed = signing.signed_headers(CENTRE, hub.secret, "POST", PUSH_PATH, body)
    yield "stale", lambda: post(hub, body, now=time.time() - 600), 401, "校准本机的日期和时间"
    yield "forged", lambda: post(hub, body, secret="0" * 64), 401, "签名不正确"
    yield "unsigned", lambda: post(hub, body, headers={"X-Signature": ""}), 401, "缺少签名"
    yield "tampered", lambda: post(hub, body, headers={
        k: v for k, v in signing.signed_headers(CENTRE, hub.secret, "POST", PULL_PATH, body).items()}), 401, "签名不正确"
    yield "unknown node", lambda: post(hub, body, node="331128102000"), 401, "未在县级汇聚中心登记"
    yield "oversized", lambda: post(hub, body + b"\0" * (9 * 1024 * 1024)), 413, "最多接受 8 MB"
    bomb = gzip.compress(b"[" + b" " * (40 * 1024 * 1024) + b"]")
    yield "inflates too far", lambda: post(hub, bomb), 413, "解压后超过"
    yield "not gzip", lambda: post(hub, b'{"node": "x"}'), 400, "格式不对"
    yield "truncated", lambda: post(hub, body[: len(body) // 2]), 400, "不完整"
    yield "not a batch", lambda: post(hub, batches.encode({"node": CENTRE, "first": 1, "last": 9,
                                                            "changes": [1]})), 400, "格式不对"
    bad_field = outbox_batch(town)
    bad_field["changes"][-1]["payload"]["case"]["registered_on"] = "2026-13-45"
    yield "bad field", lambda: post(hub, batches.encode(bad_field)), 422, "registered_on"
    foreign = outbox_batch(town)
    foreign["changes"][-1]["case_no"] = "331128102000" + foreign["changes"][-1]["case_no"][12:]
    yield "another node's case", lambda: post(hub, batches.encode(foreign)), 403, "不属于节点"
    no_item = outbox_batch(town)
    no_item["changes"].append({**no_item["changes"][-1], "seq": no_item["last"] + 1, "action": "result"})
    no_item["changes"][-1]["payload"]["event"].update(action="result", detail='{"matter": "NO-SUCH"}')
    no_item["last"] += 1
    yield "a result for no item", lambda: post(hub, batches.encode(no_item)), 422, "没有事项 NO-SUCH"
    cut_short = sent_batch(town)  # its last change dropped: the case's last one left carries only part
    cut_short["changes"].pop()
    cut_short["last"] -= 1
    yield "a case's last change in part", lambda: post(hub, batches.encode(cut_short)), 422, "case.bundle_code：缺少"
    no_items = sent_batch(town)
    del no_items["changes"][0]["payload"]["items"]
    yield "a new case's first change without items", lambda: post(hub, batches.encode(no_items)), 422, "items 应为列表"


def test_changes_sent_in_part_are_checked_and_applied_once_from_any_mark(hub, town):
    register_and_accept(town)  # two cases, their changes in one batch
    sent = sent_batch(town)
    last_of_case = {change["case_no"]: change["seq"] for change in sent["changes"]}
    for change in sent["changes"]:
        whole = change["seq"] == last_of_case[change["case_no"]]
        assert ("materials" in change["payload"]) == whole, change["seq"]
        assert ("items" in change["payload"]) == (whole or change["action"] in ("register", "accept")), change["seq"]
        assert set(change["payload"]["case"]) == ({"status", "due_date", "due_complete", "concluded_at", "concluded_on"}
                                                  if not whole else set(change["payload"]["case"]))
    # the first three arrive whole (an older batch, its answer lost), then the batch sent in part: the hub
    # skips what it holds and applies the rest, each case's last change whole
    whole = outbox_batch(town)
    first_three = {**whole, "last": 3, "changes": whole["changes"][:3]}
    assert post(hub, batches.encode(first_three)) == (200, {"applied_through": 3, "applied": 3, "conflicts": 0})
    events = count(town, "case_event")
    assert post(hub, batches.encode(sent)) == (200, {"applied_through": events, "applied": events - 3,
                                                     "conflicts": 0})
    assert count(hub, "case_event") == events
    for sql in ("select case_no, status, applicant_name, id_number, form, due_date from case_record order by case_no",
                "select c.case_no, m.code, m.status, m.copies from case_material m join case_record c "
                "on c.id = m.case_id order by 1, 2",
                "select c.case_no, i.matter_code, i.status, i.due_date from case_item i join case_record c "
                "on c.id = i.case_id order by 1, 2"):
        assert rows(hub, sql) == rows(town, sql), sql


def state(hub):
    return count(hub, "case_record"), count(hub, "case_event"), rows(hub, "select applied_through "
                                                                                       "from sync_node")


def test_hostile_requests_are_refused_with_nothing_applied_and_logged(hub, town):
    for name, send, status, words in refusals(hub, town):
        answer_status, answer = send()
        message = answer["error"]["message"] if "error" in answer else answer
        assert (answer_status, words in str(message)) == (status, True), (name, answer_status, message)
        assert nothing_applied(hub), name
    # a captured request sent again: refused, though it was good the first time
    body = batches.encode(outbox_batch(town))
    signed = signing.signed_headers(CENTRE, hub.secret, "POST", PUSH_PATH, body)
    assert post(hub, body, headers=signed)[0] == 200
    before = state(hub)
    status, answer = post(hub, body, headers=signed)
    assert status == 401 and "重复的同步请求" in answer["error"]["message"] and state(hub) == before
    log = hub.log.read_text()
    for code in ("replayed", "stale", "bad_signature", "unsigned", "unknown_node", "too_large", "malformed",
                 "invalid_change", "foreign_case"):
        assert f"refused: {code}" in log, code


def test_a_revoked_node_is_refused_until_given_a_new_secret(hub, town):
    hub.cli("node", "revoke", CENTRE)
    refused = cli(town, "sync", "run", check=False)
    assert refused.returncode == 1 and "已被县级汇聚中心停用" in refused.stderr
    assert nothing_applied(hub)
    secret = hub.cli("node", "secret", CENTRE).stdout.strip().splitlines()[-1]
    assert "签名不正确" in cli(town, "sync", "run", check=False).stderr  # the old secret no longer works
    cli(town, "config", "set", "sync.secret", secret)
    assert cli(town, "sync", "run").returncode == 0
    assert count(hub, "case_event") == count(town, "case_event")
