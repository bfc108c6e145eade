"""The catalog sheet's columns (目录表列): the national template's layout, shared by reading and writing.

One row per 信息项. Each column fills a ResourceIn or ItemIn field; headers are the template's
Chinese titles or their English aliases, and cells take codes or Chinese labels (01 / 有条件共享,
C / 字符型, 是 / 否). The blank templates and the CSV export write the same columns in this order.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from govshare.catalog import vocab


@dataclass(frozen=True)
class Column:
    key: str  # unique key of the column
    title: str  # the template's Chinese header
    field: str  # the ResourceIn / ItemIn attribute it fills
    item: bool = False  # an 信息项 column (else resource-level)
    required: bool = False
    aliases: tuple[str, ...] = ()
    example: str = ""
    help: str = ""


def _labels(vocabulary: dict[Any, str]) -> str:
    return "、".join(label.split("（")[0] for label in vocabulary.values())


RES, ITEM = False, True  # resource-level / 信息项 column
# fmt: off
# key, Chinese header (the template's), ResourceIn/ItemIn field, level, required, more aliases, example, help
_TABLE: tuple[tuple[Any, ...], ...] = (
    ("classification_code", "信息资源分类", "classification_code", RES, True, ("classification", "分类代码"), "102",
     "类(1位)+项(2位)[+目(3位)[+细目]]，如 101 人口、102 法人单位、213 市场监管"),
    ("name", "信息资源名称", "name", RES, True, ("resource_name", "资源名称"), "企业登记基本信息（示例）",
     "不超过50个字；为空表示续接上一资源"),
    ("summary", "信息资源摘要", "summary", RES, True, ("资源摘要", "摘要"), "全市企业的登记基本信息，用于办事核验。",
     "不超过256个字"),
    ("provider_code", "信息资源提供方代码", "provider_code", RES, False, ("provider", "提供方代码"), "",
     "提供方部门的统一社会信用代码；为空表示登记人所在部门"),
    ("format", "信息资源格式", "format", RES, False, (), "数据库", _labels(vocab.FORMATS)),
    ("sharing_type", "共享类型", "sharing_type", RES, True, (), "01", "01 无条件共享、02 有条件共享、03 不予共享"),
    ("sharing_condition", "共享条件", "sharing_condition", RES, False, (), "无条件", "有条件共享须写明条件"),
    ("sharing_methods", "共享方式", "sharing_methods", RES, False, (), "系统对接；联机查询",
     "可多选，用；或、分隔：" + _labels(vocab.SHARING_METHODS)),
    ("legal_basis", "不予共享依据", "legal_basis", RES, False, (), "", "不予共享须写明法律、行政法规或国家政策依据"),
    ("open_to_public", "是否向社会开放", "open_to_public", RES, False, ("open",), "否", "是 / 否"),
    ("open_condition", "开放条件", "open_condition", RES, False, (), "", ""),
    ("update_cycle", "更新周期", "update_cycle", RES, False, (), "每日", _labels(vocab.UPDATE_CYCLES)),
    ("publish_date", "发布日期", "publish_date", RES, False, (), "", "YYYY-MM-DD"),
    ("related_codes", "关联资源代码", "related_codes", RES, False, (), "", "如 101/000001，多个用；分隔"),
    ("subject_key_type", "主体标识类型", "subject_key_type", RES, False, (), "统一社会信用代码",
     _labels(vocab.SUBJECT_KEY_TYPES)),
    ("contact_name", "联系人", "contact_name", RES, False, (), "张三", ""),
    ("contact_phone", "联系电话", "contact_phone", RES, False, (), "0755-88880000", ""),
    ("contact_email", "联系邮箱", "contact_email", RES, False, (), "data@example.gov.cn", ""),
    ("item_name", "信息项名称", "name", ITEM, True, (), "统一社会信用代码", "不超过50个字"),
    ("data_type", "数据类型", "data_type", ITEM, True, ("type",), "C",
     "、".join(f"{code} {label}" for code, label in vocab.DATA_TYPES.items())),
    ("length", "长度", "length", ITEM, False, ("数据长度",), "18", "正整数"),
    ("is_key", "是否主键", "is_key", ITEM, False, ("key", "主键"), "是", "是 / 否"),
    ("required", "是否必填", "required", ITEM, False, ("必填",), "是", "是 / 否"),
    ("sensitivity", "敏感级别", "sensitivity", ITEM, False, (), "1",
     "、".join(f"{level} {label}" for level, label in vocab.SENSITIVITY_LEVELS.items())),
    ("masking_rule", "脱敏规则", "masking_rule", ITEM, False, ("masking",), "不脱敏", _labels(vocab.MASKING_RULES)),
    ("searchable", "可检索", "searchable", ITEM, False, ("是否可检索",), "是", "是 / 否"),
    ("shareable", "是否共享", "shareable", ITEM, False, ("item_shareable", "信息项是否共享"), "是", "是 / 否"),
    ("item_legal_basis", "信息项不予共享依据", "legal_basis", ITEM, False, (), "", "信息项不予共享时必填"),
    ("is_basic", "基础信息项", "is_basic", ITEM, False, ("是否基础信息项",), "是", "是 / 否"),
    ("item_description", "信息项描述", "description", ITEM, False, ("description",), "", ""),
)
# fmt: on
COLUMNS: tuple[Column, ...] = tuple(
    Column(key, title, fld, item, req, (key, *aliases), example, help_)
    for key, title, fld, item, req, aliases, example, help_ in _TABLE
)
# Row numbers and export-only columns (an export re-imported registers new drafts; codes are assigned).
IGNORED_HEADERS = frozenset({"序号", "no", "备注", "remarks", "信息资源代码", "code", "状态", "status"})
BY_KEY = {c.key: c for c in COLUMNS}


def header_key(text: str) -> str:
    """A header as compared: NFKC, no required-marker asterisks, lower case, "_" for spaces and "-"."""
    text = unicodedata.normalize("NFKC", text).strip().strip("*").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


_BY_HEADER = {header_key(alias): c for c in COLUMNS for alias in (c.title, *c.aliases)}


def column_for(header: str) -> Column | None:
    """The column a header names (Chinese title or English alias, ignoring case, spaces, a trailing (…))."""
    key = header_key(header)
    return _BY_HEADER.get(key) or _BY_HEADER.get(re.sub(r"\(.*\)$", "", key).strip("_"))
