"""Every English msgid of the UI has a Chinese translation, and the vocabularies have English names.

The msgids are extracted from the templates (Jinja2's Babel extractor) and from the page modules'
``_()`` / ``N_()`` calls, the same way ``pybabel extract`` would: a string added to a page without
its translation fails here rather than showing English to a Chinese user.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from govshare.catalog import classification, vocab
from govshare.web import i18n

PACKAGE = Path(i18n.__file__).resolve().parents[1]
PAGE_MODULES = ("**/pages.py", "**/*_pages.py", "**/forms.py", "web/rendering.py", "web/i18n.py")


def extracted_msgids() -> set[str]:
    """Every msgid the UI uses; a plural message is keyed by its singular, as in a catalog."""
    method_map = [("web/templates/**.html", "jinja2.ext:babel_extract")]
    method_map += [(pattern, "python") for pattern in PAGE_MODULES]
    options = {"web/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
    ids: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map, options_map=options
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            ids.add(msgid)
    return ids


def zh_catalog():  # type: ignore[no-untyped-def]
    with i18n.po_path("zh_CN").open("rb") as fh:
        return read_po(fh, locale="zh_CN")


def test_templates_and_pages_have_msgids_to_translate():
    ids = extracted_msgids()
    assert "Search" in ids and "Resource name" in ids and "Signed in as %(name)s." in ids


def test_every_ui_msgid_has_a_chinese_translation():
    catalog = zh_catalog()
    missing = []
    for msgid in sorted(extracted_msgids()):
        message = catalog.get(msgid)
        text = message.string if message is not None else ""
        if isinstance(text, tuple | list):
            text = text[0] if all(text) else ""
        if not text or (message is not None and message.fuzzy):
            missing.append(msgid)
    assert not missing, "msgids without a zh_CN translation:\n" + "\n".join(missing)


def test_translations_keep_their_placeholders():
    for message in zh_catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for placeholder in {p for p in ids[0].split("%(")[1:]}:
            name = "%(" + placeholder.split(")")[0] + ")"
            assert all(name in s for s in strings), f"{message.id!r}: {name} missing in the translation"


def test_no_stale_translations_are_kept():
    kept = {m.id[0] if isinstance(m.id, tuple) else m.id for m in zh_catalog() if m.id}
    stale = kept - extracted_msgids()
    assert not stale, "translations no page uses any more:\n" + "\n".join(map(str, sorted(stale)))


def test_compiled_catalog_translates_and_english_is_identity():
    assert i18n.translations("zh_CN").gettext("Search") == "搜索"
    assert i18n.translations("en").gettext("Search") == "Search"


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("data_type", vocab.DATA_TYPES),
        ("format", vocab.FORMATS),
        ("update_cycle", vocab.UPDATE_CYCLES),
        ("sharing_method", vocab.SHARING_METHODS),
        ("sharing_type", vocab.SHARING_TYPE_LABELS),
        ("status", vocab.STATUS_LABELS),
        ("subject_key_type", vocab.SUBJECT_KEY_TYPES),
        ("masking_rule", vocab.MASKING_RULES),
        ("sensitivity", vocab.SENSITIVITY_LEVELS),
        ("class", classification.CLASSES),
        ("base_subclass", classification.BASE_SUBCLASSES),
        ("theme_subclass", classification.THEME_SUBCLASSES),
    ],
)
def test_every_vocabulary_code_has_an_english_label(name, table):
    assert set(i18n.VOCAB_EN[name]) == set(table)
    assert all(i18n.VOCAB_EN[name].values())
