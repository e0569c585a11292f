"""County officers' pages: catalogue versions, import (upload → progress → errors or preview → confirm), export.

The check and the import of a workbook run as background jobs in a child
process (catalogue/checks.py), so that a large or hostile file never holds up
the window's other pages; the job's page shows its progress and then its answer.
"""
import io
import threading
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, \
    send_file, url_for

from .. import settings
from ..catalogue import store
from ..catalogue.checks import Busy, CheckRunner
from ..catalogue.uploads import UPLOAD_DIR, UploadTooLarge, drop_stale_uploads, stage_upload
from ..guard import current_user, requires

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")

_RUNNER = "catalogue_checks"
_runner_lock = threading.Lock()


def checks_runner(app=None) -> CheckRunner:
    """The app's job runner, made at its first use (its thread starts only with a first job)."""
    app = app or current_app._get_current_object()
    with _runner_lock:
        runner = getattr(app, "extensions", {}).get(_RUNNER)  # the tests also serve plain WSGI functions
        if runner is None:
            runner = app.extensions[_RUNNER] = CheckRunner(app.config["DATA_DIR"])
        return runner


def stop_checks(app) -> None:
    """Stop the app's job runner, if it ever started (``serve`` on exit, and tests)."""
    runner = getattr(app, "extensions", {}).get(_RUNNER)  # the tests also serve plain WSGI functions
    if runner is not None:
        runner.shutdown()


def _staging_dir():
    path = Path(current_app.config["DATA_DIR"]) / UPLOAD_DIR
    path.mkdir(exist_ok=True)
    return path


_GONE = "这次检查的记录已失效（例如程序重新启动过），请重新上传"
_OLDER_UNCONFIRMED = "这是一个旧文件，未做任何更改：如确要用它替换正在使用的目录，请先勾选“确认发布这个旧文件”，再点确认发布"


def _own_job(job_id):
    """The job ``job_id`` if it is the current user's, else None (ids are not guessable)."""
    job = checks_runner().get(job_id)
    if job is None or job.owner != current_user().username:
        return None
    return job


@bp.get("/")
@requires("catalogue.browse")
def versions():
    return render_template("catalogue/versions.html", versions=store.versions())


@bp.post("/upload")
@requires("catalogue.import")
def upload():
    """Save an uploaded workbook and start checking it; the job's page follows the check."""
    upload = request.files.get("workbook")
    if upload is None or not upload.filename:
        flash("请选择要导入的目录文件（.xlsx）", "error")
        return redirect(url_for(".versions"))
    cap = int(settings.get("catalogue.max_upload_mb")) * 1024 * 1024
    drop_stale_uploads(_staging_dir())
    try:
        path = stage_upload(upload.stream, _staging_dir(), cap)
    except UploadTooLarge as exc:
        flash(str(exc), "error")
        return redirect(url_for(".versions"))
    try:
        job = checks_runner().submit("check", path, upload.filename, current_user().username)
    except Busy as exc:
        path.unlink(missing_ok=True)
        flash(str(exc), "error")
        return redirect(url_for(".versions"))
    return redirect(url_for(".job", job_id=job.id), code=303)


@bp.get("/jobs/<job_id>")
@requires("catalogue.import")
def job(job_id):
    """A job's progress while it runs (the page polls its status), then its answer."""
    job = _own_job(job_id)
    if job is None:
        flash(_GONE, "error")
        return redirect(url_for(".versions"))
    if job.state != "done":
        return render_template("catalogue/progress.html", job=job, timeout=checks_runner().timeout,
                               status=job.status(checks_runner().position(job)))
    return render_template("catalogue/checked.html", job=job, report=job.report, filename=job.filename)


@bp.get("/jobs/<job_id>/status")
@requires("catalogue.import")
def job_status(job_id):
    """The job's state as a small JSON object, for the progress page to poll."""
    job = _own_job(job_id)
    if job is None:
        return jsonify({"state": "gone", "message": _GONE}), 404
    return jsonify(job.status(checks_runner().position(job)))


@bp.post("/confirm")
@requires("catalogue.import")
def confirm():
    """Import a checked upload, named by its check job: a new job, followed on its own page."""
    job = _own_job(request.form.get("job", ""))
    if job is None:
        flash(_GONE, "error")
        return redirect(url_for(".versions"))
    if job.kind != "check" or job.state != "done" or job.report.get("status") != "checked":
        abort(400)
    if job.followed_by is None and not job.path.exists():
        flash("待导入的文件已失效，请重新上传", "error")
        return redirect(url_for(".versions"))
    older = bool(job.report.get("older"))
    confirmed = request.form.get("allow_older") == "1"
    if older and not confirmed and job.followed_by is None:
        # Checked here, not only by the browser's "required": the tick is the officer's word.
        return render_template("catalogue/checked.html", job=job, report=job.report, filename=job.filename,
                               refusal=_OLDER_UNCONFIRMED), 422
    try:
        # A second click follows the first import; the tick counts only for a file the check found older.
        follower = checks_runner().follow(job, allow_older=older and confirmed)
    except Busy as exc:
        flash(str(exc), "error")
        return redirect(url_for(".job", job_id=job.id))
    return redirect(url_for(".job", job_id=follower), code=303)


@bp.get("/export")
@requires("catalogue.export")
def export():
    """Download the catalogue in force as a workbook."""
    buffer = io.BytesIO()
    try:
        version = store.export_workbook(buffer)
    except store.CatalogueError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".versions"))
    buffer.seek(0)
    return send_file(buffer, as_attachment=True, download_name=f"事项目录-{version}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
