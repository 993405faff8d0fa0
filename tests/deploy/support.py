"""What the deploy tests share: paths, and whether an environment variable is a setting."""

from __future__ import annotations

from pathlib import Path

import msgspec

from wealist.core.settings import CoreSettings
from wealist.services import SERVICES, spec

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"


def setting_fields(settings: type[CoreSettings]) -> set[str]:
    return {f.name for f in msgspec.structs.fields(settings)}


def unknown_setting(variable: str) -> str | None:
    """Why ``variable`` is no wealist setting (a typo the service would ignore), or None.

    ``WEALIST_<SVC>_<FIELD>`` must name a field of that service's settings,
    ``WEALIST_<FIELD>`` one of some service's; either may end in ``_FILE``.
    """
    if not variable.startswith("WEALIST_"):
        return None
    name = variable.removeprefix("WEALIST_").lower()
    candidates = [name, name.removesuffix("_file")] if name.endswith("_file") else [name]
    for candidate in candidates:
        service, _, field = candidate.partition("_")
        if service in SERVICES and field in setting_fields(spec(service).settings):
            return None
        if any(candidate in setting_fields(spec(s).settings) for s in SERVICES):
            return None
    return f"{variable} is not a setting of any service"
