"""The DCAT-AP export: it conforms to the official DCAT-AP 3.0.0 shapes and maps our metadata faithfully."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib import namespace as ns
from rdflib.compare import isomorphic

from govshare.catalog import dcat, service
from tests.factories import publish, resource_in

SHAPES = Path(__file__).parents[3] / "shared" / "reference" / "dcat-ap-3.0.0-shacl.ttl"
BASE = "http://testserver"
EU = "http://publications.europa.eu/resource/authority/"


@cache
def shapes() -> Graph:
    return Graph().parse(SHAPES, format="turtle")


def validate(graph: Graph) -> tuple[bool, str]:
    conforms, _, text = pyshacl.validate(graph, shacl_graph=shapes(), inference="rdfs")
    return bool(conforms), str(text)


def violations(graph: Graph) -> set[tuple[str, str, str]]:
    """(focus node, path, constraint) of every violation the validator reports."""
    _, results, _ = pyshacl.validate(graph, shacl_graph=shapes(), inference="rdfs")
    sh = ns.SH
    return {
        (str(results.value(r, sh.focusNode)), str(results.value(r, sh.resultPath)),
         str(results.value(r, sh.sourceConstraintComponent)))
        for r in results.subjects(ns.RDF.type, sh.ValidationResult)
    }  # fmt: skip


@pytest.fixture
def catalog(session, city):
    """Three published entries (one per sharing type) and a draft, a submitted and a retired one."""
    published = {
        "population": publish(
            session, city, city.police_officer, update_cycle="realtime",
            contact_name="户政处", contact_email="huzheng@example.gov.cn", contact_phone="0755-8888 1234",
        ),
        "companies": publish(
            session, city, city.market_officer, classification_code="102", name="法人单位基础信息",
            subject_key_type="credit_code", sharing_type="conditional", sharing_condition="仅用于办理登记事项",
            update_cycle="semiannual", open_to_public=False,
            items=[{"name": "统一社会信用代码", "is_key": True}, {"name": "企业名称"}],
        ),
        "licences": publish(
            session, city, city.market_officer, classification_code="105", name="营业执照电子证照",
            subject_key_type="certificate_id", open_to_public=True, update_cycle="irregular",
            items=[{"name": "电子证照标识", "is_key": True}],
        ),
        "cases": publish(
            session, city, city.police_officer, classification_code="212", name="刑事案件侦查信息",
            sharing_type="none", sharing_condition="", legal_basis="《中华人民共和国刑事诉讼法》",
            subject_key_type="none", update_cycle="yearly", items=[{"name": "案件编号", "is_key": True}],
        ),
    }  # fmt: skip
    service.create_resource(session, city.police_officer, resource_in(name="草稿资源"))
    submitted = service.create_resource(session, city.police_officer, resource_in(name="待审核资源"))
    service.submit(session, city.police_officer, submitted.code)
    retired = publish(session, city, city.police_officer, name="已撤销资源")
    service.retire(session, city.police_officer, retired.code, "职能调整")
    return published


def dataset(resource) -> URIRef:
    return URIRef(f"{BASE}/catalog/resources/{resource.code}")


@pytest.mark.parametrize("fmt", ["turtle", "json-ld"])
def test_export_conforms_to_dcat_ap_3_shapes(session, catalog, fmt):
    graph = dcat.export(session, BASE)
    text = dcat.to_turtle(graph) if fmt == "turtle" else dcat.to_jsonld(graph, BASE)
    parsed = Graph().parse(data=text, format=fmt)
    assert isomorphic(parsed, graph)  # our Turtle writer and rdflib's JSON-LD lose nothing
    conforms, report = validate(parsed)
    assert conforms, report


def test_empty_catalog_still_conforms(session, city):
    conforms, report = validate(dcat.export(session, BASE))
    assert conforms, report


def test_validator_rejects_a_dataset_without_title(session, catalog):
    graph = dcat.export(session, BASE)
    graph.remove((dataset(catalog["population"]), ns.DCTERMS.title, None))
    assert violations(graph) == {
        (str(dataset(catalog["population"])), str(ns.DCTERMS.title), str(ns.SH.MinCountConstraintComponent))
    }


def test_only_published_entries_are_exported(session, catalog):
    graph = dcat.export(session, BASE)
    exported = set(graph.subjects(ns.RDF.type, ns.DCAT.Dataset))
    titles = {str(graph.value(d, ns.DCTERMS.title)) for d in exported}
    assert exported == {dataset(r) for r in catalog.values()}
    assert not {"草稿资源", "待审核资源", "已撤销资源"} & titles
    assert set(graph.objects(URIRef(f"{BASE}/catalog"), ns.DCAT.dataset)) == exported


@pytest.mark.parametrize(
    ("key", "right"),
    [
        ("population", "RESTRICTED"),
        ("companies", "RESTRICTED"),
        ("licences", "PUBLIC"),
        ("cases", "NON_PUBLIC"),
    ],
)
def test_access_rights_follow_sharing_type_and_openness(session, catalog, key, right):
    graph = dcat.export(session, BASE)
    assert graph.value(dataset(catalog[key]), ns.DCTERMS.accessRights) == URIRef(f"{EU}access-right/{right}")


def test_sharing_type_kept_as_chinese_literal(session, catalog):
    graph = dcat.export(session, BASE)
    gs = dcat.Uris(BASE).vocabulary
    assert graph.value(dataset(catalog["companies"]), gs.sharingTypeLabel) == Literal("有条件共享", lang="zh")
    rights = graph.value(dcat.Uris(BASE).distribution(catalog["companies"].code), ns.DCTERMS.rights)
    assert "仅用于办理登记事项" in str(
        graph.value(rights, URIRef("http://www.w3.org/2000/01/rdf-schema#label"))
    )


@pytest.mark.parametrize(
    ("cycle", "code"),
    [("realtime", "UPDATE_CONT"), ("daily", "DAILY"), ("weekly", "WEEKLY"), ("monthly", "MONTHLY"),
     ("quarterly", "QUARTERLY"), ("semiannual", "ANNUAL_2"), ("yearly", "ANNUAL"), ("irregular", "IRREG")],
)  # fmt: skip
def test_every_update_cycle_maps_to_an_eu_frequency(cycle, code):
    assert dcat.frequency(cycle) == code


def test_accrual_periodicity_in_the_graph(session, catalog):
    graph = dcat.export(session, BASE)
    freq = f"{EU}frequency/"
    assert graph.value(dataset(catalog["population"]), ns.DCTERMS.accrualPeriodicity) == URIRef(
        freq + "UPDATE_CONT"
    )
    assert graph.value(dataset(catalog["companies"]), ns.DCTERMS.accrualPeriodicity) == URIRef(
        freq + "ANNUAL_2"
    )


def test_publisher_is_the_providing_department_with_its_credit_code(session, city, catalog):
    graph = dcat.export(session, BASE)
    publisher = graph.value(dataset(catalog["companies"]), ns.DCTERMS.publisher)
    assert (publisher, ns.RDF.type, ns.FOAF.Agent) in graph
    assert graph.value(publisher, ns.FOAF.name) == Literal(city.market.name, lang="zh")
    assert graph.value(publisher, ns.DCTERMS.identifier) == Literal(city.market.code)
    # The catalog itself is published by the platform authority.
    catalog_publisher = graph.value(URIRef(f"{BASE}/catalog"), ns.DCTERMS.publisher)
    assert graph.value(catalog_publisher, ns.DCTERMS.identifier) == Literal(city.authority_dept.code)


def test_dataset_core_metadata(session, catalog):
    graph = dcat.export(session, BASE)
    population = catalog["population"]
    ds = dataset(population)
    assert graph.value(ds, ns.DCTERMS.identifier) == Literal(population.code)
    assert graph.value(ds, ns.DCTERMS.title) == Literal("人口基础信息", lang="zh")
    assert graph.value(ds, ns.DCTERMS.language) == URIRef(f"{EU}language/ZHO")
    assert graph.value(ds, ns.DCTERMS.issued).toPython() == population.publish_date
    keywords = {str(k) for k in graph.objects(ds, ns.DCAT.keyword)}
    assert {"人口", "公民身份号码", "姓名"} <= keywords
    contact = graph.value(ds, ns.DCAT.contactPoint)
    vcard = dcat.VCARD
    assert str(graph.value(contact, vcard.fn)) == "户政处"
    assert graph.value(contact, vcard.hasEmail) == URIRef("mailto:huzheng@example.gov.cn")
    assert graph.value(contact, vcard.hasTelephone) == URIRef("tel:0755-88881234")


def test_distribution_points_at_the_api_and_the_exchange_service(session, catalog):
    graph = dcat.export(session, BASE)
    code = catalog["population"].code
    dist = graph.value(dataset(catalog["population"]), ns.DCAT.distribution)
    assert graph.value(dist, ns.DCAT.accessURL) == URIRef(f"{BASE}/api/v1/catalog/resources/{code}")
    assert graph.value(dist, ns.DCTERMS["format"]) == URIRef(f"{EU}file-type/JSON")
    service_uri = graph.value(dist, ns.DCAT.accessService)
    assert graph.value(service_uri, ns.DCAT.endpointURL) == URIRef(f"{BASE}/api/v1")
    assert (service_uri, ns.DCAT.servesDataset, dataset(catalog["population"])) in graph


def test_not_shared_entry_is_catalogued_without_distribution(session, catalog):
    graph = dcat.export(session, BASE)
    assert graph.value(dataset(catalog["cases"]), ns.DCAT.distribution) is None


@pytest.mark.parametrize(
    ("path", "media_type", "fmt"),
    [
        ("/catalog.ttl", "text/turtle", "turtle"),
        ("/catalog.jsonld", "application/ld+json", "json-ld"),
        ("/api/v1/catalog/dcat?format=ttl", "text/turtle", "turtle"),
        ("/api/v1/catalog/dcat?format=jsonld", "application/ld+json", "json-ld"),
    ],
)
def test_dcat_endpoints_serve_the_export(client, catalog, path, media_type, fmt):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    graph = Graph().parse(data=response.text, format=fmt)
    assert len(set(graph.subjects(ns.RDF.type, ns.DCAT.Dataset))) == len(catalog)


def test_dcat_endpoint_rejects_unknown_format(client):
    response = client.get("/api/v1/catalog/dcat?format=xml")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
