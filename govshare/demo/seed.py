"""The embedded demo: departments of a Shenzhen-like city, users for every role, catalog entries, and a
living exchange on top — synthetic records in the base libraries (`records`), applications, requests,
grants and demands (`exchange`), and audited data calls (`calls`).

Deterministic and idempotent: running it again adds nothing that is already there.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.auth import service as auth
from govshare.auth.models import Department, User
from govshare.catalog import negative, service
from govshare.catalog.models import Resource, ReviewStatus
from govshare.catalog.schemas import ResourceIn
from govshare.core.ids import make_credit_code
from govshare.core.settings import Settings, get_settings
from govshare.demo import calls, exchange, records, synthetic
from govshare.demo.catalog_entries import ENTRIES

DEMO_PASSWORD = "govshare-demo"
DEMO_PEOPLE = 3000  # people in the population library; a quarter as many companies, half as many houses

# key → (name, level, division); codes are valid 统一社会信用代码 built from the key's position.
DEPARTMENTS: dict[str, tuple[str, str, str]] = {
    "authority": ("深圳市政务服务数据管理局", "city", "440300"),
    "police": ("深圳市公安局", "city", "440300"),
    "market": ("深圳市市场监督管理局", "city", "440300"),
    "hrss": ("深圳市人力资源和社会保障局", "city", "440300"),
    "housing": ("深圳市住房和建设局", "city", "440300"),
    "health": ("深圳市卫生健康委员会", "city", "440300"),
    "civil": ("深圳市民政局", "city", "440300"),
    "education": ("深圳市教育局", "city", "440300"),
    "planning": ("深圳市规划和自然资源局", "city", "440300"),
    "tax": ("国家税务总局深圳市税务局", "city", "440300"),
    "nanshan": ("深圳市南山区政务服务数据管理局", "district", "440305"),
    "futian": ("深圳市福田区政务服务数据管理局", "district", "440304"),
}


def department_code(key: str) -> str:
    index = list(DEPARTMENTS).index(key)
    division = DEPARTMENTS[key][2]
    return make_credit_code("1", "1", division, f"{7655 + index:08d}")


# username → (role, department key, display name)
USERS: dict[str, tuple[str, str, str]] = {
    "admin": ("authority", "authority", "平台管理员"),
    "auditor": ("auditor", "authority", "审计员"),
    **{
        f"{key}_officer": ("data_officer", key, f"{DEPARTMENTS[key][0]}数据管理员")
        for key in DEPARTMENTS
        if key != "authority"
    },
    "hall_clerk": ("clerk", "nanshan", "南山区政务服务大厅窗口"),
    "app_operator": ("app_operator", "nanshan", "南山区应用管理员"),
}


def _ensure_departments(session: Session) -> None:
    for key, (name, level, division) in DEPARTMENTS.items():
        code = department_code(key)
        if session.scalar(select(Department).where(Department.code == code)) is None:
            parent = department_code("authority") if level == "district" else None
            auth.create_department(
                session, code=code, name=name, level=level, division_code=division, parent_code=parent
            )


def _ensure_users(session: Session) -> dict[str, User]:
    users = {}
    for username, (role, dept, display) in USERS.items():
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = auth.create_user(
                session,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                department_code=department_code(dept),
                display_name=display,
            )
        users[username] = user
    return users


def _ensure_catalog(session: Session, users: dict[str, User]) -> int:
    admin = users["admin"]
    created = 0
    for dept, declaration, status in ENTRIES:
        if session.scalar(select(Resource).where(Resource.name == declaration["name"])):
            continue
        officer = users[f"{dept}_officer"]
        resource = service.create_resource(session, officer, ResourceIn(**declaration))
        created += 1
        if status == "draft":
            continue
        service.submit(session, officer, resource.code)
        if status == "submitted":
            continue
        # The demo authority has already reviewed the published entries' negative-list declarations.
        for entry in negative.live_entries(session, resource):
            if entry.status == ReviewStatus.PENDING:
                negative.decide(session, admin, entry.id, True, "依据充分，同意列入负面清单")
        service.publish(session, admin, resource.code)
    return created


def load_demo(
    session: Session,
    settings: Settings | None = None,
    *,
    people: int = DEMO_PEOPLE,
    catalog_only: bool = False,
) -> str:
    """Create what is missing of the demo city; returns a summary for the terminal.

    ``people`` sizes the synthetic city (the same count gives the same city, and its first people are
    the same whatever the count); ``catalog_only`` stops after the catalog, as the demo did before it
    had records and an exchange. ``settings`` (default: the process's) key the audit log's subject
    hashes, so the server that shows the demo must use the same secret key.
    """
    settings = settings or get_settings()
    _ensure_departments(session)
    users = _ensure_users(session)
    created = _ensure_catalog(session, users)
    lines = [
        f"demo ready: {len(DEPARTMENTS)} departments, {len(USERS)} users, {created} new catalog entries.",
        f"sign in as admin / {DEMO_PASSWORD} (platform authority) or police_officer / {DEMO_PASSWORD} "
        "(data officer of 深圳市公安局).",
    ]
    if catalog_only:
        return "\n".join(lines)
    city = synthetic.generate(people)
    lines += ["records (synthetic):", records.summary(records.load_records(session, users, city))]
    if exchange.already_seeded(session):
        lines.append("exchange: applications, requests, grants, demands and calls already there.")
    else:
        made = exchange.seed_exchange(session, settings, users)
        done = calls.make_calls(session, settings, made, city)
        refused = ", ".join(f"{code} {n}" for code, n in sorted(done.refused.items()))
        lines.append(
            f"exchange: {len(made.apps)} applications, {len(made.requests)} access requests, "
            f"{done.allowed} data calls answered and {sum(done.refused.values())} refused ({refused})."
        )
    person = city.featured
    lines.append(
        f"citizen access log: sign in as hall_clerk, open /audit/my-data and enter {person.id_number} "
        f"({person.name}) to see who read this person's data."
    )
    return "\n".join(lines)
