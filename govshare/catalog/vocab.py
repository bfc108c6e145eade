"""Controlled vocabularies of the national catalog guide (政务信息资源目录编制指南, 2017).

Each vocabulary maps a stored code to its Chinese label; the API and sheets accept either.
"""

from __future__ import annotations

# 信息项数据类型 (reference §1)
DATA_TYPES: dict[str, str] = {
    "C": "字符型",
    "N": "数值型",
    "Y": "货币型",
    "D": "日期型",
    "T": "日期时间型",
    "L": "逻辑型",
    "M": "备注型",
    "G": "通用型",
    "B": "双精度型",
    "I": "整型",
    "F": "浮点型",
}

# 信息资源格式
FORMATS: dict[str, str] = {
    "database": "数据库",
    "spreadsheet": "电子表格",
    "electronic_file": "电子文件",
    "image": "图形图像",
    "streaming": "流媒体",
    "self_describing": "自描述格式",
}

# 更新周期; the DCAT export maps each to an EU frequency (catalog/dcat.py)
UPDATE_CYCLES: dict[str, str] = {
    "realtime": "实时",
    "daily": "每日",
    "weekly": "每周",
    "monthly": "每月",
    "quarterly": "每季度",
    "semiannual": "每半年",
    "yearly": "每年",
    "irregular": "不定期",
}

# 共享方式
SHARING_METHODS: dict[str, str] = {
    "system_integration": "系统对接",
    "online_query": "联机查询",
    "online_browse": "在线浏览",
    "online_service": "调用在线服务",
    "download": "下载",
    "copy": "拷贝",
    "other": "其他",
}

SHARING_TYPE_LABELS: dict[str, str] = {
    "unconditional": "无条件共享",
    "conditional": "有条件共享",
    "none": "不予共享",
}
# The national template codes sharing types 01/02/03.
SHARING_TYPE_CODES: dict[str, str] = {"01": "unconditional", "02": "conditional", "03": "none"}

STATUS_LABELS: dict[str, str] = {
    "draft": "草稿",
    "submitted": "待审核",
    "published": "已发布",
    "retired": "已撤销",
}

SUBJECT_KEY_TYPES: dict[str, str] = {
    "person_id": "公民身份号码",
    "credit_code": "统一社会信用代码",
    "house_code": "房屋编码",
    "certificate_id": "电子证照标识",
    "none": "无",
}

# 脱敏规则: how the exchange masks an item (applied in a later issue; declared here by the provider).
MASKING_RULES: dict[str, str] = {
    "none": "不脱敏",
    "id_number": "证件号码（保留前4后4位）",
    "mobile": "手机号码（保留前3后4位）",
    "name": "姓名（保留姓）",
    "address": "地址（保留至区县）",
    "full": "全部遮盖",
}

SENSITIVITY_LEVELS: dict[int, str] = {1: "公开", 2: "内部", 3: "敏感", 4: "高度敏感"}


def resolve(vocabulary: dict[str, str], value: str) -> str | None:
    """Return the code for ``value`` given as a code or as its Chinese label, else None."""
    value = value.strip()
    if value in vocabulary:
        return value
    for code, label in vocabulary.items():
        if label == value:
            return code
    return None
