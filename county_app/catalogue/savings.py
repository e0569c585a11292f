"""What bundling saves on paper (减材料、减表单、减时限、减跑动), counted one way for every page.

The bundle page, ``GET /api/v1/bundles/{code}`` and the 改革成效 report all
take their figures from ``query.bundle_savings``, which gathers a bundle's
rows and counts them here, as interfaces.md "How the effects report counts"
says: over all member matters, conditions ignored. ``materials_after`` is
what the applicant still hands in: the merged codes less those fetched by
电子证照 or 数据共享; ``fields_after`` the merged fields less the prefilled.
"""
from dataclasses import dataclass

from .merging import FETCHED_WAIVERS, filled_in, merge_fields, merge_materials


@dataclass
class Savings:
    materials_before: int  # (matter, material) rows
    materials_after: int  # merged codes still handed in (less 电子证照 / 数据共享)
    materials_fetched: int  # merged codes waived by 电子证照 / 数据共享
    materials_merged: int  # merged codes: materials_after + materials_fetched
    fields_before: int  # (matter, field) rows
    fields_after: int  # merged codes still typed (less those with a 预填来源)
    fields_prefilled: int
    fields_merged: int
    statutory_days_serial: int  # the 法定办结时限 added up: one matter after another
    promised_days_parallel: int  # the longest 承诺办结时限: handled in parallel
    visits_before: int
    visits_after: int


def count_savings(matters, materials, fields):
    """The ``Savings`` of ``matters`` (MatterRow-like) with their unmerged ``materials`` and ``fields``."""
    # A paper is fetched only when every matter asking for it waives it the same fetched way
    # (merging.merge_materials): one matter still wanting the paper means it is brought.
    merged_materials = merge_materials(materials)
    fetched = sum(1 for m in merged_materials if m.waiver in FETCHED_WAIVERS)
    # A field counts as prefilled when any matter gives it a 预填来源 the merged form can fill it from.
    merged_fields = merge_fields(fields)
    prefilled = len(filled_in(merged_fields))
    return Savings(
        materials_before=len(materials), materials_after=len(merged_materials) - fetched,
        materials_fetched=fetched, materials_merged=len(merged_materials),
        fields_before=len(fields), fields_after=len(merged_fields) - prefilled,
        fields_prefilled=prefilled, fields_merged=len(merged_fields),
        statutory_days_serial=sum(m.statutory_days for m in matters),
        promised_days_parallel=max((m.promised_days for m in matters), default=0),
        visits_before=sum(m.visits for m in matters),
        visits_after=1,
    )
