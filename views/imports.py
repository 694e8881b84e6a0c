"""Importing forms from the web: upload → parse in the background → review → confirm.

The parsing runs in a daemon thread of the process that took the upload (request-bound
work, not the scheduler's); its progress and results live in the database (models/job.py, moved
by services/import_jobs.py), so any web process can answer the polls, the review and the confirm.

Who: an admin imports anything; a 填报人 uploads, but the review marks the forms of other
units as refused and confirming leaves them out (reads.scope.import_refusal), and they see
only their own uploads (another's answers 404); a 审核人 does not import (403). Only an admin's
forms may move a unit, create or re-code a 主管部门 (reads.scope.may_reorganise): a 填报人's
are stored under their unit's department, and the review says so.

Each user may keep only so many uploads neither confirmed nor cancelled (PENDING_UPLOADS_MAX_JOBS,
PENDING_UPLOADS_MAX_BYTES): a further one is refused (422) with the reason, and its files are
deleted at once; what stays unconfirmed is deleted by the housekeeping after IMPORT_KEEP_HOURS.
"""
from __future__ import annotations

import re
import threading
from datetime import timedelta

from flask import (Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request,
                   url_for)

from importers.limits import limits_from_config
from models.accounts import IMPORT_ROLES
from models.db import get_session
from reads.import_review import review_files, review_totals, stored_years
from reads.scope import import_refusal, job_visible, jobs_visible_to, may_reorganise
from reads.wording import user_label, user_labels
from services.import_checks import Entry, NotPending, check_form
from services.import_jobs import (QuotaExceeded, UploadQuota, cancel_job, confirm_job, create_job, fail_if_stale, get_job,
                                  job_files, parse_job, sandboxed, utcnow)
from services.uploads import SavedFile, discard_files, job_dir, new_job_id, save_upload
from views.auth import requires
from views.context import who
from views.projects import wants_fragment

bp = Blueprint("imports", __name__, url_prefix="/imports")

MB = 1024 * 1024
DEFAULT_MAX_FILES = 50


@bp.before_request
@requires(*IMPORT_ROLES)
def importers_only() -> None:
    """Every route of this blueprint: a 审核人 does not import."""


def _max_files() -> int:
    return current_app.config.get("MAX_UPLOAD_FILES", DEFAULT_MAX_FILES)


def _quota() -> UploadQuota:
    return UploadQuota(current_app.config["PENDING_UPLOADS_MAX_JOBS"], current_app.config["PENDING_UPLOADS_MAX_BYTES"])


def _stale_after() -> timedelta:
    # a file's parse beats after each file and each scanned page (PARSE_OCR_PAGE_SECONDS each)
    config = current_app.config
    seconds = config.get("IMPORT_STALE_SECONDS") or max(
        config["PARSE_WALL_SECONDS"], config.get("PARSE_OCR_PAGE_SECONDS", 0)) + 60
    return timedelta(seconds=seconds)


def _load(job_id: str):
    if not re.fullmatch(r"[0-9a-f]{32}", job_id):
        abort(404)
    session = get_session()
    job = get_job(session, job_id)
    if job is None or not job_visible(g.user, job):
        abort(404)
    return session, fail_if_stale(session, job, utcnow(), _stale_after())


@bp.get("")
def index():
    return redirect(url_for("imports.new"))


@bp.get("/new")
def new():
    return render_template("import_new.html", error=None, max_mb=current_app.config["MAX_UPLOAD_BYTES"] // MB,
                           max_files=_max_files(), **_recent_jobs())


def _form_error(message: str):
    """422 and the form again with its message (the convention written down in base.html)."""
    context = {"error": message, "max_mb": current_app.config["MAX_UPLOAD_BYTES"] // MB, "max_files": _max_files()}
    if wants_fragment():
        return render_template("_upload_form.html", **context), 422
    return render_template("import_new.html", **_recent_jobs(), **context), 422


def _recent_jobs() -> dict:
    """The uploads the page lists, and who made each as pages name people."""
    session = get_session()
    jobs = jobs_visible_to(session, g.user)
    return {"jobs": jobs, "uploaders": user_labels(session, [job.created_by for job in jobs])}


@bp.post("")
def create():
    uploads = [f for f in request.files.getlist("files") if f and f.filename]
    if not uploads:
        return _form_error("请选择要上传的文件（PDF、xlsx 或 txt）。")
    if len(uploads) > _max_files():
        return _form_error(f"一次最多上传 {_max_files()} 个文件，本次选择了 {len(uploads)} 个。")
    job_id = new_job_id()
    directory = job_dir(current_app.config["UPLOAD_DIR"], job_id)
    directory.mkdir(parents=True)
    saved: list[SavedFile] = [save_upload(f.stream, directory, n, f.filename) for n, f in enumerate(uploads, 1)]
    try:
        create_job(get_session(), job_id, saved, who(), utcnow(), quota=_quota())
    except QuotaExceeded as exc:
        discard_files(current_app.config["UPLOAD_DIR"], job_id)
        return _form_error(str(exc))
    _start_parsing(job_id)
    target = url_for("imports.show", job_id=job_id)
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)


