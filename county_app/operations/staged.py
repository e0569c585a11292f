"""A restore chosen on the admin page, applied when ``serve`` next starts.

The server cannot replace the database it is serving from (its requests hold
connections to the file), so the page checks the chosen backup's structure
and manifest (a quick read: its member list, not its gigabytes of scans),
then records it here (``restore-pending.json`` in the data folder, with the
file's size and modification time, so that a file replaced meanwhile is not
restored); ``serve`` applies it on its next start, before it serves
anything, through the same restore.restore as the ``restore`` command, which
checks every member's SHA-256 before it changes anything. The record is
removed before the restore runs, so a backup that fails then is reported
once (on the console and in the audit log) and the program starts on the
database it had.
"""
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import archive
from .archive import ArchiveError

PENDING = "restore-pending.json"


@dataclass
class StagedRestore:
    file: Path
    fingerprint: list  # [size, modification time in ns] when it was chosen
    actor: str
    staged_at: str


def _fingerprint(path):
    status = Path(path).stat()
    return [status.st_size, status.st_mtime_ns]


def stage(data_dir, backup_file, actor):
    """Check ``backup_file``'s structure and manifest and record it as the restore to apply at the next start."""
    backup_file = Path(backup_file).resolve()
    with archive.open_checked(backup_file) as checked:
        manifest = checked.manifest
    record = {"file": str(backup_file), "fingerprint": _fingerprint(backup_file), "actor": actor,
              "staged_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    temporary = Path(data_dir) / f".{PENDING}.part"
    temporary.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, Path(data_dir) / PENDING)
    return manifest


def pending(data_dir):
    """The staged restore of ``data_dir``, or None."""
    path = Path(data_dir) / PENDING
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return StagedRestore(Path(record["file"]), record["fingerprint"], record["actor"], record["staged_at"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return StagedRestore(Path(""), [], "", "")  # unreadable: applying it will say so


def cancel(data_dir):
    (Path(data_dir) / PENDING).unlink(missing_ok=True)


def take(data_dir):
    """The staged restore, removed from the folder (it is applied once): give it, or None."""
    staged = pending(data_dir)
    if staged is not None:
        cancel(data_dir)
        if not staged.file.is_file() or _fingerprint(staged.file) != staged.fingerprint:
            raise ArchiveError(f"安排恢复的备份文件 {staged.file} 已不存在或已被改动，未恢复；程序按原有数据库启动")
    return staged
