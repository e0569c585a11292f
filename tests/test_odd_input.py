"""Odd values at every route: never a 500, a refusal says why, answers stay small, a refusal changes nothing.

A property-based test (Hypothesis, issue 7 item 8). The routes are read from
the Flask URL map, so a route added later is covered without touching this
file. Each route gets odd path values, query arguments and bodies: odd
Unicode (lone surrogates, NUL, right-to-left overrides, superscript,
full-width and other scripts' digits), huge and negative numbers, deep
nesting, values of the wrong JSON type, very long strings, broken JSON and
files. Most are sent as a mutation of a request the route would accept, so
that they reach the domain code and not only the shape checks. API routes
are called with a bearer token, pages with a logged-in session and its CSRF
token, each as a role the route allows.

For every answer: the status is below 500; a 4xx carries a message (JSON
``error.message``, or a page with the error); it is small; and for a
refusal, nothing changed: every row of the database (read from another
connection, but for the note of a token's last use) and the files in the
data folder are as before. The one refusal that writes by design is 409
``materials_missing`` (the case moves to correction with its notice).

Deterministic: fixed examples first (``explicit``: each of a few odd values
in each place a route reads), then generated ones (``derandomize``). The
bulk go through the Flask test client, a few of each route through the real
waitress server.
"""
import copy
import hashlib
import inspect
import json
import re
import sqlite3
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings as hypothesis_settings, strategies as st

from county_app import access, accounts, create_app, settings
from county_app.bootstrap import initialise
from county_app.db import database_path, db
from county_app.intake import cases, materials, workflow
from county_app.views.catalogue import checks_runner, stop_checks

from conftest import PASSWORD, csrf_token, login, sample_pdf, serving
from test_cases_domain import CENTRE, PHONE, XSECS_FORM, XSECS_MATTERS, newborn

CLIENT_EXAMPLES = 40  # per route and method, through the test client
SERVER_EXAMPLES = 4  # per route and method, through waitress
SKIPPED = {"auth.login", "auth.logout"}  # the login throttle writes by design; logout would end the session
COUNTED = {"/account/password"}  # a refused password change counts as a failed login (the throttle writes)
ROLE_ORDER = ("clerk", "admin", "county", "department")
USERS = {"clerk": ("li", None), "admin": ("boss", None), "county": ("xian", None), "department": ("gaj", "县公安局")}
MAX_JSON_ERROR = 64 * 1024
MAX_PAGE = 1024 * 1024
USE_NOTES = {"last_used_at", "last_seen_at"}  # written when a token or session is used, by design
PAGE_MARKERS = ('role="alert"', "<h1>出错了", 'class="field-error"', "<h1>页面已过期")


# ----------------------------------------------------------------------------- odd values

# Odd where a number is expected: what int() or isdigit() take and SQLite cannot, and what they do not take.
NUMBERISH = ["²", "１２", "٣", "99999999999999999999", "9223372036854775808", "-9223372036854775809", "-1", "0",
             "9" * 5000, "1e3", "1.0", "+1", " 2 ", "1_0", "0x10", "Infinity"]
# Odd where text is expected: what cannot be stored or printed, what is too long, what looks like code.
TEXTISH = ["\ud800", "名\udfff字", "a\x00b", "\u202eabc", "\u2066x\u2069", "\u200b", "\ufeff", "x" * 10_000,
           "甲" * 3000, "", " ", "\t\n", "null", "[]", "２０２６-０１-０１", "2026-02-30", "9999-12-31",
           "'; DROP TABLE case_record; --", "<script>alert(1)</script>", "../../etc/passwd", "\U0010ffff",
           "approved", "deferred", "exempt", "window", "mail", "是"]
odd_text = st.one_of(st.sampled_from(NUMBERISH), st.sampled_from(TEXTISH), st.text(max_size=20),
                     st.text(st.characters(categories=["Cs", "Cc", "Cf", "No", "Nd", "Zs"]), min_size=1, max_size=8))
