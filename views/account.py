"""Each user's own page (/account): role and scope, their password, their API tokens.

A new token and nothing else is shown once, in the answer to the POST that made it (only its
hash is stored); the answer is not cached (views/security.py).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from models.accounts import AccountError, change_own_password, revoke_token, scope_label, tokens_of
from models.db import get_session, transaction
from models.user import new_token
from views.auth import clock

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(status: int = 200, **context):
    db = get_session()
    context.setdefault("errors", {})
    return render_template("account.html", scope=scope_label(db, g.user), tokens=tokens_of(db, g.user),
                           **context), status


@bp.get("")
def show():
    return _page()


@bp.post("/password")
def change_password():
    db = get_session()
    try:
        with transaction(db):
            change_own_password(db, g.user, current=request.form.get("current", ""),
                                new=request.form.get("new", ""), repeat=request.form.get("repeat", ""),
                                keep_token=g.get("login_token"), now=clock())
    except AccountError as exc:
        db.refresh(g.user)
        return _page(422, errors={exc.field or "new": str(exc)})
    flash("密码已修改。其他设备上的登录已退出，本浏览器保持登录。", "success")
    return redirect(url_for("account.show"), 303)


@bp.post("/tokens")
def create_token():
    db = get_session()
    with transaction(db):
        token = new_token(db, g.user, clock())
    return _page(new_token=token)


@bp.post("/tokens/<int:token_id>/revoke")
def revoke(token_id: int):
    db = get_session()
    with transaction(db):
        if not revoke_token(db, g.user, token_id, clock()):
            abort(404)
    flash("令牌已撤销，使用它的程序将无法再访问。", "success")
    return redirect(url_for("account.show"), 303)
