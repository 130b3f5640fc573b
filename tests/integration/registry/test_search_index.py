"""The catalogue's search index in the registry's API process
(services/registry/search_index.py): every page it answers is the page the
database's statements give — the same instruments in the same order, the same
scores and totals — on SQLite and PostgreSQL; it follows every refresh of the
read model and a database restored to an earlier generation, both with its
documents in name order (as read: a relevance page in one search) and out of
it (after a refresh, until they are read again: a search per score); where it
cannot order a page exactly, the database answers."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import delete, insert, update

from services.registry import search, search_index, search_index_pages, search_index_schema, search_model
from services.registry.db.instrument_models import instruments, price_items
from services.registry.db.party_models import units
from services.registry.db.search_models import search_docs, search_state, search_terms
from services.registry.domain.synonyms import Dictionary, Entry
from services.runtime.city import packaged_city
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.service import create_database, load_spec

CITY = packaged_city()
COUNTIES = ("411002", "411081", "411023")
#: few names, so that many instruments share a name and a score (ties come by name, then id)
NAMES = ("红外光谱仪", "原子吸收光谱仪", "气相色谱仪", "液相色谱仪", "x射线衍射仪", "扫描电子显微镜", "光谱分析仪")
FUNCTIONS = ("光谱分析", "色谱分离", "元素分析", "x射线探伤", None)
MAKERS = ("岛津", "安捷伦", "赛默飞", None)
CATEGORIES = ("分析仪器", "物理性能测试仪器")


async def _seed(db: ServiceDatabase, n: int, seed: int = 5) -> list[str]:
    """``n`` instruments of three units (one accepting vouchers), some unlisted
    or retired, with 0–2 active prices; the read model built by reindex_all."""
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    unit_ids = [str(uuid.UUID(int=rnd.getrandbits(128))) for _ in COUNTIES]
    ids: list[str] = []
    async with db.unit_of_work() as uow:
        s = uow.session
        for k, (uid, county) in enumerate(zip(unit_ids, COUNTIES, strict=True)):
            await s.execute(
                insert(units).values(
                    id=uid, name=f"许昌检测中心{k}", credit_code=f"{k:018d}", kind="institute", county_code=county,
                    status="approved", accepts_vouchers=k == 0, version=1, created_at=now, updated_at=now,
                )
            )
        for i in range(n):
            iid = str(uuid.UUID(int=rnd.getrandbits(128)))
            ids.append(iid)
            await s.execute(
                insert(instruments).values(
                    id=iid, unit_id=rnd.choice(unit_ids), name=rnd.choice(NAMES), category=rnd.choice(CATEGORIES),
                    model=f"M-{rnd.randint(1, 30)}", manufacturer=rnd.choice(MAKERS), original_value_fen=5_000_000,
                    funding="fiscal_full", acceptance_date=date(2022, 1, 1), duty_exempt=False, classified=False,
                    functions=rnd.choice(FUNCTIONS), status="in_service" if rnd.random() < 0.9 else "retired",
                    must_list=True, listed_on=date(2024, 6, 1) if rnd.random() < 0.9 else None, version=1, created_at=now, updated_at=now,
                )
            )
            for _ in range(rnd.randint(0, 2)):
                await s.execute(
                    insert(price_items).values(
                        id=str(uuid.UUID(int=rnd.getrandbits(128))), instrument_id=iid, unit_id=unit_ids[0], name="样品测试",
                        billing_unit="per_sample", price_fen=rnd.randint(1, 60) * 1000, basis="cost_compensation", active=True,
                        version=1, created_at=now, updated_at=now,
                    )
                )
    await search_model.reindex_all(db)
    return ids


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The index reads the documents a few at a time here: every page crosses chunks."""
    monkeypatch.setattr(search_index, "CHUNK", 7)


@pytest.fixture
async def db(make_settings: Any) -> AsyncIterator[ServiceDatabase]:
    settings = await make_settings(["registry"])
    database = create_database(load_spec("registry"), settings)
    try:
        yield database
    finally:
        await database.dispose()


def _query(q: str | None, **kw: Any) -> search.SearchQuery:
    return search.parse_query(q, city=CITY, **kw)


async def _by_index(db: ServiceDatabase, q: search.SearchQuery, dictionary: Dictionary | None = None) -> tuple[list[Any], int] | None:
    await search.index_current(db)
    return await search._indexed(db, q, search._groups(q, dictionary or Dictionary([])))


