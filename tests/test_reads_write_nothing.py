"""A GET never writes: every GET route of the URL map, pages and API, as every role, with real cases present.

The routes are read from ``app.url_map`` (a route added later is walked
without touching this file), each with real values: a case that was
registered, corrected and accepted (so every notice it has can be shown), a
shop whose 告知承诺书 can be shown, the seed catalogue's codes, a user and a
token. Each role asks with its bearer token through the real waitress server
and with a login session through the pages. The database is watched from a
second connection: ``PRAGMA data_version`` changes when any other
connection commits, so the request that wrote is named.

Opening a notice used to log a print (and issue the 收件回执), and the ID
number was revealed by a GET that logged the viewing.
"""
import sqlite3
import urllib.error
import urllib.request
from datetime import date, timedelta
from urllib.parse import quote

import pytest

from county_app import accounts, settings
from county_app.db import database_path, db
from county_app.intake import cases, materials, scans, workflow
from county_app.intake.statuses import NOTICE_KINDS
from county_app.models import User

from conftest import login, sample_pdf
from test_cases_domain import CENTRE, newborn, supply_all_but_marriage_certificate
from test_notices import restaurant

ROLES = {"clerk": ("li", "clerk", None), "admin": ("boss", "admin", None),
         "department": ("gaj", "department", "县公安局"), "county": ("xian", "county", None)}
# Query strings that make some pages do more than their bare path does.
QUERIES = {"cases.index": ["", "?today=1", "?q=13800138000", "?status=accepted"],
           "intake.new": ["", "?bundle=YJS-XSECS", "?q=xse", "?matters=GA-0101"],
           "notices.guide_print": ["?bundle=YJS-XSECS&Q1=是&Q2=是&Q3=是&Q4=已婚&Q5=母亲"], "browse.search": ["?q=xse"],
           "browse.matters": ["", "?q=出生"], "api.cases.search": ["", "?q=李娜"],
           "api.cases.list_rectifications": ["", "?status=all"]}


@pytest.fixture
def node(seeded_app, data_dir, live_server, make_user):
    """Users of every role, a case in each state worth showing, tokens issued and used once."""
    for username, role, department in ROLES.values():
        make_user(username, role, department=department)
    with db.connection_context():
        with db.atomic():
            settings.put("centre.code", CENTRE)
        clerk = User.get(User.username == "li")
        case = cases.register_case(**newborn(), actor=clerk)
        supply_all_but_marriage_certificate(case.case_no, clerk)
        with pytest.raises(Exception):
            workflow.accept_case(case.case_no, actor=clerk)  # 待补正, with its correction notice
        materials.log_material(case.case_no, "JHZ", "original_verified", actor=clerk)
        workflow.accept_case(case.case_no, actor=clerk, today=date.today() - timedelta(days=40))
        shop = cases.register_case(**restaurant(), actor=clerk)
        first = cases.case_json(shop)["materials"][0]["code"]
        sha256 = scans.attach_scan(shop.case_no, first, sample_pdf(2), "营业执照.pdf", actor=clerk)["scans"][0]["sha256"]
        tokens = {role: accounts.issue_token(username, actor="test") for role, (username, _, _) in ROLES.items()}
    values = {"case_no": case.case_no, "matter": "GA-0101", "username": "li", "prefix": tokens["clerk"].prefix,
              "filename": "app.css", "material_code": "CSSYZM", "task_id": 1,
              "job_id": "0123456789abcdef", "sha256": sha256, "name": "county-app-20261130-021500.zip"}
    sessions = {}
    for role, (username, _, _) in ROLES.items():
        sessions[role] = seeded_app.test_client()
        assert login(sessions[role], username).status_code == 302
    for issued in tokens.values():  # a token's first use notes when it was used (at most once a minute)
        fetch(live_server + "/api/v1/health", issued.token)
    return {"app": seeded_app, "base": live_server, "db": database_path(data_dir), "values": values,
            "shop": shop.case_no, "tokens": {role: issued.token for role, issued in tokens.items()},
            "sessions": sessions}


def fetch(url, token):
    request = urllib.request.Request(quote(url, safe=":/?=&"), headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        with error:
            return error.code


def paths(node):
    """(endpoint, path) for every GET route, with real values (every notice kind of the case)."""
    found = []
    for rule in node["app"].url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        values = dict(node["values"])
        if "code" in rule.arguments:
            values["code"] = {"case_actions.material": "JMSFZ", "browse.bundle": "YJS-XSECS",
                              "api.bundles.get_bundle": "YJS-XSECS"}.get(rule.endpoint, "GA-0101")
        if rule.endpoint in ("notices.commitment", "cases.scan"):
            values["case_no"] = node["shop"]
        for kind in NOTICE_KINDS if "kind" in rule.arguments else [None]:
            values["kind"] = kind
            path = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]
            found += [(rule.endpoint, path + query) for query in QUERIES.get(rule.endpoint, [""])]
    return found


def test_no_get_route_writes_to_the_database(node):
    watcher = sqlite3.connect(node["db"])
    try:
        def version():
            return watcher.execute("PRAGMA data_version").fetchone()[0]

        walked = paths(node)
        assert len(walked) > 40 and any("/notices/" in path for _, path in walked)
        answered = set()
        for role in ROLES:
            for endpoint, path in walked:
                before = version()
                status = fetch(node["base"] + path, node["tokens"][role])
                assert version() == before, f"GET {path} ({endpoint}) as {role} with a token wrote (status {status})"
                answered.add((role, path, status))
                client = node["sessions"][role]
                with client.get(path) as response:  # closes a static file
                    status = response.status_code
                assert version() == before, f"GET {path} ({endpoint}) as {role} logged in wrote (status {status})"
        shown = {(role, path) for role, path, status in answered if status == 200}
        # the walk saw the real pages, not only refusals
        case_no = node["values"]["case_no"]
        for role in ("clerk", "admin", "department"):
            for kind in ("receipt", "correction", "acceptance"):
                assert (role, f"/cases/{case_no}/notices/{kind}") in shown, (role, kind)
            assert (role, f"/api/v1/cases/{case_no}") in shown and (role, f"/cases/{case_no}") in shown
    finally:
        watcher.close()
