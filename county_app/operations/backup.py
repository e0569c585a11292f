"""Taking a backup: an online copy of the database and the scans, in one checked file.

The copy is made while the program runs (writers go on) straight into the
backup file under a temporary name (``.….part``) in the target folder: the
database file's bytes under a read transaction that holds them still
(snapshot.py), hashed as they are written, or — when writers leave no such
moment — SQLite's backup API, then one read for the SHA-256. The scan files
it names and the manifest are appended as a zip (archive.py, format 2).
Only when the file is complete, flushed to disk and read back without error
(its structure, the database's size as its header says, each zip member's
CRC) does it get its final name ``county-app-YYYYMMDD-HHMMSS[-label].zip``:
a file with that name is always a whole backup whose checksums were read
back. Any error — a full disk, a USB disk pulled out, a folder that cannot
be written — removes the temporary file and leaves the older backups as
they were.

The full ``PRAGMA integrity_check`` of a backup is not part of taking it
(it costs 6–14 times a file copy): a restore runs it before anything
changes, and the nightly backup is verified afterwards (verification.py).
"""
import errno
import logging
import os
import re
import sqlite3
import threading
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__, paths
from ..db import DB_FILENAME, db, is_postgresql
from . import archive, snapshot
from .archive import ArchiveError

log = logging.getLogger(__name__)

DEFAULT_FOLDER = "backups"
NAME = re.compile(r"county-app-(\d{8}-\d{6})(?:-(\d+))?(?:-([a-z0-9_.-]+))?\.zip")
_one_at_a_time = threading.Lock()


class BackupError(Exception):
    """A backup could not be taken (message in Chinese); nothing was left behind."""


class DatabaseDamaged(BackupError):
    """The live database cannot be read to be copied (not a database, or its pages malformed)."""


@dataclass
class BackupResult:
    path: Path
    size: int
    schema: str
    scans: int
    missing_scans: list = field(default_factory=list)
    damaged_scans: list = field(default_factory=list)
    copied_by: str = ""  # "file" (a frozen snapshot's bytes) or "backup API"


def require_sqlite():
    """Backups here are of SQLite; a hub on PostgreSQL is backed up with ``pg_dump`` (README)."""
    if is_postgresql():
        name = db.database
        raise BackupError(f"本节点的数据库在 PostgreSQL（数据库 {name}），本程序的备份只适用于 SQLite："
                          f"请用 PostgreSQL 的 pg_dump 备份，例如 pg_dump -Fc -f county_app-$(date +%F).dump {name}，"
                          f"恢复用 pg_restore --clean -d {name} 备份文件；扫描件在数据文件夹的 scans 中，请一并复制。"
                          "步骤见 README“备份与恢复”")


def backup_folder(data_dir, configured=""):
    """The folder backups go to: the setting ``backup.folder`` when set, else ``<data>/backups``."""
    return Path(configured) if configured else Path(data_dir) / DEFAULT_FOLDER


def take_backup(data_dir, target=None, *, label="", folder=None, progress=None, prune=True):
    """Back up the database of ``data_dir`` and its scans; give a BackupResult or raise BackupError.

    ``target`` is a file to write (``backup FILE``); without it the backup
    goes to ``folder`` or the configured backup folder under its dated name,
    and the folder's older backups are pruned (retention.py) unless
    ``prune`` is false. ``label`` (e.g. ``before-0007_x``) is added to the
    name. ``progress(done, total)`` is called in bytes as it goes. One backup
    at a time in this process.
    """
    require_sqlite()
    data_dir = Path(data_dir)
    db_file = data_dir / DB_FILENAME
    if not db_file.is_file() or not db_file.stat().st_size:
        raise BackupError(f"数据文件夹 {data_dir} 中还没有数据库，没有可备份的内容")
    if not _one_at_a_time.acquire(blocking=False):
        raise BackupError("已有一个备份正在进行，请等它完成")
    try:
        return _take(data_dir, db_file, target, label, folder, progress, prune)
    finally:
        _one_at_a_time.release()


