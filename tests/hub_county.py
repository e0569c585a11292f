"""Test helper: a county hub holding the cases of two townships, as they arrived by a real signed push.

Each township is made once per session in a folder of its own (SQLite, the
seed catalogue, its centre code, a clerk), with cases registered through
the domain functions, and its outbox rows read back with ``sqlite3``. A hub
(on SQLite or PostgreSQL) registers both townships with ``node add``'s
function and receives each township's outbox as one signed push over HTTP,
through ``county_app.server`` — the path a real exchange takes.

城关镇 (331128101000): Ms Li's newborn, accepted, its 社保卡 result typed
at the window from the 人社局's paper (窗口代录). 南山乡 (331128102000):
another newborn, accepted, and Mr Zhao's noodle shop, registered. So the
公安局 sees two cases from two townships, the 市场监管局 one, an
administrator three.
"""
import contextlib
import json
import os
import sqlite3
import urllib.error
import urllib.request
from types import SimpleNamespace

from county_app import accounts
from county_app.bootstrap import initialise
from county_app.db import db
from county_app.intake import cases, materials, outcomes, workflow
from county_app.sync import batches, nodes, signing
from county_app.sync.hub import PUSH_PATH

from test_cases_domain import newborn, supply_all_but_marriage_certificate
from test_notices import restaurant

COUNTY = "331128"
TOWNS = {"331128101000": "城关镇", "331128102000": "南山乡"}
CHENGGUAN, NANSHAN = TOWNS


@contextlib.contextmanager
def without_database_url():
    """A township is always SQLite: DATABASE_URL (a PostgreSQL test's) is set aside meanwhile."""
    saved = os.environ.pop("DATABASE_URL", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["DATABASE_URL"] = saved


def accepted_newborn(clerk):
    case_no = cases.register_case(**newborn(), actor=clerk).case_no
    supply_all_but_marriage_certificate(case_no, clerk)
    materials.log_material(case_no, "JHZ", "original_verified", actor=clerk)
    workflow.accept_case(case_no, actor=clerk)
    return case_no


def make_township(folder, code):
    """A township in ``folder`` with its cases; ``(case numbers, its outbox rows)``."""
    with without_database_url():
        initialise(folder, code=code, name=TOWNS[code] + "便民服务中心")
        with db.connection_context():
            clerk = accounts.add_user("li", "clerk", "correct horse 42", actor="test")
            first = accepted_newborn(clerk)
            numbers = [first]
            if code == CHENGGUAN:
                outcomes.record_result(first, "RS-0101", "approved", actor=clerk, result_no="SBK-1",
                                       on_behalf=True)
            else:
                numbers.append(cases.register_case(**restaurant(), actor=clerk).case_no)
        db.close_all()
    con = sqlite3.connect(folder / "county_app.sqlite3")
    try:
        rows = con.execute("select seq, case_no, action, payload from sync_outbox order by seq").fetchall()
    finally:
        con.close()
    return numbers, [{"seq": s, "case_no": c, "action": a, "payload": json.loads(p)} for s, c, a, p in rows]


def make_townships(root):
    """Both townships under ``root``: {code: (case numbers, outbox rows)}."""
    return {code: make_township(root / code, code) for code in TOWNS}


def push(base, code, secret, rows):
    """One signed push of ``rows`` to the hub at ``base``: (status, answer)."""
    body = batches.encode({"node": code, "first": rows[0]["seq"] if rows else 0,
                           "last": rows[-1]["seq"] if rows else 0, "changes": rows})
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip",
               **signing.signed_headers(code, secret, "POST", PUSH_PATH, body)}
    request = urllib.request.Request(base + PUSH_PATH, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def hub_with_townships(data_dir, townships, base):
    """Make the hub of ``data_dir`` (initialised, served at ``base``) know both townships and receive their
    pushes; the case numbers by township."""
    with db.connection_context():
        secrets = {code: nodes.add_node(data_dir, code, name, actor="test") for code, name in TOWNS.items()}
    for code, (_numbers, rows) in townships.items():
        status, answer = push(base, code, secrets[code], rows)
        assert status == 200 and answer["applied"] == len(rows), answer
    chengguan, nanshan = townships[CHENGGUAN][0], townships[NANSHAN][0]
    return SimpleNamespace(li=chengguan[0], wang=nanshan[0], shop=nanshan[1], secrets=secrets)
