"""`flask users create` and `flask users token`."""
from __future__ import annotations

import secrets
import sys
from datetime import datetime, timezone

import click
from flask.cli import with_appcontext

from models.user import ROLES


@click.group("users")
def users() -> None:
    """用户与 API 令牌。"""


@users.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(sorted(ROLES)), required=True, help="admin、supervisor（审核人）或 manager（填报人）")
@click.option("--password", default=None, help="至少 12 个字符；不给则生成一个并打印")
@click.option("--email", default=None)
@click.option("--unit", default=None, help="填报人所属的实施单位")
@click.option("--department", default=None, help="审核人负责的主管部门（不给则可查看全部）")
@click.option("--display-name", default=None, help="显示名称（姓名）")
@with_appcontext
def create(name, role, password, email, unit, department, display_name) -> None:
    """创建用户。"""
    from models.accounts import AccountError, create_user
    from models.db import get_session, transaction

    generated = password is None
    password = password or secrets.token_urlsafe(12)
    session = get_session()
    try:
        with transaction(session):
            user = create_user(session, username=name, role=role, password=password, email=email,
                               unit_name=unit, department_name=department, display_name=display_name,
                               now=datetime.now(timezone.utc))
    except AccountError as exc:
        click.echo(f"错误：{exc}", err=True)
        sys.exit(1)
    click.echo(f"已创建用户 {user.username}（{user.role_label}）")
    if generated:
        click.echo(f"密码：{password}")


@users.command("token")
@click.argument("name")
@with_appcontext
def token(name) -> None:
    """为用户生成新的 API 令牌并输出（只显示这一次）。"""
    from sqlmodel import select

    from models.db import get_session, transaction
    from models.user import User, new_token

    session = get_session()
    with transaction(session):
        user = session.exec(select(User).where(User.username == name)).first()
        if user is None or not user.is_active:
            click.echo(f"错误：用户“{name}”不存在或已停用", err=True)
            sys.exit(1)
        value = new_token(session, user, datetime.now(timezone.utc))
    click.echo(value)


@users.command("password")
@click.argument("name")
@click.option("--password", default=None, help="至少 12 个字符；不给则生成一个并打印")
@with_appcontext
def password(name, password) -> None:
    """重置用户的密码（其登录全部退出）；忘记管理员密码时使用。"""
    from sqlmodel import select

    from models.accounts import AccountError, reset_password
    from models.db import get_session, transaction
    from models.user import User

    session = get_session()
    try:
        with transaction(session):
            user = session.exec(select(User).where(User.username == name)).first()
            if user is None:
                raise AccountError(f"用户“{name}”不存在")
            new = reset_password(session, user, password, datetime.now(timezone.utc))
    except AccountError as exc:
        click.echo(f"错误：{exc}", err=True)
        sys.exit(1)
    click.echo(f"已重置 {name} 的密码，其登录已全部退出。")
    if password is None:
        click.echo(f"密码：{new}")
