"""Text typed by people: the one rule for names, addresses, reasons and notes.

What a clerk pastes from a chat program or a web page may carry characters
nobody sees. Zero-width spaces and joiners and the byte-order mark are
dropped silently (they change nothing a reader sees); any other control or
format character — NUL, a right-to-left override that makes ``abc`` print as
``cba``, a lone surrogate that no database can store — is refused with a
message naming it, so that what is stored is what is printed. A value that
is left empty after that counts as empty.

No Flask and no database: the domain modules call ``typed_text`` and turn
``TextError`` into their own errors.
"""
import unicodedata

# Invisible and harmless: dropped rather than refused, so a pasted name just works.
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
LINE_BREAKS = "\n\r\t"
SEARCH_MAX_LENGTH = 200  # the longest name a case holds


class TextError(ValueError):
    """Text that breaks the rule; ``str(error)`` is the Chinese message, naming the field."""


def encodable(text):
    """Whether ``text`` can be stored and sent (UTF-8): False for a lone surrogate such as JSON's "\\ud800"."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def typed_text(value, label, *, max_length, required=False, multiline=False):
    """``value`` trimmed and checked as text typed into the field called ``label``.

    None is "". Raises TextError when ``value`` is not a string, holds a
    control, format or surrogate character (line breaks and tabs only if
    ``multiline``), is longer than ``max_length`` characters, or is empty
    while ``required``.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise TextError(f"{label}应为文字")
    if not encodable(value):
        raise TextError(f"{label}含有无法识别的字符（编码不完整），请重新输入")
    typed = bool(value.strip())
    value = value.translate(ZERO_WIDTH)
    for ch in value:
        if multiline and ch in LINE_BREAKS:
            continue
        if unicodedata.category(ch) in ("Cc", "Cf"):
            raise TextError(f"{label}含有看不见的控制字符 U+{ord(ch):04X}（多为从别处复制带来），请删除后重新输入")
    value = value.strip()
    if required and not value:
        raise TextError(f"{label}只含看不见的字符，请重新输入" if typed else f"{label}不能为空")
    if len(value) > max_length:
        raise TextError(f"{label}不能超过 {max_length} 个字，实际为 {len(value)} 个字")
    return value


# ----------------------------------------------------------------------------- quoting what was typed

QUOTE_LIMIT = 20  # characters of a bad value that a message repeats
FEW = 5  # values a message names before it only counts the rest
_UNSHOWN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def shown(value, limit=QUOTE_LIMIT):
    """``value`` as a message may repeat it: at most ``limit`` characters, invisible ones made visible.

    A message that echoes what was sent must stay short and printable
    whatever was sent: a 10,000-character value is cut to its start with the
    length (``abc…（共 10000 字）``); a control, format or lone surrogate
    character (which could not even be encoded) appears as ``U+XXXX``; a list
    or an object is named by its kind, never printed.
    """
    if isinstance(value, (list, tuple)):
        return f"列表（{len(value)} 项）"
    if isinstance(value, dict):
        return f"对象（{len(value)} 项）"
    text = value if isinstance(value, str) else str(value)
    cut = text[:limit]
    if not cut.isprintable():
        cut = "".join(f"U+{ord(ch):04X}" if unicodedata.category(ch) in _UNSHOWN else ch for ch in cut)
    return cut if len(text) <= limit else f"{cut}…（共 {len(text)} 字）"


def quoted(value, limit=QUOTE_LIMIT):
    """``shown(value)`` in quotes, for ``实际为 "…"`` in a message."""
    return f"\"{shown(value, limit)}\""


def few(values, limit=FEW, *, quote=False):
    """Some of ``values`` for a message: ``Q9、Q10、Q11 等 1000000 个`` (all of them when there are few)."""
    values = list(values)
    named = "、".join((quoted if quote else shown)(value) for value in values[:limit])
    return named if len(values) <= limit else f"{named} 等 {len(values)} 个"


def search_text(value):
    """What was typed into a search box, trimmed to SEARCH_MAX_LENGTH characters.

    Nothing longer can match a name, a number or a code, and a page repeats
    the search in its links and heading.
    """
    return (value or "").strip()[:SEARCH_MAX_LENGTH]
