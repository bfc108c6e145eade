"""Auth API: tokens, the current user, departments and users."""

from __future__ import annotations

from fastapi import APIRouter

from govshare.auth import service
from govshare.auth.schemas import (
    DepartmentIn,
    DepartmentPublic,
    TokenRequest,
    TokenResponse,
    UserIn,
    UserPublic,
)
from govshare.web.deps import CurrentUser, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["auth 认证与部门"])


@router.post("/auth/token", response_model=TokenResponse)
def create_token(body: TokenRequest, session: SessionDep, settings: SettingsDep) -> TokenResponse:
    """Exchange a username and password for a bearer token (用户登录获取令牌)."""
    user = service.authenticate(session, body.username, body.password)
    token, row = service.issue_token(session, user, settings.api_token_ttl_hours)
    return TokenResponse(access_token=token, expires_at=row.expires_at)


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> UserPublic:
    """The signed-in user, their role and department."""
    return UserPublic.model_validate(user)


@router.get("/departments", response_model=list[DepartmentPublic])
def departments(session: SessionDep) -> list[DepartmentPublic]:
    """Every registered department (部门名录)."""
    return [DepartmentPublic.model_validate(d) for d in service.list_departments(session)]


@router.get("/departments/{code}", response_model=DepartmentPublic)
def department(code: str, session: SessionDep) -> DepartmentPublic:
    return DepartmentPublic.model_validate(service.get_department(session, code))


@router.post("/departments", response_model=DepartmentPublic, status_code=201)
def create_department(body: DepartmentIn, session: SessionDep, user: CurrentUser) -> DepartmentPublic:
    """Register a department (authority only); its code is checked as a 统一社会信用代码."""
    dept = service.create_department(session, actor=user, **body.model_dump())
    return DepartmentPublic.model_validate(dept)


@router.post("/users", response_model=UserPublic, status_code=201)
def create_user(body: UserIn, session: SessionDep, user: CurrentUser) -> UserPublic:
    """Create a user account (authority only)."""
    created = service.create_user(session, actor=user, **body.model_dump())
    return UserPublic.model_validate(created)
