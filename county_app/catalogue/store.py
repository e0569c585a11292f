"""The catalogue in the database: import (all or nothing, versioned), load, export.

A workbook is read into plain data and validated first (``xlsx_read``); only a
file without errors is written, in one transaction, as a new catalogue version.
"""
import functools
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from .. import audit
from ..db import db
from ..models import (
    BundleMemberRow,
    BundleRow,
    CalendarDayRow,
    CatalogueVersion,
    FieldRow,
    MaterialRow,
    MatterRow,
    QuestionRow,
)
from ..digests import file_sha256
from ..workdays import WorkCalendar
from . import model, pinyin
from .diff import diff_catalogues

BATCH = 500


class CatalogueError(Exception):
    """A catalogue operation that cannot be done (message in Chinese)."""


@dataclass
class ImportOutcome:
    status: str  # "applied" | "unchanged" | "invalid" | "checked" (a dry run)
    sha256: str
    version: str | None = None
    errors: list = field(default_factory=list)  # the first few hundred, in file order
    warnings: list = field(default_factory=list)
    diff: object = None  # diff.CatalogueDiff
    error_count: int = 0  # how many in all
    warning_count: int = 0
    older: str | None = None  # why the file is older than the catalogue in force, if it is (older_file)

    def __post_init__(self):
        self.error_count = max(self.error_count, len(self.errors))
        self.warning_count = max(self.warning_count, len(self.warnings))

    @property
    def unlisted_errors(self) -> int:
        return self.error_count - len(self.errors)

    @property
    def unlisted_warnings(self) -> int:
        return self.warning_count - len(self.warnings)

    def summary(self):
        """What happened, in Chinese, with the differences for an applied or checked file."""
        head = {
            "applied": f"已导入目录版本 {self.version}",
            "unchanged": f"目录版本 {self.version} 已在使用，内容相同，未做任何更改",
            "invalid": f"目录有 {self.error_count} 处错误，未做任何更改",
            "checked": f"检查通过（未导入）：目录版本 {self.version}",
        }[self.status]
        lines = [head]
        if self.older and self.status in ("applied", "checked"):
            lines.append(f"注意：{self.older}")
        if self.diff is not None and self.status in ("applied", "checked"):
            lines.extend(self.diff.lines())
        return "\n".join(lines)


def import_workbook(path, *, actor, dry_run=False, filename=None, progress=None, allow_older=False):
    """Validate the workbook at ``path`` and, unless ``dry_run``, make it the catalogue in force.

    An older file (``older_file``) is imported only with ``allow_older``: the
    importer confirmed on purpose that it replaces a newer catalogue; a dry run
    says that it is one. ``progress(stage, done, total)`` is told how far the work is (see read_workbook).
    Only the write itself holds the database's write lock: reading, checking and
    comparing with the catalogue in force happen before it.
    """
    path = Path(path)
    tell = progress or _quiet
    if not path.is_file():
        return ImportOutcome("invalid", "", errors=[f"文件: 找不到文件 {path}"])
    sha = file_sha256(path)
    from .xlsx_read import Problem, read_workbook  # openpyxl, imported when a workbook is read: not at start

    result = read_workbook(path, progress=progress)
    if result.errors:
        return ImportOutcome("invalid", sha, errors=result.errors, warnings=result.warnings,
                             error_count=result.error_count, warning_count=result.warning_count)
    new = result.catalogue
    outcome = ImportOutcome("checked", sha, version=new.info.version, warnings=list(result.warnings),
                            warning_count=result.warning_count)
    tell("与现行目录比较", 0, 0)
    current = CatalogueVersion.in_force()
    refusal, outcome.diff = _compare_with(current, new, sha)
    if refusal == UNCHANGED:
        outcome.status = "unchanged"
        return outcome
    if refusal:
        return ImportOutcome("invalid", sha, version=new.info.version, warnings=outcome.warnings,
                             warning_count=outcome.warning_count,
                             errors=[Problem(result.version_place, refusal)])
    outcome.older = older_file(new.info, current)
    if outcome.older and not allow_older and not dry_run:
        return ImportOutcome("invalid", sha, version=new.info.version, warnings=outcome.warnings,
                             warning_count=outcome.warning_count, older=outcome.older, errors=[
                                 Problem(result.published_place, f"{outcome.older}，未做任何更改；"
                                                                 "如确要用它替换正在使用的目录，请确认导入旧文件")])
    if dry_run:
        return outcome
    tell("写入数据库", 0, 0)
    with db.atomic():
        now = CatalogueVersion.in_force()
        if (now and now.id) != (current and current.id):
            return ImportOutcome("invalid", sha, version=new.info.version, errors=[
                f"文件: 检查期间目录版本 {now.version} 刚刚发布，未做任何更改；请重新检查这个文件"])
        version = _write(new, sha=sha, filename=filename or path.name, actor=actor)
        # An older file put in force is its own action, so that the audit log shows who went back, from what.
        replaced = dict(replaced=current.version, replaced_published_on=current.published_on) if outcome.older else {}
        audit.record(actor, "catalogue.import_older" if outcome.older else "catalogue.import", "catalogue_version",
                     version.id, version=new.info.version, sha256=sha, filename=filename or path.name,
                     published_on=new.info.published_on, **replaced)
    outcome.status = "applied"
    return outcome


