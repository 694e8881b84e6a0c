"""The API documents itself: /api/v1/openapi.json (reads/openapi.py) is served without a token and
names every route of /api/v1; docs/API.md is what `flask api-docs` writes from it, and the README
points there, not to a spec a clone of the project does not have."""
from __future__ import annotations

import json
import re
from pathlib import Path

from reads.openapi import document

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_document_is_served_without_a_token(app):
    response = app.test_client(use_cookies=False).get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    served = response.get_json()
    assert served == json.loads(json.dumps(document())) and served["openapi"] == "3.1.0"
    assert served["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}


def test_every_api_route_is_documented_and_nothing_else(app):
    """A route added to /api/v1 without its entry in the document fails here (werkzeug's
    `<int:x>` is OpenAPI's `{x}`)."""
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, methods in document()["paths"].items() for method in methods}
    assert documented == routes


def test_the_document_loads_as_openapi_and_every_reference_resolves():
    import schemathesis
    schema = schemathesis.openapi.from_dict(document())
    labels = {operation.ok().label for operation in schema.get_all_operations()}
    assert "PUT /api/v1/indicators/{indicator_id}/actuals/{period}" in labels and len(labels) == 22
    text = json.dumps(document())
    for name in re.findall(r'"#/components/schemas/(\w+)"', text):
        assert name in document()["components"]["schemas"], name


def test_what_a_caller_reads_is_in_chinese():
    """Summaries and descriptions are for the people who call the API (the docstrings are not)."""
    found = []

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("summary", "description") and isinstance(value, str) and not CJK.search(value):
                    found.append(f"{where}.{key}: {value}")
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    walk(document(), "")
    assert not found, found


def test_the_committed_reference_is_what_the_command_writes(app, tmp_path):
    runner = app.test_cli_runner()
    printed = runner.invoke(args=["api-docs"])
    assert printed.exit_code == 0, printed.output
    assert printed.output == (ROOT / "docs" / "API.md").read_text(encoding="utf-8"), \
        "docs/API.md is stale: run .venv/bin/flask --app app api-docs -o docs/API.md"
    written = runner.invoke(args=["api-docs", "--json", "-o", str(tmp_path / "openapi.json")])
    assert written.exit_code == 0 and "已写入" in written.output
    assert json.loads((tmp_path / "openapi.json").read_text(encoding="utf-8")) == json.loads(json.dumps(document()))


def test_the_reference_names_every_call_and_every_shape():
    reference = (ROOT / "docs" / "API.md").read_text(encoding="utf-8")
    for path, methods in document()["paths"].items():
        for method in methods:
            assert f"`{method.upper()} {path}`" in reference
    for name in document()["components"]["schemas"]:
        assert f"### {name}\n" in reference
    assert "| `last_light` |" in reference and "| `original_target` |" in reference


def test_the_readme_points_to_the_reference_it_ships():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/API.md)" in readme and "/api/v1/openapi.json" in readme
    assert "shared/spec" not in readme
