"""What every ``county-app`` command shares: the data folder option, opening the database, the actor."""
import getpass
from functools import update_wrapper

import click

from . import paths
from .db import bind, db


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


def open_database(ctx):
    """Bind and connect the database of the chosen data folder; it must be initialised."""
    from .migrations import pending

    data_dir = ctx.obj["data_dir"]
    bind(data_dir)
    db.connect(reuse_if_open=True)
    if pending():
        raise click.ClickException(f"数据文件夹 {data_dir} 尚未初始化或需要升级，请先运行 county-app init")
    return data_dir
