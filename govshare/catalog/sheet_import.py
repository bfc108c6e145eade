"""Bulk registration from a catalog sheet (批量登记): all or nothing, with a row-level report.

Every problem — in a cell, against the catalog rules, or known only to the database (duplicates,
permissions, unknown providers) — is reported against its sheet row and column, and a sheet with
any problem stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.auth.models import Department, User
from govshare.catalog import rules, service
from govshare.catalog.models import Resource, ResourceStatus
from govshare.catalog.sheet import MAX_ROWS, SheetResource, check_size, file_error, parse, problems_error
from govshare.core import ids
from govshare.core.errors import DomainError


@dataclass
class ImportResult:
    codes: list[str]  # created resource codes (dry run: the codes they would get)
    resources: int
    items: int
    dry_run: bool


def import_sheet(
    session: Session,
    actor: User,
    content: bytes,
    filename: str = "",
    *,
    max_bytes: int,
    dry_run: bool = False,
    max_rows: int = MAX_ROWS,
) -> ImportResult:
    """Register every resource of a catalog sheet as a draft, all or nothing (批量登记).

    Raises ValidationFailed ``sheet_invalid`` whose details list every problem as
    ``{row, column, code, message}``; nothing is stored then. ``dry_run`` checks everything,
    including what only the database knows, and stores nothing.
    """
    check_size(len(content), max_bytes)
    sheet = parse(content, filename, max_rows)
    if not sheet.resources and not sheet.problems:
        raise file_error("empty_sheet", "目录表中没有任何信息资源", 1)
    for res in sheet.resources:
        for problem in rules.check_resource(res.data).problems:
            res.add(problem.field, problem.code, problem.message)
        _check_provider_code(res)
    _check_duplicates(session, actor, sheet.resources)
    try:
        codes = _register(session, actor, sheet.resources)
        problems = sheet.all_problems()
        if problems or dry_run:
            session.rollback()
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    if problems:
        first = problems[0]
        raise problems_error(
            "sheet_invalid",
            f"目录表有 {len(problems)} 处问题，未登记任何资源（第 {first.row} 行“{first.column}”：{first.message}）",
            problems,
        )
    items = sum(len(r.data.items) for r in sheet.resources)
    return ImportResult(codes=codes, resources=len(codes), items=items, dry_run=dry_run)


def _check_provider_code(res: SheetResource) -> None:
    if res.data.provider_code:
        try:
            ids.validate_credit_code(res.data.provider_code)
        except ids.IdCheckError as err:
            res.add(
                "provider_code",
                "invalid_credit_code",
                f"提供方代码“{res.data.provider_code}”无效：{err.message}",
            )


def _check_duplicates(session: Session, actor: User, resources: list[SheetResource]) -> None:
    """Same provider, same name: twice in the file, or already registered (retired entries aside)."""
    first_row: dict[tuple[str, str], int] = {}
    for res in resources:
        key = ((res.data.provider_code or actor.department.code), res.data.name.strip())
        if key in first_row:
            res.add("name", "duplicate_resource", f"与第 {first_row[key]} 行的资源同名（同一提供方）")
        else:
            first_row[key] = res.row
    names = sorted({name for _, name in first_row})
    registered: dict[tuple[str, str], str] = {}
    for start in range(0, len(names), 500):
        rows = session.execute(
            select(Department.code, Resource.name, Resource.code)
            .join(Department, Department.id == Resource.provider_id)
            .where(Resource.name.in_(names[start : start + 500]), Resource.status != ResourceStatus.RETIRED)
        )
        registered.update({(provider, name): code for provider, name, code in rows})
    for key, row in first_row.items():
        if key in registered:
            res = next(r for r in resources if r.row == row)
            res.add("name", "duplicate_resource", f"提供方已登记同名资源 {registered[key]}")


def _register(session: Session, actor: User, resources: list[SheetResource]) -> list[str]:
    """Create the clean resources through the catalog service inside the caller's transaction.

    The service commits each resource; a session joined to our connection with
    ``create_savepoint`` turns those commits into savepoint releases, so the whole sheet stays in
    one transaction that the caller commits or rolls back. Resources with problems are skipped, the
    others are still created so the report also lists what only the database knows (permissions,
    unknown providers and related resources).
    """
    nested = Session(
        bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    codes: list[str] = []
    try:
        me = nested.get(User, actor.id)
        assert me is not None, "the actor is a stored user"
        for res in resources:
            if res.problems:
                continue
            try:
                codes.append(service.create_resource(nested, me, res.data).code)
            except DomainError as err:
                nested.rollback()
                if err.code == "role_not_allowed":
                    raise  # about the user, not the sheet
                _add_service_error(res, err)
    finally:
        nested.close()
    return codes


def _add_service_error(res: SheetResource, err: DomainError) -> None:
    listed = err.details.get("errors") if isinstance(err.details, dict) else None
    if listed:
        for problem in listed:
            res.add(problem["field"], problem["code"], problem["message"])
    else:  # department_not_found, other_department: the provider is the problem
        res.add("provider_code", err.code, err.message)
