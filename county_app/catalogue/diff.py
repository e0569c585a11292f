"""The difference between two catalogues, as a county officer reads it before publishing."""
from dataclasses import asdict, dataclass, field

from .model import Catalogue


@dataclass
class Section:
    title: str  # e.g. 事项
    added: list = field(default_factory=list)  # labels
    changed: list = field(default_factory=list)  # (label, [changed attribute titles])
    removed: list = field(default_factory=list)

    @property
    def empty(self):
        return not (self.added or self.changed or self.removed)


@dataclass
class CatalogueDiff:
    sections: list

    @property
    def empty(self):
        return all(section.empty for section in self.sections)

    def lines(self):
        """Human-readable lines in Chinese, one per change, grouped by section."""
        if self.empty:
            yield "与正在使用的目录没有差异"
            return
        for section in self.sections:
            if section.empty:
                continue
            yield (f"{section.title}：新增 {len(section.added)}，修改 {len(section.changed)}，"
                   f"删除 {len(section.removed)}")
            for label in section.added:
                yield f"  + {label}"
            for label, attributes in section.changed:
                yield f"  ~ {label}（{'、'.join(attributes)}）"
            for label in section.removed:
                yield f"  - {label}"


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
    old = {key(row): row for row in old_rows}
    new = {key(row): row for row in new_rows}
    section = Section(title)
    for k, row in new.items():
        if k not in old:
            section.added.append(label(row))
            continue
        before, after = asdict(old[k]), asdict(row)
        changed = [ATTRIBUTE_TITLES.get(name, name) for name in after
                   if name not in ignore and before[name] != after[name]]
        if changed:
            section.changed.append((label(row), changed))
    section.removed = [label(row) for k, row in old.items() if k not in new]
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
