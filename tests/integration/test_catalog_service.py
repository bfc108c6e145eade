"""Catalog use cases on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from govshare.catalog import negative, search, service
from govshare.catalog.models import NegativeListEntry, Resource, ResourceVersion, SearchTerm
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.factories import resource_in


def publish(session, city, data=None):
    r = service.create_resource(session, city.police_officer, data or resource_in())
    service.submit(session, city.police_officer, r.code)
    return service.publish(session, city.admin, r.code)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_codes_are_classification_plus_sequence_and_never_reused(session, city):
    a = service.create_resource(session, city.police_officer, resource_in())
    b = service.create_resource(session, city.police_officer, resource_in(name="人口户籍信息"))
    c = service.create_resource(
        session, city.market_officer, resource_in(classification_code="102", name="法人")
    )
    assert (a.code, b.code, c.code) == ("101/000001", "101/000002", "102/000001")
    session.delete(b)
    session.commit()
    d = service.create_resource(session, city.police_officer, resource_in(name="流动人口信息"))
    assert d.code == "101/000003"


def test_invalid_declaration_stores_nothing(session, city):
    before = (count(session, Resource), count(session, ResourceVersion), count(session, SearchTerm))
    with pytest.raises(ValidationFailed) as err:
        service.create_resource(session, city.police_officer, resource_in(name="长" * 51))
    assert err.value.code == "name_too_long"
    assert (count(session, Resource), count(session, ResourceVersion), count(session, SearchTerm)) == before


def test_data_officer_acts_only_for_own_department(session, city):
    with pytest.raises(PermissionDenied) as err:
        service.create_resource(session, city.police_officer, resource_in(provider_code=city.market.code))
    assert err.value.code == "other_department"
    r = service.create_resource(session, city.police_officer, resource_in())
    with pytest.raises(PermissionDenied):
        service.update_resource(session, city.market_officer, r.code, resource_in(name="改名"))


def test_clerk_cannot_register_resources(session, city):
    with pytest.raises(PermissionDenied) as err:
        service.create_resource(session, city.clerk, resource_in())
    assert err.value.code == "role_not_allowed"


def test_authority_may_register_for_any_department(session, city):
    r = service.create_resource(session, city.admin, resource_in(provider_code=city.market.code))
    assert r.provider.code == city.market.code


def test_lifecycle_draft_submitted_published_retired(session, city):
    r = service.create_resource(session, city.police_officer, resource_in())
    assert r.status == "draft"
    with pytest.raises(Conflict):
        service.publish(session, city.admin, r.code)
    service.submit(session, city.police_officer, r.code)
    with pytest.raises(PermissionDenied):
        service.publish(session, city.police_officer, r.code)
    service.publish(session, city.admin, r.code)
    assert r.status == "published" and r.publish_date is not None
    with pytest.raises(ValidationFailed):
        service.retire(session, city.police_officer, r.code, "")
    service.retire(session, city.police_officer, r.code, "职能调整")
    assert r.status == "retired"
    with pytest.raises(Conflict) as err:
        service.update_resource(session, city.police_officer, r.code, resource_in(name="新"))
    assert err.value.code == "not_editable"


def test_authority_returns_submitted_entry_with_reason(session, city):
    r = service.create_resource(session, city.police_officer, resource_in())
    service.submit(session, city.police_officer, r.code)
    with pytest.raises(ValidationFailed):
        service.return_to_draft(session, city.admin, r.code, " ")
    service.return_to_draft(session, city.admin, r.code, "摘要过于简略")
    assert r.status == "draft"
    assert service.versions.list_for(session, r)[-1].note == "摘要过于简略"


def test_every_change_creates_a_version_and_diffs_name_the_fields(session, city):
    r = service.create_resource(session, city.police_officer, resource_in())
    items = [i.model_dump() for i in resource_in().items] + [{"name": "民族", "data_type": "C"}]
    items[1]["masking_rule"] = "full"
    service.update_resource(
        session, city.police_officer, r.code, resource_in(summary="新的摘要", items=items)
    )
    history = service.versions.list_for(session, r)
    assert [(v.version, v.action) for v in history] == [(1, "created"), (2, "updated")]
    assert history[1].actor.username == "police_officer"
    fields = {f for f, _, _ in service.version_diff(session, r, 1, 2)}
    assert fields == {"summary", "items.民族", "items.姓名.masking_rule"}
    with pytest.raises(NotFound):
        service.version_diff(session, r, 1, 9)


def test_update_without_change_creates_no_version(session, city):
    r = service.create_resource(session, city.police_officer, resource_in())
    service.update_resource(session, city.police_officer, r.code, resource_in())
    assert r.version == 1


def test_stale_expected_version_is_a_conflict(session, city):
    r = service.create_resource(session, city.police_officer, resource_in())
    service.update_resource(
        session, city.police_officer, r.code, resource_in(summary="改"), expected_version=1
    )
    with pytest.raises(Conflict) as err:
        service.update_resource(
            session, city.police_officer, r.code, resource_in(summary="再改"), expected_version=1
        )
    assert err.value.code == "version_conflict"


def test_classification_and_provider_are_immutable(session, city):
    r = service.create_resource(session, city.police_officer, resource_in())
    with pytest.raises(ValidationFailed) as err:
        service.update_resource(session, city.police_officer, r.code, resource_in(classification_code="102"))
    assert err.value.code == "classification_immutable"


def test_related_codes_must_exist(session, city):
    with pytest.raises(ValidationFailed) as err:
        service.create_resource(session, city.police_officer, resource_in(related_codes=["102/000009"]))
    assert err.value.code == "unknown_related_resource"
    a = service.create_resource(session, city.police_officer, resource_in())
    b = service.create_resource(
        session, city.police_officer, resource_in(name="户籍", related_codes=[a.code])
    )
    assert b.related_codes == [a.code]


def test_drafts_of_other_departments_are_not_disclosed(session, city):
    r = service.create_resource(session, city.police_officer, resource_in())
    with pytest.raises(NotFound):
        service.view_resource(session, r.code, city.market_officer)
    with pytest.raises(NotFound):
        service.view_resource(session, r.code, None)
    assert service.view_resource(session, r.code, city.admin) is r


# --- negative list ---------------------------------------------------------------------------------

NONE_THEME = dict(
    classification_code="212", name="刑事案件侦查信息", sharing_type="none", sharing_methods=[],
    legal_basis="《刑事诉讼法》", subject_key_type="none", items=[{"name": "案件编号", "is_key": True}],
)  # fmt: skip


def test_none_resource_enters_review_queue(session, city):
    r = service.create_resource(session, city.police_officer, resource_in(**NONE_THEME))
    queue = negative.review_queue(session, city.admin)
    assert [(e.resource_id, e.item_name, e.legal_basis) for e in queue] == [(r.id, None, "《刑事诉讼法》")]


def test_non_shareable_item_enters_review_queue(session, city):
    items = [i.model_dump() for i in resource_in().items]
    items.append({"name": "宗教信仰", "shareable": False, "legal_basis": "《个人信息保护法》"})
    r = service.create_resource(session, city.police_officer, resource_in(items=items))
    entries = negative.review_queue(session, city.admin)
    assert [(e.resource_id, e.item_name) for e in entries] == [(r.id, "宗教信仰")]


def test_only_the_authority_reviews(session, city):
    r = service.create_resource(session, city.police_officer, resource_in(**NONE_THEME))
    entry = negative.live_entries(session, r)[0]
    with pytest.raises(PermissionDenied):
        negative.decide(session, city.police_officer, entry.id, True, "")
    with pytest.raises(PermissionDenied):
        negative.review_queue(session, city.police_officer)


def test_accepted_entry_is_listed_publicly_with_its_basis(session, city):
    r = publish(session, city, resource_in(**NONE_THEME))
    entry = negative.live_entries(session, r)[0]
    assert negative.public_list(session) == []
    negative.decide(session, city.admin, entry.id, True, "依据充分")
    assert [(e.resource.code, e.legal_basis) for e in negative.public_list(session)] == [
        (r.code, "《刑事诉讼法》")
    ]
    with pytest.raises(Conflict):
        negative.decide(session, city.admin, entry.id, False, "again")


def test_rejection_needs_reason_and_blocks_publishing_until_redeclared(session, city):
    r = service.create_resource(session, city.police_officer, resource_in(**NONE_THEME))
    entry = negative.live_entries(session, r)[0]
    with pytest.raises(ValidationFailed):
        negative.decide(session, city.admin, entry.id, False, "")
    negative.decide(session, city.admin, entry.id, False, "依据不足，应有条件共享")
    service.submit(session, city.police_officer, r.code)
    with pytest.raises(Conflict) as err:
        service.publish(session, city.admin, r.code)
    assert err.value.code == "negative_declaration_rejected"
    service.return_to_draft(session, city.admin, r.code, "请重新申报")
    redeclared = NONE_THEME | dict(sharing_type="conditional", sharing_condition="仅限司法机关", legal_basis="",
                                   sharing_methods=["online_query"])  # fmt: skip
    service.update_resource(session, city.police_officer, r.code, resource_in(**redeclared))
    assert negative.live_entries(session, r) == []
    assert session.get(NegativeListEntry, entry.id).status == "superseded"
    service.submit(session, city.police_officer, r.code)
    assert service.publish(session, city.admin, r.code).status == "published"


def test_base_class_basic_items_need_approval_before_publishing(session, city):
    items = [i.model_dump() for i in resource_in().items]
    items[1].update(shareable=False, legal_basis="内部规定")  # 姓名 is a basic item of 人口
    r = service.create_resource(session, city.police_officer, resource_in(items=items))
    service.submit(session, city.police_officer, r.code)
    with pytest.raises(Conflict) as err:
        service.publish(session, city.admin, r.code)
    assert err.value.code == "basic_items_need_approval"
    entry = negative.live_entries(session, r)[0]
    assert entry.basic_item
    negative.decide(session, city.admin, entry.id, True, "经审核同意")
    assert service.publish(session, city.admin, r.code).status == "published"


def test_non_base_none_resource_can_publish_while_review_pending(session, city):
    r = publish(session, city, resource_in(**NONE_THEME))
    assert r.status == "published"
    assert negative.live_entries(session, r)[0].status == "pending"


def test_changing_legal_basis_starts_a_new_review(session, city):
    r = service.create_resource(session, city.police_officer, resource_in(**NONE_THEME))
    first = negative.live_entries(session, r)[0]
    service.update_resource(
        session, city.police_officer, r.code, resource_in(**NONE_THEME | {"legal_basis": "新依据"})
    )
    live = negative.live_entries(session, r)
    assert [e.legal_basis for e in live] == ["新依据"]
    assert session.get(NegativeListEntry, first.id).status == "superseded"


# --- search ----------------------------------------------------------------------------------------


def test_search_finds_chinese_words_in_name_summary_and_items(session, city):
    pop = publish(session, city)
    lic = publish(
        session,
        city,
        resource_in(
            classification_code="105", name="市场主体电子证照", summary="企业证照", subject_key_type="credit_code",
            items=[{"name": "统一社会信用代码", "is_key": True}, {"name": "营业执照", "data_type": "G"}],
        ),
    )  # fmt: skip
    names = lambda q, **f: [r.name for r in search.search(session, q, search.Filters(**f)).resources]  # noqa: E731
    assert names("人口") == [pop.name]
    assert names("营业执照") == [lic.name]
    assert names("户籍") == [pop.name]  # from the summary
    assert names("人口信息") == [pop.name]  # 60 % of the bigrams suffice
    assert names("不存在的东西") == []
    assert names("人口", sharing_type="conditional") == []
    assert names("", classification="105") == [lic.name]
    assert names("", provider_code=city.police.code) == [pop.name, lic.name]


def test_search_ranks_name_matches_above_summary_matches(session, city):
    in_summary = publish(session, city, resource_in(name="户籍登记", summary="涉及人口迁移"))
    in_name = publish(session, city, resource_in(name="流动人口", summary="居住登记"))
    result = search.search(session, "人口")
    assert [r.code for r in result.resources] == [in_name.code, in_summary.code]
    assert result.scores[0] > result.scores[1]


def test_search_excludes_drafts_and_paginates(session, city):
    for n in range(5):
        publish(session, city, resource_in(name=f"人口专题{n}"))
    service.create_resource(session, city.police_officer, resource_in(name="人口草稿"))
    page1 = search.search(session, "人口", page=1, page_size=2)
    page3 = search.search(session, "人口", page=3, page_size=2)
    assert page1.total == 5 and len(page1.resources) == 2 and len(page3.resources) == 1
    assert "人口草稿" not in [r.name for r in page1.resources + page3.resources]


def test_search_index_follows_updates(session, city):
    r = publish(session, city)
    service.update_resource(
        session, city.police_officer, r.code, resource_in(name="居民身份信息", summary="居民身份")
    )
    assert search.search(session, "居民").total == 1
    assert search.search(session, "人口").total == 0


def test_one_character_query_finds_words_ending_with_it(session, city):
    permit = publish(session, city, resource_in(name="建设工程规划许可证", summary="规划审批"))
    assert [r.code for r in search.search(session, "证").resources] == [permit.code]
