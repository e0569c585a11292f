"""County officers' pages: catalogue versions, import (upload → errors or preview → confirm), export."""
import io
import re
import tempfile
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, \
    send_file, url_for

from .. import settings
from ..catalogue import store
from ..catalogue.uploads import UPLOAD_DIR, drop_stale_uploads
from ..guard import current_user, requires

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")


def _staging_dir():
    path = Path(current_app.config["DATA_DIR"]) / UPLOAD_DIR
    path.mkdir(exist_ok=True)
    return path


def _staged(sha):
    if not re.fullmatch(r"[0-9a-f]{64}", sha or ""):
        abort(400)
    return _staging_dir() / f"catalogue-{sha}.xlsx"


@bp.get("/")
@requires("catalogue.browse")
def versions():
    return render_template("catalogue/versions.html", versions=store.versions())


@bp.post("/upload")
@requires("catalogue.import")
def upload():
    """Check an uploaded workbook; show its errors, or a preview of the differences to confirm."""
    upload = request.files.get("workbook")
    if upload is None or not upload.filename:
        flash("请选择要导入的目录文件（.xlsx）", "error")
        return redirect(url_for(".versions"))
    cap = int(settings.get("catalogue.max_upload_mb")) * 1024 * 1024
    drop_stale_uploads(_staging_dir())
    with tempfile.NamedTemporaryFile(dir=_staging_dir(), suffix=".xlsx", delete=False) as handle:
        temp = Path(handle.name)
        size = 0
        for chunk in iter(lambda: upload.stream.read(1 << 20), b""):
            size += len(chunk)
            if size > cap:
                break
            handle.write(chunk)
    if size > cap:
        temp.unlink()
        flash(f"文件超过 {cap // (1024 * 1024)} MB，未导入", "error")
        return redirect(url_for(".versions"))
    outcome = store.import_workbook(temp, actor=current_user().username, dry_run=True, filename=upload.filename)
    if outcome.status != "checked":
        temp.unlink()
        return render_template("catalogue/checked.html", outcome=outcome, filename=upload.filename)
    temp.replace(_staged(outcome.sha256))
    return render_template("catalogue/checked.html", outcome=outcome, filename=upload.filename)


@bp.post("/confirm")
@requires("catalogue.import")
def confirm():
    """Apply a previously checked upload, identified by its SHA-256."""
    staged = _staged(request.form.get("sha256"))
    if not staged.exists():
        flash("待导入的文件已失效，请重新上传", "error")
        return redirect(url_for(".versions"))
    outcome = store.import_workbook(staged, actor=current_user().username,
                                    filename=request.form.get("filename") or staged.name)
    staged.unlink(missing_ok=True)
    if outcome.status == "applied":
        flash(f"已发布目录版本 {outcome.version}", "ok")
    elif outcome.status == "unchanged":
        flash(f"目录版本 {outcome.version} 已在使用，未做更改", "ok")
    else:
        return render_template("catalogue/checked.html", outcome=outcome, filename=staged.name)
    return redirect(url_for(".versions"))


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
