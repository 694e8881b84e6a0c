"""The import review of a form read by OCR: low-confidence fields marked, ticked or corrected
(validated like the original, all or nothing), and 确认导入 waiting until each is looked at."""
from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from conftest import PROJECT_A, csrf_token, seed_forms, text_of
from importers import ParseResult
from models.importing import ImportBatch
from models.indicator import Indicator
from models.job import ImportJobFile
from models.project import Project, ProjectYear
from services.import_jobs import create_job, parse_job, utcnow
from services.importing import form_sha256
from services.uploads import SavedFile

JOB = "d" * 32
CONFIDENCE = {"funds.annual.total": 0.55, "indicators[0].annual.target.raw": 0.62, "project_name": 0.8}


def ocr_form() -> dict:
    form = seed_forms()[0]
    form["indicators"][0]["annual"]["target"] = {"raw": "≥7O家", "kind": "qualitative", "op": None,
                                                 "value": None, "unit": None}
    form["ocr"] = True
    form["confidence"] = dict(CONFIDENCE)
    return form


def pending_ocr_job(app, forms=None) -> str:
    """A job parsed and waiting for confirmation, its file read as `forms` (OCR's result)."""
    from models.db import get_session
    with app.app_context():
        create_job(get_session(), JOB, [SavedFile("签章版.pdf", "001.pdf", 1000, "0" * 64)], "网页上传", utcnow())
    result = ParseResult(forms or [ocr_form()], ["招商引资专项经费：年度资金总额与各来源之和不一致，请核对"])
    parse_job(app.extensions["engine"], JOB, app.config["UPLOAD_DIR"], lambda path, beat: result)
    return JOB


def check(client, values: dict[str, str], ticked=(), number=1):
    data = {"csrf_token": csrf_token(client, f"/imports/{JOB}"), "path": list(CONFIDENCE)}
    form = stored_form_of(client.application)
    for path in CONFIDENCE:
        data[f"value:{path}"] = values.get(path, current(form, path))
        if path in ticked:
            data[f"ok:{path}"] = "1"
    return client.post(f"/imports/{JOB}/files/1/forms/{number}/checks", data=data)


def current(form, path):
    from services.import_checks import input_text
    return input_text(form, path)


def stored_form_of(app) -> dict:
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(ImportJobFile).where(ImportJobFile.job_id == JOB)).one().forms[0]


def confirm(client):
    return client.post(f"/imports/{JOB}/confirm", data={"csrf_token": csrf_token(client, f"/imports/{JOB}")},
                       follow_redirects=True)


def test_low_confidence_fields_are_marked_and_block_the_confirm(app, client):
    pending_ocr_job(app)
    html = client.get(f"/imports/{JOB}").get_data(as_text=True)
    text = text_of(html)
    assert "扫描件识别" in text and "待核对 3 项" in text
    assert "识别置信度低，请核对" in text
    # each field on its cell, with its confidence, linking to its line of the list
    assert re.search(r'<a class="conf-mark" href="#check-1-1-indicators-0-annual-target-raw" '
                     r'title="识别置信度低，请核对（置信度 62%）">⚠ 62%</a>', html)
    assert 'title="识别置信度低，请核对（置信度 55%）">⚠ 55%</a>' in html
    assert "第1个指标 年度指标值（参展企业数量） 62%" in text
    assert "年度资金总额（元） 55%" in text
    assert "还有 3 项识别置信度低的字段未核对，核对后才能确认导入" in text
    assert re.search(r'<button type="submit" class="primary" disabled data-keep-disabled>确认导入</button>', html)
    # the server refuses too, whatever the page showed
    text = text_of(confirm(client).get_data(as_text=True))
    assert "还有识别置信度低的字段未核对" in text
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(Project).where(Project.name == PROJECT_A)).first() is None


