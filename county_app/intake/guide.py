"""一次告知: for a bundle and the applicant's answers, the matters, one material list and one form.

The questionnaire is progressive: a question is asked once its display
condition holds over the answers so far; an answer to a question that is not
(or no longer) asked is set aside and counts for nothing. Materials and
fields are merged by ``catalogue.merging`` only. Reads catalogue rows of one
``CatalogueVersion`` (the one in force by default); the caller holds the
database connection. No Flask here: the API, the pages and case registration
all call these functions.

A material with a 适用条件 is asked when its condition holds over the
bundle's answers (a single matter has none: a clause over a question does not
hold) and the facts of the case, ``代办`` and ``申请人类型`` (``case_facts``).
Before the applicant and the agent are known — the one-time notice, a guide
request without them — a paper that hinges on a fact still open is listed
with that condition (``conditions``, ``condition_text`` such as
``由他人代办时提交``), never silently dropped nor asked of everyone. At
registration the facts are known and decide.
"""
import functools
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from ..catalogue import conditions, vocabulary
from ..catalogue.merging import merge
from ..catalogue.query import describe_condition, describe_material_condition, materials_and_fields
from ..models import BundleMemberRow, BundleRow, CatalogueVersion, MatterRow, QuestionRow
from ..text import few, quoted, shown
from .errors import Invalid, NotFound
from .facts import asked_materials, case_facts, settled_fields

MAX_MATTERS = 500  # a bundle has a handful, a request more than this is no choice anyone made


@dataclass
class GuideBundle:
    code: str
    name: str
    lead_department: str
    audience: str  # "person" | "company"


@dataclass
class GuideQuestion:
    code: str
    text: str
    options: list
    condition: str  # the display condition, "" = always asked


@dataclass
class AnsweredQuestion(GuideQuestion):
    answer: str


@dataclass
class GuideMatter:
    """A matter the notice covers; ``matter_id`` is its ``MatterRow`` id in the guide's catalogue version."""
    matter_id: int
    code: str
    name: str
    department: str
    required: bool  # 必选 in the bundle (always True for single matters)
    handling: str  # "instant" | "promised"
    statutory_days: int
    promised_days: int
    visits: int
    fee: str
    result_name: str
    enabled: bool


@dataclass
class GuideTotals:
    matters: int
    materials_before: int  # (matter, material) rows
    materials_after: int  # distinct material codes
    materials_fetched: int  # of those, waived by 电子证照 / 数据共享 (merged waiver)
    fields_before: int  # (matter, field) rows
    fields_after: int  # distinct field codes
    fields_prefilled: int  # of those, filled in from the applicant, the agent or another field
    statutory_days_serial: int  # one matter after another
    promised_days_parallel: int  # handled in parallel: the slowest
    visits_before: int
    visits_after: int


@dataclass
class Guide:
    """The one-time notice. ``materials`` are merged ``Material``s, ``fields`` merged ``FormField``s."""
    catalogue_id: int
    catalogue_version: str
    bundle: GuideBundle | None
    questions: list  # GuideQuestion still to ask, in order
    answered: list  # AnsweredQuestion, in order
    ignored: list  # codes of answered questions that are not asked (their condition does not hold)
    matters: list  # GuideMatter
    materials: list
    fields: list
    totals: GuideTotals
    complete: bool  # no question left to ask
    answers: dict = field(default_factory=dict)  # {question code: answer}, the ones that count
    facts: dict = field(default_factory=dict)  # case_facts: {"代办": 是|否|None, "申请人类型": 个人|企业|None}

    def to_json(self):
        """The API answer of ``POST /api/v1/guide`` (interfaces.md), with a few extras."""
        return {
            "catalogue_version": self.catalogue_version,
            "bundle": asdict(self.bundle) if self.bundle else None,
            "complete": self.complete,
            "questions": [asdict(q) for q in self.questions],
            "answered": [asdict(q) for q in self.answered],
            "answers": dict(self.answers),
            "facts": dict(self.facts),
            "ignored": list(self.ignored),
            "matters": [{k: v for k, v in asdict(m).items() if k != "matter_id"} for m in self.matters],
            "materials": [material_json(m) for m in self.materials],
            "fields": [field_json(f) for f in self.fields],
            "totals": asdict(self.totals),
        }