odd_scalar = st.one_of(odd_text, st.none(), st.booleans(), st.integers(), st.floats(),
                       st.sampled_from([0, -1, 1, 5, 2 ** 63, -2 ** 63 - 1, 10 ** 30]))
odd_json = st.recursive(odd_scalar, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(odd_text, inner, max_size=3), max_leaves=6)
# Mostly odd text where text is expected (it gets past the type checks, into the domain), sometimes anything.
odd_value = st.one_of(st.sampled_from(NUMBERISH), st.sampled_from(TEXTISH), odd_text, odd_json)
FIELD_NAMES = [
    "bundle", "answers", "matters", "applicant", "agent", "form", "status", "copies", "pages", "licence_no", "note",
    "deferred_until", "version", "override_reason", "reason", "refer_to", "outcome", "result_no", "method",
    "tracking_no", "rating", "comment", "resolution", "kind", "value", "page", "per_page", "q", "username", "role",
    "department", "display_name", "phone", "password", "old_password", "new_password", "confirm_password", "sha256",
    "filename", "confirm", "source", "action", "single", "offered",
]
RAW_BODIES = [
    b"", b"null", b"[]", b'"text"', b"{", b"\xff\xfe\x00\x00", b'{"version": 1e999}', b'{"copies": NaN}',
    b'{"reason": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", b'{"a": ' * 30 + b"1" + b"}" * 30,
    b'{"version": ' + b"9" * 5000 + b"}", b'{"reason": "\\ud800"}', b'{"\\udfff": 1}',
]
ODD_FILES = [b"", b"%PDF-1.4\n<html><body>not a pdf</body></html>\n%%EOF\n", b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
             b"PK\x03\x04" + b"\0" * 64, b"\0" * 1000, sample_pdf(1)]
QUERY_NAMES = ["today", "bundle", "matters", "large", "noprint", "actor", "action", "Q1", "next", "department"]
FILE_FIELDS = {"material": "scan", "log_material": "scan", "upload": "workbook"}


# ----------------------------------------------------------------------------- the world

@dataclass
class World:
    app: object
    data_dir: object
    checker: sqlite3.Connection
    clients: dict = field(default_factory=dict)  # role → logged-in test client
    tokens: dict = field(default_factory=dict)  # role → bearer token
    csrf: dict = field(default_factory=dict)  # role → the CSRF token of its session
    real: dict = field(default_factory=dict)  # path argument → real values
    bases: tuple = ()  # (API, pages): view name → a request it would accept (as a dict)

    seen: tuple = (None, None)  # (data_version, the digest of the database then)
    clerk: object = None

    def fresh_cases(self):
        """New cases in each state for the next route, so that one route's writes never decide another's
        answers (a case rejected by the API's reject route would leave the pages' routes only 409)."""
        clerk = self.clerk
        with db.connection_context():
            registered = cases.register_case(**newborn(), actor=clerk).case_no
            accepted = _accepted(clerk)
            concluded = _accepted(clerk)
            for matter in XSECS_MATTERS:
                workflow.record_result(concluded, matter, "approved", actor=clerk, result_no="R-1", on_behalf=True)
            workflow.evaluate_case(concluded, 1, actor=clerk, comment="太慢")
            task_id = workflow.rectifications(actor=clerk)[0]["id"]
        self.real = {
            "case_no": [registered, accepted, concluded],
            "code": ["JMSFZ", "HKB", "SQB", "JHZ", "YJS-XSECS", "WJ-0101"],
            "matter": ["WJ-0101", "GA-0101", "RS-0101"], "kind": ["receipt", "acceptance", "correction", "completion"],
            "material_code": ["JHZ", "CSYXZM"], "task_id": [str(task_id)], "filename": ["app.css"],
        }

    def settled(self):
        """The snapshot once no catalogue check of an earlier example is still working on its upload."""
        assert checks_runner(self.app).wait_idle(120), "a catalogue check did not finish"
        return self.snapshot()

    def snapshot(self):
        """What a refusal must not change: the database's content and the files in the data folder.

        ``data_version`` (from this other connection) changes only when a
        commit changed the file; only then is the content read again.
        """
        version = self.checker.execute("PRAGMA data_version").fetchone()[0]
        if version != self.seen[0]:
            self.seen = (version, _digest(self.checker))
        files = sorted(str(p.relative_to(self.data_dir)) for folder in ("scans", "uploads")
                       for p in (self.data_dir / folder).rglob("*") if p.is_file())
        return self.seen[1], files


def _digest(connection):
    """A hash of every row of every table, but for the columns that only note a use (a token's last use)."""
    digest = hashlib.sha256()
    tables = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    for table in tables:
        columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')
                   if row[1] not in USE_NOTES]
        listed = ", ".join(f'"{column}"' for column in columns)
        digest.update(table.encode())
        # in the order of every column: a table WITHOUT ROWID (case_name_gram) has no rowid to order by
        for row in connection.execute(f'SELECT {listed} FROM "{table}" ORDER BY {listed}'):
            digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("odd") / "data"
    data_dir.mkdir()
    initialise(data_dir)
    app = create_app(data_dir, {"TESTING": True})
    with db.connection_context():
        with db.atomic():
            settings.put("centre.code", CENTRE)
            people = {role: accounts.add_user(name, role, PASSWORD, department=dept, actor="test")
                      for role, (name, dept) in USERS.items()}
        tokens = {role: accounts.issue_token(user.username, actor="test").token for role, user in people.items()}
    world = World(app=app, data_dir=data_dir, checker=sqlite3.connect(database_path(data_dir)), tokens=tokens,
                  clerk=people["clerk"])
    for role, (name, _) in USERS.items():
        client = app.test_client()
        assert login(client, name).status_code == 302
        world.clients[role], world.csrf[role] = client, csrf_token(client, "/")
    world.bases = _bases()
    yield world
    stop_checks(app)
    world.checker.close()
    if not db.is_closed():
        db.close()


