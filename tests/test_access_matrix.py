"""Every route × every persona × an object of their own and of another unit.

The routes come from the app's URL map, and each must have an entry in MATRIX: a new route
fails `test_every_route_is_in_the_matrix` until someone decides who may use it. For each
rule, each method it allows and each persona (and a stranger), the answer must be:

* a stranger: the login page (a redirect to /login) for pages, 401 JSON for the API;
* a role that may not: 403;
* another unit's object (another user's upload or token): 404, as if it did not exist;
* otherwise: 2xx or 3xx (and not back to the login page).

POSTs carry a valid CSRF token (CSRF itself is tested in test_auth.py) and valid form data,
so an allowed request really does what it says. The API is called with the persona's bearer
token, and once more with only the browser's cookie, which it must refuse.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable

import pytest

from conftest import NOW, PASSWORD, Person, add_user, csrf_token, login, make_app

ANYONE = ("admin", "manager", "supervisor")
IMPORTERS = ("admin", "manager")
ADMINS = ("admin",)
EVALUATORS = ("admin", "supervisor")


@dataclass(frozen=True)
class Entry:
    access: str                       # "public" | "page" | "api"
    roles: tuple[str, ...] = ANYONE   # who may; other signed-in users get 403
    obj: str | None = None            # what the URL names: project | job | user | token | file
    data: Callable | None = None      # valid form data for a POST, JSON body for a PUT: (world, person) → dict
    to_login: bool = False            # where it rightly leads: /login (signing out)


def _login_data(world, person):
    return {"username": world.bystander.username, "password": PASSWORD}


def _upload(world, person):
    return {"files": [(io.BytesIO("不是申报表".encode()), "说明.txt")]}


def _new_user(world, person):
    world.counter += 1
    return {"username": f"new{world.counter}", "role": "supervisor", "password": PASSWORD}


PDF = b"%PDF-1.4\n%%EOF\n"


def _evidence_upload(world, person):
    world.july_actuals()          # evidence belongs to a period's actual
    return {"period": "2023-07", "files": [(io.BytesIO(PDF), "证明.pdf")]}


def _bulk_upload(world, person):
    """The person's own sheet for July with one count filled in (any large count is green)."""
    from openpyxl import load_workbook

    from models.db import get_session
    from reads.bulk_sheet import bulk_sheet
    from models.user import User
    from views.bulk import build_workbook
    if person is None:           # a stranger: sent to the login page before anything is read
        return {"period": "2023-07", "file": (io.BytesIO(b"PK"), "填报表.xlsx")}
    with world.app.app_context():
        session = get_session()
        user = session.get(User, person.id)
        book = load_workbook(io.BytesIO(build_workbook(bulk_sheet(session, user, 2023, 7, None))))
    ws = book["实际值"]
    if ws.max_row > 1:
        ws.cell(row=2, column=[c.value for c in ws[1]].index("实际值") + 1).value = 1000000
    out = io.BytesIO()
    book.save(out)
    return {"period": "2023-07", "file": (io.BytesIO(out.getvalue()), "填报表.xlsx")}


def _ready_to_submit(world, person):
    """Every project year's 自评 made complete (scores, analyses, explanations, the reason for a
    low 执行率), so that submitting is refused only for who asks, never for what is missing
    (that has its own tests: test_evaluation_review.py)."""
    from sqlmodel import select

    from domain.review import EDITABLE_STATES
    from models.db import get_session, transaction
    from models.project import ProjectYear
    from reads.self_evaluation import review_state, score_table
    from services.self_evaluation import save_self_evaluation, set_evaluator_score
    from views.clock import today
    with world.app.app_context():
        session = get_session()
        for py in session.exec(select(ProjectYear)).all():
            as_of = min(today(), date(py.year, 12, 31))
            table = score_table(session, py, as_of)
            if table.evaluation is None or review_state(session, py) not in EDITABLE_STATES:
                continue
            with transaction(session):
                for row in table.rows:
                    if row.suggested:
                        set_evaluator_score(session, py, row.indicator, row.band.shown[0], as_of)
            with transaction(session):
                table = score_table(session, py, as_of)
                save_self_evaluation(session, py, {}, {r.indicator.id: "分析" for r in table.rows if not r.full_marks},
                                     "tianbao", NOW, as_of, "原因", {gap.month: "说明" for gap in table.completeness.gaps})
    return {"year": "2023"}


