"""Schedules written as crontab text (minute hour day month weekday), in Beijing time.

One reading for the settings that hold them and the scheduler that runs them.
APScheduler is imported when a trigger is made (with the scheduler, after
the first page), not when the pages that show a schedule are loaded.
"""
import re

TIMEZONE = "Asia/Shanghai"
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab's numbering: 0 (and 7) is Sunday


def daily_at(text):
    """Crontab text for a time of day typed as ``HH:MM`` (``02:00`` → ``0 2 * * *``); other text as given."""
    match = re.fullmatch(r"\s*([01]?[0-9]|2[0-3])\s*[:：]\s*([0-5][0-9])\s*", text)
    if match is None:
        return text
    return f"{int(match[2])} {int(match[1])} * * *"


def shown(text):
    """Crontab text as a clerk reads it: ``0 2 * * *`` → ``02:00``; any other schedule as written."""
    fields = text.split()
    if len(fields) == 5 and fields[2:] == ["*", "*", "*"] and all(field.isdigit() for field in fields[:2]):
        minute, hour = int(fields[0]), int(fields[1])
        if minute < 60 and hour < 24:
            return f"{hour:02d}:{minute:02d}"
    return text


def crontab_trigger(text):
    """A CronTrigger for crontab ``text`` (minute hour day month weekday) in Beijing time.

    APScheduler 3 counts weekday 0 as Monday, crontab as Sunday (its
    ``from_crontab`` warns of it): numeric weekdays are given as names here, so
    ``1-5`` means Monday to Friday as in crontab.
    """
    from apscheduler.triggers.cron import CronTrigger

    fields = text.split()
    if len(fields) == 5:
        fields[4] = _weekday_names(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=TIMEZONE)


def _weekday_names(field):
    """A crontab weekday field (``*``, ``1-5``, ``0,6``, ``*/2``, ``mon-fri`` …) as a list of day names."""
    if field == "*":
        return field
    days = set()
    for part in field.lower().split(","):
        body, _, step = part.partition("/")
        if body == "*":
            first, last = 0, 6
        elif "-" in body:
            first, last = (_weekday(end) for end in body.split("-", 1))
            if last == 0 < first:  # "fri-sun": Sunday closes the week
                last = 7
        else:
            first = _weekday(body)
            last = 6 if step else first
        if step and not step.isdigit() or step == "0":
            raise ValueError(f"bad weekday step in {field!r}")
        chosen = range(first, last + 1, int(step or 1))
        if not chosen:
            raise ValueError(f"empty weekday range in {field!r}")
        days.update(day % 7 for day in chosen)
    return ",".join(_DAY_NAMES[day] for day in sorted(days))


def _weekday(text):
    if re.fullmatch(r"[0-7]", text):
        return int(text)
    if text in _DAY_NAMES:
        return _DAY_NAMES.index(text)
    raise ValueError(f"bad weekday {text!r}")
