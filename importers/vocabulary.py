"""The closed vocabulary of the form's labels, and snapping what OCR reads to it.

A label printed on the form is one of a few dozen words (项目名称, 主管部门及代码, 年度资金总额,
the 一级/二级 names of the taxonomy …); OCR misreads a character now and then (主管部内及代码,
数量指村). A cell close enough to exactly one label is read as that label.

"Close enough" is deliberately narrow, so that a value is never turned into a label:
- short labels (≤ 4 characters): one character substituted, same length;
- longer ones: at most two edits, the lengths differing by at most one, and at most a third
  of the label's characters;
- a cell that already names a label, or a 二级 the taxonomy recognises (经济收益指标 is a
  non-standard 二级, kept as written), or that holds a digit, is left alone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from importers import taxonomy

TABLE_HEADINGS = ("一级指标", "二级指标", "三级指标", "指标值")


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance on characters; stops early (returns limit + 1) past `limit`."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class Labels:
    """The grid reader's label tables (importers.grid), handed in so this module needs no grid."""
    header: dict[str, str]             # label → field
    fund_totals: frozenset[str]
    fund_sources: dict[str, str]       # label → fund key
    other: frozenset[str]
    words: frozenset[str] = frozenset()   # all of them, the table headings and the taxonomy
    taxonomy: frozenset[str] = frozenset()   # the 一级 and 二级 names

    @classmethod
    def of(cls, header, fund_totals, fund_sources, other) -> "Labels":
        names = frozenset(taxonomy.LEVEL1) | frozenset(taxonomy.LEVEL1_OF)
        words = set(header) | set(fund_totals) | set(fund_sources) | set(other) | set(TABLE_HEADINGS) | names
        return cls(dict(header), frozenset(fund_totals), dict(fund_sources), frozenset(other), frozenset(words), names)


def label_key(text: str | None) -> str:
    """A cell as a label, the one way every reader matches labels (grid, layouts, confidence): no
    spaces, ASCII brackets, no leading 其中 or trailing colon."""
    key = re.sub(r"\s+", "", text or "").replace("（", "(").replace("）", ")")
    key = re.sub(r"^其中[:：]?", "", key)
    return key.rstrip(":：")


def _tolerance(label: str, text: str) -> int:
    if len(label) <= 4:
        return 1 if len(text) == len(label) else 0
    if abs(len(text) - len(label)) > 1:
        return 0
    return min(2, len(label) // 3)


@dataclass(frozen=True)
class Snap:
    label: str          # the label the text is read as
    distance: int
    ambiguous: bool     # another label was just as close


def snap(text: str | None, vocabulary: frozenset[str]) -> Snap | None:
    """The label `text` is a misreading of, or None (also when it is a label already)."""
    key = label_key(text)
    if len(key) < 3 or len(key) > 16 or key in vocabulary or re.search(r"\d", key):
        return None
    if taxonomy.standard_level1(key) or taxonomy.standard_level2(key):
        return None
    best: list[tuple[int, str]] = []
    for label in vocabulary:
        tolerance = _tolerance(label, key)
        if tolerance == 0:
            continue
        d = edit_distance(key, label, limit=tolerance)
        if d <= tolerance:
            best.append((d, label))
    if not best:
        return None
    best.sort(key=lambda pair: (pair[0], -_common_prefix(key, pair[1]), pair[1]))
    d, label = best[0]
    ambiguous = sum(1 for other, _ in best if other == d) > 1
    return Snap(label, d, ambiguous)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for ca, cb in zip(a, b):
        if ca != cb:
            break
        n += 1
    return n


_INLINE = re.compile(r"^(\s*)([^:：]{2,14})([:：].+)$", re.S)


def snap_cell(text: str | None, labels: Labels) -> tuple[str, Snap] | None:
    """A cell's text with its label snapped, and the snap; None when nothing changes.
    Also the label of a “经办人：朱照亮” cell."""
    if not text:
        return None
    found = snap(text, labels.words)
    if found:
        return found.label, found
    inline = _INLINE.match(text)
    if inline:
        found = snap(inline.group(2), frozenset(labels.header))
        if found:
            return inline.group(1) + found.label + inline.group(3), found
    return None

