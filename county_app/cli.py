"""The ``county-app`` command: a thin adapter over the domain modules.

A user error prints a clear message on stderr, exits 1 and changes nothing.
"""
import multiprocessing
import sys
from datetime import date

import click

from . import cli_accounts, cli_backup, cli_sync, desktop, server, settings
from .catalogue import store
from .cli_support import DATABASE_URL_HELP, cli_actor, open_database, use_database_url, with_data_dir
from .db import db
from .integers import NumberError, whole_number

MAX_CALENDAR_DAYS = 2500  # about ten years of working days: more than any time limit


@click.group(invoke_without_command=True)
@click.option("--data-dir", "data_dir", type=click.Path(file_okay=False), default=None,
              help="数据文件夹（默认：环境变量 COUNTY_APP_DATA，否则本机用户数据目录）")
@click.option("--database-url", "database_url", default=None, metavar="URL", help=DATABASE_URL_HELP)
@click.version_option(package_name="county-app")
@click.pass_context
def cli(ctx, data_dir, database_url):
    """一件事一次办：乡镇便民服务中心窗口系统。不带命令时等同于 serve。"""
    use_database_url(database_url)
    ctx.obj = {"data_dir": data_dir}
    if ctx.invoked_subcommand is None:  # a double-click: serve and open the browser
        ctx.invoke(serve, browser=True)


cli.add_command(cli_accounts.user)
cli.add_command(cli_accounts.token)
cli.add_command(cli_backup.backup_command)
cli.add_command(cli_backup.restore_command)
cli.add_command(cli_sync.node_group)
cli.add_command(cli_sync.sync_group)


@cli.command()
@click.option("--role", type=click.Choice(["township", "hub"]), default=None, help="节点角色（首次默认 township）")
@click.option("--code", default=None, help="本中心 12 位区划代码")
@click.option("--name", default=None, help="本中心名称")
@with_data_dir
@click.pass_context
def init(ctx, role, code, name):
    """创建或升级数据库，并在没有目录时载入内置的示例事项目录。"""
    from .operations.instance import DataFolderBusy, DataFolderLock

    try:  # init may migrate: not under a running server
        with DataFolderLock(ctx.obj["data_dir"]).acquire("初始化或升级"):
            report = _initialise(ctx.obj["data_dir"], role=role, code=code, name=name)
    except (settings.SettingError, DataFolderBusy) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"数据文件夹：{ctx.obj['data_dir']}")
    if report.backup:
        _say_upgraded(report)
    else:
        click.echo("已执行的数据库迁移：" + (", ".join(report.applied) if report.applied else "无（已是最新）"))
    if report.seed is not None:
        if report.seed.errors:
            for error in report.seed.errors:
                click.echo(f"错误 {error}", err=True)
            raise click.ClickException("内置示例目录 seed_catalog.xlsx 无法导入（见上），数据库已建好但没有目录")
        click.echo(report.seed.summary().splitlines()[0])
    if report.admin_password:
        then = "" if code else "，然后在“系统设置”填写本中心区划代码"  # --code given: nothing left to set
        click.echo(f"已创建管理员账号 admin，一次性初始密码（只显示这一次；登录后须先修改{then}）：")
        click.echo(report.admin_password)


def _say_upgraded(report):
    """An existing database brought to this version: the verified backup taken first, the migrations run."""
    click.echo(f"升级前已备份（数据库和扫描件，已校验）：{report.backup}")
    click.echo("已执行的数据库迁移：" + ", ".join(report.applied))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=server.THREADS, show_default=True, type=click.IntRange(1, 64),
              help="工作线程数（默认即可；线程多了只会争用同一个解释器锁）")
@click.option("--browser/--no-browser", default=False,
              help="启动后在浏览器中打开（不带命令启动时默认打开；环境变量 COUNTY_APP_NO_BROWSER=1 时从不打开）")
@click.option("--behind-proxy", is_flag=True, default=False,
              help="县级汇聚中心在反向代理之后、由代理终止 TLS（HTTPS）：相信代理发来的 X-Forwarded-Proto 和 X-Forwarded-For")
@click.option("--proxy-address", default="127.0.0.1", show_default=True,
              help="与 --behind-proxy 同用：反向代理连接本机时的 IP 地址（只相信来自它的转发请求头）")
