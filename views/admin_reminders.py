"""Reminders for admins (/admin/reminders): 提醒设置 with the scheduler's last runs and the mail
server in use, and the 发件箱 (outbox) — every message by state, its text, and 重新发送 for one
that failed or whose fate is unknown (a crash between claim and send: it may or may not have
gone out, so only a person decides to send it again).

Validation errors answer 422 with the page and the messages beside the fields; a resend that
no longer applies (someone else resent it, it was sent meanwhile) answers 409 with the
message page saying so (the convention of templates/base.html).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from models.bounds import whole_number
from models.db import get_session, transaction
from models.outbox import (FILTERS, STATE_LABELS, TRIGGER_LABELS, OutboxMessage, last_runs, last_scheduled_run,
                           notices_of,
                           outbox_counts, outbox_page, resend as resend_message)
from reads.wording import user_label
from models.user import User
from reminders import mailer
from reminders.cycle import DEFAULT_BASE_URL, base_url_warning
from reminders.notices import notice_words
from reminders.health import scheduler_health
from reminders.settings import LABELS, WEEKDAYS, SettingsError, from_form, load, save as save_settings
from views.auth import clock, requires

bp = Blueprint("admin_reminders", __name__, url_prefix="/admin/reminders")


@bp.before_request
@requires("admin")
def admins_only() -> None:
    """Every route of this blueprint, including those added later."""


def _mail_server() -> tuple[mailer.SmtpSettings | None, str | None]:
    try:
        return mailer.SmtpSettings.from_mapping(current_app.config), None
    except ValueError as exc:
        return None, str(exc)


def _settings_page(status: int = 200, errors: dict | None = None, form=None):
    session, now = get_session(), clock()
    settings = load(session)
    smtp, smtp_error = _mail_server()
    base_url = (current_app.config.get("BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    return render_template(
        "admin_reminders.html", settings=form or settings.model_dump(), saved=settings, errors=errors or {},
        weekdays=WEEKDAYS, runs=last_runs(session), health=scheduler_health(session, now),
        last_ok=last_scheduled_run(session, succeeded=True),
        counts=outbox_counts(session, now), smtp=smtp, smtp_error=smtp_error, state_labels=STATE_LABELS,
        base_url=base_url, base_url_warning=base_url_warning(base_url),
        trigger_labels=TRIGGER_LABELS), status


@bp.get("")
def settings():
    return _settings_page()


@bp.post("")
def save():
    session = get_session()
    try:
        new = from_form(request.form)
    except SettingsError as exc:
        form = {**load(session).model_dump(), **request.form.to_dict()}
        for name in ("enabled", "due_soon_enabled", "overdue_enabled", "digest_enabled", "escalation_enabled"):
            form[name] = name in request.form
        return _settings_page(422, exc.errors, form)
    with transaction(session):
        changed = save_settings(session, new, clock(), g.user.username)
    if changed:
        flash("已保存提醒设置：" + "、".join(LABELS[name] for name in changed) + "。"
              + ("调度进程将在一分钟内按新的运行时间安排。" if "daily_time" in changed else ""), "success")
    else:
        flash("提醒设置没有变化。", "message")
    return redirect(url_for("admin_reminders.settings"), 303)


@bp.get("/outbox")
def outbox():
    session, now = get_session(), clock()
    state = request.args.get("state", "")
    state = state if state in FILTERS else ""
    page = request.args.get("page", "1")
    listing = outbox_page(session, now, state or None, whole_number(page) or 1)
    smtp, smtp_error = _mail_server()
    return render_template("admin_reminders_outbox.html", listing=listing, state=state, filters=FILTERS,
                           counts=outbox_counts(session, now), state_labels=STATE_LABELS, now=now,
                           smtp=smtp, smtp_error=smtp_error)


def _message_page(message: OutboxMessage, status: int = 200, error: str | None = None):
    session, now = get_session(), clock()
    recipient = session.get(User, message.user_id)
    return render_template("admin_reminders_message.html", message=message, recipient=recipient,
                           resent_by=message.resent_by and user_label(session, message.resent_by),
                           state=message.display_state(now), resendable=message.resendable(now),
                           notices=notices_of(session, message.id), notice_words=notice_words,
                           state_labels=STATE_LABELS, error=error), status


def _load(message_id: int) -> OutboxMessage:
    message = get_session().get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return message


@bp.get("/outbox/<int:message_id>")
def message(message_id: int):
    return _message_page(_load(message_id))


@bp.post("/outbox/<int:message_id>/resend")
def resend(message_id: int):
    session = get_session()
    message = _load(message_id)
    with transaction(session):
        done = resend_message(session, message.id, clock(), g.user.username)
    session.refresh(message)
    if not done:
        return _message_page(message, 409, f"这封邮件现在的状态是“{STATE_LABELS[message.display_state(clock())]}”，"
                                           "只有发送失败或状态未知的邮件可以重新发送。")
    flash(f"已将邮件 #{message.id} 重新加入发送队列：调度进程一分钟内发送"
          + ("。" if _mail_server()[0] else "（尚未配置 SMTP_HOST，邮件将留在发件箱）。"), "success")
    return redirect(url_for("admin_reminders.message", message_id=message.id), 303)
