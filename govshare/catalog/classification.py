"""信息资源分类: the classification tree that prefixes every resource code.

Codes follow the guide: 类 (1 digit) + 项 (2) + 目 (3) + 细目 (variable). 类 1 is 基础信息资源,
2 主题信息资源, 3 部门信息资源. For 类 1 and 2 the 项 comes from the list below; for 类 3 the 项
numbers departments and is free. 目 and 细目 are optional and free.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CLASSES: dict[str, str] = {"1": "基础信息资源", "2": "主题信息资源", "3": "部门信息资源"}

# 类1 项: the base libraries. Their basic items are shared unconditionally unless the authority
# approves otherwise (reference §2). 房屋 is Shenzhen's addition to the national list.
BASE_SUBCLASSES: dict[str, str] = {
    "01": "人口",
    "02": "法人单位",
    "03": "自然资源和空间地理",
    "04": "社会信用",
    "05": "电子证照",
    "06": "房屋",
    "07": "宏观经济",
}

THEME_SUBCLASSES: dict[str, str] = {
    "01": "公共服务",
    "02": "健康保障",
    "03": "社会保障",
    "04": "食品药品安全",
    "05": "安全生产",
    "06": "价格监管",
    "07": "能源安全",
    "08": "信用体系",
    "09": "城乡建设",
    "10": "社区治理",
    "11": "生态环保",
    "12": "应急维稳",
    "13": "市场监管",
}

_CODE = re.compile(r"^[123]\d{2}(\d{3}(\d{1,6})?)?$")


@dataclass(frozen=True)
class Classification:
    code: str
    class_name: str
    subclass_name: str | None

    @property
    def is_base(self) -> bool:
        return self.code.startswith("1")

    @property
    def label(self) -> str:
        return f"{self.class_name} / {self.subclass_name}" if self.subclass_name else self.class_name


def parse(code: str) -> Classification | None:
    """Parse a classification code; None when it is malformed or its 项 is unknown."""
    code = code.strip()
    if not _CODE.match(code):
        return None
    klass, sub = code[0], code[1:3]
    if klass == "1":
        name = BASE_SUBCLASSES.get(sub)
    elif klass == "2":
        name = THEME_SUBCLASSES.get(sub)
    else:
        name = f"部门资源 {sub}"
    if name is None:
        return None
    return Classification(code=code, class_name=CLASSES[klass], subclass_name=name)


def all_subclasses() -> list[Classification]:
    """Every predefined 类+项, for filters and forms."""
    out = [Classification(f"1{s}", CLASSES["1"], n) for s, n in BASE_SUBCLASSES.items()]
    out += [Classification(f"2{s}", CLASSES["2"], n) for s, n in THEME_SUBCLASSES.items()]
    return out