@with_data_dir
@click.pass_context
def serve(ctx, host, port, threads, browser, behind_proxy, proxy_address):
    """启动网页界面和接口（waitress），后台任务随之运行。

    同步接口（/api/v1/sync/）只接受本机（回环地址）或 HTTPS 的请求：县级汇聚中心对外服务时，
    须由反向代理终止 TLS，并以 --behind-proxy 启动。"""
    from . import create_app
    from .jobs import Background
    from .operations import logs
    from .operations.instance import DataFolderBusy, DataFolderLock, running_address

    data_dir = ctx.obj["data_dir"]
    log_file = logs.configure(data_dir, console=True)
    browser = browser and desktop.browser_allowed()
    lock = DataFolderLock(data_dir)
    try:  # held until the process ends: a restore or a second serve on this folder refuses meanwhile
        lock.acquire("启动服务")
    except DataFolderBusy:
        url = running_address(data_dir)
        if url and browser:
            desktop.open_browser(url, wait=10)  # before this copy ends
        if url is None:
            where = "（它还在启动或正忙于恢复备份，请稍候再打开浏览器）"
        else:
            where = f"，网址 {url}" + ("（已在浏览器中打开）" if browser else "")
        raise click.ClickException(f"本程序已经在运行，使用同一个数据文件夹 {data_dir}{where}。"
                                   "不必再启动一个；要重新启动，请先关闭正在运行的那个窗口") from None
    try:  # before the data folder is touched: a port in use changes nothing
        sock = server.listen(host, port)
    except server.PortBusy as exc:
        raise click.ClickException(str(exc)) from None
    cli_backup.apply_staged_restore(data_dir, lock, cli_actor())
    report = _initialise(data_dir)
    if report.backup:  # a new version started on an older database (not a new one: it has nothing to back up)
        _say_upgraded(report)
    if report.admin_password:
        click.echo(f"已创建管理员账号 admin，一次性初始密码（只显示这一次；登录后须先修改）：{report.admin_password}")
    from .views.catalogue import stop_checks

    app = create_app(data_dir)
    proxy = proxy_address.strip() if behind_proxy else None
    app.config["BEHIND_PROXY"] = proxy is not None  # what api/sync.py believes of X-Forwarded-*
    http = server.create(app, sock=sock, threads=threads, trusted_proxy=proxy)
    url = desktop.local_url(host, http.effective_port)
    lock.announce(url)
    background = Background(app)  # the scheduler, and the scan checker's process rather than on the first upload
    click.echo(desktop.started_text(url, data_dir, opened=browser))
    if log_file:
        click.echo(f"日志文件：{log_file}")
    if proxy:
        click.echo(f"同步接口只接受本机或经反向代理（{proxy}）转发的 HTTPS 请求")
    if browser:
        desktop.open_browser(url)
    try:
        server.run(http)  # returns on Ctrl+C (waitress takes the KeyboardInterrupt)
        click.echo("服务已停止")
    finally:
        background.stop()
        stop_checks(app)  # a catalogue check still running in its child process is killed
        lock.release()


def _initialise(data_dir, **options):
    from .bootstrap import initialise
    from .migrations import MigrationFailed, MigrationRefused

    try:
        return initialise(data_dir, actor=cli_actor(), **options)
    except (MigrationFailed, MigrationRefused, settings.SettingError) as exc:
        raise click.ClickException(str(exc)) from None


@cli.group()
def catalogue():
    """事项目录（Excel）。"""


@catalogue.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="只检查并列出差异，不导入")
@click.option("--allow-older", is_flag=True, help="确认导入旧文件（发布日期早于正在使用的目录）")
@with_data_dir
@click.pass_context
def catalogue_import(ctx, file, dry_run, allow_older):
    """导入事项目录工作簿（全部成功或全部不变）。"""
    open_database(ctx)
    outcome = store.import_workbook(file, actor=cli_actor(), dry_run=dry_run, allow_older=allow_older)
    for warning in outcome.warnings:
        click.echo(f"警告 {warning}", err=True)
    if outcome.unlisted_warnings:
        click.echo(f"另有 {outcome.unlisted_warnings} 条警告未列出", err=True)
    if outcome.errors:
        for error in outcome.errors:
            click.echo(f"错误 {error}", err=True)
        if outcome.unlisted_errors:
            click.echo(f"另有 {outcome.unlisted_errors} 处错误未列出（改正上面这些后再检查，会列出其余的）", err=True)
        if outcome.older and not allow_older:
            raise click.ClickException("这是一个旧文件，未做任何更改；如确要导入，请加 --allow-older 重新运行")
        raise click.ClickException(f"目录有 {outcome.error_count} 处错误，未做任何更改")
    click.echo(outcome.summary())
    if outcome.older and dry_run and not allow_older:
        click.echo("这是一个旧文件：导入时须加 --allow-older 确认", err=True)


@catalogue.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@with_data_dir
@click.pass_context
def catalogue_export(ctx, file):
    """把正在使用的事项目录导出为工作簿。"""
    open_database(ctx)
    try:
        version = store.export_workbook(file)
    except store.CatalogueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已导出目录版本 {version} 到 {file}")


