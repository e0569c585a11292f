"""The backup file: the database copy, the stored scans and a manifest, in one file.

Format 2 (written now): the database copy is the file's first bytes, followed
by a zip of the scans and ``manifest.json`` (a zip may start anywhere in a
file, as a self-extracting archive does: zip tools and Python's zipfile read
it), so a backup writes the database once. Format 1 (backups of earlier
versions, still restored): one zip whose member ``county_app.sqlite3`` is the
database.

``manifest.json`` says what the file is (``format``, ``format_version``),
which schema its database has (the last migration applied, and the whole
list), the program version and time that made it, the database's size and
SHA-256 (format 2: ``database``; format 1: its member's entry) and the
SHA-256 and size of every other member. Members are stored uncompressed:
scans are compressed already, and a backup of a large database should cost
little more than copying it.

Nothing is restored from a file before it passes ``open_checked`` (a zip we
wrote, every member named as we name them and listed with its size, a schema
this program knows) and ``extract_checked`` (each member's SHA-256). The
messages say which of these failed, in Chinese.
"""
import hashlib
import json
import re
import shutil
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

FORMAT = "county-app-backup"
FORMAT_VERSION = 2  # written; READABLE are restored
READABLE = (1, 2)
SQLITE_HEADER = b"SQLite format 3\x00"
MANIFEST = "manifest.json"
DATABASE_MEMBER = "county_app.sqlite3"
_SCAN_MEMBER = re.compile(r"scans/([0-9a-f]{2})/(\1[0-9a-f]{62})\.(pdf|jpg|png|tif)")
_MAX_MANIFEST_BYTES = 64 * 1024 * 1024  # ~150 bytes a scan: room for 400,000 scans
CHUNK = 1 << 20


class ArchiveError(Exception):
    """The file is not a backup this program can restore (message in Chinese)."""


@dataclass
class Checked:
    """An open backup file that passed the structural checks, and its manifest."""
    zip: zipfile.ZipFile
    manifest: dict
    path: Path

    @property
    def schema(self):
        return self.manifest["schema"]

    @property
    def version(self):
        return self.manifest["format_version"]

    @property
    def database(self):
        """The database's manifest entry: its size and SHA-256."""
        return self.manifest["database"] if self.version >= 2 else self.manifest["members"][DATABASE_MEMBER]

    @property
    def scans(self):
        """The scan members' manifest entries by name."""
        return {name: entry for name, entry in self.manifest["members"].items() if name != DATABASE_MEMBER}

    def close(self):
        self.zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def known_schema(migration_names):
    """The schema version of a database whose applied migrations are ``migration_names``.

    The last of them in this program's order; ArchiveError when one of them is
    unknown here (a database of a newer program).
    """
    from ..migrations import MIGRATIONS

    order = [name for name, _ in MIGRATIONS]
    unknown = sorted(set(migration_names) - set(order))
    if unknown:
        raise ArchiveError(f"此备份来自更新版本的程序（数据库版本 {unknown[-1]}，本程序只认识到 {order[-1]}）；"
                           "请先把本程序升级到新版本，再恢复这个备份。当前数据库未做任何更改")
    applied = [name for name in order if name in set(migration_names)]
    return applied[-1] if applied else ""


def is_scan_member(name):
    return _SCAN_MEMBER.fullmatch(name) is not None


def open_checked(path):
    """Open ``path`` and check its structure and manifest; give a Checked (close it) or raise ArchiveError."""
    path = Path(path)
    if not path.is_file():
        raise ArchiveError(f"找不到备份文件 {path}")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ArchiveError(_unreadable(path)) from None
    try:
        manifest = _manifest(archive)
        if manifest["format_version"] >= 2:
            _check_database_part(path, archive, manifest["database"])
        _check_members(archive, manifest)
        known_schema(manifest["migrations"])
        if manifest["schema"] != known_schema(manifest["migrations"]):
            raise ArchiveError(_not_ours("清单中的数据库版本与迁移记录不一致"))
    except BaseException:
        archive.close()
        raise
    return Checked(archive, manifest, path)


def extract_checked(checked, name, target):
    """Copy member ``name`` (or DATABASE_MEMBER) to the file ``target``, checking its size and SHA-256 against the manifest."""
    try:
        with open(target, "wb") as out:
            check_part(checked, name, out)
    except BaseException:
        Path(target).unlink(missing_ok=True)
        raise
    return target


