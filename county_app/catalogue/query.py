"""Read-side queries over the catalogue in force, as plain data for the pages and the API.

Only the version in force (``CatalogueVersion.in_force()``) is browsed. Every
function answers dataclasses or lists of them, never peewee rows; enumerated
values stay codes of ``vocabulary`` (the pages turn them into words).
The caller holds the database connection.
"""
import functools
import re
from dataclasses import dataclass, replace

from peewee import JOIN, fn

from ..models import BundleMemberRow, BundleRow, CatalogueVersion, FieldRow, MaterialRow, MatterRow, QuestionRow
from . import conditions
from .merging import FormField, Material, merge
from .savings import Savings, count_savings

@dataclass
class Version:
    version: str
    issuer: str
    published_on: object
    imported_at: object


@dataclass
class BundleSummary:
    code: str
    name: str
    lead_department: str
    audience: str  # "person" | "company"
    description: str
    enabled: bool
    member_count: int


@dataclass
class Question:
    code: str
    text: str
    options: list
    condition: str
    condition_text: str


@dataclass
class BundleDetail(BundleSummary):
    members: list
    questions: list
    materials: list
    fields: list
    totals: Savings  # over all members (savings.py), as the 改革成效 report counts


@dataclass
class MatterSummary:
    code: str
    name: str
    kind: str
    department: str
    handling: str
    statutory_days: int
    promised_days: int
    visits: int
    enabled: bool


@dataclass
class Member(MatterSummary):
    """A member matter of a bundle."""
    required: bool
    condition: str  # the catalogue's grammar, "" = always
    condition_text: str  # the same in words, "" = always


@dataclass
class MatterDetail(MatterSummary):
    fee: str
    result_name: str
    conditions: str
    legal_basis: str
    materials: list
    fields: list
    bundles: list  # [{"code", "name"}]


@dataclass
class MatterPage:
    items: list
    total: int


@dataclass
class Hit:
    kind: str  # "bundle" | "matter"
    code: str
    name: str
    department: str
    enabled: bool


def current_version():
    """The catalogue version in force as a ``Version``, or None when no catalogue is loaded."""
    row = CatalogueVersion.in_force()
    if row is None:
        return None
    return Version(row.version, row.issuer, row.published_on, row.imported_at)


def list_bundles():
    """Every bundle in force, enabled ones first, each with its number of member matters."""
    version = CatalogueVersion.in_force()
    if version is None:
        return []
    rows = (BundleRow.select(BundleRow, fn.COUNT(BundleMemberRow.id).alias("member_count"))
            .join(BundleMemberRow, JOIN.LEFT_OUTER).where(BundleRow.catalogue == version).group_by(BundleRow.id)
            .order_by(BundleRow.enabled.desc(), BundleRow.position, BundleRow.id))
    return [_bundle_summary(row, row.member_count) for row in rows]


def get_bundle(code):
    """The bundle ``code`` in force with members, questions, merged materials and fields; None if unknown.

    Materials and fields are merged over the enabled members, conditions ignored;
    ``totals`` are ``bundle_savings``, the same figures as the 改革成效 report.
    """
    version = CatalogueVersion.in_force()
    row = version and BundleRow.get_or_none(BundleRow.catalogue == version, BundleRow.code == code)
    if not row:
        return None
    questions = list(QuestionRow.select().where(QuestionRow.bundle == row).order_by(QuestionRow.position, QuestionRow.id))
    asked = {q.code: q.text for q in questions}
    links = list(BundleMemberRow.select(BundleMemberRow, MatterRow).join(MatterRow)
                 .where(BundleMemberRow.bundle == row).order_by(BundleMemberRow.position, BundleMemberRow.id))
    members = [Member(**vars(_matter_summary(m.matter)), required=m.required, condition=m.condition,
                      condition_text=describe_condition(m.condition, asked)) for m in links]
    # A disabled (停用) matter cannot be applied for, so its papers and fields are not asked.
    materials, fields = materials_and_fields([m.matter for m in links if m.matter.enabled])
    options = {q.code: _split(q.options) for q in questions}
    merged_materials, merged_fields, _ = merge(materials_in_bundle(materials, options), fields)
    for material in merged_materials:
        material.condition_text = describe_material_condition(material.conditions, asked)
    totals = bundle_savings(row, [link.matter for link in links], options)
    question_views = [Question(q.code, q.text, _split(q.options), q.condition, describe_condition(q.condition, asked))
                      for q in questions]
    summary = _bundle_summary(row, len(members))
    return BundleDetail(**vars(summary), members=members, questions=question_views,
                        materials=merged_materials, fields=merged_fields, totals=totals)


