"""Every setting the program has, declared once with its default, label, check and help text.

Settings live in the database; ``config set`` and the administrator's 系统设置
page (views/settings.py) change them through ``change``, the one place that
checks, stores and audits a value. The README lists every one, and a test
fails when it misses one.

A setting with a ``section`` appears on the settings page under that
heading: a later setting joins the page by being declared with one. Every
value is typed text (text.py) first, then its own check; a message names the
field as the page shows it, e.g. ``本中心区划代码（centre.code）：必须是 12 位数字``.
A setting is read from the database at each use, so a change takes effect at
once, except where its help says a restart is needed.
"""
import os
import re
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Callable

from . import audit
from .db import db, is_postgresql
from .identity import compact
from .models import Setting
from .prepared import Prepared
from .text import TextError, typed_text

class SettingError(ValueError):
    """An unknown key or a value the setting does not accept (message in Chinese)."""


class SettingsInvalid(SettingError):
    """Values refused by ``change``: ``errors`` maps each refused key to its message (nothing was stored)."""

    def __init__(self, errors):
        super().__init__("；".join(errors.values()))
        self.errors = errors


TOWNSHIP_ON_POSTGRESQL = ("乡镇节点的数据库只能是 SQLite，PostgreSQL（DATABASE_URL 或 --database-url）只供县级汇聚中心使用："
                          "县级汇聚中心首次初始化请用 county-app init --role hub；乡镇节点请去掉 DATABASE_URL")


def _one_of(*allowed):
    def check(value):
        if value not in allowed:
            raise SettingError(f"取值必须是 {' / '.join(allowed)} 之一，实际为 \"{value}\"")
    return check


def _digits(count):
    def check(value):
        # read as a number is read everywhere (a Chinese input method's full-width digits, spaces): ASCII stored
        digits = compact(value)
        if digits and not re.fullmatch(rf"[0-9]{{{count}}}", digits):
            raise SettingError(f"必须是 {count} 位数字，实际为 \"{value}\"")
        return digits
    return check


def _cron(value):
    """A schedule: a time of day (``02:00``, stored as crontab text) or crontab text (分 时 日 月 周)."""
    from .crontab import crontab_trigger, daily_at

    text = daily_at(value)
    try:
        crontab_trigger(text)
    except ValueError:
        raise SettingError(f"不是有效的时间（如 02:00）或 cron 表达式（分 时 日 月 周）：\"{value}\"") from None
    return text


def _positive_int(value):
    if not re.fullmatch(r"[1-9][0-9]*", value):
        raise SettingError(f"必须是正整数，实际为 \"{value}\"")


def _upload_mb(value):
    # No larger than what the workbook reader itself accepts: its other limits are measured for that size.
    from .catalogue.xlsx_package import DEFAULT_LIMITS, MB

    _positive_int(value)
    ceiling = DEFAULT_LIMITS.max_file_bytes // MB
    if int(value) > ceiling:
        raise SettingError(f"不能超过 {ceiling}（事项目录文件本身的上限），实际为 {value}")


def _phone(value):
    # a landline with its area code and extension, or several numbers: 0571-86001234 转 801、13800138000
    if not re.fullmatch(r"[0-9+\-()（） ,，、/转]*", value):
        raise SettingError(f"只能包含数字、空格和 + - ( ) 、 / 转，实际为 \"{value}\"")


def _absolute_folder(value):
    # a Windows path is absolute on a Linux hub too: the setting may be made for a township's PC
    if value and not (PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute()):
        raise SettingError(f"须写完整路径（例如 D:\\扫描 或 /media/usb/备份），实际为 \"{value}\"")


def _folder(value):
    _absolute_folder(value)
    if value and not os.path.isdir(value):
        raise SettingError(f"文件夹 \"{value}\" 不存在或不是文件夹，请先建好或检查拼写")


