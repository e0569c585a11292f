"""A backup of a ~1 GB database against copying its file, in the same run (issue 11 item 8: at most 2×).

``python bench/backup_bench.py [--data-dir /tmp/backup-bench/data] [--cases 160000] [--runs 3] [--stages] [--also DIR]``

Builds the data folder with bench/load_cases.py (160,000 realistic cases are
~1.03 GiB) unless it holds a database already, then, RUNS times in turn:
copies the database file twice — ``shutil.copyfile`` alone (what ``cp``
does; the data may still be only in the page cache when it returns) and
``shutil.copyfile`` followed by an fsync of the copy (what a backup must do
to be one) — and takes a backup of it (``operations.backup.take_backup``
into a file: the database file's bytes under a read transaction that holds
them still, hashed as they are written (operations/snapshot.py; the run
line says ``file``, or ``backup API`` where it fell back to SQLite's backup
API and a SHA-256 read pass), the zip of scans and manifest appended, the
fsync, the read-back of its structure and zip members, the rename; NOT the
full ``integrity_check``, which runs at restore and in the verification
after the nightly backup). All into the same scratch folder beside the data.
Prints each time, the load average, the medians and the ratio against both
copies. ``--stages`` also times the backup's parts one by one, and the full
verification (operations/verification.py) of one backup. ``--also DIR``
times, in the same runs, the backup of another version of the code (DIR
holds its ``county_app``, e.g. ``git archive main county_app | tar -x -C
DIR``), in a child process. Figures, not a test: the exit status says only
whether the run itself worked.
"""
import argparse
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
    copies, synced, backups, others = [], [], [], []
    try:
        for run in range(1, args.runs + 1):
            load = os.getloadavg()[0]
            copied = _timed(lambda: shutil.copyfile(database, scratch / "copy.sqlite3"))
            (scratch / "copy.sqlite3").unlink()
            flushed = _timed(lambda: _copy_and_fsync(database, scratch / "copy.sqlite3"))
            (scratch / "copy.sqlite3").unlink()
            taken = []
            backed = _timed(lambda: taken.append(take_backup(data, scratch / f"backup-{run}.zip")))
            if args.stages and run == args.runs:
                kept = scratch / f"backup-{run}.zip"
            else:
                (scratch / f"backup-{run}.zip").unlink()
            copies.append(copied)
            synced.append(flushed)
            backups.append(backed)
            line = (f"run {run} (load {load:.1f}): copy {copied:.2f} s, copy+fsync {flushed:.2f} s, "
                    f"backup {backed:.2f} s ({taken[0].copied_by}), ratio {backed / copied:.2f} / {backed / flushed:.2f}")
            if args.also:
                others.append(_other_backup(args.also, data, scratch / f"other-{run}.zip"))
                line += f"; --also backup {others[-1]:.2f} s, ratio {others[-1] / copied:.2f} / {others[-1] / flushed:.2f}"
            print(line, flush=True)
        copy, flush, backup = statistics.median(copies), statistics.median(synced), statistics.median(backups)
        print(f"median of {args.runs}: copy {copy:.2f} s ({size / copy / 1024 ** 2:.0f} MiB/s), "
              f"copy+fsync {flush:.2f} s, backup {backup:.2f} s; ratio {backup / copy:.2f} against the copy, "
              f"{backup / flush:.2f} against the copy+fsync (target ≤ 2.00); load average now "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        if others:
            other = statistics.median(others)
            print(f"median of --also: backup {other:.2f} s, ratio {other / copy:.2f} / {other / flush:.2f}")
        if args.stages:
            _stages(database, scratch, copy, kept)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _copy_and_fsync(source, target):
    shutil.copyfile(source, target)
    with open(target, "rb+") as handle:
        os.fsync(handle.fileno())


def _stages(database, scratch, copy, backup_file):
    """Each part of a backup alone (× the plain copy), as take_backup does it, and the verification of one backup."""
    from county_app.operations import archive, snapshot, verification

    part = scratch / "part.zip"

    def frozen_copy():
        with snapshot.frozen(database) as frozen, open(part, "wb") as out:
            snapshot.copy(frozen, out)

    def online_copy():
        part.unlink(missing_ok=True)
        source, target = sqlite3.connect(database), sqlite3.connect(part)
        target.execute("PRAGMA journal_mode=OFF")
        target.execute("PRAGMA synchronous=OFF")
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
        target.close()
        source.close()

    def checksum():
        with open(part, "rb") as handle:
            return archive.copy_hashed(handle)

    def append():
        with open(part, "r+b") as handle:
            handle.seek(0, os.SEEK_END)
            with zipfile.ZipFile(handle, "w", allowZip64=True) as out:
                archive.write_manifest(out, {"format": "bench"})

    def fsync():
        with open(part, "rb+") as handle:
            os.fsync(handle.fileno())

    print("stages, each alone (× the copy):")
    for label, step in (("frozen snapshot's bytes, hashed as written", frozen_copy),
                        ("zip appended (no scans)", append), ("fsync", fsync),
                        ("fallback: online copy with the backup API", online_copy),
                        ("fallback: SHA-256 read pass", checksum),
                        ("read back (structure, CRC)", lambda: archive.read_back(backup_file)),
                        ("verification: SHA-256 again + integrity_check", lambda: verification.verify(backup_file)),
                        ("  of which integrity_check in place", lambda: archive.integrity(backup_file, in_place=True)),
                        ("  quick_check in place, for comparison", lambda: _quick_check(backup_file))):
        took = _timed(step)
        print(f"  {label:48} {took:6.2f} s  {took / copy:5.2f}", flush=True)


def _quick_check(path):
    connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    connection.execute("PRAGMA quick_check").fetchall()
    connection.close()


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
