"""Signing in and out, and the gate every request passes.

The gate denies by default: a page needs a signed-in user unless its view is marked
`@public` (the login page, /healthz) or it is a static file; the JSON API (blueprint `api`)
authenticates itself from its bearer token and never from the cookie. A new route therefore
cannot forget its check. Roles are checked with `@requires(...)` — on a view, or on a
blueprint's `before_request` to cover all its routes (admin, imports); the scope of a role
lives in the queries.

The Flask session cookie carries only the LoginSession token (and Flask-WTF's CSRF secret).
Signing in clears it and starts a new session, so no one can plant a session in advance;
signing out ends the session in the database, so a copied cookie stops working at once.
"""
from __future__ import annotations

import math
from datetime import datetime
from functools import wraps
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request,
                   session, url_for)
from sqlmodel import select

from models.accounts import may_import
from models.db import get_session, transaction
from models.user import (ACCOUNT_MAX_WAIT, User, account_opens_at, address_blocked_until, end_session, hash_password,
                         record_login, start_session, touch_session, user_for_session, verify_password)
from views.clock import local_time, now as clock_now

bp = Blueprint("auth", __name__)

SESSION_KEY = "login"
BAD_LOGIN = "用户名或密码错误"


def clock() -> datetime:
    """Now, or the time tests set in config["CLOCK"] (the login limit without sleeping);
    views/clock.py is the one place that reads it."""
    return clock_now()


def public(view):
    """Marks a view that answers without signing in."""
    view.public = True
    return view


def check_role(*roles: str) -> None:
    if g.get("user") is None or g.user.role not in roles:
        abort(403)


def requires(*roles: str):
    """@requires("admin"): other signed-in users get 403 (the gate already sent strangers
    to the login page). Under `@bp.before_request` it guards every route of the blueprint."""
    def decorator(view):
        @wraps(view)
        def checked(*args, **kwargs):
            check_role(*roles)
            return view(*args, **kwargs)
        return checked
    return decorator


@bp.app_context_processor
def permissions() -> dict:
    """What the top bar may offer; the views check again (and the queries scope the data)."""
    user = g.get("user")
    return {"can_import": bool(user and may_import(user)), "is_admin": bool(user and user.role == "admin")}


# --------------------------------------------------------------------------- the gate

@bp.before_app_request
def gate():
    g.user = None
    endpoint = request.endpoint
    if endpoint == "static" or request.blueprint == "api" or request.path.startswith("/api/"):
        return None   # a file, or the API with its own bearer check (cookies ignored)
    g.user = _signed_in_user()
    if endpoint is None:
        return None   # no such page: the 404/405 follows, with the user's top bar
    if getattr(current_app.view_functions[endpoint], "public", False) or g.user is not None:
        return None
    return _to_login()


def _signed_in_user() -> User | None:
    token = session.get(SESSION_KEY)
    if not token:
        return None
    db, now = get_session(), clock()
    user = user_for_session(db, token, now)
    if user is None:
        session.pop(SESSION_KEY, None)    # ended, idle too long, or the user was disabled
        return None
    touch_session(db, token, now)          # changes the row at most once a minute
    if db.dirty:
        db.rollback()                      # write under the write lock, not from a read
        with transaction(db):
            user = user_for_session(db, token, now)
            touch_session(db, token, now)
    g.login_token = token
    return user


def _to_login():
    """A page goes to the login page and comes back after; an htmx request (a fragment, a
    poll) makes the whole page go there, instead of swapping the login form into a table."""
    if request.headers.get("HX-Request") == "true":
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = safe_next(current.path + (f"?{current.query}" if current.query else ""))
        response = make_response("", 401)
        response.headers["HX-Redirect"] = url_for("auth.login", next=back)
        return response
    back = safe_next(request.full_path.rstrip("?")) if request.method == "GET" else None
    return redirect(url_for("auth.login", next=back), 302 if request.method == "GET" else 303)


def safe_next(target: str | None) -> str | None:
    """Only a path of this site: never another host (`//evil`, `/\\evil`, `https:…`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path in ("/login", "/logout"):
        return None
    return target


# --------------------------------------------------------------------------- signing in and out

_DUMMY_HASH: list[str] = []


def _check(user: User | None, password: str) -> bool:
    """Verify the password; for a name that does not exist, spend the same time on a dummy
    hash, so the answer's timing does not tell which names exist."""
    if user is None:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hash_password("not the password of anyone"))
        verify_password(User(username="", role="", password_hash=_DUMMY_HASH[0], created_at=clock()), password)
        return False
    return verify_password(user, password)


def _login_page(status: int = 200, error: str | None = None, username: str = "", target: str | None = None):
    return render_template("login.html", error=error, username=username, next=target), status


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        if g.user is not None:
            return redirect(target or url_for("workbench.home"))
        return _login_page(target=target)

    username = request.form.get("username", "").strip()[:80]
    password = request.form.get("password", "")
    address = (request.remote_addr or "unknown")[:64]
    db, now = get_session(), clock()
    with transaction(db):
        user, attempt, refusal = _claim_attempt(db, username, address, now)
    if refusal is not None:
        return _refused(refusal, now, username, target)
    # A disabled account gets the answer of a wrong password, after the same hashing: telling
    # it only to the right password would confirm the password to whoever guessed it.
    if not _check(user, password) or not user.is_active:
        return _login_page(422, BAD_LOGIN, username, target)

    with transaction(db):     # also stores the rehashed password when the parameters changed
        db.add(user)
        attempt.success = True
        db.add(attempt)
        token = start_session(db, user, now)
    session.clear()           # a new session: nothing from before signing in survives
    session[SESSION_KEY] = token
    return redirect(target or url_for("workbench.home"), 303)


def _claim_attempt(db, username: str, address: str, now: datetime):
    """(user, attempt, None), the attempt counted as a failure until the password proves
    right; or (None, None, refusal) while the address is locked or the account must wait.

    Counted before the (slow) password check, under the write lock (and the user's row lock
    on PostgreSQL): a burst of guesses sent at once cannot all pass before the first of them
    is recorded."""
    user = db.exec(select(User).where(User.username == username).with_for_update()).first()
    refusal = address_blocked_until(db, address, now) or account_opens_at(db, username, now)
    if refusal is not None:
        return None, None, refusal
    return user, record_login(db, username, address, now, success=False), None


def _refused(opens_at: datetime, now: datetime, username: str, target: str | None):
    """429 with Retry-After. An account's wait (half a minute at most) is told in seconds;
    the lock of an address (up to 15 minutes) by the clock."""
    seconds = max(1, math.ceil((opens_at - now).total_seconds()))
    if seconds > ACCOUNT_MAX_WAIT.total_seconds():
        message = f"登录失败次数过多，已暂停登录。请于 {local_time(opens_at, '%H:%M')}（北京时间）后再试。"
    else:
        message = f"登录失败次数过多，请等待 {seconds} 秒后再试。"
    page, status = _login_page(429, message, username, target)
    response = make_response(page, status)
    response.headers["Retry-After"] = str(seconds)
    return response


@bp.post("/logout")
@public
def logout():
    """Public so that signing out always works, even after the session ran out."""
    token = session.get(SESSION_KEY)
    if token:
        db = get_session()
        with transaction(db):
            end_session(db, token, clock())
    session.clear()
    flash("您已退出登录。", "success")
    return redirect(url_for("auth.login"), 303)
