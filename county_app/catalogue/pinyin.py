"""Pinyin initials of catalogue names, so a clerk can type ``xse`` for 新生儿出生.

The importer fills ``MatterRow.initials`` and ``BundleRow.initials`` with
``initials(name)``; search then matches them with a plain SQL ``LIKE``.
"""
import re
import unicodedata
from functools import lru_cache

_NOT_ASCII_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=8192)
def initials(text):
    """The lowercase pinyin first letters of ``text``: ``initials("新生儿出生") == "xsecs"``.

    Polyphones are read in context (pypinyin's phrase dictionary: 重庆 → ``cq``,
    银行 → ``yh``). Latin letters and digits are kept, lowercased and
    unchanged (full-width ones are folded to ASCII first); punctuation, spaces
    and characters without a reading are dropped. Cached, because the same
    names come back with every catalogue version.
    """
    if not text:
        return ""
    # Imported on first use: its phrase dictionary costs ~45 MB, which an
    # import should spend only after the workbook's rows are read and freed.
    from pypinyin import Style, lazy_pinyin

    folded = unicodedata.normalize("NFKC", str(text))
    parts = lazy_pinyin(folded, style=Style.FIRST_LETTER, errors="default", strict=False)
    return _NOT_ASCII_ALNUM.sub("", "".join(parts).lower())
