"""``county-app node …`` (at the hub) and ``county-app sync run`` (at a township): thin adapters over sync/."""
import click

from .cli_support import cli_actor, open_database, with_data_dir
from .models import as_utc
from .sync import client, files, nodes
from .sync.errors import NodeError, SyncBusy, SyncFailed

MB = 1024 * 1024


@click.group("node")
def node_group():
    """县级汇聚中心：登记、停用乡镇节点，生成同步密钥。"""


@node_group.command("add")
@click.argument("code")
@click.option("--name", required=True, help="乡镇（便民服务中心）名称")
@with_data_dir
@click.pass_context
def node_add(ctx, code, name):
    """登记乡镇节点 CODE（其 12 位本中心区划代码），最后一行打印其同步密钥。"""
    data_dir = open_database(ctx)
    secret = _or_fail(lambda: nodes.add_node(data_dir, code, name, actor=cli_actor()))
    click.echo(f"已登记乡镇节点 {code.strip()}（{name.strip()}）。请在该乡镇设置 sync.secret 为下面的密钥（只显示这一次）：")
    click.echo(secret)


@node_group.command("secret")
@click.argument("code")
@with_data_dir
@click.pass_context
def node_secret(ctx, code):
    """为乡镇节点 CODE 生成新密钥（旧密钥立即失效），最后一行打印新密钥。"""
    data_dir = open_database(ctx)
    secret = _or_fail(lambda: nodes.replace_secret(data_dir, code, actor=cli_actor()))
    click.echo(f"乡镇节点 {code.strip()} 的新密钥（旧密钥已失效；请在该乡镇把 sync.secret 改为它，只显示这一次）：")
    click.echo(secret)


@node_group.command("revoke")
@click.argument("code")
@with_data_dir
@click.pass_context
def node_revoke(ctx, code):
    """停用乡镇节点 CODE：此后拒绝它的同步请求（已收到的办件保留）。"""
    open_database(ctx)
    node = _or_fail(lambda: nodes.revoke_node(code, actor=cli_actor()))
    click.echo(f"已停用乡镇节点 {node.code}（{node.name}）；如需恢复，用 node secret {node.code} 生成新密钥")


@node_group.command("list")
@with_data_dir
@click.pass_context
def node_list(ctx):
    """列出已登记的乡镇节点。"""
    open_database(ctx)
    listed = _or_fail(nodes.list_nodes)
    if not listed:
        click.echo("还没有登记乡镇节点（用 node add CODE --name 名称 登记）")
    for node in listed:
        state = f"已停用 {as_utc(node.revoked_at).astimezone():%Y-%m-%d}" if node.revoked_at else "正常"
        contact = f"{as_utc(node.last_contact_at).astimezone():%Y-%m-%d %H:%M}" if node.last_contact_at else "从未同步"
        click.echo(f"{node.code}  {node.name}  {state}  最近联系 {contact}  已收到变更 {node.applied_through} 条")


@click.group("sync")
def sync_group():
    """与县级汇聚中心同步。"""


@sync_group.command("run")
@with_data_dir
@click.pass_context
def sync_run(ctx):
    """立即同步一次：先上传本机的全部变更，再下载汇聚中心的办理结果和新目录。"""
    data_dir = open_database(ctx)
    try:
        report = client.run_once(data_dir, cli_actor())
    except SyncBusy as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已上传变更 {report.pushed} 条，已下载变更 {report.pulled} 条"
               + (f"，已上传扫描件 {report.scans} 个（{report.scan_bytes / MB:.1f} MB）" if report.scans else "")
               + (f"，已更新事项目录为 {report.catalogue}" if report.catalogue else "")
               + (f"，同步冲突 {report.conflicts} 处（请管理员处理）" if report.conflicts else ""))
    if report.reconcile:
        click.echo(report.reconcile)
    if report.error:
        raise click.ClickException(f"同步未完成：{report.error}")


@sync_group.command("export")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--node", "node", default=None, help="在县级汇聚中心：发给哪个乡镇节点（其 12 位编码）")
@with_data_dir
@click.pass_context
def sync_export(ctx, folder, node):
    """把要交换的内容写成一个签名文件放入 FOLDER（如U盘），带到另一端用 sync import 导入。"""
    data_dir = open_database(ctx)
    report = _or_fail(lambda: files.export_file(data_dir, folder, node))
    click.echo(f"已导出同步文件 {report.path}：变更 {report.changes} 条（{report.batches} 批）"
               + (f"，扫描件 {report.scans} 个" if report.scans else ""))
    if report.skipped:
        click.echo(f"注意：扫描件 {'、'.join(report.skipped[:5])}… 在本机已丢失或损坏，未放入文件；请重新扫描该材料", err=True)


@sync_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@with_data_dir
@click.pass_context
def sync_import(ctx, file):
    """导入另一端用 sync export 导出的同步文件（重复导入同一文件不会重复记入）。"""
    data_dir = open_database(ctx)
    report = _or_fail(lambda: files.import_file(data_dir, file))
    click.echo(f"已导入同步文件：记入变更 {report.changes} 条（{report.batches} 批）"
               + (f"，扫描件 {report.scans} 个" if report.scans else "")
               + (f"，汇聚中心确认已收到本机变更 {report.acknowledged} 条" if report.acknowledged else "")
               + (f"，已更新事项目录为 {report.catalogue}" if report.catalogue else "")
               + (f"，同步冲突 {report.conflicts} 处（请管理员处理）" if report.conflicts else ""))
    if report.reconcile:
        click.echo(report.reconcile)


def _or_fail(action):
    try:
        return action()
    except (NodeError, SyncFailed) as exc:
        raise click.ClickException(str(exc)) from None
