"""Whether this PC's clock can be trusted to date a case's changes (issue 11: "the PC's clock set years wrong").

Everything a township records is dated by its own clock: the events of a
case, the working-day deadlines counted from them, the backups' names. A
clock that shows a time before this version of the program was made
(``RELEASED``; a flat CMOS battery resets a PC to 2000 or so), or that went
back more than ``BACKWARDS_TOLERANCE`` behind the newest event recorded here,
is wrong: ``problem`` says so in Chinese, every page shows it, and
``intake.events`` refuses to record a change of a case (Conflict
``clock_wrong``, nothing written) until the clock is corrected. When the
records themselves were dated ahead (the clock was years ahead for a while,
then corrected), an administrator accepts the newest of them on the 运行状况
page (``accept``, audited) and work goes on. A clock far ahead of
``RELEASED`` cannot be told from a program left without upgrades, so it is
only warned about (``ahead``) on the 运行状况 page.

At the hub the newest event may be a township's, dated by that township's
clock, so only the ``RELEASED`` check applies there.
"""
from datetime import date, datetime, timedelta, timezone

from . import settings
from .models import as_utc

RELEASED = date(2026, 12, 1)  # the day this version (__version__) was made: set anew with each release

BACKWARDS_TOLERANCE = timedelta(hours=1)  # the clock set back by a time server, a summer-time slip
AHEAD_NOTICE = timedelta(days=3 * 366)  # after RELEASED: warn that the clock, or the program, may be old
ACCEPTED = "clock.accepted_until"  # the newest record time an administrator accepted (UTC, ISO)


def problem(now=None):
    """Why this PC's clock cannot date a change now (Chinese, with what to do), or "" when it can."""
    now = as_utc(now or datetime.now(timezone.utc))
    if now.date() < RELEASED:
        return (f"{_shown(now)}，早于本程序的发布日期 {RELEASED:%Y-%m-%d}：电脑的日期和时间不对"
                "（常见原因是主板电池没电）。请先在 Windows 的“日期和时间”设置中校正，再办理业务")
    newest = newest_unaccepted(now)
    if newest is not None:
        return (f"{_shown(now)}，比本机已记录的最后一次办理时间 {newest.astimezone():%Y-%m-%d %H:%M} 还早："
                "电脑的时钟被调回过。请先校正电脑的日期和时间；若那些记录是时钟曾经调快时留下的，"
                "请系统管理员在“运行状况”页确认后继续")
    return ""


def newest_unaccepted(now):
    """The time of the newest event recorded here, when it lies beyond what ``now`` allows and no
    administrator has accepted it; else None. Townships only."""
    if settings.is_hub():
        return None
    from .intake.records import CaseEvent  # the domain imports this module

    row = CaseEvent.select(CaseEvent.at).order_by(CaseEvent.id.desc()).limit(1).tuples().first()
    if row is None:
        return None
    newest = as_utc(row[0])
    if newest - now <= BACKWARDS_TOLERANCE:
        return None
    accepted = settings.get(ACCEPTED)
    if accepted and newest <= as_utc(datetime.fromisoformat(accepted)):
        return None
    return newest


def ahead(now=None):
    """A warning when the clock shows a time long after this version was made, else ""."""
    now = as_utc(now or datetime.now(timezone.utc))
    if now.date() - RELEASED <= AHEAD_NOTICE:
        return ""
    return (f"本机时钟显示 {now.astimezone():%Y-%m-%d}，比本程序的发布日期 {RELEASED:%Y-%m-%d} 晚三年以上："
            "若日期不对，请校正电脑的日期和时间；若日期正确，请向县里索取新版本程序")


def to_accept(now=None):
    """The newest record time an administrator may accept now: the clock is past ``RELEASED`` but behind
    records not yet accepted. None otherwise."""
    now = as_utc(now or datetime.now(timezone.utc))
    return newest_unaccepted(now) if now.date() >= RELEASED else None


def accept(actor, now=None):
    """An administrator's word that the records dated ahead of ``now`` are right as recorded: they no
    longer stop work. Returns the accepted time, or None when nothing needed accepting."""
    newest = to_accept(now)
    if newest is None:
        return None
    settings.change({ACCEPTED: newest.isoformat()}, actor=actor)
    return newest


def _shown(now):
    return f"本机时钟显示 {now.astimezone():%Y-%m-%d %H:%M}"
