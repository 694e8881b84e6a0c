"""Headers every response carries.

The Content-Security-Policy admits only the app's own scripts and styles — no inline script,
no inline style, no event-handler attributes (templates/base.html says how htmx is set up for
that) — and no framing. Pages are not stored by browsers or proxies: after signing out, Back
must not show a page the next person at the computer should not see.
"""
from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def register(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")          # frame-ancestors for older browsers
        headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            headers.setdefault("Cache-Control", "no-store")
        return response
