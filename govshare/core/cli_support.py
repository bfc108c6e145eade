"""What every `govshare` sub-command shares: a session on the configured database, failing with a
clear message, plain-text tables that line up with Chinese characters, JSON output."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from sqlalchemy.orm import Session

from govshare.core.errors import DomainError


def fail(message: str) -> NoReturn:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@contextmanager
def cli_session() -> Iterator[Session]:
    """A session on GOVSHARE_DATABASE_URL; refuses a database that was never migrated."""
    from govshare.core.db import make_engine, make_session_factory, session_scope
    from govshare.core.migrate import current
    from govshare.core.settings import get_settings

    engine = make_engine(get_settings().database_url)
    try:
        if current(engine) is None:
            fail("数据库尚未初始化：请先运行 govshare db upgrade（或 govshare demo） / database not migrated")
        with session_scope(make_session_factory(engine)) as session:
            yield session
    except DomainError as err:
        fail(f"{err.code}: {err.message}")
    finally:
        engine.dispose()


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table whose columns line up with Chinese (double-width) characters."""
    cells = [[str(v) for v in row] for row in [headers, *rows]]
    widths = [max(display_width(row[n]) for row in cells) for n in range(len(headers))]
    lines = [
        "  ".join(v + " " * (w - display_width(v)) for v, w in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
