"""Backups as the program takes them: audited, and one at a time in the background for the admin page.

``backup_now`` is the one entry for a backup of the running node (the
``backup`` command, the nightly job, the page's 立即备份): it takes the
backup into the configured folder (or a given file) and writes the outcome
to the audit log. ``verify_and_record`` then checks it in full
(verification.py) and audits the verdict: the nightly job and 立即备份 do,
``backup --verify`` does. ``BackgroundBackup`` runs a backup and its
verification in a thread so that a request never waits for them; the page
shows their progress and result. A second start while one runs is refused
(take_backup also allows one at a time).
"""
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from .. import audit, settings
from ..background import OneAtATime
from ..db import db
from . import verification
from .backup import BackupError, backup_folder, list_backups, take_backup

log = logging.getLogger(__name__)

FRESH = timedelta(hours=20)  # after a start, a backup is taken unless the newest dated one is younger


def configured_folder(data_dir):
    """The backup folder of the node bound to ``db`` (setting ``backup.folder``, else ``<data>/backups``)."""
    with _connected():
        return backup_folder(data_dir, settings.get("backup.folder"))


def _connected():
    """A connection for this thread: the one it has (a request's), else one for the block."""
    import contextlib

    return db.connection_context() if db.is_closed() else contextlib.nullcontext()


def backup_now(data_dir, *, actor, target=None, progress=None):
    """Take a backup of ``data_dir`` and audit it; give the BackupResult or raise BackupError (audited too)."""
    try:
        result = take_backup(data_dir, target, progress=progress)
    except BackupError as exc:
        _audit(actor, "backup.failed", str(target or configured_folder(data_dir)), error=str(exc))
        raise
    _audit(actor, "backup.create", result.path.name, folder=str(result.path.parent), size=result.size,
           schema=result.schema, scans=result.scans, missing_scans=len(result.missing_scans),
           damaged_scans=len(result.damaged_scans))
    return result


def verify_and_record(path, *, actor):
    """Verify the backup ``path`` in full and audit the verdict; give the Verdict."""
    verdict = verification.verify(path)
    if verdict.ok:
        _audit(actor, verification.VERIFIED, Path(path).name, folder=str(Path(path).parent))
    else:
        log.error("backup %s failed its verification: %s", path, verdict.problem)
        _audit(actor, verification.FAILED, Path(path).name, folder=str(Path(path).parent), problem=verdict.problem)
    return verdict


def scheduled_backup(data_dir):
    """The nightly job: a backup into the configured folder, then its verification; a failure is logged and
    audited, never raised."""
    actor = "system:nightly"
    try:
        verify_and_record(backup_now(data_dir, actor=actor).path, actor=actor)
    except Exception:
        log.exception("the nightly backup failed")


def backup_if_stale(data_dir):
    """After a start: a backup unless the newest dated backup is younger than FRESH (a PC off at night)."""
    try:
        newest = [info for info in list_backups(configured_folder(data_dir)) if not info.label and not info.problem]
    except OSError:
        newest = []
    if newest and datetime.now() - newest[0].taken_at < FRESH:
        return None
    return scheduled_backup(data_dir)


def _audit(actor, action, entity_id, **detail):
    try:
        with _connected(), db.atomic():
            audit.record(actor, action, "backup", entity_id, **detail)
    except Exception:  # a database too damaged to write to must not hide the backup's own outcome
        log.exception("could not audit %s", action)


@dataclass
class Progress:
    started_at: float
    actor: str
    done: int = 0
    total: int = 0
    finished_at: float | None = None
    result: object = None  # BackupResult
    verdict: object = None  # verification.Verdict, once the backup is verified
    error: str = ""

    @property
    def running(self):
        return self.finished_at is None

    @property
    def verifying(self):
        return self.running and self.result is not None

    @property
    def percent(self):
        return int(100 * self.done / self.total) if self.total else 0


class BackgroundBackup(OneAtATime):
    """At most one backup in the background (立即备份); ``state`` says how the latest one goes or went."""

    def __init__(self, data_dir):
        super().__init__("backup")
        self.data_dir = Path(data_dir)

    def start(self, actor):
        """Start a backup; False when one is running already."""
        return super().start(Progress(time.time(), actor))

    def work(self, state):
        def progress(done, total):
            state.done, state.total = done, total

        try:
            state.result = backup_now(self.data_dir, actor=state.actor, progress=progress)
            state.verdict = verify_and_record(state.result.path, actor=state.actor)
        except BackupError as exc:
            state.error = str(exc)
        except Exception as exc:  # reported on the page; the details go to the log
            log.exception("backup from the admin page failed")
            state.error = f"备份失败（{type(exc).__name__}），详情见日志"
