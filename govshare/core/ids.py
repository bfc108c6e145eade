"""Validation of the national identifiers the platform stores and exchanges.

* Resident ID numbers (公民身份号码, GB 11643-1999),
* unified social credit codes (统一社会信用代码, GB 32100-2015) with the organisation code
  (组织机构代码, GB 11714) embedded in them,
* administrative division codes (行政区划代码, GB/T 2260).

python-stdnum supplies the check-character arithmetic and the GB/T 2260 database; this module adds what
it lacks: the embedded GB 11714 check, precise per-rule reasons, normalisation of what people paste
(full-width characters, spaces, lower-case x) and builders for test and demo data.

Every failure raises :class:`IdCheckError`, whose ``code`` is a stable machine code and whose
``message`` is a Chinese sentence saying what was expected.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata

from stdnum import numdb
from stdnum.cn import ric, uscc

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""GB 32100 characters: digits and upper-case letters without I, O, S, V, Z."""

ORGANISATION_CODE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""GB 11714 body characters; a character's value is its index (0-9 → 0-9, A-Z → 10-35)."""

_ORGANISATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Central state organs register under 100000 (e.g. 11100000000013127D), which the GB/T 2260 table in
# stdnum does not list; without this every ministry's credit code would be rejected.
CENTRAL_DIVISION_CODE = "100000"

# Residence permits for Hong Kong, Macao and Taiwan residents (港澳台居民居住证) follow GB 11643 with these
# address codes; 830000 is not a GB/T 2260 code, so stdnum does not know it.
_RESIDENCE_PERMIT_DIVISIONS = {"830000": "台湾地区"}

_HISTORY_ENTRY = re.compile(r"^\[(\d*)-(\d*)\](.+)$")