MATRIX: dict[str, Entry] = {
    "static": Entry("public", obj="file"),
    "health.healthz": Entry("public"),
    "api_docs.openapi": Entry("public"),      # the API's document describes calls, never data
    "auth.login": Entry("public", data=_login_data),
    "auth.logout": Entry("public", to_login=True),
    "workbench.home": Entry("page"),
    "projects.index": Entry("page"),
    "projects.show": Entry("page", obj="project"),
    "actuals.record": Entry("page", IMPORTERS, obj="indicator", data=lambda w, p: {"period": "2023-07",
                                                                                    "value": "1000000"}),
    "actuals.measure": Entry("page", IMPORTERS, obj="indicator", data=lambda w, p: {"period": "2023-07",
                                                                                     "measure": ""}),
    "actuals.history": Entry("page", obj="indicator"),
    "actuals.spending": Entry("page", IMPORTERS, obj="project", data=lambda w, p: {"period": "2023-07",
                                                                                    "amount": "1000"}),
    "actuals.periods": Entry("page", IMPORTERS, obj="project", data=lambda w, p: {"year": "2023",
                                                                                   "periods": "monthly"}),
    "adjustments.record": Entry("page", IMPORTERS, obj="project", data=lambda w, p: {
        "year": "2023", "period": "2023-07", "kind": "追加", "amount": "1", "unit": "万元", "date": "2023-06-30",
        "doc_no": "晋财预〔2023〕1号", "reason": "追加经费"}),
    "evidence.upload": Entry("page", IMPORTERS, obj="indicator", data=_evidence_upload),
    "evidence.download": Entry("page", obj="evidence"),
    "evidence.delete": Entry("page", IMPORTERS, obj="evidence"),
    "bulk.index": Entry("page", IMPORTERS),
    "bulk.download": Entry("page", IMPORTERS),
    "bulk.upload": Entry("page", IMPORTERS, data=_bulk_upload),
    "imports.index": Entry("page", IMPORTERS),
    "imports.new": Entry("page", IMPORTERS),
    "imports.create": Entry("page", IMPORTERS, data=_upload),
    "imports.show": Entry("page", IMPORTERS, obj="job"),
    "imports.progress": Entry("page", IMPORTERS, obj="job"),
    "imports.confirm": Entry("page", IMPORTERS, obj="job"),
    "imports.cancel": Entry("page", IMPORTERS, obj="job"),
    "imports.check_fields": Entry("page", IMPORTERS, obj="job"),
    "account.show": Entry("page"),
    "account.change_password": Entry("page", data=lambda w, p: {
        "current": PASSWORD, "new": "另一个密码-another-secret", "repeat": "另一个密码-another-secret"}),
    "account.create_token": Entry("page"),
    "account.revoke": Entry("page", obj="token"),
    "admin.index": Entry("page", ADMINS),
    "admin.users": Entry("page", ADMINS),
    "admin.new_user": Entry("page", ADMINS),
    "admin.create": Entry("page", ADMINS, data=_new_user),
    "admin.user": Entry("page", ADMINS, obj="user"),
    "admin.scope": Entry("page", ADMINS, obj="user", data=lambda w, p: {"role": "supervisor", "department": ""}),
    "admin.active": Entry("page", ADMINS, obj="user", data=lambda w, p: {"active": "1"}),
    "admin.password": Entry("page", ADMINS, obj="user", data=lambda w, p: {"password": PASSWORD}),
    "admin_reminders.settings": Entry("page", ADMINS),
    "admin_reminders.save": Entry("page", ADMINS, data=lambda w, p: {
        "enabled": "1", "daily_time": "08:30", "due_soon_enabled": "1", "due_soon_days": "3", "overdue_enabled": "1",
        "digest_enabled": "1", "digest_weekday": "0", "escalation_enabled": "1", "escalation_days": "5"}),
    "admin_reminders.outbox": Entry("page", ADMINS),
    "admin_reminders.message": Entry("page", ADMINS, obj="message"),
    "admin_reminders.resend": Entry("page", ADMINS, obj="message"),
    "api.projects": Entry("api"),
    # reports: everyone within their scope (a 填报人 their own unit; views/reports.py)
    "reports.overview_page": Entry("page"),
    "reports.alerts_page": Entry("page"),
    "reports.project_page": Entry("page", obj="project"),
    "api_reports.overview_answer": Entry("api"),
    "api_alerts.alerts": Entry("api"),
    "api.project": Entry("api", obj="project_year"),
    "api.evaluation": Entry("api", obj="project_year"),
    "api.put_actual": Entry("api", IMPORTERS, obj="indicator", data=lambda w, p: {"value": 1000000}),
    "api.put_spending": Entry("api", IMPORTERS, obj="project_year", data=lambda w, p: {"amount_yuan": 1000}),
    "api.put_score": Entry("api", EVALUATORS, obj="indicator", data=lambda w, p: {"score": None}),
    "api.budget_adjustments": Entry("api", obj="project_year"),
    "api.post_budget_adjustment": Entry("api", IMPORTERS, obj="project_year", data=lambda w, p: {
        "amount_yuan": 10000, "date": "2023-06-30", "doc_no": "晋财预〔2023〕1号", "reason": "追加经费"}),
    "api.put_deduction": Entry("api", EVALUATORS, obj="indicator", data=lambda w, p: {"points": None}),
    "api.put_evaluation_weights": Entry("api", EVALUATORS, obj="project_year",
                                        data=lambda w, p: {"weights": None, "reason": "恢复默认分值"}),
    # 绩效自评 (views/evaluation.py): everyone reads in scope; the 填报人 edits and submits, the
    # 审核人 scores, approves and returns; a step that does not fit the state redirects with a message
    "evaluation.show": Entry("page", obj="project"),
    "evaluation.save": Entry("page", IMPORTERS, obj="project", data=lambda w, p: {"year": "2023"}),
    "evaluation.scores": Entry("page", EVALUATORS, obj="project", data=lambda w, p: {"year": "2023"}),
    "evaluation.submit": Entry("page", IMPORTERS, obj="project", data=_ready_to_submit),
    "evaluation.level_weights": Entry("page", EVALUATORS, obj="project", data=lambda w, p: {
        "year": "2023", "budget_points": "10", "output_points": "50", "benefit_points": "30",
        "satisfaction_points": "10", "weights_reason": "按默认分值"}),
    "evaluation.withdraw": Entry("page", IMPORTERS, obj="project", data=lambda w, p: {"year": "2023"}),
    "evaluation.approve": Entry("page", EVALUATORS, obj="project", data=lambda w, p: {"year": "2023"}),
    "evaluation.send_back": Entry("page", EVALUATORS, obj="project", data=lambda w, p: {"year": "2023",
                                                                                      "comment": "请补充佐证材料"}),
    # exports (views/exports.py): in scope; a unit's export job only for the user who asked
    "exports.monitoring_xlsx": Entry("page", obj="project"),
    "exports.monitoring_print": Entry("page", obj="project"),
    "exports.evaluation_xlsx": Entry("page", obj="project"),
    "exports.evaluation_print": Entry("page", obj="project"),
    "exports.index": Entry("page"),
    "exports.create": Entry("page", data=lambda w, p: {"unit": w.unit_of(p), "year": "2023", "month": "7"}),
    "exports.show": Entry("page", obj="export"),
    "exports.progress": Entry("page", obj="export"),
    "exports.download": Entry("page", obj="export"),
    # monitoring rounds and 整改 (views/rounds.py, views/rectifications.py, views/api_rectifications.py):
    # everyone reads in scope; the 填报人 submits and answers, the 审核人 reviews, raises, closes and
    # returns; a step that does not fit the state redirects with a message (pages) or is a 409 (API,
    # which the fresh answered items here never meet)
    "rounds.index": Entry("page"),
    "rounds.show": Entry("page", obj="project"),
    "rounds.save": Entry("page", IMPORTERS, obj="project", data=lambda w, p: {
        "action": "save", "goal_progress": "进展顺利", "deviation": "", "correction": "", "version": ""}),
    "rounds.review": Entry("page", EVALUATORS, obj="project", data=lambda w, p: {"decision": "approve"}),
    "rectifications.index": Entry("page"),
    "rectifications.show": Entry("page", obj="rectification"),
    "rectifications.create": Entry("page", EVALUATORS, obj="project", data=lambda w, p: {
        "year": "2023", "indicator_id": "", "requirement": "请说明预算执行偏慢的原因", "due": "2099-12-31"}),
    "rectifications.answer": Entry("page", IMPORTERS, obj="rectification", data=lambda w, p: {
        "measures": "加快支付进度", "result": "已完成"}),
    "rectifications.close": Entry("page", EVALUATORS, obj="rectification", data=lambda w, p: {"conclusion": "整改到位"}),
    "rectifications.send_back": Entry("page", EVALUATORS, obj="rectification", data=lambda w, p: {"comment": "请附佐证"}),
    "api_rectifications.index": Entry("api"),
    "api_rectifications.create": Entry("api", EVALUATORS, obj="project_year", data=lambda w, p: {
        "indicator_id": None, "requirement": "请说明预算执行偏慢的原因", "due": "2099-12-31"}),
    "api_rectifications.answer": Entry("api", IMPORTERS, obj="rectification", data=lambda w, p: {
        "measures": "加快支付进度", "result": "已完成"}),
    "api_rectifications.close": Entry("api", EVALUATORS, obj="rectification", data=lambda w, p: {"conclusion": "整改到位"}),
    "api_rectifications.send_back": Entry("api", EVALUATORS, obj="rectification", data=lambda w, p: {"comment": "请附佐证"}),
    # a unit's 监控报告 (views/monitoring_report.py): its 填报人 and the 审核人 of its 主管部门 read
    # it; the 填报人 saves and submits, the 审核人 returns (a submitted one: else a redirect with the message)
    "monitoring_report.show": Entry("page", obj="unit"),
    "monitoring_report.print_report": Entry("page", obj="unit"),
    "monitoring_report.docx": Entry("page", obj="unit"),
    "monitoring_report.save": Entry("page", IMPORTERS, obj="unit", data=lambda w, p: {
        "action": "save", "overview": "进展顺利", "version": ""}),
    "monitoring_report.send_back": Entry("page", EVALUATORS, obj="unit", data=lambda w, p: {"comment": "请补充"}),
    # 目标调整 (views/target_adjustments.py, views/api.py): proposed by the unit's 填报人, decided by
    # a 审核人 in scope; each allowed call proposes an indicator of its own, or decides a fresh proposal
    "target_adjustments.propose_targets": Entry("page", IMPORTERS, obj="project", data=lambda w, p: {
        "year": "2023", "reason": "新增展会", **{f"add_{k}": v for k, v in w.added_indicator().items()}}),
    "target_adjustments.approve_targets": Entry("page", EVALUATORS, obj="target_adjustment"),
    "target_adjustments.return_targets": Entry("page", EVALUATORS, obj="target_adjustment",
                                               data=lambda w, p: {"comment": "请补充说明"}),
    "api.target_changes": Entry("api", obj="project_year"),
    "api.post_target_change": Entry("api", IMPORTERS, obj="project_year", data=lambda w, p: {
        "reason": "新增展会", "changes": [w.added_indicator()]}),
    "api.approve_target_change": Entry("api", EVALUATORS, obj="target_adjustment"),
    "api.return_target_change": Entry("api", EVALUATORS, obj="target_adjustment",
                                      data=lambda w, p: {"comment": "请补充说明"}),
}

