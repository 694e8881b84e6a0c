"""The standard indicator taxonomy of 财预〔2021〕101号 and the mapping of names as written."""
from __future__ import annotations

import re

LEVEL1 = ("产出指标", "效益指标", "满意度指标")

LEVEL2 = {
    "产出指标": ("数量指标", "质量指标", "时效指标", "成本指标"),
    "效益指标": ("经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"),
    "满意度指标": ("服务对象满意度指标",),
}

# Keywords that identify a 二级 written in a non-standard way (经济收益指标, 服务对象满意度 …).
_LEVEL2_KEYS = (
    ("数量", "数量指标"), ("质量", "质量指标"), ("时效", "时效指标"), ("成本", "成本指标"),
    ("经济", "经济效益指标"), ("社会", "社会效益指标"), ("生态", "生态效益指标"),
    ("可持续", "可持续影响指标"), ("满意", "服务对象满意度指标"),
)

LEVEL1_OF = {l2: l1 for l1, l2s in LEVEL2.items() for l2 in l2s}


def compact(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def standard_level1(name: str | None) -> str | None:
    """产出 / 产出指标 / 效益指标 … → the standard 一级 name, or None if it is not one."""
    name = compact(name)
    for l1 in LEVEL1:
        if name in (l1, l1[:-2]):
            return l1
    return None


def standard_level2(name: str | None) -> str | None:
    """A 二级 as written → its standard name, or None when it names no 二级 at all.

    Only short names count: a 三级 such as “保障网站正常浏览” must not be taken for a 二级.
    """
    name = compact(name)
    if not name or len(name) > 12:
        return None
    if name in LEVEL1_OF:
        return name
    if not (name.endswith("指标") or name.endswith("满意度") or name.endswith("效益")):
        return None
    for key, l2 in _LEVEL2_KEYS:
        if key in name:
            return l2
    return None


def level1_for(level2: str | None) -> str | None:
    std = standard_level2(level2)
    return LEVEL1_OF.get(std) if std else None
