"""Pinyin initials for search: what the importer stores and the clerk types."""
import time

import pytest

from county_app.catalogue.pinyin import initials


@pytest.mark.parametrize("text, expected", [
    ("新生儿出生", "xsecs"),
    ("新生儿出生一件事", "xsecsyjs"),
    ("企业开办", "qykb"),
    ("退休", "tx"),
    ("开办餐饮店", "kbcyd"),
    ("社会保障卡居民服务", "shbzkjmfw"),
])
def test_initials_of_plain_names(text, expected):
    assert initials(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("重庆", "cq"),  # 重 read chóng, not zhòng
    ("银行开户", "yhkh"),  # 行 read háng
    ("单位参保登记", "dwcbdj"),  # 单 dān, 参 cān
    ("长春市", "ccs"),  # 长 cháng
    ("市长信箱", "szxx"),  # 长 zhǎng
    ("调休", "dx"),  # 调 diào
])
def test_polyphones_are_read_in_context(text, expected):
    assert initials(text) == expected


def test_latin_letters_and_digits_are_kept_lowercased():
    assert initials("ICP备案") == "icpba"
    assert initials("5G基站") == "5gjz"
    assert initials("Ａ１类") == "a1l"  # full-width folded to ASCII


def test_punctuation_and_spaces_are_dropped():
    assert initials("户口登记（新生儿）") == "hkdjxse"
    assert initials("出生医学证明 — 首次签发、补发") == "csyxzmscqfbf"
    assert initials("a-b_c.d/e") == "abcde"


def test_empty_and_missing_text():
    assert initials("") == ""
    assert initials(None) == ""
    assert initials("，。！") == ""


def test_result_is_always_ascii_lowercase():
    for text in ("婴儿出生医学证明", "Γ 字型", "𠀋测试", "〇号"):
        value = initials(text)
        assert value == value.lower() and value.isascii() and value.isalnum() or value == ""


def test_fast_enough_for_a_whole_catalogue():
    names = [f"第{i}号事项出生医学证明办理" for i in range(2000)]
    initials.cache_clear()
    started = time.perf_counter()
    for name in names:
        initials(name)
    assert time.perf_counter() - started < 3.0  # about 0.4 s on a window PC
