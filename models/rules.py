"""Moved to domain/rules.py; this alias keeps `from models import rules` working while the
readers move over to the domain core (issue #12)."""
import sys

from domain import rules as _rules

sys.modules[__name__] = _rules
