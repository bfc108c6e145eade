"""Auth input/output schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class TokenRequest(BaseModel):
    username: str
    password: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class DepartmentIn(BaseModel):
    code: str = Field(description="统一社会信用代码 (GB 32100, 18 characters)")
    name: str = Field(description="部门名称")
    level: str = Field(description="city (市级) or district (区级)")
    division_code: str = Field(description="行政区划代码 (GB/T 2260), e.g. 440300")
    parent_code: str | None = Field(None, description="上级部门代码")


class DepartmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str
    level: str
    division_code: str


class UserIn(BaseModel):
    username: str
    password: str
    role: str = Field(description="authority, data_officer, app_operator, clerk, auditor")
    department_code: str
    display_name: str = ""


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    username: str
    display_name: str
    role: str
    department: DepartmentPublic
