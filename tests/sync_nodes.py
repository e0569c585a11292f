"""Test helper: a county hub served by ``county-app serve`` and a township, each a real process on its own folder.

The hub keeps its database in its folder (SQLite) or in a PostgreSQL
database given as ``database_url`` (its processes get ``DATABASE_URL``; a
township's never do). Checks read each database with plain ``sqlite3`` or
``psycopg2`` (``rows``, ``count``: given a township's folder or the hub);
writes at either side (registering cases at the township, recording
results at the hub) go through the domain functions with ``db`` bound to
that side (``at``).
"""
import contextlib
import datetime
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

import psycopg2

from county_app.db import bind, db
from program import interrupt

COUNTY = "331128"
CENTRE = "331128101000"


def environment(database_url=None):
    """This process's environment for a child: with DATABASE_URL only when ``database_url`` is given."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def cli(data_dir, *args, check=True, database_url=None):
    """Run ``county-app`` in a process of its own; the finished process (stdout and stderr as text)."""
    done = subprocess.run([sys.executable, "-m", "county_app", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=300, env=environment(database_url))
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def command(side, *args, check=True):
    """``county-app`` run at ``side``: a township's folder, or a ``Hub`` (on its database)."""
    return side.cli(*args, check=check) if isinstance(side, Hub) else cli(side, *args, check=check)


def start_sync(data_dir):
    return subprocess.Popen([sys.executable, "-m", "county_app", "--data-dir", str(data_dir), "sync", "run"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment())


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Hub:
    """A hub initialised in ``folder`` (on ``database_url`` if given) with the township CENTRE registered.

    ``start()`` serves it (again after a ``kill()``, on the same port), ``stop()`` ends it as Ctrl+C would.
    """

    def __init__(self, folder, database_url=None):
        folder.mkdir()
        self.dir, self.database_url = folder, database_url
        cli(folder, "init", "--role", "hub", "--code", COUNTY, "--name", "安澜县", database_url=database_url)
        self.secret = cli(folder, "node", "add", CENTRE, "--name", "城关镇",
                          database_url=database_url).stdout.strip().splitlines()[-1]
        self.port, self.log, self.process = free_port(), folder / "serve.log", None
        self.hold = None  # seconds the hub holds each batch's transaction open (COUNTY_APP_SYNC_TEST_HOLD)
        self.url = f"http://127.0.0.1:{self.port}"

    def cli(self, *args, check=True):
        """``county-app`` run on the hub's folder and database."""
        return cli(self.dir, *args, check=check, database_url=self.database_url)

    def start(self):
        env = environment(self.database_url)
        if self.hold:
            env["COUNTY_APP_SYNC_TEST_HOLD"] = str(self.hold)
        with open(self.log, "a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "county_app", "--data-dir", str(self.dir), "serve", "--port", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT, env=env)
        _wait_for(self.url + "/api/v1/health", self.process)
        return self

    def kill(self):
        kill_hard(self.process)

    def stop(self):
        if self.process is not None:
            interrupt(self.process)


@contextlib.contextmanager
def served_hub(folder, database_url=None):
    """A ``Hub`` in ``folder``, served for the ``with`` block."""
    hub = Hub(folder, database_url)
    try:
        yield hub.start()
    finally:
        hub.stop()


def township(folder, hub):
    """A township initialised in ``folder`` (seed catalogue, centre code) and connected to ``hub``."""
    folder.mkdir()
    cli(folder, "init", "--code", CENTRE, "--name", "城关镇便民服务中心")
    cli(folder, "config", "set", "sync.url", hub.url)
    cli(folder, "config", "set", "sync.secret", hub.secret)
    return folder


def _side(side):
    """``(folder, database_url)`` of a township's folder or a ``Hub``."""
    return (side.dir, side.database_url) if isinstance(side, Hub) else (side, None)


@contextlib.contextmanager
def at(side):
    """``db`` bound to ``side``'s database (a township's folder or a ``Hub``), connected, for the test's calls."""
    folder, url = _side(side)
    db.close_all() if db.database else None
    saved = os.environ.pop("DATABASE_URL", None)
    if url:
        os.environ["DATABASE_URL"] = url
    try:
        bind(folder)
        with db.connection_context():
            yield
        db.close_all()
    finally:
        os.environ.pop("DATABASE_URL", None)
        if saved is not None:
            os.environ["DATABASE_URL"] = saved


def rows(side, sql, *params):
    """The rows of ``sql`` (``?`` placeholders) at ``side``; dates and moments as text, booleans as 0/1 on both."""
    folder, url = _side(side)
    if url:
        con = psycopg2.connect(url)
        try:
            with con.cursor() as cursor:
                cursor.execute(sql.replace("?", "%s"), params)
                return [tuple(_plain(value) for value in row) for row in cursor.fetchall()]
        finally:
            con.close()
    con = sqlite3.connect(folder / "county_app.sqlite3")
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def _plain(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return str(value)
    return value


def count(side, table, where="1=1", *params):
    return rows(side, f'select count(*) from "{table}" where {where}', *params)[0][0]


def writer_active(side):
    """Whether a write transaction is open at ``side`` now: SQLite's write lock (probed without waiting) or,
    on PostgreSQL, the advisory lock every transaction takes first (county_app/db.py)."""
    folder, url = _side(side)
    if url:
        return rows(side, "select count(*) from pg_locks where locktype = 'advisory' and granted and database = "
                          "(select oid from pg_database where datname = current_database())")[0][0] > 0
    con = sqlite3.connect(folder / "county_app.sqlite3", timeout=0, isolation_level=None)
    try:
        con.execute("begin immediate")
        con.execute("rollback")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        con.close()


def wait_until(condition, seconds=120, step=0.005):
    """Poll ``condition`` until true; AssertionError after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("waited too long")
        time.sleep(step)


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
