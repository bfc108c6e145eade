"""Chinese full-text search over the catalog (name, summary, item names).

Why our own small inverted index rather than SQLite FTS5 / PostgreSQL tsvector: Chinese has no
spaces, FTS5's trigram tokenizer cannot match two-character words (人口) and PostgreSQL ships no
Chinese parser; one table of CJK bigrams (the approach of Lucene's CJKAnalyzer) behaves and ranks
identically on both databases and is fast with a B-tree on (term, resource).

Ranking: a term found in the name weighs 10, in an item name 4, in the summary 1; a resource whose
name contains the whole query gets a bonus. A query of n ≥ 3 bigrams matches resources holding at
least 60 % of them, so 人口信息 still finds 人口基础信息 (ranked below exact matches).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, and_, case, delete, func, insert, literal, select, union_all
from sqlalchemy.orm import Session

from govshare.auth.models import Department
from govshare.catalog.models import Resource, ResourceStatus, SearchTerm

NAME_WEIGHT, ITEM_WEIGHT, SUMMARY_WEIGHT = 10, 4, 1
PHRASE_BONUS = 50
MIN_SHARE = 0.6
TERM_MAX = 32


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC) and lower case, so ＧＩＳ and gis are one term."""
    return unicodedata.normalize("NFKC", text).lower()


def _runs(text: str) -> Iterable[tuple[bool, str]]:
    """Split text into (is_cjk, run) pieces; punctuation and spaces separate runs."""
    run: list[str] = []
    run_cjk = False
    for ch in normalize(text):
        cjk = _is_cjk(ch)
        if cjk or ch.isalnum():
            if run and cjk != run_cjk:
                yield run_cjk, "".join(run)
                run = []
            run_cjk = cjk
            run.append(ch)
        elif run:
            yield run_cjk, "".join(run)
            run = []
    if run:
        yield run_cjk, "".join(run)


def tokenize(text: str, *, for_index: bool = False) -> list[str]:
    """Terms of ``text``: CJK bigrams (a lone character stays a unigram) and Latin/digit words.

    ``for_index`` also keeps the last character of each CJK run as a unigram: a one-character query
    matches terms that start with it, and the run's last character starts no bigram (证 in 许可证).
    """
    terms: list[str] = []
    for cjk, run in _runs(text):
        if cjk and len(run) > 1:
            terms.extend(run[i : i + 2] for i in range(len(run) - 1))
            if for_index:
                terms.append(run[-1])
        else:
            terms.append(run[:TERM_MAX])
    return terms


def resource_terms(name: str, summary: str, item_names: Iterable[str]) -> dict[str, int]:
    """Term → weight for one resource; a term counts once per field it appears in."""
    weights: dict[str, int] = {}
    fields = [(name, NAME_WEIGHT), (summary, SUMMARY_WEIGHT), (" ".join(item_names), ITEM_WEIGHT)]
    for text, weight in fields:
        for term in set(tokenize(text, for_index=True)):
            weights[term] = weights.get(term, 0) + weight
    return weights


def index_resource(session: Session, resource: Resource) -> None:
    """(Re)build the index rows of one resource, inside the caller's transaction."""
    session.execute(delete(SearchTerm).where(SearchTerm.resource_id == resource.id))
    terms = resource_terms(resource.name, resource.summary, (i.name for i in resource.items))
    if terms:
        session.execute(
            insert(SearchTerm),
            [{"term": t, "resource_id": resource.id, "weight": w} for t, w in terms.items()],
        )


@dataclass(frozen=True)
class Filters:
    provider_code: str | None = None
    classification: str | None = None  # a prefix: 1 (all base), 101 (人口) …
    sharing_type: str | None = None
    update_cycle: str | None = None
    open_to_public: bool | None = None
    status: str | None = ResourceStatus.PUBLISHED.value  # None: any status


@dataclass
class SearchResult:
    total: int
    resources: list[Resource]
    scores: list[int]


