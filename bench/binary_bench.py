"""The built program against issue 11's targets: its size, its start to the first HTTP 200, its memory.

Targets (issue 11, item 8): the executable at most 30 MB; cold start to the
first HTTP 200 at most 1.5 s; resident memory at most 70 MB after serving a
few pages and a notice. The baseline, measured in the same run the same
way, is the smallest program of the same kind: a one-file PyInstaller build
of a Flask app that reads SQLite through peewee and is served by waitress
(bench/out/baseline, built here once and reused; ``--rebuild`` builds it
again).

Each start is a fresh process on a data folder set up before (the first
start on a fresh data folder, which creates the database and loads the
seed catalogue, is shown on its own line); the program's files are in the
OS's cache, as on a PC that has run it before. Memory is VmRSS of the
process that serves (in the one-file program a small bootloader process
starts it: shown apart), read after serving the login page, the health,
bundle and catalogue answers, a case registered over the API, its page and
its printed 收件回执. The helper processes the server starts (the scan
checker, and on Linux and macOS multiprocessing's resource tracker) are
shown apart, as PSS (shared pages counted once). Linux only (/proc).

Usage: make bench-binary   (or: .venv/bin/python bench/binary_bench.py [--runs 5] [--rebuild])
"""
import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from county_app.jobs import BACKGROUND_DELAY  # noqa: E402
from program import EXECUTABLE, Running, call, descendants, environment, free_port, rss_kib, run  # noqa: E402

FOLDER_EXECUTABLE = ROOT / "dist" / "county-app-folder" / EXECUTABLE.name
BASELINE_DIR = ROOT / "bench" / "out" / "baseline"
BASELINE_APP = '''"""The baseline: Flask + peewee (SQLite) + waitress, nothing else."""
import sys
import tempfile
import time
from pathlib import Path

import waitress
from flask import Flask, render_template_string
from peewee import CharField, Model, SqliteDatabase

db = SqliteDatabase(str(Path(tempfile.mkdtemp()) / "baseline.sqlite3"))


class Item(Model):
    name = CharField()

    class Meta:
        database = db


app = Flask(__name__, instance_path=tempfile.gettempdir())


@app.get("/")
def index():
    with db.connection_context():
        names = [item.name for item in Item.select()]
    return render_template_string("<ul>{% for n in names %}<li>{{ n }}</li>{% endfor %}</ul>", names=names)


if __name__ == "__main__":
    with db.connection_context():
        db.create_tables([Item])
        Item.insert_many([{"name": f"事项 {i}"} for i in range(50)]).execute()
    waitress.serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=2)
'''
# A registration of the seed catalogue's 新生儿出生一件事 (tests/test_cases_domain.py)
from test_cases_domain import CENTRE, newborn  # noqa: E402

MIB = 1024


def build_baseline(rebuild):
    program = BASELINE_DIR / "dist" / "baseline"
    if program.exists() and not rebuild:
        return program
    shutil.rmtree(BASELINE_DIR, ignore_errors=True)
    BASELINE_DIR.mkdir(parents=True)
    (BASELINE_DIR / "baseline.py").write_text(BASELINE_APP, encoding="utf-8")
    subprocess.run([str(ROOT / ".venv" / "bin" / "pyinstaller"), "--noconfirm", "--log-level", "WARN", "--onefile",
                    "--strip",  # as build/county_app.spec does off Windows
                    "--name", "baseline", "--distpath", str(BASELINE_DIR / "dist"),
                    "--workpath", str(BASELINE_DIR / "work"), "--specpath", str(BASELINE_DIR),
                    str(BASELINE_DIR / "baseline.py")], check=True)
    return program


def server_pid(running, onefile):
    """The process that serves: in a one-file program the bootloader's child, which unpacks it and waits."""
    if not onefile:
        return running.process.pid
    return int(Path(f"/proc/{running.process.pid}/task/{running.process.pid}/children").read_text().split()[0])


def pss_kib(pid):
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))


def set_up(data_dir):
    """A data folder with the seed catalogue, the centre's code and a clerk with an API token."""
    env = environment(data_dir)
    command = [str(EXECUTABLE)]
    for args, given in ((["init", "--code", CENTRE], None),
                        (["user", "add", "clerk", "--role", "clerk", "--password-stdin"], "春天 骑车 去 县城 27\n")):
        code, out, err = run(command, *args, env=env, input=given)
        assert code == 0, out + err
    code, out, err = run(command, "token", "issue", "clerk", env=env)
    assert code == 0, out + err
    return out.strip().splitlines()[-1]


