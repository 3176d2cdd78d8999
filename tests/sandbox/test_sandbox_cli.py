"""`dtsbot sandbox tencentcloud|slack --port N`: each emulator runs alone and answers the real SDKs."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from slack_sdk import WebClient
from tencentcloud.common.credential import Credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ssm.v20190923 import ssm_client
from tencentcloud.sts.v20180813 import models, sts_client

from sandbox.waiting import budget, eventually


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running(*args: str) -> Iterator[int]:
    """Start `dtsbot sandbox …` on a free port; yield the port once it accepts connections."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "sandbox", *args, "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    def accepting() -> bool:
        assert process.poll() is None, process.stdout.read()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    try:
        eventually(accepting, what="the sandbox to accept connections", interval=0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=budget(30))


def test_tencentcloud_sandbox_serves_the_default_world():
    with running("tencentcloud", "--speed", "10") as port:
        profile = ClientProfile(httpProfile=HttpProfile(endpoint=f"127.0.0.1:{port}", protocol="http"))
        client = sts_client.StsClient(
            Credential("AKIDSANDBOXTARGET0000000000000002", "sandbox-target-secret-key-0002"), "ap-guangzhou",
            profile)
        identity = client.GetCallerIdentity(models.GetCallerIdentityRequest())
    assert identity.AccountId == "100000000002"


def test_slack_emulator_answers_the_web_client():
    with running("slack") as port:
        answer = WebClient(token="xoxb-sandbox-bot-token", base_url=f"http://127.0.0.1:{port}/api/").auth_test()
    assert answer["ok"] and answer["user_id"] == "U0DTSBOT"


def test_a_world_file_holds_secrets_manager_secrets(tmp_path):
    world = tmp_path / "world.yaml"
    world.write_text(
        "accounts:\n"
        "  - {uin: '100000000002', name: analytics, secret_id: AKIDWORLD000000000000000000000002,"
        " secret_key: world-key-2, instances: [],\n"
        "     secrets: {dtsbot-db: {user: dts, password: from-the-world}, plain: just-text}}\n")
    with running("tencentcloud", "--world", str(world)) as port:
        profile = ClientProfile(httpProfile=HttpProfile(endpoint=f"127.0.0.1:{port}", protocol="http"))
        client = ssm_client.SsmClient(Credential("AKIDWORLD000000000000000000000002", "world-key-2"),
                                      "ap-guangzhou", profile)
        versions = client.call_json("ListSecretVersionIds", {"SecretName": "dtsbot-db"})["Response"]["Versions"]
        answer = client.call_json("GetSecretValue", {"SecretName": "dtsbot-db",
                                                     "VersionId": versions[-1]["VersionId"]})["Response"]
    assert json.loads(answer["SecretString"]) == {"user": "dts", "password": "from-the-world"}
