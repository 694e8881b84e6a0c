"""Domain-aware correction of what OCR read (DOMAIN.md §1–§2), and the form's confidence.

Used only for rows that carry a confidence (Row.conf, i.e. read by OCR): a text layer or an
xlsx sheet says exactly what is written, and its parse must not change.

- `correct_rows`, before the forms are read: labels snapped to the closed vocabulary
  (importers.vocabulary), amounts with OCR's usual confusions (O for 0, l for 1) repaired;
- `check_form`, after: 指标值 checked by the grammar and repaired where a usual confusion
  explains a value that does not parse; the 实施期 and 年度 三级 names reconciled; amounts
  cross-checked; then form["confidence"] (the fields below the threshold) and form["ocr"].

Whatever is changed or doubtful gets a lowered confidence, so the review page shows it for a
person to check: a guess is never stored unseen.
"""
from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

from importers import confidence, vocabulary
from importers.values import parse_number, parse_target

AMBIGUOUS_SNAP = 0.5    # a label as close to two labels: a person decides
SNAPPED = 0.95          # one label within reach: read as that label, confidently
REPAIRED = 0.6          # a value changed by a repair: shown for checking
UNREADABLE = 0.5        # a value that still does not parse, or amounts that do not add up
NAMES_AT_MOST = 2       # characters a 三级 name may differ by and still be one OCR slip

# ---------------------------------------------------------------------------- rows


def correct_rows(rows: list, labels: vocabulary.Labels) -> list:
    """Rows with labels snapped and amounts repaired; confidences lowered where in doubt."""
    return [_correct_row(row, labels) if row.conf is not None else row for row in rows]


def _correct_row(row, labels: vocabulary.Labels):
    cells, conf = list(row.cells), list(row.conf) + [None] * (len(row.cells) - len(row.conf))
    doubtful_label = False   # the value after an ambiguous label is as doubtful as where it goes
    for j, cell in enumerate(cells):
        if doubtful_label and cell and vocabulary.label_key(cell) not in labels.words:
            conf[j] = min(conf[j] if conf[j] is not None else 1.0, AMBIGUOUS_SNAP)
            doubtful_label = False
        snapped = vocabulary.snap_cell(cell, labels)
        if snapped and not _may_snap(snapped[1], conf[j], labels):
            snapped = None
        if snapped:
            cells[j], found = snapped
            conf[j] = min(conf[j] if conf[j] is not None else 1.0, AMBIGUOUS_SNAP) if found.ambiguous \
                else max(conf[j] or 0.0, SNAPPED)
            doubtful_label = found.ambiguous
            continue
        number = repair_number(cell)
        if number is not None:
            cells[j] = number
            conf[j] = min(conf[j] if conf[j] is not None else 1.0, REPAIRED)
    return replace(row, cells=cells, conf=conf)


def _may_snap(found: vocabulary.Snap, conf: float | None, labels: vocabulary.Labels) -> bool:
    """A cell OCR was sure of is snapped only to a long label of the form's frame: a short
    word (负责人, 数量指标) or a taxonomy name one character away may be a real value
    (a name, a 三级 such as 质量指数), and a sure reading of it is kept."""
    if conf is None or conf < confidence.CONFIDENCE_THRESHOLD:
        return True
    return len(found.label) >= 5 and found.label not in labels.taxonomy


