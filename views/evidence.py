"""Evidence files (佐证材料) of a period's actual: upload, download, delete.

The rules of what is accepted live in models/evidence.py (by content, size-limited). Files
are kept under EVIDENCE_DIR (default: beside UPLOAD_DIR, i.e. instance/evidence), never under
static/, and leave only through `download`: to those who may see the project (another unit's
file is a 404), as an attachment with the original name (RFC 5987) and nosniff, so a browser
never renders one inside the site. Upload and delete are for those who may record the actuals.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, g, redirect, request, send_file

from domain.calendar import period_label
from models.actual import actual_of
from models.db import get_session, transaction
from models.evidence import (Evidence, EvidenceError, StoredFile, discard, evidence_directory, file_path,
                             record_evidence, store_upload)
from reads.scope import evidence_in_scope, may_edit_actuals, rectification_evidence_in_scope
from views.actuals import EDITORS, anchor_url, editable_indicator, period_of, row_answer
from views.auth import requires
from views.clock import now
from views.context import who
from views.entry_forms import RowState
from views.projects import wants_fragment

bp = Blueprint("evidence", __name__)

MAX_FILES = 10


def evidence_dir() -> Path:
    return evidence_directory(current_app.config)


def store_uploads(uploads) -> list[StoredFile]:
    """Each upload written under EVIDENCE_DIR and checked (models/evidence.py), outside any
    transaction; a refused one removes those written before it and raises EvidenceError."""
    stored = []
    try:
        for f in uploads:
            stored.append(store_upload(f.stream, f.filename, evidence_dir(), current_app.config["EVIDENCE_MAX_BYTES"]))
    except EvidenceError:
        discard(stored)
        raise
    return stored


@bp.post("/indicators/<int:indicator_id>/evidence")
@requires(*EDITORS)
def upload(indicator_id: int):
    session = get_session()
    project, py, ind = editable_indicator(session, indicator_id)
    month = period_of(py, request.form.get("period"))
    uploads = [f for f in request.files.getlist("files") if f and f.filename]

    def refused(message: str):
        return row_answer(session, project, py, ind, month, RowState(errors={"evidence": message}), 422)

    actual = actual_of(session, ind.id, month)
    if actual is None:
        return refused(f"请先保存{period_label(py.year, month, py.periods)}的实际值，再上传佐证材料")
    if not uploads:
        return refused("请选择要上传的佐证材料")
    if len(uploads) > MAX_FILES:
        return refused(f"一次最多上传 {MAX_FILES} 个文件")
    session.commit()                 # end the read: the files are written outside any transaction
    try:
        stored = store_uploads(uploads)
    except EvidenceError as exc:
        return refused(str(exc))
    try:
        with transaction(session):
            current = actual_of(session, ind.id, month)
            if current is None:
                raise EvidenceError("该期实际值已被删除，佐证材料未保存")
            record_evidence(session, current, stored, who(), now())
    except EvidenceError as exc:
        discard(stored)
        return refused(str(exc))
    except BaseException:
        discard(stored)
        raise
    notice = f"已上传佐证材料 {len(stored)} 个"
    if wants_fragment():
        return row_answer(session, project, py, ind, month, RowState(notice=notice))
    flash(f"{ind.name}：{notice}。", "success")
    return redirect(anchor_url(project, py, month, f"ind-{ind.id}"), 303)


@bp.get("/evidence/<int:evidence_id>")
def download(evidence_id: int):
    """An actual's file, or a 整改 item's (views/rectifications.py), to those who may see the project."""
    session = get_session()
    found = evidence_in_scope(session, g.user, evidence_id) or rectification_evidence_in_scope(session, g.user,
                                                                                                evidence_id)
    if found is None:
        abort(404)
    evidence: Evidence = found[-1]
    try:
        path = file_path(evidence_dir(), evidence)
    except FileNotFoundError:
        abort(404)
    if not path.is_file():
        abort(404, description="佐证材料文件已不存在")
    response = send_file(path, mimetype=evidence.content_type, as_attachment=True,
                         download_name=evidence.file_name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.post("/evidence/<int:evidence_id>/delete")
@requires(*EDITORS)
def delete(evidence_id: int):
    session = get_session()
    found = evidence_in_scope(session, g.user, evidence_id)
    if found is None:
        abort(404)
    project, py, ind, actual, evidence = found
    if not may_edit_actuals(g.user, project):
        abort(403)
    name, month = evidence.file_name, actual.month
    path = file_path(evidence_dir(), evidence)
    with transaction(session):
        row = session.get(Evidence, evidence_id)
        if row is not None:
            session.delete(row)
    path.unlink(missing_ok=True)     # after the commit: a failed delete leaves the file with its row
    notice = f"已删除佐证材料“{name}”"
    if wants_fragment():
        return row_answer(session, project, py, ind, month, RowState(notice=notice))
    flash(f"{ind.name}：{notice}。", "success")
    return redirect(anchor_url(project, py, month, f"ind-{ind.id}"), 303)

