"""DCAT-AP export of the published catalog (目录的 DCAT-AP 3.0.0 导出), as Turtle or JSON-LD.

``build_graph`` is a pure function of the published resources and the platform's ``base_url``; it
describes the catalog (dcat:Catalog), each resource (dcat:Dataset), its API distribution
(dcat:Distribution) and the exchange API that serves them all (dcat:DataService), with EU
controlled vocabularies wherever our metadata maps onto one. The mappings are tabled in
docs/interop.md.

URIs are stable: ``{base_url}/catalog`` for the catalog, ``{base_url}/catalog/resources/{code}``
for a dataset (codes keep their "/"), ``…/{code}/distributions/api`` for its distribution,
``{base_url}/catalog/services/exchange-api`` for the API and ``{base_url}/departments/{credit
code}`` for a publisher.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD
from rdflib.plugins.serializers.turtle import TurtleSerializer
from rdflib.term import Node
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.auth.models import Department, Role, User
from govshare.catalog import classification, vocab
from govshare.catalog.models import Resource, ResourceStatus, SharingType

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
FREQUENCY = Namespace(EU + "frequency/")
ACCESS_RIGHT = Namespace(EU + "access-right/")
FILE_TYPE = Namespace(EU + "file-type/")
LANGUAGE = Namespace(EU + "language/")
DATA_THEME = Namespace(EU + "data-theme/")
PUBLISHER_TYPE = Namespace("http://purl.org/adms/publishertype/")
MEDIA_TYPE = Namespace("https://www.iana.org/assignments/media-types/")

# 更新周期 → EU frequency. 实时 data changes continuously, which the EU table calls UPDATE_CONT.
FREQUENCIES: dict[str, str] = {
    "realtime": "UPDATE_CONT",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "semiannual": "ANNUAL_2",
    "yearly": "ANNUAL",
    "irregular": "IRREG",
}

# 分类 (类+项) → EU data theme; 部门信息资源 (类 3) has no fixed subject and gets no theme.
THEMES: dict[str, str] = {
    "101": "SOCI", "102": "ECON", "103": "ENVI", "104": "ECON", "105": "GOVE", "106": "REGI", "107": "ECON",
    "201": "GOVE", "202": "HEAL", "203": "SOCI", "204": "HEAL", "205": "JUST", "206": "ECON", "207": "ENER",
    "208": "ECON", "209": "REGI", "210": "SOCI", "211": "ENVI", "212": "JUST", "213": "ECON",
}  # fmt: skip
THEME_LABELS: dict[str, str] = {
    "SOCI": "Population and society", "ECON": "Economy and finance", "ENVI": "Environment",
    "GOVE": "Government and public sector", "REGI": "Regions and cities", "HEAL": "Health",
    "JUST": "Justice, legal system and public safety", "ENER": "Energy",
}  # fmt: skip

KEYWORD_LIMIT = 12

CONTEXT: dict[str, str] = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "vcard": str(VCARD),
    "skos": str(SKOS),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
}


def access_right(resource: Resource) -> str:
    """EU access-right code: open data is PUBLIC; shared only among departments (无条件 or 有条件) is
    RESTRICTED, because the public cannot read it; 不予共享 is NON_PUBLIC."""
    if resource.sharing_type == SharingType.NONE:
        return "NON_PUBLIC"
    return "PUBLIC" if resource.open_to_public else "RESTRICTED"


def frequency(update_cycle: str) -> str | None:
    """EU frequency code for a 更新周期, or None when the cycle is not one of ours."""
    return FREQUENCIES.get(update_cycle)


def theme(classification_code: str) -> str | None:
    return THEMES.get(classification_code[:3])


def keywords(resource: Resource, limit: int = KEYWORD_LIMIT) -> list[str]:
    """The classification's name, then item names, de-duplicated; shared by DCAT and CKAN tags."""
    parsed = classification.parse(resource.classification_code)
    words = [parsed.subclass_name] if parsed and parsed.subclass_name and parsed.code[0] != "3" else []
    words += [i.name for i in resource.items]
    return list(dict.fromkeys(w for w in words if w))[:limit]


