"""`python -m bot.database_wait` (the entrypoint's first step): 0 once the database answers, 1 with one line
naming storage.url (password hidden) when it does not in time, 2 for a configuration it cannot use."""

from __future__ import annotations

import time

import yaml

from bot.database_wait import main
from tests.reliability.serveproc import APP_YAML, free_port


def config(tmp_path, url: str):
    data = yaml.safe_load(APP_YAML.read_text())
    data["storage"] = {"url": url}
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_an_answering_database_returns_at_once(tmp_path) -> None:
    assert main(["--config", str(config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}")), "--timeout", "5"]) == 0


def test_a_database_that_never_answers_is_one_line_after_the_timeout(tmp_path, capsys) -> None:
    url = f"postgresql+psycopg://dtsbot:hunter2@127.0.0.1:{free_port()}/dtsbot"
    started = time.monotonic()
    assert main(["--config", str(config(tmp_path, url)), "--timeout", "2"]) == 1
    assert time.monotonic() - started >= 1.0  # it waited and probed again
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("dtsbot: storage.url postgresql+psycopg://dtsbot:***@127.0.0.1:") and "hunter2" not in line


def test_an_unusable_configuration_is_exit_2(tmp_path, capsys) -> None:
    assert main(["--config", str(tmp_path / "missing.yaml")]) == 2
    assert "file not found" in capsys.readouterr().err
