"""`flask check` finds nothing stale after `flask demo synth`, and after random changes made through
the product's own writers (scripts/check_scenario.py: CI runs it at full size on both backends;
here the same scenario runs in-process on a smaller scale)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from scripts.check_scenario import KINDS, scenario


def flask_command(app):
    """`flask …` through the app's CLI runner, as (exit code, output)."""
    runner = app.test_cli_runner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(args=list(args))
        return result.exit_code, result.output
    return run


@pytest.mark.parametrize("today", [None, datetime(2023, 8, 5, 23, 30, tzinfo=timezone.utc)],
                         ids=["after the year", "on 6 August before the morning cycle"])
def test_check_finds_nothing_after_demo_seed_and_synth(app, today):
    """Every figure and every open alert they store is the core's, as of the app's today: after
    the year (the real clock), or inside it on a morning when July's deadline has just passed."""
    if today is not None:
        app.config["CLOCK"] = lambda: today
    flask = flask_command(app)
    for args in (("demo", "seed"), ("demo", "synth", "--projects", "20", "--year", "2023", "--seed", "3")):
        code, output = flask(*args)
        assert code == 0, output
    code, output = flask("check")
    assert code == 0, output
    assert "所有存储的派生值与重新计算的结果一致" in output


def test_check_finds_nothing_after_random_changes(app):
    code, output, tally = scenario(app, flask_command(app), seed=7, projects=20, changes=200)
    # every kind of change happened, and the rules turned some down (rolled back)
    assert set(tally.applied) == set(KINDS) - {"refused entry"}, tally.line()
    assert tally.refused["refused entry"] > 0, tally.line()
    assert code == 0, output
    assert "所有存储的派生值与重新计算的结果一致" in output
