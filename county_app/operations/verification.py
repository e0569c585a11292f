"""Verifying a backup in full after it is taken: every checksum read again, and ``PRAGMA integrity_check``.

Taking a backup reads its checksums back (backup.py) but does not check the
database's every index against its table: that costs 6–14 times a file copy
(bench/RESULTS.md). The full check runs at restore, before anything changes,
and here: after the nightly backup and 立即备份 (runner.py) and with
``backup --verify``, whose verdicts go to the audit log
(``backup.verified`` / ``backup.verify_failed``, the backup's file name as
the entity), from which ``verdicts`` tells the 运行状况 and 备份与恢复 pages
whether a backup is 已校验, 校验失败 or (without a verdict) 未校验; and on
the backup taken before a migration, which is refused when it fails.
"""
import json
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from ..models import AuditLog, utcnow
from . import archive
from .archive import ArchiveError

VERIFIED, FAILED = "backup.verified", "backup.verify_failed"
VERDICTS_KEPT = timedelta(days=400)  # retention keeps a backup at most 12 months: older verdicts are not read
_RESTORE_ONLY = "；当前数据库未做任何更改"  # said by archive's messages for a restore; not true or needed here


@dataclass
class Verdict:
    ok: bool
    problem: str = ""  # in Chinese, when not ok


def verify(path):
    """Read the backup file ``path`` through and check it fully; give a Verdict (a bad file is a verdict, not an error)."""
    try:
        with archive.open_checked(path) as checked:
            for name in (archive.DATABASE_MEMBER, *checked.scans):
                archive.check_part(checked, name)
            problems, migrations = _integrity(checked)
    except ArchiveError as exc:
        return Verdict(False, str(exc).replace(_RESTORE_ONLY, ""))
    except OSError as exc:
        return Verdict(False, f"无法读取备份文件 {Path(path).name}（{exc.strerror or exc}）")
    except sqlite3.Error as exc:
        return Verdict(False, f"无法读取备份中的数据库（{exc}）")
    if problems:
        return Verdict(False, "备份中的数据库未通过完整性检查（integrity_check：" + "；".join(problems[:3]) + "）")
    if sorted(migrations) != sorted(checked.manifest["migrations"]):
        return Verdict(False, "备份中的数据库与清单记录的版本不一致")
    return Verdict(True)


def verdicts(names):
    """The latest recorded Verdict of each backup file name of ``names`` that has one (bound ``db`` connected)."""
    wanted, found = set(names), {}
    if not wanted:
        return found
    entries = (AuditLog.select(AuditLog.action, AuditLog.entity_id, AuditLog.detail)
               .where(AuditLog.at >= utcnow() - VERDICTS_KEPT, AuditLog.entity == "backup",
                      AuditLog.action.in_((VERIFIED, FAILED)))
               .order_by(AuditLog.id.desc()))
    for entry in entries.iterator():
        if entry.entity_id in wanted and entry.entity_id not in found:
            found[entry.entity_id] = Verdict(entry.action == VERIFIED, _problem(entry.detail))
            if len(found) == len(wanted):
                break
    return found


# ----------------------------------------------------------------------------- internals


def _integrity(checked):
    if checked.version >= 2:
        return archive.integrity(checked.path, in_place=True)
    with tempfile.TemporaryDirectory(prefix="county-app-verify-") as folder:  # format 1: the database is a member
        copy = archive.extract_checked(checked, archive.DATABASE_MEMBER, Path(folder) / "copy.sqlite3")
        return archive.integrity(copy)


def _problem(detail):
    try:
        return json.loads(detail or "{}").get("problem", "")
    except ValueError:
        return ""
