"""The difference between two catalogues, as a county officer reads it before publishing."""
import itertools
from dataclasses import dataclass, field, fields

from .model import Catalogue

# Changes kept by name per section; the rest are counted. A preview lists far fewer (checks.DIFF_LINES).
KEEP = 1000


@dataclass
class Section:
    title: str  # e.g. 事项
    added: list = field(default_factory=list)  # labels, the first KEEP
    changed: list = field(default_factory=list)  # (label, [changed attribute titles]), the first KEEP
    removed: list = field(default_factory=list)
    counts: list = field(default_factory=lambda: [0, 0, 0])  # added, changed, removed in all

    @property
    def empty(self):
        return not any(self.counts)

    def note(self, kind: int, entry) -> None:
        """Count a change (0 added, 1 changed, 2 removed) and keep it while there are few; ``entry`` makes it."""
        self.counts[kind] += 1
        kept = (self.added, self.changed, self.removed)[kind]
        if len(kept) < KEEP:
            kept.append(entry())


@dataclass
class CatalogueDiff:
    sections: list

    @property
    def empty(self):
        return all(section.empty for section in self.sections)

    def lines(self, limit: int | None = None):
        """Human-readable lines in Chinese, one per change, grouped by section.

        At most ``limit`` (and never more than KEEP) changes are listed per section;
        the rest are counted. A page listing 100,000 new rows helps nobody and costs megabytes.
        """
        if self.empty:
            yield "与正在使用的目录没有差异"
            return
        limit = KEEP if limit is None else min(limit, KEEP)
        for section in self.sections:
            if section.empty:
                continue
            added, changed, removed = section.counts
            yield f"{section.title}：新增 {added}，修改 {changed}，删除 {removed}"
            changes = itertools.chain(
                (f"  + {label}" for label in section.added),
                (f"  ~ {label}（{'、'.join(attributes)}）" for label, attributes in section.changed),
                (f"  - {label}" for label in section.removed))
            listed = list(itertools.islice(changes, limit))
            yield from listed
            if added + changed + removed > len(listed):
                yield f"  ……另有 {added + changed + removed - len(listed)} 处{section.title}的差异未列出"


# Titles of compared attributes, in the workbook's own words.
ATTRIBUTE_TITLES = {
    "name": "名称", "kind": "事项类型", "department": "实施部门", "handling": "办件类型",
    "statutory_days": "法定办结时限", "promised_days": "承诺办结时限", "visits": "到现场次数",
    "fee": "收费标准", "result_name": "办理结果", "conditions": "受理条件", "legal_basis": "设定依据",
    "enabled": "状态", "form": "材料类型", "copies": "份数", "medium": "材料形式", "source": "来源渠道",
    "necessity": "必要性", "waiver": "免提交方式", "instructions": "填报须知", "type": "字段类型",
    "required": "是否必填/必选", "options": "可选值", "prefill": "预填来源", "lead_department": "牵头部门",
    "audience": "服务对象", "description": "说明", "condition": "条件", "position": "顺序", "text": "问题",
    "kind_of_day": "类型",
}


def _compare(title, old_rows, new_rows, key, label, ignore=()):
    # Keys are unique on both sides (the import checked them): what is left of ``old`` was removed.
    old = {key(row): row for row in old_rows}
    section = Section(title)
    names = None
    for row in new_rows:
        before = old.pop(key(row), None)
        if before is None:
            section.note(0, lambda: label(row))
            continue
        if names is None:
            names = [f.name for f in fields(row) if f.name not in ignore]
        changed = [name for name in names if getattr(before, name) != getattr(row, name)]
        if changed:
            section.note(1, lambda: (label(row), [ATTRIBUTE_TITLES.get(name, name) for name in changed]))
    for row in old.values():
        section.note(2, lambda: label(row))
    return section


def diff_catalogues(old: Catalogue | None, new: Catalogue) -> CatalogueDiff:
    """What importing ``new`` over ``old`` (None: nothing loaded yet) adds, changes and removes."""
    old = old or Catalogue(info=new.info)
    names = {m.code: m.name for m in new.matters} | {m.code: m.name for m in old.matters}
    bundle_names = {b.code: b.name for b in new.bundles} | {b.code: b.name for b in old.bundles}
    return CatalogueDiff([
        _compare("事项", old.matters, new.matters, lambda r: r.code, lambda r: f"{r.code} {r.name}"),
        _compare("材料", old.materials, new.materials, lambda r: (r.matter_code, r.code),
                 lambda r: f"{names.get(r.matter_code, r.matter_code)} / {r.code} {r.name}"),
        _compare("表单字段", old.fields, new.fields, lambda r: (r.matter_code, r.code),
                 lambda r: f"{names.get(r.matter_code, r.matter_code)} / {r.code} {r.name}"),
        _compare("一件事", old.bundles, new.bundles, lambda r: r.code, lambda r: f"{r.code} {r.name}"),
        _compare("一件事事项", old.members, new.members, lambda r: (r.bundle_code, r.matter_code),
                 lambda r: f"{bundle_names.get(r.bundle_code, r.bundle_code)} / "
                           f"{names.get(r.matter_code, r.matter_code)}"),
        _compare("情形问题", old.questions, new.questions, lambda r: (r.bundle_code, r.code),
                 lambda r: f"{bundle_names.get(r.bundle_code, r.bundle_code)} / {r.code} {r.text}"),
        _compare("节假日", old.calendar, new.calendar, lambda r: r.day,
                 lambda r: f"{r.day.isoformat()} {r.name}"),
    ])
