"""The administrator's 备份与恢复 page: the backups of the backup folder, 立即备份, and a restore.

An adapter over operations/: a backup runs in a background thread
(runner.BackgroundBackup: one at a time, its progress shown on the page,
which refreshes itself while it runs). A restore cannot replace the database
this server is serving from: the page checks the chosen (or uploaded)
backup's structure, asks for confirmation, and records it to be applied when
the program next starts (operations/staged.py), which checks it fully first;
the page then says to restart it.
Everything that changes something is audited.
"""
import os
from datetime import datetime
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from .. import audit, guard, limits
from ..db import db
from ..operations import staged, verification
from ..operations.archive import ArchiveError, open_checked
from ..operations.backup import DEFAULT_FOLDER, NAME, describe, list_backups, require_sqlite, BackupError
from ..operations.runner import BackgroundBackup, configured_folder

bp = Blueprint("backups", __name__)


def _runner():
    runner = current_app.extensions.get("backups")
    if runner is None:  # made on first use, never in create_app; its thread starts only with a backup
        runner = current_app.extensions.setdefault("backups", BackgroundBackup(current_app.config["DATA_DIR"]))
    return runner


def _data_dir():
    return Path(current_app.config["DATA_DIR"])


def _folder():
    return configured_folder(_data_dir())


def _actor():
    return guard.current_user().username


def _record(action, name, **detail):
    with db.atomic():
        audit.record(_actor(), action, "backup", name, **detail)


def _listed(name):
    """The backup ``name`` of the backup folder, or None (also for a name we would never write)."""
    if not NAME.fullmatch(name or ""):
        return None
    path = _folder() / name
    return path if path.is_file() else None


@bp.route("/admin/backups")
@guard.requires("backups.manage")
def index():
    try:
        require_sqlite()
        postgres = ""
    except BackupError as exc:
        postgres = str(exc)
    folder = _folder()
    # The default folder is made by the first backup: before it, nothing is wrong — there is no backup yet.
    not_yet = folder == _data_dir() / DEFAULT_FOLDER and not folder.exists()
    try:
        backups = [] if not_yet else list_backups(folder)
        folder_problem = "" if not_yet or folder.is_dir() else f"备份文件夹 {folder} 目前不存在或无法访问（U 盘是否已插好？）"
    except OSError as exc:
        backups, folder_problem = [], f"无法读取备份文件夹 {folder}（{exc.strerror or exc}）"
    state = _runner().state
    verdicts = verification.verdicts([info.name for info in backups])
    return render_template("backups/index.html", backups=backups, folder=folder, folder_problem=folder_problem,
                           not_yet=not_yet, verdicts=verdicts,
                           state=state, pending=staged.pending(_data_dir()), postgres=postgres,
                           upload_mb=UPLOAD_LIMIT // (1024 * 1024))


@bp.route("/admin/backups/run", methods=["POST"])
@guard.requires("backups.manage")
def run():
    if _runner().start(_actor()):
        flash("备份已开始；本页会自动刷新，显示进度和结果。", "ok")
    else:
        flash("已有一个备份正在进行，请等它完成。", "error")
    return redirect(url_for("backups.index"))


@bp.route("/admin/backups/<name>/restore", methods=["GET", "POST"])
@guard.requires("backups.manage")
def restore(name):
    path = _listed(name)
    if path is None:
        return render_template("error.html", status=404, message=f"备份文件夹中没有备份“{name[:80]}”"), 404
    if request.method == "GET":
        info = describe(path)
        return render_template("backups/confirm.html", info=info), (422 if info.problem else 200)
    try:
        manifest = staged.stage(_data_dir(), path, _actor())
    except ArchiveError as exc:
        flash(f"{exc}", "error")
        return redirect(url_for("backups.index"))
    _record("backup.restore_staged", name, schema=manifest["schema"], created_at=manifest.get("created_at", ""))
    flash(f"已安排恢复备份 {name}：请关闭本程序（服务窗口按 Ctrl+C 或关闭窗口）并重新启动，启动时先恢复此备份；"
          "被替换的数据库会另行保留。", "ok")
    return redirect(url_for("backups.index"))


@bp.route("/admin/backups/pending/cancel", methods=["POST"])
@guard.requires("backups.manage")
def cancel():
    chosen = staged.pending(_data_dir())
    if chosen is not None:
        staged.cancel(_data_dir())
        _record("backup.restore_cancelled", chosen.file.name)
        flash("已取消安排的恢复。", "ok")
    return redirect(url_for("backups.index"))


UPLOAD_LIMIT = limits.SERVER_BODY_LIMIT - limits.MULTIPART_ROOM  # larger backups are copied into the folder


@bp.route("/admin/backups/upload", methods=["POST"])
@guard.requires("backups.manage")
def upload():
    """Keep an uploaded backup file in the backup folder (after its structural check) and confirm its restore."""
    sent = request.files.get("backup")
    if sent is None or not sent.filename:
        flash("请选择要上传的备份文件（字段：备份文件）", "error")
        return redirect(url_for("backups.index"))
    folder = _folder()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"county-app-{stamp}-uploaded.zip"
    partial = folder / f".{name}.part"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            sent.save(out)
        with open_checked(partial):
            pass
        os.replace(partial, folder / name)
    except ArchiveError as exc:
        partial.unlink(missing_ok=True)
        flash(f"上传的文件不能用于恢复：{exc}", "error")
        return redirect(url_for("backups.index"))
    except OSError as exc:
        partial.unlink(missing_ok=True)
        flash(f"无法保存上传的文件到备份文件夹 {folder}（{exc.strerror or exc}）", "error")
        return redirect(url_for("backups.index"))
    _record("backup.upload", name, filename=Path(sent.filename).name[:200])
    return redirect(url_for("backups.restore", name=name))
