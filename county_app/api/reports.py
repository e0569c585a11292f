"""``GET /api/v1/reports/effects``: what bundling saves, and what the cases of a period show, per bundle."""
from flask import Blueprint, jsonify, request

from .. import reports
from ..guard import requires

bp = Blueprint("reports", __name__)


@bp.get("/reports/effects")
@requires("reports.view")
def effects():
    """``[{"bundle", "name", "materials_before", …, "actual": {…}}]``; ``?from=&to=`` (ISO dates) choose the period.

    Without them the period is 1 January to today; a bad date or a period
    longer than a year is a 422 naming ``from`` or ``to``.
    """
    within = reports.period(request.args.get("from"), request.args.get("to"))
    return jsonify(reports.effects(within=within))
