"""An instrument's photos in the portal (issue 17): the image itself, passed
through from the registry with the caller's token (so a unit sees the photos of
its instruments before they are listed), and the page to upload and delete
them: the unit's for its own instruments (``/unit/instruments/{id}/photos``) and
the center's for any instrument (``/center/instruments/{id}/photos``: it takes
down a photo that shows what it should not, or adds one for a unit). The limits
(how many, how large, which types) are the registry's, read from its list of
photos. No script: a plain multipart form."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from services.gateway.portal.client import ApiError
from services.gateway.portal.core import Ctx, Kit, again, instrument_of, no_file

UNIT = ("unit",)
CENTER = ("center",)
#: what the registry answers about a photo that the browser should keep
_PASSED = ("content-type", "cache-control", "x-content-type-options", "x-content-sha256")
#: how a format is named to people
_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP"}


async def photos_of(ctx: Ctx, instrument_id: str) -> list[dict[str, Any]]:
    """The photos the caller may see (none when the registry refuses)."""
    found = await ctx.api.maybe("registry", f"/v1/instruments/{instrument_id}/photos")
    return list(found["items"]) if found else []


async def photos_page(ctx: Ctx, instrument_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """The photos of one instrument, the unit's own or (the center) any: thumbnails with a delete
    button each, and the upload form."""
    inst = await instrument_of(ctx, instrument_id)
    if isinstance(inst, Response):
        return inst
    base = "/center" if ctx.role == "center" else "/unit"
    found = await ctx.api.get("registry", f"/v1/instruments/{instrument_id}/photos")
    kinds = ("、" if ctx.lang == "zh" else ", ").join(_FORMATS.get(c, str(c)) for c in found["content_types"])
    limits = ctx.t("photo_limits", n=found["max_photos"], mb=found["max_bytes"] // (1024 * 1024), types=kinds)
    return ctx.render(
        "unit_instrument_photos.html",
        inst=inst,
        photos=found["items"],
        room=len(found["items"]) < found["max_photos"],
        accept=",".join(found["content_types"]),
        limits=limits,
        base=base,
        back=f"/instruments/{instrument_id}" if base == "/center" else "/unit/instruments",
        **ctx.outcome(error, form),
    )


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @get("/instruments/{instrument_id:str}/photos/{photo_id:str}", include_in_schema=False, **kit.pub)
    async def photo(request: Request[Any, Any, Any], instrument_id: FromPath[str], photo_id: FromPath[str]) -> Response[bytes]:
        """The image, with the registry's type, caching and nosniff."""
        try:
            r = await kit.ctx(request).api.raw("GET", "registry", f"/v1/instruments/{instrument_id}/photos/{photo_id}")
        except ApiError as err:  # the registry is not reachable
            return Response(b"", status_code=err.status)
        return Kit.passthrough(r, _PASSED)

    def editing(prefix: str, roles: tuple[str, ...]) -> list[Any]:
        """The page, the upload and the delete under ``prefix`` (/unit or /center), for ``roles``."""

        @page(prefix + "/instruments/{instrument_id:str}/photos")
        async def photos(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
            return await kit.show(request, roles, photos_page, instrument_id)

        @action(prefix + "/instruments/{instrument_id:str}/photos")
        async def upload(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
            """A photo added; the registry judges the bytes, its refusal is shown at the file field."""

            async def run(ctx: Ctx, form: dict[str, Any]) -> None:
                file = form.get("file")
                if file is None or not getattr(file, "filename", None):
                    raise no_file("choose_a_photo", "file")
                data = await file.read()
                await ctx.api.call(
                    "POST", "registry", f"/v1/instruments/{instrument_id}/photos", content=data, headers={"Content-Type": "application/octet-stream"}
                )

            done = f"{prefix}/instruments/{instrument_id}/photos?done=1"
            return await kit.submit(request, roles, run, again=again(photos_page, instrument_id, form=False), done=done)

        @action(prefix + "/instruments/{instrument_id:str}/photos/{photo_id:str}/delete")
        async def delete(request: Request[Any, Any, Any], instrument_id: FromPath[str], photo_id: FromPath[str]) -> Response[str]:
            async def run(ctx: Ctx, _form: dict[str, Any]) -> None:
                await ctx.api.call("DELETE", "registry", f"/v1/instruments/{instrument_id}/photos/{photo_id}")

            done = f"{prefix}/instruments/{instrument_id}/photos?done=1"
            return await kit.submit(request, roles, run, again=again(photos_page, instrument_id, form=False), done=done)

        return [photos, upload, delete]

    return [photo, *editing("/unit", UNIT), *editing("/center", CENTER)]
