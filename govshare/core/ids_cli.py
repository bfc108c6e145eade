"""``govshare check``: validate identifiers from the command line.

Each command prints one line per value (``<value>  valid`` or ``<value>  invalid: <reason>``) and exits
0 only when every value is valid, so it can gate scripts and data imports.
"""

from __future__ import annotations

from typing import Annotated

import typer

from govshare.core.ids import check

app = typer.Typer(
    help="核验身份证号码、统一社会信用代码和行政区划代码。 / "
    "Check resident ID numbers, unified social credit codes and division codes.",
    no_args_is_help=True,
)


def _report(kind: str, values: list[str]) -> None:
    all_valid = True
    for value in values:
        ok, verdict = check(kind, value)
        all_valid = all_valid and ok
        typer.echo(f"{value}  {verdict}")
    if not all_valid:
        raise typer.Exit(code=1)


@app.command("id")
def resident_id(
    values: Annotated[list[str], typer.Argument(metavar="VALUE...", help="身份证号码 / ID numbers")],
) -> None:
    """核验居民身份证号码（GB 11643）：长度、出生日期、地址码和校验码。

    Check resident ID numbers (GB 11643): length, birth date, address code and check character.

    全部有效时退出码为 0。 / Exits 0 only when every value is valid.
    """
    _report("id", values)


@app.command("credit-code")
def credit_code(
    values: Annotated[list[str], typer.Argument(metavar="VALUE...", help="统一社会信用代码 / credit codes")],
) -> None:
    """核验统一社会信用代码（GB 32100）：字符集、区划码、组织机构代码校验位和校验码。

    Check unified social credit codes (GB 32100): alphabet, division, GB 11714 and final checks.

    全部有效时退出码为 0。 / Exits 0 only when every value is valid.
    """
    _report("credit_code", values)


@app.command("division")
def division(
    values: Annotated[list[str], typer.Argument(metavar="CODE...", help="行政区划代码 / division codes")],
) -> None:
    """核验行政区划代码（GB/T 2260），省级和地级代码同样有效。

    Check administrative division codes (GB/T 2260); province and prefecture codes count.

    全部有效时退出码为 0。 / Exits 0 only when every value is valid.
    """
    _report("division", values)