def bundle_savings(row, matters=None, questions=None):
    """What bundling saves for the bundle ``row`` (a BundleRow): the one count of the pages and reports.

    Every member matter counts, 停用 ones too: interfaces.md says "all member
    matters", and a report must not change because one matter is paused for a
    while. A shared matter's paper asked only in another bundle (its 适用条件
    names that bundle's question) is never a paper of this one. ``matters``
    (the members, in order) and ``questions`` ({code: options}) save the
    caller's queries when it has them.
    """
    if matters is None:
        matters = [link.matter for link in BundleMemberRow.select(BundleMemberRow, MatterRow).join(MatterRow)
                   .where(BundleMemberRow.bundle == row).order_by(BundleMemberRow.position, BundleMemberRow.id)]
    if questions is None:
        questions = {q.code: _split(q.options) for q in QuestionRow.select().where(QuestionRow.bundle == row)}
    materials, fields = materials_and_fields(matters)
    return count_savings(matters, materials_in_bundle(materials, questions), fields)


def departments():
    """The departments of the matters in force, sorted."""
    version = CatalogueVersion.in_force()
    if version is None:
        return []
    query = (MatterRow.select(MatterRow.department).where(MatterRow.catalogue == version)
             .distinct().order_by(MatterRow.department))
    return [row.department for row in query]


def list_matters(department=None, bundle=None, status=None, q=None, limit=None, offset=0):
    """Matters in force, in catalogue order, filtered; a ``MatterPage`` (``items`` and the ``total`` count).

    ``bundle`` is a bundle code (its members only); ``status`` is "enabled" or
    "disabled"; ``q`` matches name, code or pinyin initials as ``search`` does.
    """
    version = CatalogueVersion.in_force()
    if version is None:
        return MatterPage([], 0)
    query = MatterRow.select().where(MatterRow.catalogue == version)
    if department:
        query = query.where(MatterRow.department == department)
    if bundle:
        query = (query.join(BundleMemberRow, on=(BundleMemberRow.matter == MatterRow.id)).join(BundleRow)
                 .where(BundleRow.code == bundle))
    if status in ("enabled", "disabled"):
        query = query.where(MatterRow.enabled == (status == "enabled"))
    if q and q.strip():
        query = query.where(_matches(MatterRow, q))
    total = query.count()
    query = query.order_by(MatterRow.position, MatterRow.id)
    if limit:
        query = query.limit(limit).offset(offset)
    return MatterPage([_matter_summary(row) for row in query], total)


def get_matter(code):
    """The matter ``code`` in force with its materials, form fields and bundles; None if unknown."""
    version = CatalogueVersion.in_force()
    row = version and MatterRow.get_or_none(MatterRow.catalogue == version, MatterRow.code == code)
    if not row:
        return None
    bundles = (BundleRow.select(BundleRow.code, BundleRow.name).join(BundleMemberRow)
               .where(BundleMemberRow.matter == row).order_by(BundleRow.position, BundleRow.id))
    materials, fields = materials_and_fields([row])
    # Shown as the workbook has them, one row each, with the condition in words (question codes only:
    # a shared matter's conditions may name the questions of several bundles).
    materials = [replace(m, condition_text=describe_material_condition(m.conditions)) for m in materials]
    return MatterDetail(
        **vars(_matter_summary(row)), fee=row.fee, result_name=row.result_name, conditions=row.conditions,
        legal_basis=row.legal_basis, materials=materials, fields=fields,
        bundles=[{"code": b.code, "name": b.name} for b in bundles])


def search(q, limit=50):
    """Bundles and matters in force whose name contains ``q``, or whose code or pinyin initials contain it.

    Case-insensitive; ``xse`` finds 新生儿出生. Best first: exact, then
    prefix, then substring matches; bundles before matters, enabled before
    disabled. An empty ``q`` finds nothing.
    """
    q = (q or "").strip()
    version = CatalogueVersion.in_force()
    if not q or version is None:
        return []
    hits = []
    for model, kind, department in ((BundleRow, "bundle", BundleRow.lead_department),
                                    (MatterRow, "matter", MatterRow.department)):
        query = (model.select(model.code, model.name, model.initials, model.enabled, department.alias("dept"))
                 .where((model.catalogue == version) & _matches(model, q))
                 .order_by(model.position, model.id).limit(500))
        for row in query.dicts():
            rank = _rank(q, row)
            hits.append((rank, not row["enabled"], kind != "bundle", Hit(kind, row["code"], row["name"],
                                                                         row["dept"], row["enabled"])))
    hits.sort(key=lambda hit: hit[:3])
    return [hit[-1] for hit in hits[:limit]]


def describe_condition(condition, questions, *, codes=True):
    """A condition in words, e.g. ``Q1「在本县出生？」答“是”``; "" when it always holds.

    ``questions`` maps question codes to their text. The facts of a material's
    condition read as ``由他人代办`` or ``申请人为企业``. Without ``codes`` a
    question known by its text reads without its code (``「新生儿父母的婚姻状况」答“已婚”``),
    for a single matter, where no questionnaire shows the codes. Text that does
    not parse (it cannot be in force: the importer rejects it) is shown as it is.
    """
    try:
        clauses = conditions.parse(condition)
    except conditions.ConditionError:
        return condition
    return "，且 ".join(_clause_words(clause, questions, codes) for clause in clauses)


