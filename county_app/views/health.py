"""运行状况: the administrator's page of the node's health (operations/health.py gathers and decides)."""
from flask import Blueprint, current_app, render_template

from .. import guard
from ..operations import health

bp = Blueprint("health", __name__)


@bp.route("/admin/health")
@guard.requires("health.view")
def index():
    return render_template("health/index.html", health=health.gather(current_app.config["DATA_DIR"]))
