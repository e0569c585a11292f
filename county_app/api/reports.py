"""``GET /api/v1/reports/effects``: what bundling saves, per bundle of the catalogue in force."""
from flask import Blueprint, jsonify

from .. import reports
from ..guard import requires

bp = Blueprint("reports", __name__)


@bp.get("/reports/effects")
@requires("reports.view")
def effects():
    """``[{"bundle", "name", "materials_before", "materials_after", …}]`` as reports.effects gives it."""
    return jsonify(reports.effects())