def field_json(entry):
    """A merged form field as the API shows it: ``prefill`` the source's code, and ``prefill_condition`` the
    condition it still waits for (a fact not known yet), "" when it fills outright or not at all."""
    source, condition = vocabulary.prefill_parts(entry.prefill)
    return {**asdict(entry), "prefill": source, "prefill_condition": condition}


def material_json(material):
    """A merged material as the API shows it; ``required`` is necessity == required (容缺 is not)."""
    return {"code": material.code, "name": material.name, "required": material.necessity == "required",
            "necessity": material.necessity, "copies": material.copies, "form": material.form,
            "medium": material.medium, "source": material.source, "waiver": material.waiver,
            "instructions": material.instructions, "matters": list(material.matters),
            "conditions": list(material.conditions), "condition_text": material.condition_text}


def guide_bundle(bundle_code, answers, chosen=None, *, version=None, facts=None):
    """The one-time notice for bundle ``bundle_code`` and ``answers`` ({question code: answer}).

    Without ``chosen`` the matters are every enabled member whose 适用条件
    holds; with ``chosen`` (matter codes) exactly those, after checking that
    each is an enabled, applicable member and that no applicable 必选 member
    is left out. ``facts`` (``case_facts``; default: none known) and the
    answers decide which conditional materials are asked. Raises NotFound for
    an unknown bundle, Invalid for a 停用 bundle (field ``bundle``), a bad
    answer (``answers.<Q>``) or a bad choice (``matters``).
    """
    version = _version(version)
    row, questions, links = _bundle_rows(version.id, version.sha256, bundle_code)
    if row is None:
        raise NotFound(f"没有编码为 {shown(bundle_code)} 的一件事")
    if not row.enabled:
        message = f"一件事「{row.name}」已停用，不能办理"
        raise Invalid(message, [{"field": "bundle", "message": message}])
    given = _checked_answers(row, questions, answers)
    effective = _effective_answers(questions, given)
    applicable = [link for link in links if link.matter.enabled and conditions.holds(link.condition, effective)]
    if chosen is None:
        selected = applicable
    else:
        selected = _checked_choice(row, questions, links, applicable, chosen)
    asked = [q for q in questions if q.code not in effective and conditions.holds(q.condition, effective)]
    guide = _assemble(version, [(link.matter, link.required) for link in selected], effective, facts)
    guide.bundle = GuideBundle(row.code, row.name, row.lead_department, row.audience)
    guide.questions = [GuideQuestion(q.code, q.text, _split(q.options), q.condition) for q in asked]
    guide.answered = [AnsweredQuestion(q.code, q.text, _split(q.options), q.condition, effective[q.code])
                      for q in questions if q.code in effective]
    guide.answers = {q.code: effective[q.code] for q in questions if q.code in effective}
    guide.ignored = [code for code in given if code not in effective]
    guide.complete = not asked
    return guide


def guide_matters(matter_codes, *, version=None, facts=None):
    """The one-time notice for single matters outside any bundle, in the order given.

    With no bundle there are no answers: a material's condition can only hold
    by the ``facts``. Raises Invalid (field ``matters``) for an empty list, an unknown or a 停用 matter.
    """
    version = _version(version)
    if isinstance(matter_codes, str) or not isinstance(matter_codes, (list, tuple)) \
            or not all(isinstance(code, str) for code in matter_codes):
        raise _invalid_matters(["请以列表给出事项编码"])
    codes = list(dict.fromkeys(matter_codes))
    if not codes:
        raise _invalid_matters(["请至少选择一个事项"])
    if len(codes) > MAX_MATTERS:
        raise _invalid_matters([f"一次最多选择 {MAX_MATTERS} 个事项，实际为 {len(codes)} 个"])
    rows = _matter_rows(version, codes)
    missing = [code for code in codes if code not in rows]
    problems = [_no_such_matters(missing)] if missing else []
    problems += [f"事项「{row.name}」（{row.code}）已停用，不能申请" for row in rows.values() if not row.enabled]
    if problems:
        raise _invalid_matters(problems)
    return _assemble(version, [(rows[code], True) for code in codes], None, facts)