UNCHANGED = "unchanged"


def _compare_with(current, new, sha):
    """(versions_rule's answer, the differences) of ``new`` against the catalogue in force.

    A function of its own so that the catalogue in force, loaded for the comparison,
    is freed before the new one is written (a large county's would otherwise be held
    beside the writing's own memory).
    """
    old = load_catalogue(current) if current else None
    refusal = versions_rule(new, sha, current, old)
    return refusal, None if refusal else diff_catalogues(old, new)


def versions_rule(new, sha, current, old) -> str | None:
    """One version label, one content: None if ``new`` may be published, UNCHANGED, or why not.

    The same label as the catalogue in force with the same content is nothing to
    do; with other content it is refused, as is the label of an earlier version
    with other content than that version had (re-publishing an earlier version
    as it was, to go back to it, is allowed). Content is the catalogue's meaning,
    so a re-exported file counts as the same.
    """
    label = new.info.version
    change = "；如要发布修改，请把“目录信息”表中的“目录版本”改为新的版本号"
    if current is not None and current.version == label:
        if current.sha256 == sha or old == new:
            return UNCHANGED
        return f"目录版本 “{label}” 正在使用，但这个文件的内容与它不同{change}"
    earlier = (CatalogueVersion.select().where(CatalogueVersion.version == label)
               .order_by(CatalogueVersion.id.desc()).first())
    if earlier is not None and earlier.sha256 != sha and load_catalogue(earlier) != new:
        return (f"目录版本 “{label}” 已于 {_day(earlier.imported_at)} 发布过，内容与这个文件不同，"
                f"同一个版本号只能对应一份目录{change}")
    return None


def older_file(info, current) -> str | None:
    """Why a workbook of ``info`` is an old file: its 发布日期 is earlier than the catalogue in force's; else None.

    A county sends its catalogues in order; a file dated before the one in force
    is usually an old copy found on a PC or a stick, which would silently undo
    the newer one. Without both dates nothing can be told.
    """
    if current is None or info.published_on is None or current.published_on is None:
        return None
    if info.published_on >= current.published_on:
        return None
    return (f"这个文件的发布日期 {info.published_on.isoformat()} 早于正在使用的目录版本 “{current.version}” "
            f"的发布日期 {current.published_on.isoformat()}，是一个旧文件")


def _day(moment) -> str:
    return moment.strftime("%Y-%m-%d") if hasattr(moment, "strftime") else str(moment)[:10]


def _quiet(stage, done, total):
    pass


