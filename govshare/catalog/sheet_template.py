"""Writing the catalog sheet layout: the blank templates (模板) and the CSV export of resources."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from govshare.catalog import vocab
from govshare.catalog.models import Item, Resource
from govshare.catalog.sheet_columns import COLUMNS


def template_rows() -> list[list[str]]:
    """Header and one example row: a resource with one item (more items: rows with an empty name)."""
    return [[c.title for c in COLUMNS], [c.example for c in COLUMNS]]


def template_csv() -> bytes:
    """The blank template as CSV in UTF-8 with a BOM, which Excel opens with the right encoding."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(template_rows())
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    """The blank template as .xlsx: the sheet to fill, and a 填写说明 sheet explaining every column."""
    import openpyxl
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "信息资源目录"
    for row in template_rows():
        sheet.append(row)
    required = PatternFill("solid", fgColor="FDE9D9")
    for n, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=n)
        cell.font = Font(bold=True)
        if column.required:
            cell.fill = required
        sheet.column_dimensions[get_column_letter(n)].width = max(12, len(column.title) * 2 + 2)
    sheet.freeze_panes = "A2"
    guide = book.create_sheet("填写说明")
    guide.append(["列名", "必填", "层级", "英文列名", "说明"])
    for column in COLUMNS:
        level = "信息项" if column.item else "信息资源"
        guide.append([column.title, "是" if column.required else "", level, column.key, column.help])
    guide.append([])
    guide.append(["一行一个信息项；信息资源名称为空的行续接上一资源（资源级各列只填首行即可）。"])
    for letter, width in zip("ABCDE", (20, 6, 10, 22, 80), strict=True):
        guide.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_SHARING_TYPE_NUMBERS = {name: number for number, name in vocab.SHARING_TYPE_CODES.items()}
EXPORT_PREFIX = ("信息资源代码", "状态")  # import ignores these: it registers new drafts


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _resource_cells(r: Resource) -> dict[str, str]:
    return {
        "classification_code": r.classification_code,
        "name": r.name,
        "summary": r.summary,
        "provider_code": r.provider.code,
        "format": vocab.FORMATS.get(r.format, r.format),
        "sharing_type": _SHARING_TYPE_NUMBERS[r.sharing_type.value],
        "sharing_condition": r.sharing_condition,
        "sharing_methods": "；".join(vocab.SHARING_METHODS.get(m, m) for m in r.sharing_methods),
        "legal_basis": r.legal_basis,
        "open_to_public": _yes(r.open_to_public),
        "open_condition": r.open_condition,
        "update_cycle": vocab.UPDATE_CYCLES.get(r.update_cycle, r.update_cycle),
        "publish_date": r.publish_date.isoformat() if r.publish_date else "",
        "related_codes": "；".join(r.related_codes),
        "subject_key_type": vocab.SUBJECT_KEY_TYPES.get(r.subject_key_type.value, ""),
        "contact_name": r.contact_name,
        "contact_phone": r.contact_phone,
        "contact_email": r.contact_email,
    }


def _item_cells(i: Any) -> dict[str, str]:
    return {
        "item_name": i.name,
        "data_type": i.data_type,
        "length": "" if i.length is None else str(i.length),
        "is_key": _yes(i.is_key),
        "required": _yes(i.required),
        "sensitivity": str(i.sensitivity),
        "masking_rule": vocab.MASKING_RULES.get(i.masking_rule, i.masking_rule).split("（")[0],
        "searchable": _yes(i.searchable),
        "shareable": _yes(i.shareable),
        "item_legal_basis": i.legal_basis,
        "is_basic": _yes(i.is_basic),
        "item_description": i.description,
    }


def export_csv(resources: list[Resource]) -> bytes:
    """Resources in the sheet layout, one row per item with the resource columns repeated (UTF-8, BOM).

    信息资源代码 and 状态 lead each row; importing the file again registers new drafts, which the
    duplicate check refuses while the originals exist.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*EXPORT_PREFIX, *(c.title for c in COLUMNS)])
    for r in resources:
        cells = _resource_cells(r)
        status = vocab.STATUS_LABELS.get(r.status.value, r.status.value)
        items: Sequence[Item | None] = r.items or [None]  # a resource without items still gets a row
        for item in items:
            row = cells | (_item_cells(item) if item is not None else {})
            writer.writerow([r.code, status, *(row.get(c.key, "") for c in COLUMNS)])
    return out.getvalue().encode("utf-8-sig")
