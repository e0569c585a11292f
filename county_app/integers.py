"""Whole numbers from people and URLs: the one rule for a page number, a count, a version, a rating.

A number arrives as text (a query string, a form field) or as a JSON
number. Text counts when it is ASCII digits with an optional sign; the
full-width digits a Chinese input method types (``１２``) are read as the
same digits. Everything else that Python would take is refused: ``"²".isdigit()``
is True yet ``int("²")`` fails, ``int`` also reads other scripts' digits,
underscores and surrounding spaces. A number is refused outside its field's
bounds and always beyond SQLite's 64-bit integers, which a query can neither
store nor compare (``OverflowError``).

No Flask and no database: the adapters and the domain call ``whole_number``
and turn ``NumberError`` into their own errors.
"""
import re

from .text import quoted

SQLITE_MAX = 2 ** 63 - 1
SQLITE_MIN = -2 ** 63
MAX_PAGE = 100_000  # beyond it a page number is a typo or a probe, never a list someone reads

_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")
_WHOLE = re.compile(r"[+-]?[0-9]+")
_MAX_DIGITS = 40  # far past SQLite's range; longer text is out of range without int() reading it (quadratic)


def half_width(text: str) -> str:
    """``text`` with the full-width digits and signs of a Chinese input method as ASCII (``２０２６－１１`` → ``2026-11``)."""
    return text.translate(_FULL_WIDTH)


class NumberError(ValueError):
    """A value that is not a whole number in range; ``str(error)`` is the Chinese message, naming the field."""


def whole_number(value, label, *, low=1, high=SQLITE_MAX):
    """``value`` (an int, or its text) as an int with ``low <= value <= high``.

    Raises NumberError naming ``label`` for anything else: text that is not
    digits, a boolean, a float, a list, or a number out of bounds.
    """
    number = value
    if isinstance(value, str):
        text = half_width(value.strip())
        number = None if not _WHOLE.fullmatch(text) else int(text) if len(text) <= _MAX_DIGITS else SQLITE_MAX + 1
    elif isinstance(value, bool) or not isinstance(value, int):
        number = None
    if number is None:
        raise NumberError(f"{label}应为整数，实际为 {quoted(value)}")
    if not max(low, SQLITE_MIN) <= number <= min(high, SQLITE_MAX):
        raise NumberError(f"{label}应为{_bounds(low, high)}的整数，实际为 {quoted(value)}")
    return number


def _bounds(low, high):
    if high < SQLITE_MAX:
        return f" {low}–{high} "
    return f"不小于 {low} " if low > SQLITE_MIN else "位数较少"