def _insert(model_class, columns, rows):
    """Insert ``rows`` (tuples in the order of ``columns``) in batches with executemany.

    A county catalogue has ~45,000 rows; building each INSERT through the
    query builder cost more than reading the workbook, so rows go straight
    to the driver, with each field's own conversion and the driver's own
    placeholder (portable to PostgreSQL).
    """
    fields = [model_class._meta.fields[name] for name in columns]
    sql = 'INSERT INTO "{}" ({}) VALUES ({})'.format(
        model_class._meta.table_name, ", ".join(f'"{f.column_name}"' for f in fields),
        ", ".join([db.param] * len(fields)))
    cursor = db.cursor()
    rows = iter(rows)
    while batch := list(itertools.islice(rows, BATCH)):
        cursor.executemany(sql, [tuple(f.db_value(v) for f, v in zip(fields, row)) for row in batch])


MATTER_COLUMNS = ("catalogue", "code", "name", "initials", "kind", "department", "handling", "statutory_days",
                  "promised_days", "visits", "fee", "result_name", "conditions", "legal_basis", "enabled",
                  "position")
MATERIAL_COLUMNS = ("catalogue", "matter", "code", "name", "form", "copies", "medium", "source", "necessity",
                    "waiver", "instructions", "position", "condition")
FIELD_COLUMNS = ("catalogue", "matter", "code", "name", "type", "required", "options", "prefill", "position")
BUNDLE_COLUMNS = ("catalogue", "code", "name", "initials", "lead_department", "audience", "description",
                  "enabled", "position")


def _write(catalogue, *, sha, filename, actor):
    info = catalogue.info
    version = CatalogueVersion.create(version=info.version, issuer=info.issuer, published_on=info.published_on,
                                      region_code=info.region_code, sha256=sha, filename=filename,
                                      imported_by=actor)
    v = version.id
    _insert(MatterRow, MATTER_COLUMNS, (
        (v, m.code, m.name, pinyin.initials(m.name), m.kind, m.department, m.handling, m.statutory_days,
         m.promised_days, m.visits, m.fee, m.result_name, m.conditions, m.legal_basis, m.enabled, i)
        for i, m in enumerate(catalogue.matters)))
    matter_ids = dict(MatterRow.select(MatterRow.code, MatterRow.id).where(MatterRow.catalogue == version).tuples())
    _insert(MaterialRow, MATERIAL_COLUMNS, (
        (v, matter_ids[m.matter_code], m.code, m.name, m.form, m.copies, m.medium, m.source, m.necessity,
         m.waiver, m.instructions, i, m.condition)
        for i, m in enumerate(catalogue.materials)))
    _insert(FieldRow, FIELD_COLUMNS, (
        (v, matter_ids[f.matter_code], f.code, f.name, f.type, f.required, "|".join(f.options), f.prefill, i)
        for i, f in enumerate(catalogue.fields)))
    _insert(BundleRow, BUNDLE_COLUMNS, (
        (v, b.code, b.name, pinyin.initials(b.name), b.lead_department, b.audience, b.description, b.enabled, i)
        for i, b in enumerate(catalogue.bundles)))
    bundle_ids = dict(BundleRow.select(BundleRow.code, BundleRow.id).where(BundleRow.catalogue == version).tuples())
    _insert(BundleMemberRow, ("bundle", "matter", "required", "condition", "position"), (
        (bundle_ids[m.bundle_code], matter_ids[m.matter_code], m.required, m.condition, m.position)
        for m in catalogue.members))
    _insert(QuestionRow, ("bundle", "code", "text", "options", "condition", "position"), (
        (bundle_ids[q.bundle_code], q.code, q.text, "|".join(q.options), q.condition, q.position)
        for q in catalogue.questions))
    # Few rows, and dates: the query builder's own conversion is worth keeping here.
    if catalogue.calendar:
        CalendarDayRow.insert_many([dict(catalogue=v, day=d.day, kind=d.kind, name=d.name)
                                    for d in catalogue.calendar]).execute()
    return version


def _split(text):
    return tuple(text.split("|")) if text else ()