def list_backups(folder):
    """The backups in ``folder`` (named as take_backup names them), newest first, each a BackupInfo."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [entry for entry in folder.iterdir() if NAME.fullmatch(entry.name) and entry.is_file()]
    return [describe(path) for path in sorted(found, key=lambda p: p.name, reverse=True)]


@dataclass
class BackupInfo:
    path: Path
    size: int
    taken_at: datetime  # local time, from the name
    label: str
    schema: str = ""
    created_at: str = ""
    scans: int = 0
    problem: str = ""  # empty when the file passed the structural checks

    @property
    def name(self):
        return self.path.name


def describe(path):
    """What ``path`` is, from its name and a structural check (its manifest and member sizes, no full read)."""
    path = Path(path)
    match = NAME.fullmatch(path.name)
    info = BackupInfo(path, path.stat().st_size, datetime.strptime(match.group(1), "%Y%m%d-%H%M%S"),
                      match.group(3) or "")
    try:
        with archive.open_checked(path) as checked:
            info.schema = checked.schema
            info.created_at = checked.manifest.get("created_at", "")
            info.scans = len(checked.scans)
    except ArchiveError as exc:
        info.problem = str(exc)
    return info


# ----------------------------------------------------------------------------- internals


def _take(data_dir, db_file, target, label, folder, progress, prune):
    configured = _read_setting(db_file, "backup.folder")
    if target is not None:
        final = Path(target).resolve()
        where = final.parent
    else:
        where = Path(folder) if folder else backup_folder(data_dir, configured)
        if where == data_dir / DEFAULT_FOLDER:
            _make_folder(where)
        final = where / _dated_name(where, label)
    if not where.is_dir():
        raise BackupError(f"备份文件夹 {where} 不存在或无法访问（如果是 U 盘，请检查是否已插好），未做备份")
    partial = where / f".{final.name}.part"
    try:
        result = _write(data_dir, db_file, partial, final, label, _Meter(progress))
    except BaseException as exc:
        for leftover in (partial, Path(f"{partial}-journal")):
            _remove(leftover)
        raise _as_backup_error(exc, where) from None
    log.info("backup written: %s (%d bytes, schema %s, %d scans, copied by %s)", result.path, result.size,
             result.schema, result.scans, result.copied_by)
    if target is None and prune:
        from .retention import prune as prune_folder

        try:
            prune_folder(where, keep=result.path)
        except OSError:
            log.exception("could not prune old backups in %s", where)
    return result


def _write(data_dir, db_file, partial, final, label, meter):
    partial.unlink(missing_ok=True)  # of a backup into the same FILE killed mid-way
    paths.private_file(partial)  # personal data: readable by this user only
    flush = _Flush(partial)  # the disk writes while the copy goes on
    try:
        with snapshot.frozen(db_file) as frozen:
            if frozen is not None:
                facts, copied_by = _Facts.read(frozen.connection), "file"
                meter.total = frozen.size + facts.scan_bytes(data_dir)
                with open(partial, "r+b") as out:
                    database = snapshot.copy(frozen, out, meter.advance)
        if frozen is None:
            log.info("backup: writers kept the database busy; copying it with the backup API")
            facts, copied_by = _online_copy(db_file, partial), "backup API"
            meter.total = partial.stat().st_size + facts.scan_bytes(data_dir)
            with open(partial, "rb") as written:
                database = archive.copy_hashed(written, progress=meter.advance)
        result = _append(data_dir, partial, final, label, meter, facts, database)
    except BaseException:
        flush.stop()
        raise
    flush.finish()
    result.copied_by = copied_by
    archive.read_back(partial)
    os.replace(partial, final)
    _fsync_folder(final.parent)
    if result.missing_scans or result.damaged_scans:
        log.warning("backup %s: %d scan files missing, %d damaged", final, len(result.missing_scans),
                    len(result.damaged_scans))
    return result


@dataclass
class _Facts:
    """What the manifest says of the copied database, read from the copy's own snapshot."""
    migrations: list
    scans: list  # (relative path, sha256)
    centre: dict

    @classmethod
    def read(cls, connection):
        return cls([row[0] for row in connection.execute("SELECT name FROM schema_migration")], _scans(connection),
                   {key: _setting(connection, key) for key in ("centre.code", "centre.name", "node.role")})

    def scan_bytes(self, data_dir):
        return sum(_size(data_dir / relative) for relative, _ in self.scans)


class _Meter:
    """Bytes done of ``total``, told to ``progress(done, total)``."""

    def __init__(self, progress):
        self.progress, self.done, self.total = progress, 0, 0

    def advance(self, count):
        self.done += count
        if self.progress:
            self.progress(self.done, self.total)


def _online_copy(db_file, partial):
    """Copy the database into ``partial`` with SQLite's backup API (when no frozen snapshot came); give its _Facts."""
    source = sqlite3.connect(db_file, timeout=10)
    copy = sqlite3.connect(partial)
    try:
        # Written into the backup file itself, which is flushed once when complete: no journal nor syncs here.
        copy.execute("PRAGMA journal_mode=OFF")
        copy.execute("PRAGMA synchronous=OFF")
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # a self-contained database, no -wal beside it
        return _Facts.read(copy)
    finally:
        copy.close()
        source.close()


