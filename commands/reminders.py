"""`flask reminders send [--now …]` (one cycle) and `flask reminders run` (the scheduler, which
also runs the hourly housekeeping)."""
from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext

from models.db import engine

STATUS_LABELS = {"sent": "已发送", "retry": "稍后重试", "failed": "失败"}


def _config():
    from reminders.cycle import CycleConfig
    try:
        return CycleConfig.from_mapping(current_app.config)
    except ValueError as exc:
        click.echo(f"错误：SMTP 设置有误：{exc}", err=True)
        sys.exit(1)


def parse_moment(text: str, tz: str) -> datetime:
    """2023-08-06T09:00 (Asia/Shanghai without an offset), 2023-08-06 09:00+08:00, 2023-08-06."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"“{text}”不是有效的时刻，应为 2023-08-06T09:00 这样的格式") from None
    return moment.replace(tzinfo=ZoneInfo(tz)) if moment.tzinfo is None else moment


@click.group("reminders")
def reminders() -> None:
    """提醒邮件：运行一次提醒周期，或启动调度进程。"""


@reminders.command("send")
@click.option("--now", "moment", default=None, metavar="TIME",
              help="按此时刻运行，例如 2023-08-06T09:00（不带时区按北京时间）；默认现在")
@with_appcontext
def send(moment: str | None) -> None:
    """运行一次提醒周期：生成到期的提醒并发送；同一时刻再运行不会重复发送。"""
    from reminders.cycle import run_recorded
    config = _config()
    as_of = parse_moment(moment, config.timezone) if moment else datetime.now(timezone.utc)
    run, report = run_recorded(engine(), config, "manual", as_of)
    local = as_of.astimezone(ZoneInfo(config.timezone))
    click.echo(f"提醒周期：{local:%Y-%m-%d %H:%M}（{config.timezone}）")
    if run.error:
        click.echo(f"错误：{run.error}", err=True)
        sys.exit(1)
    if not report.enabled:
        click.echo("提醒已停用（管理员可在“提醒设置”中启用），未生成也未发送邮件。")
        return
    if report.queued:
        click.echo(f"新加入发件箱 {len(report.queued)} 封：")
        for queued in report.queued:
            click.echo(f"  #{queued.message_id} {queued.to}：{queued.subject}")
    else:
        click.echo("没有新的提醒。")
    delivery = report.delivery
    if not delivery.configured:
        click.echo("未配置 SMTP_HOST：邮件保留在发件箱，管理员可在 /admin/reminders/outbox 查看。")
        return
    click.echo(f"发送：已发送 {delivery.count('sent')}，稍后重试 {delivery.count('retry')}，"
               f"失败 {delivery.count('failed')}")
    for result in delivery.results:
        if result.status != "sent":
            click.echo(f"  #{result.message_id} {result.to}：{STATUS_LABELS[result.status]}（{result.detail}）")


@reminders.command("run")
@with_appcontext
def run() -> None:
    """启动提醒调度进程（每天定时运行提醒周期，每分钟发送到期邮件，每小时定时清理）；每个实例目录只能运行一个。"""
    from models.housekeeping import Housekeeping
    from reminders.scheduler import AlreadyRunning, ReminderScheduler, single_instance
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)   # not two lines a minute for the tick
    config = _config()
    lock = Path(current_app.config.get("SCHEDULER_LOCK") or Path(current_app.instance_path) / "scheduler.lock")
    try:
        with single_instance(lock):
            ReminderScheduler(engine(), config, Housekeeping.from_mapping(current_app.config)).run()
    except AlreadyRunning as exc:
        click.echo(f"错误：{exc}", err=True)
        sys.exit(1)
