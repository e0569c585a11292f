"""Reconciliation through real processes (docs/sync.md, What each side can prove): a hub served by ``county-app
serve`` (on SQLite and on PostgreSQL), a township running ``county-app sync run``; what each side holds per day,
compared after every run, any difference named by case number on the hub's page."""
import gzip
import json
import os

import pytest

from county_app import create_app
from county_app.intake import cases
from county_app.intake.records import Case, CaseEvent
from county_app.sync import client, reconcile
from county_app.sync.transport import Hub

from conftest import serving
from sync_nodes import CENTRE, at, count, rows
from test_sync_exchange import hub, hub_database, register_and_accept, sync, town  # noqa: F401 (fixtures)
from test_cases_domain import newborn
from test_sync_pages import browser, users


def reconciliations(hub):
    return rows(hub, "select day, township_cases, township_events, township_digest, hub_cases, hub_events, "
                     "hub_digest from sync_reconciliation where node = ? order by day", CENTRE)


def test_every_day_agrees_after_an_exchange_and_a_case_or_event_lost_at_the_hub_is_named(hub, town):
    first, second, third = register_and_accept(town, 3)
    out = sync(town)
    assert "核对最近 31 天：一致" in out, out
    days = reconciliations(hub)
    assert len(days) == reconcile.DAYS
    assert all(d[1:4] == d[4:7] for d in days)
    events = count(town, "case_event")
    assert sum(d[2] for d in days) == events and sum(d[1] for d in days) == 3  # today's cases and events
    assert rows(town, "select reconcile, error from sync_run") == [("核对最近 31 天：一致", "")]

    # behind the program's back: a case vanishes from the hub's database, another loses its last event
    first_events = count(town, "case_event", "case_id = (select id from case_record where case_no = ?)", first)
    with at(hub):
        Case.delete().where(Case.case_no == first).execute()
        last = CaseEvent.select().join(Case).where(Case.case_no == second).order_by(CaseEvent.id.desc()).get()
        CaseEvent.delete().where(CaseEvent.id == last.id).execute()
    out = sync(town)  # the run itself succeeds: nothing to exchange, the reconciliation finds the loss
    assert "已上传变更 0 条，已下载变更 0 条" in out and "核对最近 31 天：1 天不一致" in out, out
    assert rows(town, "select error from sync_run order by id desc limit 1") == [("",)]
    (today,) = [d for d in reconciliations(hub) if d[1:4] != d[4:7]]
    assert today[1:3] == (3, events) and today[4:6] == (2, events - first_events - 1)
    (differences,) = rows(hub, "select differences from sync_reconciliation where node = ? and listed_at is not null",
                          CENTRE)[0]
    by_case = {d["case_no"]: d for d in json.loads(differences)}
    assert set(by_case) == {first, second} and third not in by_case
    assert by_case[first]["hub"] is None and by_case[first]["township"][0] == 1
    assert by_case[second]["hub"][1] == by_case[second]["township"][1] - 1
    assert not any(d["in_transit"] for d in by_case.values())


def test_the_hub_page_shows_each_day_and_names_the_missing_case(tmp_path):
    from sync_nodes import served_hub, township

    with served_hub(tmp_path / "hub") as node:
        folder = township(tmp_path / "town", node)
        kept, lost = register_and_accept(folder, 2)
        sync(folder)
        with at(node):
            Case.delete().where(Case.case_no == lost).execute()
        assert "1 天不一致" in sync(folder)
    app = create_app(node.dir, {"TESTING": True})
    users(node.dir, ("county", "admin"), ("li", "clerk"))
    with serving(app) as url:
        admin = browser(url, "county")
        assert "同步核对" in admin.get("/sync")[2]
        status, _headers, page = admin.get("/sync/reconciliation")
        assert status == 200 and "城关镇" in page and "1 天不一致" in page
        day_rows = page.split('<tr id="day-')[1:]
        assert len(day_rows) == reconcile.DAYS
        assert sum("一致</span>" in row and "不一致" not in row for row in day_rows) == reconcile.DAYS - 1
        (differing,) = [row for row in day_rows if "不一致" in row]
        assert lost in differing and "汇聚中心缺少这件办件" in differing and kept not in differing
        assert browser(url, "li").get("/sync/reconciliation")[0] == 403


def _signed(hub_node, secret):
    return Hub(hub_node.url, CENTRE, secret)


