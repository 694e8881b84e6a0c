"""`flask demo …`: sample data for trying the product."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click
from flask.cli import with_appcontext

from commands.forms import sha256_of
from importers import parse_file
from models.db import get_session, transaction
from models.importing import apply_import

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"


@click.group("demo")
def demo() -> None:
    """演示数据。"""


# username, role, 实施单位, 主管部门, display name: one of each kind of person
DEMO_USERS = (
    ("admin", "admin", None, None, "管理员"),
    ("tianbao", "manager", "山西省投资促进局", None, "填报人（演示）"),
    ("shenhe", "supervisor", None, "山西省商务厅", "审核人（演示）"),
)


@demo.command("seed")
@with_appcontext
def seed() -> None:
    """导入示例申报表（山西省投资促进局 2023 年的三张表）并创建演示用户；已有的不变。"""
    session = get_session()
    for path in sorted(DEMO_DIR.glob("*.pdf")):
        result = parse_file(path)  # our own sample: trusted, no sandbox needed
        with transaction(session):
            summary = apply_import(session, result.forms, file_name=path.name, file_sha256=sha256_of(path),
                                   who="演示数据", now=datetime.now(timezone.utc), warnings=result.warnings)
        click.echo(f"{path.name}: 申报表 {summary.forms} 张，新增 {summary.new}，变更 {summary.changed}，未变 {summary.unchanged}")
    seed_users(session)


def seed_users(session) -> None:
    """The demo users, each created once with a generated password printed this once (only
    its hash is stored); on later runs, how to set a new one."""
    from sqlmodel import select

    from models.accounts import create_user, generate_password
    from models.user import ROLES, User

    created = []
    for username, role, unit, department, display_name in DEMO_USERS:
        if session.exec(select(User).where(User.username == username)).first():
            click.echo(f"演示用户 {username}（{ROLES[role]}）已存在，密码未改变。")
            continue
        password = generate_password()
        with transaction(session):
            create_user(session, username=username, role=role, password=password, unit_name=unit,
                        department_name=department, display_name=display_name, now=datetime.now(timezone.utc))
        created.append((username, role, unit or department or "全部", password))
    if created:
        click.echo("已创建演示用户（密码只显示这一次，请记下）：")
        for username, role, scope, password in created:
            click.echo(f"  {username:<8} 密码：{password}  （{ROLES[role]}，范围：{scope}）")
    if len(created) < len(DEMO_USERS):
        click.echo("忘记密码：.venv/bin/flask --app app users password 用户名（生成新密码并显示），"
                   "或由管理员在“用户管理”页面重置。")