# ----------------------------------------------------------------------------- internals


@functools.lru_cache(maxsize=128)
def _bundle_rows(version_id, version_sha256, bundle_code):
    """The bundle row, its questions and its member links (with their matters), or None and nothing.

    Cached: an imported version's rows never change; the SHA-256 of its
    workbook is in the key so that a reused id never answers old rows.
    Callers only read these rows.
    """
    row = BundleRow.get_or_none(BundleRow.catalogue == version_id, BundleRow.code == bundle_code)
    if row is None:
        return None, (), ()
    questions = tuple(QuestionRow.select().where(QuestionRow.bundle == row)
                      .order_by(QuestionRow.position, QuestionRow.id))
    links = tuple(BundleMemberRow.select(BundleMemberRow, MatterRow).join(MatterRow)
                  .where(BundleMemberRow.bundle == row).order_by(BundleMemberRow.position, BundleMemberRow.id))
    return row, questions, links


def _version(version):
    version = version or CatalogueVersion.in_force()
    if version is None:
        raise NotFound("还没有导入事项目录")
    return version


def _checked_answers(bundle, questions, answers):
    """The non-blank answers, trimmed, each checked against its question's options."""
    if answers is None:
        return {}
    if not isinstance(answers, Mapping):
        raise Invalid("情形问题的回答应为 {问题编码: 回答}", [{"field": "answers", "message": "格式不正确"}])
    by_code = {q.code: q for q in questions}
    given, problems, unknown = {}, [], []
    for code, value in answers.items():
        question = by_code.get(code)
        if question is None:
            if not unknown:  # a place for the one problem that names them all
                problems.append(None)
            unknown.append(code)
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        options = _split(question.options)
        if not isinstance(value, str) or value.strip() not in options:
            problems.append({"field": f"answers.{code}", "message": (
                f"问题 {code}「{question.text}」的回答应为 {'、'.join(options)} 之一，实际为 {quoted(value)}")})
            continue
        given[code] = value.strip()
    if unknown:
        problems[problems.index(None)] = _unknown_questions(bundle, unknown)
    if problems:
        raise Invalid("情形问题的回答有误：" + "；".join(p["message"] for p in problems), problems)
    return given


def _unknown_questions(bundle, codes):
    """ONE problem for answers to questions the bundle does not have, however many were sent."""
    if len(codes) == 1:
        return {"field": f"answers.{shown(codes[0])}", "message": f"「{bundle.name}」没有编码为 {shown(codes[0])} 的问题"}
    return {"field": "answers", "message": f"「{bundle.name}」没有这些编码的问题：{few(codes)}"}


def _effective_answers(questions, given):
    """The answers to questions that are asked, in question order.

    A question is asked when its display condition holds over the answers that
    count; adding an answer never makes a condition fail, so repeating until
    nothing changes also settles conditions that refer to later questions.
    """
    effective = {}
    changed = True
    while changed:
        changed = False
        for question in questions:
            if (question.code in given and question.code not in effective
                    and conditions.holds(question.condition, effective)):
                effective[question.code] = given[question.code]
                changed = True
    return effective


