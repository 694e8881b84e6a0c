"""提醒设置: what admins decide about reminders, stored as key → JSON rows (reminder_setting).

The defaults live here, in the model, and nowhere else: a setting nobody changed has no row
and takes its default. A stored value that no longer validates (a hand-edited row, a range
narrowed by a later release) falls back to its default instead of stopping the reminders.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, time

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlmodel import Session, select

from models.outbox import ReminderSetting

log = logging.getLogger(__name__)

WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_TIME = re.compile(r"^\s*(\d{1,2})\s*[:：]\s*(\d{2})\s*$")


class ReminderSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    enabled: bool = True                                  # 总开关: off → nothing is queued or sent
    daily_time: str = "09:00"                             # when the scheduler runs the cycle (Asia/Shanghai)
    due_soon_enabled: bool = True
    due_soon_days: int = Field(3, ge=1, le=20)            # remind this many days before an entry deadline
    overdue_enabled: bool = True
    digest_enabled: bool = True
    digest_weekday: int = Field(0, ge=0, le=6)            # 0 = Monday (datetime.weekday)
    escalation_enabled: bool = True
    escalation_days: int = Field(5, ge=1, le=60)          # escalate once a unit is more than this many days late

    @field_validator("daily_time", mode="before")
    @classmethod
    def _time(cls, raw):
        match = _TIME.match(str(raw or ""))
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise ValueError("应为 时:分 格式的时间，例如 09:00")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @property
    def run_at(self) -> time:
        hour, minute = self.daily_time.split(":")
        return time(int(hour), int(minute))

    @property
    def digest_weekday_label(self) -> str:
        return WEEKDAYS[self.digest_weekday]


LABELS = {"enabled": "启用提醒", "daily_time": "每日运行时间", "due_soon_enabled": "截止前提醒",
          "due_soon_days": "截止前天数", "overdue_enabled": "逾期提醒", "digest_enabled": "每周汇总",
          "digest_weekday": "汇总发送日", "escalation_enabled": "逾期督办", "escalation_days": "督办天数"}
FLAGS = tuple(name for name, info in ReminderSettings.model_fields.items() if info.annotation is bool)


class SettingsError(ValueError):
    """Bad input on the settings page: one Chinese message per field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("；".join(f"{LABELS.get(k, k)}：{v}" for k, v in errors.items()))
        self.errors = errors


def _messages(exc: ValidationError) -> dict[str, str]:
    errors = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        info = ReminderSettings.model_fields.get(name)
        if name == "digest_weekday":
            message = "请从星期一到星期日中选择一天"
        elif info is not None and info.annotation is int:
            low = next(b.ge for b in info.metadata if hasattr(b, "ge"))
            high = next(b.le for b in info.metadata if hasattr(b, "le"))
            message = f"应为 {low} 到 {high} 之间的整数"
        else:
            message = str(error.get("ctx", {}).get("error") or "") or "格式不正确"
        errors.setdefault(name, message)
    return errors


def from_form(form) -> ReminderSettings:
    """The settings page's form: a checkbox that is not sent is off. Raises SettingsError."""
    data = {name: form.get(name) in ("1", "on", "true") for name in FLAGS}
    for name in ReminderSettings.model_fields:
        if name not in FLAGS:
            data[name] = (form.get(name) or "").strip()
    try:
        return ReminderSettings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(_messages(exc)) from None


def load(session: Session) -> ReminderSettings:
    settings = ReminderSettings()
    for row in session.exec(select(ReminderSetting)):
        if row.key not in ReminderSettings.model_fields:
            continue
        try:
            settings = ReminderSettings.model_validate({**settings.model_dump(), row.key: row.value})
        except ValidationError:
            log.warning("提醒设置 %s 的存储值 %r 无效，使用默认值", row.key, row.value)
    return settings


def save(session: Session, new: ReminderSettings, now: datetime, by: str) -> list[str]:
    """Write the settings that changed (inside the caller's transaction); returns their names.
    Only a change touches `updated_at`, so that of "enabled" says since when reminders are on."""
    current = load(session)
    changed = [name for name in ReminderSettings.model_fields if getattr(new, name) != getattr(current, name)]
    for name in changed:
        row = session.get(ReminderSetting, name) or ReminderSetting(key=name, updated_at=now, updated_by=by)
        row.value, row.updated_at, row.updated_by = getattr(new, name), now, by[:80]
        session.add(row)
    return changed


def enabled_since(session: Session) -> datetime | None:
    """When reminders were last switched on (the migration switches them on at installation);
    None while they are off or when nothing recorded it."""
    row = session.get(ReminderSetting, "enabled")
    if row is None or row.value is not True:
        return None
    return row.updated_at
