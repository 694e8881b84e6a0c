"""Importing from the web: upload → progress → review → confirm or cancel, as a user sees it.

CSRF protection stays on in every test: the token is read from the page like a browser
would, and one test proves that a POST without it is refused.
"""
from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from conftest import (DEPARTMENT_B, DEPARTMENT_B_CODE, PROJECT_A, SEED_ANNUAL_COUNTS, SEED_NAMES, SEED_PDF, add_user,
                      csrf_token, job_id_of, join_import_threads, make_app, seed_forms, seed_text, signed_in, text_of,
                      upload, wait_for_job)
from models.importing import ImportBatch
from models.indicator import Indicator
from models.job import ImportJob
from models.org import Department, Unit
from models.project import Project, ProjectYear
from services.import_jobs import create_job, parse_job, utcnow
from services.uploads import SavedFile

CHANGED_TXT = ("changed.txt", seed_text(("\t≥70家", "\t≥80家"), ("\t≥500平方米", "\t*")))


def count(app, model) -> int:
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def annual_targets(app, project_name: str) -> dict[str, str]:
    with Session(app.extensions["engine"]) as session:
        rows = session.exec(select(Indicator.annual_level3, Indicator.annual_raw)
                            .join(ProjectYear, ProjectYear.id == Indicator.project_year_id)
                            .join(Project, Project.id == ProjectYear.project_id)
                            .where(Project.name == project_name, Indicator.retired_at.is_(None)))
        return dict(rows.all())


def imported(client, app, files) -> tuple[str, str]:
    """Upload, wait for the parse, and return the job id and the review page's HTML."""
    response = upload(client, files)
    assert response.status_code == 303
    job_id = job_id_of(response)
    wait_for_job(app, job_id)
    review = client.get(f"/imports/{job_id}")
    assert review.status_code == 200
    return job_id, review.get_data(as_text=True)


def confirm(client, job_id: str):
    return client.post(f"/imports/{job_id}/confirm", data={"csrf_token": csrf_token(client)},
                       follow_redirects=True)


# --------------------------------------------------------------------------- files a user may bring

def pdf_bytes(draw, **canvas_options) -> bytes:
    from reportlab.pdfgen import canvas
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, **canvas_options)
    draw(c)
    c.showPage()
    c.save()
    return buffer.getvalue()


def encrypted_pdf() -> bytes:
    return pdf_bytes(lambda c: c.drawString(72, 720, "Budget 2023"), encrypt="secret")


def scanned_pdf() -> bytes:
    """A page with only a picture of a table: lines and shapes, no text layer."""
    def draw(c):
        for y in range(200, 700, 40):
            c.line(72, y, 520, y)
        c.rect(72, 200, 448, 480)
    return pdf_bytes(draw)


def pdf_without_a_form() -> bytes:
    return pdf_bytes(lambda c: c.drawString(72, 720, "Annual report of the provincial budget, 2023"))


BAD_FILES = [
    ("不是PDF.pdf", b"This is a Word document, renamed.", "不是有效的 PDF 文件"),
    ("空文件.pdf", b"", "文件为空"),
    ("加密.pdf", encrypted_pdf(), "文件已加密，请上传未加密的 PDF"),
    ("扫描件.pdf", scanned_pdf(), "未在文件中找到项目支出绩效目标申报表"),
    ("损坏.pdf", SEED_PDF.read_bytes()[:40_000], "文件已损坏或格式无法识别"),
    ("预算说明.pdf", pdf_without_a_form(), "未在文件中找到项目支出绩效目标申报表"),
    ("申报表.docx", b"PK-not-really-a-zip", "不支持的文件类型"),
]


# --------------------------------------------------------------------------- the upload page and CSRF

def test_the_upload_page_offers_multiple_files_with_progress_and_a_token(client):
    page = client.get("/imports/new").get_data(as_text=True)
    form = re.search(r"<form id=\"upload-form\".*?</form>", page, flags=re.S).group(0)
    assert 'enctype="multipart/form-data"' in form and 'type="file" name="files" multiple' in form
    assert 'accept=".pdf,.xlsx,.txt' in form
    assert re.search(r'name="csrf_token" value="[^"]+"', form)
    assert re.search(r"hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'", form)
    assert '<progress class="upload-progress"' in form
    assert "每个不超过 50 MB" in text_of(form)


