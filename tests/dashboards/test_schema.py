"""Every generated dashboard validates against the Grafana dashboard schema, every panel's options and
custom field config against its panel type's schema, and every target against the Prometheus query schema
(grafana-foundation-sdk JSON schemas, vendored from ../shared/schemas/grafana into tests/schemas/grafana)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

# Panel type -> schema file.  Only Grafana 10/11 core panels with a schema here; no Angular
# graph / singlestat / table-old.
PANEL_SCHEMAS = {
    "stat": "stat",
    "table": "table",
    "timeseries": "timeseries",
    "gauge": "gauge",
    "bargauge": "bargauge",
    "state-timeline": "statetimeline",
    "text": "text",
}


def _validator(schema_dir: Path, file: str, definition: str) -> jsonschema.Draft7Validator:
    schema = json.loads((schema_dir / f"{file}.jsonschema.json").read_text())
    schema = copy.deepcopy(schema)
    schema["$ref"] = f"#/definitions/{definition}"
    return jsonschema.Draft7Validator(schema)


def _errors(validator: jsonschema.Draft7Validator, doc: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def test_every_dashboard_validates_against_the_dashboard_schema(dashboards, schema_dir):
    validator = _validator(schema_dir, "dashboard", "Dashboard")
    problems = {name: _errors(validator, d) for name, d in dashboards.items()}
    assert not {k: v for k, v in problems.items() if v}


def test_schema_check_catches_a_broken_dashboard(dashboards, schema_dir):
    """The validator is strict: an unknown key or a bad gridPos is reported."""
    validator = _validator(schema_dir, "dashboard", "Dashboard")
    broken = copy.deepcopy(next(iter(dashboards.values())))
    broken["panels"][1]["gridPos"]["w"] = 30
    broken["panels"][1]["colour"] = "red"
    assert len(_errors(validator, broken)) >= 1


def test_every_panel_uses_a_supported_type_and_valid_options(panels, schema_dir):
    problems = []
    for name, panel in panels:
        if panel["type"] == "row":
            continue
        schema_file = PANEL_SCHEMAS.get(panel["type"])
        if schema_file is None:
            problems.append(f"{name} #{panel['id']}: unsupported panel type {panel['type']}")
            continue
        where = f"{name} #{panel['id']} {panel.get('title')!r}"
        for err in _errors(_validator(schema_dir, schema_file, "Options"), panel.get("options", {})):
            problems.append(f"{where} options: {err}")
        schema = json.loads((schema_dir / f"{schema_file}.jsonschema.json").read_text())
        custom = panel.get("fieldConfig", {}).get("defaults", {}).get("custom")
        if "FieldConfig" in schema["definitions"]:
            for err in _errors(_validator(schema_dir, schema_file, "FieldConfig"), custom or {}):
                problems.append(f"{where} fieldConfig.defaults.custom: {err}")
        elif custom:
            problems.append(f"{where}: {panel['type']} has no custom field config, got {custom}")
    assert not problems, "\n".join(problems)


def test_every_target_validates_against_the_prometheus_query_schema(panels, schema_dir):
    validator = _validator(schema_dir, "prometheus", "Dataquery")
    problems = [
        f"{name} #{panel['id']} {t.get('refId')}: {err}"
        for name, panel in panels
        for t in panel.get("targets", [])
        for err in _errors(validator, t)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("bad", [{"graphMode": "sparkline"}, {"reduceOptions": {}}])
def test_panel_option_check_catches_bad_options(panels, schema_dir, bad):
    stat = next(p for _, p in panels if p["type"] == "stat")
    options = {**stat["options"], **bad}
    assert _errors(_validator(schema_dir, "stat", "Options"), options)