PARAMETERS = {"project_id": "project", "job_id": "job", "user_id": "user", "token_id": "token", "filename": "file",
              "project_year_id": "project_year", "indicator_id": "indicator", "message_id": "message", "evidence_id": "evidence",
              "export_id": "export", "rectification_id": "rectification", "adjustment_id": "target_adjustment",
              "target_change_id": "target_adjustment", "unit_id": "unit"}
FIXED_ARGUMENTS = {"period": "2023-07", "position": 1, "number": 1}    # not objects: the same valid value for everyone


def test_every_route_is_in_the_matrix(tmp_path):
    app = make_app(tmp_path)
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert sorted(endpoints - MATRIX.keys()) == [], "routes nobody classified: add them to MATRIX"
    assert sorted(MATRIX.keys() - endpoints) == [], "MATRIX names routes that no longer exist"
    for rule in app.url_map.iter_rules():
        entry = MATRIX[rule.endpoint]
        objects = {PARAMETERS[a] for a in rule.arguments if a not in FIXED_ARGUMENTS}
        assert objects == ({entry.obj} if entry.obj else set()), rule.rule
        if rule.methods - {"GET", "HEAD", "OPTIONS"} and entry.access != "api":
            assert rule.endpoint in ("auth.login", "auth.logout") or entry.access == "page", rule.rule


