"""docs/API.md: the OpenAPI document (reads/openapi.py) as a readable reference — the calls with
their parameters, bodies and answers, then every schema as a table. Written by
`flask --app app api-docs`; tests/test_api_docs.py checks that the committed file is what it
writes, so the reference cannot fall behind the API.
"""
from __future__ import annotations

import json

SCHEMAS = "#/components/schemas/"
HEADER = """\
<!-- Generated from /api/v1/openapi.json by `.venv/bin/flask --app app api-docs -o docs/API.md`; do not edit. -->
"""


def markdown(document: dict) -> str:
    info = document["info"]
    lines = [HEADER, f"# {info['title']}", "", info["description"].strip(), "",
             f"机器可读的文档：`GET /api/v1/openapi.json`（OpenAPI {document['openapi']}，无需令牌）。", "",
             "## 调用", "", "| 调用 | 说明 |", "|---|---|"]
    operations = [(path, method, op) for path, methods in document["paths"].items() for method, op in methods.items()]
    lines += [f"| [`{method.upper()} {path}`](#{op['operationId']}) | {_cell(op['summary'])} |"
              for path, method, op in operations]
    for path, method, op in operations:
        lines += ["", f"### {op['operationId']}", "", f"`{method.upper()} {path}`{_auth(op)}", "", op["summary"]]
        lines += _parameters(op.get("parameters", []))
        if "requestBody" in op:
            lines += ["", f"请求体（JSON）：{_type(op['requestBody']['content']['application/json']['schema'])}"]
        lines += ["", "| 状态 | 答复 | 说明 |", "|---|---|---|"]
        for status, response in op["responses"].items():
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            headers = "，".join(f"头 `{name}`" for name in response.get("headers", {}))
            lines.append(f"| {status} | {_type(schema)} | {_cell(response['description'])}"
                         f"{'（' + headers + '）' if headers else ''} |")
    lines += ["", "## 数据结构"]
    for name, schema in document["components"]["schemas"].items():
        lines += _schema(name, schema)
    return "\n".join(lines) + "\n"


def _auth(op: dict) -> str:
    return "（无需令牌）" if op.get("security") == [] else ""


def _parameters(parameters: list[dict]) -> list[str]:
    if not parameters:
        return []
    lines = ["", "| 参数 | 位置 | 类型 | 必填 | 说明 |", "|---|---|---|---|---|"]
    for p in parameters:
        empty = "；空值与不传相同" if p.get("allowEmptyValue") else ""
        lines.append(f"| `{p['name']}` | {p['in']} | {_type(p['schema'])} | {'是' if p['required'] else '否'} "
                     f"| {_cell(p['description'] + empty)} |")
    return lines


def _schema(name: str, schema: dict) -> list[str]:
    lines = ["", f"### {name}", ""]
    if schema.get("description"):
        lines += [schema["description"], ""]
    required = set(schema.get("required", []))
    lines += ["| 字段 | 类型 | 必有 | 说明 |", "|---|---|---|---|"]
    for field, prop in schema.get("properties", {}).items():
        lines.append(f"| `{field}` | {_type(prop)} | {'是' if field in required else '否'} "
                     f"| {_cell(prop.get('description', ''))} |")
    if schema.get("additionalProperties") is False:
        lines += ["", "不含其他字段。"]
    return lines


def _type(schema: dict) -> str:
    """A schema in one table cell: `$ref`s as links, unions with |, the constraints in words."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(SCHEMAS)
        return f"[{name}](#{name.lower()})"
    if "anyOf" in schema:
        return " \\| ".join(_type(part) for part in schema["anyOf"])
    if "enum" in schema:
        return " \\| ".join(_code(json.dumps(v, ensure_ascii=False)) for v in schema["enum"])
    kind = schema.get("type", "任意")
    if kind == "array":
        size = (f"，{schema['minItems']}–{schema['maxItems']} 项" if "minItems" in schema else "")
        return f"{_type(schema.get('items', {}))} 的数组{size}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"对象：名称 → {_type(schema['additionalProperties'])}"
    return kind + _constraints(schema)


def _constraints(schema: dict) -> str:
    words = [f"{key} {schema[key]}" for key in ("format",) if key in schema]
    words += [f"{sign} {schema[key]}" for key, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"),
                                                       ("maximum", "≤"), ("exclusiveMaximum", "<"))
              if key in schema]
    if "maxLength" in schema:
        words.append(f"至多 {schema['maxLength']} 字")
    if "pattern" in schema:
        words.append(f"格式 {_code(schema['pattern'])}")
    return f"（{'，'.join(words)}）" if words else ""


def _code(text: str) -> str:
    return f"`{text}`".replace("|", "\\|")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