def _hub_url(value):
    if value and not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(:[0-9]{1,5})?/?", value):
        raise SettingError(f"应为汇聚中心的网址，如 http://10.1.1.1:8080（不带路径），实际为 \"{value}\"")
    return value.rstrip("/")


def _any(value):
    return None


@dataclass(frozen=True)
class SettingSpec:
    key: str
    default: str
    help: str
    check: Callable[[str], str | None] = _any  # raises SettingError; may return the value's stored form
    secret: bool = False
    label: str = ""  # the field's name on the settings page and in messages; the key when blank
    section: str = ""  # the settings page's heading it appears under; not on the page when blank
    max_length: int = 200
    needed_for_cases: bool = False  # no case can be registered until it is set

    @property
    def name(self):
        """How messages name the setting: its label and key."""
        return f"{self.label}（{self.key}）" if self.label else self.key


CENTRE, SCANNER, BACKUP, SYNC, SCHEDULES = "本中心", "扫描仪", "备份", "同步", "自动任务"

SETTINGS = [
    SettingSpec("node.role", "township", "本节点角色：township（乡镇便民服务中心）或 hub（县级汇聚中心）", _one_of("township", "hub"),
                label="节点角色"),
    SettingSpec("centre.code", "", "本中心 12 位统计用区划代码（用于生成全县唯一的办件编号；设置前不能登记办件；更改后新办件用新代码编号，已登记的不变）", _digits(12),
                label="本中心区划代码", section=CENTRE, max_length=32, needed_for_cases=True),
    SettingSpec("centre.name", "", "本中心名称，显示在每个页面上并打印在各类通知书上", label="本中心名称", section=CENTRE,
                max_length=64),
    SettingSpec("centre.phone", "", "咨询电话，打印在各类通知书上", _phone, label="咨询电话", section=CENTRE, max_length=64),
    SettingSpec("centre.address", "", "本中心地址，打印在一次性告知单上", label="地址", section=CENTRE),
    SettingSpec("centre.hours", "", "办公时间，例如“工作日 9:00-12:00，14:00-17:30”；设置后打印在各类通知书上",
                label="办公时间", section=CENTRE, max_length=100),
    SettingSpec("county.code", "", "县级汇聚中心：本县 6 位区划代码（init --role hub --code 设定；登记的乡镇节点编码须以它开头）",
                _digits(6), label="本县区划代码", max_length=16),
    SettingSpec("sync.url", "", "县级汇聚中心的地址，例如 http://10.1.1.1:8080（由县级管理员提供）；留空则不同步",
                _hub_url, label="汇聚中心地址", section=SYNC),
    SettingSpec("sync.node", "", "本节点在汇聚中心登记的编码"),
    SettingSpec("sync.secret", "", "与汇聚中心共享的同步密钥（县级管理员执行 node add 或 node secret 时生成）；只能填写，不显示；留空则保持不变",
                secret=True, label="同步密钥", section=SYNC),
    SettingSpec("clock.accepted_until", "", "管理员在“运行状况”页确认无误的最后一次办理时间（电脑时钟曾经调快时留下的记录，clock.py）；由程序写入"),
    SettingSpec("catalogue.max_upload_mb", "20", "导入事项目录时允许的最大文件大小（MB，1–20）", _upload_mb),
    SettingSpec("scan.folder", "", "扫描仪保存文件的文件夹（完整路径，须已存在）；窗口可一键把其中最新的文件作为材料扫描件上传",
                _folder, label="扫描文件夹", section=SCANNER, max_length=260),
    SettingSpec("backup.folder", "", "备份文件夹（例如 U 盘上的文件夹，须写完整路径）；留空则为数据文件夹下的 backups",
                _absolute_folder, label="备份文件夹", section=BACKUP, max_length=260),
    SettingSpec("sync.cron", "0 2 * * *", "夜间自动同步的时间：每天的时刻（如 02:00），或 cron 格式（分 时 日 月 周）；保存后即生效", _cron,
                label="自动同步时间", section=SCHEDULES, max_length=100),
    SettingSpec("backup.cron", "15 2 * * *", "夜间自动备份的时间：每天的时刻（如 02:15），或 cron 格式（分 时 日 月 周）；保存后即生效", _cron,
                label="自动备份时间", section=SCHEDULES, max_length=100),
    SettingSpec("maintenance.cron", "30 2 * * *",
                "夜间维护（清理无人引用的扫描文件和过期的目录上传文件、更新数据库查询统计）的时间：每天的时刻（如 02:30），或 cron 格式（分 时 日 月 周）；保存后即生效", _cron,
                label="夜间维护时间", section=SCHEDULES, max_length=100),
]