def _accepted(clerk):
    case_no = cases.register_case(**newborn(), actor=clerk).case_no
    for code, status, extra in (("JMSFZ", "original_verified", {}), ("HKB", "copy_received", {"copies": 1}),
                                ("CSYXZM", "exempt", {"licence_no": "DZZZ-1"}), ("SQB", "original_verified", {}),
                                ("JHZ", "original_verified", {})):
        materials.log_material(case_no, code, status, actor=clerk, **extra)
    workflow.accept_case(case_no, actor=clerk)
    return case_no


def _bases():
    """Requests each endpoint would accept, by the view's name; odd values are put into these.

    ``version`` is there as absent (null, "") so that odd versions are tried too.
    """
    intake = {"bundle": "YJS-XSECS", "q.Q1": "是", "q.Q2": "是", "q.Q3": "是", "q.Q4": "已婚", "kind": "person", "p.name": "李娜",
              "p.id_number": "331128199003071243", "p.phone": PHONE, "p.address": "幸福路 1 号", "g.name": "",
              "action": "register", **{f"f.{code}": value for code, value in XSECS_FORM.items()}}
    api = {
        "register": newborn(agent={"name": "张伟", "phone": PHONE, "relation": "父亲"}),
        "guide": {"bundle": "YJS-XSECS", "answers": {"Q1": "是", "Q2": "是"}},
        "log_material": {"status": "copy_received", "copies": 1, "note": "", "version": None},
        "accept": {"version": None}, "reject": {"reason": "不属于本中心受理范围", "refer_to": "民政局", "version": None},
        "result": {"outcome": "approved", "result_no": "R-2", "note": "", "version": None},
        "suspend": {"reason": "检验", "note": "送检", "version": None}, "resume": {"version": None},
        "deliver": {"method": "mail", "tracking_no": "SF1", "version": None},
        "evaluation": {"rating": 3, "comment": "好", "version": None}, "close_rectification": {"resolution": "已回访"},
    }
    pages = {
        "material": {"status": "copy_received", "copies": "1", "licence_no": "", "deferred_until": "", "version": ""},
        "submit": intake, "check": {"kind": "id_number", "value": "1"}, "reveal": {},
        "users": {"username": "wang", "role": "clerk", "display_name": "王", "department": "", "phone": PHONE},
        "password": {"old_password": "wrong", "new_password": "a-long-new-password-42",
                     "confirm_password": "a-long-new-password-42"},
        "confirm": {"sha256": "0" * 64},
        "evaluation": {"rating": "3", "comment": "好", "version": ""},
    }
    return api, pages


