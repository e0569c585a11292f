"""Hostile and huge catalogue workbooks: how long the check takes and how much memory it needs.

Builds the workbooks of issue 7 (10 million shared strings; 100,000 rows ×
110 cells) and worse ones at the 20 MB upload limit, then checks each as the
web page's background job does: ``store.import_workbook(dry_run=True)`` in a
fresh process, against a data folder whose catalogue in force is a large
county's (5,000 matters, 105,000 rows), so that an accepted file is also
compared with it. Prints, per workbook, its size, the answer, the wall time
of the whole process (interpreter start and imports included, as for a
spawned child) and the process's peak RSS. Targets: ≤ 60 s and ≤ 200 MB.

Then the two largest valid workbooks, each checked and imported with the
other in force (the most memory a check or an import can take), and two
figures behind the design of catalogue/checks.py:
- the cost of spawning the check's child process (CheckRunner, minimal workbook);
- ``/api/v1/health`` latency on the real server while a long check runs in a
  thread of the server process, against in a child process.

Run: ``.venv/bin/python bench/catalogue_hostile_bench.py [--only NAME ...] [--skip-gil]``.
Workbooks are cached in /tmp/county-hostile-bench (about 200 MB).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from hostile_workbooks import CASES, county, rows_under_limits, valid_at_limits  # noqa: E402

WORK = Path("/tmp/county-hostile-bench")
MB = 1024 * 1024


def step(workbook, data_dir, apply=False):
    """In a fresh process: the background job's work on ``workbook`` (a check, or with ``apply`` an
    import); prints JSON with its answer and peak RSS."""
    from county_app.catalogue import store
    from county_app.db import bind, db

    bind(data_dir)
    with db.connection_context():
        started = time.perf_counter()
        outcome = store.import_workbook(workbook, actor="bench", dry_run=not apply)
        seconds = time.perf_counter() - started
    first = str(outcome.errors[0]) if outcome.errors else ""
    print(json.dumps({"status": outcome.status, "errors": outcome.error_count, "first": first[:90],
                      "check_seconds": seconds, "peak_mb": peak_mb()}, ensure_ascii=False))


def peak_mb():
    """This process's peak resident memory. Linux's ru_maxrss survives exec (a child started by a
    big parent would report the parent's peak); VmHWM belongs to this program alone."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def county_data_dir():
    """A data folder with a large county's catalogue in force (built once)."""
    data_dir = WORK / "data"
    if not (data_dir / "county_app.sqlite3").exists():
        import catalogue_bench
        from county_app.bootstrap import initialise
        from county_app.catalogue import store
        from county_app.db import db

        catalogue_bench.MATTERS = 5000
        catalogue_bench.generate(WORK / "in-force.xlsx")
        data_dir.mkdir(parents=True, exist_ok=True)
        initialise(data_dir, load_seed=False)
        with db.connection_context():
            assert store.import_workbook(WORK / "in-force.xlsx", actor="bench").status == "applied"
        db.close()
    return data_dir


def built(case):
    workbook = WORK / f"{case.__name__}.xlsx"
    if not workbook.exists():
        started = time.perf_counter()
        case(workbook)
        print(f"  (built {workbook.name} in {time.perf_counter() - started:.0f} s)", flush=True)
    return workbook


def measure(case, data_dir, apply=False, label=None):
    workbook = built(case)
    started = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--apply" if apply else "--step", str(workbook), str(data_dir)],
                         check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - started
    result = json.loads(out.strip().splitlines()[-1])
    print(f"{label or case.__name__:26s} {workbook.stat().st_size / MB:5.1f} MB  {wall:5.1f} s  "
          f"{result['peak_mb']:4.0f} MB  {result['status']:9s} {result['errors']:>9,} errors  {result['first']}",
          flush=True)


def largest_against_largest():
    """The two largest valid workbooks, each checked and imported with the other in force: the most memory."""
    import shutil

    from county_app.bootstrap import initialise
    from county_app.catalogue import store
    from county_app.db import bind, db

    for in_force, new in ((rows_under_limits, valid_at_limits), (valid_at_limits, rows_under_limits)):
        data_dir = WORK / f"data-{in_force.__name__}"
        if not (data_dir / "county_app.sqlite3").exists():
            data_dir.mkdir(exist_ok=True)
            initialise(data_dir, load_seed=False)
            with db.connection_context():
                assert store.import_workbook(built(in_force), actor="bench").status == "applied"
            db.close()
        measure(new, data_dir, label=f"{new.__name__}, check")
        scratch = WORK / "scratch-data"
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(data_dir, scratch)
        bind(scratch)  # so that its connections are closed before the copy is removed
        measure(new, scratch, apply=True, label=f"{new.__name__}, import")
        db.close_all()
        shutil.rmtree(scratch)


def spawn_cost(data_dir):
    """Seconds from submitting a minimal workbook to the CheckRunner to its answer, against the time
    the same check takes in this process: the difference is the cost of the child process."""
    from workbooks import Book

    from county_app.bootstrap import initialise
    from county_app.catalogue import store
    from county_app.catalogue.checks import CheckRunner
    from county_app.db import db

    empty = WORK / "empty-data"
    if not empty.exists():
        empty.mkdir()
        initialise(empty, load_seed=False)
    path = Book().save(WORK / "minimal.xlsx")
    for folder, label in ((empty, "no catalogue in force"), (data_dir, "the county's in force")):
        from county_app.db import bind
        bind(folder)
        with db.connection_context():
            started = time.perf_counter()
            store.import_workbook(path, actor="bench", dry_run=True)
            alone = time.perf_counter() - started
        db.close()
        runner, times = CheckRunner(folder), []
        try:
            for number in range(3):
                staged = WORK / f"minimal-{number}.xlsx"
                staged.write_bytes(path.read_bytes())
                started = time.perf_counter()
                job = runner.submit("check", staged, "minimal.xlsx", "bench")
                while job.state != "done":
                    time.sleep(0.01)
                times.append(time.perf_counter() - started)
        finally:
            runner.shutdown()
        print(f"minimal workbook, {label}: in this process {alone:.2f} s, as a spawned job "
              f"{' / '.join(f'{t:.2f}' for t in times)} s (answer: {job.report['status']})")


def health_during_check(data_dir, workbook, in_thread):
    """Latency of /api/v1/health, polled from another process, while ``workbook`` is checked."""
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(data_dir), str(workbook),
                               "thread" if in_thread else "process"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        url = f"http://127.0.0.1:{port}/api/v1/health"
        latencies, started = [], time.perf_counter()
        while server.poll() is None and time.perf_counter() - started < 240:
            begun = time.perf_counter()
            try:
                urllib.request.urlopen(url, timeout=300).read()
            except OSError:
                break
            latencies.append(time.perf_counter() - begun)
            time.sleep(0.05)
    finally:
        server.wait(timeout=300)
    latencies.sort()
    where = "a thread of the server" if in_thread else "a child process      "
    print(f"health while checking in {where}: {len(latencies)} answers, median "
          f"{statistics.median(latencies) * 1000:.0f} ms, p95 {latencies[int(len(latencies) * .95)] * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms")


def serve_and_check(data_dir, workbook, where):
    """The --serve process: the real server, and one check in a thread of it or in a child process."""
    from county_app import create_app, server
    from county_app.catalogue import store
    from county_app.catalogue.checks import CheckRunner
    from county_app.db import db

    app = create_app(data_dir)
    http = server.create(app, host="127.0.0.1", port=0)
    threading.Thread(target=http.run, daemon=True).start()
    print(http.effective_port, flush=True)
    time.sleep(1)
    if where == "thread":
        with db.connection_context():
            store.import_workbook(workbook, actor="bench", dry_run=True)
    else:
        runner = CheckRunner(data_dir, timeout=600)
        job = runner.submit("check", Path(workbook), "x.xlsx", "bench")
        while job.state != "done":
            time.sleep(0.1)
        runner.shutdown()
    http.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--skip-gil", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    data_dir = county_data_dir()
    print(f"{'workbook':26s} {'size':>8s}  {'wall':>7s}  {'peak':>7s}  answer")
    for case in CASES:
        if not args.only or case.__name__ in args.only:
            measure(case, data_dir)
    if not args.only:
        print("-- the largest valid workbooks, with the other one in force:")
        largest_against_largest()
    spawn_cost(data_dir)
    if not args.skip_gil:
        workbook = WORK / "county.xlsx"
        if not workbook.exists():
            county(workbook)
        health_during_check(data_dir, workbook, in_thread=True)
        health_during_check(data_dir, workbook, in_thread=False)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    if len(sys.argv) > 1 and sys.argv[1] in ("--step", "--apply"):
        step(sys.argv[2], sys.argv[3], apply=sys.argv[1] == "--apply")
    elif len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve_and_check(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
