"""`flask backup` and `flask restore`: consistent copies of the database while it is in use.

SQLite: the online backup API copies a consistent snapshot page by page while other processes
keep writing (WAL), then the copy is checked with `PRAGMA integrity_check`. PostgreSQL:
`pg_dump --format=custom` (a consistent snapshot by MVCC) and `pg_restore`.
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url


def _libpq_url(url: str) -> str:
    """postgresql+psycopg://… → postgresql://… for the command-line tools."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path:
    return Path(make_url(url).database)


def backup_sqlite(db: Path, out: Path) -> None:
    src = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    dest = sqlite3.connect(out)
    try:
        src.backup(dest, pages=1024)
        check = dest.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise click.ClickException(f"备份文件完整性检查失败：{check}")
    finally:
        dest.close()
        src.close()


def restore_sqlite(backup: Path, db: Path) -> None:
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise click.ClickException("备份文件已损坏，未恢复")
        dest = sqlite3.connect(db, timeout=30)
        try:
            src.backup(dest)
        finally:
            dest.close()
    finally:
        src.close()


def _run(cmd: list[str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise click.ClickException(f"找不到 {cmd[0]}，请安装 PostgreSQL 客户端（Debian：postgresql-client）")
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise click.ClickException(f"{cmd[0]} 失败：{result.stderr.strip()[:500]}")


@click.command("backup")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="备份文件（默认：instance/backups/ 下带时间的文件名）")
@with_appcontext
def backup(output: Path | None) -> None:
    """备份数据库（运行中也可备份，得到一致的快照）。"""
    url = current_app.config["DATABASE_URL"]
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    is_sqlite = url.startswith("sqlite")
    if output is None:
        folder = Path(current_app.instance_path) / "backups"
        folder.mkdir(parents=True, exist_ok=True)
        output = folder / f"jixiao-{stamp}.{'sqlite3' if is_sqlite else 'pgdump'}"
    if output.exists():
        raise click.ClickException(f"{output} 已存在，请换一个文件名")
    if is_sqlite:
        backup_sqlite(sqlite_path(url), output)
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={output}", f"--dbname={_libpq_url(url)}"])
    click.echo(f"已备份到 {output}（{output.stat().st_size:,} 字节）")


@click.command("restore")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="不再询问，直接覆盖当前数据库")
@with_appcontext
def restore(backup_file: Path, yes: bool) -> None:
    """用备份文件覆盖当前数据库（请先停止网页服务与提醒进程）。"""
    url = current_app.config["DATABASE_URL"]
    if not yes and not click.confirm(f"将用 {backup_file} 覆盖当前数据库，确定吗？", default=False):
        sys.exit(1)
    current_app.extensions["engine"].dispose()
    if url.startswith("sqlite"):
        restore_sqlite(backup_file, sqlite_path(url))
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={_libpq_url(url)}", str(backup_file)])
    click.echo(f"已从 {backup_file} 恢复")
