"""The ``backup`` and ``restore`` commands, and the restore ``serve`` applies before serving.

A thin adapter over operations/: cli.py adds the commands to its group and
calls ``apply_staged_restore`` at the start of ``serve``.
"""
import logging
from pathlib import Path

import click

from .cli_support import cli_actor, with_data_dir
from .db import bind, db

log = logging.getLogger(__name__)


@click.command("backup")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--verify", is_flag=True, help="备份后再完整校验一次（重读校验和并做 integrity_check，约为复制文件的 6–14 倍时间）")
@with_data_dir
@click.pass_context
def backup_command(ctx, file, verify):
    """备份数据库和扫描件到一个文件（校验和已读回核对）；不写 FILE 时存入备份文件夹，并按保留规则（14 天、12 个月）清理旧备份。"""
    from .operations.backup import BackupError
    from .operations.runner import backup_now, verify_and_record

    data_dir = ctx.obj["data_dir"]
    if file and Path(file).exists():
        raise click.ClickException(f"文件 {file} 已存在，请换一个文件名（不会覆盖已有文件）")
    bind(data_dir)
    try:
        result = backup_now(data_dir, actor=cli_actor(), target=file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已备份到 {result.path}（{result.size / (1024 * 1024):.1f} MB，数据库版本 {result.schema}，"
               f"扫描件 {result.scans} 个，校验和已读回核对）")
    for kind, names in (("找不到", result.missing_scans), ("内容与其校验和不符（已损坏）", result.damaged_scans)):
        if names:
            click.echo(f"警告：{len(names)} 个扫描件{kind}，未能备份，例如 {names[0]}", err=True)
    if verify:
        verdict = verify_and_record(result.path, actor=cli_actor())
        if not verdict.ok:
            raise click.ClickException(f"备份文件已写好，但校验失败：{verdict.problem}")
        click.echo("已校验：校验和与完整性检查（integrity_check）均通过")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@with_data_dir
@click.pass_context
def restore_command(ctx, file):
    """从备份文件恢复数据库和扫描件（先全部校验；被替换的数据库另行保留；服务运行时不能恢复）。"""
    from .operations.restore import RestoreError, restore

    data_dir = ctx.obj["data_dir"]
    try:
        result = restore(data_dir, file)
    except RestoreError as exc:
        raise click.ClickException(str(exc)) from None
    _report_restore(result)
    _audit_restore(data_dir, "backup.restore", Path(file).name, actor=cli_actor(), result=result)


def apply_staged_restore(data_dir, lock, actor):
    """A restore chosen on the admin page, applied before serving (operations/staged.py); ``lock`` is held."""
    from .operations import staged
    from .operations.archive import ArchiveError
    from .operations.restore import RestoreError, restore

    try:
        chosen = staged.take(data_dir)
        if chosen is None:
            return
        click.echo(f"正在恢复管理员在网页上选定的备份 {chosen.file} ……")
        result = restore(data_dir, chosen.file, lock=lock)
    except (ArchiveError, RestoreError) as exc:
        click.echo(f"恢复失败：{exc}", err=True)
        _audit_restore(data_dir, "backup.restore_failed", "", actor=actor, error=str(exc))
        return
    _report_restore(result)
    _audit_restore(data_dir, "backup.restore", chosen.file.name, actor=chosen.actor, result=result)


def _report_restore(result):
    click.echo(f"已恢复备份（数据库版本 {result.schema}，补回扫描件 {result.scans_added} 个）")
    if result.applied:
        click.echo("并已升级到本程序的数据库版本：" + ", ".join(result.applied))
    if result.replaced_backup:
        click.echo(f"被替换的数据库及其扫描件已另存为备份：{result.replaced_backup}")
    if result.replaced:
        click.echo(f"被替换的数据库文件已保留为：{result.replaced}")


def _audit_restore(data_dir, action, name, *, actor, result=None, **detail):
    from . import audit

    if result is not None:
        detail.update(schema=result.schema, applied=result.applied, scans_added=result.scans_added,
                      replaced_file=str(result.replaced or ""), replaced_backup=str(result.replaced_backup or ""))
    bind(data_dir)
    try:
        with db.connection_context(), db.atomic():
            audit.record(actor, action, "backup", name, **detail)
    except Exception:  # e.g. a database the program cannot write to: the outcome is on the console and in the log
        log.exception("could not audit %s", action)
