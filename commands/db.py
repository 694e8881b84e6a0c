from __future__ import annotations

import click
from flask.cli import with_appcontext

from models.db import engine
from models.migrate import upgrade


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """创建或升级数据库结构（可重复执行）。"""
    upgrade(engine())
    click.echo(f"数据库已就绪：{engine().url.render_as_string(hide_password=True)}")