# How a fact reads for each of its values.
_FACT_WORDS = {
    (conditions.AGENT, "是"): "由他人代办", (conditions.AGENT, "否"): "申请人本人办理",
    (conditions.APPLICANT_KIND, "个人"): "申请人为个人", (conditions.APPLICANT_KIND, "企业"): "申请人为企业",
}


def _clause_words(clause, questions, codes=True):
    if clause.question in conditions.FACTS:
        # Each fact has few values: "!=" reads as the values left.
        values = [v for v in conditions.FACTS[clause.question] if (v in clause.values) != clause.negated]
        return "或".join(_FACT_WORDS.get((clause.question, v), f"{clause.question}为“{v}”") for v in values) \
            or f"{clause.question}（不可能成立）"
    text = questions.get(clause.question)
    subject = (f"{clause.question}「{text}」" if codes else f"「{text}」") if text else clause.question
    answers = "或".join(f"“{value}”" for value in sorted(clause.values))
    return f"{subject}答的不是{answers}" if clause.negated else f"{subject}答{answers}"


def describe_material_condition(condition_texts, questions=None, *, codes=True):
    """When a paper is asked, in words: ``由他人代办时提交``; "" when asked outright.

    ``condition_texts`` are the alternatives of a merged material (any of them asks for it).
    """
    alternatives = [describe_condition(text, questions or {}, codes=codes) for text in condition_texts]
    return f"{'；或'.join(alternatives)}时提交" if alternatives else ""


def materials_in_bundle(materials, questions):
    """The (unmerged) materials that a bundle with ``questions`` ({code: options}) may ask for.

    A matter shared by two bundles may carry papers for one of them only: a
    material whose 适用条件 names a question of the other bundle is never
    asked in this one, so it is not listed here either.
    """
    return [m for m in materials if all(conditions.may_hold(text, questions) for text in m.conditions)]


def _bundle_summary(row, member_count):
    return BundleSummary(row.code, row.name, row.lead_department, row.audience, row.description,
                         row.enabled, member_count)


def _matter_summary(row):
    return MatterSummary(row.code, row.name, row.kind, row.department, row.handling, row.statutory_days,
                         row.promised_days, row.visits, row.enabled)


def materials_and_fields(matters):
    """The materials and form fields of ``matters`` (MatterRows), unmerged, in that order.

    Each ``Material`` / ``FormField`` names its one matter in ``matters``;
    merge them with ``merging.merge_materials`` / ``merge_fields``.
    """
    if not matters:
        return [], []
    shas = tuple(CatalogueVersion.by_id(i).sha256 for i in sorted({m.catalogue_id for m in matters}))
    materials, fields = _materials_and_fields_of(shas, tuple(matter.id for matter in matters))
    return list(materials), list(fields)


@functools.lru_cache(maxsize=256)
def _materials_and_fields_of(version_shas, matter_ids):
    """Cached: an imported version's rows never change, and its workbook's SHA-256 names the content.

    The answers are shared between callers: ``merge`` builds new objects and leaves these alone.
    """
    order = {matter_id: i for i, matter_id in enumerate(matter_ids)}
    materials = tuple(Material(r.code, r.name, r.form, r.copies, r.medium, r.source, r.necessity, r.waiver or None,
                               r.instructions, (r.matter.code,), (r.condition,) if r.condition else ())
                      for r in _rows_of(MaterialRow, order))
    fields = tuple(FormField(r.code, r.name, r.type, r.required, _split(r.options), r.prefill or None,
                             (r.matter.code,)) for r in _rows_of(FieldRow, order))
    return materials, fields


def _rows_of(model, order):
    rows = model.select(model, MatterRow.id, MatterRow.code).join(MatterRow).where(model.matter.in_(list(order)))
    return sorted(rows, key=lambda r: (order[r.matter.id], r.position, r.id))


def _matches(model, q):
    q = q.strip()
    letters = re.sub(r"\s+", "", q).lower()
    return model.name.contains(q) | model.code.contains(q) | model.initials.contains(letters)


def _rank(q, row):
    q = q.lower()
    letters = re.sub(r"\s+", "", q)
    name, code, initials = row["name"].lower(), row["code"].lower(), (row["initials"] or "").lower()
    if q in (name, code) or letters == initials:
        return 0
    if name.startswith(q) or code.startswith(q) or (letters and initials.startswith(letters)):
        return 1
    return 2


def _split(joined):
    return [part.strip() for part in (joined or "").split("|") if part.strip()]
