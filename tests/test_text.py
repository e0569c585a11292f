"""The one rule for typed text: invisible characters dropped, control and format characters refused."""
import pytest

from county_app.text import TextError, typed_text


def test_plain_text_is_trimmed():
    assert typed_text("  王芳 ", "姓名", max_length=10) == "王芳"
    assert typed_text(None, "备注", max_length=10) == ""
    assert typed_text("阿依古丽·买买提", "姓名", max_length=10) == "阿依古丽·买买提"


def test_zero_width_characters_are_dropped_and_a_name_of_only_them_is_empty():
    assert typed_text("王\u200b芳\ufeff", "姓名", max_length=10) == "王芳"
    with pytest.raises(TextError, match="姓名只含看不见的字符"):
        typed_text("\u200b\u200c\u200d\u2060", "姓名", max_length=10, required=True)
    with pytest.raises(TextError, match="姓名不能为空"):
        typed_text("  ", "姓名", max_length=10, required=True)


@pytest.mark.parametrize("ch", ["\x00", "\x1b", "\u202e", "\u2066", "\u200e", "\x7f", "\n"])
def test_control_and_format_characters_are_refused_naming_them(ch):
    with pytest.raises(TextError) as caught:
        typed_text(f"张{ch}三", "申请人姓名", max_length=10)
    assert "申请人姓名" in str(caught.value) and f"U+{ord(ch):04X}" in str(caught.value)


def test_line_breaks_are_allowed_only_where_the_field_has_several_lines():
    assert typed_text("第一行\r\n第二行\t完", "备注", max_length=20, multiline=True) == "第一行\r\n第二行\t完"
    with pytest.raises(TextError):
        typed_text("第一行\x00", "备注", max_length=20, multiline=True)


def test_a_lone_surrogate_is_refused():
    with pytest.raises(TextError, match="无法识别"):
        typed_text("张\ud800三", "姓名", max_length=10)


def test_length_and_type():
    with pytest.raises(TextError, match="不能超过 3 个字，实际为 4 个字"):
        typed_text("一二三四", "姓名", max_length=3)
    with pytest.raises(TextError, match="应为文字"):
        typed_text(12, "姓名", max_length=3)
