"""Error pages in Chinese; JSON for /api and /healthz."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException

from models.bounds import BadArgument
from reads.api_answers import error
from views.api import send

MESSAGES = {
    400: "请求有误",
    401: "请先登录",
    403: "您没有权限执行此操作",
    404: "页面不存在，或您无权查看",
    405: "不支持的请求方式",
    413: "上传的文件过大",
    422: "提交的内容有误",
    500: "服务器内部错误，请稍后再试",
}


CSRF_MESSAGE = "安全校验未通过：页面已过期或缺少校验码，请刷新页面后重试"


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        if request.path.startswith("/api/"):
            return send(error(CSRF_MESSAGE), 400)
        return render_template("error.html", code=400, message=CSRF_MESSAGE), 400

    @app.errorhandler(BadArgument)
    def bad_argument(exc: BadArgument):
        """A year or date out of range or malformed, wherever it was read (models/bounds.py)."""
        return http_error(BadRequest(description=str(exc)))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # abort(400, description="…") may carry its own Chinese message; Werkzeug's are English
        own = exc.description if exc.description and not exc.description.isascii() else None
        message = own or MESSAGES.get(exc.code, exc.name)
        if request.path.startswith("/api/"):
            return send(error(message), exc.code)
        return render_template("error.html", code=exc.code, message=message), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        if request.path.startswith("/api/"):
            return send(error(MESSAGES[500]), 500)
        return render_template("error.html", code=500, message=MESSAGES[500]), 500
