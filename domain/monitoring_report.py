"""The 监控报告 of a 实施单位 for a monitoring round (DOMAIN.md §8), as pure rules: its sections, the
states its draft goes through and the steps that move it.

The unit's 填报人 edits a draft (first written from the round's figures) and submits it; it is
read-only from then on. The 审核人 of the 主管部门 reads it and may return it with a comment: the
填报人 edits and submits it again. Nothing else: the report informs the 主管部门; each project's
monitoring is reviewed on its own (domain/monitoring.py)."""
from __future__ import annotations

# The sections in the order the report prints them: (field, heading).
SECTIONS = (
    ("overview", "一、总体概况"),
    ("budget", "二、预算执行情况"),
    ("performance", "三、绩效目标完成情况"),
    ("deviation", "四、偏差情况及原因分析"),
    ("over", "五、超额完成情况"),
    ("rectification", "六、整改情况"),
    ("measures", "七、下一步工作措施"),
)
SECTION_FIELDS = tuple(name for name, _heading in SECTIONS)

NOT_STARTED, DRAFT, SUBMITTED, RETURNED = "none", "draft", "submitted", "returned"
REPORT_STATE_LABELS = {NOT_STARTED: "未编写", DRAFT: "草稿（未提交）", SUBMITTED: "已提交", RETURNED: "已退回"}
REPORT_EDITABLE = (NOT_STARTED, DRAFT, RETURNED)
SUBMIT, RETURN = "提交", "退回"

# Each step: the states it starts from, where it leads, whether a comment is required.
REPORT_TRANSITIONS = {
    SUBMIT: ((DRAFT, RETURNED), SUBMITTED, False),
    RETURN: ((SUBMITTED,), RETURNED, True),
}
REPORT_REFUSALS = {
    SUBMIT: "只有草稿或已退回的监控报告可以提交",
    RETURN: "只有已提交的监控报告可以退回",
}
