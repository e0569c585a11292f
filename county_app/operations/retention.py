"""Which backups a folder keeps: 14 daily and 12 monthly copies.

Of the dated backups (``county-app-YYYYMMDD-HHMMSS.zip``: nightly, 立即备份,
``backup`` without a file), the newest of each of the 14 latest days that
have one is kept, and the newest of each of the 12 latest months that have
one; both counted over days and months that have a backup, so a PC switched
off for weeks does not lose its older copies. Backups labelled by their
occasion (taken before a migration or a restore, or uploaded to be
restored) are a second set: the newest LABELLED_KEPT of them are kept.

A backup dated after now is neither counted nor deleted: a PC clock set
years ahead (now or when the backup was taken) must not make the rule delete
the real latest copies. Nothing but files named as take_backup names them is
ever deleted, and never the one just written; and the temporary files of a
backup cut short (a process killed mid-way) once a day old.
"""
import logging
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

from .backup import NAME

log = logging.getLogger(__name__)

DAILY = 14
MONTHLY = 12
LABELLED_KEPT = 5
_PARTIAL = re.compile(r"\.county-app-[0-9a-z_.-]+\.zip(\.sqlite3)?\.part")
PARTIAL_AGE = 24 * 3600  # seconds: a backup still being written is younger than this


def to_delete(names, now):
    """The names among ``names`` (backup file names) that the rule lets go, at local time ``now``."""
    dated, labelled = [], []
    for name in names:
        match = NAME.fullmatch(name)
        if not match:
            continue
        taken = datetime.strptime(match.group(1), "%Y%m%d-%H%M%S")
        if taken > now + timedelta(days=1):
            continue  # dated in the future: a clock set wrong; left alone
        (labelled if match.group(3) else dated).append((taken, name))
    keep = set()
    for period, count in ((lambda t: t.date(), DAILY), (lambda t: (t.year, t.month), MONTHLY)):
        newest = {}
        for taken, name in sorted(dated, reverse=True):
            newest.setdefault(period(taken), name)
        keep.update(name for _, name in sorted(newest.items(), reverse=True)[:count])
    keep.update(name for _, name in sorted(labelled, reverse=True)[:LABELLED_KEPT])
    return sorted(name for _, name in dated + labelled if name not in keep)


def prune(folder, *, keep=None, now=None):
    """Delete the backups of ``folder`` the rule lets go (never ``keep``); give the names deleted."""
    folder = Path(folder)
    now = now or datetime.now()
    names = [entry.name for entry in folder.iterdir() if entry.is_file()]
    deleted = []
    for name in to_delete(names, now):
        if keep is not None and name == Path(keep).name:
            continue
        try:
            (folder / name).unlink()
        except FileNotFoundError:
            continue
        deleted.append(name)
    for entry in folder.iterdir():  # what a backup killed with the program left behind
        try:
            if _PARTIAL.fullmatch(entry.name) and entry.is_file() and entry.stat().st_mtime < time.time() - PARTIAL_AGE:
                entry.unlink()
                deleted.append(entry.name)
        except OSError:
            continue
    if deleted:
        log.info("retention: deleted %d old backups in %s: %s", len(deleted), folder, ", ".join(deleted))
    return deleted