def _start_parsing(job_id: str) -> None:
    app = current_app._get_current_object()
    parse_one = sandboxed(limits_from_config(app.config))
    threading.Thread(target=parse_job, name=f"import-job-{job_id}", daemon=True,
                     args=(app.extensions["engine"], job_id, app.config["UPLOAD_DIR"], parse_one)).start()


@bp.get("/<job_id>")
def show(job_id: str):
    session, job = _load(job_id)
    return _job_page(session, job)


def _job_page(session, job, submitted: dict | None = None):
    """The job's page; `submitted`: a refused correction of low-confidence fields, shown again."""
    files = job_files(session, job.id)
    context = {"job": job, "files": files, "uploader": user_label(session, job.created_by)}
    if job.state == "ready":
        context["reviews"] = review_files(session, files, reorganise=may_reorganise(g.user),
                                          refuse=import_refusal(session, g.user), submitted=submitted)
        context["totals"] = review_totals(context["reviews"])
    if job.state in ("confirming", "confirmed", "failed"):
        ids = [i for f in files if f.outcome for i in f.outcome.get("project_year_ids", [])]
        context["stored"] = stored_years(session, g.user, ids)
    return render_template("import_job.html", **context)


@bp.post("/<job_id>/files/<int:position>/forms/<int:number>/checks")
def check_fields(job_id: str, position: int, number: int):
    """The low-confidence fields of one form: each ticked as right or corrected; all or nothing."""
    session, job = _load(job_id)
    paths = request.form.getlist("path")
    entries = {path: Entry(request.form.get(f"value:{path}", ""), request.form.get(f"ok:{path}") == "1")
               for path in paths}
    try:
        errors = check_form(session, job_id, position, number, entries, utcnow())
    except NotPending as exc:
        flash(f"{exc}。", "error")
        return redirect(url_for("imports.show", job_id=job_id), 303)
    if errors:
        submitted = {"position": position, "number": number, "errors": errors,
                     "values": {path: entry.text for path, entry in entries.items()},
                     "ticked": [path for path, entry in entries.items() if entry.ticked]}
        flash(f"有 {len(errors)} 项更正未通过校验，本表的核对结果均未保存，请按提示修改。", "error")
        return _job_page(session, get_job(session, job_id), submitted), 422
    flash("已保存核对结果。", "success")
    return redirect(url_for("imports.show", job_id=job_id, _anchor=f"checks-{position}-{number}"), 303)


@bp.get("/<job_id>/progress")
def progress(job_id: str):
    _session, job = _load(job_id)
    response = make_response(render_template("_import_progress.html", job=job))
    if job.state not in ("queued", "parsing"):
        response.headers["HX-Refresh"] = "true"   # done: the whole page turns into the review
    return response


@bp.post("/<job_id>/confirm")
def confirm(job_id: str):
    session, job = _load(job_id)
    outcome = confirm_job(session, job_id, who(), utcnow(), reorganise=may_reorganise(g.user),
                          refuse=import_refusal(session, g.user))
    if outcome == "confirmed":
        discard_files(current_app.config["UPLOAD_DIR"], job_id)
        flash("导入完成，各文件的结果见下方。", "success")
    elif outcome == "interrupted":
        discard_files(current_app.config["UPLOAD_DIR"], job_id)
        flash("确认导入中断，未处理的文件没有导入，各文件的结果见下方。", "error")
    elif outcome == "already":
        flash("这批文件已经确认导入过，本次没有重复导入。", "warning")
    elif outcome == "unchecked":
        flash("还有识别置信度低的字段未核对：请逐项核对（无误请勾选“核对无误”，有误请更正）并保存后再确认导入。", "error")
    elif outcome == "cancelled":
        flash("这批文件已取消，不能再导入。请重新上传。", "error")
    else:
        flash("文件尚未解析完成或解析失败，不能导入。", "error")
    return redirect(url_for("imports.show", job_id=job_id), 303)


@bp.post("/<job_id>/cancel")
def cancel(job_id: str):
    session, job = _load(job_id)
    if cancel_job(session, job_id):
        discard_files(current_app.config["UPLOAD_DIR"], job_id)
        flash("已取消本次导入，未导入任何数据，上传的文件已删除。", "success")
        return redirect(url_for("imports.new"), 303)
    flash("这批文件已确认导入，不能取消。" if job.state in ("confirming", "confirmed") else "这批文件已取消。",
          "warning")
    return redirect(url_for("imports.show", job_id=job_id), 303)
