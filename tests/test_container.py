"""The Dockerfile and docker-compose.yml, read as files (no Docker engine runs here).

They must install exactly what `make setup` installs, the way it installs it (the Makefile's
build-venv, which CI runs through .ci/run), run as non-root on the pinned Python, and carry no
secret; compose must give each Rasa server every variable of endpoints.prod.yml, with the values
web/endpoints.py derives from the app's own settings (so both sides reach the same backends).
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from knowledge.settings import Settings
from web import endpoints
from web.stack import RASA_SERVER

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
MAKEFILE = ROOT / "Makefile"
# Stand-ins for the secrets compose reads from its environment.
SECRETS = {"POSTGRES_PASSWORD": "pg-secret", "REDIS_PASSWORD": "redis-secret",
           "RABBITMQ_PASSWORD": "mq-secret", "HOTLINE_SECRET_KEY": "k" * 32}


# --- the Dockerfile -----------------------------------------------------------------------------

def dockerfile_stages() -> dict[str, list[tuple[str, str]]]:
    """{stage: [(INSTRUCTION, arguments)]}, continuation lines joined, comments dropped."""
    stages: dict[str, list[tuple[str, str]]] = {"": []}
    current = ""
    logical = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not logical and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        logical += (" " if logical else "") + line.rstrip("\\").strip()
        if line.endswith("\\"):
            continue
        instruction, _, args = logical.partition(" ")
        logical = ""
        if instruction.upper() == "FROM":
            match = re.fullmatch(r"(\S+) AS (\w+)", args, re.IGNORECASE)
            assert match, args
            current = match.group(2)
            stages[current] = [("FROM", match.group(1))]
        else:
            stages[current].append((instruction.upper(), args))
    return stages


def lineage(stages, name: str) -> list[tuple[str, str]]:
    """A stage's instructions with those of the stages it is built FROM."""
    first = stages[name][0][1]
    return (lineage(stages, first) if first in stages else []) + stages[name]


def pip_commands(instructions) -> list[list[str]]:
    """Every `pip install` / `pip check` of RUN lines, as argument lists after `pip`."""
    found = []
    for instruction, args in instructions:
        if instruction != "RUN":
            continue
        for command in re.split(r"&&|;", args):
            words = shlex.split(command.replace("python -m pip", "pip"))
            if words[:1] == ["pip"]:
                found.append(words[1:])
    return found


def makefile_pip_commands(venv_in: str, lock: str) -> list[list[str]]:
    """The pip commands of the Makefile's build-venv for one venv, in the Dockerfile's spelling."""
    text = MAKEFILE.read_text()
    body = re.search(r"^define build-venv\n(.*?)^endef", text, re.S | re.M).group(1)
    found = []
    for line in body.replace("\\\n", " ").splitlines():
        if "-m pip" not in line:
            continue
        line = line.split(" 2>")[0]  # stderr filtering is the Makefile's, not pip's
        line = (line.replace("$(1)/bin/python -m pip", "pip").replace("$(PIP_FLAGS)", "")
                .replace("$(REQ)", "requirements").replace("$(2)", venv_in).replace("$(3)", lock))
        found.append(shlex.split(line)[1:])
    return found


@pytest.mark.parametrize("stage,venv_in,lock", [
    ("rasa", "requirements/rasa.in", "requirements/rasa.lock"),
    ("app", "requirements/app.in", "requirements/app.lock"),
])
def test_each_image_installs_its_lock_exactly_as_make_setup(stage, venv_in, lock):
    stages = dockerfile_stages()
    assert pip_commands(lineage(stages, stage)) == makefile_pip_commands(venv_in, lock)
    # And compares the result with the lock, as the Makefile's venv-matches-lock does.
    runs = " ".join(args for instruction, args in stages[stage] if instruction == "RUN")
    assert f"grep -v '^\\s*\\(#\\|$\\)' {lock}" in runs and "pip freeze --all --exclude-editable" in runs
    copied = " ".join(args for instruction, args in lineage(stages, stage) if instruction == "COPY")
    for needed in ("requirements/bootstrap.lock", venv_in, lock):
        assert needed.split("/")[-1] in copied, f"{stage} does not copy {needed}"


def test_ci_installs_through_make_setup():
    # The Makefile's build-venv is what CI runs: .ci/run calls make setup, and setup builds both venvs.
    assert re.search(r"^make setup$", (ROOT / ".ci" / "run").read_text(), re.M)
    assert re.search(r"^setup: .*\$\(RASA_STAMP\) \$\(APP_STAMP\)", MAKEFILE.read_text(), re.M)


