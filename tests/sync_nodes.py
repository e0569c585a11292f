"""Test helper: a county hub served by ``county-app serve`` and a township, each a real process on its own folder.

Checks read each database with plain ``sqlite3``; writes at either side
(registering cases at the township, recording results at the hub) go
through the domain functions with ``db`` bound to that side's folder.
"""
import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from types import SimpleNamespace

from county_app.db import bind, db

COUNTY = "331128"
CENTRE = "331128101000"


def cli(data_dir, *args, check=True):
    """Run ``county-app`` in a process of its own; the finished process (stdout and stderr as text)."""
    done = subprocess.run([sys.executable, "-m", "county_app", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def start_sync(data_dir):
    return subprocess.Popen([sys.executable, "-m", "county_app", "--data-dir", str(data_dir), "sync", "run"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def served_hub(folder):
    """A hub initialised in ``folder`` with the township CENTRE registered, served; yields url, secret, log."""
    folder.mkdir()
    cli(folder, "init", "--role", "hub", "--code", COUNTY, "--name", "安澜县")
    secret = cli(folder, "node", "add", CENTRE, "--name", "城关镇").stdout.strip().splitlines()[-1]
    port, log = free_port(), folder / "serve.log"
    with open(log, "w") as out:
        server = subprocess.Popen([sys.executable, "-m", "county_app", "--data-dir", str(folder), "serve",
                                   "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url + "/api/v1/health", server)
        yield SimpleNamespace(dir=folder, url=url, secret=secret, log=log, process=server)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def township(folder, hub):
    """A township initialised in ``folder`` (seed catalogue, centre code) and connected to ``hub``."""
    folder.mkdir()
    cli(folder, "init", "--code", CENTRE, "--name", "城关镇便民服务中心")
    cli(folder, "config", "set", "sync.url", hub.url)
    cli(folder, "config", "set", "sync.secret", hub.secret)
    return folder


@contextlib.contextmanager
def at(folder):
    """``db`` bound to ``folder``'s database, connected, for domain calls of the test."""
    db.close_all() if db.database else None
    bind(folder)
    with db.connection_context():
        yield
    db.close_all()


def rows(folder, sql, *params):
    con = sqlite3.connect(folder / "county_app.sqlite3")
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def count(folder, table, where="1", *params):
    return rows(folder, f'select count(*) from "{table}" where {where}', *params)[0][0]


def _wait_for(url, process, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the hub stopped (exit {process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the hub did not answer at {url}")


def kill_hard(process):
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
