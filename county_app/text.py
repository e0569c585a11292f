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


class TextError(ValueError):
    """Text that breaks the rule; ``str(error)`` is the Chinese message, naming the field."""


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
    value = value.translate(ZERO_WIDTH)
    for ch in value:
        if multiline and ch in LINE_BREAKS:
            continue
        category = unicodedata.category(ch)
        if category == "Cs":
            raise TextError(f"{label}含有无法识别的字符（编码不完整），请重新输入")
        if category in ("Cc", "Cf"):
            raise TextError(f"{label}含有看不见的控制字符 U+{ord(ch):04X}（多为从别处复制带来），请删除后重新输入")
    value = value.strip()
    if required and not value:
        raise TextError(f"{label}不能为空")
    if len(value) > max_length:
        raise TextError(f"{label}不能超过 {max_length} 个字，实际为 {len(value)} 个字")
    return value
