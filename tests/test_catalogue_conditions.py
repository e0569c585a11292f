"""The condition grammar of 适用条件 and 显示条件."""
import pytest

from county_app.catalogue.conditions import Clause, ConditionError, holds, parse, referenced


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