# --------------------------------------------------------------------------- the world

class World:
    """Personas, and for each their own objects and someone else's."""

    def __init__(self, app, personas):
        from models.db import get_session
        from models.user import new_token
        from services.import_jobs import create_job
        from services.uploads import SavedFile
        self.app, self.personas, self.counter = app, personas, 0
        self.people = {name: getattr(personas, name) for name in
                       ("admin", "manager_a", "supervisor_a", "supervisor_all", "manager_b")}
        self.bystander = add_user(app, "bystander", "supervisor")
        self.jobs, self.tokens = {}, {}
        now = datetime.now(timezone.utc)
        with app.app_context():
            session = get_session()
            for n, (name, person) in enumerate(self.people.items(), start=1):
                job_id = f"{n:x}" * 32
                create_job(session, job_id, [SavedFile("说明.txt", "001.txt", 1, "0" * 64)], person.username, now)
                self._ready(session, job_id)
                self.jobs[name] = job_id
            from models.db import transaction
            from models.user import User
            with transaction(session):
                for name, person in self.people.items():
                    self.tokens[name] = new_token(session, session.get(User, person.id), now)
            from sqlmodel import select

            from models.user import ApiToken
            self.token_ids = {name: session.exec(select(ApiToken.id).where(ApiToken.user_id == person.id)).one()
                              for name, person in self.people.items()}
            from models.indicator import Indicator
            from models.project import ProjectYear
            self.project_years = tuple(session.exec(select(ProjectYear.id).where(ProjectYear.project_id == project))
                                       .one() for project in (personas.project_a, personas.project_b))
            # a count target of each project (≥70家, ≥100次): any large count meets it, a green light
            self.indicators = tuple(session.exec(select(Indicator.id).where(Indicator.project_year_id == py,
                                                                            Indicator.annual_level3 == name)).one()
                                    for py, name in zip(self.project_years, ("参展企业数量", "会议服务次数")))

    @staticmethod
    def _ready(session, job_id):
        from sqlalchemy import update

        from models.db import transaction
        from models.job import ImportJob, ImportJobFile
        with transaction(session):
            session.exec(update(ImportJob).where(ImportJob.id == job_id).values(state="ready", files_done=1))
            session.exec(update(ImportJobFile).where(ImportJobFile.job_id == job_id)
                         .values(state="unreadable", error="文件为空"))

    OTHER = {"admin": "manager_b", "manager_a": "manager_b", "supervisor_a": "manager_b",
             "supervisor_all": "manager_b", "manager_b": "manager_a"}

    def objects(self, name: str | None, kind: str) -> dict[str, object]:
        """The persona's own object of that kind and another unit's (or person's)."""
        p = self.personas
        if kind == "file":
            return {"own": "app.css"}
        if kind == "user":
            return {"own": self.bystander.id}
        if kind == "message":
            return {"own": self.failed_message()}
        if kind == "export":
            return {"own": self.export_job(name), "other": self.export_job(self.OTHER[name or "admin"])}
        if kind == "evidence":
            ids = self.fresh_evidence()
            own, other = (ids[1], ids[0]) if name == "manager_b" else ids
            return {"own": own, "other": other}
        if kind == "rectification":
            ids = self.fresh_rectifications()
            own, other = (ids[1], ids[0]) if name == "manager_b" else ids
            return {"own": own, "other": other}
        if kind == "target_adjustment":
            ids = self.fresh_target_adjustments()
            own, other = (ids[1], ids[0]) if name == "manager_b" else ids
            return {"own": own, "other": other}
        if kind == "unit":
            ids = (self.unit_of(self.people["manager_a"]), self.unit_of(self.people["manager_b"]))
            own, other = (ids[1], ids[0]) if name == "manager_b" else ids
            return {"own": own, "other": other}
        if kind in ("project", "project_year", "indicator"):
            ids = {"project": (p.project_a, p.project_b), "project_year": self.project_years,
                   "indicator": self.indicators}[kind]
            own, other = (ids[1], ids[0]) if name == "manager_b" else ids
            return {"own": own, "other": other}
        mine, theirs = (name or "admin"), self.OTHER[name or "admin"]
        source = {"job": self.jobs, "token": self.token_ids}[kind]
        return {"own": source[mine], "other": source[theirs]}

    def unit_of(self, person: Person | None) -> int:
        """The persona's unit for a unit export (a stranger's value is never read)."""
        from sqlmodel import select

        from models.db import get_session
        from models.project import Project
        project = self.personas.project_b if person and person.username == "tianbao_b" else self.personas.project_a
        with self.app.app_context():
            return get_session().exec(select(Project.unit_id).where(Project.id == project)).one()

    def export_job(self, name: str | None) -> str:
        """A finished unit export of the persona (made once each), run in this thread."""
        self._exports = getattr(self, "_exports", {})
        name = name or "admin"
        if name not in self._exports:
            from datetime import date
            from models.db import get_session
            from reads.export_scope import unit_project_years
            from services.export_job import create_export_job, run_export_job
            from models.org import Unit
            from models.user import User
            from views.exports import export_dir
            person = self.people[name]
            with self.app.app_context():
                session = get_session()
                user, unit = session.get(User, person.id), session.get(Unit, self.unit_of(person))
                total = len(unit_project_years(session, user, unit.id, 2023))
                job = create_export_job(session, user, unit, 2023, 7, total, datetime.now(timezone.utc))
                run_export_job(self.app.extensions["engine"], job.id, export_dir(self.app.config),
                               date(2023, 8, 6), self.app.config)
                self._exports[name] = job.id
        return self._exports[name]

    def failed_message(self) -> int:
        """An outbox message that failed (for the admin's resend), made once."""
        if not hasattr(self, "_message_id"):
            from models.db import get_session, transaction
            from models.outbox import OutboxMessage
            now = datetime.now(timezone.utc)
            with self.app.app_context():
                session = get_session()
                with transaction(session):
                    message = OutboxMessage(key="manager-overdue:1:2023-07", kind="manager-overdue",
                                            user_id=self.personas.manager_a.id, to_address="tianbao@unit-a.example",
                                            subject="【绩效目标跟踪】7月实际值已逾期", text_body="…", html_body="…",
                                            state="failed", attempts=1, next_attempt_at=now, created_at=now)
                    session.add(message)
                self._message_id = message.id
        return self._message_id

    def july_actuals(self) -> None:
        """A July actual of each indicator (A's and B's), made once."""
        from models.actual import ActualInput, actual_of
        from services.entry import Context, record_actual
        from models.db import get_session, transaction
        from models.indicator import Indicator
        from models.project import ProjectYear
        with self.app.app_context():
            session = get_session()
            for indicator_id in self.indicators:
                if actual_of(session, indicator_id, 7) is None:
                    ind = session.get(Indicator, indicator_id)
                    with transaction(session):
                        record_actual(session, ind, session.get(ProjectYear, ind.project_year_id), 2023, 7,
                                      ActualInput(value=1000000), Context("matrix", datetime.now(timezone.utc)))

    def fresh_evidence(self) -> tuple[int, int]:
        """A new evidence file on A's and on B's July actual (a delete may have removed the last)."""
        from pathlib import Path

        from models.actual import actual_of
        from models.db import get_session, transaction
        from models.evidence import record_evidence, store_upload
        self.july_actuals()
        ids = []
        with self.app.app_context():
            session = get_session()
            directory = Path(self.app.config["UPLOAD_DIR"]).parent / "evidence"
            for indicator_id in self.indicators:
                stored = store_upload(io.BytesIO(PDF), "证明.pdf", directory, 1024 * 1024)
                with transaction(session):
                    actual = actual_of(session, indicator_id, 7)
                    ids.append(record_evidence(session, actual, [stored], "matrix", datetime.now(timezone.utc))[0].id)
        return ids[0], ids[1]

    def added_indicator(self) -> dict:
        """A new indicator for a 目标调整, named afresh each time (an added one is checked against
        the indicators in force only, so proposals of it never wait for each other)."""
        self.counter += 1
        return {"level1": "产出指标", "level2": "数量指标", "level3": f"线上展会场次{self.counter}", "target": "≥1场"}

    def fresh_target_adjustments(self) -> tuple[int, int]:
        """A new pending 目标调整 of A's and of B's project year (a decision closes the last)."""
        from models.db import get_session, transaction
        from models.project import ProjectYear
        from services.target_adjustment import ProposalInput, propose
        ids = []
        with self.app.app_context():
            session = get_session()
            for py_id, who in zip(self.project_years, ("tianbao", "tianbao_b")):
                data = ProposalInput.model_validate({"reason": "新增展会", "changes": [self.added_indicator()]})
                with transaction(session):
                    ids.append(propose(session, session.get(ProjectYear, py_id), data, who, datetime.now(timezone.utc),
                                       self.app.config).id)
        return ids[0], ids[1]

    def fresh_rectifications(self) -> tuple[int, int]:
        """A new 整改 item on A's and on B's project, answered (so that every step fits it once)."""
        from datetime import date

        from models.db import get_session, transaction
        from models.project import Project, ProjectYear
        from services.rectifications import (AnswerInput, RectificationInput, answer_rectification,
                                             raise_rectification)
        ids, now = [], datetime.now(timezone.utc)
        with self.app.app_context():
            session = get_session()
            with transaction(session):
                for py_id in self.project_years:
                    py = session.get(ProjectYear, py_id)
                    item = raise_rectification(session, py, session.get(Project, py.project_id),
                                               RectificationInput(requirement="请整改", due=date(2099, 12, 31)),
                                               "matrix", "supervisor", now, date.today())
                    answer_rectification(session, item, AnswerInput(measures="措施", result="结果"), [], [], "matrix",
                                         "manager", now)
                    ids.append(item.id)
        return ids[0], ids[1]

    def if_match(self, url: str) -> dict:
        """What a client that read the period first sends with its PUT: the stored version
        (none for a first entry; the API answers 428 to an overwrite without it)."""
        from models.actual import actual_of, spending_of
        from models.db import get_session
        match = re.fullmatch(r"/api/v1/(?:indicators|projects)/(\d+)/(actuals|spending)/\d{4}-(\d\d)", url)
        if not match:
            return {}
        with self.app.app_context():
            read = actual_of if match.group(2) == "actuals" else spending_of
            stored = read(get_session(), int(match.group(1)), int(match.group(3)))
        return {"If-Match": f'"{stored.version}"'} if stored else {}

    @staticmethod
    def sees_others(person: Person, kind: str) -> bool:
        """Who may read another unit's object of this kind."""
        if kind in ("project", "project_year", "indicator", "evidence", "rectification", "target_adjustment", "unit"):
            return person.role == "admin" or person.username == "shenhe_all"
        if kind == "job":
            return person.role == "admin"
        return False           # tokens and exports are one's own; users and files have no "other"