_CONFUSABLE = str.maketrans({"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "|": "1", "。": "."})


def repair_number(text: str | None) -> str | None:
    """An amount OCR misread (`5,2O0.00`, `l2000`, `37，000,000`): the number it stands for,
    or None when the text is a number already or nothing like one."""
    if not text or not re.search(r"\d.*\d", text) or not re.fullmatch(r"[\d\s,，.。OoDlI|]+", text):
        return None
    if _is_number(text):
        return None
    fixed = _fix_digits(text.translate(_CONFUSABLE))
    return fixed if _is_number(fixed) else None


def _fix_digits(text: str) -> str:
    """A comma that does not group three digits is a misread decimal point (`95,5` → `95.5`)."""
    text = text.replace("，", ",")
    return re.sub(r",(?=\s*\d(?:\s*\d)?(?:\D|$))(?!\s*\d\s*\d\s*\d)", ".", text)


def _is_number(text: str) -> bool:
    try:
        parse_number(text)
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------------------- one form


def check_form(form: dict, rows: list, warnings: list[str], labels: vocabulary.Labels) -> None:
    """Correct and check a form read from OCR rows; set its `confidence` and `ocr` keys."""
    field_conf = confidence.trace(form, rows, labels)
    repair_targets(form, field_conf, warnings)
    reconcile_names(form, field_conf, warnings)
    check_amounts(form, field_conf, warnings)
    form["ocr"] = True
    form["confidence"] = confidence.low_confidence(field_conf)


def _lower(field_conf: dict, path: str, to: float) -> None:
    field_conf[path] = min(field_conf.get(path, 1.0), to)


# --- 指标值

# OCR's usual misreadings of a leading comparator, and of digits inside a number
_LEADING = [("》=", "≥"), ("》", "≥"), ("《=", "≤"), ("《", "≤"), ("＞=", "≥"), ("＜=", "≤"),
            ("=>", "≥"), ("=<", "≤"), ("≥=", "≥"), ("≤=", "≤")]
_NUMBER_RUN = re.compile(r"^([^\dOolI|]*?)([\dOolI|][\d\s,，.。OolI|]*)(.*)$", re.S)
SCOPE_WORDS = {"period": "实施期", "annual": "年度"}


def repair_target(raw: str, other: str | None = None) -> str | None:
    """The 指标值 OCR misread, or None when nothing plausible repairs it.

    `other`: the other side's 指标值 of the same row, which often shares the comparator."""
    text = raw.strip()
    for wrong, right in _LEADING:
        if text.startswith(wrong):
            text = right + text[len(wrong):]
            break
    m = _NUMBER_RUN.match(text)
    if m and re.search(r"\d", m.group(2)):
        run, rest = m.group(2), m.group(3)
        if re.match(r"[A-Za-z]", rest):   # `5lux`: the letters belong to the unit
            keep = re.search(r"[OolI|]*$", run).group()
            run, rest = run[:len(run) - len(keep)], keep + rest
        text = m.group(1) + _fix_digits(run.translate(_CONFUSABLE)) + rest
    text = _leading_two(text, other)
    fixed, before = parse_target(text), parse_target(raw)
    if text == raw or fixed.kind != "quantitative":
        return None
    if before.kind == "quantitative" and (before.op, before.value, before.unit) == (fixed.op, fixed.value, fixed.unit):
        return None   # the grammar read it right already (`1，000`)
    return text


def _leading_two(text: str, other: str | None) -> str:
    """`295%` for `≥95%`: a leading 2 is ≥ misread when the rest is a percentage of at most 100
    while the whole is over 100, or when the other side reads `≥` and the same rest."""
    if not text.startswith("2") or len(text) < 2:
        return text
    rest = "≥" + text[1:]
    whole, fixed = parse_target(text), parse_target(rest)
    if fixed.kind != "quantitative":
        return text
    if whole.unit == "%" and whole.value is not None and whole.value > 100 and fixed.value <= 100:
        return rest
    if other and compact(other) == compact(rest):
        return rest
    return text


def compact(text) -> str:
    return re.sub(r"\s+", "", str(text or ""))


_LETTER_DIGIT = re.compile(r"[OolI|]+(?![A-Za-z])")
_ODD_UNIT = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9%‰/²³·．.()（）℃]")


def looks_numeric(raw: str | None) -> bool:
    """A 指标值 the grammar reads as words although it starts like a number (after an optional
    comparator): a misread digit, not a qualitative target (保障, 按时, 2024年8月底前); or a
    number whose unit holds OCR noise (`≥5?条`)."""
    target = parse_target(raw)
    if target.kind == "quantitative":   # `≥5?条`, or `≥7O家`: a digit misread as a letter
        return bool(target.unit and (_ODD_UNIT.search(target.unit) or _LETTER_DIGIT.match(target.unit)))
    if target.no_target or target.is_date:
        return False
    text = re.sub(r"^[\s≥≤><=＞＜＝》《]+", "", raw or "")
    return bool(re.match(r"[\dOolI|]+[\d.,，。OolI|]*", text)) and bool(re.search(r"\d", text))


def repair_targets(form: dict, field_conf: dict, warnings: list[str]) -> None:
    for i, item in enumerate(form["indicators"]):
        for side in ("period", "annual"):
            part = item.get(side)
            if not part:
                continue
            other_side = item.get("annual" if side == "period" else "period")
            raw = part["target"]["raw"]
            path = f"indicators[{i}].{side}.target.raw"
            fixed = repair_target(raw, other_side["target"]["raw"] if other_side else None)
            if fixed is not None:
                part["target"] = parse_target(fixed).as_dict()
                _lower(field_conf, path, REPAIRED)
                warnings.append(f"第{i + 1}个指标（{part['level3'] or '无名'}）的{SCOPE_WORDS[side]}指标值识别为"
                                f"“{raw}”，已按“{fixed}”读取，请核对")
            elif looks_numeric(raw):
                _lower(field_conf, path, UNREADABLE)
                warnings.append(f"第{i + 1}个指标（{part['level3'] or '无名'}）的{SCOPE_WORDS[side]}指标值"
                                f"“{raw}”无法识别为数值，请核对")


# --- names that appear twice


def reconcile_names(form: dict, field_conf: dict, warnings: list[str]) -> None:
    """The 实施期 and 年度 三级 of a row, where they differ by one or two substituted characters
    and OCR was unsure of one of them: read both as the surer one. Different lengths
    (官方网站更新消息数 / 官方网站更新消息数量) are the author's wording and stay."""
    for i, item in enumerate(form["indicators"]):
        if not item.get("period") or not item.get("annual"):
            continue
        names = {s: item[s]["level3"] for s in ("period", "annual")}
        a, b = names["period"], names["annual"]
        if not a or not b or a == b or len(a) != len(b) or len(a) < 3:
            continue
        differing = sum(1 for x, y in zip(a, b) if x != y)
        if differing > min(NAMES_AT_MOST, len(a) // 3):
            continue
        confs = {s: field_conf.get(f"indicators[{i}].{s}.level3", 1.0) for s in names}
        low, high = sorted(names, key=lambda s: confs[s])
        if confs[low] >= confs[high] or confs[low] >= confidence.CONFIDENCE_THRESHOLD:
            continue
        item[low]["level3"] = names[high]
        field_conf[f"indicators[{i}].{low}.level3"] = confs[high]
        warnings.append(f"第{i + 1}个指标的{SCOPE_WORDS[low]}三级指标识别为“{names[low]}”，与{SCOPE_WORDS[high]}"
                        f"“{names[high]}”仅差{differing}字，已统一为“{names[high]}”")


# --- amounts

PARTS = ("central", "provincial", "local", "self_raised", "other")
FUND_WORDS = {"total": "资金总额", "central": "中央财政资金", "provincial": "省级财政资金",
              "local": "市县（区）财政资金", "self_raised": "单位自筹", "other": "其他资金", "fiscal": "财政拨款"}
SIDE_TOTALS = {"period": "实施期资金总额", "annual": "年度资金总额"}


def _yuan(value) -> str:
    return f"{Decimal(str(value)):,.2f}".rstrip("0").rstrip(".")


def check_amounts(form: dict, field_conf: dict, warnings: list[str]) -> None:
    """年度资金总额 (and 实施期资金总额) = the sum of its parts; 实施期 total ≥ 年度 total.

    Where a form gives 其中：财政拨款 instead of the 中央/省级/市县 split (年度-only and 上海
    layouts), its parts need not add up to the total (上年结转资金 is in it, not kept apart:
    importers/layouts.py), so they may only not exceed it."""
    funds = form["funds"]
    for side in ("period", "annual"):
        f = funds[side]
        if f.get("total") is None:
            continue
        split = any(f.get(k) is not None for k in PARTS[:4])
        parts = [k for k in (PARTS if split else ("fiscal", "other")) if f.get(k) is not None]
        if not parts:
            continue
        total, stated = sum(Decimal(str(f[k])) for k in parts), Decimal(str(f["total"]))
        words = "、".join(FUND_WORDS[k] for k in parts) + ("之和" if len(parts) > 1 else "")
        if split and abs(total - stated) > Decimal("0.01"):
            problem = f"{SIDE_TOTALS[side]}{_yuan(stated)}元与{words}{_yuan(total)}元不一致，请核对"
        elif not split and total - stated > Decimal("0.01"):
            problem = f"{SIDE_TOTALS[side]}{_yuan(stated)}元小于{words}{_yuan(total)}元，请核对"
        else:
            continue
        for k in ("total", *parts):
            _lower(field_conf, f"funds.{side}.{k}", UNREADABLE)
        warnings.append(problem)
    period, annual = funds["period"].get("total"), funds["annual"].get("total")
    if period is not None and annual is not None and Decimal(str(period)) < Decimal(str(annual)):
        _lower(field_conf, "funds.period.total", UNREADABLE)
        _lower(field_conf, "funds.annual.total", UNREADABLE)
        warnings.append(f"实施期资金总额{_yuan(period)}元小于年度资金总额{_yuan(annual)}元，请核对")