def _term_condition(term: str):  # type: ignore[no-untyped-def]
    # A lone character or a Latin word also matches longer terms that start with it (a B-tree range).
    if len(term) == 1 or not _is_cjk(term[0]):
        return and_(SearchTerm.term >= term, SearchTerm.term < term + "\uffff")
    return SearchTerm.term == term


def _apply_filters(stmt: Select, filters: Filters) -> Select:  # type: ignore[type-arg]
    if filters.status:
        stmt = stmt.where(Resource.status == filters.status)
    if filters.provider_code:
        stmt = stmt.join(Department, Department.id == Resource.provider_id).where(
            Department.code == filters.provider_code
        )
    if filters.classification:
        stmt = stmt.where(Resource.classification_code.startswith(filters.classification, autoescape=True))
    if filters.sharing_type:
        stmt = stmt.where(Resource.sharing_type == filters.sharing_type)
    if filters.update_cycle:
        stmt = stmt.where(Resource.update_cycle == filters.update_cycle)
    if filters.open_to_public is not None:
        stmt = stmt.where(Resource.open_to_public == filters.open_to_public)
    return stmt


def search(
    session: Session, query: str, filters: Filters = Filters(), page: int = 1, page_size: int = 20
) -> SearchResult:
    """Search the catalog; without a query, list by code. ``page`` starts at 1."""
    terms = list(dict.fromkeys(tokenize(query)))
    offset = (page - 1) * page_size
    if not terms:
        base = _apply_filters(select(Resource.id), filters)
        total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
        rows = session.scalars(
            _apply_filters(select(Resource), filters).order_by(Resource.code).offset(offset).limit(page_size)
        ).all()
        return SearchResult(total, list(rows), [0] * len(rows))

    matched = _matched(terms)
    phrase = normalize(query).strip()
    bonus = case(
        (func.lower(Resource.name).contains(phrase, autoescape=True), literal(PHRASE_BONUS)), else_=0
    )
    rank = (matched.c.score + matched.c.hits * 100 + bonus).label("rank")
    # One pass over the matches: the page of ids with the total as a window count. Only the page's
    # rows are then loaded (with their provider and items), instead of sorting every match's full
    # row joined with its department, and matching everything a second time to count it.
    page_ids = _apply_filters(
        select(Resource.id, rank, func.count().over().label("total")).join(
            matched, matched.c.rid == Resource.id
        ),
        filters,
    )
    rows = session.execute(
        page_ids.order_by(rank.desc(), Resource.code).offset(offset).limit(page_size)
    ).all()
    if rows:
        total = rows[0].total
    else:  # past the last page (or nothing found): the window count has no row to ride on
        counted = _apply_filters(select(Resource.id).join(matched, matched.c.rid == Resource.id), filters)
        total = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    loaded = {r.id: r for r in session.scalars(select(Resource).where(Resource.id.in_([r.id for r in rows])))}
    return SearchResult(total, [loaded[r.id] for r in rows], [int(r.rank) for r in rows])


def _matched(terms: list[str]):  # type: ignore[no-untyped-def]
    """Resources holding enough of ``terms``: (rid, score, hits)."""
    # (term, resource_id) is the primary key, so an exact bigram has at most one row per resource:
    # all of them are one IN scan with no GROUP BY. A prefix term (a lone character, a Latin word)
    # can hit several terms of one resource, so it keeps its own max-per-resource.
    exact = [t for t in terms if len(t) > 1 and _is_cjk(t[0])]
    parts = []
    if exact:
        parts.append(
            select(SearchTerm.resource_id.label("rid"), SearchTerm.weight.label("w")).where(
                SearchTerm.term.in_(exact)
            )
        )
    parts += [
        select(SearchTerm.resource_id.label("rid"), func.max(SearchTerm.weight).label("w"))
        .where(_term_condition(t))
        .group_by(SearchTerm.resource_id)
        for t in terms
        if t not in exact
    ]
    per_term = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    need = len(terms) if len(terms) < 3 else math.ceil(len(terms) * MIN_SHARE)
    return (
        select(per_term.c.rid, func.sum(per_term.c.w).label("score"), func.count().label("hits"))
        .group_by(per_term.c.rid)
        .having(func.count() >= need)
        .subquery()
    )
