"""`flask backup` and `flask restore`: one file with the database and the evidence files
(佐证材料), made while the product is in use, and brought back whole or not at all.

The database copy is consistent while other processes keep writing. SQLite: the online
backup API copies a snapshot page by page (WAL), checked with `PRAGMA integrity_check`.
PostgreSQL: `pg_dump --format=custom` of a snapshot exported by a REPEATABLE READ transaction
that also reads the evidence rows, so the files archived are exactly those the dump records.
The file format lives in commands/backup_archive.py.

Left out on purpose: the SECRET_KEY (instance/config.py, the environment or the development
key file: a backup travels and is kept for years, and whoever has the key can sign a session
cookie as any user; nothing in the database depends on it, so a restore under a new key only
signs everyone out), and what is transient or made again: uploads of import jobs (their
parsed forms are in the database), export files (made again on request), lock files.

A restore checks the whole backup in a staging folder beside EVIDENCE_DIR before it touches
anything, then swaps the evidence folder in and restores the database (the old folder comes
back if that fails), and finally checks every evidence row against its file.
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from commands.backup_archive import (DATABASE_MEMBERS, EVIDENCE_FOLDER, BackupError, Member, Unpacked,
                                     refuse_existing, unpack, write_archive)
from models.evidence import (EvidenceFile, evidence_directory, evidence_files, file_digest, file_path,
                             file_problem)
from views.clock import now

SHOWN_PROBLEMS = 20


def _libpq_url(url: str) -> str:
    """postgresql+psycopg://… → postgresql://… for the command-line tools."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path:
    return Path(make_url(url).database)


def database_kind(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


# --------------------------------------------------------------------------- the database

def copy_database(url: str, engine: Engine, dest: Path) -> list[EvidenceFile]:
    """A consistent copy of the database in `dest`, and the evidence rows of that copy."""
    if database_kind(url) == "sqlite":
        backup_sqlite(sqlite_path(url), dest)
        copy = create_engine(f"sqlite:///{dest}")
        try:
            with copy.connect() as conn:
                return evidence_files(conn)
        finally:
            copy.dispose()
    with engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # pg_dump reads the snapshot this transaction holds, the one its evidence rows come from
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            rows = evidence_files(conn)
            _run(["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={dest}",
                  f"--dbname={_libpq_url(url)}"])
    return rows


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


def restore_database(url: str, copy: Path) -> None:
    if database_kind(url) == "sqlite":
        restore_sqlite(copy, sqlite_path(url))
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={_libpq_url(url)}", str(copy)])


def restore_sqlite(backup: Path, db: Path) -> None:
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise click.ClickException("备份文件已损坏，未恢复")
        dest = sqlite3.connect(db, timeout=30)
        try:
            src.backup(dest)      # in one step: the live database changes all at once or not at all
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


# --------------------------------------------------------------------------- the evidence files

def archived_problems(rows: list[EvidenceFile], members: list[Member]) -> list[str]:
    """The rows whose file is not in the backup as the row recorded it."""
    archived = {m.name.removeprefix(f"{EVIDENCE_FOLDER}/"): (m.size, m.sha256) for m in members}
    return [p for row in rows if (p := file_problem(row, archived.get(row.stored_name)))]


def on_disk_problems(rows: list[EvidenceFile], directory: Path) -> list[str]:
    """The rows whose file in EVIDENCE_DIR is missing, or not of the size and sha256 recorded."""
    def found(row: EvidenceFile) -> tuple[int, str] | None:
        try:
            return file_digest(file_path(directory, row))
        except OSError:          # missing, or unreadable: either way not the file recorded
            return None
    return [p for row in rows if (p := file_problem(row, found(row)))]


def echo_problems(problems: list[str]) -> None:
    for problem in problems[:SHOWN_PROBLEMS]:
        click.echo(f"  {problem}", err=True)
    if len(problems) > SHOWN_PROBLEMS:
        click.echo(f"  ……另有 {len(problems) - SHOWN_PROBLEMS} 个", err=True)


@contextmanager
def staging_folder(beside: Path, prefix: str):
    """A temporary folder beside the backup or the evidence folder (the same file system, so
    a rename moves it into place), removed afterwards whatever happens."""
    try:
        staging = tempfile.TemporaryDirectory(dir=beside, prefix=prefix)
    except OSError as exc:
        raise click.ClickException(f"无法在 {beside} 中建立临时目录（{exc.strerror}）") from exc
    with staging as path:
        yield Path(path)


@contextmanager
def swapped_in(staged: Path | None, live: Path, aside: Path):
    """The staged evidence folder in place of the live one while the body runs; the old one
    back if the body fails. The old folder goes to `aside` (the staging folder, removed after)."""
    if staged is None:
        yield
        return
    old = aside / "evidence-before-restore"
    had_old = live.exists()
    if had_old:
        live.rename(old)
    staged.rename(live)
    try:
        yield
    except BaseException:
        live.rename(staged)
        if had_old:
            old.rename(live)
        raise


# --------------------------------------------------------------------------- the commands

@click.command("backup")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="备份文件（默认：instance/backups/ 下带时间的 .tar.gz 文件名）")
@with_appcontext
def backup(output: Path | None) -> None:
    """备份数据库与佐证材料文件到一个文件（运行中也可备份，得到一致的快照）。"""
    config = current_app.config
    url, kind = config["DATABASE_URL"], database_kind(config["DATABASE_URL"])
    if output is None:
        output = Path(current_app.instance_path) / "backups" / f"jixiao-{datetime.now():%Y%m%d-%H%M%S}.tar.gz"
        output.parent.mkdir(parents=True, exist_ok=True)
    with staging_folder(output.parent, ".jixiao-backup-") as staging:
        copy = staging / DATABASE_MEMBERS[kind]
        try:
            refuse_existing(output)
            rows = copy_database(url, current_app.extensions["engine"], copy)
            members = write_archive(output, kind, copy, evidence_directory(config), [r.stored_name for r in rows],
                                    now())
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:      # the disk: full, or a file unreadable half-way (nothing is left behind)
            raise click.ClickException(f"备份失败，未写出备份文件：{exc}") from exc
    click.echo(f"已备份到 {output}（{output.stat().st_size:,} 字节）：数据库与 {len(members) - 1} 个佐证材料文件")
    problems = archived_problems(rows, members)
    if problems:
        click.echo(f"警告：{len(problems)} 条佐证材料记录的文件缺失或与记录不符，未能如数备份：", err=True)
        echo_problems(problems)


