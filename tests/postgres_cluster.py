"""A throw-away PostgreSQL cluster for the tests that run the hub on PostgreSQL.

Debian's server binaries (``make test`` installs the ``postgresql`` package
when they are missing) run ``initdb`` in a temporary folder, then the server
on a free loopback port with its socket in that folder, never the system's
cluster. PostgreSQL refuses to run as root: as root the folder is given to
the ``postgres`` user (or ``nobody``) and the server runs as that user
(``runuser``). ``stop()`` stops the server and removes the folder.
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2

SUPERUSER = "county_test"


def server_binaries():
    """The folder holding ``initdb`` and ``pg_ctl``, or None when PostgreSQL's server is not installed."""
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                    key=lambda path: int(Path(path).parent.parent.name))
    found = debian[-1] if debian else shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _runner():
    """(command prefix, uid, gid) to run the server as an unprivileged user."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"], user.pw_uid, user.pw_gid
    raise RuntimeError("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as")


class Cluster:
    """A running throw-away cluster: ``url(name)`` for a database of it, ``create_database()`` for a new one."""

    def __init__(self, bindir):
        self.bindir = Path(bindir)
        self.folder = Path(tempfile.mkdtemp(prefix="county-app-pg-"))
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "socket"
        self.port = _free_port()
        self._prefix, uid, gid = _runner()
        self._count = 0
        self.socket_dir.mkdir()
        if uid is not None:
            for path in (self.folder, self.socket_dir):
                os.chown(path, uid, gid)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c synchronous_commit=off -c full_page_writes=off", "start")

    def _run(self, tool, *args):
        subprocess.run([*self._prefix, str(self.bindir / tool), *args], check=True, cwd=self.folder,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def url(self, name, host=None):
        """A URL of database ``name``: over the private socket, or over TCP to ``host``."""
        if host:
            return f"postgresql://{SUPERUSER}@{host}:{self.port}/{name}"
        return f"postgresql://{SUPERUSER}@/{name}?host={self.socket_dir}&port={self.port}"

    def create_database(self):
        """A new empty database (UTF-8, C collation, as the README asks); its name."""
        self._count += 1
        name = f"county_{self._count}"
        connection = psycopg2.connect(self.url("postgres"))
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\' '
                               "LC_COLLATE 'C' LC_CTYPE 'C'")
        finally:
            connection.close()
        return name

    def drop_database(self, name):
        connection = psycopg2.connect(self.url("postgres"))
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            connection.close()

    def stop(self):
        """Stop the server (fast: open connections are cut) and remove the cluster's folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        finally:
            for _ in range(3):
                shutil.rmtree(self.folder, ignore_errors=True)
                if not self.folder.exists():
                    break
                time.sleep(0.5)
