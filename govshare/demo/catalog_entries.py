"""The demo city's catalog: a few realistic entries per base library and theme (Shenzhen-like)."""

from __future__ import annotations

from typing import Any


def item(name: str, data_type: str = "C", **kw: Any) -> dict[str, Any]:
    return {"name": name, "data_type": data_type, **kw}


PID = item(
    "公民身份号码", is_key=True, sensitivity=3, masking_rule="id_number", searchable=True, is_basic=True
)
USCC = item("统一社会信用代码", is_key=True, searchable=True, is_basic=True)

# (provider short key, resource declaration, final status)
ENTRIES: list[tuple[str, dict[str, Any], str]] = [
    (
        "police",
        {
            "classification_code": "101",
            "name": "人口基础信息",
            "summary": "全市户籍及实有人口的身份、户籍、出生等基础信息，由公安部门采集维护，供各部门办事核验使用。",
            "sharing_type": "unconditional",
            "sharing_condition": "无条件",
            "subject_key_type": "person_id",
            "sharing_methods": ["system_integration", "online_query"],
            "update_cycle": "realtime",
            "items": [
                PID,
                item("姓名", sensitivity=2, masking_rule="name", searchable=True, is_basic=True),
                item("性别", is_basic=True),
                item("出生日期", "D", is_basic=True),
                item("民族", is_basic=True),
                item("户籍地址", sensitivity=3, masking_rule="address", is_basic=True),
                item("联系电话", sensitivity=3, masking_rule="mobile"),
            ],
        },
        "published",
    ),
    (
        "market",
        {
            "classification_code": "102",
            "name": "法人单位基础信息",
            "summary": "全市企业、个体工商户及其他市场主体的登记基础信息，包括名称、类型、法定代表人、住所和经营范围。",
            "sharing_type": "unconditional",
            "sharing_condition": "无条件",
            "subject_key_type": "credit_code",
            "sharing_methods": ["system_integration", "online_query", "download"],
            "update_cycle": "daily",
            "open_to_public": True,
            "open_condition": "企业公示信息向社会开放",
            "items": [
                USCC,
                item("企业名称", searchable=True, is_basic=True),
                item("市场主体类型", is_basic=True),
                item("法定代表人", sensitivity=2, is_basic=True),
                item("法定代表人公民身份号码", sensitivity=3, masking_rule="id_number"),
                item("住所", is_basic=True),
                item("成立日期", "D", is_basic=True),
                item("注册资本", "Y"),
                item("经营范围", "M"),
            ],
        },
        "published",
    ),
    (
        "market",
        {
            "classification_code": "105",
            "name": "营业执照电子证照",
            "summary": "市场监管部门核发的营业执照电子证照，可替代纸质营业执照用于各类政务服务事项办理。",
            "sharing_type": "unconditional",
            "sharing_condition": "无条件",
            "subject_key_type": "certificate_id",
            "sharing_methods": ["online_service"],
            "update_cycle": "realtime",
            "items": [
                item("电子证照标识", is_key=True, is_basic=True),
                USCC | {"is_key": False},
                item("营业执照", "G", description="营业执照版式文件"),
                item("发证日期", "D"),
            ],
        },
        "published",
    ),
    (
        "housing",
        {
            "classification_code": "106",
            "name": "房屋基础信息",
            "summary": "全市房屋的编码、坐落、结构、用途和面积等基础信息，由住房建设部门牵头共建。",
            "sharing_type": "unconditional",
            "sharing_condition": "无条件",
            "subject_key_type": "house_code",
            "sharing_methods": ["system_integration", "online_query"],
            "update_cycle": "weekly",
            "items": [
                item("房屋编码", is_key=True, searchable=True, is_basic=True),
                item("房屋坐落", searchable=True),
                item("建筑面积", "N"),
                item("房屋用途"),
                item("建成年份", "I"),
            ],
        },
        "published",
    ),
    (
        "hrss",
        {
            "classification_code": "203",
            "name": "社会保险参保缴费信息",
            "summary": "参保人的养老、医疗、失业、工伤、生育保险参保状态及缴费记录，用于人才引进、积分入户等事项核验。",
            "sharing_type": "conditional",
            "sharing_condition": "仅用于本部门法定职责范围内的政务服务事项办理，不得用于其他用途",
            "subject_key_type": "person_id",
            "sharing_methods": ["online_query"],
            "update_cycle": "monthly",
            "items": [
                PID | {"is_basic": False},
                item("姓名", masking_rule="name"),
                item("参保险种"),
                item("参保状态"),
                item("累计缴费月数", "I"),
                item("缴费基数", "Y", sensitivity=3),
            ],
        },
        "published",
    ),
    (
        "civil",
        {
            "classification_code": "201",
            "name": "婚姻登记信息",
            "summary": "婚姻登记机关办理的结婚、离婚登记信息，用于住房保障、户籍迁移等事项中核验婚姻状况。",
            "sharing_type": "conditional",
            "sharing_condition": "需说明办件编号及事项，仅核验婚姻状况",
            "subject_key_type": "person_id",
            "sharing_methods": ["online_query"],
            "update_cycle": "daily",
            "items": [
                PID | {"is_basic": False},
                item("姓名", masking_rule="name"),
                item("婚姻状况"),
                item("登记日期", "D"),
                item("登记机关"),
            ],
        },
        "published",
    ),
    (
        "health",
        {
            "classification_code": "202",
            "name": "出生医学证明信息",
            "summary": "医疗机构签发的出生医学证明信息，用于新生儿户口登记、参保登记等主动服务。",
            "sharing_type": "unconditional",
            "sharing_condition": "无条件",
            "subject_key_type": "certificate_id",
            "sharing_methods": ["system_integration"],
            "update_cycle": "daily",
            "items": [
                item("出生医学证明编号", is_key=True),
                item("新生儿姓名", masking_rule="name"),
                item("出生日期", "D"),
                item("母亲公民身份号码", masking_rule="id_number", sensitivity=3),
                item("出生地点"),
            ],
        },
        "published",
    ),
    (
        "education",
        {
            "classification_code": "201001",
            "name": "中小学学籍信息",
            "summary": "全市中小学学生学籍基本信息，用于积分入学、学位申请等事项核验。",
            "sharing_type": "conditional",
            "sharing_condition": "仅限教育、民政及公安部门在学位申请相关事项中使用",
            "subject_key_type": "person_id",
            "sharing_methods": ["online_query"],
            "update_cycle": "quarterly",
            "items": [
                PID | {"is_basic": False},
                item("学生姓名", masking_rule="name"),
                item("学校名称"),
                item("年级"),
                item(
                    "家庭住址",
                    masking_rule="address",
                    shareable=False,
                    legal_basis="《未成年人保护法》第七十二条：处理未成年人个人信息应当遵循最小必要原则",
                ),
            ],
        },
        "submitted",
    ),
    (
        "police",
        {
            "classification_code": "212",
            "name": "刑事案件侦查信息",
            "summary": "公安机关刑事案件侦查过程中形成的案件信息。",
            "sharing_type": "none",
            "legal_basis": "《中华人民共和国刑事诉讼法》第一百五十二条；《中华人民共和国保守国家秘密法》",
            "subject_key_type": "none",
            "update_cycle": "realtime",
            "items": [item("案件编号", is_key=True), item("案件类别"), item("立案日期", "D")],
        },
        "published",
    ),
    (
        "planning",
        {
            "classification_code": "103",
            "name": "不动产登记信息",
            "summary": "不动产权利人、坐落、权属状况及抵押查封信息，用于住房公积金提取、人才住房等事项核验。",
            "sharing_type": "conditional",
            "sharing_condition": "依申请核验，须提供办件编号",
            "subject_key_type": "house_code",
            "sharing_methods": ["online_query"],
            "update_cycle": "daily",
            "items": [
                item("不动产单元号", is_key=True),
                item("房屋编码", searchable=True),
                item("权利人公民身份号码", masking_rule="id_number", sensitivity=3),
                item("权利人姓名", masking_rule="name"),
                item("抵押状态"),
                item("查封状态"),
            ],
        },
        "published",
    ),
    (
        "tax",
        {
            "classification_code": "208",
            "name": "纳税信用等级信息",
            "summary": "企业纳税信用等级评价结果（A、B、M、C、D级），用于信用联合奖惩。",
            "sharing_type": "unconditional",
            "sharing_condition": "无条件",
            "subject_key_type": "credit_code",
            "sharing_methods": ["online_query", "download"],
            "update_cycle": "yearly",
            "open_to_public": True,
            "open_condition": "A级纳税人名单向社会公开",
            "items": [
                USCC | {"is_basic": False},
                item("纳税人名称", searchable=True),
                item("评价年度", "I"),
                item("信用等级"),
            ],
        },
        "published",
    ),
    (
        "hrss",
        {
            "classification_code": "203",
            "name": "就业登记信息",
            "summary": "劳动者就业、失业登记信息。",
            "sharing_type": "unconditional",
            "sharing_condition": "无条件",
            "subject_key_type": "person_id",
            "sharing_methods": ["online_query"],
            "update_cycle": "monthly",
            "items": [
                PID | {"is_basic": False},
                item("姓名", masking_rule="name"),
                item("就业状态"),
                item("用人单位"),
            ],
        },
        "draft",
    ),
]
