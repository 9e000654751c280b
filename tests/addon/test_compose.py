"""Must show 3: docker-compose.yml validates and names real images; the Odoo test command
is documented. Uses `docker compose config` when a compose binary is on the machine (it
needs no engine), else a hand-written structural schema (jsonschema), since the
compose-spec schema is not available offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.addon.addon_source import ROOT

COMPOSE = ROOT / "docker-compose.yml"
TEST_COMMAND = (
    "docker compose run --rm odoo odoo -d mss_test -i marketplace_stock_sync "
    "--test-tags /marketplace_stock_sync --stop-after-init"
)

_SERVICE = {
    "type": "object",
    "properties": {
        "image": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9._-]+$"},
        "build": {"type": "object", "required": ["context"],
                  "properties": {"context": {"type": "string"},
                                 "dockerfile": {"type": "string"}}},
        "environment": {"type": "object",
                        "additionalProperties": {"type": ["string", "number", "boolean"]}},
        "volumes": {"type": "array", "items": {"type": "string", "pattern": r"^[^:]+:/[^:]*(:ro|:rw)?$"}},
        "ports": {"type": "array", "items": {"type": "string"}},
        "depends_on": {"type": ["array", "object"]},
        "healthcheck": {"type": "object"},
        "restart": {"enum": ["no", "always", "on-failure", "unless-stopped"]},
    },
    "anyOf": [{"required": ["image"]}, {"required": ["build"]}],
    "additionalProperties": False,
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["services"],
    "properties": {
        "name": {"type": "string"},
        "services": {"type": "object", "additionalProperties": _SERVICE},
        "volumes": {"type": "object"},
    },
    "additionalProperties": False,
}


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True,
                                 timeout=20).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


# the bridge's secrets have no default: compose must refuse to start without them
REQUIRED_SECRETS = {"STOCK_BRIDGE_ERP_PASSWORD": "BRIDGE_API_KEY",
                    "STOCK_BRIDGE_WEBHOOK_SECRET": "BRIDGE_WEBHOOK_SECRET"}
_REQUIRED = re.compile(r"^\$\{(\w+):\?(.+)\}$")


def _compose_env(**overrides: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED_SECRETS.values()}
    env.update({name: "test-only-value" for name in REQUIRED_SECRETS.values()})
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def test_compose_validates():
    cli = _compose_cli()
    if cli is not None:
        result = subprocess.run([*cli, "-f", str(COMPOSE), "config", "-q"], cwd=ROOT,
                                capture_output=True, text=True, timeout=60, env=_compose_env())
        assert result.returncode == 0, result.stderr
        missing = subprocess.run([*cli, "-f", str(COMPOSE), "config", "-q"], cwd=ROOT,
                                 capture_output=True, text=True, timeout=60,
                                 env=_compose_env(BRIDGE_WEBHOOK_SECRET=None))
        assert missing.returncode != 0 and "BRIDGE_WEBHOOK_SECRET" in missing.stderr
    jsonschema.validate(compose(), SCHEMA)


def test_bridge_secrets_have_no_default():
    env = compose()["services"]["bridge"]["environment"]
    for key, variable in REQUIRED_SECRETS.items():
        match = _REQUIRED.match(str(env[key]))
        assert match, f"{key} must be ${{{variable}:?message}}, is {env[key]!r}"
        assert match.group(1) == variable
        assert variable in match.group(2)  # the message names what to set
    # no other bridge variable smuggles a default secret in
    for key, value in env.items():
        if re.search(r"PASSWORD|SECRET|TOKEN|API_KEY", key):
            assert ":-" not in str(value), key


def test_compose_schema_check_can_fail():
    broken = compose()
    broken["services"]["odoo"]["imgae"] = "odoo:18.0"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_services_images_volumes_and_env():
    services = compose()["services"]
    assert services["db"]["image"] == "postgres:16"
    assert services["odoo"]["image"] == "odoo:18.0"
    assert "./addons:/mnt/extra-addons:ro" in services["odoo"]["volumes"]
    assert {"HOST", "USER", "PASSWORD"} <= set(services["odoo"]["environment"])
    assert services["odoo"]["environment"]["HOST"] == "db"
    bridge = services["bridge"]
    assert bridge["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    env = bridge["environment"]
    for key in ("STOCK_BRIDGE_ERP_URL", "STOCK_BRIDGE_ERP_DATABASE", "STOCK_BRIDGE_ERP_USERNAME",
                "STOCK_BRIDGE_ERP_PASSWORD", "STOCK_BRIDGE_WEBHOOK_SECRET", "STOCK_BRIDGE_CONFIG"):
        assert key in env, key
    assert env["STOCK_BRIDGE_ERP_URL"] == "http://odoo:8069"
    # every named volume a service mounts is declared
    declared = set(compose()["volumes"])
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith("."):
                assert source in declared, source
            else:
                assert (ROOT / source).exists(), source


def test_dockerfile_builds_the_bridge():
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    assert 'ENTRYPOINT ["stock-bridge"]' in text
    for line in text.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source


def test_bridge_config_template_loads():
    from connector.config import load_config

    config = load_config(
        ROOT / "docker/bridge.toml",
        environ={"STOCK_BRIDGE_ERP_PASSWORD": "k", "STOCK_BRIDGE_ERP_URL": "http://odoo:8069"},
    )
    assert config.erp.url == "http://odoo:8069"
    assert config.bridge.listen_port == 8765


def test_odoo_test_command_is_documented():
    for doc in (COMPOSE, ROOT / "README.md"):
        assert TEST_COMMAND in " ".join(Path(doc).read_text().split()), doc