@pytest.fixture
def world(personas, seeded):
    return World(seeded, personas)


def _url(app, rule, kind: str | None, value) -> str:
    values = {}
    for argument in rule.arguments:
        values[argument] = FIXED_ARGUMENTS.get(argument, value)
    with app.test_request_context():
        from flask import url_for
        return url_for(rule.endpoint, **values)


def _request(app, client, method: str, url: str, entry: Entry, world: World, person: Person | None,
             headers: dict | None = None, csrf_from: str = "/account"):
    kwargs = {"headers": headers or {}}
    if method == "PUT":
        kwargs["json"] = entry.data(world, person) if entry.data else {}
        kwargs["headers"] = {**kwargs["headers"], **world.if_match(url)}
    if method == "POST" and entry.access == "api":       # JSON, no CSRF token: bearer tokens only
        kwargs["json"] = entry.data(world, person) if entry.data else {}
    elif method == "POST":
        data = entry.data(world, person) if entry.data else {}
        data["csrf_token"] = csrf_token(client, csrf_from if person else "/login")
        kwargs.update(data=data, content_type="multipart/form-data" if "files" in data else None)
        if kwargs["content_type"] is None:
            del kwargs["content_type"]
    return client.open(url, method=method, **kwargs)


def _judge(response, expected: str, entry: Entry, what: str) -> None:
    status, location = response.status_code, response.headers.get("Location", "")
    if expected == "ok":
        assert 200 <= status < 400, f"{what}: expected 2xx/3xx, got {status}"
        if 300 <= status < 400 and not entry.to_login:
            assert not location.startswith("/login"), f"{what}: sent to the login page"
    elif expected == "login":
        assert status in (302, 303) and location.startswith("/login"), f"{what}: expected login, got {status} {location}"
    elif expected == "401":
        assert status == 401 and response.is_json and "error" in response.get_json(), f"{what}: got {status}"
    else:
        assert status == int(expected), f"{what}: expected {expected}, got {status}"
        if entry.access == "api":
            assert response.get_json()["error"]


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_who_may_use_each_route(endpoint, world):
    app, entry = world.app, MATRIX[endpoint]
    rules = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
    assert rules, f"{endpoint} is in MATRIX but not in the app"
    checked = 0
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            # a stranger
            for variant, value in (world.objects(None, entry.obj) if entry.obj else {"none": None}).items():
                url = _url(app, rule, entry.obj, value)
                response = _request(app, app.test_client(), method, url, entry, world, None)
                expected = {"public": "ok", "page": "login", "api": "401"}[entry.access]
                _judge(response, expected, entry, f"stranger {method} {url}")
                checked += 1
            # each persona, with their own object and another's
            for name, person in world.people.items():
                objects = world.objects(name, entry.obj) if entry.obj else {"own": None}
                for variant, value in objects.items():
                    url = _url(app, rule, entry.obj, value)
                    client = app.test_client()
                    assert login(client, person).status_code == 303
                    if entry.access == "api":
                        refused = client.open(url, method=method)      # the cookie alone is not enough
                        _judge(refused, "401", entry, f"{name} {method} {url} with a cookie only")
                        client = app.test_client(use_cookies=False)
                        headers = {"Authorization": f"Bearer {world.tokens[name]}"}
                    else:
                        headers = {}
                    if entry.access == "public":
                        expected = "ok"
                    elif person.role not in entry.roles:
                        expected = "403"
                    elif variant == "other" and not world.sees_others(person, entry.obj):
                        expected = "404"
                    else:
                        expected = "ok"
                    response = _request(app, client, method, url, entry, world, person, headers)
                    _judge(response, expected, entry, f"{name} ({person.role}) {method} {url} [{variant}]")
                    checked += 1
    assert checked


