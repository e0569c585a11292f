"""The 改革成效 report: what bundling saves (减材料、减表单、减时限、减跑动) and what actually happened.

Counted exactly as interfaces.md "How the effects report counts" says, by
``catalogue.query.bundle_savings`` — the same function as the bundle page.
Beside each bundle, ``actual`` gives the cases of a chosen period
(``cases.py``). The caller holds the database connection; no Flask here.
"""
from dataclasses import dataclass

from ..catalogue.query import bundle_savings
from ..models import BundleRow, CatalogueVersion
from .cases import Figures, figures, period  # noqa: F401  (period: for the adapters)

EFFECT_KEYS = ("bundle", "name", "materials_before", "materials_after", "fields_before", "fields_after",
               "statutory_days_serial", "promised_days_parallel", "visits_before", "visits_after")


def effects(version=None, within=None):
    """Per bundle of ``version`` (default: the catalogue in force), in catalogue order, a dict of EFFECT_KEYS.

    ``[]`` when no catalogue is loaded. Every member matter counts, 停用 ones
    too: the spec says "all member matters", and a report must not change
    because one matter is paused for a while. With ``within`` (``(start, end)``
    from ``period()``), each row also has ``actual``: ``Figures.as_json`` of its cases.
    """
    version = version or CatalogueVersion.in_force()
    if version is None:
        return []
    bundles = BundleRow.select().where(BundleRow.catalogue == version).order_by(BundleRow.position, BundleRow.id)
    rows = [bundle_effect(bundle) for bundle in bundles]
    if within:
        _add_actual(rows, figures(*within), within)
    return rows


def _add_actual(rows, found, within):
    for row in rows:
        row["actual"] = found.get(row["bundle"], Figures()).as_json(*within)


@dataclass
class PeriodReport:
    rows: list  # effects() rows, each with ``actual``
    total: dict  # Figures.as_json of every listed bundle's cases
    other: dict | None  # of the cases outside them (single matters, bundles no longer in the catalogue); None: none


def period_report(start, end):
    """The effects page: per bundle in force, its savings and its cases registered from ``start`` to ``end``."""
    version = CatalogueVersion.in_force()
    found = figures(start, end)
    rows = effects(version) if version else []
    _add_actual(rows, found, (start, end))
    listed = {row["bundle"] for row in rows}
    total = sum((f for code, f in found.items() if code in listed), Figures())
    other = sum((f for code, f in found.items() if code not in listed), Figures())
    return PeriodReport(rows, total.as_json(start, end), other.as_json(start, end) if other.cases else None)


def bundle_effect(bundle):
    """The effects of one bundle (a BundleRow), a dict of EFFECT_KEYS: ``bundle_savings``, as on the bundle page."""
    savings = vars(bundle_savings(bundle))
    return {"bundle": bundle.code, "name": bundle.name, **{key: savings[key] for key in EFFECT_KEYS[2:]}}
