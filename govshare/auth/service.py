"""Departments, users, passwords and API tokens: rules with no HTTP in them."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.auth.models import ApiToken, Department, DepartmentLevel, Role, User
from govshare.core import ids
from govshare.core.errors import Conflict, NotFound, PermissionDenied, Unauthenticated, ValidationFailed
from govshare.core.types import utcnow

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def require_role(actor: User, *roles: Role) -> None:
    """Raise unless ``actor`` has one of ``roles``."""
    if actor.role not in roles:
        raise PermissionDenied(
            "role_not_allowed",
            f"此操作需要以下角色之一：{', '.join(r.value for r in roles)}",
            {"role": actor.role.value, "allowed": [r.value for r in roles]},
        )


def create_department(
    session: Session,
    *,
    code: str,
    name: str,
    level: DepartmentLevel | str,
    division_code: str,
    parent_code: str | None = None,
    actor: User | None = None,
) -> Department:
    """Register a department (部门). ``actor`` None means a bootstrap/CLI call by an operator."""
    if actor is not None:
        require_role(actor, Role.AUTHORITY)
    try:
        code = ids.validate_credit_code(code)
    except ids.IdCheckError as err:
        raise ValidationFailed(
            "invalid_credit_code", f"部门代码无效：{err.message}", {"field": "code"}
        ) from err
    try:
        division_code = ids.validate_division_code(division_code)
    except ids.IdCheckError as err:
        raise ValidationFailed(
            "invalid_division_code", f"行政区划代码无效：{err.message}", {"field": "division_code"}
        ) from err
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed("invalid_name", "部门名称不能为空且不超过100个字符", {"field": "name"})
    try:
        level = DepartmentLevel(level)
    except ValueError as err:
        raise ValidationFailed(
            "invalid_level", "层级须为 city（市级）或 district（区级）", {"field": "level"}
        ) from err
    if session.scalar(select(Department).where(Department.code == code)):
        raise Conflict("duplicate_department_code", f"部门代码 {code} 已登记", {"code": code})
    if session.scalar(select(Department).where(Department.name == name)):
        raise Conflict("duplicate_department_name", f"部门名称“{name}”已登记", {"name": name})
    parent = get_department(session, parent_code) if parent_code else None
    dept = Department(code=code, name=name, level=level, division_code=division_code, parent=parent)
    session.add(dept)
    session.commit()
    return dept


def get_department(session: Session, code: str) -> Department:
    dept = session.scalar(select(Department).where(Department.code == code.strip().upper()))
    if dept is None:
        raise NotFound("department_not_found", f"未找到部门 {code}", {"code": code})
    return dept


def list_departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.level, Department.code)))


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role | str,
    department_code: str,
    display_name: str = "",
    actor: User | None = None,
) -> User:
    """Create a user account. Only the authority (or a bootstrap call) may do this."""
    if actor is not None:
        require_role(actor, Role.AUTHORITY)
    username = username.strip()
    if not username or len(username) > 64:
        raise ValidationFailed("invalid_username", "用户名不能为空且不超过64个字符", {"field": "username"})
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            "weak_password", f"密码至少 {MIN_PASSWORD_LENGTH} 个字符", {"field": "password"}
        )
    try:
        role = Role(role)
    except ValueError as err:
        raise ValidationFailed(
            "invalid_role", f"未知角色 {role}", {"allowed": [r.value for r in Role]}
        ) from err
    if session.scalar(select(User).where(User.username == username)):
        raise Conflict("duplicate_username", f"用户名 {username} 已存在", {"username": username})
    dept = get_department(session, department_code)
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=hash_password(password),
        role=role,
        department=dept,
    )
    session.add(user)
    session.commit()
    return user


def get_user_by_username(session: Session, username: str) -> User:
    """The account with this login name, active or not (the caller decides what a deactivated one may do)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("user_not_found", f"未找到用户 {username}", {"username": username})
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip()))
    # Verify against a dummy hash when the user is unknown, so timing does not reveal usernames.
    if user is None:
        verify_password(_DUMMY_HASH, password)
        raise Unauthenticated("invalid_credentials", "用户名或密码错误")
    if not verify_password(user.password_hash, password) or not user.is_active:
        raise Unauthenticated("invalid_credentials", "用户名或密码错误")
    return user


_DUMMY_HASH = _hasher.hash("not-a-real-password")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, ttl_hours: int) -> tuple[str, ApiToken]:
    """Create a bearer token; the clear token is returned once and never stored."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(user=user, token_hash=_digest(token), expires_at=utcnow() + timedelta(hours=ttl_hours))
    session.add(row)
    session.commit()
    return token, row


def user_for_token(session: Session, token: str) -> User:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked or row.expires_at <= utcnow() or not row.user.is_active:
        raise Unauthenticated("invalid_token", "令牌无效或已过期，请重新登录获取")
    return row.user


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)
