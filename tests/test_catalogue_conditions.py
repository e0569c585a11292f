"""The condition grammar of 适用条件 and 显示条件, and the facts of a case a material's 适用条件 may name."""
import pytest

from county_app.catalogue.conditions import (
    UNDECIDED, Clause, ConditionError, holds, may_hold, open_clauses, parse, referenced, unparse, verdict,
)


def test_parse_clauses_operators_and_alternatives():
    assert parse("Q1=是; Q2 != A | B") == (
        Clause("Q1", False, frozenset({"是"})),
        Clause("Q2", True, frozenset({"A", "B"})),
    )


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_blank_condition_has_no_clauses_and_always_holds(blank):
    assert parse(blank) == ()
    assert holds(blank, {})


@pytest.mark.parametrize("text, fragment", [
    ("Q1", "不是 问题编码=值"),
    ("=是", "不是 问题编码=值"),
    ("Q1 X=是", "不是 问题编码=值"),
    ("Q1=", "缺少值"),
    ("Q1=A||B", "缺少值"),
    ("Q1=是;", "第 2 个子句是空的"),
    ("Q1＝是", "半角"),
    ("Q1=是；Q2=否", "“；”应为“;”"),
])
def test_bad_syntax_is_reported_in_chinese(text, fragment):
    with pytest.raises(ConditionError) as raised:
        parse(text)
    assert fragment in str(raised.value)


def test_equal_holds_for_any_alternative():
    assert holds("Q2=A|B", {"Q2": "B"})
    assert not holds("Q2=A|B", {"Q2": "C"})


def test_not_equal_holds_for_other_answers_only():
    assert holds("Q1!=否", {"Q1": "是"})
    assert not holds("Q1!=否", {"Q1": "否"})
    assert not holds("Q1!=A|B", {"Q1": "A"})


@pytest.mark.parametrize("answers", [{}, {"Q1": None}, {"Q1": ""}, {"Q2": "是"}])
def test_a_clause_over_an_unasked_question_does_not_hold_even_with_not_equal(answers):
    assert not holds("Q1=是", answers)
    assert not holds("Q1!=是", answers)


def test_all_clauses_must_hold():
    assert holds("Q1=是;Q2=否", {"Q1": "是", "Q2": "否"})
    assert not holds("Q1=是;Q2=否", {"Q1": "是", "Q2": "是"})


def test_holds_accepts_parsed_clauses_and_referenced_lists_questions():
    clauses = parse("Q1=是;Q3!=x")
    assert holds(clauses, {"Q1": "是", "Q3": "y"})
    assert referenced(clauses) == {"Q1", "Q3"}


# --- a material's 适用条件: the facts of the case -------------------------------------

KNOWN = {"代办": "是", "申请人类型": "企业"}
UNKNOWN = {"代办": None, "申请人类型": None}


def test_a_known_fact_decides_like_an_answer():
    assert verdict("代办=是", {}, KNOWN) is True
    assert verdict("代办=否", {}, KNOWN) is False
    assert verdict("申请人类型!=个人", {}, KNOWN) is True
    assert verdict("代办=是;Q4=已婚", {"Q4": "已婚"}, KNOWN) is True
    assert verdict("代办=是;Q4=已婚", {"Q4": "未婚"}, KNOWN) is False


def test_an_unknown_fact_leaves_the_condition_undecided_unless_a_question_already_fails():
    assert verdict("代办=是", {}, UNKNOWN) is UNDECIDED
    assert verdict("代办=是", {}, {}) is UNDECIDED  # a fact left out is not known either
    assert verdict("代办=是;Q4=已婚", {"Q4": "已婚"}, UNKNOWN) is UNDECIDED
    assert verdict("代办=是;Q4=已婚", {"Q4": "未婚"}, UNKNOWN) is False
    assert verdict("代办=是;Q4=已婚", {}, UNKNOWN) is False  # a question not asked does not hold
    assert open_clauses("代办=是;Q4=已婚;申请人类型=企业", {"代办": None, "申请人类型": "企业"}) == (
        Clause("代办", False, frozenset({"是"})),)
    assert unparse(parse("代办=是;Q2!=B|A")) == "代办=是;Q2!=A|B"


def test_a_fact_is_not_an_answer_to_a_question():
    """Facts only count where a clause names them: an answer under the same name changes nothing."""
    assert verdict("代办=是", {"代办": "是"}, UNKNOWN) is UNDECIDED


def test_may_hold_tells_whether_a_bundle_with_these_questions_can_ever_ask_for_it():
    questions = {"Q1": ["是", "否"], "Q4": ["已婚", "未婚"]}
    assert may_hold("代办=是;Q4=已婚", questions)
    assert may_hold("Q1!=是", questions)
    assert not may_hold("PC1=是|不清楚", questions)  # a question of another bundle
    assert not may_hold("Q1=不清楚", questions)  # no option of this bundle's Q1
