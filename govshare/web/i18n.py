"""UI languages (界面语言): Chinese first, English on request.

Templates and page modules write English msgids (``_("Search")``); the Chinese lives in
``locale/zh_CN/LC_MESSAGES/messages.po``. English is the identity. We compile the ``.po`` in memory
at first use rather than committing ``.mo`` binaries, so a reviewer sees every translation in the
diff and a stale binary can never ship.

The current locale is a context variable set once per request (``activate``), so ``_`` works the
same in templates, page modules and error pages without threading a locale argument through.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Mapping
from contextvars import ContextVar
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import Request

from govshare.catalog import classification, vocab

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LOCALES: dict[str, str] = {"zh_CN": "中文", "en": "English"}
DEFAULT_LOCALE = "zh_CN"
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}

_current: ContextVar[str] = ContextVar("govshare_locale", default=DEFAULT_LOCALE)


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


@lru_cache
def translations(locale: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``locale`` (built once per process); identity for English."""
    path = po_path(locale)
    if locale == "en" or not path.exists():
        return _gettext.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def current_locale() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark now, translate later"
    """Mark a msgid for extraction without translating it (module-level label tables)."""
    return message


def locale_for(request: Request) -> str:
    """``?lang=`` (remembered in the session), else the session's choice, else the configured default."""
    has_session = "session" in request.scope
    chosen = request.query_params.get("lang")
    if chosen in LOCALES:
        if has_session:
            request.session["lang"] = chosen
        return chosen
    if has_session and request.session.get("lang") in LOCALES:
        return request.session["lang"]
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "default_locale", DEFAULT_LOCALE)


def activate(request: Request) -> str:
    """Make the request's locale current for this context and return it."""
    locale = locale_for(request)
    _current.set(locale)
    return locale


# English names of the national catalog vocabularies; vocab.py and classification.py hold the Chinese.
VOCAB_EN: dict[str, dict[object, str]] = {
    "data_type": {
        "C": "Character", "N": "Numeric", "Y": "Currency", "D": "Date", "T": "Date-time", "L": "Logical",
        "M": "Memo", "G": "General (binary)", "B": "Double", "I": "Integer", "F": "Float",
    },
    "format": {
        "database": "Database", "spreadsheet": "Spreadsheet", "electronic_file": "Electronic file",
        "image": "Image", "streaming": "Streaming media", "self_describing": "Self-describing format",
    },
    "update_cycle": {
        "realtime": "Real time", "daily": "Daily", "weekly": "Weekly", "monthly": "Monthly",
        "quarterly": "Quarterly", "semiannual": "Semi-annually", "yearly": "Yearly", "irregular": "Irregular",
    },
    "sharing_method": {
        "system_integration": "System integration", "online_query": "Online query",
        "online_browse": "Online browsing", "online_service": "Online service call", "download": "Download",
        "copy": "Copy", "other": "Other",
    },
    "sharing_type": {"unconditional": "Unconditional", "conditional": "Conditional", "none": "Not shared"},
    "status": {"draft": "Draft", "submitted": "Submitted", "published": "Published", "retired": "Retired"},
    "subject_key_type": {
        "person_id": "Citizen ID number", "credit_code": "Unified social credit code",
        "house_code": "House code", "certificate_id": "E-certificate ID", "none": "None",
    },
    "masking_rule": {
        "none": "No masking", "id_number": "ID number (keep first 4 and last 4)",
        "mobile": "Mobile number (keep first 3 and last 4)", "name": "Name (keep surname)",
        "address": "Address (down to district)", "full": "Fully masked",
    },
    "sensitivity": {1: "Public", 2: "Internal", 3: "Sensitive", 4: "Highly sensitive"},
    "class": {"1": "Base information resources", "2": "Theme information resources",
              "3": "Department information resources"},
    "base_subclass": {
        "01": "Population", "02": "Legal entities", "03": "Natural resources and geospatial",
        "04": "Social credit", "05": "Electronic certificates", "06": "Housing", "07": "Macro-economy",
    },
    "theme_subclass": {
        "01": "Public services", "02": "Health", "03": "Social security", "04": "Food and drug safety",
        "05": "Work safety", "06": "Price supervision", "07": "Energy security", "08": "Credit system",
        "09": "Urban and rural construction", "10": "Community governance", "11": "Ecology and environment",
        "12": "Emergency response and stability", "13": "Market supervision",
    },
}  # fmt: skip


def _labels(table: Mapping[str, str] | Mapping[int, str]) -> dict[object, str]:
    """A copy of a vocabulary's labels, typed like VOCAB_EN's tables (codes are str, or int for sensitivity)."""
    return {code: label for code, label in table.items()}


VOCAB_ZH: dict[str, dict[object, str]] = {
    "data_type": _labels(vocab.DATA_TYPES),
    "format": _labels(vocab.FORMATS),
    "update_cycle": _labels(vocab.UPDATE_CYCLES),
    "sharing_method": _labels(vocab.SHARING_METHODS),
    "sharing_type": _labels(vocab.SHARING_TYPE_LABELS),
    "status": _labels(vocab.STATUS_LABELS),
    "subject_key_type": _labels(vocab.SUBJECT_KEY_TYPES),
    "masking_rule": _labels(vocab.MASKING_RULES),
    "sensitivity": _labels(vocab.SENSITIVITY_LEVELS),
    "class": _labels(classification.CLASSES),
    "base_subclass": _labels(classification.BASE_SUBCLASSES),
    "theme_subclass": _labels(classification.THEME_SUBCLASSES),
}


def vocab_label(code: object, vocabulary: str) -> str:
    """The label of a vocabulary code in the current language; the code itself when unknown."""
    if hasattr(code, "value"):
        code = code.value
    table = VOCAB_EN if _current.get() == "en" else VOCAB_ZH
    return table.get(vocabulary, {}).get(code, "" if code is None else str(code))


def vocab_choices(vocabulary: str) -> list[tuple[object, str]]:
    """(code, label) pairs in the national order, for selects and checkboxes."""
    return [(code, vocab_label(code, vocabulary)) for code in VOCAB_ZH[vocabulary]]


def classification_label(code: str, short: bool = False) -> str:
    """``101`` → 基础信息资源 / 人口 (or its English); ``short``: only the 项 (人口)."""
    parsed = classification.parse(code or "")
    if parsed is None:
        return code
    klass, sub = code[0], code[1:3]
    if _current.get() != "en":
        class_name, sub_name = parsed.class_name, parsed.subclass_name or ""
    else:
        table = {"1": "base_subclass", "2": "theme_subclass"}.get(klass)
        class_name, sub_name = (
            VOCAB_EN["class"][klass],
            VOCAB_EN[table][sub] if table else f"Department {sub}",
        )
    return sub_name if short else f"{class_name} / {sub_name}"
