"""The `govshare` command line (命令行). Every command honours GOVSHARE_DATABASE_URL."""

from __future__ import annotations

import typer

from govshare.audit.cli import app as audit_app
from govshare.catalog.cli import app as catalog_app
from govshare.core.ids_cli import app as check_app
from govshare.data.cli import app as data_app
from govshare.exchange.cli import app as exchange_app

app = typer.Typer(
    help="govshare 政务信息资源共享平台 — catalog, exchange and oversight of a city's government data.\n\n"
    "Database: GOVSHARE_DATABASE_URL (default: sqlite file govshare.db in the working directory).",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(
    check_app, name="check", help="核验身份证号码、统一社会信用代码、行政区划代码 / Check identifiers."
)

app.add_typer(catalog_app, name="catalog")
app.add_typer(data_app, name="data")
app.add_typer(exchange_app, name="exchange")
app.add_typer(audit_app, name="audit")

db_app = typer.Typer(help="数据库迁移 / Database schema migrations.", no_args_is_help=True)
admin_app = typer.Typer(help="平台管理 / Bootstrap departments and users.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")


def _engine():  # type: ignore[no-untyped-def]
    from govshare.core.db import make_engine
    from govshare.core.settings import get_settings

    return make_engine(get_settings().database_url)


def _session():  # type: ignore[no-untyped-def]
    from govshare.core.db import make_session_factory

    return make_session_factory(_engine())()


def fail(message: str, code: int = 1) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (创建/升级数据库结构)."""
    from govshare.core.migrate import current, upgrade

    engine = _engine()
    upgrade(engine)
    typer.echo(f"database at revision {current(engine)}")


@admin_app.command("create")
def admin_create(
    username: str = typer.Option(..., help="登录名 / login name"),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="≥ 8 characters"
    ),
    department_code: str = typer.Option(..., "--department", help="所属部门代码（统一社会信用代码）"),
    department_name: str = typer.Option(
        "", help="部门名称: if the department is not registered yet, it is created with this name"
    ),
    division_code: str = typer.Option("440300", help="行政区划代码 of a new department"),
    role: str = typer.Option("authority", help="authority, data_officer, app_operator, clerk, auditor"),
    display_name: str = typer.Option("", help="显示名称"),
) -> None:
    """Create a user — by default the first platform authority (平台管理员) — and its department."""
    from govshare.auth import service
    from govshare.core.errors import DomainError, NotFound
    from govshare.core.migrate import upgrade

    upgrade(_engine())
    session = _session()
    try:
        try:
            service.get_department(session, department_code)
        except NotFound:
            if not department_name:
                fail(f"部门 {department_code} 未登记；请同时给出 --department-name 以创建它")
            service.create_department(
                session, code=department_code, name=department_name, level="city", division_code=division_code
            )
        user = service.create_user(
            session,
            username=username,
            password=password,
            role=role,
            department_code=department_code,
            display_name=display_name,
        )
    except DomainError as err:
        fail(f"{err.code}: {err.message}")
    typer.echo(f"created {user.role.value} user {user.username} in {user.department.name}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="监听地址 / bind address"),
    port: int = typer.Option(8000, help="端口 / port"),
    migrate: bool = typer.Option(True, help="先升级数据库结构 / apply migrations first"),
    workers: int = typer.Option(1, help="worker processes"),
) -> None:
    """Run the web server (API at /api/v1, pages at /, OpenAPI docs at /docs)."""
    import uvicorn

    if migrate:
        from govshare.core.migrate import upgrade

        upgrade(_engine())
    typer.echo(f"govshare serving on http://{host}:{port}/")
    uvicorn.run("govshare.web.app:serving_app", factory=True, host=host, port=port, workers=workers)


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="监听地址 / bind address"),
    port: int = typer.Option(8000, help="端口 / port"),
    serve_after: bool = typer.Option(True, "--serve/--no-serve", help="load the demo, then serve it"),
) -> None:
    """Load the embedded demo city (departments, users, catalog entries) and serve it.

    Safe to run again: what already exists is kept. Demo users all have password `govshare-demo`.
    """
    from govshare.core.migrate import upgrade
    from govshare.demo.seed import load_demo

    upgrade(_engine())
    session = _session()
    summary = load_demo(session)
    typer.echo(summary)
    if serve_after:
        serve(host=host, port=port, migrate=False, workers=1)


@app.command("settings")
def show_settings() -> None:
    """Print every setting, its current value and what it does (secrets hidden)."""
    from govshare.core.settings import Settings, get_settings

    current = get_settings()
    for name, field in Settings.model_fields.items():
        value = getattr(current, name)
        typer.echo(f"GOVSHARE_{name.upper()}={value}\n    {field.description}")


if __name__ == "__main__":
    app()