_BY_KEY = {spec.key: spec for spec in SETTINGS}

_STORED_VALUE = Prepared(lambda key: Setting.select(Setting.value).where(Setting.key == key).tuples())


def spec_for(key):
    try:
        return _BY_KEY[key]
    except KeyError:
        raise SettingError(f"未知的设置项 \"{key}\"；可用的设置项：{', '.join(_BY_KEY)}") from None


def get(key):
    """The value of ``key``: the stored one, else its default."""
    spec = spec_for(key)
    value = _STORED_VALUE.scalar(key)
    return spec.default if value is None else value


def is_hub():
    """Whether this node is the county hub (``node.role`` = hub)."""
    return get("node.role") == "hub"


def shown(key):
    """The value of ``key`` as the settings page shows it: a daily schedule as a time of day (02:00); a secret
    never (the page says whether it is set)."""
    from .crontab import shown as schedule_shown

    if spec_for(key).secret:
        return ""
    value = get(key)
    return schedule_shown(value) if spec_for(key).check is _cron else value


def checked(key, value):
    """``value`` as ``key`` would store it (typed text, trimmed), or SettingError naming the field."""
    spec = spec_for(key)
    label = spec.label or key
    try:
        value = typed_text(value, label, max_length=spec.max_length)
        value = spec.check(value) or value  # a check may give the value's stored form
    except (TextError, SettingError) as exc:
        message = str(exc)
        if message.startswith(label):  # typed_text names the field itself
            message = message[len(label):]
        raise SettingError(f"{spec.name}：{message}") from None
    if key == "node.role" and value != "hub" and is_postgresql():
        raise SettingError(f"{spec.name}：{TOWNSHIP_ON_POSTGRESQL}")
    return value


def put(key, value):
    """Check and store ``value`` for ``key``; the caller holds the transaction and audits (see ``change``)."""
    value = checked(key, value)
    Setting.insert(key=key, value=value).on_conflict(
        conflict_target=[Setting.key], update={Setting.value: value}
    ).execute()
    return value


def change(values, *, actor):
    """Check every value of ``values`` (key → text), then store and audit those that differ, in one transaction.

    All or nothing: SettingsInvalid lists every refused key and nothing is
    stored. Returns the keys that changed.
    """
    errors, clean = {}, {}
    for key, value in values.items():
        try:
            clean[key] = checked(key, value)
        except SettingError as exc:
            errors[key] = str(exc)
    if errors:
        raise SettingsInvalid(errors)
    changed = []
    with db.atomic():
        for key, value in clean.items():
            if get(key) == value:
                continue
            put(key, value)
            audit.record(actor, "config.set", "setting", key, value="***" if _BY_KEY[key].secret else value)
            changed.append(key)
    return changed


def on_page():
    """The settings page's sections: ``[(heading, [SettingSpec, …]), …]`` in declaration order."""
    sections = {}
    for spec in SETTINGS:
        if spec.section:
            sections.setdefault(spec.section, []).append(spec)
    return list(sections.items())


def missing_for_cases():
    """The settings that must be set before a case can be registered and are not yet (none at the hub,
    where no case is registered)."""
    if is_hub():
        return []
    return [spec for spec in SETTINGS if spec.needed_for_cases and not get(spec.key)]
