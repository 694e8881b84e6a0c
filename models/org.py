"""主管部门 and 实施单位: who owns the projects."""
from __future__ import annotations

from sqlmodel import Field, SQLModel


class Department(SQLModel, table=True):
    """主管部门, e.g. 216-山西省商务厅."""
    __tablename__ = "department"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True, index=True)
    code: str | None = Field(default=None, max_length=40)


class Unit(SQLModel, table=True):
    """实施单位. Its name is unique within a province, so it identifies the unit."""
    __tablename__ = "unit"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True, index=True)
    department_id: int = Field(foreign_key="department.id", index=True)


def department_label(code: str | None, name: str) -> str:
    """主管部门及代码 the way the form writes it: 216-山西省商务厅."""
    return f"{code}-{name}" if code else name
