"""`flask api-docs [--json] [-o FILE]`: the API reference (docs/API.md) or the OpenAPI document
itself, from the models the API answers through (reads/openapi.py)."""
from __future__ import annotations

from pathlib import Path

import click

from reads.api_markdown import markdown
from reads.openapi import document, document_json


@click.command("api-docs")
@click.option("--json", "as_json", is_flag=True, help="输出 OpenAPI 文档（JSON），而不是 Markdown 参考。")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="写入该文件（缺省：标准输出），例如 docs/API.md。")
def api_docs(as_json: bool, output: Path | None) -> None:
    """生成 JSON API 的参考文档（Markdown，即 docs/API.md）或 OpenAPI 文档。"""
    text = document_json() if as_json else markdown(document())
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"已写入 {output}")