def _checked_choice(bundle, questions, links, applicable, chosen):
    """The members in ``chosen``, in bundle order, once the rules allow the choice."""
    if isinstance(chosen, str) or not isinstance(chosen, (list, tuple)) \
            or not all(isinstance(code, str) for code in chosen):
        raise _invalid_matters(["请以列表给出事项编码"])
    wanted = list(dict.fromkeys(chosen))
    if len(wanted) > MAX_MATTERS:
        raise _invalid_matters([f"一次最多选择 {MAX_MATTERS} 个事项，实际为 {len(wanted)} 个"])
    by_code = {link.matter.code: link for link in links}
    allowed = {link.matter.code for link in applicable}
    texts = {q.code: q.text for q in questions}
    outside = [code for code in wanted if code not in by_code]
    problems = [f"事项 {few(outside)} 不属于「{bundle.name}」"] if outside else []
    for code in wanted:
        link = by_code.get(code)
        if link is None:
            continue
        if not link.matter.enabled:
            problems.append(f"事项「{link.matter.name}」（{code}）已停用，不能申请")
        elif code not in allowed:
            problems.append(f"事项「{link.matter.name}」（{code}）按情形问题的回答不适用"
                            f"（适用条件：{describe_condition(link.condition, texts)}）")
    for link in applicable:
        if link.required and link.matter.code not in wanted:
            problems.append(f"必选事项「{link.matter.name}」（{link.matter.code}）不能不选")
    if not problems and not wanted:
        problems.append("请至少选择一个事项")
    if problems:
        raise _invalid_matters(problems)
    return [link for link in applicable if link.matter.code in wanted]


def _assemble(version, chosen, answers, facts):
    """The guide over ``chosen`` ([(MatterRow, required)]), without bundle or questions.

    Materials are those whose condition holds over ``answers`` and ``facts``,
    or still may (an unknown fact; with ``answers`` None — single matters —
    a situation no bundle asks about), before merging.
    """
    facts = facts if facts is not None else case_facts()
    rows = [matter for matter, _ in chosen]
    materials, fields = materials_and_fields(rows)
    merged_materials, merged_fields, counts = merge(asked_materials(materials, answers, facts),
                                                    settled_fields(fields, answers, facts))
    situations = _situation_texts(rows) if answers is None and any(m.conditions for m in merged_materials) else {}
    for material in merged_materials:
        material.condition_text = describe_material_condition(material.conditions, situations,
                                                              codes=answers is not None)
    visits = sum(m.visits for m in rows)
    totals = GuideTotals(
        matters=len(rows),
        **counts,
        statutory_days_serial=sum(m.statutory_days for m in rows),
        promised_days_parallel=max((m.promised_days for m in rows), default=0),
        visits_before=visits,
        visits_after=1 if rows else 0,
    )
    matters = [GuideMatter(m.id, m.code, m.name, m.department, required, m.handling, m.statutory_days,
                           m.promised_days, m.visits, m.fee, m.result_name, m.enabled) for m, required in chosen]
    return Guide(catalogue_id=version.id, catalogue_version=version.version, bundle=None, questions=[],
                 answered=[], ignored=[], matters=matters, materials=merged_materials, fields=merged_fields,
                 totals=totals, complete=True, facts=dict(facts))



def _situation_texts(matters):
    """{question code: text} of the bundles that hold ``matters``, to say a single matter's situations in words.

    Each bundle numbers its own questions; a code two of them use for a paper's
    condition is warned about at import (``catalogue.validate``), the first found is used.
    """
    texts = {}
    query = (QuestionRow.select(QuestionRow.code, QuestionRow.text)
             .join(BundleMemberRow, on=(BundleMemberRow.bundle == QuestionRow.bundle))
             .where(BundleMemberRow.matter.in_([m.id for m in matters]))
             .order_by(QuestionRow.bundle, QuestionRow.position))
    for question in query:
        texts.setdefault(question.code, question.text)
    return texts


def _matter_rows(version, codes):
    """{code: MatterRow} of ``codes`` in ``version``, in the order of ``codes``."""
    found = {r.code: r for r in MatterRow.select().where(MatterRow.catalogue == version, MatterRow.code.in_(codes))}
    return {code: found[code] for code in codes if code in found}


def _no_such_matters(codes):
    if len(codes) == 1:
        return f"没有编码为 {shown(codes[0])} 的事项"
    return f"没有这些编码的事项：{few(codes)}"


def _invalid_matters(messages):
    return Invalid("所选事项不符合规则：" + "；".join(messages), [{"field": "matters", "message": m} for m in messages])


def _split(joined):
    return [part.strip() for part in (joined or "").split("|") if part.strip()]
