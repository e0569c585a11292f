"""The hub serves sync only over HTTPS or to this machine (issue 11, item 6; docs/hub.md).

A real ``county-app serve`` on all addresses: a signed sync request from
this machine's loopback is answered; the same from its other address, over
plain HTTP, is refused with 403 before its signature is read (its nonce is
not used up). With ``--behind-proxy`` the proxy's X-Forwarded-Proto and
X-Forwarded-For decide, and only from the proxy's address. A township whose
``sync.url`` is plain HTTP to another machine is told what to change.
"""
import contextlib
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from county_app.sync import batches, signing
from county_app.sync.hub import PULL_PATH

from program import interrupt
from sync_nodes import CENTRE, _wait_for, cli, count, free_port


def other_address():
    """This machine's address on its network (not loopback), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.254", 9))  # no packet is sent: only the route is looked up
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


@contextlib.contextmanager
def hub_serving(folder, *options):
    """A hub in ``folder`` served on every address with ``options``; yields (port, secret)."""
    folder.mkdir()
    cli(folder, "init", "--role", "hub", "--code", "331128", "--name", "安澜县")
    secret = cli(folder, "node", "add", CENTRE, "--name", "城关镇").stdout.strip().splitlines()[-1]
    port = free_port()
    with open(folder / "serve.log", "w") as out:
        server = subprocess.Popen([sys.executable, "-m", "county_app", "--data-dir", str(folder), "serve",
                                   "--host", "0.0.0.0", "--port", str(port), *options],
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(f"http://127.0.0.1:{port}/api/v1/health", server)
        yield port, secret
    finally:
        interrupt(server)


def pull(host, port, secret, **headers):
    """A signed pull (asking for nothing new) to ``host``: (status, JSON answer or None for a gzip body)."""
    body = batches.encode({"node": CENTRE, "after": 0, "catalogue_after": 2 ** 52})
    request = urllib.request.Request(f"http://{host}:{port}{PULL_PATH}", data=body, method="POST", headers={
        "Content-Type": "application/json", **signing.signed_headers(CENTRE, secret, "POST", PULL_PATH, body),
        **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, None
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


@pytest.fixture
def address():
    found = other_address()
    if found is None:
        pytest.skip("this machine has no network address besides loopback")
    return found


def test_plain_http_from_another_address_is_refused_loopback_is_answered(tmp_path, address):
    with hub_serving(tmp_path / "hub") as (port, secret):
        assert pull("127.0.0.1", port, secret)[0] == 200
        status, answer = pull(address, port, secret)
        assert status == 403 and answer["error"]["code"] == "https_required", answer
        message = answer["error"]["message"]
        assert f"来自 {address}" in message and "https://" in message and "--behind-proxy" in message
        # an undeclared proxy on this machine: its forwarded request is refused, even from loopback
        status, answer = pull("127.0.0.1", port, secret, **{"X-Forwarded-Proto": "https"})
        assert status == 403 and "没有说明有代理" in answer["error"]["message"]
        # the pages are not sync: they answer on every address as before
        with urllib.request.urlopen(f"http://{address}:{port}/api/v1/health", timeout=10) as health:
            assert health.status == 200
    # refused before the signature was read: only the loopback request used a nonce
    assert count(tmp_path / "hub", "sync_nonce") == 1
    log = (tmp_path / "hub" / "logs" / "county-app.log").read_text(encoding="utf-8")
    assert f"sync request refused: https_required (POST {PULL_PATH}, node '{CENTRE}', from {address})" in log


def test_behind_the_proxy_its_forwarded_scheme_and_client_decide(tmp_path, address):
    with hub_serving(tmp_path / "hub", "--behind-proxy") as (port, secret):
        through_tls = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.20.30.40"}
        assert pull("127.0.0.1", port, secret, **through_tls)[0] == 200
        status, answer = pull("127.0.0.1", port, secret, **{"X-Forwarded-Proto": "http",
                                                              "X-Forwarded-For": "10.20.30.40"})
        assert status == 403 and "来自 10.20.30.40" in answer["error"]["message"]
        # the headers are believed from the proxy (127.0.0.1) only, not from anyone who sends them
        status, answer = pull(address, port, secret, **through_tls)
        assert status == 403 and f"来自 {address}" in answer["error"]["message"]


def test_a_township_on_plain_http_to_another_machine_is_told_what_to_change(tmp_path, address):
    with hub_serving(tmp_path / "hub") as (port, secret):
        town = tmp_path / "town"
        town.mkdir()
        cli(town, "init", "--code", CENTRE, "--name", "城关镇便民服务中心")
        cli(town, "config", "set", "sync.url", f"http://{address}:{port}")
        cli(town, "config", "set", "sync.secret", secret)
        done = cli(town, "sync", "run", check=False)
        assert done.returncode == 1 and "只经 HTTPS 接收同步请求" in done.stderr + done.stdout, done.stderr
        cli(town, "config", "set", "sync.url", f"http://127.0.0.1:{port}")
        assert "已上传变更 0 条" in cli(town, "sync", "run").stdout
