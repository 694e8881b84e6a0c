"""`flask housekeeping [--now …]`: the scheduler's hourly cleanup, run once by hand."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext

from commands.reminders import parse_moment


@click.command("housekeeping")
@click.option("--now", "moment", default=None, metavar="TIME",
              help="按此时刻清理，例如 2023-08-06T09:00（不带时区按北京时间）；默认现在")
@with_appcontext
def housekeeping(moment: str | None) -> None:
    """删除超过保留期限的未确认导入、导出文件和登录记录（调度进程每小时运行一次）。"""
    from models.db import get_session
    from models.housekeeping import Housekeeping, clean_up
    tz = current_app.config["TIMEZONE"]
    now = parse_moment(moment, tz) if moment else datetime.now(timezone.utc)
    settings = Housekeeping.from_mapping(current_app.config)
    cleaned = clean_up(get_session(), settings, now)
    click.echo(f"清理（{now.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}）：删除{settings.describe()}")
    click.echo(f"已删除：{cleaned.summary()}")
