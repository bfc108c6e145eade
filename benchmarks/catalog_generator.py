"""A deterministic synthetic catalog for benchmarks: a Shenzhen-like city's departments and resources.

Names are built from vocabularies of subjects (what a resource is about), aspects and suffixes per
department, so that everyday queries (人口, 营业执照, 社保, 房屋, 许可证) hit very different numbers of
resources, as they would in a real catalog. Same seed, same catalog.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from govshare.core.ids import make_credit_code

DISTRICTS = {
    "440303": "罗湖区", "440304": "福田区", "440305": "南山区", "440306": "宝安区", "440307": "龙岗区",
    "440308": "盐田区", "440309": "龙华区", "440310": "坪山区", "440311": "光明区",
}  # fmt: skip

# department → (classification codes it registers under, subjects it holds, the item pool key)
DEPARTMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "市公安局": (("101", "212", "301"), ("户籍人口", "流动人口", "常住人口", "机动车", "驾驶人", "出入境证件",
                                        "居住证", "人口迁移", "治安管理", "身份证"), "person"),
    "市市场监督管理局": (("102", "105", "213"), ("企业", "个体工商户", "营业执照", "食品经营许可证", "特种设备",
                                                "商标", "企业年报", "市场主体", "药品经营许可证"), "company"),
    "市人力资源和社会保障局": (("203", "302"), ("社保参保", "养老保险", "失业保险", "工伤保险", "就业登记",
                                              "职业资格证书", "人才引进", "劳动合同", "社保卡"), "person"),
    "市医疗保障局": (("202", "203"), ("医保参保", "医疗保险", "医保结算", "定点医疗机构", "医保目录"), "person"),
    "市住房和建设局": (("106", "209"), ("房屋", "商品房预售许可证", "房屋租赁", "建筑施工许可证", "物业服务",
                                      "保障性住房", "房屋安全", "建筑企业资质"), "house"),
    "市规划和自然资源局": (("103", "106"), ("不动产", "土地", "建设用地规划许可证", "地籍", "房屋测绘",
                                          "地理信息"), "house"),
    "市卫生健康委员会": (("202", "105"), ("出生医学证明", "医师执业证书", "医疗机构执业许可证", "预防接种",
                                        "人口健康", "母婴保健"), "person"),
    "市民政局": (("201", "101"), ("婚姻登记", "社会组织", "最低生活保障", "殡葬服务", "养老机构", "残疾人",
                                  "人口老龄"), "person"),
    "市教育局": (("201", "303"), ("学籍", "学位", "教师资格证", "民办学校", "招生录取"), "person"),
    "国家税务总局深圳市税务局": (("208", "102"), ("纳税人", "纳税信用", "发票", "税务登记", "个人所得税"),
                                 "company"),
    "市交通运输局": (("201", "304"), ("道路运输许可证", "出租车", "网约车", "公交线路", "从业资格证"), "company"),
    "市生态环境局": (("211", "305"), ("排污许可证", "环境影响评价", "环境监测", "危险废物"), "company"),
    "市水务局": (("211", "306"), ("供水", "排水许可证", "水资源", "河道"), "company"),
    "市应急管理局": (("212", "205"), ("安全生产许可证", "危险化学品", "应急预案", "灾害"), "company"),
    "市司法局": (("201", "307"), ("律师执业证", "公证", "法律援助", "人民调解"), "person"),
    "市城市管理和综合执法局": (("210", "308"), ("户外广告", "市容环境", "燃气经营许可证", "绿化"), "company"),
    "市公积金管理中心": (("203", "106"), ("住房公积金", "公积金贷款", "公积金缴存"), "person"),
    "市退役军人事务局": (("203", "309"), ("退役军人", "优抚对象", "安置"), "person"),
    "市科技创新委员会": (("213", "310"), ("高新技术企业", "科技项目", "技术合同"), "company"),
    "市统计局": (("107", "311"), ("人口普查", "经济普查", "统计年报"), "company"),
}  # fmt: skip

ASPECTS = ("基本", "登记", "变更", "注销", "审批", "备案", "年检", "核验", "统计", "办理", "电子证照", "历史",
           "许可", "监管", "处罚", "服务", "申报", "档案")  # fmt: skip
SUFFIXES = ("信息", "数据", "记录", "台账", "明细", "目录")
PURPOSES = ("用于政务服务事项办理时核验", "供各部门共享使用", "支撑一网通办和秒批秒办", "用于监管执法与信用评价",
            "为主动服务和精准推送提供依据", "用于统计分析和辅助决策")  # fmt: skip

ITEM_POOLS = {
    "person": ("公民身份号码", "姓名", "性别", "出生日期", "民族", "户籍地址", "居住地址", "联系电话", "文化程度",
               "婚姻状况"),
    "company": ("统一社会信用代码", "企业名称", "法定代表人", "注册资本", "成立日期", "住所", "经营范围",
                "登记机关", "企业类型", "经营状态"),
    "house": ("房屋编码", "房屋坐落", "建筑面积", "房屋用途", "产权人", "不动产权证号", "建成年份", "结构类型"),
}  # fmt: skip
GENERIC_ITEMS = ("证照编号", "发证机关", "发证日期", "有效期至", "办理日期", "办理状态", "经办人", "审批结果",
                 "数据来源", "更新时间", "备注", "事项编码", "业务流水号", "所属区", "街道")  # fmt: skip
KEY_ITEM = {"person": "公民身份号码", "company": "统一社会信用代码", "house": "房屋编码"}
SUBJECT_KEY = {"person": "person_id", "company": "credit_code", "house": "house_code"}
DATA_TYPES = {"日期": "D", "面积": "N", "资本": "Y", "年份": "I"}
STATUS_WEIGHTS = (("published", 80), ("draft", 12), ("submitted", 4), ("retired", 4))
SHARING_WEIGHTS = (("unconditional", 55), ("conditional", 40), ("none", 5))
CYCLES = ("realtime", "daily", "weekly", "monthly", "quarterly", "yearly")
METHODS = ("system_integration", "online_query", "online_service", "download")


@dataclass
class Catalog:
    departments: list[dict[str, object]] = field(default_factory=list)
    resources: list[dict[str, object]] = field(default_factory=list)
    items: list[dict[str, object]] = field(default_factory=list)


def departments() -> Iterator[tuple[str, str, str, str]]:
    """(name, credit code, level, division): the municipal departments, then each district's office."""
    n = 0
    for name in DEPARTMENTS:
        n += 1
        yield f"深圳{name}", make_credit_code("1", "1", "440300", f"{9000 + n:08d}"), "city", "440300"
    for division, district in DISTRICTS.items():
        n += 1
        yield f"深圳市{district}政务服务数据管理局", make_credit_code("1", "1", division, f"{9000 + n:08d}"), \
            "district", division  # fmt: skip


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def generate(resources: int, items_per_resource: int = 10, seed: int = 20160801) -> Catalog:
    """``resources`` resources of ~``items_per_resource`` items; ids are assigned here (1…n)."""
    rng = random.Random(seed)
    out = Catalog()
    depts = list(departments())
    for dept_id, (name, code, level, division) in enumerate(depts, start=1):
        out.departments.append(
            {"id": dept_id, "code": code, "name": name, "level": level, "division_code": division}
        )
    municipal = list(DEPARTMENTS.items())
    sequences: dict[str, int] = {}
    item_id = 0
    for rid in range(1, resources + 1):
        dept_index = rng.randrange(len(municipal))
        dept_name, (classes, subjects, pool) = municipal[dept_index]
        district = None
        if rng.random() < 0.3:  # district offices register local copies of city resources
            district = rng.randrange(len(DISTRICTS))
        provider_id = dept_index + 1 if district is None else len(municipal) + district + 1
        place = "" if district is None else list(DISTRICTS.values())[district]
        subject = rng.choice(subjects)
        aspect = rng.choice(ASPECTS)
        name = f"{place}{subject}{aspect}{rng.choice(SUFFIXES)}"
        if rng.random() < 0.5:
            name += f"（{rng.randrange(2010, 2025)}年）"
        cls = rng.choice(classes)
        sequences[cls] = sequences.get(cls, 0) + 1
        sharing = _weighted(rng, SHARING_WEIGHTS)
        status = _weighted(rng, STATUS_WEIGHTS)
        holder = depts[provider_id - 1][0]
        out.resources.append(
            {
                "id": rid,
                "code": f"{cls}/{sequences[cls]:06d}",
                "classification_code": cls,
                "name": name[:50],
                "summary": f"{holder}{aspect}的{subject}{rng.choice(SUFFIXES)}，{rng.choice(PURPOSES)}。",
                "provider_id": provider_id,
                "format": "database",
                "sharing_type": sharing,
                "sharing_condition": ""
                if sharing == "unconditional"
                else "仅用于本部门法定职责范围内的事项办理",
                "sharing_methods": [] if sharing == "none" else rng.sample(METHODS, rng.randint(1, 2)),
                "legal_basis": "《中华人民共和国保守国家秘密法》" if sharing == "none" else "",
                "open_to_public": sharing == "unconditional" and rng.random() < 0.2,
                "update_cycle": rng.choice(CYCLES),
                "publish_date": date(2017 + rid % 8, 1 + rid % 12, 1 + rid % 28)
                if status != "draft"
                else None,
                "related_codes": [],
                "subject_key_type": SUBJECT_KEY[pool],
                "status": status,
                "version": 1,
            }
        )
        count = max(3, items_per_resource + rng.randint(-3, 3))
        chosen = [KEY_ITEM[pool]]
        chosen += rng.sample([i for i in ITEM_POOLS[pool] if i != KEY_ITEM[pool]], min(count // 2, 6))
        chosen += rng.sample(GENERIC_ITEMS, count - len(chosen))
        for position, item in enumerate(chosen, start=1):
            item_id += 1
            data_type = next((t for word, t in DATA_TYPES.items() if word in item), "C")
            out.items.append(
                {
                    "id": item_id,
                    "resource_id": rid,
                    "position": position,
                    "name": item,
                    "data_type": data_type,
                    "is_key": position == 1,
                    "required": position == 1,
                    "searchable": position <= 2,
                }  # fmt: skip
            )
    return out
