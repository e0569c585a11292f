"""What every ``county-app`` command shares: the data folder option, opening the database, the actor."""
import getpass
import os
from functools import update_wrapper

import click

from . import paths
from .db import DATABASE_URL_ENV, DatabaseUrlError, bind, db, postgres_database_name


def cli_actor():
    """Who a command acts as in the audit log: ``cli:`` and the operating system's user name."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name on some service accounts
        return "cli"


def with_data_dir(command):
    """Give a command ``--data-dir`` (also accepted before the command name), and its log in that folder."""

    @click.option("--data-dir", "data_dir", type=click.Path(file_okay=False), default=None,
                  help="数据文件夹（默认：环境变量 COUNTY_APP_DATA，否则本机用户数据目录）")
    @click.pass_context
    def wrapper(ctx, data_dir, **kwargs):
        from .operations import logs

        chosen = data_dir or (ctx.obj or {}).get("data_dir")
        ctx.obj = {"data_dir": paths.resolve_data_dir(chosen)}
        logs.configure(ctx.obj["data_dir"])
        return ctx.invoke(command, **kwargs)

    return update_wrapper(wrapper, command)


DATABASE_URL_HELP = ("县级汇聚中心的 PostgreSQL 数据库，如 postgresql://用户名:密码@主机:5432/数据库名"
                     "（默认：环境变量 DATABASE_URL；都没有时用数据文件夹中的 SQLite）")


def use_database_url(url):
    """``--database-url``: the same as DATABASE_URL, set for this process and the child processes it starts.

    The URL given, or else the one in the environment, is checked here, so that
    a mistyped one is a message rather than a failure deep in a command."""
    if url:
        os.environ[DATABASE_URL_ENV] = url
    url = os.environ.get(DATABASE_URL_ENV)
    if url:
        try:
            postgres_database_name(url)
        except DatabaseUrlError as exc:
            raise click.ClickException(str(exc)) from None


def open_database(ctx):
    """Bind and connect the database of the chosen data folder; it must be initialised."""
    from .bootstrap import require_hub_on_postgresql
    from .migrations import pending
    from .settings import SettingError

    data_dir = ctx.obj["data_dir"]
    bind(data_dir)
    db.connect(reuse_if_open=True)
    if pending():
        raise click.ClickException(f"数据文件夹 {data_dir} 尚未初始化或需要升级，请先运行 county-app init")
    try:
        require_hub_on_postgresql()
    except SettingError as exc:
        raise click.ClickException(str(exc)) from None
    return data_dir