# ----------------------------------------------------------------------------- the routes

def _routes():
    """(rule, method, endpoint) of every route, read from the URL map of an app."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(folder)
        rules = [(rule.rule, method, rule.endpoint) for rule in app.url_map.iter_rules()
                 for method in sorted(rule.methods - {"HEAD", "OPTIONS"}) if rule.endpoint not in SKIPPED]
    db.init(None)
    return sorted(rules)


ROUTES = _routes()


def _role(app, endpoint):
    """A role the endpoint allows (read from the permission its ``requires`` guards it with)."""
    view = app.view_functions[endpoint]
    permission = inspect.getclosurevars(view).nonlocals.get("permission") if view.__closure__ else None
    if permission not in access.PERMISSIONS:
        return "clerk"
    return next(role for role in ROLE_ORDER if access.allowed(role, permission))


@dataclass
class Request:
    path: str
    method: str
    headers: dict
    body: bytes | None
    content_type: str | None

    def __repr__(self):
        body = self.body if self.body is None or len(self.body) < 600 else self.body[:600] + b"..."
        return f"Request({self.method} {self.path[:300]!r}, {self.headers}, {self.content_type}, {body!r})"


def _quote(text):
    return urllib.parse.quote(str(text).encode("utf-8", "surrogatepass"), safe="")


def _form(fields):
    pairs = []
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append(f"{_quote(key)}={_quote(item)}")
    return "&".join(pairs).encode()


@st.composite
def requests(draw, world, rule, method, endpoint):
    api = rule.startswith("/api/")
    view = endpoint.rsplit(".", 1)[-1]
    role = _role(world.app, endpoint)
    path = rule
    for placeholder in _placeholders(rule):
        name = placeholder.strip("<>").rsplit(":", 1)[-1]
        choices = st.sampled_from(world.real[name]) if world.real.get(name) else odd_text
        path = path.replace(placeholder, _quote(draw(st.one_of(choices, choices, odd_text))), 1)
    common = st.sampled_from(["page", "per_page", "q", "status"])
    names = st.one_of(common, common, common, st.sampled_from(QUERY_NAMES), odd_text)
    query = draw(st.dictionaries(names, odd_text, min_size=int(method == "GET"), max_size=3))
    if query:
        path += "?" + _form(query).decode()
    headers = {"Authorization": f"Bearer {world.tokens[role]}"} if api else {}
    if api and draw(st.integers(0, 9)) == 0:  # the API's concurrency check (pages send a form field)
        headers["If-Match"] = _header(draw(odd_text))
    if method == "GET":
        return role, Request(path, method, headers, None, None)
    base = _base(world, api, view)
    if view in FILE_FIELDS and draw(st.booleans()):
        fields = _as_form(base) | {"status": "scanned"}
        fields[draw(st.sampled_from(sorted(fields)))] = draw(odd_text)
        return role, _multipart(world, role, api, path, headers, fields, FILE_FIELDS[view],
                                draw(st.sampled_from(ODD_FILES)), draw(odd_text))
    if api:
        if draw(st.integers(0, 5)) == 0:
            return role, Request(path, method, headers, draw(st.sampled_from(RAW_BODIES)), "application/json")
        body = copy.deepcopy(base)
        for _ in range(draw(st.integers(1, 2))):
            target = body
            nested = sorted(key for key, value in body.items() if isinstance(value, dict))
            if nested and draw(st.booleans()):
                target = body[draw(st.sampled_from(nested))]
            target[draw(_key(target))] = draw(odd_value)
        return role, Request(path, method, headers, json.dumps(body).encode(), "application/json")
    fields = _as_form(base)
    for _ in range(draw(st.integers(1, 3))):
        fields[draw(_key(fields))] = draw(st.one_of(odd_text, odd_text, st.lists(odd_text, max_size=3)))
    fields["csrf_token"] = world.csrf[role]
    return role, Request(path, method, headers, _form(fields), "application/x-www-form-urlencoded")


KILLERS = ["\ud800", "²", "99999999999999999999", "x" * 10_000, "a\x00b"]  # each tried in every place


def explicit(world, rule, method, endpoint):
    """Fixed examples for a route, tried before the generated ones: each of KILLERS in each place it reads.

    Each path argument, ``?page=`` and ``?per_page=``, and each field of the
    request the route would accept (one level into nested objects) gets each
    odd value in turn, the rest of the request left as it would be accepted.
    """
    api, view, role = rule.startswith("/api/"), endpoint.rsplit(".", 1)[-1], _role(world.app, endpoint)
    headers = {"Authorization": f"Bearer {world.tokens[role]}"} if api else {}
    placeholders = _placeholders(rule)
    real = {p: (world.real.get(p.strip("<>").rsplit(":", 1)[-1]) or ["x"])[0] for p in placeholders}

    def path(odd_at=None, odd=None, query=""):
        built = rule
        for placeholder in placeholders:
            built = built.replace(placeholder, _quote(odd if placeholder == odd_at else real[placeholder]), 1)
        return built + query

    found = [(p, odd) for p in placeholders for odd in KILLERS]
    examples = [(role, Request(path(p, odd), method, headers, *_body(world, role, api, view, None)))
                for p, odd in found]
    if method == "GET":
        return examples + [(role, Request(path(query=f"?{name}={_quote(odd)}"), method, headers, None, None))
                           for name in ("page", "per_page") for odd in KILLERS]
    base = _base(world, api, view)
    places = [(key,) for key in base] + [(key, inner) for key, value in base.items() if isinstance(value, dict)
                                         for inner in value]
    for place in places:
        for odd in KILLERS:
            body = copy.deepcopy(base)
            target = body if len(place) == 1 else body[place[0]]
            target[place[-1]] = odd
            examples.append((role, Request(path(), method, headers, *_body(world, role, api, view, body))))
    if api:
        examples.append((role, Request(path(), method, headers, RAW_BODIES[8], "application/json")))
    return examples


def _base(world, api, view):
    return world.bases[0 if api else 1].get(view) or world.bases[0].get(view, {})


def _body(world, role, api, view, body):
    """(bytes, content type) of ``body`` (None: the route's accepted request) as the route takes it."""
    body = _base(world, api, view) if body is None else body
    if api:
        return json.dumps(body).encode(), "application/json"
    return _form(_as_form(body) | {"csrf_token": world.csrf[role]}), "application/x-www-form-urlencoded"


def _as_form(base):
    return {key: "" if value is None else str(value) for key, value in base.items()}


def _key(fields):
    """A key to put an odd value under: mostly one the route reads (those of its accepted request)."""
    known = st.sampled_from(sorted(fields)) if fields else st.sampled_from(FIELD_NAMES)
    return st.one_of(known, known, known, st.sampled_from(FIELD_NAMES), odd_text)


def _placeholders(rule):
    """The ``<…>`` placeholders of a rule, as written in it."""
    return re.findall(r"<[^>]+>", rule)


def _header(text):
    """``text`` as a header value can carry it: UTF-8 bytes seen as Latin-1, without line breaks."""
    return bytes(b for b in text.encode("utf-8", "replace") if b >= 0x20 and b != 0x7F).decode("latin-1")


def _multipart(world, role, api, path, headers, fields, file_field, content, filename):
    boundary = "oddboundary7f3a"
    if not api:
        fields["csrf_token"] = world.csrf[role]
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(key)}"\r\n\r\n'.encode()
             + str(value).encode("utf-8", "surrogatepass") + b"\r\n" for key, value in fields.items()]
    name = filename.replace('"', "").replace("\r", "").replace("\n", "").encode("utf-8", "surrogatepass")
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="'.encode()
                 + name + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return Request(path, "POST", headers, body, f"multipart/form-data; boundary={boundary}")