class Uris:
    """The stable URIs of everything the export describes."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.catalog = URIRef(f"{self.base}/catalog")
        self.service = URIRef(f"{self.base}/catalog/services/exchange-api")
        self.vocabulary = Namespace(f"{self.base}/ns#")
        self.classification_scheme = URIRef(f"{self.base}/catalog/classification")

    def dataset(self, code: str) -> URIRef:
        return URIRef(f"{self.base}/catalog/resources/{code}")

    def distribution(self, code: str) -> URIRef:
        return URIRef(f"{self.base}/catalog/resources/{code}/distributions/api")

    def publisher(self, department: Department) -> URIRef:
        return URIRef(f"{self.base}/departments/{department.code}")

    def concept(self, classification_code: str) -> URIRef:
        return URIRef(f"{self.classification_scheme}/{classification_code}")

    def api_detail(self, code: str) -> str:
        return f"{self.base}/api/v1/catalog/resources/{code}"


def _zh(text: str) -> Literal:
    return Literal(text, lang="zh")


def _when(value: datetime) -> Literal:
    return Literal(value.astimezone(UTC).replace(microsecond=0), datatype=XSD.dateTime)


class _Builder:
    def __init__(self, base_url: str) -> None:
        self.uris = Uris(base_url)
        self.g = Graph(bind_namespaces="core")
        for prefix, ns in CONTEXT.items():
            self.g.bind(prefix, ns)
        self.g.bind("gs", self.uris.vocabulary)
        self.agents: set[URIRef] = set()
        self.concepts: set[URIRef] = set()

    def typed(self, uri: URIRef, cls: URIRef) -> URIRef:
        """A vocabulary term we reference, typed as the shapes demand (they validate with RDFS only)."""
        self.g.add((uri, RDF.type, cls))
        return uri

    def concept(self, uri: URIRef, label: Literal) -> URIRef:
        """A skos:Concept needs a prefLabel to conform; label each concept once."""
        if uri not in self.concepts:
            self.concepts.add(uri)
            self.g.add((uri, RDF.type, SKOS.Concept))
            self.g.add((uri, SKOS.prefLabel, label))
        return uri

    def agent(self, department: Department) -> URIRef:
        uri = self.uris.publisher(department)
        if uri not in self.agents:
            self.agents.add(uri)
            g = self.g
            g.add((uri, RDF.type, FOAF.Agent))
            g.add((uri, RDF.type, FOAF.Organization))
            g.add((uri, FOAF.name, _zh(department.name)))
            g.add((uri, DCTERMS.identifier, Literal(department.code)))
            kind = self.concept(PUBLISHER_TYPE.LocalAuthority, Literal("Local Authority", lang="en"))
            g.add((uri, DCTERMS.type, kind))
        return uri

    def contact(self, resource: Resource, dataset: URIRef) -> None:
        # Entries without a named contact are answered by the providing department.
        node = URIRef(f"{dataset}#contact")
        g = self.g
        g.add((dataset, DCAT.contactPoint, node))
        g.add((node, RDF.type, VCARD.Kind))
        g.add((node, VCARD.fn, _zh(resource.contact_name or resource.provider.name)))
        g.add((node, VCARD["organization-name"], _zh(resource.provider.name)))
        if resource.contact_email:
            g.add((node, VCARD.hasEmail, URIRef(f"mailto:{resource.contact_email.strip()}")))
        phone = "".join(ch for ch in resource.contact_phone if ch.isdigit() or ch in "+-")
        if phone:
            g.add((node, VCARD.hasTelephone, URIRef(f"tel:{phone}")))

    def dataset(self, resource: Resource, exported: set[str]) -> URIRef:
        g, uris = self.g, self.uris
        ds = uris.dataset(resource.code)
        g.add((uris.catalog, DCAT.dataset, ds))
        g.add((ds, RDF.type, DCAT.Dataset))
        g.add((ds, DCTERMS.title, _zh(resource.name)))
        g.add((ds, DCTERMS.description, _zh(resource.summary)))
        g.add((ds, DCTERMS.identifier, Literal(resource.code)))
        g.add((ds, DCTERMS.publisher, self.agent(resource.provider)))
        g.add((ds, DCTERMS.language, self.typed(LANGUAGE.ZHO, DCTERMS.LinguisticSystem)))
        rights = self.typed(ACCESS_RIGHT[access_right(resource)], DCTERMS.RightsStatement)
        g.add((ds, DCTERMS.accessRights, rights))
        if (freq := frequency(resource.update_cycle)) is not None:
            g.add((ds, DCTERMS.accrualPeriodicity, self.typed(FREQUENCY[freq], DCTERMS.Frequency)))
        if resource.publish_date is not None:
            g.add((ds, DCTERMS.issued, Literal(resource.publish_date, datatype=XSD.date)))
        g.add((ds, DCTERMS.modified, _when(resource.updated_at)))
        for word in keywords(resource):
            g.add((ds, DCAT.keyword, _zh(word)))
        if (code := theme(resource.classification_code)) is not None:
            g.add((ds, DCAT.theme, self.concept(DATA_THEME[code], Literal(THEME_LABELS[code], lang="en"))))
        if (parsed := classification.parse(resource.classification_code)) is not None:
            concept = self.concept(uris.concept(parsed.code), _zh(parsed.label))
            g.add((concept, SKOS.notation, Literal(parsed.code)))
            g.add((concept, SKOS.inScheme, uris.classification_scheme))
            g.add((ds, DCAT.theme, concept))
        for related in resource.related_codes:
            if related in exported:
                g.add((ds, DCTERMS.relation, uris.dataset(related)))
        self.contact(resource, ds)
        self.govshare_terms(resource, ds)
        # 不予共享: catalogued (the negative list is public) but no way to obtain the data.
        if resource.sharing_type != SharingType.NONE:
            self.distribution(resource, ds)
            g.add((uris.service, DCAT.servesDataset, ds))
        return ds

    def govshare_terms(self, resource: Resource, ds: URIRef) -> None:
        """Our national metadata that DCAT has no property for (documented in docs/interop.md)."""
        gs, g = self.uris.vocabulary, self.g
        g.add((ds, gs.sharingType, Literal(str(resource.sharing_type))))
        g.add((ds, gs.sharingTypeLabel, _zh(vocab.SHARING_TYPE_LABELS[str(resource.sharing_type)])))
        if resource.sharing_condition:
            g.add((ds, gs.sharingCondition, _zh(resource.sharing_condition)))
        if resource.legal_basis:
            g.add((ds, gs.legalBasis, _zh(resource.legal_basis)))
        g.add((ds, gs.openToPublic, Literal(resource.open_to_public)))
        g.add((ds, gs.updateCycle, Literal(resource.update_cycle)))
        g.add((ds, gs.resourceFormat, _zh(vocab.FORMATS.get(resource.format, resource.format))))
        g.add((ds, gs.classificationCode, Literal(resource.classification_code)))

    def distribution(self, resource: Resource, ds: URIRef) -> None:
        g = self.g
        dist = self.uris.distribution(resource.code)
        g.add((ds, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCTERMS.title, _zh(f"{resource.name}（接口查询）")))
        g.add(
            (dist, DCTERMS.description, _zh("通过共享平台接口按授权查询、核验；须先提交共享申请并获得授权。"))
        )
        g.add((dist, DCAT.accessURL, URIRef(self.uris.api_detail(resource.code))))
        g.add((dist, DCAT.accessService, self.uris.service))
        g.add((dist, DCTERMS["format"], self.typed(FILE_TYPE.JSON, DCTERMS.MediaTypeOrExtent)))
        g.add((dist, DCAT.mediaType, self.typed(MEDIA_TYPE["application/json"], DCTERMS.MediaType)))
        statement = URIRef(f"{dist}#rights")
        label = vocab.SHARING_TYPE_LABELS[str(resource.sharing_type)]
        condition = resource.sharing_condition if resource.sharing_condition != "无条件" else ""
        g.add((statement, RDF.type, DCTERMS.RightsStatement))
        g.add((statement, RDFS.label, _zh(f"{label}：{condition}" if condition else label)))
        g.add((dist, DCTERMS.rights, statement))

    def catalog(self, publisher: Department | None, modified: datetime | None) -> None:
        g, uris = self.g, self.uris
        cat = uris.catalog
        g.add((cat, RDF.type, DCAT.Catalog))
        g.add((cat, DCTERMS.title, _zh("政务信息资源目录")))
        g.add((cat, DCTERMS.title, Literal("Government information resource catalog", lang="en")))
        g.add((cat, DCTERMS.description, _zh("本平台已发布的政务信息资源目录，供各部门检索与申请共享。")))
        g.add((cat, DCTERMS.language, self.typed(LANGUAGE.ZHO, DCTERMS.LinguisticSystem)))
        g.add((cat, FOAF.homepage, self.typed(URIRef(uris.base + "/"), FOAF.Document)))
        if publisher is not None:
            g.add((cat, DCTERMS.publisher, self.agent(publisher)))
        if modified is not None:
            g.add((cat, DCTERMS.modified, _when(modified)))
        g.add((cat, DCAT.service, uris.service))
        for scheme, title in (
            (URIRef(str(DATA_THEME)[:-1]), Literal("Data theme", lang="en")),
            (uris.classification_scheme, _zh("政务信息资源分类")),
        ):
            g.add((cat, DCAT.themeTaxonomy, self.typed(scheme, SKOS.ConceptScheme)))
            g.add((scheme, DCTERMS.title, title))
        svc = uris.service
        g.add((svc, RDF.type, DCAT.DataService))
        g.add((svc, DCTERMS.title, _zh("政务信息资源共享交换接口")))
        g.add((svc, DCTERMS.description, _zh("凭接入应用凭证与有效授权调用的查询、核验、订阅接口。")))
        g.add((svc, DCAT.endpointURL, URIRef(f"{uris.base}/api/v1")))
        g.add((svc, DCAT.endpointDescription, URIRef(f"{uris.base}/openapi.json")))
        g.add((svc, DCTERMS.accessRights, self.typed(ACCESS_RIGHT.RESTRICTED, DCTERMS.RightsStatement)))
        if publisher is not None:
            g.add((svc, DCTERMS.publisher, self.agent(publisher)))


def build_graph(resources: Sequence[Resource], base_url: str, publisher: Department | None = None) -> Graph:
    """The DCAT-AP graph of ``resources`` (callers pass only published ones).

    ``publisher`` is the platform authority that runs the catalog; DCAT-AP requires a catalog
    publisher, so without one the first provider stands in.
    """
    builder = _Builder(base_url)
    publisher = publisher or (resources[0].provider if resources else None)
    modified = max((r.updated_at for r in resources), default=None)
    builder.catalog(publisher, modified)
    exported = {r.code for r in resources}
    for resource in sorted(resources, key=lambda r: r.code):
        builder.dataset(resource, exported)
    return builder.g


class _Turtle(TurtleSerializer):
    """rdflib's Turtle writer seeks a prefixed name for every URI and indexes each namespace it
    meets, which grows quadratically with the catalog (45 s for 2,000 entries). Only the bound
    vocabularies have prefixes, so other URIs skip the search: the same output in linear time."""

    def __init__(self, graph: Graph) -> None:
        super().__init__(graph)
        self.bound = tuple(str(ns) for _, ns in graph.namespaces())

    def get_pname(self, uri: Node, gen_prefix: bool = True) -> str | None:
        if isinstance(uri, URIRef) and not str.startswith(uri, self.bound):
            return None
        return super().get_pname(uri, gen_prefix=False)


def to_turtle(graph: Graph) -> str:
    out = io.BytesIO()
    _Turtle(graph).serialize(out, encoding="utf-8")
    return out.getvalue().decode("utf-8")


def to_jsonld(graph: Graph, base_url: str) -> str:
    """JSON-LD compacted with a small inline @context (prefixes only), so it parses offline."""
    context = {**CONTEXT, "gs": str(Uris(base_url).vocabulary)}
    data = json.loads(graph.serialize(format="json-ld", context=context, auto_compact=True))
    return json.dumps(data, ensure_ascii=False, indent=2)


def published_resources(session: Session) -> list[Resource]:
    """Every published entry, with provider and items loaded (retired and drafts are never exported)."""
    stmt = select(Resource).where(Resource.status == ResourceStatus.PUBLISHED).order_by(Resource.code)
    return list(session.scalars(stmt))


def platform_authority(session: Session) -> Department | None:
    """The department whose users run the platform (数据管理部门): the catalog's publisher."""
    stmt = select(Department).join(User, User.department_id == Department.id)
    return session.scalar(stmt.where(User.role == Role.AUTHORITY).order_by(Department.id).limit(1))


def export(session: Session, base_url: str) -> Graph:
    """The DCAT-AP graph of everything published on this platform."""
    return build_graph(published_resources(session), base_url, platform_authority(session))