def check_part(checked, name, out=None):
    """Read member ``name`` (or DATABASE_MEMBER) through, into ``out`` when given; ArchiveError unless its size and
    SHA-256 are the manifest's (and a zip member's CRC its own)."""
    expected = checked.database if name == DATABASE_MEMBER else checked.manifest["members"][name]
    try:
        with _open_part(checked, name) as source:
            copied = copy_hashed(source, out, limit=expected["size"])
    except (zipfile.BadZipFile, EOFError, zlib.error):
        raise ArchiveError(f"备份文件已损坏：成员 {name} 的内容与校验码（CRC）不符；当前数据库未做任何更改") from None
    if (copied["size"], copied["sha256"]) != (expected["size"], expected["sha256"]):
        what = "数据库部分" if name == DATABASE_MEMBER else f"成员 {name} "
        raise ArchiveError(f"备份文件已损坏或被改动：{what}的 SHA-256 校验和与清单不符；当前数据库未做任何更改")


def copy_hashed(source, out=None, *, limit=None, progress=None):
    """Read ``source`` (to its end, or ``limit`` bytes), writing it to ``out`` when given; give its manifest entry."""
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK if limit is None else min(CHUNK, limit - size)):
        digest.update(chunk)
        size += len(chunk)
        if out is not None:
            out.write(chunk)
        if progress:
            progress(len(chunk))
    return {"sha256": digest.hexdigest(), "size": size}


