"""What a schema cannot say about deploy/: the production template has no sandbox default for any secret, every
deployment (compose, Kubernetes, systemd) hands each of the template's required values to the bot, secrets as
files (`*_FILE`) that it really mounts, probes and HEALTHCHECK ask /healthz on the metrics port; and
scripts/check-deploy (CI's linter and schema validation) fails on a broken copy of each file."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.config import Settings
from sandbox.waiting import budget

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
TEMPLATE = yaml.safe_load((DEPLOY / "app.production.yaml").read_text())
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")
SECRET_BY_FILE = re.compile(r"^[A-Z0-9_]+_FILE$")


def values(tree: Any, path: str = "") -> list[tuple[str, str]]:
    """(key path as docs/configuration.md writes it, value) of every string in a loaded app.yaml."""
    if isinstance(tree, dict):
        return [pair for key, value in tree.items() for pair in values(
            value, f"{path}.<instance id>" if path == "databases" else f"{path}.{key}" if path else str(key))]
    if isinstance(tree, list):
        return [pair for item in tree for pair in values(item, f"{path}[]")]
    return [(path, tree)] if isinstance(tree, str) else []


def secret_keys() -> set[str]:
    """Key paths of every secret (SecretStr) field of the settings model."""
    spec = importlib.util.spec_from_file_location("gen_config_docs", REPO / "scripts" / "gen_config_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {path for path, info, _keys in module._paths(Settings) if module._type(info).startswith("secret")}


def required_variables() -> set[str]:
    """The template's references without a default: each deployment must give them."""
    return {name for _path, value in values(TEMPLATE) for name, default in REFERENCE.findall(value)
            if not default}


def test_every_secret_of_the_template_is_a_plain_reference_without_default() -> None:
    secrets = [(path, value) for path, value in values(TEMPLATE) if path in secret_keys()]
    assert {path for path, _ in secrets} >= {"slack.bot_token", "slack.signing_secret", "slack.app_token",
                                             "accounts[].credentials.secret_id", "databases.<instance id>.password"}
    for path, value in secrets:
        if path == "slack.app_token":  # empty: HTTP mode; not a sandbox value
            assert value == "${SLACK_APP_TOKEN:-}"
            continue
        assert REFERENCE.fullmatch(value) and ":-" not in value, f"{path}: {value!r} must be a plain ${{NAME}}"
    assert not [value for _path, value in values(TEMPLATE) if "sandbox" in value.lower()]


def compose_env() -> tuple[dict[str, str], set[str]]:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    service = compose["services"]["dtsbot"]
    return service["environment"], {f"/run/secrets/{name}" for name in service["secrets"]}


def kubernetes_env() -> tuple[dict[str, str], set[str]]:
    deployment = yaml.safe_load((DEPLOY / "kubernetes" / "deployment.yaml").read_text())
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value", "(from configmap)") for e in container["env"]}
    [mount] = [m for m in container["volumeMounts"] if m["name"] == "secrets"]
    return env, {f"{mount['mountPath']}/{name}" for name in required_files(env, mount["mountPath"])}


def required_files(env: dict[str, str], directory: str) -> set[str]:
    return {Path(value).name for name, value in env.items() if SECRET_BY_FILE.match(name)
            and value.startswith(directory)}


def systemd_env() -> tuple[dict[str, str], set[str]]:
    unit = (DEPLOY / "dtsbot.service").read_text()
    env = dict(line.removeprefix("Environment=").split("=", 1) for line in unit.splitlines()
               if line.startswith("Environment="))
    credentials = {f"%d/{line.removeprefix('LoadCredential=').split(':', 1)[0]}" for line in unit.splitlines()
                   if line.startswith("LoadCredential=")}
    return env, credentials


@pytest.mark.parametrize("deployment", [compose_env, kubernetes_env, systemd_env], ids=["compose", "kubernetes",
                                                                                       "systemd"])
def test_each_deployment_gives_every_required_value_and_secrets_only_as_mounted_files(deployment) -> None:
    env, files = deployment()
    for name in required_variables():
        assert name in env or f"{name}_FILE" in env, f"{deployment.__name__}: {name} is not given"
    secret_names = {name.removesuffix("_FILE") for name in env if SECRET_BY_FILE.match(name)}
    assert secret_names >= required_variables() - {"DTSBOT_CHANNEL"}  # every secret comes from a file
    assert not secret_names & set(env), "a secret is also given in the environment"
    for name in secret_names:
        assert env[f"{name}_FILE"] in files, f"{name}_FILE names a file that is not mounted"


def test_probes_and_healthcheck_ask_healthz_on_the_metrics_port() -> None:
    deployment = yaml.safe_load((DEPLOY / "kubernetes" / "deployment.yaml").read_text())
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert ports["metrics"] == int(env["DTSBOT_METRICS_PORT"]) == 9090
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "DTSBOT_METRICS_PORT=9090" in dockerfile and "/healthz" in dockerfile.split("HEALTHCHECK", 1)[1]
    assert deployment["spec"]["replicas"] == 2
    assert yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["dtsbot"]["deploy"]["replicas"] == 2


BREAKAGES = {
    "Dockerfile": ("USER 10001:10001", "USER 10001:10001\nRUN cd /tmp && apt-get install curl"),  # DL3003, DL3008
    "deploy/compose.yaml": ("    read_only: true", "    read_only: true\n    replica: 2"),
    "deploy/kubernetes/deployment.yaml": ("      automountServiceAccountToken: false",
                                          "      automountServiceAccountToken: false\n      replica: 2"),
    "deploy/kubernetes/servicemonitor.yaml": ("      interval: 30s", "      interval: 30 seconds"),
    "deploy/prometheus-rules.yaml": ("        for: 5m", "        fro: 5m"),
    "deploy/dtsbot.service": ("Type=exec", "Type=execc"),
}


def check_deploy(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REPO / "scripts" / "check-deploy"), str(root)], capture_output=True, text=True,
                          timeout=budget(120), check=False)


@pytest.mark.parametrize("broken", list(BREAKAGES))
def test_check_deploy_fails_on_a_broken_file(broken: str, tmp_path: Path) -> None:
    for name in ("Dockerfile", "deploy"):
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy2)(REPO / name, tmp_path / name)
    old, new = BREAKAGES[broken]
    path = tmp_path / broken
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    done = check_deploy(tmp_path)
    assert done.returncode != 0, done.stdout + done.stderr


def test_check_deploy_passes_on_the_repository() -> None:
    done = check_deploy(REPO)
    assert done.returncode == 0 and done.stdout.endswith("check-deploy: all valid\n"), done.stdout + done.stderr
