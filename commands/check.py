"""`flask check [--fix]`: recompute every stored derived value from its inputs (INTERFACES.md):
the cached judgements, the report summaries, and the open alerts as of today (the app's clock,
Asia/Shanghai) — the reminder cycle and every write keep them so."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from models.db import get_session, transaction
from services import derived, inputs
from views.clock import now, today

SHOWN = 200     # differences printed in full; the rest are counted


@click.command("check")
@click.option("--fix", is_flag=True, help="把不一致的存储值改为重新计算的结果。")
@with_appcontext
def check(fix: bool) -> None:
    """重新计算完成率、序时进度、灯号、报表汇总和截至今天应有的未关闭预警，逐条列出与存储值的差异；有差异时退出码为1。"""
    try:
        inputs.thresholds(current_app.config)
    except ValueError as exc:            # PACE_BANDS or LEVEL_YELLOW out of range
        click.echo(f"设置有误，未检查：{exc}", err=True)
        sys.exit(2)
    session = get_session()
    if fix:
        with transaction(session):
            diffs = derived.rejudge_all(session, current_app.config, today(), now())
    else:
        diffs = derived.check(session, current_app.config, today())     # only reads: entries go on meanwhile
        session.rollback()
    for diff in diffs[:SHOWN]:
        click.echo(str(diff))
    if len(diffs) > SHOWN:
        click.echo(f"……另有 {len(diffs) - SHOWN} 处差异未列出")
    if not diffs:
        click.echo("检查完毕：所有存储的派生值与重新计算的结果一致。")
        return
    if fix:
        click.echo(f"已修正 {len(diffs)} 处差异。")
        return
    click.echo(f"发现 {len(diffs)} 处差异（用 --fix 修正）。", err=True)
    sys.exit(1)