def database_pages(path):
    """The size in bytes a SQLite file's header gives its database (page size × page count), or None."""
    with open(path, "rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_HEADER):
        return None
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if header[24:28] != header[92:96]:  # the page count in the header is then not to be trusted (SQLite's rule)
        return None
    return page_size * int.from_bytes(header[28:32], "big")


def write_member(archive, name, source_path, progress=None):
    """Add the file ``source_path`` as member ``name`` (stored); give its manifest entry (sha256, size)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    with open(source_path, "rb") as source, archive.open(info, "w", force_zip64=True) as out:
        return copy_hashed(source, out, progress=progress)


def write_manifest(archive, manifest):
    archive.writestr(zipfile.ZipInfo(MANIFEST, date_time=(1980, 1, 1, 0, 0, 0)),
                     json.dumps(manifest, ensure_ascii=False, indent=1), compress_type=zipfile.ZIP_DEFLATED)


def read_back(path):
    """Read the finished file ``path`` again before it gets its final name: its structure and every zip member (CRC)."""
    try:
        with open_checked(path) as checked:
            bad = checked.zip.testzip()
    except ArchiveError as exc:
        raise ArchiveError(f"写好的备份文件读回时未通过检查（磁盘或 U 盘可能有问题）：{exc}") from None
    if bad is not None:
        raise ArchiveError(f"写好的备份文件读回时成员 {bad} 校验不符（磁盘或 U 盘可能有问题）")


def check_database(path):
    """ArchiveError unless the database file ``path`` passes ``PRAGMA integrity_check``; give its applied migrations."""
    problems, migrations = integrity(path)
    if problems:
        raise ArchiveError("备份中的数据库未通过完整性检查（integrity_check：" + "；".join(problems[:3])
                           + "），无法恢复；当前数据库未做任何更改")
    return migrations


def integrity(path, *, in_place=False):
    """``PRAGMA integrity_check`` of the database file ``path``: its problems (none: ``[]``) and applied migrations.

    ``in_place``: ``path`` is a backup file of format 2, read where it is (read-only,
    unchanged: SQLite reads the pages its header counts, never the zip after them).
    """
    import sqlite3

    if in_place:
        connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    else:
        connection = sqlite3.connect(path)
    try:
        problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if problems == ["ok"]:
            return [], [row[0] for row in connection.execute("SELECT name FROM schema_migration")]
    except sqlite3.DatabaseError as exc:
        problems = [str(exc)]
    finally:
        connection.close()
    return problems, []


def copy_file(source, target):
    with open(source, "rb") as src, open(target, "wb") as out:
        shutil.copyfileobj(src, out, CHUNK)


# ----------------------------------------------------------------------------- internals


def _open_part(checked, name):
    if name == DATABASE_MEMBER and checked.version >= 2:
        return open(checked.path, "rb")  # the file's first bytes; copy_hashed reads no further than its size
    return checked.zip.open(name)


def _check_database_part(path, archive, entry):
    """Format 2: the database fills the file up to where the zip starts, as its own header says."""
    starts = min(info.header_offset for info in archive.infolist())
    if entry["size"] != starts or database_pages(path) != starts:
        raise ArchiveError("备份文件已损坏：数据库部分的大小与清单不符；当前数据库未做任何更改")


def _unreadable(path):
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
        size = path.stat().st_size
    except OSError:
        return f"无法读取备份文件 {path}"
    truncated = f"备份文件 {path.name} 不完整（可能在复制或下载时被截断），无法恢复；当前数据库未做任何更改"
    if head.startswith(b"PK\x03\x04"):
        return truncated
    if head == SQLITE_HEADER:
        if database_pages(path) == size:
            return _not_ours("这是一个数据库文件，不是备份文件")
        return truncated
    return _not_ours("不是 zip 文件")


def _not_ours(why):
    return f"这不是本程序生成的备份文件（{why}），无法恢复；当前数据库未做任何更改"


def _manifest(archive):
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise ArchiveError(_not_ours("缺少 manifest.json 清单")) from None
    if info.file_size > _MAX_MANIFEST_BYTES:
        raise ArchiveError(_not_ours("清单过大"))
    try:
        manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, EOFError, zlib.error):
        raise ArchiveError(_not_ours("清单无法读取")) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(_not_ours("清单不是本程序的格式"))
    if manifest.get("format_version") not in READABLE:
        raise ArchiveError(f"此备份文件的格式版本为 {manifest.get('format_version')!r}，本程序只能恢复第 "
                           f"{'、'.join(map(str, READABLE))} 版；请用生成它的程序版本或更新的版本恢复")
    members, migrations = manifest.get("members"), manifest.get("migrations")
    if not isinstance(members, dict) or not isinstance(migrations, list) \
            or not all(isinstance(name, str) for name in migrations) or not isinstance(manifest.get("schema"), str):
        raise ArchiveError(_not_ours("清单内容不完整"))
    for key in ("missing_scans", "damaged_scans"):
        if not isinstance(manifest.get(key, []), list) or not all(isinstance(n, str) for n in manifest.get(key, [])):
            raise ArchiveError(_not_ours("清单内容不完整"))
    entries = dict(members)
    if manifest["format_version"] >= 2:
        entries["数据库"] = manifest.get("database")
    for name, entry in entries.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("size"), int)
                and isinstance(entry.get("sha256"), str) and re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])):
            raise ArchiveError(_not_ours(f"清单中成员 {name[:80]} 的记录不完整"))
    return manifest


def _check_members(archive, manifest):
    listed = manifest["members"]
    damaged = set(manifest.get("damaged_scans") or ())
    present = {info.filename: info for info in archive.infolist() if info.filename != MANIFEST}
    version = manifest["format_version"]
    if version == 1 and DATABASE_MEMBER not in listed:
        raise ArchiveError(_not_ours("不含数据库"))
    for name in listed:
        if not (is_scan_member(name) or version == 1 and name == DATABASE_MEMBER):
            raise ArchiveError(_not_ours(f"含有本程序不会写入的成员 {name[:80]}"))
        match = _SCAN_MEMBER.fullmatch(name)
        if match and listed[name]["sha256"] != match.group(2) and name not in damaged:
            raise ArchiveError(_not_ours(f"扫描件 {name} 的校验和与文件名不符"))
    missing = sorted(set(listed) - set(present))
    if missing:
        raise ArchiveError(f"备份文件不完整：缺少 {len(missing)} 个成员（如 {missing[0]}），无法恢复；当前数据库未做任何更改")
    extra = sorted(set(present) - set(listed))
    if extra:
        raise ArchiveError(_not_ours(f"含有清单之外的成员 {extra[0][:80]}"))
    for name, info in present.items():
        if info.compress_type != zipfile.ZIP_STORED:  # we store members as they are: a deflated one could expand
            raise ArchiveError(_not_ours(f"成员 {name[:80]} 是压缩存放的"))
        if info.file_size != listed[name]["size"]:
            raise ArchiveError(f"备份文件已损坏：成员 {name} 的大小与清单不符；当前数据库未做任何更改")
