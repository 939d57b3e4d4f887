"""The Dockerfile and compose.yaml, read as Docker would read them (no Docker needed): the bot and
PostgreSQL 16 with a named volume, both checked for health, the bot's database the postgres
service, a non-root image with no secret in it, and the commands it runs ones the CLI knows."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from bot.cli import _parser
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SECRET_NAMES = re.compile(r"TOKEN|SECRET|PASSWORD|AES_KEY|LINK_SECRET", re.IGNORECASE)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (continuation lines joined, comments dropped)."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_compose_runs_the_bot_and_postgres_16_on_a_named_volume(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"bot", "postgres"}
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:16")
    volume, _, target = postgres["volumes"][0].partition(":")
    assert volume in compose["volumes"]  # named, not a host directory
    assert target == "/var/lib/postgresql/data"
    assert services["bot"]["build"] == "."


def test_both_services_have_health_checks_the_bot_through_healthz(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    bot_check = " ".join(services["bot"]["healthcheck"]["test"])
    port = services["bot"]["environment"]["WEB_PORT"]
    assert f"http://127.0.0.1:{port}/healthz" in bot_check
    assert services["bot"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_bots_database_is_the_postgres_service_and_settings_come_from_env_file(
    compose: dict[str, Any],
) -> None:
    bot = compose["services"]["bot"]
    postgres = compose["services"]["postgres"]["environment"]
    url = make_url(bot["environment"]["DATABASE_URL"].replace("${POSTGRES_PASSWORD}", "pw"))
    assert url.get_backend_name() == "postgresql"
    assert (url.host, url.port) == ("postgres", 5432)
    assert (url.username, url.database) == (postgres["POSTGRES_USER"], postgres["POSTGRES_DB"])
    assert postgres["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD")
    assert bot["env_file"] == ".env"
    # the bot reads that URL as a PostgreSQL database
    assert Settings(_env_file=None, database_url=str(url)).database_url.startswith("postgresql")


def test_the_image_is_python_311_slim_runs_as_a_user_and_bakes_no_secret() -> None:
    instructions = _instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}
    for keyword, rest in instructions:
        if keyword in {"ENV", "ARG"}:
            assert not SECRET_NAMES.search(rest), rest
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored and "*.db" in ignored  # never copied into the image


def test_the_image_copies_every_package_pip_installs_and_the_migrations() -> None:
    copied = {
        rest.split()[0].rstrip("/")
        for keyword, rest in _instructions()
        if keyword == "COPY" and not rest.startswith("--")
    }
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert packages <= copied
    assert {"migrations", "pyproject.toml"} <= copied
    sources = [
        s for keyword, rest in _instructions() if keyword == "COPY" for s in rest.split()[:-1]
    ]
    assert all((ROOT / source).exists() for source in sources)
    runs = " ".join(rest for keyword, rest in _instructions() if keyword == "RUN")
    assert "pip install -e ." in runs


def test_the_image_migrates_then_runs_the_bot_with_commands_the_cli_knows(
    compose: dict[str, Any],
) -> None:
    (cmd,) = [rest for keyword, rest in _instructions() if keyword == "CMD"]
    argv = yaml.safe_load(cmd)  # the exec form is a JSON array
    assert argv[:2] == ["sh", "-c"]
    assert "$BOT_RUN_OPTIONS" in argv[2]
    # BOT_RUN_OPTIONS unset (one school, as before) and as a district sets it in `.env`.
    for options, every_school in (("", False), ("--all-schools --webhook", True)):
        command = argv[2].replace("exec ", "").replace("$BOT_RUN_OPTIONS", options)
        steps = [shlex.split(step) for step in command.split("&&")]
        assert [step[:3] for step in steps] == [["python", "-m", "bot"]] * 2
        assert [step[3:4] for step in steps] == [["db"], ["run"]]
        for step in steps:
            args = _parser().parse_args(step[3:])
            assert args.command == step[3]
        run = _parser().parse_args(steps[1][3:])
        assert (run.all_schools, run.webhook) == (every_school, every_school)
    assert compose["services"]["bot"]["environment"]["BOT_RUN_OPTIONS"] == "${BOT_RUN_OPTIONS:-}"


def test_the_web_server_runs_without_wecom_only_when_web_port_is_given() -> None:
    assert not Settings(_env_file=None).web_server_requested
    assert Settings(_env_file=None, web_port=8080).web_server_requested
