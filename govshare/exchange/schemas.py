"""Exchange input/output schemas: applications, credentials (shown once), tokens and keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from govshare.auth.schemas import DepartmentPublic


class ApplicationIn(BaseModel):
    name: str = Field(description="应用名称，如 市民中心综合受理系统")
    channel: str = Field(
        description="应用渠道: hall 窗口大厅, web 网上办事大厅, app 移动App, wechat 微信小程序, internal 内部业务系统"
    )
    contact_name: str = Field(description="联系人")
    contact_phone: str = Field(description="联系电话：手机号码或带区号的固定电话")
    description: str = Field("", description="应用说明：服务对象、用途")
    department_code: str | None = Field(
        None, description="所属部门代码；默认为本人所在部门，仅数据管理部门可为其他部门登记"
    )


class ApplicationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    channel: str
    contact_name: str
    contact_phone: str
    description: str
    client_id: str
    status: str
    department: DepartmentPublic
    created_at: datetime
    disabled_at: datetime | None


class Credentials(BaseModel):
    client_id: str
    client_secret: str = Field(description="客户端密钥：仅此一次显示，平台只保存其摘要，请立即妥善保存")
    previous_secret_expires_at: datetime | None = Field(
        None, description="更换密钥时：旧密钥在此时间之前仍然有效"
    )


class ApplicationCreated(BaseModel):
    application: ApplicationPublic
    credentials: Credentials


class RotateSecretIn(BaseModel):
    grace_minutes: int | None = Field(
        None,
        ge=0,
        le=7 * 24 * 60,
        description="旧密钥继续有效的分钟数（默认 GOVSHARE_EXCHANGE_SECRET_GRACE_MINUTES，0 为立即失效）",
    )


class ReasonIn(BaseModel):
    reason: str = Field("", description="原因")


class CredentialEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kind: str
    at: datetime
    actor: str = Field(description="操作人登录名")
    details: dict[str, Any]


class SigningKeyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kid: str
    created_at: datetime
    retired_at: datetime | None


class TokenOut(BaseModel):
    """RFC 6749 §5.1 access token response."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="有效秒数")


class WhoAmI(BaseModel):
    client_id: str
    application_id: int
    name: str
    channel: str
    department: DepartmentPublic
    token_id: str = Field(description="令牌编号 (jti)")
    expires_at: datetime
