"""Helpers for the deployment tests (tests/deploy): CRD validation, manifests, exporter config checks.

Prometheus Operator objects are validated against the CRDs' ``openAPIV3Schema`` vendored in
tests/schemas/prometheus-operator; core objects (ConfigMap, Deployment, Service) against the
Kubernetes OpenAPI schemas the PyPI package ``kubernetes-validate`` ships (offline, strict variant:
unknown fields rejected), for the oldest and the newest Kubernetes version it knows.
The CRD schemas leave ``additionalProperties`` open because the API
server prunes unknown fields; ``kubectl apply --validate=strict`` rejects them instead, so the
validator here closes every object schema that lists ``properties`` (a misspelt field fails).
"""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = ROOT / "tests" / "schemas" / "prometheus-operator"
CRD_FILES = {
    "ServiceMonitor": "servicemonitors.crd.yaml",
    "Probe": "probes.crd.yaml",
    "PrometheusRule": "prometheusrules.crd.yaml",
}
EXPORTER_MODULES = {
    "infrawatch-probe-exporter": "infrawatch.probe.main",
    "infrawatch-reputation-exporter": "infrawatch.reputation.main",
    "infrawatch-console": "infrawatch.console.main",
}


def _strict(schema: Any) -> Any:
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def crd_validator(kind: str) -> jsonschema.Draft7Validator:
    """A validator for whole objects of ``kind`` (apiVersion/kind pinned to the CRD's group/version)."""
    crd = yaml.safe_load((CRD_DIR / CRD_FILES[kind]).read_text())
    assert crd["spec"]["names"]["kind"] == kind
    version = next(v for v in crd["spec"]["versions"] if v.get("served", True) and v.get("storage", True))
    schema = _strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
    schema["properties"]["apiVersion"] = {"const": f"{crd['spec']['group']}/{version['name']}"}
    schema["properties"]["kind"] = {"const": kind}
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata", "spec"})
    return jsonschema.Draft7Validator(schema)


def crd_errors(obj: dict[str, Any]) -> list[str]:
    """Every schema violation of a Prometheus Operator object, as ``path: message`` strings."""
    validator = crd_validator(obj["kind"])
    return [
        "/".join(str(p) for p in e.absolute_path) + ": " + e.message
        for e in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))
    ]


# Core kinds of the manifests (apiVersion -> kinds); the operator's kinds have their CRDs above.
CORE_KINDS = {"v1": {"ConfigMap", "Service", "Secret", "PersistentVolumeClaim"}, "apps/v1": {"Deployment"}}


def kubernetes_versions() -> tuple[str, ...]:
    """The oldest and the newest Kubernetes version kubernetes-validate has schemas for."""
    import kubernetes_validate.utils as kv

    versions = sorted(kv.all_versions(), key=lambda v: tuple(int(x) for x in v.split(".")))
    return versions[0], versions[-1]


def core_errors(obj: dict[str, Any], version: str) -> list[str]:
    """Schema violations of a core object against Kubernetes ``version``'s strict schema
    (``path: message``); kubernetes-validate stops at the first one."""
    import kubernetes_validate

    assert obj.get("kind") in CORE_KINDS.get(obj.get("apiVersion", ""), set()), (obj.get("apiVersion"), obj.get("kind"))
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as e:
        return ["/".join(str(p) for p in e.path) + ": " + e.message]
    return []


def load_manifests(directory: Path) -> dict[str, list[dict[str, Any]]]:
    """``file name -> objects`` of every ``*.yaml`` in ``directory`` (multi-document files)."""
    return {
        f.name: [d for d in yaml.safe_load_all(f.read_text()) if d is not None]
        for f in sorted(directory.glob("*.yaml"))
    }


def iter_files(obj: Any, key_suffix: str = "_file") -> Iterator[tuple[str, str]]:
    """``(key, value)`` of every ``*_file`` key in a parsed configuration."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(k, str) and k.endswith(key_suffix) and isinstance(v, str):
                yield k, v
            else:
                yield from iter_files(v, key_suffix)
    elif isinstance(obj, list):
        for v in obj:
            yield from iter_files(v, key_suffix)


def config_check(command: str, args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``command`` (an exporter's console script name) with ``args`` + ``--config.check``."""
    return subprocess.run(
        [sys.executable, "-m", EXPORTER_MODULES[command], *args, "--config.check"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def selector_matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())
