"""The review of a year-end self-evaluation (绩效自评, DOMAIN.md §5): its states, the steps
that move it, and which state each step starts from and leads to.

The 填报人 submits (weights and 偏差原因分析及改进措施 are locked from then on), the 审核人
approves or returns it with a comment, the 填报人 or an admin withdraws it (撤回: back to a
draft)."""
from __future__ import annotations

DRAFT, SUBMITTED, APPROVED, RETURNED = "draft", "submitted", "approved", "returned"
STATE_LABELS = {DRAFT: "草稿", SUBMITTED: "已提交，待审核", APPROVED: "已通过", RETURNED: "已退回"}
SUBMIT, APPROVE, RETURN, WITHDRAW = "提交", "通过", "退回", "撤回"
EDITABLE_STATES = (DRAFT, RETURNED)

# Each action: the states it starts from, where it leads, whether a comment is required.
TRANSITIONS = {
    SUBMIT: ((DRAFT, RETURNED), SUBMITTED, False),
    APPROVE: ((SUBMITTED,), APPROVED, False),
    RETURN: ((SUBMITTED,), RETURNED, True),
    WITHDRAW: ((SUBMITTED, APPROVED), DRAFT, False),
}
# Why an action does not fit the state it finds.
REFUSALS = {
    SUBMIT: "只有草稿或已退回的自评可以提交",
    APPROVE: "只有已提交待审核的自评可以通过",
    RETURN: "只有已提交待审核的自评可以退回",
    WITHDRAW: "只有已提交或已通过的自评可以撤回",
}
