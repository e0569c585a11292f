"""Every setting the program has, declared once with its default and help text.

Settings live in the database (``config get/set`` and the admin pages change
them); the README lists every one, and a test fails when it misses one.
"""
import re
from dataclasses import dataclass
from typing import Callable

from .models import Setting
from .prepared import Prepared


class SettingError(ValueError):
    """An unknown key or a value the setting does not accept (message in Chinese)."""


def _one_of(*allowed):
    def check(value):
        if value not in allowed:
            raise SettingError(f"取值必须是 {' / '.join(allowed)} 之一，实际为 \"{value}\"")
    return check


def _digits(count):
    def check(value):
        if value and not re.fullmatch(rf"\d{{{count}}}", value):
            raise SettingError(f"必须是 {count} 位数字，实际为 \"{value}\"")
    return check


def _cron(value):
    from .crontab import crontab_trigger

    try:
        crontab_trigger(value)
    except ValueError as exc:
        raise SettingError(f"不是有效的 cron 表达式（分 时 日 月 周）：\"{value}\"（{exc}）") from None


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


def _absolute_folder(value):
    from pathlib import PureWindowsPath, PurePosixPath

    if value and not (PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute()):
        raise SettingError(f"必须是完整路径（例如 E:\\备份 或 /media/usb/备份），实际为 \"{value}\"")


def _any(value):
    return None


@dataclass(frozen=True)
class SettingSpec:
    key: str
    default: str
    help: str
    check: Callable[[str], None] = _any
    secret: bool = False


SETTINGS = [
    SettingSpec("node.role", "township", "本节点角色：township（乡镇便民服务中心）或 hub（县级汇聚中心）", _one_of("township", "hub")),
    SettingSpec("centre.code", "", "本中心 12 位统计用区划代码（用于生成全县唯一的办件编号）", _digits(12)),
    SettingSpec("centre.name", "", "本中心名称，打印在各类通知书上"),
    SettingSpec("centre.phone", "", "咨询电话，打印在各类通知书上"),
    SettingSpec("centre.address", "", "本中心地址，打印在一次性告知单上"),
    SettingSpec("centre.hours", "", "办公时间，例如“工作日 9:00-12:00，14:00-17:30”；设置后打印在各类通知书上"),
    SettingSpec("sync.url", "", "县级汇聚中心的地址，例如 http://10.1.1.1:8080"),
    SettingSpec("sync.node", "", "本节点在汇聚中心登记的编码"),
    SettingSpec("sync.secret", "", "与汇聚中心共享的密钥（node add 时生成）", secret=True),
    SettingSpec("sync.cron", "30 1 * * *", "夜间自动同步的时间（cron 格式：分 时 日 月 周）", _cron),
    SettingSpec("maintenance.cron", "30 2 * * *",
                "夜间维护（清理无人引用的扫描文件和过期的目录上传文件、更新数据库查询统计）的时间（cron 格式：分 时 日 月 周；重启服务后生效）", _cron),
    SettingSpec("catalogue.max_upload_mb", "20", "导入事项目录时允许的最大文件大小（MB，1–20）", _upload_mb),
    SettingSpec("backup.folder", "", "备份文件夹（例如 U 盘上的文件夹，须写完整路径）；留空则为数据文件夹下的 backups", _absolute_folder),
    SettingSpec("backup.cron", "15 2 * * *", "夜间自动备份的时间（cron 格式：分 时 日 月 周；重启服务后生效）", _cron),
    SettingSpec("scan.folder", "", "扫描仪保存文件的文件夹；窗口可一键把其中最新的文件作为材料扫描件上传"),
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


def put(key, value):
    """Check and store ``value`` for ``key``; the caller holds the transaction and audits."""
    spec = spec_for(key)
    value = value.strip()
    spec.check(value)
    Setting.insert(key=key, value=value).on_conflict(
        conflict_target=[Setting.key], update={Setting.value: value}
    ).execute()
    return value
