"""An S3 document store for the tests: a moto server per test module (the fixture
``s3_endpoint``; import it into the module) and the settings of a bucket on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from minio import Minio
from moto.server import ThreadedMotoServer

ACCESS, SECRET = "test-access", "test-secret"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"{host}:{port}"
    finally:
        server.stop()


def s3_settings(endpoint: str, bucket: str, prefix: str = "") -> dict[str, Any]:
    client = Minio(endpoint, access_key=ACCESS, secret_key=SECRET, secure=False, region="us-east-1")
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)
    return {
        "document_store_url": f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}",
        "s3_endpoint": endpoint,
        "s3_access_key": ACCESS,
        "s3_secret_key": SECRET,
        "s3_secure": False,
    }
