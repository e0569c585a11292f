"""Restoring a backup: the database and scans of a checked backup file replace the live ones.

Everything is checked before anything changes: the file's structure and
manifest (archive.open_checked: ours, complete, a schema this program
knows), every member's SHA-256 as it is unpacked into a staging folder
inside the data folder, ``PRAGMA integrity_check`` on the unpacked database,
and its migrations against the manifest. The unpacked database is then
upgraded there (an older backup gets this program's pending migrations).
Only then is the live database replaced, in one rename; a refusal at any
earlier step leaves it untouched.

The database it replaces is kept twice: as a backup file labelled
``before-restore`` with its scans (when it can still be read), and as
``county_app.sqlite3.replaced-<time>`` beside it. Scan files are only ever
added: those the restored database does not name stay until nightly
maintenance finds them unreferenced.

A restore needs the data folder to itself (instance.DataFolderLock): it
refuses while ``serve`` runs on the same folder.
"""
import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .. import paths
from ..db import DB_FILENAME, bind, db
from . import archive
from .archive import ArchiveError
from .backup import BackupError, DatabaseDamaged, require_sqlite, take_backup
from .instance import DataFolderLock

log = logging.getLogger(__name__)


class RestoreError(Exception):
    """The backup was not restored and the live database is untouched (message in Chinese)."""


@dataclass
class RestoreResult:
    schema: str
    applied: list = field(default_factory=list)
    scans_added: int = 0
    replaced: Path | None = None  # the replaced database file, renamed aside
    replaced_backup: Path | None = None  # the before-restore backup file, when one could be taken


def restore(data_dir, backup_file, *, lock=None):
    """Restore ``backup_file`` into ``data_dir``; give a RestoreResult or raise RestoreError.

    ``lock`` is the data folder's lock when the caller already holds it
    (``serve`` applying a restore chosen on the admin page); otherwise it is
    taken here, and a running server makes the restore refuse.
    """
    try:
        require_sqlite()
    except BackupError as exc:
        raise RestoreError(str(exc)) from None
    data_dir = Path(data_dir)
    own_lock = lock is None
    lock = lock or DataFolderLock(data_dir)
    try:
        _check_writable(data_dir)
        if own_lock:
            lock.acquire("恢复")
        return _restore(data_dir, Path(backup_file))
    except ArchiveError as exc:
        raise RestoreError(str(exc)) from None
    except OSError as exc:
        raise RestoreError(_os_message(exc, data_dir)) from None
    finally:
        if own_lock:
            lock.release()


def _restore(data_dir, backup_file):
    for leftover in data_dir.glob(".restore-*"):  # of a restore killed mid-way (the lock says none runs now)
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    staging = data_dir / f".restore-{stamp}"
    with archive.open_checked(backup_file) as checked:
        staging.mkdir(mode=0o700)
        try:
            staged_db = _unpack_database(checked, staging)
            scans = _unpack_scans(checked, data_dir, staging)
            applied = _upgrade(staged_db)
            result = RestoreResult(checked.schema, applied, len(scans))
            for relative in scans:  # first: a scan file no database names yet harms nothing
                target = data_dir / relative
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.replace(staging / relative, target)
            _replace(data_dir, staged_db, stamp, result)
        finally:
            bind(data_dir)
            shutil.rmtree(staging, ignore_errors=True)
    log.info("restored %s into %s (schema %s, migrations applied %s, %d scan files added)", backup_file, data_dir,
             result.schema, result.applied, result.scans_added)
    return result


def _check_writable(data_dir):
    probe = data_dir / ".restore-probe"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        raise RestoreError(f"数据文件夹 {data_dir} 不可写入（没有写权限或磁盘只读），无法恢复；当前数据库未做任何更改") from None


def _unpack_database(checked, staging):
    staged = archive.extract_checked(checked, archive.DATABASE_MEMBER, staging / DB_FILENAME)
    applied = archive.check_database(staged)
    if sorted(applied) != sorted(checked.manifest["migrations"]):
        raise ArchiveError("备份中的数据库与清单记录的版本不一致，无法恢复；当前数据库未做任何更改")
    return staged


def _unpack_scans(checked, data_dir, staging):
    """Unpack the scans the live folder lacks into ``staging``; give their relative paths."""
    damaged = set(checked.manifest.get("damaged_scans") or ())
    wanted = []
    for name, entry in checked.scans.items():
        if name in damaged:
            continue
        present = data_dir / name
        if present.is_file() and present.stat().st_size == entry["size"]:
            continue  # named by its SHA-256 and written once: the same content
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        archive.extract_checked(checked, name, staging / name)
        wanted.append(name)
    return wanted


def _upgrade(staged_db):
    from ..migrations import migrate

    bind(staged_db.parent)
    try:
        applied, _ = migrate(staged_db, backup=False)
    except Exception as exc:
        log.exception("migrating the restored database failed")
        raise RestoreError(f"备份中的数据库无法升级到本程序的版本（{exc}）；当前数据库未做任何更改") from None
    finally:
        db.close_all()
    return applied


def _replace(data_dir, staged_db, stamp, result):
    """Keep the live database aside, then put the staged one in its place with one rename."""
    live = data_dir / DB_FILENAME
    db.close_all()  # this process's pooled connections to the live file
    if live.is_file() and live.stat().st_size:
        try:
            result.replaced_backup = take_backup(data_dir, label="before-restore").path
        except DatabaseDamaged as exc:
            log.warning("the database being replaced cannot be backed up (%s); it is kept aside only", exc)
        except BackupError as exc:
            raise RestoreError(f"恢复前须先备份当前数据库，但备份失败：{exc}；当前数据库未做任何更改") from None
        _settle_wal(live)
        result.replaced = live.with_name(f"{DB_FILENAME}.replaced-{stamp}")
        try:
            os.link(live, result.replaced)
        except OSError:  # a file system without hard links
            archive.copy_file(live, result.replaced)
    os.replace(staged_db, live)
    paths.private_file(live)
    for suffix in ("-wal", "-shm"):
        Path(f"{live}{suffix}").unlink(missing_ok=True)


def _settle_wal(live):
    """Fold the live database's WAL into it, so that no -wal of the old file is left to meet the new one."""
    try:
        connection = sqlite3.connect(live, timeout=10)
        try:
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        busy = 0  # a damaged database: nothing to fold in
    wal = Path(f"{live}-wal")
    if busy or (wal.exists() and wal.stat().st_size):
        raise RestoreError("数据库正被另一个程序使用（例如另一个命令正在运行），无法恢复；请关闭它后重试。当前数据库未做任何更改")


def _os_message(exc, data_dir):
    import errno

    if exc.errno in (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", -1)):
        return f"数据文件夹 {data_dir} 所在磁盘空间不足，无法恢复；当前数据库未做任何更改"
    if isinstance(exc, PermissionError):
        return f"数据文件夹 {data_dir} 不可写入（没有写权限），无法恢复；当前数据库未做任何更改"
    return f"恢复时读写文件出错（{exc.strerror or exc}）；当前数据库未做任何更改"
