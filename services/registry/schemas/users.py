"""Users (R4, R16, R26) and the self-service sign-up (issue 17) as the registry
answers with them."""

from __future__ import annotations

from typing import Annotated

import msgspec

from services.registry.domain.parties import SpecialClass, UserClass, UserKind
from services.runtime.http.pagination import Page, page_schema


class User(msgspec.Struct):
    user_id: str
    version: int
    name: str
    kind: UserKind
    classes: list[UserClass]
    special_classes: list[SpecialClass]
    in_xuchang: bool
    verified: bool
    sound_finances: bool = True
    credit_code: str | None = None
    leader_name: str | None = None
    leader_id_masked: str | None = None
    #: pending (awaiting the center) / verified / rejected
    status: str = "pending"
    #: the user that already held the credit code when this one registered; the center's
    #: review decides which is the enterprise (shown to the center and the bureau only)
    duplicate_of: str | None = None
    rejection_reason: str | None = None
    #: R26 隶属: the units registered under the user's credit code — the user is those units
    #: and gets no voucher on their (or their parent's, or their colleges') services; read
    #: with one user, shown to the center and the bureau only
    same_party_units: list[str] = []


UserPage = Annotated[Page[User], page_schema("UserPage")]


class SignedUpAccount(msgspec.Struct):
    account_id: str
    username: str
    role: str
    org: str | None
    display_name: str | None
    email: str | None
    phone: str | None
    status: str


class Signup(msgspec.Struct):
    account: SignedUpAccount
    user: User
