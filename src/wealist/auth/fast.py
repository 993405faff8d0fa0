"""The auth service's fast-lane routes (core.fastlane): the same actions as ``api``."""

from __future__ import annotations

import msgspec

from wealist.auth import actions
from wealist.auth.hooks import auth_of
from wealist.auth.schemas import ValidateRequest
from wealist.core.fastlane import Answer, FastCall, FastRoute, json_answer
from wealist.core.jsonguard import BodyRefusedError, decode_json_body

__all__ = ("FAST_ROUTES",)


async def validate(call: FastCall) -> Answer | None:
    """``POST /api/auth/validate``: other backends ask it per request. A body that is not
    a plain valid request goes to the framework, which answers it 400 in the envelope."""
    try:
        data = msgspec.convert(decode_json_body(call.body), ValidateRequest)
    except (BodyRefusedError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    return json_answer(await actions.do_validate(auth_of(call.ctx), data.token))


FAST_ROUTES = [FastRoute("POST", "/api/auth/validate", validate)]
