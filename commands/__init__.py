"""Command-line groups: `flask init-db`, `flask forms …`, `flask demo …`, `flask housekeeping` …"""
from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    from commands import api_docs, backup, check, db, demo, forms, housekeeping, reminders, users
    app.cli.add_command(db.init_db)
    app.cli.add_command(forms.forms)
    app.cli.add_command(demo.demo)
    app.cli.add_command(users.users)
    app.cli.add_command(reminders.reminders)
    app.cli.add_command(housekeeping.housekeeping)
    app.cli.add_command(backup.backup)
    app.cli.add_command(backup.restore)
    app.cli.add_command(check.check)
    app.cli.add_command(api_docs.api_docs)
