"""`flask demo …`: sample data for trying the product."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click
from flask.cli import with_appcontext

from commands.forms import sha256_of
from commands.synth import synth_chunk, synth_organisations, synth_plan
from importers import parse_file
from models.db import get_session, transaction
from services.importing import apply_import
from views.clock import now as clock_now

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
    """导入示例申报表（山西省投资促进局 2023 年的三张表），创建演示用户，并添加演示填报（1–7月实际值和支出、
    预算调减、待审核的目标调整、7月监控的审核与整改），以及本年度（1月时为上年度）三个实施单位的演示项目和截至上月的填报；
    已有的不变。"""
    from flask import current_app

    from commands.demo_activity import add_activity
    from commands.demo_current import add_current_year
    from services.alerts import local_date

    session = get_session()
    for path in sorted(DEMO_DIR.glob("*.pdf")):
        result = parse_file(path)  # our own sample: trusted, no sandbox needed
        with transaction(session):
            summary = apply_import(session, result.forms, file_name=path.name, file_sha256=sha256_of(path),
                                   who="演示数据", now=clock_now(), reorganise=True,
                                   warnings=result.warnings)
        click.echo(f"{path.name}: 申报表 {summary.forms} 张，新增 {summary.new}，变更 {summary.changed}，未变 {summary.unchanged}")
    seed_users(session)
    now = clock_now()
    with transaction(session):           # after the users: the work is theirs
        click.echo(add_activity(session, now, local_date(now, current_app.config), current_app.config))
    with transaction(session):
        click.echo(add_current_year(session, now, local_date(now, current_app.config), current_app.config))


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


# =========================================================================== flask demo synth
# Synthetic data at province scale for benchmarks and demos. Every light, alert and summary
# row comes from the code that judges real entries (domain.indicators' annual_target and
# effective_measure, domain.rules, and the domain core's summary rows); only the writing differs:
# plain INSERTs in large batches, one transaction per chunk of projects, instead of one ORM
# write per actual. Deterministic for a given seed: each project draws from its own generator,
# seeded by (seed, its place), so chunking and earlier data change nothing but the ids. The
# generator is commands/synth.py (the demo's current year draws its forms from it too).

SYNTH_CHUNK = 250            # projects per transaction


@demo.command("synth")
@click.option("--projects", "count", type=click.IntRange(1, 1_000_000), required=True, help="项目数（每个实施单位 10 个）")
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="年度")
@click.option("--seed", type=int, default=1, show_default=True, help="随机种子：相同的种子生成相同的数据")
@with_appcontext
def synth(count: int, year: int, seed: int) -> None:
    """生成逼真的合成数据：主管部门、实施单位（每个 10 个项目）、项目及其 10–20 个各类绩效指标、
    资金，以及本年度每个已结束月份的实际值和支出（灯色、预警按真实规则计算）。用于性能测试和演示。"""
    import sys
    import time

    from flask import current_app

    from services.inputs import thresholds

    started = time.perf_counter()
    now = clock_now()                                # tests and demos may set the time (CLOCK)
    session = get_session()
    plan = synth_plan(count, seed)
    with transaction(session):
        unit_ids = synth_organisations(session, plan)
    totals: dict[str, int] = {}
    with click.progressbar(length=count, label="生成中", file=sys.stderr) as bar:
        for start in range(0, count, SYNTH_CHUNK):
            chunk = plan.projects[start:start + SYNTH_CHUNK]
            with transaction(session):
                made = synth_chunk(session, chunk, unit_ids, year, seed, now,
                                   int(current_app.config.get("ENTRY_DEADLINE_DAY", 5)), thresholds(current_app.config))
            for key, value in made.items():
                totals[key] = totals.get(key, 0) + value
            bar.update(len(chunk))
    elapsed = time.perf_counter() - started
    click.echo(f"合成数据（{year} 年度，种子 {seed}）：主管部门 {len(plan.departments)} 个，实施单位 {len(plan.units)} 个，"
               f"项目 {totals.get('projects', 0)} 个（已存在而跳过 {totals.get('skipped', 0)} 个），"
               f"指标 {totals.get('indicators', 0)} 个，实际值 {totals.get('actuals', 0)} 条，"
               f"支出 {totals.get('spending', 0)} 条，预警 {totals.get('alerts', 0)} 条"
               f"（未关闭 {totals.get('open_alerts', 0)} 条）；用时 {elapsed:.1f} 秒")
