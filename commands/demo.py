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


@demo.command("seed")
@with_appcontext
def seed() -> None:
    """导入示例申报表（山西省投资促进局 2023 年的三张表）；已导入则不变。"""
    session = get_session()
    for path in sorted(DEMO_DIR.glob("*.pdf")):
        result = parse_file(path)  # our own sample: trusted, no sandbox needed
        with transaction(session):
            summary = apply_import(session, result.forms, file_name=path.name, file_sha256=sha256_of(path),
                                   who="演示数据", now=datetime.now(timezone.utc), warnings=result.warnings)
        click.echo(f"{path.name}: 申报表 {summary.forms} 张，新增 {summary.new}，变更 {summary.changed}，未变 {summary.unchanged}")