# ----------------------------------------------------------------------------- the checks

def _check(world, route, role, request, status, content_type, answer, before):
    where = f"{request.method} {request.path[:200]} as {role}"
    assert status < 500, f"{where}: {status}\n{answer[:2000]!r}"
    assert len(answer) <= MAX_PAGE, f"{where}: an answer of {len(answer)} bytes"
    if status < 400:
        return
    refusal_writes = request.path in COUNTED
    if "json" in (content_type or ""):
        payload = json.loads(answer)
        message = payload["error"]["message"] if "error" in payload else payload.get("message")
        assert isinstance(message, str) and message.strip(), f"{where}: {status} without a message: {payload}"
        assert len(answer) <= MAX_JSON_ERROR, f"{where}: an error of {len(answer)} bytes"
        refusal_writes |= status == 409 and payload.get("error", {}).get("code") == "materials_missing"
    else:
        page = answer.decode()
        shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split("<main", 1)[-1]))[:1500]
        assert any(marker in page for marker in PAGE_MARKERS), f"{where}: {status} page without a message: {shown}"
    if not refusal_writes:
        assert world.snapshot() == before, f"{where}: refused with {status}, yet something changed"


def _through_client(world, role, request):
    client = world.clients[role] if not request.path.startswith("/api/") else world.app.test_client()
    response = client.open(request.path, method=request.method, headers=request.headers, data=request.body,
                           content_type=request.content_type)
    try:
        return response.status_code, response.content_type, response.get_data()
    finally:
        response.close()  # a static file's answer holds the file open