def _append(data_dir, partial, final, label, meter, facts, database):
    """The scans and the manifest appended to the database part of ``partial`` as a zip."""
    schema = archive.known_schema(facts.migrations)
    members, missing, damaged = {}, [], []
    with open(partial, "r+b") as handle:
        handle.seek(database["size"])
        with zipfile.ZipFile(handle, "w", allowZip64=True) as out:  # starts where the database ends
            for relative, sha in facts.scans:
                path = data_dir / relative
                if not archive.is_scan_member(relative) or not path.is_file():
                    missing.append(relative)
                    continue
                members[relative] = archive.write_member(out, relative, path, meter.advance)
                if members[relative]["sha256"] != sha:
                    damaged.append(relative)  # its content no longer matches its name; a restore leaves it out
            archive.write_manifest(out, {
                "format": archive.FORMAT, "format_version": archive.FORMAT_VERSION,
                "program_version": __version__,
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "label": label, "schema": schema, "migrations": facts.migrations, "centre": facts.centre,
                "database": database, "members": members, "missing_scans": missing, "damaged_scans": damaged,
            })
    return BackupResult(final, partial.stat().st_size, schema, len(members), missing, damaged)


class _Flush:
    """``os.fsync`` of a file being written, again and again on a thread of its own until ``finish``.

    Each fsync waits for the disk, not the interpreter: the disk writes what
    the copy has written so far while the copy goes on, and the last fsync,
    once the file is complete, has little left to write.
    """

    def __init__(self, path):
        self.error, self.done = None, threading.Event()
        self.handle = open(path, "rb+")  # Windows flushes only a handle open for writing
        self.thread = threading.Thread(target=self._run, name="backup-flush", daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while not self.done.is_set():
                os.fsync(self.handle.fileno())
                self.done.wait(0.05)
        except OSError as exc:  # raised by finish(): a write that failed late (a full disk) is reported only once
            self.error = exc

    def stop(self):
        """End the flushing (the file is to be removed); errors are the caller's own by now."""
        self.done.set()
        self.thread.join()
        self.handle.close()

    def finish(self):
        """One last fsync of the complete file; OSError when it, or an earlier one, failed."""
        self.stop()
        if self.error is not None:
            raise self.error
        _fsync(self.handle.name)


def _scans(connection):
    if not connection.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='scan'").fetchone():
        return []  # a schema from before scans
    return [(path, sha) for path, sha in connection.execute("SELECT path, sha256 FROM scan ORDER BY path")]


def _read_setting(db_file, key):
    try:
        connection = sqlite3.connect(db_file, timeout=10)
    except sqlite3.Error:
        return ""  # the copy that follows says what is wrong
    try:
        return _setting(connection, key)
    except sqlite3.DatabaseError:
        return ""
    finally:
        connection.close()


def _setting(connection, key):
    try:
        row = connection.execute("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError:  # a database without settings yet
        return ""
    return row[0] if row else ""


def _dated_name(folder, label):
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    suffix = f"-{label}" if label else ""
    name, number = f"county-app-{stamp}{suffix}.zip", 1
    while (folder / name).exists() or (folder / f".{name}.part").exists():
        number += 1
        name = f"county-app-{stamp}-{number}{suffix}.zip"
    return name


def _make_folder(folder):
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise _as_backup_error(exc, folder) from None


def _as_backup_error(exc, folder):
    if isinstance(exc, BackupError):
        return exc
    if isinstance(exc, ArchiveError):
        return BackupError(f"{exc}；未生成备份文件，原有备份保留")
    full = getattr(exc, "sqlite_errorcode", None) == getattr(sqlite3, "SQLITE_FULL", 13)  # the copy's own writes
    if full or isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return BackupError(f"备份文件夹 {folder} 所在磁盘空间不足，备份未完成：未写完的文件已删除，原有备份保留")
    if isinstance(exc, PermissionError) or isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return BackupError(f"无法写入备份文件夹 {folder}（没有写权限或磁盘只读），未做备份")
    if type(exc) is sqlite3.DatabaseError:  # "file is not a database", "database disk image is malformed"
        return DatabaseDamaged(f"数据库已损坏，无法备份（{exc}）；请联系技术人员，不要删除任何备份")
    if isinstance(exc, sqlite3.Error):
        return BackupError(f"复制数据库时出错（{exc}），备份未完成：未写完的文件已删除，原有备份保留")
    if isinstance(exc, OSError):
        return BackupError(f"写入备份文件夹 {folder} 时出错（{exc.strerror or exc}），备份未完成：未写完的文件已删除，原有备份保留")
    return exc


def _size(path):
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _remove(path):
    try:
        Path(path).unlink(missing_ok=True)
    except OSError:
        log.exception("could not remove %s", path)


def _fsync(path):
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_folder(folder):
    if os.name == "nt":
        return  # Windows cannot open a folder to flush it; NTFS journals the rename
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
