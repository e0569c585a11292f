"""The node's health, as the administrator's 运行状况 page shows it: figures and the warnings they call for.

``gather`` reads everything from the bound database and the data folder,
quickly (no file is read through: the newest backup gets the structural
check of ``backup.describe``, scan sizes come from the ``scan`` table), and
decides the warnings here, so that the page only shows them:

- free disk space below ``LOW_DISK`` on the data folder's disk (or the backup folder's, when another);
- no backup yet, the newest one older than ``STALE_BACKUP``, unusable, or a later attempt that failed;
- the exchange with the hub, when configured: its newest run failed (with what to do, ``sync.advice``);
- this PC's clock, when it cannot date a change (``clock.problem``) or shows a time long after this
  version was made (``clock.ahead``);
- the working-day calendar: the current year without a known 调休 arrangement, or, from
  ``CALENDAR_NOTICE_FROM`` (1 December), the next year without one.
"""
import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from .. import __version__, clock, settings
from ..db import DB_FILENAME
from ..models import AuditLog, SchemaMigration, as_utc, utcnow
from .backup import NAME, backup_folder, describe

LOW_DISK = 1024 ** 3  # bytes: below this, a backup or a day of scans may not fit
STALE_BACKUP = timedelta(days=2)  # a nightly backup missed twice
RECENT_ATTEMPTS = timedelta(days=31)  # a failed backup older than this is no news
CALENDAR_NOTICE_FROM = (12, 1)  # (month, day): from then on, next year's 调休 is due in the catalogue


@dataclass
class Disk:
    what: str  # 数据文件夹 | 备份文件夹
    folder: Path
    free: int
    total: int

    @property
    def low(self):
        return self.free < LOW_DISK


@dataclass
class LastBackup:
    folder: Path
    newest: object = None  # backup.BackupInfo of the newest dated or labelled backup, or None
    failed_at: datetime | None = None  # a failed attempt after the newest backup (UTC), and why
    failure: str = ""
    folder_problem: str = ""


@dataclass
class YearCoverage:
    year: int
    builtin: bool  # chinesecalendar holds the State Council's arrangement of the year
    catalogue_rows: int  # the catalogue's 节假日 rows of the year

    @property
    def complete(self):
        return self.builtin or self.catalogue_rows > 0


@dataclass
class Health:
    today: date
    version: str
    schema: str
    disks: list
    database_bytes: int
    scan_count: int
    scan_bytes: int
    backup: LastBackup
    sync_configured: bool
    last_sync: object  # sync.status.Run of the newest run, or None
    calendar: list  # YearCoverage of last year, this year, next year
    clock_problem: str = ""  # clock.problem: changes of cases are refused until it is settled
    clock_ahead: str = ""  # clock.ahead
    clock_to_accept: object = None  # clock.to_accept: records dated ahead an administrator may accept
    warnings: list = field(default_factory=list)


def gather(data_dir, *, today=None, now=None):
    """The Health of the node bound to ``db`` whose data folder is ``data_dir``, with its warnings."""
    data_dir = Path(data_dir)
    now = now or datetime.now()
    today = today or now.date()
    configured = settings.get("backup.folder")
    folder = backup_folder(data_dir, configured)
    scan_count, scan_bytes = _scans()
    health = Health(
        today=today, version=__version__, schema=_schema(), disks=_disks(data_dir, folder),
        database_bytes=sum(_size(data_dir / f"{DB_FILENAME}{suffix}") for suffix in ("", "-wal")),
        scan_count=scan_count, scan_bytes=scan_bytes, backup=_last_backup(folder, chosen=bool(configured)),
        sync_configured=bool(settings.get("sync.url")), last_sync=last_sync_run(),
        calendar=calendar_coverage(range(today.year - 1, today.year + 2)),
        clock_problem=clock.problem(), clock_ahead=clock.ahead(), clock_to_accept=clock.to_accept(),
    )
    health.warnings = warnings(health, now)
    return health


