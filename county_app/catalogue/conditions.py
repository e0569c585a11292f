"""The condition grammar of the catalogue (适用条件, 显示条件).

A condition is clauses joined by ``;`` that must all hold. A clause is
``问题编码=值`` or ``问题编码!=值``; ``值`` may list alternatives with ``|``
(``Q2=A|B`` holds when Q2 is A or B). Blank text always holds. A clause over a
question that was not answered does not hold, whichever operator it uses: a
question that was never asked says nothing about the applicant.

A material's 适用条件 may also name two facts of the case (``FACTS``): ``代办``
(是 when an agent applies for the applicant) and ``申请人类型`` (个人 or 企业).
Before the case is registered a fact may not be known yet; ``verdict`` then
says "not decided" rather than guessing, and ``open_clauses`` gives what is
left to decide, so that a notice can list the paper with its condition.
"""
import functools
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


AGENT = "代办"
APPLICANT_KIND = "申请人类型"
# The facts of a case a material's 适用条件 may name, with the values each takes.
FACTS = {AGENT: ("是", "否"), APPLICANT_KIND: ("个人", "企业")}
UNDECIDED = None  # verdict: the condition hinges on a fact not known yet

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
    return _parse(text)


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> tuple[Clause, ...]:
    # Cached: the guide settles the same few conditions for every request.
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


def verdict(condition: str | Iterable[Clause] | None, answers: Mapping[str, object],
            facts: Mapping[str, str | None]) -> bool | None:
    """Whether a material's condition holds over a bundle's ``answers`` and the case's ``facts``.

    ``facts`` maps ``代办`` and ``申请人类型`` to their value, or to None (or
    leaves them out) while not known. A clause over a known fact or over a
    question is decided as ``holds`` decides it; a clause over an unknown fact
    is undecided. Gives False when any clause fails, UNDECIDED (None) when
    none fails but some fact is unknown, True when every clause holds.
    """
    clauses = parse(condition) if condition is None or isinstance(condition, str) else condition
    undecided = False
    for clause in clauses:
        if clause.question in FACTS and facts.get(clause.question) is None:
            undecided = True
        elif not holds((clause,), {**answers, **facts} if clause.question in FACTS else answers):
            return False
    return UNDECIDED if undecided else True


def open_clauses(condition: str | Iterable[Clause] | None, facts: Mapping[str, str | None]) -> tuple[Clause, ...]:
    """The clauses of ``condition`` over facts that ``facts`` does not know yet."""
    clauses = parse(condition) if condition is None or isinstance(condition, str) else condition
    return tuple(c for c in clauses if c.question in FACTS and facts.get(c.question) is None)


def unparse(clauses: Iterable[Clause]) -> str:
    """Clauses back as condition text (alternatives sorted): ``代办=是;Q1!=A|B``."""
    return ";".join(f"{c.question}{'!=' if c.negated else '='}{'|'.join(sorted(c.values))}" for c in clauses)


def may_hold(condition: str | Iterable[Clause] | None, questions: Mapping[str, Iterable[str]]) -> bool:
    """Whether some answers to ``questions`` ({code: options}) and some facts could make ``condition`` hold.

    False when a clause names a question that is not among ``questions`` (a
    question of another bundle) or asks for values none of which is an option:
    in that bundle the material is never asked.
    """
    clauses = parse(condition) if condition is None or isinstance(condition, str) else condition
    for clause in clauses:
        if clause.question in FACTS:
            continue
        options = questions.get(clause.question)
        if options is None:
            return False
        if not clause.negated and not clause.values & set(options):
            return False
    return True