def load_catalogue(version):
    """The catalogue of ``version`` (a CatalogueVersion row) as plain data, in workbook order.

    Rows are streamed (``iterator``): peewee would otherwise keep every row's dict
    beside the object made from it, 30 MB for a large county's materials.
    """
    matter_codes = {}
    matters = []
    for row in (MatterRow.select().where(MatterRow.catalogue == version).order_by(MatterRow.position)
                .dicts().iterator()):
        matter_codes[row["id"]] = row["code"]
        matters.append(model.Matter(**{k: row[k] for k in (
            "code", "name", "kind", "department", "handling", "statutory_days", "promised_days", "visits", "fee",
            "result_name", "conditions", "legal_basis", "enabled")}))
    materials = [
        model.Material(matter_code=matter_codes[r["matter"]], code=r["code"], name=r["name"], form=r["form"],
                       copies=r["copies"], medium=r["medium"], source=r["source"], necessity=r["necessity"],
                       waiver=r["waiver"], instructions=r["instructions"], condition=r["condition"])
        for r in MaterialRow.select().where(MaterialRow.catalogue == version).order_by(MaterialRow.position)
        .dicts().iterator()]
    fields = [
        model.Field(matter_code=matter_codes[r["matter"]], code=r["code"], name=r["name"], type=r["type"],
                    required=r["required"], options=_split(r["options"]), prefill=r["prefill"])
        for r in FieldRow.select().where(FieldRow.catalogue == version).order_by(FieldRow.position)
        .dicts().iterator()]
    bundle_codes, bundles = {}, []
    for r in (BundleRow.select().where(BundleRow.catalogue == version).order_by(BundleRow.position)
              .dicts().iterator()):
        bundle_codes[r["id"]] = r["code"]
        bundles.append(model.Bundle(code=r["code"], name=r["name"], lead_department=r["lead_department"],
                                    audience=r["audience"], description=r["description"], enabled=r["enabled"]))
    in_version = list(bundle_codes)
    members = [
        model.BundleMember(bundle_code=bundle_codes[r["bundle"]], matter_code=matter_codes[r["matter"]],
                           required=r["required"], condition=r["condition"], position=r["position"])
        for r in BundleMemberRow.select().where(BundleMemberRow.bundle.in_(in_version))
        .order_by(BundleMemberRow.id).dicts().iterator()]
    questions = [
        model.Question(bundle_code=bundle_codes[r["bundle"]], code=r["code"], text=r["text"],
                       options=_split(r["options"]), condition=r["condition"], position=r["position"])
        for r in QuestionRow.select().where(QuestionRow.bundle.in_(in_version)).order_by(QuestionRow.id)
        .dicts().iterator()]
    calendar = [model.CalendarDay(day=r.day, kind=r.kind, name=r.name)
                for r in CalendarDayRow.select().where(CalendarDayRow.catalogue == version)
                .order_by(CalendarDayRow.id)]
    info = model.CatalogueInfo(version=version.version, issuer=version.issuer, published_on=version.published_on,
                               region_code=version.region_code)
    return model.Catalogue(info, matters, materials, fields, bundles, members, questions, calendar)


def export_workbook(target):
    """Write the catalogue in force to ``target`` (a path or a binary file); returns its version string."""
    current = CatalogueVersion.in_force()
    if current is None:
        raise CatalogueError("还没有导入任何事项目录，无法导出")
    from .xlsx_write import write_workbook

    write_workbook(load_catalogue(current), target)
    return current.version


def versions():
    """Every imported version, newest first (the first is in force)."""
    return list(CatalogueVersion.select().order_by(CatalogueVersion.id.desc()))


def work_calendar():
    """The working-day calendar with the 节假日 overrides of the catalogue in force.

    A version's rows never change, so its calendar is built once per process,
    keyed by the workbook's SHA-256 (the same file gives the same rows in any
    database).
    """
    current = CatalogueVersion.in_force()
    if current is None:
        return WorkCalendar()
    return _calendar_of(current.sha256, current.id)


@functools.lru_cache(maxsize=4)
def _calendar_of(sha256, version_id):
    return WorkCalendar.from_days(CalendarDayRow.select().where(CalendarDayRow.catalogue == version_id))