def warnings(health, now):
    """The warnings ``health`` calls for at local time ``now``, in Chinese, most urgent first."""
    found = [warning for warning in (health.clock_problem, health.clock_ahead) if warning]
    found += [f"{disk.what} {disk.folder} 所在磁盘只剩 {disk.free / 1024 ** 3:.2f} GB 可用空间（低于 1 GB）："
             "备份和扫描件可能写不下，请清理磁盘或更换更大的磁盘" for disk in health.disks if disk.low]
    backup = health.backup
    if backup.folder_problem:
        found.append(backup.folder_problem)
    if backup.failure:
        found.append(f"最近一次备份（{as_utc(backup.failed_at).astimezone():%Y-%m-%d %H:%M}）失败：{backup.failure}")
    if backup.newest is None:
        if not backup.folder_problem:
            found.append("还没有任何备份：请在“备份与恢复”页立即备份一次")
    elif backup.newest.problem:
        found.append(f"最新的备份 {backup.newest.name} 不可用：{backup.newest.problem}")
    elif now - backup.newest.taken_at > STALE_BACKUP:
        days = (now - backup.newest.taken_at).days
        found.append(f"最新的备份是 {days} 天前的（{backup.newest.taken_at:%Y-%m-%d}）：夜间自动备份可能没有运行，"
                     "请检查电脑夜间是否关机，并立即备份一次")
    last_sync = health.last_sync
    if health.sync_configured and last_sync is not None and last_sync.advice is not None:
        found.append(f"最近一次同步（{as_utc(last_sync.record.ended_at).astimezone():%Y-%m-%d %H:%M}）没有成功："
                     f"{last_sync.advice.problem}。{last_sync.advice.action}（详见“同步”页）")
    by_year = {coverage.year: coverage for coverage in health.calendar}
    this_year, next_year = health.today.year, health.today.year + 1
    if not by_year[this_year].complete:
        found.append(f"{this_year} 年节假日安排尚未导入：办结时限按法定节日推算，未计调休；"
                     "请向县里索取含本年“节假日”表的事项目录并导入")
    if (health.today.month, health.today.day) >= CALENDAR_NOTICE_FROM and not by_year[next_year].complete:
        found.append(f"{next_year} 年节假日安排尚未导入：跨年的办结时限将不计调休；国务院通知发布后，"
                     f"请导入含 {next_year} 年“节假日”表的事项目录")
    return found


def calendar_coverage(years):
    """A YearCoverage per year of ``years``: what the working-day calendar in force knows of each."""
    from ..catalogue.store import work_calendar
    from ..workdays import _builtin_covers

    calendar = work_calendar()
    rows = {}
    for day in calendar.overrides:
        rows[day.year] = rows.get(day.year, 0) + 1
    return [YearCoverage(year, _builtin_covers(year), rows.get(year, 0)) for year in years]


def last_sync_run():
    """The newest synchronisation with the hub (``sync.status.Run``: when, and how it went), or None."""
    from ..sync.records import SyncRun
    from ..sync.status import Run

    newest = SyncRun.select().order_by(SyncRun.id.desc()).first()
    return Run(newest) if newest is not None else None


# ----------------------------------------------------------------------------- internals


def _schema():
    newest = SchemaMigration.select(SchemaMigration.name).order_by(SchemaMigration.id.desc()).first()
    return newest.name if newest else ""


def _scans():
    from peewee import fn

    from ..intake.records import Scan

    count, total = Scan.select(fn.COUNT(Scan.id), fn.COALESCE(fn.SUM(Scan.size), 0)).scalar(as_tuple=True)
    return count, total


def _disks(data_dir, folder):
    disks = [_disk("数据文件夹", data_dir)]
    try:
        elsewhere = folder.is_dir() and os.stat(folder).st_dev != os.stat(data_dir).st_dev
    except OSError:
        elsewhere = False
    if elsewhere:
        disks.append(_disk("备份文件夹", folder))
    return [disk for disk in disks if disk is not None]


def _disk(what, folder):
    try:
        usage = shutil.disk_usage(folder)
    except OSError:
        return None
    return Disk(what, folder, usage.free, usage.total)


def _last_backup(folder, chosen):
    found = LastBackup(folder)
    try:
        names = [entry.name for entry in folder.iterdir() if NAME.fullmatch(entry.name) and entry.is_file()]
    except OSError:
        names = []
        if chosen or folder.exists():  # the data folder's backups/ is made by the first backup
            found.folder_problem = f"备份文件夹 {folder} 目前不存在或无法访问（如果是 U 盘，请检查是否已插好）"
    if names:
        try:
            found.newest = describe(folder / max(names))
        except OSError:
            found.folder_problem = f"无法读取备份文件夹 {folder} 中的备份"
    recent = utcnow() - RECENT_ATTEMPTS  # bounds the read on a long log (``at`` is indexed)
    attempt = (AuditLog.select(AuditLog.action, AuditLog.at, AuditLog.detail)
               .where(AuditLog.at >= recent, AuditLog.action.in_(("backup.create", "backup.failed")))
               .order_by(AuditLog.id.desc()).first())
    if attempt is not None and attempt.action == "backup.failed":
        found.failed_at = attempt.at
        try:
            found.failure = json.loads(attempt.detail or "{}").get("error", "") or "原因见操作日志"
        except ValueError:
            found.failure = "原因见操作日志"
    return found


def _size(path):
    try:
        return path.stat().st_size
    except OSError:
        return 0
