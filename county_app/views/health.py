"""运行状况: the administrator's page of the node's health (operations/health.py gathers and decides)."""
from flask import Blueprint, current_app, flash, redirect, render_template, url_for

from .. import clock, guard
from ..operations import health

bp = Blueprint("health", __name__)


@bp.route("/admin/health")
@guard.requires("health.view")
def index():
    return render_template("health/index.html", health=health.gather(current_app.config["DATA_DIR"]))


@bp.post("/admin/health/clock")
@guard.requires("settings.manage")
def accept_clock():
    """The administrator's word that records dated ahead of the corrected clock are right (clock.accept)."""
    accepted = clock.accept(guard.current_user().username)
    if accepted is None:
        flash("本机时钟与已有记录一致，无需确认", "ok")
    else:
        flash(f"已确认：{accepted.astimezone():%Y-%m-%d %H:%M} 及以前的记录按原时间保留，可以继续办理业务", "ok")
    return redirect(url_for("health.index"))
