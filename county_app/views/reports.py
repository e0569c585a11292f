"""Report pages: what bundling saves, per bundle of the catalogue in force (改革成效)."""
from flask import Blueprint, render_template

from .. import reports
from ..catalogue import query
from ..guard import requires

bp = Blueprint("reports", __name__, url_prefix="/reports")


def reduction(before, after):
    """How much smaller ``after`` is than ``before``, in whole percent; None when ``before`` is 0."""
    if not before:
        return None
    return round((before - after) * 100 / before)


@bp.get("/effects")
@requires("reports.view")
def effects():
    """减材料、减表单、减时限、减跑动 per bundle, before and after bundling, with the reductions."""
    rows = reports.effects()
    totals = {key: sum(row[key] for row in rows) for key in reports.EFFECT_KEYS[2:]}
    return render_template("reports/effects.html", version=query.current_version(), rows=rows, totals=totals,
                           reduction=reduction)
