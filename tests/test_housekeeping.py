"""Housekeeping (models/housekeeping.py): what is deleted once it has been kept long enough,
and what stays — rows and files made old on purpose, the cleanup run with a `now`."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from conftest import NOW, add_user
from models.export_job import ExportJob
from models.job import ImportJob, ImportJobFile
from models.org import Unit
from models.user import LoginAttempt
from services.import_jobs import create_job
from services.uploads import SavedFile
from settings import export_dir

HEX = "0123456789abcdef"


def job_id(n: int) -> str:
    return HEX[n] * 32


def age(path: Path, delta: timedelta) -> Path:
    """Make the file or folder look last changed `delta` before NOW."""
    moment = (NOW - delta).timestamp()
    os.utime(path, (moment, moment))
    return path


def upload(app, n: int, state: str, old: timedelta) -> Path:
    """An import job of `state` uploaded `old` before NOW, its file on disk; returns its folder."""
    from models.db import get_session, transaction
    folder = _folder(app, job_id(n))
    with app.app_context():
        session = get_session()
        create_job(session, job_id(n), [SavedFile("申报表.pdf", "001.pdf", 5, "0" * 64)], "tianbao", NOW - old)
        with transaction(session):
            session.exec(update(ImportJob).where(ImportJob.id == job_id(n)).values(state=state))
    return age(folder, old)


def export(app, n: int, user_id: int, old: timedelta) -> Path:
    with Session(app.extensions["engine"]) as session:
        unit_id = session.exec(select(Unit.id)).first()
        session.add(ExportJob(id=job_id(n), user_id=user_id, unit_id=unit_id, year=2023, month=7, state="done",
                              file_name="监控表.xlsx", created_at=NOW - old, finished_at=NOW - old))
        session.commit()
    return age(_file(export_dir(app.config) / f"{job_id(n)}.xlsx"), old)


def attempt(app, old: timedelta) -> None:
    with Session(app.extensions["engine"]) as session:
        session.add(LoginAttempt(username="tianbao", address="10.0.0.1", at=NOW - old))
        session.commit()


def ids(app, model) -> set:
    with Session(app.extensions["engine"]) as session:
        return set(session.exec(select(model.id)))


@pytest.fixture
def kept_and_old(seeded):
    """Old and recent things of every kind, as the product leaves them."""
    app, admin = seeded, add_user(seeded, "admin", "admin")
    hours, days = (lambda h: timedelta(hours=h)), (lambda d: timedelta(days=d))
    folders = {
        "ready, old": upload(app, 1, "ready", hours(25)),
        "failed, old": upload(app, 2, "failed", hours(30)),
        "cancelled, old": upload(app, 3, "cancelled", days(3)),
        "ready, recent": upload(app, 4, "ready", hours(23)),
        "ready, recent, files look old": age(upload(app, 12, "ready", hours(1)), days(2)),   # restored, say
        "confirmed, old": upload(app, 5, "confirmed", days(2)),      # its files left behind by a crash
        "confirmed, recent": upload(app, 6, "confirmed", hours(1)),
        "no job, old": age(_folder(app, job_id(7)), hours(25)),     # a crash before the job was recorded
        "no job, recent": age(_folder(app, job_id(8)), hours(2)),
        "not a job's, old": age(_folder(app, "notes"), days(30)),
    }
    exports = {"old": export(app, 9, admin.id, days(8)), "recent": export(app, 10, admin.id, days(6)),
               "no job, old": age(_file(export_dir(app.config) / f"{job_id(11)}.xlsx"), days(8)),
               "not an export, old": age(_file(export_dir(app.config) / "readme.txt"), days(30))}
    for old in (timedelta(days=2), timedelta(hours=25), timedelta(hours=2), timedelta(minutes=1)):
        attempt(app, old)
    return app, folders, exports


def _file(path: Path, content: bytes = b"PK") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _folder(app, name: str) -> Path:
    return _file(Path(app.config["UPLOAD_DIR"]) / name / "001.pdf", b"%PDF-").parent


def test_the_cleanup_deletes_what_was_kept_long_enough_and_nothing_else(kept_and_old):
    from models.db import get_session
    from models.housekeeping import Housekeeping, clean_up
    app, folders, exports = kept_and_old
    with app.app_context():
        cleaned = clean_up(get_session(), Housekeeping.from_mapping(app.config), NOW)

    waiting = {job_id(4), job_id(12)}
    assert ids(app, ImportJob) == waiting | {job_id(5), job_id(6)}        # recent, and confirmed ones
    with Session(app.extensions["engine"]) as session:
        assert set(session.exec(select(ImportJobFile.job_id))) == waiting | {job_id(5), job_id(6)}
    assert {name for name, folder in folders.items() if folder.exists()} == {
        "ready, recent", "ready, recent, files look old", "confirmed, recent", "no job, recent", "not a job's, old"}
    assert ids(app, ExportJob) == {job_id(10)}
    assert {name for name, path in exports.items() if path.exists()} == {"recent", "not an export, old"}
    with Session(app.extensions["engine"]) as session:
        kept = sorted(NOW - at for at in session.exec(select(LoginAttempt.at)))
    assert kept == [timedelta(minutes=1), timedelta(hours=2)]                # a day is kept
    assert (cleaned.import_jobs, cleaned.upload_folders, cleaned.export_jobs, cleaned.export_files,
            cleaned.login_attempts) == (3, 2, 1, 2, 2)


def test_the_periods_kept_are_settings(seeded):
    from models.db import get_session
    from models.housekeeping import Housekeeping, clean_up
    app = seeded
    seeded.config.update(IMPORT_KEEP_HOURS=48, EXPORT_KEEP_DAYS=1)
    ready = upload(app, 1, "ready", timedelta(hours=25))
    admin = add_user(app, "admin", "admin")
    workbook = export(app, 2, admin.id, timedelta(days=2))
    with app.app_context():
        clean_up(get_session(), Housekeeping.from_mapping(app.config), NOW)
    assert ready.exists() and ids(app, ImportJob) == {job_id(1)}
    assert not workbook.exists() and ids(app, ExportJob) == set()


def test_flask_housekeeping_runs_the_cleanup_as_of_a_given_time(kept_and_old):
    app, folders, _exports = kept_and_old
    result = app.test_cli_runner().invoke(args=["housekeeping", "--now", "2023-08-06T09:00"])   # NOW there
    assert result.exit_code == 0, result.output
    assert "清理（2023-08-06 09:00）：删除超过 24 小时未确认的导入、超过 7 天的导出文件和过期的登录记录" in result.output
    assert ("已删除：未确认的导入 3 批，上传文件夹 2 个，导出任务 1 个，导出文件 2 个，登录记录 2 条"
            in result.output)
    assert not folders["ready, old"].exists() and folders["ready, recent"].exists()
    again = app.test_cli_runner().invoke(args=["housekeeping", "--now", "2023-08-06T09:00"])
    assert "已删除：未确认的导入 0 批，上传文件夹 0 个，导出任务 0 个，导出文件 0 个，登录记录 0 条" in again.output