async def _by_database(db: ServiceDatabase, q: search.SearchQuery, monkeypatch: pytest.MonkeyPatch, dictionary: Dictionary | None = None) -> tuple[list[Any], int]:
    with monkeypatch.context() as m:
        m.setattr(search, "INDEX_ENABLED", False)
        return await search._run(db, q, dictionary or Dictionary([]))


def _shown(page: tuple[list[Any], int] | None) -> tuple[list[tuple[str, int]], int]:
    assert page is not None, "the index did not answer"
    items, total = page
    return [(i.instrument_id, i.score) for i in items], total


QUERIES: list[dict[str, Any]] = [
    {},
    {"q": "光谱"},
    {"q": "色谱"},
    {"q": "x射线"},
    {"q": "光谱 分析"},
    {"q": "岛津"},
    {"q": "光谱", "category": "分析仪器"},
    {"q": "光谱", "county_code": "411081"},
    {"q": "色谱", "price_max_fen": 20_000},
    {"q": "光谱", "price_min_fen": 30_000},
    {"q": "光谱", "accepts_vouchers": True},
    {"category": "物理性能测试仪器"},
    {"q": "光谱", "sort": "name"},
    {"sort": "name", "county_code": "411002"},
    {"q": "不存在的词"},
]


async def _refresh(db: ServiceDatabase, ids: list[str]) -> None:
    """The documents of ``ids`` refreshed, unchanged: the index adds them again,
    after the others (out of name order), and searches with them so."""
    async with db.unit_of_work() as uow:
        for iid in ids:
            await search_model.refresh_instrument(uow.session, iid)
    search._caches.pop(db, None)  # the generation is read again at once
    await search.index_current(db)
    assert not search._index(db).in_name_order


async def _retire(db: ServiceDatabase, ids: list[str]) -> None:
    """The instruments of ``ids`` retired: the index deletes their documents and
    keeps the others in name order."""
    async with db.unit_of_work() as uow:
        await uow.session.execute(update(instruments).where(instruments.c.id.in_(ids)).values(status="retired"))
        for iid in ids:
            await search_model.refresh_instrument(uow.session, iid)
    search._caches.pop(db, None)
    await search.index_current(db)
    assert search._index(db).in_name_order


@pytest.mark.parametrize("state", ["as read", "as read, one search a page", "after a refresh", "after a refresh, deep pages", "order unknown", "after retirements"])
async def test_every_page_is_the_databases_page(db: ServiceDatabase, monkeypatch: pytest.MonkeyPatch, state: str) -> None:
    ids = await _seed(db, 300)
    await search.index_current(db)
    assert search._index(db).in_name_order
    if state == "as read, one search a page":  # a query giving more scores than are searched one by one
        monkeypatch.setattr(search_index_pages, "LEVEL_SEARCHES", 1)
    if state.startswith("after a refresh"):  # a third of the documents follow the rest, each tie's order then differs from the names'
        await _refresh(db, ids[::3])
        assert search._index(db)._store.moved  # searched apart, merged by name
        if state.endswith("deep pages"):  # past the merged places, ordered by the name key field
            monkeypatch.setattr(search_index_pages, "MERGED_PLACES", 14)
    if state == "order unknown":  # as after a reading that was out of order: by the name key field
        await _refresh(db, ids[::3])
        search._index(db)._store.moved = None
    if state == "after retirements":  # deleted documents keep their places and their postings until read again
        await _retire(db, ids[1::10])
    for params in QUERIES:
        for page_size in (7, 20):
            for page in (1, 2, 3, 9):
                q = _query(params.get("q"), **{k: v for k, v in params.items() if k != "q"}, page=page, page_size=page_size)
                assert _shown(await _by_index(db, q)) == _shown(await _by_database(db, q, monkeypatch)), (params, page, page_size)
    # what each result shows (prices, unit, county, vouchers, ratings) is the database's too
    for params in ({"q": "光谱"}, {"q": "色谱", "sort": "name"}, {"accepts_vouchers": True}):
        q = _query(params.get("q"), **{k: v for k, v in params.items() if k != "q"}, page_size=50)
        by_index, by_database = await _by_index(db, q), await _by_database(db, q, monkeypatch)
        assert by_index is not None and by_index == by_database and any(i.min_price_fen for i in by_index[0]), params
    # not an empty comparison: 光谱 finds over a hundred, with two scores, each shared by many
    items, total = _shown(await _by_index(db, _query("光谱", page_size=100)))
    rest, _ = _shown(await _by_index(db, _query("光谱", page_size=100, page=2)))
    scores = [score for _, score in items + rest]
    assert total > 100 and len(scores) == total and len(set(scores)) >= 2 and all(scores.count(s) > 5 for s in set(scores))


