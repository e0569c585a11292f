"""Every route is closed without login, except the public ones; bearer tokens open the API.

The routes are read from ``app.url_map``, so a route added later is covered
without touching this file.
"""
import uuid

import pytest
from flask import jsonify
from werkzeug.routing import AnyConverter, FloatConverter, IntegerConverter, UUIDConverter

from county_app import accounts, guard
from county_app.db import db

from conftest import PASSWORD, csrf_token, login

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def dummy_value(converter):
    if isinstance(converter, IntegerConverter):
        return 1
    if isinstance(converter, FloatConverter):
        return 1.0
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=1)
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return "x"


def dummy_path(rule):
    """A URL for ``rule`` with a dummy value for each argument."""
    values = {name: dummy_value(rule._converters[name]) for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def routes(app, public):
    """(path, method, endpoint) for every rule whose public-ness is ``public``."""
    found = []
    for rule in app.url_map.iter_rules():
        if (rule.endpoint in guard.PUBLIC_ENDPOINTS) != public or rule.endpoint in guard.SIGNED_ENDPOINTS:
            continue  # the signed sync endpoints: tests/test_sync_refusals.py
        for method in sorted(rule.methods - IGNORED_METHODS):
            found.append((dummy_path(rule), method, rule.endpoint))
    return found


def issue(username, role, department=None):
    with db.connection_context(), db.atomic():
        accounts.add_user(username, role, PASSWORD, department=department, actor="test")
        return accounts.issue_token(username, actor="test")


@pytest.fixture
def probe_app(app):
    """The app with two API routes of the test's own, to see what the guard lets through."""

    def whoami():
        user = guard.current_user()
        return jsonify(username=user.username, role=user.role)

    app.add_url_rule("/api/v1/_probe/whoami", "probe_whoami", whoami, methods=["GET", "POST"])
    app.add_url_rule("/api/v1/_probe/admin", "probe_admin", guard.requires("users.manage")(whoami))
    return app


def test_public_endpoints_exist(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert guard.PUBLIC_ENDPOINTS <= endpoints


def test_the_signed_sync_endpoints_are_not_for_a_township(app, client):
    signed = [rule for rule in app.url_map.iter_rules() if rule.endpoint in guard.SIGNED_ENDPOINTS]
    assert {rule.endpoint for rule in signed} == guard.SIGNED_ENDPOINTS
    for rule in signed:
        for method in rule.methods - {"OPTIONS"} - ({"HEAD"} if "GET" in rule.methods else set()):
            response = client.open(dummy_path(rule), method=method, data=b"x" if method != "HEAD" else None)
            # a township is no hub; signatures: test_sync_refusals.py, test_sync_scans.py
            assert response.status_code == 404, (method, rule.endpoint)


def test_every_other_route_needs_login(app, client):
    checked = routes(app, public=False)
    assert len(checked) > 10
    for path, method, endpoint in checked:
        response = client.open(path, method=method)
        where = f"{method} {path} ({endpoint})"
        if path.startswith("/api/"):
            assert response.status_code == 401, where
            assert response.get_json()["error"]["code"] == "unauthorized", where
        else:
            assert response.status_code == 302, where
            assert response.headers["Location"].startswith("/login"), where


def test_public_routes_answer_without_login(app, client):
    for path, method, endpoint in routes(app, public=True):
        if endpoint == "static":
            path = "/static/app.css"
        data = {"csrf_token": csrf_token(client, "/login")} if method == "POST" else None
        with client.open(path, method=method, data=data) as response:  # closes the static file
            assert response.status_code == 200, f"{method} {path} ({endpoint})"


def test_bearer_token_opens_the_api(probe_app):
    client = probe_app.test_client()
    issued = issue("li", "clerk")
    headers = {"Authorization": f"Bearer {issued.token}"}
    response = client.get("/api/v1/_probe/whoami", headers=headers)
    assert response.status_code == 200 and response.get_json()["username"] == "li"
    # bearer requests carry no cookie, so they need no CSRF token
    assert client.post("/api/v1/_probe/whoami", headers=headers, json={}).status_code == 200
    assert client.get("/api/v1/bundles", headers=headers).status_code == 200
    assert client.get("/", headers=headers).status_code == 200  # pages too (printable notices)


def test_every_real_api_read_accepts_a_token(probe_app):
    """No API GET route without arguments answers 401/403 to a token of an allowed role."""
    client = probe_app.test_client()
    issued = issue("li", "clerk")
    for rule in probe_app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and "GET" in rule.methods and not rule.arguments \
                and rule.endpoint != "probe_admin":
            response = client.get(rule.rule, headers={"Authorization": f"Bearer {issued.token}"})
            assert response.status_code not in (401, 500), rule.rule


def test_wrong_revoked_or_missing_token_gets_401(probe_app):
    client = probe_app.test_client()
    issued = issue("li", "clerk")
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": f"Bearer {issued.token}x"},
                    {"Authorization": "Bearer "}, {"Authorization": f"Basic {issued.token}"}):
        response = client.get("/api/v1/_probe/whoami", headers=headers)
        assert response.status_code == 401, headers
        assert response.get_json()["error"]["code"] == "unauthorized"
    with db.connection_context(), db.atomic():
        accounts.revoke_token(issued.prefix, actor="test")
    response = client.get("/api/v1/_probe/whoami", headers={"Authorization": f"Bearer {issued.token}"})
    assert response.status_code == 401
    assert client.get("/", headers={"Authorization": f"Bearer {issued.token}"}).status_code == 401


def test_deactivated_users_token_gets_401(probe_app):
    client = probe_app.test_client()
    issued = issue("li", "clerk")
    with db.connection_context(), db.atomic():
        accounts.deactivate_user("li", actor="test")
    assert client.get("/api/v1/_probe/whoami", headers={"Authorization": f"Bearer {issued.token}"}).status_code == 401


def test_role_not_allowed_gets_403_json(probe_app):
    client = probe_app.test_client()
    clerk = issue("li", "clerk")
    response = client.get("/api/v1/_probe/admin", headers={"Authorization": f"Bearer {clerk.token}"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    admin = issue("boss", "admin")
    assert client.get("/api/v1/_probe/admin", headers={"Authorization": f"Bearer {admin.token}"}).status_code == 200


def test_session_write_to_the_api_needs_the_csrf_header(probe_app, make_user):
    make_user("li", "clerk")
    client = probe_app.test_client()
    login(client, "li")
    refused = client.post("/api/v1/_probe/whoami", json={})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf_failed"
    accepted = client.post("/api/v1/_probe/whoami", json={}, headers={"X-CSRFToken": csrf_token(client)})
    assert accepted.status_code == 200


def test_unknown_url_is_404_not_a_login_loop(client):
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/api/v1/no-such-thing").status_code == 404
