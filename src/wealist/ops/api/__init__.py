"""HTTP routes of the ops service, mounted under ``settings.base_path`` (contract 10).

Replies are ``{success, message?, data?}``; errors ``{success: false, message, code,
requestId}``. Public: the config reads. Signed in: ``/auth/*``. Portal roles: the rest,
each route declaring the roles it admits (``opt={"roles": ...}``, checked by
``actions.portal.access_portal`` through the ``me`` dependency).
"""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from wealist.core.settings import CoreSettings
from wealist.ops.api import configs, monitoring, portal
from wealist.ops.api.deps import provide_me, provide_who
from wealist.ops.settings import OpsSettings

__all__ = ("routes",)


def routes(settings: CoreSettings) -> list[ControllerRouterHandler]:
    base = settings.base_path if isinstance(settings, OpsSettings) else OpsSettings().base_path
    return [
        Router(
            path=base,
            route_handlers=[*portal.ROUTES, *configs.ROUTES, *monitoring.ROUTES],
            dependencies={"who": Provide(provide_who), "me": Provide(provide_me)},
        )
    ]