async def test_the_index_follows_each_refresh_and_a_restore(db: ServiceDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await _seed(db, 40)
    first = _shown(await _by_index(db, _query("光谱", page_size=100)))
    # one instrument renamed to a word nothing else holds: found at once, by the new word only
    target = ids[0]
    async with db.unit_of_work() as uow:
        await uow.session.execute(update(instruments).where(instruments.c.id == target).values(name="核磁共振波谱仪", functions=None, listed_on=date(2024, 6, 1), status="in_service"))
        await search_model.refresh_instrument(uow.session, target)
    search._caches.pop(db, None)  # the generation is read again at once
    renamed = _shown(await _by_index(db, _query("核磁")))
    assert renamed == ([(target, 8)], 1)
    assert target not in [i for i, _ in _shown(await _by_index(db, _query("光谱", page_size=100)))[0]]
    assert _shown(await _by_index(db, _query("光谱", page_size=100))) == _shown(await _by_database(db, _query("光谱", page_size=100), monkeypatch))
    # a restore: the database's generation goes back and a document is gone; the index is rebuilt
    async with db.unit_of_work() as uow:
        await uow.session.execute(delete(search_terms).where(search_terms.c.instrument_id == target))
        await uow.session.execute(delete(search_docs).where(search_docs.c.instrument_id == target))
        await uow.session.execute(update(search_state).values(generation=1))
    search._caches.pop(db, None)
    assert _shown(await _by_index(db, _query("核磁"))) == ([], 0)
    assert first[1] >= 1


async def test_what_the_index_cannot_order_the_database_answers(db: ServiceDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await _seed(db, 120)
    # while the process reads every document the first time, the database answers: no search waits for it
    q = _query("光谱")
    assert await search._indexed(db, q, search._groups(q, Dictionary([]))) is None
    assert _shown(await search._run(db, q, Dictionary([]))) == _shown(await _by_database(db, q, monkeypatch))
    assert _shown(await _by_index(db, q)) == _shown(await _by_database(db, q, monkeypatch))
    # the price orders are the database's
    assert await _by_index(db, _query("光谱", sort="price_asc")) is None
    # too many weight combinations to write the last score's query (here: more than
    # one), where the documents are out of name order
    await _refresh(db, ids[::2])
    many = _query("光谱 分析", page_size=1)
    assert (await _by_database(db, many, monkeypatch))[1] > 1
    assert await _by_index(db, many) is not None
    monkeypatch.setattr(search_index_schema, "MAX_COMBINATIONS", 1)
    assert await _by_index(db, many) is None
    # the whole answer is the same either way
    assert _shown(await search._run(db, many, Dictionary([]))) == _shown(await _by_database(db, many, monkeypatch))


#: the center's dictionary: a keyword matches its forms too, a group scored by its best form
FORMS = Dictionary([Entry("e1", "光谱仪", ("谱仪", "光谱分析")), Entry("e2", "色谱", ("gc", "岛津")), Entry("e3", "x射线", ("衍射仪",))])


@pytest.mark.parametrize("state", ["as read", "after a refresh"])
async def test_pages_with_dictionary_forms_are_the_databases(db: ServiceDatabase, monkeypatch: pytest.MonkeyPatch, state: str) -> None:
    ids = await _seed(db, 300)
    if state == "after a refresh":
        await search.index_current(db)
        await _refresh(db, ids[1::3])
    for text in ("光谱仪", "色谱", "x射线", "色谱 分析", "光谱仪 岛津"):
        for page_size, page in ((7, 1), (7, 3), (20, 2), (100, 1)):
            q = _query(text, page=page, page_size=page_size)
            assert len(search._groups(q, FORMS)[0]) > 1 or text == "色谱 分析"  # forms indeed
            assert _shown(await _by_index(db, q, FORMS)) == _shown(await _by_database(db, q, monkeypatch, FORMS)), (text, page, page_size)


async def test_a_refreshed_index_is_read_again_in_name_order(db: ServiceDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await _seed(db, 200)
    await search.index_current(db)
    index = search._index(db)
    await _refresh(db, ids[::4])
    assert search_index.INDEX_IN_NAME_ORDER._value.get() == 0
    # not yet due: the index answers out of name order, and reads nothing again
    q = _query("光谱", page_size=20, page=2)
    assert _shown(await _by_index(db, q)) == _shown(await _by_database(db, q, monkeypatch))
    assert index._building is not None and index._building.done() and not index.in_name_order
    # due: the next search starts reading every document, and is answered by the index as it is
    monkeypatch.setattr(search_index, "REORDER_AFTER", 0.0)
    monkeypatch.setattr(search_index, "REORDER_FACTOR", 0.0)
    assert _shown(await _by_index(db, q)) == _shown(await _by_database(db, q, monkeypatch))
    reading = index._building
    assert reading is not None and not reading.done()
    await reading
    assert index.in_name_order and search_index.INDEX_IN_NAME_ORDER._value.get() == 1
    for page in (1, 2, 5):
        q = _query("光谱", page_size=20, page=page)
        assert _shown(await _by_index(db, q)) == _shown(await _by_database(db, q, monkeypatch)), page
    # an instrument renamed while the documents are read again is found once the new index replaces the old
    await _refresh(db, ids[1::4])
    assert _shown(await _by_index(db, q)) == _shown(await _by_database(db, q, monkeypatch))
    reading = index._building
    assert reading is not None and not reading.done()
    async with db.unit_of_work() as uow:
        await uow.session.execute(update(instruments).where(instruments.c.id == ids[1]).values(name="核磁共振波谱仪", functions=None, listed_on=date(2024, 6, 1), status="in_service"))
        await search_model.refresh_instrument(uow.session, ids[1])
    await reading
    search._caches.pop(db, None)
    assert _shown(await _by_index(db, _query("核磁"))) == ([(ids[1], 8)], 1)
    for page in (1, 2, 5):
        q = _query("光谱", page_size=20, page=page)
        assert _shown(await _by_index(db, q)) == _shown(await _by_database(db, q, monkeypatch)), page


async def test_a_name_refreshed_while_every_document_is_read_leaves_the_index_out_of_name_order(db: ServiceDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await _seed(db, 120)
    # the names are read first and then the documents, chunk by chunk: here one
    # instrument's name changes in between, so its document comes out of place
    refreshed = search_index._refreshed

    async def stale(db: ServiceDatabase, since: int | None) -> list[tuple[str, str, bool]]:
        rows = await refreshed(db, since)
        return [(iid, "一" if k == 0 else name, public) for k, (iid, name, public) in enumerate(rows)]

    monkeypatch.setattr(search_index, "_refreshed", stale)
    await search.index_current(db)
    assert not search._index(db).in_name_order and search_index.INDEX_IN_NAME_ORDER._value.get() == 0
    for page in (1, 2, 4):
        q = _query("光谱", page_size=20, page=page)
        assert _shown(await _by_index(db, q)) == _shown(await _by_database(db, q, monkeypatch)), page
    assert len(ids) == 120


async def test_a_reading_that_fails_changes_nothing_and_the_next_search_reads_again(db: ServiceDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await _seed(db, 60)
    await search.index_current(db)
    before = _shown(await _by_index(db, _query("光谱", page_size=100)))
    index = search._index(db)
    held, count = index.generation, index._index.searcher().num_docs
    documents = search_index._documents
    calls = 0

    async def fails_once(db: ServiceDatabase, chunk: list[str]) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:  # the second chunk: the first is written, uncommitted
            raise ConnectionError("the database went away")
        return await documents(db, chunk)

    monkeypatch.setattr(search_index, "_documents", fails_once)
    async with db.unit_of_work() as uow:
        for iid in ids:
            await uow.session.execute(update(instruments).where(instruments.c.id == iid).values(name="核磁共振波谱仪", functions=None))
            await search_model.refresh_instrument(uow.session, iid)
    search._caches.pop(db, None)
    with pytest.raises(ConnectionError):
        await search.index_current(db)
    # nothing of the failed reading shows; the next search reads the refreshed documents
    assert index.generation == held and index._index.searcher().num_docs == count
    q = _query("光谱", page_size=100)
    found = index.page(search._groups(q, Dictionary([])), q.filters, q.sort, q.page, q.page_size)
    assert found is not None and ([(shown.instrument_id, score) for shown, score in found[0]], found[1]) == before
    await search.index_current(db)
    assert index.generation != held
    assert _shown(await _by_index(db, _query("光谱", page_size=100))) == ([], 0)
    assert _shown(await _by_index(db, _query("核磁", page_size=100))) == _shown(await _by_database(db, _query("核磁", page_size=100), monkeypatch))
