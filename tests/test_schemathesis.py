"""A real client against the API's own document: Schemathesis reads /api/v1/openapi.json from the
app served by gunicorn on a seeded database and calls every operation with a 填报人's token — with
data the document allows and with data it forbids. It fails on any 5xx, any answer that does not
fit the document (status, content type, body), any input the document forbids that is accepted,
and any input the document allows that is refused as malformed (400).

A 422 or 428 for allowed data is fine: the document cannot say that a unit must share the
target's base, that a period must lie in the project's year or that a stored value needs a
version; those are the domain's refusals, each in Chinese.

Bounded in time: a fixed seed and a few examples per operation (about half a minute).
`ST_SEED=… ST_MAX_EXAMPLES=…` run it with another seed or more examples.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, select

from bench.load import free_port, serve, stop
from reads.openapi import OPERATIONS
from test_api import Api, token_for, year_of

BIN = Path(sys.executable).parent
CHECKS = ("not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,"
          "negative_data_rejection,positive_data_acceptance")
# Fixed, so that a failure in CI is reproducible; ST_SEED / ST_MAX_EXAMPLES explore further.
MAX_EXAMPLES = int(os.environ.get("ST_MAX_EXAMPLES", 15))
SEED = int(os.environ.get("ST_SEED", 20230731))


def _entries(app, personas) -> None:
    """A few periods entered, so that answers carry actuals, lights, alerts and versions."""
    api = Api(app, personas.manager_a)
    py, ids = year_of(app, "招商引资专项经费")
    for name, period, body in (("参展企业数量", "2023-06", {"value": 30}),
                               ("参展企业数量", "2023-07", {"value": 35, "forecast": 70, "likelihood": "确定能"}),
                               ("参展面积", "2023-07", {"value": 200, "deviation_reasons": ["其他"], "note": "展馆调整"})):
        assert api.put(f"/indicators/{ids[name]}/actuals/{period}", body).status_code == 200
    assert api.put(f"/projects/{py}/spending/2023-07", {"amount_yuan": 15_000_000}).status_code == 200
    service, service_ids = year_of(app, "招商引资业务经费")
    assert api.put(f"/indicators/{service_ids['保障招商活动开展']}/actuals/2023-07",
                   {"assessment": "部分达成", "deviation_reasons": ["经费保障"]}).status_code == 200


def _ids(app) -> tuple[list[int], list[int]]:
    """Every project year and indicator id, in scope of the token or not (another unit's: 404)."""
    from models.indicator import Indicator
    from models.project import ProjectYear
    with Session(app.extensions["engine"]) as session:
        return (sorted(session.exec(select(ProjectYear.id))), sorted(session.exec(select(Indicator.id))))


def _config(path: Path, tokens: dict[str, str], project_years: list[int], indicators: list[int]) -> Path:
    periods = ", ".join(f'"2023-{month:02d}"' for month in range(1, 13))
    path.write_text(f"""\
headers = {{ Authorization = "Bearer {tokens['manager']}" }}
request-timeout = 30

[generation]
max-examples = {MAX_EXAMPLES}

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422", "428"]

[dictionaries.project_years]
values = {project_years}
[dictionaries.indicators]
values = {indicators}
[dictionaries.periods]
values = [{periods}]

[parameters]
"path.project_year_id" = {{ dictionary = "project_years", probability = 0.7 }}
"path.indicator_id" = {{ dictionary = "indicators", probability = 0.7 }}
"path.period" = {{ dictionary = "periods", probability = 0.5 }}

# A 填报人 may not score: the evaluator's call is made as the 审核人 of the seed's 主管部门.
[[operations]]
include-operation-id = "put_score"
headers = {{ Authorization = "Bearer {tokens['supervisor']}" }}

# Nor raise, close or return a 整改 item: those calls are the 审核人's too.
[[operations]]
include-operation-id = ["create_rectification", "close_rectification", "return_rectification"]
headers = {{ Authorization = "Bearer {tokens['supervisor']}" }}
""", encoding="utf-8")
    return path


def test_schemathesis_finds_nothing_against_the_document(seeded, personas, tmp_path):
    _entries(seeded, personas)
    tokens = {"manager": token_for(seeded, personas.manager_a), "supervisor": token_for(seeded, personas.supervisor_a)}
    config = _config(tmp_path / "schemathesis.toml", tokens, *_ids(seeded))
    port, log = free_port(), tmp_path / "gunicorn.log"
    server = serve(seeded.config["DATABASE_URL"], port, log, workers=1)
    try:
        run = subprocess.run([str(BIN / "schemathesis"), "--config-file", str(config), "run",
                              f"http://127.0.0.1:{port}/api/v1/openapi.json", "--checks", CHECKS,
                              "--seed", str(SEED), "--no-color", "--max-failures", "20"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=240)
    finally:
        stop(server)
    server_log = log.read_text(encoding="utf-8")[-5000:]
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}\n--- server log ---\n{server_log}"
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert tested and int(tested.group(1)) >= len(OPERATIONS), run.stdout     # every call of the table
