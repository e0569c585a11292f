"""A backup of a ~1 GB database against copying its file, in the same run (issue 11 item 8: at most 2×).

``python bench/backup_bench.py [--data-dir /tmp/backup-bench/data] [--cases 160000] [--runs 3] [--stages] [--also DIR]``

Builds the data folder with bench/load_cases.py (160,000 realistic cases are
~1.03 GiB) unless it holds a database already, then, RUNS times in turn:
copies the database file (``shutil.copyfile``: what ``cp`` does) and takes a
backup of it (``operations.backup.take_backup`` into a file: the online
copy, its integrity check, the zip with SHA-256 checksums, the fsync and the
read-back), both into the same scratch folder beside the data. Prints each
time, the medians and their ratio. ``--stages`` also times the backup's
parts one by one (each alone, so their sum is more than the backup, which
runs the integrity check beside the zip). ``--also DIR`` times, in the same
runs, the backup of another version of the code (DIR holds its
``county_app``, e.g. ``git archive main county_app | tar -x -C DIR``), in a
child process. Figures, not a test: the exit status says only whether the
run itself worked.
"""
import argparse
import hashlib
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from county_app.db import DB_FILENAME, bind  # noqa: E402
from county_app.operations.backup import take_backup  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="/tmp/backup-bench/data")
    parser.add_argument("--cases", type=int, default=160_000, help="cases to load when the folder is empty")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stages", action="store_true", help="also time the backup's parts one by one")
    parser.add_argument("--also", help="a folder holding another county_app whose backup is timed too")
    args = parser.parse_args(argv)
    data = Path(args.data_dir)
    database = data / DB_FILENAME
    if not database.is_file():
        subprocess.run([sys.executable, str(ROOT / "bench" / "load_cases.py"), str(data), "--cases", str(args.cases)],
                       check=True)
    _checkpoint(database)
    size = database.stat().st_size
    print(f"database {database}: {size / 1024 ** 3:.2f} GiB")
    scratch = data.parent / "backup-bench-out"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    bind(data)
    copies, backups, others = [], [], []
    try:
        for run in range(1, args.runs + 1):
            copied = _timed(lambda: shutil.copyfile(database, scratch / "copy.sqlite3"))
            (scratch / "copy.sqlite3").unlink()
            backed = _timed(lambda: take_backup(data, scratch / f"backup-{run}.zip"))
            (scratch / f"backup-{run}.zip").unlink()
            copies.append(copied)
            backups.append(backed)
            line = f"run {run}: copy {copied:.2f} s, backup {backed:.2f} s, ratio {backed / copied:.2f}"
            if args.also:
                others.append(_other_backup(args.also, data, scratch / f"other-{run}.zip"))
                line += f"; --also backup {others[-1]:.2f} s, ratio {others[-1] / copied:.2f}"
            print(line, flush=True)
        copy, backup = statistics.median(copies), statistics.median(backups)
        print(f"median: copy {copy:.2f} s ({size / copy / 1024 ** 2:.0f} MiB/s), backup {backup:.2f} s, "
              f"ratio {backup / copy:.2f} (target ≤ 2.00)")
        if others:
            print(f"median of --also: backup {statistics.median(others):.2f} s, "
                  f"ratio {statistics.median(others) / copy:.2f}")
        if args.stages:
            _stages(database, scratch, copy)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _stages(database, scratch, copy):
    snapshot = scratch / "snapshot.sqlite3"
    source = sqlite3.connect(database)

    def online_copy():
        target = sqlite3.connect(snapshot)
        target.execute("PRAGMA journal_mode=OFF")
        target.execute("PRAGMA synchronous=OFF")
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
        target.close()

    def check(kind):
        connection = sqlite3.connect(snapshot)
        connection.execute(f"PRAGMA {kind}").fetchall()
        connection.close()

    def checksum():
        digest = hashlib.sha256()
        with open(snapshot, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)

    def zip_member():
        with zipfile.ZipFile(scratch / "member.zip", "w", allowZip64=True) as out:
            out.write(snapshot, "county_app.sqlite3", compress_type=zipfile.ZIP_STORED)

    def read_back():
        with zipfile.ZipFile(scratch / "member.zip") as archive:
            archive.testzip()

    print("stages, each alone (× the copy):")
    for label, step in (("online copy (backup API)", online_copy), ("integrity_check", lambda: check("integrity_check")),
                        ("quick_check", lambda: check("quick_check")), ("SHA-256 of the copy", checksum),
                        ("zip member written (CRC)", zip_member), ("read back (CRC)", read_back)):
        took = _timed(step)
        print(f"  {label:28} {took:6.2f} s  {took / copy:5.2f}", flush=True)
    source.close()


def _other_backup(code, data, target):
    """Seconds the backup of the county_app in ``code`` takes (timed inside its own process)."""
    script = ("import sys, time; sys.path.insert(0, sys.argv[1]); from county_app.db import bind; "
              "from county_app.operations.backup import take_backup; bind(sys.argv[2]); t = time.perf_counter(); "
              "take_backup(sys.argv[2], sys.argv[3]); print(time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", script, str(code), str(data), str(target)], check=True,
                          capture_output=True, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    Path(target).unlink()
    return float(done.stdout.split()[-1])


def _checkpoint(database):
    """The load leaves a WAL: fold it in, so that the copy and the backup copy the same bytes."""
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def _timed(step):
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
