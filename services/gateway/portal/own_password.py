"""Changing one's own password on a page (issue 17): every signed-in person, of any role, at
``/account/password`` (linked beside the sign-out button): the current password, the new one
twice (``changeOwnPassword``; the account's other sessions end, this one goes on). A wrong
current password is refused at its field, a new one the policy refuses at the new password's
field with the rules it fails, in the portal's words (``officers.account_errors``), two new
passwords that differ before the registry is asked."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from services.gateway.portal.client import ApiError, refused_at
from services.gateway.portal.core import Ctx, Kit
from services.gateway.portal.officers import account_errors

ANY_ROLE: tuple[str, ...] = ()
WRONG = "account.wrong_password"


async def password_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    shown = ctx.outcome(error, {})  # passwords are never put back into the form
    if error is not None:
        shown["error"], shown["field_errors"] = account_errors(error, ctx.lang)
        if error.code == WRONG:
            shown["field_errors"] = {"old_password": shown["error"]}
    return ctx.render("own_password.html", **shown)


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/account/password")
    async def show(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, ANY_ROLE, password_page)

    @action("/account/password")
    async def change(request: Request[Any, Any, Any]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            new = str(form.get("new_password") or "")
            if new != str(form.get("new_password_confirm") or ""):
                raise refused_at("portal.password_mismatch", "the_two_passwords_differ", "new_password_confirm")
            await ctx.api.post("registry", "/v1/accounts/me/password", json={"old_password": str(form.get("old_password") or ""), "new_password": new})

        return await kit.submit(request, ANY_ROLE, run, again=lambda ctx, err, form: password_page(ctx, error=err, form=form), done="/account/password?done=1")

    return [show, change]
