"""The condition grammar of the catalogue (适用条件, 显示条件).

A condition is clauses joined by ``;`` that must all hold. A clause is
``问题编码=值`` or ``问题编码!=值``; ``值`` may list alternatives with ``|``
(``Q2=A|B`` holds when Q2 is A or B). Blank text always holds. A clause over a
question that was not answered does not hold, whichever operator it uses: a
question that was never asked says nothing about the applicant.
"""
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class ConditionError(ValueError):
    """A condition that does not follow the grammar; the message is in Chinese."""


@dataclass(frozen=True)
class Clause:
    """One ``问题编码=值|值`` (or ``!=``) clause of a condition."""

    question: str
    negated: bool
    values: frozenset[str]


# Characters that separate the parts of a condition, so a question code may not contain them.
QUESTION_CODE_FORBIDDEN = re.compile(r"[=!;|\s]")
_CLAUSE = re.compile(r"\s*([^=!;|\s]+)\s*(!?=)(.*)", re.DOTALL)
# People typing in a Chinese input method easily produce these instead of the ASCII ones.
_FULL_WIDTH = {"；": ";", "｜": "|", "＝": "=", "！": "!"}


def parse(text: str | None) -> tuple[Clause, ...]:
    """Parse a condition into its clauses; blank text gives ``()`` (always holds).

    Raises ConditionError with a Chinese message naming the faulty clause.
    """
    if text is None or not text.strip():
        return ()
    wide = sorted({ch for ch in text if ch in _FULL_WIDTH})
    if wide:
        hint = "、".join(f"“{ch}”应为“{_FULL_WIDTH[ch]}”" for ch in wide)
        raise ConditionError(f"条件中请使用半角符号（{hint}）")
    clauses = []
    for number, raw in enumerate(text.split(";"), 1):
        if not raw.strip():
            raise ConditionError(f"第 {number} 个子句是空的（多余的“;”？）")
        match = _CLAUSE.fullmatch(raw)
        if match is None:
            raise ConditionError(
                f"第 {number} 个子句 “{raw.strip()}” 不是 问题编码=值 或 问题编码!=值 的形式"
            )
        question, operator, rest = match.groups()
        values = [value.strip() for value in rest.split("|")]
        if any(not value for value in values):
            raise ConditionError(f"第 {number} 个子句 “{raw.strip()}” 缺少值")
        clauses.append(Clause(question, operator == "!=", frozenset(values)))
    return tuple(clauses)


def holds(condition: str | Iterable[Clause] | None, answers: Mapping[str, object]) -> bool:
    """Whether a condition (text or parsed clauses) holds for ``answers`` ({问题编码: 答案}).

    An answer that is missing, None or blank counts as not asked, and a clause
    over such a question does not hold, for ``!=`` too. Each answer is one of
    the question's options. Malformed text raises ConditionError.
    """
    clauses = parse(condition) if condition is None or isinstance(condition, str) else condition
    for clause in clauses:
        answer = answers.get(clause.question)
        if answer is None:
            return False
        answer = str(answer).strip()
        if not answer:
            return False
        if (answer in clause.values) == clause.negated:
            return False
    return True


def referenced(clauses: Iterable[Clause]) -> set[str]:
    """The question codes that a parsed condition refers to."""
    return {clause.question for clause in clauses}
