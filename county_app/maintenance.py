"""Nightly maintenance: orphaned scan files, stale catalogue uploads, finished logins (and the intake
drafts that live as long as one), a hub's partial scan uploads no longer awaited, the planner's statistics.

``serve`` runs it on the ``maintenance.cron`` schedule (jobs.py) and
``county-app maintenance`` runs it once. Each step's failure is logged and
the other steps still run.
"""
import logging
import os
import re
import stat
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import sessions, throttle
from .catalogue.uploads import UPLOAD_DIR, drop_stale_uploads
from .db import db, is_postgresql
from .intake import drafts
from .intake.records import Scan
from .intake.scans import EXTENSIONS, SCAN_DIR
from .sync import scanstore

log = logging.getLogger(__name__)

SCAN_GRACE = 3600  # seconds: a younger file may belong to a request that has not yet committed its row
_SHARD = re.compile(r"[0-9a-f]{2}")
# Only names intake.scans writes: <sha256>.<ext>, and the temporary files of a write cut short.
_SCAN_FILE = re.compile(r"[0-9a-f]{64}(?:%s)|tmp[a-z0-9_]+\.part"
                        % "|".join(re.escape(ext) for ext in EXTENSIONS.values()))
_BATCH = 500  # paths checked against the database in one short write transaction


@dataclass
class MaintenanceReport:
    scans_removed: int = 0
    scan_bytes_freed: int = 0
    uploads_removed: int = 0
    sessions_removed: int = 0
    throttles_removed: int = 0
    drafts_removed: int = 0
    partials_removed: int = 0  # a hub's partial scan uploads (sync.scanstore)
    partial_bytes_freed: int = 0
    optimized: bool = False
    failures: dict = field(default_factory=dict)  # step ("scans", "uploads", "logins", "optimize") → error message


def run_maintenance(data_dir, now=None):
    """Run every maintenance step on the node of ``data_dir`` and give a MaintenanceReport.

    ``db`` must already be bound to that folder's database. ``now`` is a
    POSIX timestamp or a datetime (default: the current time).
    """
    data_dir = Path(data_dir)
    if db.data_dir is None or db.data_dir != data_dir.resolve():
        # Judging files by another database's rows would delete every scan of this one.
        raise ValueError(f"the database is not bound to {data_dir}")
    if now is None:
        now = time.time()
    elif isinstance(now, datetime):
        now = now.timestamp()
    report = MaintenanceReport()
    with db.connection_context():
        for step, action in (("scans", _remove_orphaned_scans), ("uploads", _drop_uploads),
                             ("logins", _drop_finished_logins), ("incoming", _drop_partial_uploads),
                             ("optimize", _optimize)):
            try:
                action(data_dir, now, report)
            except Exception as exc:
                log.exception("maintenance step %s failed", step)
                report.failures[step] = str(exc) or type(exc).__name__
    log.info("maintenance: removed %d orphaned scan files (%d bytes), %d stale catalogue uploads, "
             "%d finished login sessions, %d idle login throttle rows, %d old intake drafts and %d partial "
             "scan uploads (%d bytes); statistics %s; failed steps: %s",
             report.scans_removed, report.scan_bytes_freed, report.uploads_removed, report.sessions_removed,
             report.throttles_removed, report.drafts_removed, report.partials_removed, report.partial_bytes_freed,
             "refreshed" if report.optimized else "not refreshed",
             ", ".join(report.failures) or "none")
    return report


