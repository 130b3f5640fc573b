"""The center changes a user's classes on a page (R4, R16, R26, issue 17; ``changeUserClasses``)
at ``/review/users/{id}/classes``, reached from /review/users: the user's classes (规上工业企业,
高新技术企业, 科技型中小企业, 创新创业团队) and special classes (创新龙头企业, 瞪羚企业) as checkboxes
with the current ones ticked, its sound-finances assessment (R26), and the reason, which the
registry requires. The form carries the version it was shown with (``If-Match``): a colleague's
change meanwhile shows it again with the user as it now is. No class ticked, or no reason, is
refused at its field before the registry is asked; the registry's class rules (a team is a
start-up team only, an enterprise never one) at the classes. The bureau reads the page."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, reason_required, refused_at
from services.gateway.portal.core import Ctx, Kit, again
from services.gateway.portal.i18n_labels import SPECIAL_CLASSES, USER_CLASSES
from services.gateway.portal.versioned import if_match

STAFF = ("center", "bureau")
CENTER = ("center",)
#: the registry's class rules, said at the classes
AT_CLASSES = ("user.team_class", "user.enterprise_class", "user.duplicate_class")


def at_fields(err: ApiError, lang: str) -> dict[str, str]:
    found = err.field_errors(lang)
    if err.code in AT_CLASSES:
        found["classes"] = err.message(lang)
    return found


async def classes_page(ctx: Ctx, user_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """The form, ticked from the user's record (or as the officer left it, after a refusal)."""
    user = await ctx.api.answer("registry", f"/v1/users/{user_id}")
    if isinstance(user, ApiError):
        return ctx.error_page(user)
    typed = form or {}
    chosen = typed["_chosen"] if "_chosen" in typed else [*user.get("classes", []), *user.get("special_classes", [])]
    sound = bool(typed.get("sound_finances")) if "_chosen" in typed else bool(user.get("sound_finances", True))
    shown = ctx.outcome(error, {"reason": str(typed.get("reason") or "")}, field_errors=at_fields(error, ctx.lang) if error else None)
    return ctx.render("user_classes.html", user=user, chosen=chosen, sound=sound, **shown)


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/review/users/{user_id:str}/classes")
    async def show(request: Request[Any, Any, Any], user_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, STAFF, classes_page, user_id)

    @action("/review/users/{user_id:str}/classes")
    async def change(request: Request[Any, Any, Any], user_id: FromPath[str]) -> Response[str]:
        raw = await request.form()
        classes = [c for c in (str(v) for v in raw.getall("classes", [])) if c in USER_CLASSES]
        special = [c for c in (str(v) for v in raw.getall("special_classes", [])) if c in SPECIAL_CLASSES]

        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            form["_chosen"] = classes + special
            if not classes:
                raise refused_at("portal.classes_required", "choose_at_least_one_class", "classes")
            reason = str(form.get("reason") or "").strip()
            if not reason:
                raise reason_required("a_class_change_needs_a_reason")
            body = {"classes": classes, "special_classes": special, "sound_finances": bool(form.get("sound_finances")), "reason": reason}
            await ctx.api.call("PATCH", "registry", f"/v1/users/{user_id}/classes", json=body, headers=if_match(form))

        return await kit.submit(request, CENTER, run, again=again(classes_page, user_id), done=f"/review/users/{user_id}/classes?done=1")

    return [show, change]
