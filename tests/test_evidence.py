"""Evidence files (佐证材料): accepted by content and size, kept outside static/, downloaded only
by those who may see the project, removed by editors; a failed transaction leaves no file."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlmodel import Session, select

from conftest import csrf_token, signed_in, text_of
from models.evidence import DOC, DOCX, PDF, PNG, XLSX, Evidence, sniff
from test_views_actuals import indicator_id, record, today_is  # noqa: F401 (fixture)

HX = {"HX-Request": "true"}
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def ooxml(main: str | None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        types = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        if main:
            types += f'<Override PartName="/word/document.xml" ContentType="{main}"/>'
        z.writestr("[Content_Types].xml", types + "</Types>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def ole(stream: str) -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + stream.encode("utf-16-le") + b"\x00\x00" + b"\x00" * 64


DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


@pytest.fixture
def evidence_dir(seeded, tmp_path):
    directory = tmp_path / "evidence-files"
    seeded.config["EVIDENCE_DIR"] = str(directory)
    return directory


@pytest.fixture
def manager(seeded, personas, today_is, evidence_dir):  # noqa: F811
    client = signed_in(seeded, personas.manager_a)
    assert record(client, seeded, "参展企业数量", value="35").status_code == 200
    return client


def upload(client, app, files, level3="参展企业数量", period="2023-07", htmx=True):
    data = {"csrf_token": csrf_token(client, "/projects"), "period": period,
            "files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(f"/indicators/{indicator_id(app, level3)}/evidence", data=data, headers=HX if htmx else {},
                       content_type="multipart/form-data")


def rows(app) -> list[Evidence]:
    with Session(app.extensions["engine"]) as session:
        return list(session.exec(select(Evidence).order_by(Evidence.id)))


@pytest.mark.parametrize("content, kind", [
    (PDF_BYTES, PDF), (PNG_BYTES, PNG), (ooxml(DOCX_MAIN), DOCX), (ooxml(XLSX_MAIN), XLSX), (ole("WordDocument"), DOC),
    (b"<html><script>alert(1)</script></html>", None), (b"MZ\x90\x00 executable", None), (ooxml(None), None),
    (ole("SummaryInformation"), None), (b"PK\x03\x04 not really a zip", None),
])
def test_the_kind_is_decided_by_the_content(tmp_path, content, kind):
    path = tmp_path / "f"
    path.write_bytes(content)
    assert sniff(path) == kind


def test_a_pdf_is_stored_outside_static_and_listed_in_the_row(seeded, personas, manager, evidence_dir):
    response = upload(manager, seeded, [("参展合同.pdf", PDF_BYTES), ("展位照片.png", PNG_BYTES)])
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert "已上传佐证材料 2 个" in text and "参展合同.pdf" in text and "展位照片.png" in text
    stored = rows(seeded)
    assert [(e.file_name, e.content_type, e.size_bytes, e.uploaded_by) for e in stored] == [
        ("参展合同.pdf", PDF, len(PDF_BYTES), "tianbao"), ("展位照片.png", PNG, len(PNG_BYTES), "tianbao")]
    files = sorted(p.name for p in evidence_dir.iterdir())
    assert files == sorted(e.stored_name for e in stored) and all(re.fullmatch(r"[0-9a-f]{32}", f) for f in files)
    assert not list((Path(__file__).resolve().parents[1] / "static").glob(stored[0].stored_name + "*"))


def test_the_download_is_an_attachment_with_its_name_for_those_who_see_the_project(seeded, personas, manager):
    upload(manager, seeded, [("参展合同.pdf", PDF_BYTES)])
    evidence = rows(seeded)[0]
    for person in (personas.manager_a, personas.supervisor_a, personas.admin):
        client = manager if person == personas.manager_a else signed_in(seeded, person)
        response = client.get(f"/evidence/{evidence.id}")
        assert response.status_code == 200, person.username
        assert response.data == PDF_BYTES
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and f"filename*=UTF-8''{quote('参展合同.pdf')}" in disposition
    other = signed_in(seeded, personas.manager_b)
    response = other.get(f"/evidence/{evidence.id}")
    assert response.status_code == 404 and "参展合同" not in response.get_data(as_text=True)


@pytest.mark.parametrize("name, content, message", [
    ("合同.pdf", b"just some text, not a PDF", "“合同.pdf”不是允许的文件类型"),
    ("页面.html", b"<html><script>alert(1)</script></html>", "不是允许的文件类型"),
    ("空.pdf", b"", "“空.pdf”是空文件"),
])
def test_a_file_of_another_kind_is_refused_and_nothing_is_kept(seeded, manager, evidence_dir, name, content, message):
    response = upload(manager, seeded, [(name, content)])
    assert response.status_code == 422
    assert message in text_of(response.get_data(as_text=True))
    assert rows(seeded) == [] and list(evidence_dir.glob("*")) == []


def test_a_file_over_the_limit_is_refused(seeded, manager, evidence_dir):
    seeded.config["EVIDENCE_MAX_BYTES"] = 1024 * 1024
    response = upload(manager, seeded, [("好.pdf", PDF_BYTES), ("大.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024))])
    assert response.status_code == 422
    assert "“大.pdf”超过 1 MB，不能上传" in text_of(response.get_data(as_text=True))
    assert rows(seeded) == [] and list(evidence_dir.glob("*")) == []   # the good one is not kept either


def test_evidence_needs_the_periods_actual_first(seeded, manager):
    response = upload(manager, seeded, [("合同.pdf", PDF_BYTES)], level3="参展面积")
    assert response.status_code == 422
    assert "请先保存2023年7月的实际值，再上传佐证材料" in text_of(response.get_data(as_text=True))


def test_a_failed_transaction_leaves_no_file_behind(seeded, manager, evidence_dir, monkeypatch):
    import views.evidence

    def broken(*args, **kwargs):
        raise RuntimeError("database is gone")
    monkeypatch.setattr(views.evidence, "record_evidence", broken)
    response = upload(manager, seeded, [("合同.pdf", PDF_BYTES)])
    assert response.status_code == 500
    assert rows(seeded) == [] and list(evidence_dir.glob("*")) == []


def test_editors_delete_evidence_and_readers_may_not(seeded, personas, manager, evidence_dir):
    upload(manager, seeded, [("合同.pdf", PDF_BYTES)])
    evidence = rows(seeded)[0]
    reader = signed_in(seeded, personas.supervisor_a)
    response = reader.post(f"/evidence/{evidence.id}/delete", data={"csrf_token": csrf_token(reader, "/projects")})
    assert response.status_code == 403 and len(rows(seeded)) == 1
    response = manager.post(f"/evidence/{evidence.id}/delete", headers=HX,
                            data={"csrf_token": csrf_token(manager, "/projects")})
    assert response.status_code == 200 and "已删除佐证材料“合同.pdf”" in text_of(response.get_data(as_text=True))
    assert rows(seeded) == [] and list(evidence_dir.glob("*")) == []
    assert manager.get(f"/evidence/{evidence.id}").status_code == 404


def test_without_javascript_the_upload_comes_back_to_the_row(seeded, personas, manager):
    response = upload(manager, seeded, [("合同.pdf", PDF_BYTES)], htmx=False)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#ind-{indicator_id(seeded, '参展企业数量')}")
    assert "参展企业数量：已上传佐证材料 1 个。" in text_of(manager.get(response.headers["Location"]).get_data(as_text=True))
