"""The deployment examples stay true to the code: the systemd units, compose file, env file and alert rules
parse, their commands are real entry points with options those commands accept, and every variable and
metric they name is one the code really reads or exposes. (Nothing here starts a container or a unit: the
development machines have neither a Docker engine nor systemd.)
"""

from __future__ import annotations

import configparser
import re
import shlex
from collections.abc import Iterator, Sequence
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from etims_pipeline.cli.main import build_parser
from etims_pipeline.observability.metrics import render_metrics

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
CLICK_COMMANDS = {"dagster-webserver": "dagster_webserver", "dagster-daemon": "cli"}
# Series Prometheus makes itself for every scrape target.
PROMETHEUS_SYNTHETIC = {"up"}
PROMQL_WORDS = {
    "sum", "by", "without", "rate", "increase", "histogram_quantile", "clamp_min", "and", "or", "unless",
    "on", "ignoring", "group_left", "group_right", "bool", "offset",
}  # fmt: skip


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return document


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read(path)
    return parser


def _commands() -> Iterator[tuple[str, list[str]]]:
    for path in UNITS:
        yield path.name, shlex.split(_unit(path)["Service"]["ExecStart"])
    for name, service in _compose()["services"].items():
        if "command" in service:
            yield f"compose:{name}", list(service["command"])


def _parse_click(command: click.Command, name: str, args: Sequence[str]) -> None:
    """Parse (never run) `args` the way the console script would: a group's first word names its subcommand."""
    if isinstance(command, click.Group):
        sub_name, *rest = args
        sub = command.get_command(click.Context(command, info_name=name), sub_name)
        assert sub is not None, f"{name} has no subcommand {sub_name}"
        command, name, args = sub, sub_name, rest
    command.make_context(name, list(args))


def _env_read_by_the_code() -> set[str]:
    names = set(re.findall(r"env:\s*([A-Z][A-Z0-9_]*)", (REPO / "dagster.yaml").read_text()))
    for source in (REPO / "etims_pipeline").rglob("*.py"):
        names.update(re.findall(r"""["']([A-Z][A-Z0-9_]{2,})["']""", source.read_text()))
    return names


def _env_example() -> dict[str, str]:
    lines = (DEPLOY / "etims-pipeline.env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return dict(pairs)


def _metric_names(expr: str) -> set[str]:
    expr = re.sub(r'"[^"]*"', "", expr)  # label values
    expr = re.sub(r"\{[^}]*\}|\[[^]]*\]", "", expr)  # label matchers, ranges
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)  # grouping labels
    return {word for word in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", expr) if word not in PROMQL_WORDS}


@pytest.mark.parametrize("unit", UNITS, ids=lambda path: path.name)
def test_each_systemd_unit_parses_and_reads_the_shared_environment(unit: Path) -> None:
    parsed = _unit(unit)
    assert {"Unit", "Service", "Install"} <= set(parsed.sections())
    service = parsed["Service"]
    assert service["WorkingDirectory"] == "/opt/etims-pipeline"
    assert service["EnvironmentFile"] == "/etc/etims-pipeline/etims-pipeline.env"
    assert service["KillMode"] == "control-group"
    assert shlex.split(service["ExecStart"])[0].startswith("/opt/etims-pipeline/.venv/bin/")


def test_the_three_long_running_processes_are_all_there() -> None:
    programs = sorted(Path(argv[0]).name + " " + argv[1] for _, argv in _commands())
    assert programs == [
        "dagster-daemon run",
        "dagster-daemon run",
        "dagster-webserver -h",
        "dagster-webserver -h",
        "etims-pipeline serve",
        "etims-pipeline serve",
    ]
    assert _compose()["services"]["daemon"]["deploy"]["replicas"] == 1  # exactly one daemon


@pytest.mark.parametrize(("where", "argv"), list(_commands()), ids=lambda value: str(value)[:40])
def test_every_command_is_a_real_entry_point_with_valid_options(where: str, argv: list[str]) -> None:
    name, args = Path(argv[0]).name, argv[1:]
    if name == "etims-pipeline":
        parsed = build_parser().parse_args(args)
        assert parsed.command == "serve"
        return
    (script,) = entry_points(group="console_scripts", name=name)
    # The console script is a small main() around a click command defined in the same module.
    command = getattr(import_module(script.module), CLICK_COMMANDS[name])
    assert isinstance(command, click.Command), where
    _parse_click(command, name, args)


def test_every_variable_named_is_read_by_the_code() -> None:
    read = _env_read_by_the_code()
    example = _env_example()
    compose_env = set(_compose()["x-app"]["environment"])
    assert set(example) | compose_env <= read
    dagster_yaml_vars = set(re.findall(r"env:\s*([A-Z][A-Z0-9_]*)", (REPO / "dagster.yaml").read_text()))
    assert dagster_yaml_vars <= set(example), "the env file must set every variable dagster.yaml reads"
    assert {"ETIMS_DATABASE_URL", "ETIMS_BASE_URL", "ETIMS_ENABLED", "KPIS_ENABLED", "DAGSTER_HOME"} <= set(example)
    assert all(ENV_NAME.match(key) for key in example)


def test_alert_rules_parse_and_name_only_exposed_metrics(sqlite_engine: Engine) -> None:
    exposed = set(PROMETHEUS_SYNTHETIC)
    for family in text_string_to_metric_families(render_metrics(sqlite_engine).decode()):
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}.get(family.type, [""])
        exposed.update(family.name + suffix for suffix in suffixes)
    rules = [rule for group in yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"]
             for rule in group["rules"]]  # fmt: skip
    assert len(rules) >= 8
    named: set[str] = set()
    for rule in rules:
        assert {"alert", "expr", "labels", "annotations"} <= set(rule)
        assert rule["labels"]["severity"] in {"critical", "warning"}
        named |= _metric_names(rule["expr"])
    assert named <= exposed, f"not in the exposition: {sorted(named - exposed)}"
    runbook = {"invoices_submitted_total", "invoices_rejected_total", "etims_latency_bucket"}
    assert runbook | {"kpi_jobs_success_total", "kpi_jobs_fail_total"} <= named
