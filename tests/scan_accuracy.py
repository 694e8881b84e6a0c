"""How much of a parse is right, field by field: the yardstick of the OCR benchmark and tests.

A field is one leaf of forms.schema.json — project_name, funds.annual.provincial,
indicators[3].annual.target.value, … — of each expected form. `compare` pairs the forms (in
order) and their indicators (in order), and counts every leaf of the expected forms, plus every
leaf of an indicator or form that the parse has and the expectation has not (a row read twice
is an error too). Keys the expectation does not have (`ocr`, `confidence`, `_pages`,
`source`, a newer schema's additions) are not fields of the comparison.

    score = compare(expected["forms"], result.forms)
    score.share            # 0.993
    compare(expected["forms"], result.forms, fold_width=True)    # ， and , count as the same
    score.wrong[:5]        # [Miss("forms[0].indicators[2].annual.level3", "参加活动场次", "参加活动场")]
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

IGNORED = {"ocr", "confidence", "source"}


@dataclass(frozen=True)
class Miss:
    path: str
    expected: object
    got: object


@dataclass
class Score:
    total: int = 0
    right: int = 0
    wrong: list[Miss] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.right / self.total if self.total else 1.0

    def __iadd__(self, other: "Score") -> "Score":
        self.total += other.total
        self.right += other.right
        self.wrong += other.wrong
        return self

    def summary(self, limit: int = 10) -> str:
        lines = [f"{self.right}/{self.total} fields right ({self.share:.1%})"]
        lines += [f"  {m.path}: expected {m.expected!r}, got {m.got!r}" for m in self.wrong[:limit]]
        if len(self.wrong) > limit:
            lines.append(f"  … and {len(self.wrong) - limit} more")
        return "\n".join(lines)


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


_MISSING = _Absent()


def fold(text: str) -> str:
    """Full-width and half-width forms as one (NFKC: ，→ ,  （→ (  ０→ 0): in a printed CJK
    line the two commas differ by a few pixels of width, which a reader of the page (or of a
    scan of it) does not see as a different text."""
    return unicodedata.normalize("NFKC", text)


def same_value(expected, got, fold_width: bool = False) -> bool:
    """Equal as the schema means it: numbers by value (37000000 == 37000000.0), the rest exactly
    (with `fold_width`, texts up to full-/half-width forms)."""
    numbers = (int, float, Decimal)
    if isinstance(expected, numbers) and isinstance(got, numbers) and \
            not isinstance(expected, bool) and not isinstance(got, bool):
        return Decimal(str(expected)) == Decimal(str(got))
    if fold_width and isinstance(expected, str) and isinstance(got, str):
        return fold(expected) == fold(got)
    return type(expected) is type(got) and expected == got


def _leaves(value, path: str):
    """(path, value) of every leaf under `value`."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if key in IGNORED or key.startswith("_"):
                continue
            yield from _leaves(sub, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _leaves(sub, f"{path}[{i}]")
    else:
        yield path, value


def _walk(expected, got, path: str, score: Score, fold_width: bool) -> None:
    if isinstance(expected, dict):
        for key, sub in expected.items():
            if key in IGNORED or key.startswith("_"):
                continue
            there = got.get(key, _MISSING) if isinstance(got, dict) else _MISSING
            _walk(sub, there, f"{path}.{key}" if path else key, score, fold_width)
    elif isinstance(expected, list):
        items = got if isinstance(got, list) else []
        for i, sub in enumerate(expected):
            _walk(sub, items[i] if i < len(items) else _MISSING, f"{path}[{i}]", score, fold_width)
        for i in range(len(expected), len(items)):      # read but not there: each leaf is an error
            for leaf, value in _leaves(items[i], f"{path}[{i}]"):
                score.total += 1
                score.wrong.append(Miss(leaf, _MISSING, value))
    else:
        score.total += 1
        if got is not _MISSING and same_value(expected, got, fold_width):
            score.right += 1
        else:
            score.wrong.append(Miss(path, expected, got))


def compare(expected_forms: list[dict], got_forms: list[dict], fold_width: bool = False) -> Score:
    """Field-by-field score of `got_forms` (a parse) against `expected_forms`."""
    score = Score()
    _walk(list(expected_forms), list(got_forms), "forms", score, fold_width)
    return score
