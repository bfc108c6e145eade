"""The demo city's people, companies and houses: synthetic, deterministic, valid.

Everything is drawn from seeded random generators, so the same ``count`` always gives the same city
and the first people are the same whatever the count (each library has a generator of its own, and
people are drawn in order). Identifiers are built with `govshare.core.ids`, so every resident ID has
a Shenzhen district's division code and a correct GB 11643 check digit, and every 统一社会信用代码 its
GB 11714 and GB 32100 checks. Dates are drawn relative to a fixed day, not today.

Nothing is real: any resemblance of a generated ID number or name to a person is chance.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date

from govshare.core import ids
from govshare.demo import words

SEED = 20160912
REFERENCE_DATE = date(2024, 12, 31)  # ages and periods are counted to this day, so the city never drifts
FEATURED_DISTRICT, FEATURED_NEW_DISTRICT = "440304", "440305"  # 福田区 → 南山区 in the update batch

Row = dict[str, str | None]


@dataclass(frozen=True)
class Person:
    id_number: str
    name: str
    male: bool
    birth_date: date
    ethnicity: str
    district: str
    address: str
    mobile: str

    def row(self) -> Row:
        """The person as a record of 人口基础信息 (item name → value)."""
        return {
            "公民身份号码": self.id_number, "姓名": self.name, "性别": "男" if self.male else "女",
            "出生日期": self.birth_date.isoformat(), "民族": self.ethnicity, "户籍地址": self.address,
            "联系电话": self.mobile,
        }  # fmt: skip


@dataclass(frozen=True)
class Company:
    credit_code: str
    name: str
    kind: str
    legal_representative: Person
    address: str
    founded: date
    capital_yuan: int | None  # 个体工商户 declare none
    scope: str

    def row(self) -> Row:
        """The company as a record of 法人单位基础信息."""
        return {
            "统一社会信用代码": self.credit_code, "企业名称": self.name, "市场主体类型": self.kind,
            "法定代表人": self.legal_representative.name,
            "法定代表人公民身份号码": self.legal_representative.id_number, "住所": self.address,
            "成立日期": self.founded.isoformat(),
            "注册资本": None if self.capital_yuan is None else str(self.capital_yuan), "经营范围": self.scope,
        }  # fmt: skip


@dataclass(frozen=True)
class City:
    people: list[Person]
    companies: list[Company]
    houses: list[Row]  # 房屋基础信息
    insured: list[Row]  # 社会保险参保缴费信息
    moved: list[Person]  # the second, smaller batch: people who moved or changed their mobile

    @property
    def featured(self) -> Person:
        """The person the demo tells newcomers to look up: read by several departments, moved once,
        legal representative of the first company."""
        return self.people[0]


def _draw(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _day(rng: random.Random, first: date, last: date) -> date:
    return date.fromordinal(rng.randint(first.toordinal(), last.toordinal()))


def _age(person: Person) -> int:
    born = person.birth_date
    return (
        REFERENCE_DATE.year
        - born.year
        - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (born.month, born.day))
    )


def _name(rng: random.Random, male: bool) -> str:
    surname = words.SURNAMES[int(len(words.SURNAMES) * rng.random() ** 2)]  # common surnames more often
    given = words.GIVEN_MALE if male else words.GIVEN_FEMALE
    return surname + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))


def _street_address(rng: random.Random, district: str) -> str:
    """深圳市<区><街道><路><号>: where a building is."""
    name, streets, roads = words.DISTRICTS[district]
    return f"深圳市{name}{rng.choice(streets)}{rng.choice(roads)}{rng.randint(1, 399)}号"


def _home(rng: random.Random, district: str) -> str:
    floor = rng.randint(1, 33)
    return (
        f"{_street_address(rng, district)}{rng.choice(words.ESTATES)}{rng.randint(1, 30)}栋"
        f"{floor}{rng.randint(1, 8):02d}室"
    )


def _mobile(rng: random.Random) -> str:
    return rng.choice(words.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _person(rng: random.Random, taken: set[str], featured: bool) -> Person:
    male = rng.random() < 0.51
    if featured:
        birth, district = _day(rng, date(1978, 1, 1), date(1992, 12, 31)), FEATURED_DISTRICT
    else:
        birth, district = _day(rng, date(1950, 1, 1), date(2006, 12, 31)), rng.choice(list(words.DISTRICTS))
    division = words.ID_DIVISION.get(district, district)
    while True:  # odd sequence numbers for men, even for women (GB 11643)
        number = ids.make_resident_id(division, birth, rng.randrange(500) * 2 + male)
        if number not in taken:
            taken.add(number)
            break
    return Person(
        number, _name(rng, male), male, birth, _draw(rng, words.ETHNICITIES), district,
        "广东省" + _home(rng, district), _mobile(rng),
    )  # fmt: skip


def people(count: int, seed: int = SEED) -> list[Person]:
    rng = random.Random(f"{seed}:people")
    taken: set[str] = set()
    return [_person(rng, taken, featured=index == 0) for index in range(count)]


def moved(population: list[Person], seed: int = SEED) -> list[Person]:
    """About one person in twenty moved house (new 户籍地址) or changed mobile; the featured one moved."""
    rng = random.Random(f"{seed}:moves")
    chosen = [population[0], *rng.sample(population[1:], min(len(population) - 1, len(population) // 20))]
    changed = []
    for person in chosen:
        district = FEATURED_NEW_DISTRICT if person is population[0] else rng.choice(list(words.DISTRICTS))
        mobile = _mobile(rng) if person is population[0] or rng.random() < 0.5 else person.mobile
        changed.append(
            replace(person, district=district, address="广东省" + _home(rng, district), mobile=mobile)
        )
    return changed


def _credit_code(rng: random.Random, authority_and_type: str, taken: set[str]) -> str:
    while True:  # 91/92 + 440300 (深圳市市场监督管理局) + a new-style organisation code MA5…
        body = "MA5" + "".join(rng.choice(ids.CREDIT_CODE_ALPHABET) for _ in range(5))
        code = ids.make_credit_code(authority_and_type[0], authority_and_type[1], "440300", body)
        if code not in taken:
            taken.add(code)
            return code


def companies(population: list[Person], count: int, seed: int = SEED) -> list[Company]:
    """Companies and 个体工商户 whose legal representatives are adults of ``population``; the first
    is the featured person's."""
    rng = random.Random(f"{seed}:companies")
    adults = [p for p in population if _age(p) >= 20]
    codes: set[str] = set()
    names: set[str] = set()
    result = []
    weights = {kind: weight for kind, (_, weight) in words.ENTERPRISE_TYPES.items()}
    for index in range(count):
        kind = _draw(rng, weights)
        district = rng.choice(list(words.DISTRICTS))
        industry = rng.choice(list(words.INDUSTRIES))
        while True:
            trade = "".join(rng.sample(words.TRADE_NAME_CHARS, 2))
            if kind == "个体工商户":
                name = f"深圳市{words.DISTRICTS[district][0]}{trade}{rng.choice(words.SHOPS)}"
            elif kind.startswith("股份"):
                name = f"深圳{trade}{industry}股份有限公司"
            else:
                name = f"深圳市{trade}{industry}有限公司"
            if name not in names:
                names.add(name)
                break
        office = f"{rng.choice(words.OFFICE_BUILDINGS)}{rng.randint(2, 40)}层{rng.randint(1, 20):02d}室"
        activities = rng.sample(words.INDUSTRIES[industry], rng.randint(2, 3))
        result.append(Company(
            _credit_code(rng, words.ENTERPRISE_TYPES[kind][0], codes), name, kind,
            population[0] if index == 0 else rng.choice(adults), _street_address(rng, district) + office,
            _day(rng, date(2000, 1, 1), date(2024, 6, 30)),
            None if kind == "个体工商户" else rng.choice((10, 30, 50, 100, 200, 500, 1000, 5000)) * 10_000,
            "；".join(activities) + "。",
        ))  # fmt: skip
    return result


