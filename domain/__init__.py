"""The rules of DOMAIN.md as pure code: no Flask, no database session, no clock.

units.py (numbers, units and scaling), rules.py (completion, pace, lights, scores),
calendar.py (reporting periods, deadlines, the judged period, their names), indicators.py (an
indicator's annual target and measure in force), project_year.py (one project year's inputs →
everything derived as of a date). Every reader goes through here.
"""