def test_a_post_without_the_csrf_token_is_refused_in_chinese(app, client):
    response = client.post("/imports", data={"files": [(io.BytesIO(SEED_PDF.read_bytes()), "seed_forms.pdf")]},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "安全校验未通过：页面已过期或缺少校验码，请刷新页面后重试" in response.get_data(as_text=True)
    assert count(app, ImportJob) == 0
    assert not Path(app.config["UPLOAD_DIR"]).exists()


def test_the_token_also_works_as_the_htmx_header(client):
    token = csrf_token(client)
    response = client.post("/imports", headers={"X-CSRFToken": token, "HX-Request": "true"},
                           data={"files": []}, content_type="multipart/form-data")
    assert response.status_code == 422      # past the CSRF check, stopped by validation


def test_confirm_and_cancel_without_a_token_are_refused(app, client):
    job_id = job_id_of(upload(client, [("seed_forms.pdf", SEED_PDF.read_bytes())]))
    wait_for_job(app, job_id)
    for action in ("confirm", "cancel"):
        response = client.post(f"/imports/{job_id}/{action}")
        assert response.status_code == 400
        assert "安全校验未通过" in response.get_data(as_text=True)
    assert count(app, Project) == 0
    assert wait_for_job(app, job_id).state == "ready"


# --------------------------------------------------------------------------- validation (422)

def test_uploading_nothing_answers_422_with_the_page_and_its_message(client):
    response = client.post("/imports", data={"csrf_token": csrf_token(client)}, content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" in html and "请选择要上传的文件（PDF、xlsx 或 txt）。" in html


def test_uploading_nothing_with_htmx_answers_422_with_the_form_alone(client):
    response = client.post("/imports", data={"csrf_token": csrf_token(client)}, headers={"HX-Request": "true"},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<form id="upload-form"') and "<html" not in html
    assert 'role="alert">请选择要上传的文件（PDF、xlsx 或 txt）。' in html
    assert re.search(r'name="csrf_token" value="[^"]+"', html)     # the swapped form brings its token


def test_too_many_files_at_once_are_refused(tmp_path):
    app = make_app(tmp_path, MAX_UPLOAD_FILES=2)
    client = signed_in(app, add_user(app, "admin", "admin"))
    response = upload(client, [(f"{n}.txt", b"x") for n in range(3)])
    assert response.status_code == 422
    assert "一次最多上传 2 个文件，本次选择了 3 个。" in response.get_data(as_text=True)
    app.extensions["engine"].dispose()


def test_a_request_larger_than_allowed_is_413_in_chinese(tmp_path):
    app = make_app(tmp_path, MAX_UPLOAD_BYTES=10_000)    # requests may carry ten times that
    client = signed_in(app, add_user(app, "admin", "admin"))
    response = upload(client, [("seed_forms.pdf", SEED_PDF.read_bytes())])
    assert response.status_code == 413
    assert "上传的文件过大" in response.get_data(as_text=True)
    app.extensions["engine"].dispose()


def _upload_dirs(app) -> list[str]:
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_a_user_may_keep_only_so_many_unconfirmed_uploads(tmp_path):
    app = make_app(tmp_path, PENDING_UPLOADS_MAX_JOBS=2)
    client = signed_in(app, add_user(app, "tianbao", "admin"))
    other = signed_in(app, add_user(app, "admin", "admin"))
    first, _second = (job_id_of(upload(client, [(f"{n}.txt", b"x")])) for n in range(2))
    kept = _upload_dirs(app)
    refused = upload(client, [("3.txt", b"x")])
    assert refused.status_code == 422
    assert ("您已有 2 批上传尚未确认导入，已达上限 2 批。请先确认导入或取消之前的上传，再上传新文件。"
            in text_of(refused.get_data(as_text=True)))
    assert count(app, ImportJob) == 2 and _upload_dirs(app) == kept         # nothing of it was kept
    htmx = upload(client, [("3.txt", b"x")], htmx=True)
    assert htmx.status_code == 422 and "已达上限 2 批" in htmx.get_data(as_text=True)
    assert upload(other, [("别人的.txt", b"x")]).status_code == 303           # the quota is each user's own
    wait_for_job(app, first)
    client.post(f"/imports/{first}/cancel", data={"csrf_token": csrf_token(client)})
    assert upload(client, [("3.txt", b"x")]).status_code == 303              # cancelling one makes room
    join_import_threads()
    app.extensions["engine"].dispose()


def test_unconfirmed_uploads_may_take_only_so_much_room(tmp_path):
    app = make_app(tmp_path, PENDING_UPLOADS_MAX_BYTES=3 * 1024 * 1024)
    client = signed_in(app, add_user(app, "tianbao", "admin"))
    assert upload(client, [("大.txt", b"x" * 2 * 1024 * 1024)]).status_code == 303
    refused = upload(client, [("又一个.txt", b"x" * 1024 * 1024), ("小.txt", b"y" * 1024)])
    assert refused.status_code == 422
    assert ("您尚未确认导入的上传共 2.0 MB，加上本次的 1.0 MB 将超过上限 3.0 MB。请先确认导入或取消之前的上传，再上传新文件。"
            in text_of(refused.get_data(as_text=True)))
    assert count(app, ImportJob) == 1 and len(_upload_dirs(app)) == 1
    assert upload(client, [("小.txt", b"y" * 1024)]).status_code == 303        # what still fits goes in
    join_import_threads()
    app.extensions["engine"].dispose()


# --------------------------------------------------------------------------- upload → progress → review

def test_an_upload_is_saved_outside_static_and_redirects_to_its_job(app, client):
    response = upload(client, [("山西省投资促进局_申报表.pdf", SEED_PDF.read_bytes())])
    assert response.status_code == 303
    job_id = job_id_of(response)
    job = wait_for_job(app, job_id)
    assert job.state == "ready" and job.files_total == 1 and job.files_done == 1
    saved = list((Path(app.config["UPLOAD_DIR"]) / job_id).iterdir())
    assert [p.name for p in saved] == ["001.pdf"]                  # never the uploaded name on disk
    assert saved[0].read_bytes() == SEED_PDF.read_bytes()
    assert not any(Path(app.static_folder).rglob("*.pdf"))


def test_an_htmx_upload_answers_with_hx_redirect(app, client):
    response = upload(client, [("seed_forms.pdf", SEED_PDF.read_bytes())], htmx=True)
    assert response.status_code == 200
    assert re.fullmatch(r"/imports/[0-9a-f]{32}", response.headers["HX-Redirect"])
    wait_for_job(app, job_id_of(response))


def _parsing_job(app, done: int, names=("一.pdf", "二.pdf", "三.pdf"), heartbeat=None) -> str:
    """A job as a worker leaves it mid-way (no thread: the test sets the row itself)."""
    from models.db import get_session
    files = [SavedFile(n, f"{i:03d}.pdf", 100, "0" * 64) for i, n in enumerate(names, 1)]
    with app.app_context():
        job_id = create_job(get_session(), "a" * 32, files, "网页上传", utcnow()).id
    with Session(app.extensions["engine"]) as session:
        job = session.get(ImportJob, job_id)
        job.state, job.files_done, job.current_file = "parsing", done, names[done]
        job.heartbeat_at = heartbeat or utcnow()
        session.add(job)
        session.commit()
    return job_id


def test_while_parsing_the_page_shows_which_file_and_polls(app, client):
    job_id = _parsing_job(app, done=1)
    html = client.get(f"/imports/{job_id}").get_data(as_text=True)
    assert "正在解析 第 2/3 个文件： 二.pdf" in text_of(html)
    assert f'hx-get="/imports/{job_id}/progress"' in html and 'hx-trigger="every 1s"' in html
    assert '<progress max="3" value="1">' in html
    assert '<meta http-equiv="refresh" content="2">' in html         # without JavaScript

    fragment = client.get(f"/imports/{job_id}/progress")
    assert "<html" not in fragment.get_data(as_text=True)
    assert "HX-Refresh" not in fragment.headers


def test_when_parsing_ends_the_poll_reloads_the_page_into_the_review(app, client):
    job_id = job_id_of(upload(client, [("seed_forms.pdf", SEED_PDF.read_bytes())]))
    wait_for_job(app, job_id)
    assert client.get(f"/imports/{job_id}/progress").headers["HX-Refresh"] == "true"


def test_a_job_whose_worker_died_shows_as_failed(app, client):
    job_id = _parsing_job(app, done=0, heartbeat=utcnow() - timedelta(minutes=10))
    text = text_of(client.get(f"/imports/{job_id}").get_data(as_text=True))
    assert "解析中断：处理此任务的进程已停止响应。请取消后重新上传。" in text
    assert wait_for_job(app, job_id).state == "failed"


def test_a_job_with_a_recent_heartbeat_is_not_stale(app, client):
    job_id = _parsing_job(app, done=0, heartbeat=utcnow() - timedelta(seconds=20))
    assert "正在解析" in text_of(client.get(f"/imports/{job_id}").get_data(as_text=True))


def test_the_review_shows_each_form_as_read_and_stores_nothing_yet(app, client):
    _job_id, html = imported(client, app, [("seed_forms.pdf", SEED_PDF.read_bytes())])
    text = text_of(html)
    assert "共 1 个文件，读出申报表 3 张： 新增 3 张 变更 0 张 未变 0 张" in text
    for name, annual in SEED_ANNUAL_COUNTS.items():
        assert f"{name} 新增 2023年度 · 年度指标 {annual} 个" in text
    for expected in ("项目名称 招商引资专项经费", "主管部门及代码 216-山西省商务厅", "实施单位 山西省投资促进局",
                     "项目属性 经常性项目（长期开展）", "项目期 3年", "年度 2023",
                     "资金总额 111,000,000.00 37,000,000.00", "其他资金 空 空",
                     "实施期总体目标 进一步加强经济合作", "项目概况 招商引资前期工作",
                     # 一级 | 实施期 二级/三级/指标值/parsed | 年度 … | status
                     "1 产出指标 数量指标 参展企业数量 ≥100家 ≥ 100 家 数量指标 参展企业数量 ≥70家 ≥ 70 家 新增",
                     "10 成本指标 业务成本 ≤11100万元 ≤ 11,100 万元 成本指标 业务成本 ≤3700万元 ≤ 3,700 万元 新增",
                     "保障招商活动开展 保障 定性 质量指标 保障招商活动开展 保障 定性 新增"):
        assert expected in text, expected
    assert "数据库中还没有这个项目年度：确认后新建，14 个指标全部新增。" in text
    assert count(app, Project) == 0 and count(app, ImportBatch) == 0


def test_the_review_of_a_changed_form_shows_old_and_new_and_highlights_warnings(seeded, client):
    _job_id, html = imported(client, seeded, [CHANGED_TXT])
    text = text_of(html)
    assert "招商引资专项经费 变更" in text
    assert "与已导入的版本相比有变化：确认后更新，原指标值保留在变更记录中。" in text
    assert "参展企业数量（年度）： ≥70家 → ≥80家" in text
    assert "参展面积（年度）： ≥500平方米 → *" in text
    assert "其他变更： 实施期目标、年度目标、必要性" in text
    # the text file writes 服务对象满意度指标 where the PDF has 服务对象满意度: a 二级 change, same target
    assert "投资者满意度（年度）：指标值未变（≥95%），二级指标或名称有改动" in text
    assert "年度二级指标：服务对象满意度 → 服务对象满意度指标" in text
    # the row with the warning is amber and says why; its missing target is marked
    row = re.search(r'<tr class="row-warn row-changed">.*?</tr>', html, flags=re.S).group(0)
    assert "参展面积" in row and "无目标" in row
    assert "第2个指标（参展面积）的年度指标值为空或无目标（“*”）" in text_of(row)
    assert "解析警告 第2个指标（参展面积）的年度指标值为空或无目标（“*”）" in text
    # in the table: the old target struck through, the new one beside it
    assert '<del class="old-target">≥70家</del> → <ins class="raw">≥80家</ins>' in html
    assert annual_targets(seeded, "招商引资专项经费")["参展企业数量"] == "≥70家"   # nothing stored yet


def test_a_form_already_stored_shows_as_unchanged(seeded, client):
    _job_id, html = imported(client, seeded, [("seed_forms.pdf", SEED_PDF.read_bytes())])
    text = text_of(html)
    assert "新增 0 张 变更 0 张 未变 3 张" in text
    assert "与已导入的内容完全一致：确认后不会写入。" in text
    # nothing to write: 确认导入 is disabled, above and below the review, and says why
    buttons = re.findall(r'<button type="submit" class="primary"([^>]*)>确认导入</button>\s*</form>\s*'
                         r'<span class="hint nothing-to-import">([^<]*)</span>', html)
    assert buttons == [(" disabled data-keep-disabled", "与已存数据相同，无需导入")] * 2, buttons


def test_a_changed_form_can_be_confirmed(seeded, client):
    _job_id, html = imported(client, seeded, [CHANGED_TXT])
    assert re.findall(r'<button type="submit" class="primary"([^>]*)>确认导入</button>', html) == ["", ""]
    assert "无需导入" not in html


def test_bad_files_get_a_chinese_message_in_red_and_nothing_of_them_is_stored(app, client):
    job_id, html = imported(client, app, [(name, content) for name, content, _message in BAD_FILES])
    for name, _content, message in BAD_FILES:
        section = re.search(rf'<section class="file-review unreadable" id="file-\d+">\s*<header class="file-head">'
                            rf'\s*<h2><span class="file-name">{re.escape(name)}</span>.*?</section>',
                            html, flags=re.S)
        assert section, name
        error = re.search(r'<p class="file-error" role="alert">(.*?)</p>', section.group(0), flags=re.S).group(1)
        assert message in error and error.endswith("此文件不会导入。"), (name, error)
    assert "Traceback" not in html
    assert f"{len(BAD_FILES)} 个文件无法导入" in text_of(html)

    result = text_of(confirm(client, job_id).get_data(as_text=True))
    assert "未导入 不是有效的 PDF 文件" in result
    assert count(app, Project) == 0 and count(app, ImportBatch) == 0


def test_a_file_over_the_size_limit_is_refused_by_name(tmp_path):
    app = make_app(tmp_path, MAX_UPLOAD_BYTES=100_000)
    client = signed_in(app, add_user(app, "admin", "admin"))
    _job_id, html = imported(client, app, [("seed_forms.pdf", SEED_PDF.read_bytes())])
    assert re.search(r"无法读取：文件过大（0\.1\d* MB），上限为 0\.1 MB。此文件不会导入。", text_of(html))
    join_import_threads()
    app.extensions["engine"].dispose()


# --------------------------------------------------------------------------- confirm and cancel

def test_confirm_stores_the_forms_and_shows_what_each_file_did(app, client):
    job_id, html = imported(client, app, [("seed_forms.pdf", SEED_PDF.read_bytes()), ("坏.pdf", b"not a pdf")])
    form = re.search(rf'<form method="post" action="/imports/{job_id}/confirm".*?</form>', html, flags=re.S).group(0)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)      # as the browser sends it
    response = client.post(f"/imports/{job_id}/confirm", data={"csrf_token": token}, follow_redirects=True)
    text = text_of(response.get_data(as_text=True))
    assert "导入完成，各文件的结果见下方。" in text
    assert "seed_forms.pdf 已导入 3 3 0 0 招商引资专项经费（2023） 招商引资业务经费（2023） 网络运行维护费（2023）" in text
    assert "坏.pdf 未导入 不是有效的 PDF 文件（文件头不是 %PDF） — — — —" in text
    assert {name: len([t for t in annual_targets(app, name).values() if t]) for name in SEED_NAMES} == SEED_ANNUAL_COUNTS
    with Session(app.extensions["engine"]) as session:
        batch = session.exec(select(ImportBatch)).one()
        assert (batch.file_name, batch.imported_by, batch.new_count) == ("seed_forms.pdf", "admin", 3)
    assert "admin 上传于" in text       # the job, too, says who
    assert not (Path(app.config["UPLOAD_DIR"]) / job_id).exists()     # the uploads are not kept


def test_confirming_twice_stores_once_and_says_so(app, client):
    job_id, _html = imported(client, app, [("seed_forms.pdf", SEED_PDF.read_bytes())])
    confirm(client, job_id)
    again = text_of(confirm(client, job_id).get_data(as_text=True))
    assert "这批文件已经确认导入过，本次没有重复导入。" in again
    assert count(app, ImportBatch) == 1 and count(app, Project) == 3 and count(app, Indicator) == 27


def test_confirming_a_changed_form_updates_it_and_keeps_the_old_target(seeded, client):
    job_id, _html = imported(client, seeded, [CHANGED_TXT])
    text = text_of(confirm(client, job_id).get_data(as_text=True))
    assert "changed.txt 已导入 3 0 3 0" in text
    assert annual_targets(seeded, "招商引资专项经费")["参展企业数量"] == "≥80家"
    pid = re.search(r'href="/projects/(\d+)\?year=2023">招商引资专项经费', confirm(client, job_id).get_data(as_text=True))
    page = text_of(client.get(f"/projects/{pid.group(1)}").get_data(as_text=True))
    assert "参展企业数量 年度 ≥70家 ≥80家 changed.txt" in page


def test_an_unchanged_file_writes_nothing(seeded, client):
    job_id, _html = imported(client, seeded, [("seed_forms.pdf", SEED_PDF.read_bytes())])
    assert "seed_forms.pdf 内容未变，未写入 3 0 0 3" in text_of(confirm(client, job_id).get_data(as_text=True))
    assert count(seeded, ImportBatch) == 1


def test_one_file_failing_to_store_leaves_nothing_of_it_and_the_others_are_stored(seeded, client, monkeypatch):
    from services import import_jobs
    real = import_jobs.apply_import

    def fails_after_writing(session, forms, **kwargs):
        summary = real(session, forms, **kwargs)
        if kwargs["file_name"] == "changed.txt":
            raise RuntimeError("disk full")      # after the rows were written: they must all go
        return summary

    monkeypatch.setattr(import_jobs, "apply_import", fails_after_writing)
    second = ("招商引资业务经费_更正.txt", seed_text(("\t≥100次", "\t≥120次")))
    job_id, _html = imported(client, seeded, [CHANGED_TXT, second])
    text = text_of(confirm(client, job_id).get_data(as_text=True))
    assert "changed.txt 导入失败 导入失败，未写入此文件的任何数据（RuntimeError）" in text
    assert "招商引资业务经费_更正.txt 已导入" in text
    assert annual_targets(seeded, "招商引资专项经费")["参展企业数量"] == "≥70家"      # first file: nothing
    assert "≥120次" in annual_targets(seeded, "招商引资业务经费").values()              # second file: stored
    assert count(seeded, ImportBatch) == 2


def test_the_same_project_year_in_two_files_is_flagged(seeded, client):
    _job_id, html = imported(client, seeded, [CHANGED_TXT, ("seed_forms.pdf", SEED_PDF.read_bytes())])
    text = text_of(html)
    assert "本批上传中，seed_forms.pdf 也含有“招商引资专项经费”2023年度的申报表。" in text
    assert "本批上传中，changed.txt 也含有“招商引资专项经费”2023年度的申报表。" in text
    assert "排在后面的会覆盖前面的" in text


def test_cancel_stores_nothing_and_deletes_the_uploads(app, client):
    job_id, _html = imported(client, app, [("seed_forms.pdf", SEED_PDF.read_bytes())])
    response = client.post(f"/imports/{job_id}/cancel", data={"csrf_token": csrf_token(client)},
                           follow_redirects=True)
    assert "已取消本次导入，未导入任何数据，上传的文件已删除。" in text_of(response.get_data(as_text=True))
    assert count(app, Project) == 0 and count(app, ImportBatch) == 0
    assert not (Path(app.config["UPLOAD_DIR"]) / job_id).exists()
    assert "本次导入已取消" in text_of(client.get(f"/imports/{job_id}").get_data(as_text=True))
    refused = text_of(confirm(client, job_id).get_data(as_text=True))
    assert "这批文件已取消，不能再导入。请重新上传。" in refused
    assert count(app, Project) == 0


def test_a_confirmed_job_cannot_be_cancelled(app, client):
    job_id, _html = imported(client, app, [("seed_forms.pdf", SEED_PDF.read_bytes())])
    confirm(client, job_id)
    response = client.post(f"/imports/{job_id}/cancel", data={"csrf_token": csrf_token(client)},
                           follow_redirects=True)
    assert "这批文件已确认导入，不能取消。" in text_of(response.get_data(as_text=True))
    assert count(app, Project) == 3


def test_recent_uploads_are_listed_on_the_upload_page(app, client):
    job_id, _html = imported(client, app, [("seed_forms.pdf", SEED_PDF.read_bytes())])
    page = client.get("/imports/new").get_data(as_text=True)
    assert f'href="/imports/{job_id}"' in page and "待确认" in text_of(page)


def test_the_import_section_starts_at_the_upload_page(client):
    response = client.get("/imports")
    assert response.status_code == 302 and response.headers["Location"] == "/imports/new"


def test_an_unknown_job_is_a_chinese_404(client):
    for url in ("/imports/" + "0" * 32, "/imports/not-a-job", "/imports/../../etc"):
        response = client.get(url)
        assert response.status_code == 404
        assert "页面不存在" in response.get_data(as_text=True)


# --------------------------------------------------------------------------- 主管部门 through an import
# A form names its 主管部门 and code. Only an admin's import may follow it elsewhere: move the
# 实施单位, create a 主管部门, give one another code. A 填报人's forms are stored under the
# department their unit belongs to, and the review says so in one line per form.

OWN_DEPARTMENT = "216-山西省商务厅"
CLAIMS = {"another-department": "217-山西省发展和改革委员会", "new-department": "999-新设主管部门",
          "another-code": "777-山西省商务厅"}


def file_claiming(department: str) -> tuple[str, bytes]:
    """The seed text file with every form naming this 主管部门 instead of 216-山西省商务厅."""
    text = seed_text().decode("utf-8")
    assert text.count(OWN_DEPARTMENT) == 3
    return ("主管部门.txt", text.replace(OWN_DEPARTMENT, department).encode("utf-8"))


def departments_of(app, project_name: str = PROJECT_A) -> tuple[str, str, set[str]]:
    """The unit's 主管部门, the project's 2023 year's, and every 主管部门 there is, as labels."""
    with Session(app.extensions["engine"]) as session:
        label = {d.id: f"{d.code}-{d.name}" for d in session.exec(select(Department))}
        unit, year = session.exec(select(Unit.department_id, ProjectYear.department_id)
                                  .join(Project, Project.unit_id == Unit.id)
                                  .join(ProjectYear, ProjectYear.project_id == Project.id)
                                  .where(Project.name == project_name, ProjectYear.year == 2023)).one()
    return label[unit], label[year], set(label.values())


def sees_project_a(app, personas, supervisor) -> int:
    return signed_in(app, supervisor).get(f"/projects/{personas.project_a}").status_code


@pytest.mark.parametrize("claimed", CLAIMS.values(), ids=CLAIMS.keys())
def test_a_managers_form_of_another_department_is_stored_under_the_units_own(seeded, personas, claimed):
    supervisor_b = add_user(seeded, "shenhe_b", "supervisor", department=DEPARTMENT_B)
    manager = signed_in(seeded, personas.manager_a)
    job_id, html = imported(manager, seeded, [file_claiming(claimed)])
    line = (f"表中主管部门为“{claimed}”，与本单位所属主管部门“{OWN_DEPARTMENT}”不一致："
            "将按本单位现属主管部门保存，不会更改。")
    assert text_of(html).count(line) == 3          # one line for each of the file's three forms

    assert "主管部门.txt 已导入 3 0 3 0" in text_of(confirm(manager, job_id).get_data(as_text=True))
    assert annual_targets(seeded, PROJECT_A)     # the forms themselves were stored
    assert departments_of(seeded) == (OWN_DEPARTMENT, OWN_DEPARTMENT,
                                      {OWN_DEPARTMENT, f"{DEPARTMENT_B_CODE}-{DEPARTMENT_B}"})
    assert sees_project_a(seeded, personas, personas.supervisor_a) == 200
    assert sees_project_a(seeded, personas, supervisor_b) == 404


ADMIN_CHANGES = {
    "217-山西省发展和改革委员会": ("实施单位“山西省投资促进局”将从主管部门“216-山西省商务厅”移至“217-山西省发展和改革委员会”",
                                    {"216-山西省商务厅", "217-山西省发展和改革委员会"}),
    "999-新设主管部门": ("将新建主管部门“999-新设主管部门”；"
                         "实施单位“山西省投资促进局”将从主管部门“216-山西省商务厅”移至“999-新设主管部门”",
                         {"216-山西省商务厅", "217-山西省发展和改革委员会", "999-新设主管部门"}),
    "777-山西省商务厅": ("主管部门“山西省商务厅”的代码将由216改为777", {"777-山西省商务厅", "217-山西省发展和改革委员会"}),
}


@pytest.mark.parametrize("claimed", CLAIMS.values(), ids=CLAIMS.keys())
def test_an_admins_import_shows_the_reorganisation_before_it_is_confirmed(seeded, personas, client, claimed):
    line, departments = ADMIN_CHANGES[claimed]
    job_id, html = imported(client, seeded, [file_claiming(claimed)])
    assert text_of(html).count(line + "。") == 3      # each form is compared with the database as it is
    assert departments_of(seeded)[:2] == (OWN_DEPARTMENT, OWN_DEPARTMENT)   # nothing moved yet

    confirm(client, job_id)
    assert departments_of(seeded) == (claimed, claimed, departments)


def test_an_admin_reimporting_a_managers_file_still_sees_and_makes_the_move(seeded, personas, client):
    claimed = CLAIMS["another-department"]
    supervisor_b = add_user(seeded, "shenhe_b", "supervisor", department=DEPARTMENT_B)
    manager = signed_in(seeded, personas.manager_a)
    confirm(manager, imported(manager, seeded, [file_claiming(claimed)])[0])

    job_id, html = imported(client, seeded, [file_claiming(claimed)])     # the same file: not 未变
    assert "新增 0 张 变更 3 张 未变 0 张" in text_of(html)
    assert ADMIN_CHANGES[claimed][0] in text_of(html)
    confirm(client, job_id)
    assert departments_of(seeded)[:2] == (claimed, claimed)
    assert sees_project_a(seeded, personas, supervisor_b) == 200
    assert sees_project_a(seeded, personas, personas.supervisor_a) == 404


# --------------------------------------------------------------------------- the worker

def test_the_worker_stops_when_the_job_is_cancelled_meanwhile(app):
    from models.db import get_session
    from services.import_jobs import cancel_job, job_files
    files = [SavedFile(n, f"{i:03d}.pdf", 1, "0" * 64) for i, n in enumerate(("一.pdf", "二.pdf"), 1)]
    with app.app_context():
        job = create_job(get_session(), "b" * 32, files, "网页上传", utcnow())
    calls = []

    def parse_one(path, beat):
        calls.append(path.name)
        with app.app_context():
            cancel_job(get_session(), job.id)       # the user cancels while the first file is parsed
        from importers import ParseResult
        return ParseResult(seed_forms(), [])

    parse_job(app.extensions["engine"], job.id, app.config["UPLOAD_DIR"], parse_one)
    assert calls == ["001.pdf"]
    with app.app_context():
        stored = job_files(get_session(), job.id)
    assert [f.state for f in stored] == ["waiting", "waiting"]      # nothing recorded after the cancel
    assert wait_for_job(app, job.id).state == "cancelled"


def test_the_progress_names_the_scanned_pages_read_so_far(app, client):
    files = [SavedFile("签章版.pdf", "001.pdf", 1, "0" * 64)]
    from models.db import get_session
    with app.app_context():
        job = create_job(get_session(), "d" * 32, files, "网页上传", utcnow())
    seen = []

    def parse_one(path, beat):
        beat()                                   # the file's first look: no page count yet
        beat(pages=(2, 5))                       # the sandbox, after each scanned page
        seen.append(text_of(client.get(f"/imports/{job.id}/progress").get_data(as_text=True)))
        from importers import ParseResult
        return ParseResult(seed_forms(), [])

    parse_job(app.extensions["engine"], job.id, app.config["UPLOAD_DIR"], parse_one)
    assert len(seen) == 1 and "签章版.pdf（扫描件文字识别：已完成 2/5 页）" in seen[0]


def test_a_worker_crash_leaves_the_job_failed_with_a_chinese_message(app, client):
    files = [SavedFile("一.pdf", "001.pdf", 1, "0" * 64)]
    from models.db import get_session
    with app.app_context():
        job = create_job(get_session(), "c" * 32, files, "网页上传", utcnow())

    def parse_one(path, beat):
        raise RuntimeError("boom")

    parse_job(app.extensions["engine"], job.id, app.config["UPLOAD_DIR"], parse_one)
    text = text_of(client.get(f"/imports/{job.id}").get_data(as_text=True))
    assert "解析时发生内部错误，未导入任何数据。" in text and "boom" not in text


def test_a_confirm_judged_stale_half_way_stores_no_further_file(seeded, client):
    from sqlalchemy import event, text
    from models.db import get_session
    from services.import_jobs import confirm_job
    second = ("招商引资业务经费_更正.txt", seed_text(("\t≥100次", "\t≥120次")))
    job_id, _html = imported(client, seeded, [CHANGED_TXT, second])
    engine = seeded.extensions["engine"]

    def another_request_finds_it_stale(_session):
        with engine.begin() as conn:        # after the first file's commit, as a poll would
            stored = conn.execute(text("SELECT count(*) FROM import_job_file WHERE job_id = :j AND outcome IS NOT NULL"),
                                  {"j": job_id}).scalar()
            if stored == 1:
                conn.execute(text("UPDATE import_job SET state = 'failed' WHERE id = :j"), {"j": job_id})

    with seeded.app_context():
        session = get_session()
        event.listen(session, "after_commit", another_request_finds_it_stale)
        assert confirm_job(session, job_id, "网页上传", utcnow(), reorganise=True) == "interrupted"
    assert annual_targets(seeded, "招商引资专项经费")["参展企业数量"] == "≥80家"          # first file: stored
    assert "≥120次" not in annual_targets(seeded, "招商引资业务经费").values()           # second: left out
    assert "已导入" in text_of(client.get(f"/imports/{job_id}").get_data(as_text=True))


def test_a_year_only_form_shows_and_stores_its_fiscal_funds(app, client, tmp_path):
    """项目资金（万元） with 其中：财政拨款 (a 年度-only form): the review and the project page show the
    财政拨款 row where the other sources are; the 山西 forms, which lack it, show no such row."""
    from pdfgen import write_pdf
    from pdfgen_layouts import annual_form

    pdf = write_pdf(tmp_path / "年度.pdf", [annual_form(project_name="年度专项")], form_style="annual_only",
                    amount_unit="万元")
    job_id, html = imported(client, app, [("年度.pdf", pdf.read_bytes())])
    text = text_of(html)
    assert "资金总额 空 37,000,000.00 其中：财政拨款 空 30,000,000.00 中央财政资金 空 空" in text
    assert "其他资金 空 7,000,000.00" in text
    confirm(client, job_id)
    with Session(app.extensions["engine"]) as session:
        year = session.exec(select(ProjectYear).join(Project).where(Project.name == "年度专项")).one()
        assert (year.annual_fiscal_yuan, year.period_fiscal_yuan, year.annual_total_yuan) == (30_000_000, None,
                                                                                              37_000_000)
        project_id = year.project_id
    page = text_of(client.get(f"/projects/{project_id}").get_data(as_text=True))
    assert "资金总额 空 37,000,000.00 其中：财政拨款 空 30,000,000.00 中央财政资金 空 空" in page
    _job, seed_review = imported(client, app, [("seed_forms.pdf", SEED_PDF.read_bytes())])
    assert "财政拨款" not in text_of(seed_review)
