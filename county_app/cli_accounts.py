"""``county-app user …`` and ``county-app token …``: accounts and API tokens on the command line.

Thin adapters over accounts.py; a refused action prints its message on
stderr, exits 1 and changes nothing.
"""
import sys

import click

from . import accounts
from .cli_support import cli_actor, open_database, with_data_dir
from .db import db


@click.group()
def user():
    """用户账号。"""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(sorted(accounts.ROLES)))
@click.option("--department", default=None, help="部门审批人员所属部门（role=department 时必填）")
@click.option("--display-name", default="", help="显示的姓名")
@click.option("--phone", default="", help="联系电话（打印在通知书上）")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码")
@with_data_dir
@click.pass_context
def user_add(ctx, name, role, department, display_name, phone, password_stdin):
    """创建用户。"""
    open_database(ctx)
    generated = False
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    else:
        password, generated = accounts.random_password(), True
    try:
        # one transaction inside add_user; the password is hashed before it, so no lock is held meanwhile
        user = accounts.add_user(name, role, password, department=department, display_name=display_name,
                                 phone=phone, actor=cli_actor(), must_change=generated)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已创建用户 {user.username}（{accounts.ROLES[role]}）")
    if generated:
        click.echo("一次性初始密码（只显示这一次；登录后须先修改）：")
        click.echo(password)


@user.command("edit")
@click.argument("name")
@click.option("--display-name", default=None, help="显示的姓名")
@click.option("--phone", default=None, help="联系电话")
@click.option("--role", default=None, type=click.Choice(sorted(accounts.ROLES)), help="新的角色（更改后其登录失效）")
@click.option("--department", default=None, help="所属部门（现行事项目录中的部门；部门审批人员必填）")
@with_data_dir
@click.pass_context
def user_edit(ctx, name, display_name, phone, role, department):
    """修改用户的姓名、联系电话、角色或所属部门；角色或部门改变时，其在各处的登录失效。"""
    open_database(ctx)
    try:
        current = accounts.get_user(name)
        if department is not None and role is None:
            role = current.role  # a new department for the role the user has
        user, changed = accounts.update_user(name, display_name=display_name, phone=phone, role=role,
                                             department=department, actor=cli_actor())
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    if not changed:
        click.echo(f"用户 {user.username} 的信息没有更改")
        return
    words = {"display_name": "姓名", "phone": "联系电话", "role": "角色", "department": "所属部门"}
    shown = {**changed, "role": accounts.ROLES.get(changed.get("role"), "")}
    click.echo(f"已修改用户 {user.username}：" + "，".join(f"{words[field]}：{shown[field] or '（空）'}" for field in changed))
    if "role" in changed or "department" in changed:
        click.echo("角色或部门已变，其在各处的登录已失效")


@user.command("deactivate")
@click.argument("name")
@with_data_dir
@click.pass_context
def user_deactivate(ctx, name):
    """停用用户：不能再登录，其接口令牌失效，其在各处的登录结束。"""
    open_database(ctx)
    try:
        user = accounts.deactivate_user(name, actor=cli_actor())
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已停用用户 {user.username}")


@user.command("reset-password")
@click.argument("name")
@with_data_dir
@click.pass_context
def user_reset_password(ctx, name):
    """给用户一个新的一次性密码（只显示这一次，登录后须先修改）并解除锁定；管理员忘记密码时用它找回。"""
    open_database(ctx)
    try:
        password = accounts.reset_password(name, actor=cli_actor(), every_address=True)
        user = accounts.get_user(name)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已重置用户 {user.username} 的密码并解除锁定；其在各处的登录已失效")
    if not user.active:
        click.echo(f"注意：用户 {user.username} 已停用，重新启用前仍不能登录", err=True)
    click.echo("一次性密码（只显示这一次；登录后须先修改）：")
    click.echo(password)


@click.group()
def token():
    """接口令牌（API token）。"""


@token.command("issue")
@click.argument("name")
@with_data_dir
@click.pass_context
def token_issue(ctx, name):
    """为用户签发一个新的接口令牌，令牌单独打印在最后一行。"""
    open_database(ctx)
    try:
        with db.atomic():
            issued = accounts.issue_token(name, actor=cli_actor())
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已为 {name} 签发令牌（编号 {issued.prefix}）；令牌只显示这一次：")
    click.echo(issued.token)


@token.command("revoke")
@click.argument("prefix")
@with_data_dir
@click.pass_context
def token_revoke(ctx, prefix):
    """吊销令牌（按签发时显示的编号）。"""
    open_database(ctx)
    try:
        with db.atomic():
            accounts.revoke_token(prefix, actor=cli_actor())
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已吊销令牌 {prefix}")
