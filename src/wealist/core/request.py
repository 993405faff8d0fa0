"""The request class of every app: JSON bodies decoded through the kernel's guard.

Litestar decodes a JSON body once (``Request.json``) for every ``data`` parameter; this
subclass makes that decode :func:`~wealist.core.jsonguard.decode_json_body`, so a body
nested too deep, holding a NUL, a 65-bit integer or a repeated key is a 400 in the
service's envelope before the handler runs.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException
from litestar.types import Empty
from typing_extensions import override

from wealist.core.errors import ValidationFailed
from wealist.core.jsonguard import BodyRefusedError, decode_json_body

__all__ = ("GuardedRequest",)


class GuardedRequest(Request[Any, Any, Any]):
    @override
    async def json(self) -> Any:
        if self._json is Empty:
            if (cached := self._connection_state.json) is not Empty:
                self._json = cached
            else:
                body = await self.body()
                try:
                    value = decode_json_body(body or b"null")
                except BodyRefusedError as refused:
                    raise ValidationFailed(str(refused)) from None
                except msgspec.DecodeError as malformed:
                    raise SerializationException(str(malformed)) from malformed
                self._json = self._connection_state.json = value
        return self._json