HOUSE_USES = {"住宅": (80, 35, 160), "商业": (10, 20, 300), "办公": (7, 60, 800), "工业": (3, 300, 5000)}


def houses(count: int, seed: int = SEED) -> list[Row]:
    """Records of 房屋基础信息; 房屋编码 is the district code, street, building and room (18 digits)."""
    rng = random.Random(f"{seed}:houses")
    taken: set[str] = set()
    rows: list[Row] = []
    weights = {use: weight for use, (weight, _, _) in HOUSE_USES.items()}
    while len(rows) < count:
        district = rng.choice(list(words.DISTRICTS))
        street = rng.randrange(len(words.DISTRICTS[district][1]))
        code = f"{district}{street + 1:03d}{rng.randrange(1, 100_000):05d}{rng.randrange(1, 10_000):04d}"
        if code in taken:
            continue
        taken.add(code)
        use = _draw(rng, weights)
        _, low, high = HOUSE_USES[use]
        rows.append({
            "房屋编码": code, "房屋坐落": _home(rng, district), "建筑面积": f"{rng.uniform(low, high):.2f}",
            "房屋用途": use, "建成年份": str(rng.randint(1985, 2023)),
        })  # fmt: skip
    return rows


INSURANCE_STATES = {"正常参保": 85, "暂停缴费": 10, "终止参保": 5}
ALL_INSURANCES = "基本养老保险、基本医疗保险、失业保险、工伤保险、生育保险"


def insured(population: list[Person], seed: int = SEED) -> list[Row]:
    """Records of 社会保险参保缴费信息 for about seven in ten people of working age (18–60)."""
    rng = random.Random(f"{seed}:insured")
    rows: list[Row] = []
    for person in population:
        age = _age(person)
        if person is not population[0] and not (18 <= age <= 60 and rng.random() < 0.7):
            continue
        state = "正常参保" if person is population[0] else _draw(rng, INSURANCE_STATES)
        rows.append({
            "公民身份号码": person.id_number, "姓名": person.name,
            "参保险种": ALL_INSURANCES if rng.random() < 0.85 else "基本医疗保险", "参保状态": state,
            "累计缴费月数": str(rng.randint(1, max(1, (age - 18) * 12))),
            "缴费基数": f"{rng.randint(2360, 27501)}.00",
        })  # fmt: skip
    return rows


def generate(count: int, seed: int = SEED) -> City:
    """A city of ``count`` people, a quarter as many companies, half as many houses."""
    population = people(count, seed)
    return City(
        population, companies(population, max(1, count // 4), seed), houses(max(1, count // 2), seed),
        insured(population, seed), moved(population, seed),
    )  # fmt: skip
