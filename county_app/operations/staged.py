"""A restore chosen on the admin page, applied when ``serve`` next starts.

The server cannot replace the database it is serving from (its requests hold
connections to the file), so the page checks the chosen backup, then records
it here (``restore-pending.json`` in the data folder, with the file's
SHA-256); ``serve`` applies it on its next start, before it serves anything,
through the same restore.restore as the ``restore`` command. The record is
removed before the restore runs, so a backup that fails then is reported
once and the program starts on the database it had.
"""
import hashlib
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
    sha256: str
    actor: str
    staged_at: str


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(archive.CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_fully(path):
    """Every check a restore makes before changing anything, without changing anything: give the manifest."""
    import tempfile

    with archive.open_checked(path) as checked, tempfile.TemporaryDirectory() as scratch:
        for name in checked.manifest["members"]:
            if name in set(checked.manifest.get("damaged_scans") or ()):
                continue
            target = Path(scratch) / "member"
            archive.extract_checked(checked, name, target)
            if name == archive.DATABASE_MEMBER:
                archive.check_database(target)
            target.unlink()
        return checked.manifest


def stage(data_dir, backup_file, actor):
    """Check ``backup_file`` fully and record it as the restore to apply at the next start."""
    backup_file = Path(backup_file).resolve()
    manifest = check_fully(backup_file)
    record = {"file": str(backup_file), "sha256": file_sha256(backup_file), "actor": actor,
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
        return StagedRestore(Path(record["file"]), record["sha256"], record["actor"], record["staged_at"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return StagedRestore(Path(""), "", "", "")  # unreadable: applying it will say so


def cancel(data_dir):
    (Path(data_dir) / PENDING).unlink(missing_ok=True)


def take(data_dir):
    """The staged restore, removed from the folder (it is applied once): give it, or None."""
    staged = pending(data_dir)
    if staged is not None:
        cancel(data_dir)
        if not staged.file.is_file() or file_sha256(staged.file) != staged.sha256:
            raise ArchiveError(f"安排恢复的备份文件 {staged.file} 已不存在或已被改动，未恢复；程序按原有数据库启动")
    return staged