@pytest.mark.parametrize("rule, method, endpoint", ROUTES, ids=[f"{m} {r}" for r, m, _ in ROUTES])
def test_odd_values_through_the_test_client(world, rule, method, endpoint):
    world.fresh_cases()
    @hypothesis_settings(max_examples=CLIENT_EXAMPLES, derandomize=True, database=None, deadline=None,
                         phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck))
    @given(sent=requests(world, rule, method, endpoint))
    def run(sent):
        role, request = sent
        before = world.settled()
        status, content_type, answer = _through_client(world, role, request)
        _check(world, rule, role, request, status, content_type, answer, before)

    for sent in explicit(world, rule, method, endpoint):
        run = example(sent=sent)(run)
    run()


@pytest.fixture(scope="module")
def server(world):
    with serving(world.app) as base:
        yield base


@pytest.mark.parametrize("rule, method, endpoint", ROUTES, ids=[f"{m} {r}" for r, m, _ in ROUTES])
def test_odd_values_through_the_real_server(world, server, rule, method, endpoint):
    world.fresh_cases()
    cookies = {role: "session=" + client.get_cookie("session").value for role, client in world.clients.items()}

    @hypothesis_settings(max_examples=SERVER_EXAMPLES, derandomize=True, database=None, deadline=None,
                         phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck))
    @given(sent=requests(world, rule, method, endpoint))
    def run(sent):
        role, request = sent
        before = world.settled()
        http = urllib.request.Request(server + request.path, data=request.body, method=request.method)
        for key, value in request.headers.items():
            http.add_header(key, value)
        if request.content_type:
            http.add_header("Content-Type", request.content_type)
        if not request.path.startswith("/api/"):
            http.add_header("Cookie", cookies[role])
        try:
            with urllib.request.urlopen(http, timeout=60) as response:
                status, content_type, answer = response.status, response.headers["Content-Type"], response.read()
        except urllib.error.HTTPError as error:
            with error:
                status, content_type, answer = error.code, error.headers["Content-Type"], error.read()
        _check(world, rule, role, request, status, content_type, answer, before)

    run()
