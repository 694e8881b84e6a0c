"""Blueprints, one per file."""
from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from models.bounds import MAX_ID


class IdConverter(IntegerConverter):
    """Every route's `<int:…>`: an id no table can hold is a 404 like any missing row, instead of
    an OverflowError from the database driver (models/bounds.py). NotFound, not ValidationError:
    werkzeug would answer a POST to /projects/<huge>/evaluation with 405, as the GET rule of the
    same path was seen first."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ID:
            raise NotFound()
        return number


def register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter      # before the first route is added
    from views import account, actuals, admin, api, auth, bulk, errors, evidence, health, imports, projects, security
    from views import admin_reminders, workbench
    # auth first: its gate (views/auth.py) runs before every other blueprint's own checks
    for module in (auth, health, workbench, projects, actuals, evidence, bulk, imports, account, admin,
                   admin_reminders, api):
        app.register_blueprint(module.bp)
    from views import adjustments, evaluation, exports
    app.register_blueprint(adjustments.bp)
    app.register_blueprint(evaluation.bp)
    app.register_blueprint(exports.bp)
    from views import target_adjustments
    app.register_blueprint(target_adjustments.bp)
    from views import api_alerts, api_docs, api_reports, reports
    app.register_blueprint(reports.bp)
    app.register_blueprint(api_docs.bp)     # no token: the document holds no data
    for module in (api_reports, api_alerts):        # /api/v1/…: views/api.py's bearer check
        app.register_blueprint(module.bp)
        app.extensions["csrf"].exempt(module.bp)
    from views import api_rectifications, rectifications, rounds
    app.register_blueprint(rounds.bp)               # monitoring rounds and 整改 (DOMAIN.md §8)
    app.register_blueprint(rectifications.bp)
    app.register_blueprint(api_rectifications.bp)
    from views import monitoring_report
    app.register_blueprint(monitoring_report.bp)    # a unit's 监控报告 for a round (DOMAIN.md §8)
    app.extensions["csrf"].exempt(api_rectifications.bp)
    app.extensions["csrf"].exempt(api.bp)   # bearer tokens only, no cookies: nothing to forge
    errors.register(app)
    security.register(app)