def test_images_are_pinned_python_and_run_as_non_root():
    stages = dockerfile_stages()
    text = DOCKERFILE.read_text()
    python = (ROOT / ".python-version").read_text().strip()
    image = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M).group(1)
    assert re.fullmatch(rf"python:{re.escape(python)}-slim(-\w+)?(@sha256:[0-9a-f]{{64}})?", image), image
    assert stages["base"][0] == ("FROM", "${PYTHON_IMAGE}")
    for stage in ("rasa", "app"):
        users = [args for instruction, args in lineage(stages, stage) if instruction == "USER"]
        assert users and users[-1] not in ("root", "0"), f"{stage} runs as root"
        assert [i for i, _ in stages[stage]][-1] == "CMD"
    # The Rasa image has our NLU components and not the rest (SQLAlchemy 2 code).
    rasa_copies = " ".join(args for instruction, args in stages["rasa"] if instruction == "COPY")
    assert "bot/" in rasa_copies and "knowledge/" not in rasa_copies
    assert "endpoints.prod.yml" in rasa_copies


def test_the_app_image_installs_only_system_packages_make_setup_installs():
    packages = set(re.search(r"^SYSTEM_PACKAGES := (.*)$", MAKEFILE.read_text(), re.M).group(1).split())
    installs = re.findall(r"apt-get install (?:-\S+ )*((?:[a-z0-9][\w.+-]* ?)+)", DOCKERFILE.read_text())
    assert installs
    for words in installs:
        assert set(words.split()) <= packages, words


def test_the_rasa_image_runs_the_production_endpoints_without_the_http_api():
    cmd = next(args for instruction, args in dockerfile_stages()["rasa"] if instruction == "CMD")
    argv = yaml.safe_load(cmd)
    # Rasa's `rasa run`, through the launcher the Makefile's processes use too (web/stack.py).
    assert argv[:4] == ["python", "-m", "bot.server", "run"] == [Path(RASA_SERVER[0]).name, *RASA_SERVER[1:]]
    assert "--enable-api" not in argv
    assert argv[argv.index("--endpoints") + 1] == "endpoints.prod.yml"
    assert argv[argv.index("--model") + 1] == "/app/models/current.tar.gz"
    assert argv[argv.index("--logging-config-file") + 1] == "rasa-logging.yml"
    # The same command in compose.
    compose = yaml.safe_load(COMPOSE.read_text())
    assert compose["x-rasa"]["command"] == argv


# --- docker-compose.yml ---------------------------------------------------------------------------

def interpolate(value, env: dict[str, str]):
    """Compose's ${VAR}, ${VAR:?message}, ${VAR:-default} (what `docker compose config` does)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg or ""

    return re.sub(r"\$\{(\w+)(?:(:\?|:-)([^}]*))?\}", one, value)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_runs_two_rasa_actions_app_and_the_three_backends(compose):
    services = compose["services"]
    assert {"rasa-1", "rasa-2", "actions", "app", "postgres", "redis", "rabbitmq"} <= set(services)
    for name in ("rasa-1", "rasa-2"):
        assert services[name]["build"]["target"] == "rasa"
    for name in ("actions", "app", "init"):
        assert services[name]["build"]["target"] == "app"
    urls = interpolate(services["app"]["environment"], SECRETS)["HOTLINE_RASA_URLS"].split(",")
    assert urls == ["http://rasa-1:5005", "http://rasa-2:5005"]
    for name, service in services.items():
        image = service["image"]
        assert image.startswith("hotline-") or re.fullmatch(r"[\w/.-]+:\d[\w.-]*", image), (name, image)


def test_compose_carries_no_secret(compose):
    text = COMPOSE.read_text()
    for name in SECRETS:
        # Only ever read from the environment, and required there.
        for use in re.findall(r"\$\{" + name + r"([^}]*)\}", text):
            assert use.startswith(":?"), f"${{{name}{use}}} has a default"
    with pytest.raises(KeyError):
        interpolate(compose, {})
    for name, service in compose["services"].items():
        env = service.get("environment") or {}
        for key, value in env.items():
            if re.search(r"PASSWORD|SECRET|_KEY$", key):
                assert isinstance(value, str) and value.startswith("${") and ":?" in value, (name, key)
        for key, value in env.items():
            parts = re.match(r"\w+://[^:/@]*:([^@]*)@", str(value))
            if parts:
                assert parts.group(1).startswith("${"), (name, key)


def test_each_rasa_server_gets_every_endpoint_variable_with_the_apps_backends(compose):
    services = interpolate(compose["services"], SECRETS)
    needed = set(re.findall(r"\$\{(\w+)\}", yaml.safe_dump(yaml.safe_load(endpoints.PRODUCTION.read_text()))))
    app_settings = Settings.from_env(services["app"]["environment"])
    derived = endpoints.rasa_endpoints(app_settings, "http://actions:5055/webhook", broker_url=None)
    # The app's settings select every production backend, i.e. exactly endpoints.prod.yml.
    assert derived.text() == endpoints.PRODUCTION.read_text()
    for name in ("rasa-1", "rasa-2"):
        env = {k: str(v) for k, v in services[name]["environment"].items()}
        assert needed <= set(env), needed - set(env)
        assert {k: env[k] for k in needed} == derived.env
        assert services[name]["command"][services[name]["command"].index("--endpoints") + 1] == "endpoints.prod.yml"
