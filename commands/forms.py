"""`flask forms parse` and `flask forms import`."""
from __future__ import annotations

import getpass
import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from importers import SUPPORTED_SUFFIXES, UnreadableFile
from importers.limits import limits_from_config
from importers.sandbox import parse_many_untrusted

# The database layer is imported inside `import_` only: `parse` runs without the web app
# or the database (it is a plugin command, see pyproject.toml), so start-up stays light.


IMPORT_BATCH = 8


@click.group("forms")
def forms() -> None:
    """项目支出绩效目标申报表：解析与导入。"""


def public_form(form: dict, file_name: str | None) -> dict:
    """The form as forms.schema.json gives it; `source` only when several files are read."""
    out = {k: v for k, v in form.items() if not k.startswith("_")}
    if file_name is not None:
        out["source"] = {"file": file_name, "pages": form.get("_pages", [])}
    return out


@forms.command("parse")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def parse(files: tuple[str, ...]) -> None:
    """解析文件并以 JSON 输出，不写入数据库。"""
    from settings import load_settings
    settings = load_settings()
    results = parse_many_untrusted([Path(f) for f in files], limits_from_config(settings),
                                   workers=settings["PARSE_WORKERS"])
    out = {"forms": [], "warnings": []}
    failed = False
    for name, result in zip(files, results):
        if isinstance(result, UnreadableFile):
            click.echo(f"{name}: {result}", err=True)
            failed = True
            continue
        label = name if len(files) > 1 else None
        out["forms"].extend(public_form(f, label) for f in result.forms)
        out["warnings"].extend(f"{name}: {w}" if label else w for w in result.warnings)
    if not out["warnings"]:
        del out["warnings"]
    json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    if failed:
        sys.exit(1)


def expand(paths: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES))
        else:
            files.append(p)
    return files


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@forms.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--by", "who", default=None, help="记录为导入人的名称（默认：当前系统用户）")
@with_appcontext
def import_(paths: tuple[str, ...], who: str | None) -> None:
    """解析并导入文件或整个文件夹；每个文件要么全部导入，要么全部不导入。"""
    files = expand(paths)
    if not files:
        raise click.ClickException("没有找到可导入的文件（PDF、xlsx、txt）")
    from models.db import get_session, transaction
    from services.importing import apply_import

    who = who or f"命令行：{getpass.getuser()}"
    totals = {"files": 0, "forms": 0, "new": 0, "changed": 0, "unchanged": 0, "warnings": 0}
    errors: list[str] = []
    limits = limits_from_config(current_app.config)
    session = get_session()
    with click.progressbar(length=len(files), label="导入中", file=sys.stderr,
                           item_show_func=lambda p: p.name if p else "") as bar:
        # Parse a batch at a time on both cores (reusing the parser processes), then store the
        # batch file by file: the database stays serial, the bar moves with every file.
        for start in range(0, len(files), IMPORT_BATCH):
            chunk = files[start:start + IMPORT_BATCH]
            for path, result in zip(chunk, parse_many_untrusted(chunk, limits, workers=2)):
                bar.update(1, path)
                if isinstance(result, UnreadableFile):
                    errors.append(f"{path}: {result}")
                    continue
                digest = sha256_of(path)
                try:
                    with transaction(session):
                        # the operator's tool: it follows each form's 主管部门, as an admin's upload does
                        summary = apply_import(session, result.forms, file_name=path.name, file_sha256=digest,
                                               who=who, now=datetime.now(timezone.utc), reorganise=True,
                                               warnings=result.warnings)
                except Exception as exc:  # one file's failure leaves nothing of it behind
                    errors.append(f"{path}: 导入失败，未写入任何数据（{exc.__class__.__name__}: {exc}）")
                    continue
                totals["files"] += 1
                for key in ("forms", "new", "changed", "unchanged"):
                    totals[key] += getattr(summary, key)
                totals["warnings"] += len(result.warnings)
                for warning in result.warnings:
                    click.echo(f"警告 {path.name}: {warning}", err=True)
    click.echo(f"导入完成：文件 {totals['files']} 个，申报表 {totals['forms']} 张；"
               f"项目年度 新增 {totals['new']}，变更 {totals['changed']}，未变 {totals['unchanged']}；"
               f"警告 {totals['warnings']} 条；失败 {len(errors)} 个文件")
    for line in errors:
        click.echo(line, err=True)
    if errors:
        sys.exit(1)
