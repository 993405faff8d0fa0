"""The subset of kustomize that deploy/k8s uses, rendered in Python for CI.

No kustomize binary comes from the registries CI can reach (Debian's kubectl is 1.20,
whose kustomize 2.0 predates directories in ``resources`` and ``patches``). This renders
exactly what the manifests use and refuses anything else, so a kustomization that grows
a feature fails here instead of rendering differently: ``resources`` (files, and
directories with their own kustomization), ``namespace``, ``images`` and ``patches``
holding RFC 6902 operations, selected by kind and a name regex.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

__all__ = ("KustomizeError", "build")

KNOWN_KEYS = {"apiVersion", "kind", "namespace", "resources", "images", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


class KustomizeError(ValueError):
    """The kustomization uses something this renderer does not do (or is wrong)."""


def build(directory: Path) -> list[dict[str, Any]]:
    """Every object ``kustomize build directory`` outputs (in resource order)."""
    path = directory / "kustomization.yaml"
    spec = yaml.safe_load(path.read_text())
    unknown = set(spec) - KNOWN_KEYS
    if unknown:
        raise KustomizeError(f"{path}: unsupported fields {sorted(unknown)}")
    objects: list[dict[str, Any]] = []
    for entry in spec.get("resources", []):
        source = (directory / entry).resolve()
        if source.is_dir():
            objects += build(source)
        else:
            objects += [d for d in yaml.safe_load_all(source.read_text()) if d]
    for patch in spec.get("patches", []):
        _apply_patch(objects, patch, directory)
    for image in spec.get("images", []):
        _set_image(objects, image)
    if "namespace" in spec:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = spec["namespace"]
    return objects


def _apply_patch(objects: list[dict[str, Any]], patch: dict[str, Any], directory: Path) -> None:
    if set(patch) - {"target", "patch", "path"}:
        raise KustomizeError(f"unsupported patch fields: {sorted(patch)}")
    text = patch["patch"] if "patch" in patch else (directory / patch["path"]).read_text()
    operations = yaml.safe_load(text)
    if not isinstance(operations, list):
        raise KustomizeError("only RFC 6902 (JSON patch) operation lists are supported")
    target = patch.get("target") or {}
    if set(target) - {"kind", "name"}:
        raise KustomizeError(f"unsupported patch target fields: {sorted(target)}")
    matched = [
        obj
        for obj in objects
        if obj["kind"] == target.get("kind", obj["kind"])
        and re.fullmatch(target.get("name", ".*"), obj["metadata"]["name"])
    ]
    if not matched:
        raise KustomizeError(f"patch target {target} matches nothing")
    for obj in matched:
        for operation in operations:
            _json_patch(obj, operation)


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise KustomizeError(f"JSON pointer must start with '/': {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _json_patch(obj: dict[str, Any], operation: dict[str, Any]) -> None:
    op, parts = operation["op"], _pointer(operation["path"])
    parent: Any = obj
    for part in parts[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    last = parts[-1]
    if op in ("add", "replace"):
        value = copy.deepcopy(operation["value"])
        if isinstance(parent, list):
            if last == "-":
                parent.append(value)
            elif op == "add":
                parent.insert(int(last), value)
            else:
                parent[int(last)] = value
        else:
            if op == "replace" and last not in parent:
                raise KustomizeError(f"replace of a missing path {operation['path']}")
            parent[last] = value
    elif op == "remove":
        if isinstance(parent, list):
            del parent[int(last)]
        else:
            del parent[last]
    else:
        raise KustomizeError(f"unsupported JSON patch op {op!r}")


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec", {})
    pod = spec.get("template", {}).get("spec")
    if pod is None and obj["kind"] == "CronJob":
        pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    if pod is None:
        return []
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def _set_image(objects: list[dict[str, Any]], image: dict[str, Any]) -> None:
    if set(image) - {"name", "newName", "newTag"}:
        raise KustomizeError(f"unsupported image fields: {sorted(image)}")
    name = image["name"]
    for obj in objects:
        for container in _containers(obj):
            current = container["image"]
            base, _, tag = current.partition(":")
            if base != name:
                continue
            new_tag = str(image.get("newTag", tag))
            container["image"] = image.get("newName", base) + (f":{new_tag}" if new_tag else "")