class IdCheckError(ValueError):
    """An identifier broke a rule.

    ``code`` is a stable machine code (``invalid_length``, ``invalid_character``, ``invalid_format``,
    ``invalid_check_character``, ``invalid_birth_date``, ``birth_date_in_future``,
    ``unknown_division_code``, ``invalid_organisation_code``); ``message`` is the Chinese explanation;
    ``expected`` holds the expected character when a check character was wrong.
    """

    def __init__(self, code: str, message: str, expected: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.expected = expected

    def __str__(self) -> str:
        return self.message


def _normalize(value: str) -> str:
    if not isinstance(value, str):
        raise IdCheckError("invalid_format", f"号码应为字符串，实际为 {type(value).__name__}")
    # NFKC folds full-width digits and letters (０-９, Ａ-Ｚ) and the ideographic space to ASCII.
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def normalize_resident_id(value: str) -> str:
    """Return ``value`` with spaces removed, full-width characters folded and a lower-case x upper-cased."""
    return _normalize(value)


def normalize_credit_code(value: str) -> str:
    """Return ``value`` with spaces removed, full-width characters folded and letters upper-cased."""
    return _normalize(value)


def _check_length(value: str, length: int) -> None:
    if len(value) != length:
        raise IdCheckError("invalid_length", f"长度应为 {length} 位，实际为 {len(value)} 位")


def _check_characters(value: str, alphabet: str, what: str) -> None:
    for position, char in enumerate(value, start=1):
        if char not in alphabet:
            raise IdCheckError("invalid_character", f"第 {position} 位“{char}”不是{what}允许的字符")


def _check_digits(value: str, start: int, end: int, part: str) -> None:
    """Positions ``start``..``end`` (1-based, inclusive) must be digits."""
    for position in range(start, end + 1):
        char = value[position - 1]
        if not char.isascii() or not char.isdigit():
            raise IdCheckError("invalid_format", f"第 {position} 位“{char}”应为数字（{part}）")


@functools.cache
def _division_history(code: str) -> str | None:
    """The raw county entry stdnum stores for ``code``, e.g. ``[1983-1989]南头区办事处,[1990-]南山区``."""
    # numdb matches prefixes: "449900" still yields the province, so only a county entry means "known".
    # Province (440000) and prefecture (440300) codes are stored as county entries too.
    if len(code) != 6 or not code.isdigit():
        return None
    for _prefix, properties in numdb.get("cn/loc").info(code):
        if "county" in properties:
            return properties["county"]
    return None


def _is_known_division(code: str) -> bool:
    return _division_history(code) is not None


def division_name(code: str) -> str | None:
    """Current (or last) name of GB/T 2260 division ``code``; ``None`` when the code is unknown.

    Codes that were renamed or abolished keep their history in the database; the latest name wins,
    so 440305 gives 南山区 (南头区办事处 until 1989) and 110103 gives 崇文区 (abolished 2010).
    """
    history = _division_history(code)
    if history is None:
        return None
    latest: tuple[int, str] | None = None
    for entry in history.split(","):
        match = _HISTORY_ENTRY.match(entry)
        if match is None:
            return entry
        # An open end ("[1990-]") means still in use, which outranks any closed period.
        end = int(match.group(2)) if match.group(2) else 10_000
        if latest is None or end >= latest[0]:
            latest = (end, match.group(3))
    return latest[1] if latest else None


def validate_division_code(value: str) -> str:
    """Return the six-digit GB/T 2260 code ``value`` or raise :class:`IdCheckError`.

    County, prefecture (440300) and province (440000) codes are accepted, as are codes since
    abolished, because identifiers issued under them stay valid for life.
    """
    code = _normalize(value)
    _check_length(code, 6)
    _check_digits(code, 1, 6, "行政区划代码")
    if not _is_known_division(code):
        raise IdCheckError("unknown_division_code", f"{code} 不是已知的行政区划代码（GB/T 2260）")
    return code


def resident_id_check_character(seventeen_digits: str) -> str:
    """GB 11643 check character (0-9 or X) for the first 17 digits of a resident ID number."""
    _check_length(seventeen_digits, 17)
    _check_digits(seventeen_digits, 1, 17, "本体码")
    # stdnum expects the full number and ignores its last character, so a placeholder is appended.
    return ric.calc_check_digit(seventeen_digits + "0")


def validate_resident_id(value: str, *, today: datetime.date | None = None) -> str:
    """Return the normalised resident ID number or raise :class:`IdCheckError` naming the broken rule.

    The parts are checked before the check character so that a typo in the birth date or address code
    is reported where it is, not as a wrong check character. ``today`` (default: the current date)
    bounds the birth date.
    """
    number = normalize_resident_id(value)
    _check_length(number, 18)
    _check_characters(number, "0123456789X", "公民身份号码")
    _check_digits(number, 1, 17, "前 17 位为数字，只有第 18 位可以是 X")
    birth = number[6:14]
    try:
        birth_date = datetime.date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    except ValueError:
        raise IdCheckError("invalid_birth_date", f"出生日期 {birth} 不是有效日期") from None
    today = today or datetime.date.today()
    if birth_date > today:
        raise IdCheckError("birth_date_in_future", f"出生日期 {birth} 晚于今天（{today.isoformat()}）")
    division = number[:6]
    if not _is_known_division(division) and division not in _RESIDENCE_PERMIT_DIVISIONS:
        raise IdCheckError("unknown_division_code", f"地址码 {division} 不是已知的行政区划代码（GB/T 2260）")
    expected = resident_id_check_character(number[:17])
    if number[17] != expected:
        raise IdCheckError(
            "invalid_check_character", f"校验码错误：应为 {expected}，实际为 {number[17]}", expected
        )
    return number


def organisation_code_check_digit(eight_chars: str) -> str:
    """GB 11714 check digit (0-9 or X) for an organisation code body of 8 digits or upper-case letters."""
    body = eight_chars.upper()
    _check_length(body, 8)
    _check_characters(body, ORGANISATION_CODE_ALPHABET, "组织机构代码")
    values = (ORGANISATION_CODE_ALPHABET.index(c) for c in body)
    total = sum(v * w for v, w in zip(values, _ORGANISATION_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def credit_code_check_character(seventeen_chars: str) -> str:
    """GB 32100 check character for the first 17 characters of a unified social credit code."""
    _check_length(seventeen_chars, 17)
    _check_characters(seventeen_chars, CREDIT_CODE_ALPHABET, "统一社会信用代码")
    return uscc.calc_check_digit(seventeen_chars)


def validate_credit_code(value: str) -> str:
    """Return the normalised unified social credit code or raise :class:`IdCheckError`.

    Checks, in order: length 18; every character in the GB 32100 alphabet (no I, O, S, V, Z); the
    division part (positions 3-8) is digits and a known GB/T 2260 code (or 100000 for central organs);
    position 17 is the GB 11714 check digit of positions 9-16; position 18 is the final check character.
    Positions 1-2 may be letters because the registration authority codes include A, N and Y.
    """
    code = normalize_credit_code(value)
    _check_length(code, 18)
    _check_characters(code, CREDIT_CODE_ALPHABET, "统一社会信用代码")
    _check_digits(code, 3, 8, "登记管理机关行政区划码")
    division = code[2:8]
    if division != CENTRAL_DIVISION_CODE and not _is_known_division(division):
        raise IdCheckError(
            "unknown_division_code", f"行政区划码 {division} 不是已知的行政区划代码（GB/T 2260）"
        )
    expected_org = organisation_code_check_digit(code[8:16])
    if code[16] != expected_org:
        raise IdCheckError(
            "invalid_organisation_code",
            f"组织机构代码 {code[8:16]}-{code[16]} 校验位错误：应为 {expected_org}",
            expected_org,
        )
    expected = credit_code_check_character(code[:17])
    if code[17] != expected:
        raise IdCheckError(
            "invalid_check_character", f"校验码错误：应为 {expected}，实际为 {code[17]}", expected
        )
    return code


def make_resident_id(division: str, birth_date: datetime.date, sequence: int) -> str:
    """Build a valid resident ID number from its parts (sequence 0-999: odd for men, even for women)."""
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be 0-999, got {sequence}")
    body = f"{validate_division_code(division)}{birth_date:%Y%m%d}{sequence:03d}"
    return validate_resident_id(body + resident_id_check_character(body))


def make_credit_code(registration_authority: str, org_type: str, division: str, org_code8: str) -> str:
    """Build a valid unified social credit code, computing both the GB 11714 and the final check."""
    if len(registration_authority) != 1 or len(org_type) != 1:
        raise ValueError("registration_authority and org_type must be one character each")
    if division != CENTRAL_DIVISION_CODE:
        division = validate_division_code(division)
    body = f"{registration_authority}{org_type}{division}{org_code8}".upper()
    body += organisation_code_check_digit(org_code8)
    return validate_credit_code(body + credit_code_check_character(body))


_VALIDATORS = {
    "id": validate_resident_id,
    "resident_id": validate_resident_id,
    "credit_code": validate_credit_code,
    "credit-code": validate_credit_code,
    "division": validate_division_code,
}


def check(kind: str, value: str) -> tuple[bool, str]:
    """``(True, "valid")`` or ``(False, "invalid: <reason>")``; kind is id, credit_code or division."""
    try:
        validator = _VALIDATORS[kind]
    except KeyError:
        raise ValueError(f"unknown identifier kind {kind!r}; expected one of {sorted(_VALIDATORS)}") from None
    try:
        validator(value)
    except IdCheckError as err:
        return False, f"invalid: {err.message}"
    return True, "valid"