def county_pages(base, token):
    for path in ("/login", "/api/v1/health", "/api/v1/bundles", "/api/v1/bundles/YJS-XSECS", "/api/v1/matters"):
        status, _ = call(base, "GET", path, token=token)
        assert status == 200, (path, status)
    status, case = call(base, "POST", "/api/v1/cases", newborn(), token=token)
    assert status == 201, case
    for path in (f"/cases/{case['case_no']}", f"/cases/{case['case_no']}/notices/receipt"):
        status, page = call(base, "GET", path, token=token)
        assert status == 200, (path, status, str(page)[:300])


class Subject:
    """One program measured: how to start it, what to ask of it, what it weighs on disk."""

    def __init__(self, name, command, ready, pages, size, data_dir=None, onefile=True):
        self.name, self.command, self.ready, self.pages, self.size = name, command, ready, pages, size
        self.data_dir, self.onefile = data_dir, onefile
        self.starts, self.memory = [], None

    def run(self, log, last):
        port = free_port()
        args = [*self.command, "serve", "--port", str(port)] if self.data_dir else [*self.command, str(port)]
        running = Running(args, env=environment(self.data_dir or log.parent), cwd=log.parent, log=log)
        base = f"http://127.0.0.1:{port}"
        try:
            self.starts.append(running.wait_ready(base + self.ready))
            if last:
                self.pages(base)
                time.sleep(BACKGROUND_DELAY + 3)  # the scheduler and the scan checker have started
                self.pages(base)
                self.memory = memory(running, self.onefile)
        finally:
            running.stop()


def memory(running, onefile):
    """(server RSS, bootloader RSS, helpers' PSS) in KiB."""
    server = server_pid(running, onefile)
    boot = rss_kib(running.process.pid) if onefile else 0
    helpers = sum(pss_kib(pid) for pid in descendants(server))
    return rss_kib(server), boot, helpers


def folder_size(path):
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def first_start(scratch):
    """Seconds to the first 200 on a fresh data folder: the database created, the seed catalogue loaded."""
    fresh = scratch / "fresh"
    fresh.mkdir()
    port = free_port()
    running = Running([str(EXECUTABLE), "serve", "--port", str(port)], env=environment(fresh), cwd=fresh,
                      log=scratch / "fresh.log")
    try:
        return running.wait_ready(f"http://127.0.0.1:{port}/login")
    finally:
        running.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="starts of each program (default 5)")
    parser.add_argument("--rebuild", action="store_true", help="build the baseline again")
    args = parser.parse_args()
    if not EXECUTABLE.exists():
        sys.exit(f"{EXECUTABLE} is missing: run `make binary` first")
    baseline = build_baseline(args.rebuild)
    with tempfile.TemporaryDirectory(prefix="county-binary-bench-") as scratch:
        scratch = Path(scratch)
        data_dir = scratch / "data"
        data_dir.mkdir()
        token = set_up(data_dir)
        subjects = [
            Subject("baseline: Flask + peewee + waitress, one file (stripped)", [str(baseline)], "/",
                    lambda base: [call(base, "GET", "/") for _ in range(8)], baseline.stat().st_size),
            Subject("county-app, one file", [str(EXECUTABLE)], "/login", lambda base: county_pages(base, token),
                    EXECUTABLE.stat().st_size, data_dir)]
        if FOLDER_EXECUTABLE.exists():
            subjects.append(Subject("county-app, one folder (`make binary-dir`)", [str(FOLDER_EXECUTABLE)], "/login",
                                    lambda base: county_pages(base, token), folder_size(FOLDER_EXECUTABLE.parent),
                                    data_dir, onefile=False))
        for number in range(args.runs):  # taken in turns, so that the machine's other work weighs on each alike
            for index, subject in enumerate(subjects):
                subject.run(scratch / f"{index}-{number}.log", last=number == args.runs - 1)
        fresh = first_start(scratch)

    print(f"{args.runs} starts each, taken in turns; the median and the best start to the first 200\n")
    print("| program | size | start to first 200 | server RSS after pages | bootloader RSS | helpers' PSS |")
    print("| --- | --- | --- | --- | --- | --- |")
    for subject in subjects:
        rss, boot, helpers = subject.memory
        print(f"| {subject.name} | {subject.size / MIB / MIB:.1f} MB | {statistics.median(subject.starts):.2f} s "
              f"(best {min(subject.starts):.2f}) | {rss / MIB:.0f} MB | {boot / MIB:.1f} MB | {helpers / MIB:.0f} MB |")
    base, county = subjects[0], subjects[1]
    print(f"\none file against the baseline: size {county.size / base.size:.2f}×, "
          f"start {statistics.median(county.starts) / statistics.median(base.starts):.2f}×, "
          f"server RSS {county.memory[0] / base.memory[0]:.2f}×")
    print("targets: size ≤ 30 MB, start ≤ 1.5 s, server RSS ≤ 70 MB")
    print(f"first start on a fresh data folder (creates the database, loads the seed catalogue): {fresh:.2f} s")


if __name__ == "__main__":
    main()
