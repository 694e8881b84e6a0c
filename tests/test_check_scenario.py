"""`flask check` finds nothing stale after `flask demo synth`, and after random changes made through
the product's own writers (scripts/check_scenario.py: CI runs it at full size on both backends;
here the same scenario runs in-process on a smaller scale)."""
from __future__ import annotations

from scripts.check_scenario import KINDS, scenario


def flask_command(app):
    """`flask …` through the app's CLI runner, as (exit code, output)."""
    runner = app.test_cli_runner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(args=list(args))
        return result.exit_code, result.output
    return run


def test_check_finds_nothing_after_demo_synth(app):
    flask = flask_command(app)
    code, output = flask("demo", "synth", "--projects", "20", "--year", "2023", "--seed", "3")
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
