"""`GET /api/v1/openapi.json`: the API's OpenAPI document (reads/openapi.py), without a token — it
describes the calls, never data, and a client reads it before it has a token."""
from __future__ import annotations

from flask import Blueprint, Response

from reads.openapi import document_json

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
def openapi():
    return Response(document_json(), mimetype="application/json")