@cli.group("calendar")
def calendar_group():
    """工作日历。"""


@calendar_group.command("due")
@click.argument("start")
@click.argument("days")
@with_data_dir
@click.pass_context
def calendar_due(ctx, start, days):
    """打印 START 之后第 DAYS 个工作日（起算日不计入）。"""
    try:
        start_day = date.fromisoformat(start)
    except ValueError:
        raise click.ClickException(f"日期格式应为 YYYY-MM-DD，实际为 \"{start}\"") from None
    try:  # counted a day at a time: a typo of many digits would run for minutes, then past year 9999
        days = whole_number(days, "天数", low=0, high=MAX_CALENDAR_DAYS)
    except NumberError as exc:
        raise click.ClickException(str(exc)) from None
    open_database(ctx)
    due = store.work_calendar().working_days_after(start_day, days)
    if not due.complete:
        years = "、".join(f"{year} 年" for year in due.unpublished)
        click.echo(f"警告：{years}的调休安排未公布（日历不完整）：已扣除周末和《全国年节及纪念日放假办法》规定的"
                   "法定节假日，调休放假和调休上班日未计入；国务院通知公布后请在目录“节假日”表中补录", err=True)
    click.echo(due.day.isoformat())


@cli.group()
def config():
    """设置项。"""


@config.command("get")
@click.argument("key")
@with_data_dir
@click.pass_context
def config_get(ctx, key):
    """打印设置项的值。"""
    open_database(ctx)
    try:
        click.echo(settings.get(key))
    except settings.SettingError as exc:
        raise click.ClickException(str(exc)) from None


@config.command("set")
@click.argument("key")
@click.argument("value")
@with_data_dir
@click.pass_context
def config_set(ctx, key, value):
    """修改设置项。"""
    open_database(ctx)
    try:
        settings.change({key: value}, actor=cli_actor())
    except settings.SettingError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{key} = {settings.get(key)}")


_MAINTENANCE_STEPS = {"scans": "清理扫描文件", "uploads": "清理目录上传文件", "logins": "清理登录记录",
                      "incoming": "清理扫描件上传残片", "optimize": "更新数据库查询统计"}


@cli.command("maintenance")
@with_data_dir
@click.pass_context
def maintenance_command(ctx):
    """立即执行一次夜间维护：清理无人引用的扫描文件、过期的目录上传文件、已结束的登录和不再等待的扫描件上传残片，更新数据库查询统计。"""
    from .maintenance import run_maintenance

    data_dir = open_database(ctx)
    report = run_maintenance(data_dir)
    click.echo(f"已删除无人引用的扫描文件 {report.scans_removed} 个"
               f"（共 {report.scan_bytes_freed / (1024 * 1024):.1f} MB）")
    click.echo(f"已删除超过一天未确认的目录上传文件 {report.uploads_removed} 个")
    click.echo(f"已清理已结束或过期的登录会话 {report.sessions_removed} 个、过期的登录失败计数 {report.throttles_removed} 条、"
               f"过期的新办件草稿 {report.drafts_removed} 份")
    if report.partials_removed:
        click.echo(f"已删除不再等待或长期未续传的扫描件上传残片 {report.partials_removed} 个"
                   f"（共 {report.partial_bytes_freed / (1024 * 1024):.1f} MB）")
    click.echo("数据库查询统计已更新" if report.optimized else "数据库查询统计未更新")
    for step, message in report.failures.items():
        click.echo(f"失败 {_MAINTENANCE_STEPS.get(step, step)}：{message}", err=True)
    if report.failures:
        raise click.ClickException(f"夜间维护有 {len(report.failures)} 项未完成（见上），其余各项已执行")


def main(argv=None):
    """Entry point: click's usage errors exit 1 too, as interfaces.md asks of every user error."""
    # In the frozen Windows program, the scan checker's and a catalogue check's child processes start
    # this same executable: freeze_support runs the child's work and exits before click sees its arguments.
    multiprocessing.freeze_support()
    try:
        cli.main(args=argv, prog_name="county-app", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("已取消", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        if desktop.double_clicked(sys.argv[1:] if argv is None else argv):
            desktop.wait_before_closing()
        sys.exit(1)
    except OSError as exc:  # e.g. a data folder that cannot be written: a message, not a traceback
        click.echo(f"Error: 无法写入或读取 {exc.filename or ''}（{exc.strerror or exc}）；"
                   "请检查数据文件夹是否可写、磁盘是否已满，未做任何更改", err=True)
        sys.exit(1)
    finally:
        if not db.is_closed():
            db.close()
