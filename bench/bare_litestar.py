"""A bare Litestar app (one ``/health`` route, no middleware) served the way
the services serve theirs (uvicorn in-process on ``services.runtime.eventloop``'s
loop and parser): the baseline of ``bench/http_server.py``.

    python bench/bare_litestar.py PORT          # XCISS_EVENT_LOOP, XCISS_HTTP_PARSER as for the services
    granian --interface asgi --workers 1 --port PORT bench.bare_litestar:app
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from litestar import Litestar, get

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.runtime import eventloop  # noqa: E402


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar([health])


async def _serve(port: int) -> None:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None, access_log=False, http=eventloop.http_parser())
    await uvicorn.Server(config).serve()


if __name__ == "__main__":
    eventloop.run(_serve(int(sys.argv[1])))
