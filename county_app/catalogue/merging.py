"""Merging the materials and form fields of several matters: 一套材料, 一表申请.

One entry per material code and per field code, keeping the strictest
requirement: a paper that one matter needs is needed. The bundle pages, the
one-time notice and the intake all merge through here.

A material may carry ``conditions``: it is asked only when one of them holds
(材料 适用条件). Merged, a paper that one matter asks outright is asked
outright; otherwise the entry keeps every matter's condition, any of which
asks for it.
"""
from dataclasses import dataclass, field

from .vocabulary import prefill_field, prefill_parts

# Merging keeps the strictest requirement: a paper one matter needs is needed.
_NECESSITY_ORDER = ("required", "deferrable", "optional")
_MEDIUM_ORDER = ("paper", "electronic", "either")
# 免提交方式 that make a paper unnecessary at the window (effects report, interfaces.md).
FETCHED_WAIVERS = ("e_licence", "data_sharing")


@dataclass
class Material:
    """A material of one matter, or one entry of a merged list (then ``matters`` has several codes)."""
    code: str
    name: str
    form: str
    copies: int
    medium: str
    source: str
    necessity: str
    waiver: str | None
    instructions: str
    matters: list = field(default_factory=list)
    conditions: tuple = ()  # condition texts, any of which asks for it; () = asked outright
    condition_text: str = ""  # the same in words (query.describe_material_condition), "" = asked outright


@dataclass
class FormField:
    code: str
    name: str
    type: str
    required: bool
    options: list
    prefill: str | None
    matters: list = field(default_factory=list)


def merge_materials(materials):
    """One ``Material`` per material code (一套材料), in first-seen order.

    Copies are the largest asked for; necessity and medium the strictest; an
    original and a copy are both asked if any matter wants each; a 免提交方式
    holds only when every matter allows the same one.
    """
    merged, forms, waivers = {}, {}, {}
    for item in materials:
        entry = merged.get(item.code)
        if entry is None:
            merged[item.code] = entry = Material(**{**vars(item), "matters": []})
            forms[item.code], waivers[item.code] = set(), set()
        else:
            if not (entry.conditions and item.conditions):
                entry.conditions = ()
            else:
                entry.conditions = tuple(dict.fromkeys(entry.conditions + item.conditions))
            entry.copies = max(entry.copies, item.copies)
            entry.necessity = min(entry.necessity, item.necessity, key=_rank_in(_NECESSITY_ORDER))
            entry.medium = min(entry.medium, item.medium, key=_rank_in(_MEDIUM_ORDER))
            if item.instructions and item.instructions not in entry.instructions:
                entry.instructions = "\n".join(filter(None, (entry.instructions, item.instructions)))
        forms[item.code].add(item.form)
        waivers[item.code].add(item.waiver)
        entry.matters.extend(code for code in item.matters if code not in entry.matters)
    for code, entry in merged.items():
        entry.form = _merged_form(forms[code])
        entry.waiver = next(iter(waivers[code])) if len(waivers[code]) == 1 else None
    return list(merged.values())


def merge_fields(fields):
    """One ``FormField`` per field code (一表申请): required if any matter requires it, options united."""
    merged = {}
    for item in fields:
        entry = merged.get(item.code)
        if entry is None:
            merged[item.code] = entry = FormField(**{**vars(item), "options": list(item.options), "matters": []})
        else:
            entry.required = entry.required or item.required
            entry.prefill = entry.prefill or item.prefill
            entry.options.extend(value for value in item.options if value not in entry.options)
        entry.matters.extend(code for code in item.matters if code not in entry.matters)
    return list(merged.values())


def filled_in(fields):
    """The merged ``fields`` that fill themselves: a 预填来源 naming the applicant, the agent, or a
    field that is on the same merged form (one naming a field of a matter not chosen stays empty).
    A source under a condition (申请人.姓名（当 Q5=母亲）) counts only once the case has settled it
    (``intake.facts.settled_fields``): it fills for some applicants only."""
    codes = {f.code for f in fields}
    return [f for f in fields if f.prefill and not prefill_parts(f.prefill)[1]
            and prefill_field(f.prefill) in (None, *codes)]


def _merged_form(forms):
    original = bool(forms & {"original", "original_and_copy"})
    copy = bool(forms & {"copy", "original_and_copy"})
    if original and copy:
        return "original_and_copy"
    return "original" if original else "copy" if copy else next(iter(forms))


def _rank_in(order):
    return lambda value: order.index(value) if value in order else len(order)


def merge(materials, fields):
    """Merge both lists; gives ``(merged materials, merged fields, counts)``.

    ``counts`` says what merging saved: materials and fields before and after,
    the merged materials fetched instead of handed in (电子证照 / 数据共享) and
    the merged fields filled in from the applicant, the agent or another field (``filled_in``).
    """
    merged_materials, merged_fields = merge_materials(materials), merge_fields(fields)
    counts = dict(
        materials_before=len(materials),
        materials_after=len(merged_materials),
        materials_fetched=sum(1 for m in merged_materials if m.waiver in FETCHED_WAIVERS),
        fields_before=len(fields),
        fields_after=len(merged_fields),
        fields_prefilled=len(filled_in(merged_fields)),
    )
    return merged_materials, merged_fields, counts
