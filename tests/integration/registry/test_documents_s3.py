"""Order documents in S3-compatible object storage (XCISS_DOCUMENT_STORE=s3://…):
a moto server on loopback stands in for the object store; the registry stores an
upload under its sha256 key and serves the identical bytes back."""

from __future__ import annotations

import hashlib

import pytest
from minio import Minio

from services.runtime.documentstore import DocumentMissing, S3DocumentStore, store_of
from services.runtime.settings import Settings
from tests.support.platform import Platform, running
from tests.support.registry import (
    PDF,
    RESULT,
    World,
    approved_unit,
    priced_instrument,
    verified_user,
)
from tests.support.s3 import ACCESS, SECRET, s3_endpoint, s3_settings  # noqa: F401  (the moto server fixture)


async def test_order_documents_go_to_s3_under_their_sha256(make_settings, s3_endpoint: str, backend: str) -> None:  # noqa: F811
    settings = await make_settings(["registry"], **s3_settings(s3_endpoint, f"orders-{backend}", "xciss/docs"))
    async with running(Platform(settings, ["registry"])) as p:
        unit = await approved_unit(p)
        iid, pid = await priced_instrument(p, unit)
        w = World(p, unit, await verified_user(p), iid, pid)
        oid = await w.quoted()
        r = await w.upload(oid, "contract", PDF)
        assert r.status_code == 201, r.text
        doc = r.json()
        sha = hashlib.sha256(PDF).hexdigest()
        assert doc["sha256"] == sha and doc["size"] == len(PDF)

        # the object is in the bucket under prefix/<aa>/<sha256>, not in the data directory
        client = Minio(s3_endpoint, access_key=ACCESS, secret_key=SECRET, secure=False)
        obj = client.get_object(f"orders-{backend}", f"xciss/docs/{sha[:2]}/{sha}")
        try:
            assert obj.read() == PDF
        finally:
            obj.close()
            obj.release_conn()
        assert not (settings.data_dir / "documents").exists()

        r = await w.as_user("GET", f"/v1/orders/{oid}/documents/{doc['document_id']}")
        assert r.status_code == 200, r.text
        assert r.content == PDF and r.headers["content-type"].startswith("application/pdf")
        assert r.headers["x-content-sha256"] == sha
        assert r.headers["content-disposition"] == "attachment; filename*=utf-8''%E5%90%88%E5%90%8C.pdf"
        # the same bytes again: a second document, the one object
        again = (await w.upload(oid, "contract", PDF)).json()
        assert again["document_id"] != doc["document_id"] and again["sha256"] == sha
        assert [o.object_name for o in client.list_objects(f"orders-{backend}", prefix="xciss/docs/", recursive=True)] == [f"xciss/docs/{sha[:2]}/{sha}"]


async def test_s3_store_puts_once_and_reports_missing_blobs(s3_endpoint: str, tmp_path) -> None:  # noqa: F811
    store = store_of(Settings(data_dir=tmp_path, **s3_settings(s3_endpoint, "store-unit")))
    assert isinstance(store, S3DocumentStore) and store.prefix == ""
    sha = await store.put(RESULT)
    assert sha == hashlib.sha256(RESULT).hexdigest()
    assert await store.put(RESULT) == sha
    assert await store.get(sha) == RESULT
    stat = store.client.stat_object("store-unit", f"{sha[:2]}/{sha}")
    assert stat.size == len(RESULT)
    with pytest.raises(DocumentMissing):
        await store.get("0" * 64)
    with pytest.raises(ValueError):
        await store.get("../etc/passwd")