def _remove_orphaned_scans(data_dir, now, report):
    """Delete files under ``scans/`` that no Scan row names and that are older than SCAN_GRACE.

    A file is written before its row's transaction, so one whose transaction
    failed stays behind. Candidates are listed without a transaction, then
    checked against the rows again and deleted inside a write transaction, so
    that a row committed meanwhile keeps its file.
    """
    cutoff = now - SCAN_GRACE
    candidates = _old_scan_files(data_dir, cutoff)
    for start in range(0, len(candidates), _BATCH):
        batch = candidates[start:start + _BATCH]
        with db.atomic():
            named = {row.path for row in Scan.select(Scan.path).where(Scan.path.in_(batch))}
            for relative in batch:
                if relative in named:
                    continue
                path = data_dir / relative
                try:
                    info = os.lstat(path)
                    if not stat.S_ISREG(info.st_mode) or _is_link(info) or info.st_mtime >= cutoff:
                        continue  # replaced or rewritten since it was listed
                    os.unlink(path)
                except FileNotFoundError:
                    continue
                report.scans_removed += 1
                report.scan_bytes_freed += info.st_size


def _old_scan_files(data_dir, cutoff):
    """Paths (relative, with "/") of scan files older than ``cutoff``, in ``scans/ab/`` only.

    Links (symlinks, Windows junctions) are never followed nor deleted, and
    names intake.scans does not write are left alone.
    """
    root = data_dir / SCAN_DIR
    try:
        info = os.lstat(root)
    except FileNotFoundError:
        return []
    if not stat.S_ISDIR(info.st_mode) or _is_link(info):
        log.warning("maintenance: %s is not a plain folder; its files are left alone", root)
        return []
    found = []
    with os.scandir(root) as shards:
        for shard in shards:
            if not _SHARD.fullmatch(shard.name):
                continue
            shard_info = shard.stat(follow_symlinks=False)
            if not stat.S_ISDIR(shard_info.st_mode) or _is_link(shard_info):
                continue
            with os.scandir(shard.path) as files:
                for entry in files:
                    if not _SCAN_FILE.fullmatch(entry.name):
                        continue
                    entry_info = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(entry_info.st_mode) and not _is_link(entry_info) \
                            and entry_info.st_mtime < cutoff:
                        found.append(f"{SCAN_DIR}/{shard.name}/{entry.name}")
    return sorted(found)


def _is_link(info):
    """True for a symlink, or for any reparse point (a junction) on Windows."""
    return stat.S_ISLNK(info.st_mode) or bool(
        getattr(info, "st_file_attributes", 0) & stat.FILE_ATTRIBUTE_REPARSE_POINT)


def _drop_uploads(data_dir, now, report):
    folder = data_dir / UPLOAD_DIR
    if folder.is_dir():
        report.uploads_removed = drop_stale_uploads(folder, now=now)


def _drop_finished_logins(data_dir, now, report):
    """Ended and expired login sessions, login throttle rows that hold nothing back any more, and intake
    drafts older than a login lasts (what a clerk typed is not kept beyond the working day)."""
    report.sessions_removed = sessions.prune(datetime.fromtimestamp(now, timezone.utc))
    report.throttles_removed = throttle.prune(now)
    report.drafts_removed = drafts.prune(datetime.fromtimestamp(now, timezone.utc))


def _drop_partial_uploads(data_dir, now, report):
    report.partials_removed, report.partial_bytes_freed = scanstore.drop_stale_partials(data_dir, now)


def _optimize(data_dir, now, report):
    """Refresh the statistics SQLite's query planner uses (bench/RESULTS.md: a search's bad plan without them).

    Before SQLite 3.46 ``PRAGMA optimize`` only looks at the tables its own
    connection has queried, which for this job is none: there ANALYZE runs
    instead, bounded by ``analysis_limit`` so that it stays quick on a large
    database. From 3.46 ``optimize=0x10002`` checks every table and bounds
    itself. On PostgreSQL (a hub) a plain ANALYZE, which samples each table.
    """
    if is_postgresql():
        db.execute_sql("ANALYZE")
        report.optimized = True
        return
    with db.atomic():
        version = db.execute_sql("SELECT sqlite_version()").fetchone()[0]
        if tuple(int(part) for part in version.split(".")[:2]) >= (3, 46):
            db.execute_sql("PRAGMA optimize=0x10002")
        else:
            db.execute_sql("PRAGMA analysis_limit=400")
            db.execute_sql("ANALYZE")
    report.optimized = True
