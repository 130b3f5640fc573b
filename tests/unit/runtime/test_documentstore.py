"""The shared document store (services.runtime.documentstore) the settings choose: the data directory by default,
S3-compatible object storage for XCISS_DOCUMENT_STORE=s3://bucket/prefix."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from services.runtime.documentstore import (
    DocumentMissing,
    LocalDocumentStore,
    S3DocumentStore,
    store_of,
)
from services.runtime.settings import Settings, SettingsError


async def test_local_store_is_the_default_and_content_addressed(tmp_path: Path) -> None:
    store = store_of(Settings.from_env({"XCISS_DATA_DIR": str(tmp_path)}))
    assert isinstance(store, LocalDocumentStore)
    sha = await store.put(b"%PDF-1.7 contract")
    assert sha == hashlib.sha256(b"%PDF-1.7 contract").hexdigest()
    assert (tmp_path / "documents" / sha[:2] / sha).read_bytes() == b"%PDF-1.7 contract"
    assert await store.put(b"%PDF-1.7 contract") == sha
    assert await store.get(sha) == b"%PDF-1.7 contract"
    assert [p.name for p in (tmp_path / "documents" / sha[:2]).iterdir()] == [sha]  # no temporary files left
    with pytest.raises(DocumentMissing):
        await store.get("f" * 64)
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")


def test_s3_settings_from_the_environment(tmp_path: Path) -> None:
    env = {
        "XCISS_DATA_DIR": str(tmp_path),
        "XCISS_DOCUMENT_STORE": "s3://xciss-docs/registry/documents/",
        "XCISS_S3_ENDPOINT": "http://minio.internal:9000",
        "XCISS_S3_ACCESS_KEY": "ak",
        "XCISS_S3_SECRET_KEY": "sk",
    }
    settings = Settings.from_env(env)
    assert settings.document_store_url == "s3://xciss-docs/registry/documents/"
    assert (settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key) == ("http://minio.internal:9000", "ak", "sk")
    assert settings.s3_region == "us-east-1" and settings.s3_secure is True
    store = store_of(settings)
    assert isinstance(store, S3DocumentStore)
    assert store.bucket == "xciss-docs" and store.object_name("a" * 64) == f"registry/documents/aa/{'a' * 64}"
    assert store.client._base_url.is_https is False  # the endpoint's scheme decides TLS

    settings = Settings.from_env({**env, "XCISS_S3_ENDPOINT": "minio.internal:9000", "XCISS_S3_SECURE": "false", "XCISS_S3_REGION": "cn-central-1"})
    assert settings.s3_secure is False and settings.s3_region == "cn-central-1"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("XCISS_DOCUMENT_STORE", "file:///srv/docs"), ("XCISS_DOCUMENT_STORE", "s3://"), ("XCISS_S3_ENDPOINT", "ftp://host:21")],
)
def test_malformed_store_settings_are_refused(tmp_path: Path, variable: str, value: str) -> None:
    env = {"XCISS_DATA_DIR": str(tmp_path), "XCISS_DOCUMENT_STORE": "s3://bucket", variable: value}
    with pytest.raises(SettingsError, match=variable):
        store_of(Settings.from_env(env))


def test_s3_secure_must_be_a_boolean(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="XCISS_S3_SECURE"):
        Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_S3_SECURE": "maybe"})