# --------------------------------------------------------------------------- CSRF on every POST

def test_every_post_route_refuses_a_request_without_its_csrf_token(world):
    """Built from the URL map too: a new form cannot go without the token. The API is exempt
    (bearer tokens, no cookies) and is checked in test_api.py."""
    app, posts = world.app, 0
    for rule in app.url_map.iter_rules():
        entry = MATRIX[rule.endpoint]
        if "POST" not in rule.methods or entry.access == "api":
            continue
        value = world.objects("admin", entry.obj)["own"] if entry.obj else None
        url = _url(app, rule, entry.obj, value)
        client = app.test_client()
        assert login(client, world.people["admin"]).status_code == 303
        for headers in ({}, {"X-CSRFToken": "forged", "HX-Request": "true"}):
            data = entry.data(world, world.people["admin"]) if entry.data else {}
            response = client.post(url, data=data, headers=headers)
            assert response.status_code == 400, (url, headers, response.status_code)
            assert "安全校验未通过：页面已过期或缺少校验码，请刷新页面后重试" in response.get_data(as_text=True)
        assert client.get("/account").status_code == 200          # still signed in: nothing happened
        posts += 1
    assert posts >= 12


def test_a_token_from_another_session_is_refused(world):
    app = world.app
    mine, theirs = app.test_client(), app.test_client()
    login(mine, world.people["manager_a"])
    login(theirs, world.people["manager_b"])
    response = mine.post("/account/tokens", data={"csrf_token": csrf_token(theirs, "/account")})
    assert response.status_code == 400
