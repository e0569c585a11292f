"""The backup file: one zip holding the database copy, the stored scans and a manifest.

``manifest.json`` says what the file is (``format``), which schema its
database has (the last migration applied, and the whole list), the program
version and time that made it, and the SHA-256 and size of every other
member. Members are stored uncompressed: scans are compressed already, and a
backup of a large database should cost little more than copying it.

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
FORMAT_VERSION = 1
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

    @property
    def schema(self):
        return self.manifest["schema"]

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
        _check_members(archive, manifest)
        known_schema(manifest["migrations"])
        if manifest["schema"] != known_schema(manifest["migrations"]):
            raise ArchiveError(_not_ours("清单中的数据库版本与迁移记录不一致"))
    except BaseException:
        archive.close()
        raise
    return Checked(archive, manifest)


def extract_checked(checked, name, target):
    """Copy member ``name`` to the file ``target``, checking its size and SHA-256 against the manifest."""
    expected = checked.manifest["members"][name]
    digest, size = hashlib.sha256(), 0
    try:
        with checked.zip.open(name) as source, open(target, "wb") as out:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
    except (zipfile.BadZipFile, EOFError, zlib.error):
        Path(target).unlink(missing_ok=True)
        raise ArchiveError(f"备份文件已损坏：成员 {name} 的内容与校验码（CRC）不符；当前数据库未做任何更改") from None
    if size != expected["size"] or digest.hexdigest() != expected["sha256"]:
        Path(target).unlink(missing_ok=True)
        raise ArchiveError(f"备份文件已损坏或被改动：成员 {name} 的 SHA-256 校验和与清单不符；当前数据库未做任何更改")
    return target


def write_member(archive, name, source_path, progress=None):
    """Add the file ``source_path`` as member ``name`` (stored); give its manifest entry (sha256, size)."""
    digest, size = hashlib.sha256(), 0
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    with open(source_path, "rb") as source, archive.open(info, "w", force_zip64=True) as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
            if progress:
                progress(len(chunk))
    return {"sha256": digest.hexdigest(), "size": size}


def write_manifest(archive, manifest):
    archive.writestr(zipfile.ZipInfo(MANIFEST, date_time=(1980, 1, 1, 0, 0, 0)),
                     json.dumps(manifest, ensure_ascii=False, indent=1), compress_type=zipfile.ZIP_DEFLATED)


def read_back(path):
    """Read every member of the finished file ``path`` again (CRC), before it gets its final name."""
    with zipfile.ZipFile(path) as archive:
        bad = archive.testzip()
        if bad is not None:
            raise ArchiveError(f"写好的备份文件读回时成员 {bad} 校验不符（磁盘或 U 盘可能有问题）")
        manifest = _manifest(archive)
        _check_members(archive, manifest)


def check_database(path):
    """ArchiveError unless the database file ``path`` passes ``PRAGMA integrity_check``; give its applied migrations."""
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if problems == ["ok"]:
            return [row[0] for row in connection.execute("SELECT name FROM schema_migration")]
    except sqlite3.DatabaseError as exc:
        problems = [str(exc)]
    finally:
        connection.close()
    raise ArchiveError("备份中的数据库未通过完整性检查（integrity_check：" + "；".join(problems[:3])
                       + "），无法恢复；当前数据库未做任何更改")


def copy_file(source, target):
    with open(source, "rb") as src, open(target, "wb") as out:
        shutil.copyfileobj(src, out, CHUNK)


# ----------------------------------------------------------------------------- internals


def _unreadable(path):
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError:
        return f"无法读取备份文件 {path}"
    if head == b"PK\x03\x04":
        return f"备份文件 {path.name} 不完整（可能在复制或下载时被截断），无法恢复；当前数据库未做任何更改"
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
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArchiveError(f"此备份文件的格式版本为 {manifest.get('format_version')!r}，本程序只能恢复第 {FORMAT_VERSION} 版；"
                           "请用生成它的程序版本或更新的版本恢复")
    members, migrations = manifest.get("members"), manifest.get("migrations")
    if not isinstance(members, dict) or not isinstance(migrations, list) \
            or not all(isinstance(name, str) for name in migrations) or not isinstance(manifest.get("schema"), str):
        raise ArchiveError(_not_ours("清单内容不完整"))
    for key in ("missing_scans", "damaged_scans"):
        if not isinstance(manifest.get(key, []), list) or not all(isinstance(n, str) for n in manifest.get(key, [])):
            raise ArchiveError(_not_ours("清单内容不完整"))
    for name, entry in members.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("size"), int)
                and isinstance(entry.get("sha256"), str) and re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])):
            raise ArchiveError(_not_ours(f"清单中成员 {name[:80]} 的记录不完整"))
    return manifest


def _check_members(archive, manifest):
    listed = manifest["members"]
    damaged = set(manifest.get("damaged_scans") or ())
    present = {info.filename: info for info in archive.infolist() if info.filename != MANIFEST}
    if DATABASE_MEMBER not in listed:
        raise ArchiveError(_not_ours("不含数据库"))
    for name in listed:
        if name != DATABASE_MEMBER and not is_scan_member(name):
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