def test_a_field_corrected_and_the_others_ticked_are_stored_as_corrected(app, client):
    pending_ocr_job(app)
    response = check(client, {"indicators[0].annual.target.raw": "≥70家"}, ticked=("project_name",))
    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "已保存核对结果" in page and "待核对 1 项" in page and "识别为“≥7O家”" in page
    form = stored_form_of(app)
    assert form["indicators"][0]["annual"]["target"] == {"raw": "≥70家", "kind": "quantitative", "op": ">=",
                                                         "value": 70, "unit": "家"}
    assert form["_checked"] == {"indicators[0].annual.target.raw": {"status": "corrected", "read": "≥7O家"},
                                "project_name": {"status": "checked", "read": "招商引资专项经费"}}
    # still one left: the amount, corrected as a number with separators
    assert "还有识别置信度低的字段未核对" in text_of(confirm(client).get_data(as_text=True))
    assert check(client, {"funds.annual.total": "37,000,000"}).status_code == 303   # the same amount: looked at
    assert stored_form_of(app)["_checked"]["funds.annual.total"] == {"status": "checked", "read": 37000000}
    text = text_of(confirm(client).get_data(as_text=True))
    assert "导入完成" in text
    with Session(app.extensions["engine"]) as session:
        year = session.exec(select(ProjectYear).join(Project).where(Project.name == PROJECT_A)).one()
        assert year.annual_total_yuan == 37000000
        batch = session.exec(select(ImportBatch)).one()      # who settled OCR's doubts, kept with the import
        assert batch.warnings[-2:] == [
            "招商引资专项经费：识别核对：第1个指标 年度指标值（参展企业数量）由“≥7O家”更正为“≥70家”",
            "招商引资专项经费：识别核对：2 项识别置信度低的字段经人工核对无误"]
        ind = session.exec(select(Indicator).where(Indicator.project_year_id == year.id,
                                                   Indicator.annual_level3 == "参展企业数量")).one()
        assert (ind.annual_raw, ind.annual_op, ind.annual_value, ind.annual_unit) == ("≥70家", ">=", 70, "家")
        # the hash is of what was read, not of OCR's confidence or the checks
        corrected = stored_form_of(app)
        assert year.form_sha256 == form_sha256({k: v for k, v in corrected.items()
                                                if k not in ("ocr", "confidence", "_checked")})


@pytest.mark.parametrize("path, typed, message", [
    ("indicators[0].annual.target.raw", "≥7O家", "“≥7O家”不是有效的指标值"),
    ("indicators[0].annual.target.raw", "", "指标值不能为空"),
    ("funds.annual.total", "三千七百万", "“三千七百万”不是有效的数字：金额请填写数字（元）"),
    ("project_name", " ", "不能为空"),
])
def test_a_wrong_correction_is_refused_and_nothing_of_the_form_is_stored(app, client, path, typed, message):
    pending_ocr_job(app)
    before = stored_form_of(app)
    good = {"funds.annual.total": "37000000"} if path != "funds.annual.total" else {"project_name": "招商引资专项经费X"}
    response = check(client, {**good, path: typed}, ticked=tuple(CONFIDENCE))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    text = text_of(html)
    assert message in text and "本表的核对结果均未保存" in text
    assert f'value="{typed}"' in html or typed.strip() == ""     # what was typed, shown again
    assert html.count('value="1" checked> 核对无误') == 3          # the ticks, kept for the next try
    assert stored_form_of(app) == before                         # all or nothing
    assert "待核对 3 项" in text


def test_a_form_without_ocr_shows_no_checks(app, client):
    pending_ocr_job(app, forms=seed_forms()[:1])
    text = text_of(client.get(f"/imports/{JOB}").get_data(as_text=True))
    assert "识别核对" not in text and "待核对" not in text and "扫描件识别" not in text
    assert "导入完成" in text_of(confirm(client).get_data(as_text=True))


def test_an_amount_corrected_is_stored_in_yuan(app, client):
    form = ocr_form()
    form["funds"]["annual"]["total"] = 38000000          # as OCR misread it
    pending_ocr_job(app, forms=[form])
    assert check(client, {"funds.annual.total": "37 000 000.00"}, ticked=("project_name",)).status_code == 303
    assert check(client, {"indicators[0].annual.target.raw": "≥70家"}).status_code == 303
    stored = stored_form_of(app)
    assert stored["funds"]["annual"]["total"] == 37000000
    assert stored["_checked"]["funds.annual.total"] == {"status": "corrected", "read": 38000000}
    assert "导入完成" in text_of(confirm(client).get_data(as_text=True))
    with Session(app.extensions["engine"]) as session:
        year = session.exec(select(ProjectYear).join(Project).where(Project.name == PROJECT_A)).one()
        assert year.annual_total_yuan == 37000000
