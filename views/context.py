"""What every write needs besides its input, from one place, for pages and the API alike:

- who: the signed-in user's username. It is the stable identity the history records (a display
  name can change, and two people can share one); pages and mail show it as the display name
  (reads.wording.user_labels).
- when: views/clock.py.
- the bands of settings (PACE_BANDS, LEVEL_YELLOW, GRADE_BANDS, OVER_BANDS, read by
  services.inputs.thresholds), so that an entry stores the light every reader and
  `flask check` derive from the same settings.
"""
from __future__ import annotations

from flask import current_app, g

from domain.rules import Thresholds
from services.inputs import thresholds
from services.entry import Context
from views.clock import now


def who() -> str:
    return g.user.username


def bands() -> Thresholds:
    return thresholds(current_app.config)


def entry_context() -> Context:
    """Who, when and the bands, for recording actuals and spending (services.entry.Context)."""
    return Context(who(), now(), bands())
