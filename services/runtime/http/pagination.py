"""Query parameters for paginated lists, the same on every endpoint."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

PageNumber = Annotated[int, Parameter(ge=1, le=100_000, description="1-based page number")]
PageSize = Annotated[int, Parameter(ge=1, le=100, description="items per page (at most 100)")]
