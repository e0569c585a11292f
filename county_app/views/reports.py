"""Report pages: what bundling saves per bundle of the catalogue in force, and what its cases show (改革成效)."""
from flask import Blueprint, render_template, request

from .. import reports
from ..catalogue import query
from ..guard import requires
from ..intake.errors import Invalid

bp = Blueprint("reports", __name__, url_prefix="/reports")


def reduction(before, after):
    """How much smaller ``after`` is than ``before``, in whole percent; None when ``before`` is 0."""
    if not before:
        return None
    return round((before - after) * 100 / before)


@bp.get("/effects")
@requires("reports.view")
def effects():
    """减材料、减表单、减时限、减跑动 per bundle, with the cases of ``?from=&to=`` (default: this year so far)."""
    typed = {"from": request.args.get("from", ""), "to": request.args.get("to", "")}
    problems, status = [], 200
    try:
        start, end = reports.period(typed["from"], typed["to"])
    except Invalid as exc:  # the default period, with the message above the form
        problems, status = exc.details, 400
        start, end = reports.period("", "")
    report = reports.period_report(start, end)
    totals = {key: sum(row[key] for row in report.rows) for key in reports.EFFECT_KEYS[2:]}
    return render_template("reports/effects.html", version=query.current_version(), rows=report.rows,
                           totals=totals, actual_total=report.total, other=report.other, start=start, end=end,
                           typed=typed, problems=problems, reduction=reduction), status
