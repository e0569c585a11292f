"""Reports over the catalogue: what bundling saves (减材料、减表单、减时限、减跑动).

Counted exactly as interfaces.md "How the effects report counts" says: over
all member matters of a bundle, conditions ignored — except that a shared
matter's material whose 适用条件 names another bundle's question is not a
material of this bundle. The caller holds the
database connection; no Flask here.
"""
from .catalogue.merging import FETCHED_WAIVERS, filled_in, merge_fields, merge_materials
from .catalogue.query import materials_and_fields, materials_in_bundle
from .models import BundleMemberRow, BundleRow, CatalogueVersion, MatterRow, QuestionRow

EFFECT_KEYS = ("bundle", "name", "materials_before", "materials_after", "fields_before", "fields_after",
               "statutory_days_serial", "promised_days_parallel", "visits_before", "visits_after")


def effects(version=None):
    """Per bundle of ``version`` (default: the catalogue in force), in catalogue order, a dict of EFFECT_KEYS.

    ``[]`` when no catalogue is loaded. Every member matter counts, 停用 ones
    too: the spec says "all member matters", and a report must not change
    because one matter is paused for a while.
    """
    version = version or CatalogueVersion.in_force()
    if version is None:
        return []
    bundles = BundleRow.select().where(BundleRow.catalogue == version).order_by(BundleRow.position, BundleRow.id)
    return [bundle_effect(bundle) for bundle in bundles]


def bundle_effect(bundle):
    """The effects of one bundle (a BundleRow) as a dict of EFFECT_KEYS."""
    links = (BundleMemberRow.select(BundleMemberRow, MatterRow).join(MatterRow)
             .where(BundleMemberRow.bundle == bundle).order_by(BundleMemberRow.position, BundleMemberRow.id))
    matters = [link.matter for link in links]
    materials, fields = materials_and_fields(matters)
    # A shared matter's paper asked only in another bundle (its 适用条件 names that bundle's question)
    # is never a paper of this one.
    questions = {q.code: [o.strip() for o in q.options.split("|") if o.strip()]
                 for q in QuestionRow.select().where(QuestionRow.bundle == bundle)}
    materials = materials_in_bundle(materials, questions)
    # "Whose 免提交方式 is 电子证照 or 数据共享" is read on the merged material (merging.merge_materials):
    # a paper is left out only when every matter that asks for it waives it the same fetched way,
    # because one matter still wanting the paper means the applicant still brings it.
    merged_materials = merge_materials(materials)
    # A field counts as prefilled when any matter gives it a 预填来源 the merged form can fill it from.
    merged_fields = merge_fields(fields)
    prefilled = {f.code for f in filled_in(merged_fields)}
    return {
        "bundle": bundle.code,
        "name": bundle.name,
        "materials_before": len(materials),
        "materials_after": sum(1 for m in merged_materials if m.waiver not in FETCHED_WAIVERS),
        "fields_before": len(fields),
        "fields_after": sum(1 for f in merged_fields if f.code not in prefilled),
        "statutory_days_serial": sum(m.statutory_days for m in matters),
        "promised_days_parallel": max((m.promised_days for m in matters), default=0),
        "visits_before": sum(m.visits for m in matters),
        "visits_after": 1,
    }
