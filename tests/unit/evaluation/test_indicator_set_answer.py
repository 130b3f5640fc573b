"""The public indicator set (``getIndicatorSet``, issue 18): a struct the OpenAPI document
describes field by field, answering the same JSON the portal reads (the set as a cycle keeps
it, with ``parameters_of_year`` only when a year is asked)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient

from services.evaluation import policy
from services.evaluation.domain import indicators as ind
from services.runtime.service import create_app, load_spec
from services.runtime.settings import Settings


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(create_app(load_spec("evaluation"), Settings(data_dir=tmp_path_factory.mktemp("evaluation")))) as c:
        yield c


def test_the_openapi_document_describes_the_set_and_the_years_parameters(client: TestClient) -> None:
    doc = client.get("/schema/openapi.json").json()
    answer = doc["paths"]["/v1/indicator-set"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/IndicatorSetInForce"}
    fields = doc["components"]["schemas"]["IndicatorSetInForce"]["properties"]
    assert set(fields) == {"version", "title", "dimensions", "defaults", "years", "parameters_of_year"}
    assert fields["dimensions"]["items"] == {"$ref": "#/components/schemas/Dimension"}
    assert set(doc["components"]["schemas"]["Indicator"]["properties"]) >= {"code", "name_zh", "name_en", "max_centi", "source", "rule", "role"}
    assert set(doc["components"]["schemas"]["YearParameters"]["properties"]) == set(ind.YearParameters.__struct_fields__)


def test_the_answer_is_the_set_as_kept_with_a_cycle_plus_the_asked_years_parameters(client: TestClient, tmp_path: Path) -> None:
    kept = policy.load_policy(Settings(data_dir=tmp_path))
    plain = client.get("/v1/indicator-set/").json()
    assert plain == msgspec.json.decode(msgspec.json.encode(ind.to_json(kept))) and "parameters_of_year" not in plain
    of_2026 = client.get("/v1/indicator-set/", params={"year": 2026}).json()
    assert of_2026.pop("parameters_of_year") == msgspec.to_builtins(kept.parameters(2026)) and of_2026 == plain