def _post(hub_api, path, document=None, body=None):
    body = body if body is not None else gzip.compress(json.dumps(document).encode())
    status, _headers, data = hub_api.request("POST", path, body, accept=(200, 400, 401, 404, 409, 413, 422))
    return status, json.loads(data) if data.startswith(b"{") else data


def test_malformed_and_oversized_reconciliation_requests_are_refused_and_store_nothing(hub, town):
    api = _signed(hub, hub.secret)
    day = {"day": "2026-05-01", "cases": 1, "events": 3, "digest": "0" * 64}
    summary, detail = reconcile.RECONCILE_PATH, reconcile.RECONCILE_DAY_PATH
    too_many_days = [{**day, "day": f"2026-05-{n:02d}"} for n in range(1, 32)] + [{**day, "day": "2026-06-01"}]
    refused = [
        _post(api, summary, body=b"not gzip at all"),
        _post(api, summary, {"node": CENTRE, "days": too_many_days}),
        _post(api, summary, {"node": CENTRE, "days": [day, day]}),
        _post(api, summary, {"node": CENTRE, "days": [{**day, "digest": "xyz"}]}),
        _post(api, summary, {"node": CENTRE, "days": [{**day, "cases": -1}]}),
        _post(api, summary, {"node": CENTRE, "days": [{**day, "day": "2026-02-30"}]}),
        _post(api, summary, {"node": "331128102000", "days": [day]}),
        _post(api, summary, body=os.urandom(1_100_000)),  # over the route's limit
        _post(api, detail, {"node": CENTRE, "day": "2026-05-01", "cases": [], "pending": [], "down_applied": 0}),
        _post(api, detail, {"node": CENTRE, "day": "2026-05-01", "pending": [], "down_applied": 0,
                            "cases": [[f"{CENTRE}{n:08d}", 1, 1] for n in range(reconcile.MAX_DAY_CASES + 1)]}),
        _post(api, detail, {"node": CENTRE, "day": "2026-05-01", "cases": [["999999999999-1", 1, 1]],
                            "pending": [], "down_applied": 0}),
        _post(_signed(hub, "not-the-secret"), summary, {"node": CENTRE, "days": [day]}),
    ]
    statuses = [status for status, _answer in refused]
    assert statuses == [400, 422, 400, 400, 400, 400, 400, 413, 409, 422, 400, 401], refused
    assert all("已拒绝" in answer["error"]["message"] or status in (401, 409, 413) for status, answer in refused
               if isinstance(answer, dict))
    assert count(hub, "sync_reconciliation") == 0
    # a well-formed one is taken
    assert _post(api, summary, {"node": CENTRE, "days": [day]}) == (200, {"differ": ["2026-05-01"]})
    assert count(hub, "sync_reconciliation") == 1


def test_a_reconciliation_that_fails_leaves_the_run_a_success(hub, town, monkeypatch):
    register_and_accept(town)
    monkeypatch.setattr(reconcile, "footprints", lambda *args, **kwargs: 1 / 0)
    with at(town):
        report = client.run_once(town, "cli:test")
    assert report.error == "" and report.pushed > 0 and report.reconcile.startswith("核对未完成")
    assert rows(town, "select error, reconcile like '核对未完成%' from sync_run") == [("", 1)]
    assert count(hub, "sync_reconciliation") == 0


def test_a_case_registered_while_the_run_goes_is_in_transit_not_missing(hub, town, monkeypatch):
    register_and_accept(town)
    sync(town)
    send, during = reconcile.send, []

    def a_clerk_registers_meanwhile(hub_api, today=None):
        during.append(cases.register_case(**newborn(), actor="li").case_no)  # after the push: it waits to go
        return send(hub_api, today)

    monkeypatch.setattr(reconcile, "send", a_clerk_registers_meanwhile)
    with at(town):
        report = client.run_once(town, "cli:test")
    assert report.error == "" and report.reconcile.startswith("核对最近 31 天：一致（1 天有同步期间新发生的变更"), report
    (differences,) = rows(hub, "select differences from sync_reconciliation where listed_at is not null")[0]
    assert [(d["case_no"], d["hub"], d["in_transit"]) for d in json.loads(differences)] == [(during[0], None, True)]
    monkeypatch.undo()
    assert "核对最近 31 天：一致" in sync(town)
    assert count(hub, "sync_reconciliation", "hub_digest <> township_digest") == 0