@click.command("restore")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="不再询问，直接覆盖当前数据库与佐证材料")
@with_appcontext
def restore(backup_file: Path, yes: bool) -> None:
    """用备份文件覆盖当前数据库与佐证材料（请先停止网页服务与提醒进程）。"""
    config = current_app.config
    url, directory = config["DATABASE_URL"], evidence_directory(config).resolve()
    directory.parent.mkdir(parents=True, exist_ok=True)
    with staging_folder(directory.parent, ".jixiao-restore-") as staging:
        try:
            backup = unpack(backup_file, staging, database_kind(url))
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(_verified(backup, ZoneInfo(config["TIMEZONE"])))
        target = "当前数据库" if backup.evidence is None else "当前数据库与佐证材料"
        if not yes and not click.confirm(f"将用 {backup_file} 覆盖{target}，确定吗？", default=False):
            sys.exit(1)
        current_app.extensions["engine"].dispose()
        try:
            with swapped_in(backup.evidence, directory, staging):
                restore_database(url, backup.database)
        except OSError as exc:
            raise click.ClickException(f"恢复失败（{exc}），{target}未改变") from exc
    click.echo(f"已从 {backup_file} 恢复")
    _check_evidence(directory)


def _verified(backup: Unpacked, zone: ZoneInfo) -> str:
    if backup.manifest is None:
        return "这是只含数据库的旧格式备份：只恢复数据库，佐证材料文件保持不变"
    made = backup.manifest.created_at.astimezone(zone)
    return f"备份校验通过：{made:%Y-%m-%d %H:%M} 的数据库与 {len(backup.manifest.files) - 1} 个佐证材料文件"


def _check_evidence(directory: Path) -> None:
    with current_app.extensions["engine"].connect() as conn:
        rows = evidence_files(conn)
    problems = on_disk_problems(rows, directory)
    if not problems:
        click.echo(f"佐证材料核对：{len(rows)} 条记录的文件都在，大小与校验和一致")
        return
    click.echo(f"佐证材料核对：{len(rows)} 条记录中 {len(problems)} 条的文件缺失或不符：", err=True)
    echo_problems(problems)
    raise click.ClickException(f"已恢复，但有 {len(problems)} 个佐证材料文件缺失或不符（见上）")
