"""同步: the sync page of a township or of the county hub, 立即同步, and resolving sync conflicts.

An adapter over sync/: ``status`` gathers what the page shows, ``button``
runs an exchange in the background (the page refreshes itself while it
runs, and a small JSON status lets a script show the counts as they grow),
``conflicts`` resolves. A clerk sees a township's page; an administrator
also starts a run, and resolves conflicts here or on the case page. The
sync settings are on the settings page (section 同步), like every setting.
"""
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for

from .. import audit, guard
from ..db import db
from ..hub import reconciliation
from ..intake.errors import IntakeError
from ..sync import conflicts, nodes, status
from ..sync.button import BackgroundSync

bp = Blueprint("sync", __name__)


def _button():
    runner = current_app.extensions.get("sync-button")
    if runner is None:  # made on first use, never in create_app; its thread starts only with a run
        runner = current_app.extensions.setdefault("sync-button", BackgroundSync(current_app.config["DATA_DIR"]))
    return runner


@bp.route("/sync")
@guard.requires("sync.view")
def index():
    if nodes.is_hub():
        return render_template("sync/hub.html", hub=status.hub(), sides=conflicts.SIDES)
    state = _button().state
    town = status.township(also_named=[state.actor] if state else [])
    return render_template("sync/township.html", town=town, state=state, sides=conflicts.SIDES)


@bp.route("/sync/reconciliation")
@guard.requires("sync.manage")
def reconciled():
    """At the hub: every township's last reconciliation, and one township's days (``?node=CODE``)."""
    if not nodes.is_hub():
        abort(404)
    townships = reconciliation.overview()
    chosen = next((t for t in townships if t.code == request.args.get("node", "")), None)
    if chosen is None and len(townships) == 1:
        chosen = townships[0]
    return render_template("sync/reconciliation.html", townships=townships, chosen=chosen,
                           days=reconciliation.days_of(chosen.code) if chosen else [])


@bp.route("/sync/run", methods=["POST"])
@guard.requires("sync.manage")
def run():
    if nodes.is_hub():
        flash("本机是县级汇聚中心：同步由各乡镇发起", "error")
    elif _button().start(guard.current_user().username):
        with db.atomic():  # the press is on the record; the run itself is in the sync records
            audit.record(guard.current_user().username, "sync.run", "sync")
        flash("同步已开始；本页会自动刷新，显示进度和结果。", "ok")
    else:
        flash("已有一次同步正在进行，请等它完成。", "error")
    return redirect(url_for("sync.index"))


@bp.route("/sync/progress")
@guard.requires("sync.view")
def progress():
    """The button's latest run as JSON: ``{"running", "stage", "pushed", "to_push", "pulled", …}``, or ``{}``."""
    state = _button().state
    return jsonify(state.as_json() if state else {})


@bp.route("/sync/conflicts/<int:conflict_id>/resolve", methods=["POST"])
@guard.requires("sync.manage")
def resolve(conflict_id):
    back = request.form.get("back", "")
    try:
        conflict = conflicts.resolve(conflict_id, request.form.get("side", ""), actor=guard.current_user())
    except IntakeError as exc:
        flash(exc.message, "error")
        return redirect(url_for("sync.index")), 303
    flash(f"已处理办件 {conflict.case_no} 的同步冲突：采用{conflicts.SIDES[request.form['side']]}；"
          + ("下次同步时告知县级汇聚中心。" if not nodes.is_hub() else "下次该乡镇同步时告知它。"), "ok")
    if back == "case":
        return redirect(url_for("cases.show", case_no=conflict.case_no) + "#sync-conflicts"), 303
    return redirect(url_for("sync.index")), 303
