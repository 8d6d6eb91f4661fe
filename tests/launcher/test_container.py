"""The Dockerfile and docker-compose.yml, read as files (no Docker engine runs here).

They must install the runtime part of what `make setup` installs (requirements/X-runtime.lock: X.lock
less the test tools), the way it installs it (the Makefile's build-venv, which CI runs through
.ci/run); run each process with the command line and port of launcher/processes.py (the one
definition `make run` and the tests use too), with a healthcheck; copy every package the process
needs; run as non-root on the pinned Python and carry no secret. Compose must give each Rasa server
every variable of endpoints.prod.yml, with the values launcher/endpoints.py derives from the app's own
settings (so both sides reach the same backends).
"""
from __future__ import annotations

import http.server
import json
import re
import shlex
import subprocess
import sys
import threading
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from hotline.settings import Settings
from launcher import endpoints, processes
from launcher.stack import RASA_PYTHON

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
MAKEFILE = ROOT / "Makefile"
REQ = ROOT / "requirements"
# Stand-ins for the secrets compose reads from its environment.
SECRETS = {"POSTGRES_PASSWORD": "pg-secret", "REDIS_PASSWORD": "redis-secret",
           "RABBITMQ_PASSWORD": "mq-secret", "HOTLINE_SECRET_KEY": "k" * 32}
# What the images must not carry (pyproject's [test] extra, rasa.in's runner of tests/bot).
TEST_TOOLS = {"pytest", "pytest-asyncio", "hypothesis", "playwright"}
# Where the images run the model from (mounted, never built in).
MODEL = "/app/models/current.tar.gz"


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


def last(stages, stage: str, instruction: str) -> str | None:
    """The arguments of the stage's (inherited) last INSTRUCTION: the one in force."""
    found = [args for i, args in lineage(stages, stage) if i == instruction]
    return found[-1] if found else None


def exec_form(args: str) -> list[str]:
    argv = json.loads(args)
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv), f"not exec form: {args}"
    return argv


def healthcheck(args: str) -> tuple[dict[str, str], list[str]]:
    """HEALTHCHECK [--option=value ...] CMD [exec form]: the options and the command."""
    options, _, command = args.partition(" CMD ")
    return dict(re.findall(r"--([\w-]+)=(\S+)", options)), exec_form(command)


def copies(instructions) -> set[str]:
    """The sources of COPY instructions (without options such as --chown)."""
    found = set()
    for instruction, args in instructions:
        if instruction == "COPY":
            words = [w for w in shlex.split(args) if not w.startswith("--")]
            found.update(words[:-1])
    return found


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
    ("rasa", "requirements/rasa-runtime.in", "requirements/rasa-runtime.lock"),
    ("app", "requirements/app-runtime.in", "requirements/app-runtime.lock"),
])
def test_each_image_installs_its_runtime_lock_exactly_as_make_setup_installs_a_venv(stage, venv_in, lock):
    stages = dockerfile_stages()
    assert pip_commands(lineage(stages, stage)) == makefile_pip_commands(venv_in, lock)
    # And compares the result with the lock, as the Makefile's venv-matches-lock does.
    runs = " ".join(args for instruction, args in stages[stage] if instruction == "RUN")
    assert f"grep -v '^\\s*\\(#\\|$\\)' {lock}" in runs and "pip freeze --all --exclude-editable" in runs
    copied = " ".join(copies(lineage(stages, stage)))
    for needed in ("requirements/bootstrap.lock", venv_in, lock):
        assert needed.split("/")[-1] in copied, f"{stage} does not copy {needed}"
    # Not the venv's own lock, with the test tools.
    assert not {f"{stage}.in", f"{stage}.lock"} & {Path(c).name for c in copied.split()}


def test_ci_installs_through_make_setup():
    # The Makefile's build-venv is what CI runs: .ci/run calls make setup, and setup builds both venvs.
    assert re.search(r"^make setup$", (ROOT / ".ci" / "run").read_text(), re.M)
    assert re.search(r"^setup: .*\$\(RASA_STAMP\) \$\(APP_STAMP\)", MAKEFILE.read_text(), re.M)


# --- the runtime locks ----------------------------------------------------------------------------

def lock_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"{path.name}: {line!r} is not pinned"
            pins[canonicalize_name(name)] = version
    return pins


def requirement_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("venv", ["rasa", "app"])
def test_a_runtime_lock_is_its_venvs_lock_less_the_test_tools(venv):
    full, runtime = lock_pins(REQ / f"{venv}.lock"), lock_pins(REQ / f"{venv}-runtime.lock")
    # Same versions: the images run what the tests ran on (a stale runtime lock: make lock-runtime).
    assert {name: full.get(name) for name in runtime} == runtime, "make lock-runtime"
    assert not TEST_TOOLS & set(runtime)
    assert not {name for name in runtime if name.startswith("pytest")}
    assert TEST_TOOLS & set(full)  # what is left out is there to leave out (the venvs do run tests)
    # X-runtime.in asks for what X.in asks for, less the test tools (our project without [test]).
    asked = [line.replace(".[test]", ".") for line in requirement_lines(REQ / f"{venv}.in")]
    runtime_asked = requirement_lines(REQ / f"{venv}-runtime.in")
    assert runtime_asked == [line for line in asked if canonicalize_name(re.split(r"[<>=!~\[ ;]", line)[0])
                             not in {canonicalize_name(t) for t in TEST_TOOLS}]
    assert re.search(rf"^# Generated by 'make lock-{venv}-runtime'", (REQ / f"{venv}-runtime.lock").read_text(), re.M)


def installed(venv: str) -> dict[str, metadata.Distribution]:
    """The distributions of a venv by canonical name: .venv is this interpreter's."""
    if venv == "app":
        dists = metadata.distributions()
    else:
        sites = sorted((ROOT / ".venv-rasa" / "lib").glob("python3*/site-packages"))
        if not sites:
            pytest.skip(".venv-rasa is not built (make setup)")
        dists = metadata.distributions(path=[str(sites[0])])
    found: dict[str, metadata.Distribution] = {}
    for dist in dists:  # the first on the path is the one imported
        found.setdefault(canonicalize_name(dist.metadata["Name"]), dist)
    return found


def closure(roots: list[Requirement], dists: dict[str, metadata.Distribution]) -> set[str]:
    """Every distribution ``roots`` need, through the installed metadata (markers and extras)."""
    names: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(root, "") for root in roots]
    while todo:
        req, parent_extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": parent_extra}):
            continue
        name = canonicalize_name(req.name)
        if (name, frozenset(req.extras)) in seen:
            continue
        seen.add((name, frozenset(req.extras)))
        names.add(name)
        if name not in dists:
            pytest.fail(f"{name} is not installed: the venv is not built from the current locks (make setup)")
        for spec in dists[name].requires or []:
            for extra in ("", *req.extras):
                todo.append((Requirement(spec), extra))
    return names


def roots_of(in_file: Path) -> list[Requirement]:
    found = []
    for line in requirement_lines(in_file):
        if line.startswith("-e ."):
            extras = re.search(r"\[(.*)\]", line)
            found.append(Requirement("nanjing-12320-hotline" + (f"[{extras.group(1)}]" if extras else "")))
        else:
            found.append(Requirement(line))
    return found


@pytest.mark.parametrize("venv", ["rasa", "app"])
def test_a_runtime_lock_holds_exactly_what_the_runtime_needs(venv):
    """What X-runtime.in needs by the metadata of the venv (built from X.lock), and the packaging
    tools of bootstrap.lock: nothing more (a test tool's dependency), nothing less."""
    dists = installed(venv)
    needed = closure(roots_of(REQ / f"{venv}-runtime.in"), dists) - {"nanjing-12320-hotline"}
    needed |= set(lock_pins(REQ / "bootstrap.lock"))
    assert set(lock_pins(REQ / f"{venv}-runtime.lock")) == needed


def test_make_lock_writes_the_runtime_locks_after_the_venvs_locks():
    text = MAKEFILE.read_text()
    rule = re.search(r"^lock: lock-rasa lock-app\n((?:\t.*\n)+)", text, re.M)
    assert rule and "lock-runtime" in rule.group(1)
    assert re.search(r"^lock-runtime: lock-rasa-runtime lock-app-runtime$", text, re.M)
    assert re.search(r"^lock-rasa lock-app lock-rasa-runtime lock-app-runtime: lock-%:$", text, re.M)
    # A runtime lock is resolved under its venv's lock: the same versions, never newer ones.
    assert "-c $(REQ)/$(*:-runtime=).lock" in text


# --- the images ---------------------------------------------------------------------------------

def test_images_are_pinned_python_and_run_as_non_root():
    stages = dockerfile_stages()
    text = DOCKERFILE.read_text()
    python = (ROOT / ".python-version").read_text().strip()
    image = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M).group(1)
    assert re.fullmatch(rf"python:{re.escape(python)}-slim(-\w+)?(@sha256:[0-9a-f]{{64}})?", image), image
    assert stages["base"][0] == ("FROM", "${PYTHON_IMAGE}")
    for stage in ("rasa", "app"):
        user = last(stages, stage, "USER")
        assert user and user not in ("root", "0"), f"{stage} runs as root"
        assert [i for i, _ in stages[stage]][-1] == "CMD"


def test_the_app_image_installs_only_system_packages_make_setup_installs():
    packages = set(re.search(r"^SYSTEM_PACKAGES := (.*)$", MAKEFILE.read_text(), re.M).group(1).split())
    installs = re.findall(r"apt-get install (?:-\S+ )*((?:[a-z0-9][\w.+-]* ?)+)", DOCKERFILE.read_text())
    assert installs
    for words in installs:
        assert set(words.split()) <= packages, words


def pyproject_packages() -> set[str]:
    """The top-level packages of pyproject.toml (what `pip install -e .` makes importable)."""
    text = (ROOT / "pyproject.toml").read_text()
    include = re.search(r"^\[tool\.setuptools\.packages\.find\].*?^include = \[(.*?)\]", text, re.S | re.M)
    return {name for name in re.findall(r'"([\w.*]+)"', include.group(1)) if "." not in name}


def test_pyproject_lists_every_package_of_the_repository():
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert pyproject_packages() == on_disk


def test_the_app_image_copies_every_package_of_pyproject():
    copied = copies(dockerfile_stages()["app"])
    missing = {f"{name}/" for name in pyproject_packages()} - copied
    assert not missing, f"the app image does not COPY {sorted(missing)} (pyproject.toml's packages)"
    assert "pyproject.toml" in copied


def test_the_rasa_image_copies_what_make_setup_links_into_the_rasa_venv_and_nothing_else():
    # The Makefile links bot/ and the pure rules it uses into .venv-rasa: the image puts the same
    # packages on PYTHONPATH, and none of those that need SQLAlchemy 2.
    linked = set(re.findall(r"ln -sfn \$\(CURDIR\)/(\w+) \$\(RASA_VENV\)/src/", MAKEFILE.read_text()))
    assert {"bot", "safety"} <= linked
    stages = dockerfile_stages()
    copied = {c.rstrip("/") for c in copies(stages["rasa"])} & pyproject_packages()
    assert copied == linked
    assert "PYTHONPATH=/app" in " ".join(args for i, args in stages["rasa"] if i == "ENV")
    assert "endpoints.prod.yml" in copies(stages["rasa"])


def test_the_rasa_image_is_the_rasa_command_whose_arguments_start_at_run():
    stages = dockerfile_stages()
    entrypoint = exec_form(last(stages, "rasa", "ENTRYPOINT"))
    cmd = exec_form(last(stages, "rasa", "CMD"))
    # `rasa` semantics: Rasa's Helm chart gives the container args that start with `run`.
    assert entrypoint == list(processes.RASA_COMMAND)
    assert cmd[0] == "run"
    # The one definition of the Rasa server (launcher/processes.py), on the production endpoints.
    assert entrypoint + cmd == processes.rasa_argv(
        model=MODEL, endpoints="endpoints.prod.yml", credentials="credentials.yml", interface="0.0.0.0",
        logging_config="rasa-logging.yml")
    assert "--enable-api" not in cmd
    assert last(stages, "rasa", "EXPOSE").split() == [str(processes.RASA.port)]


def test_the_rasa_command_is_rasas_own_command_line():
    """``python -m bot.server ARGS`` is ``rasa ARGS`` (bot/server/__main__.py), run for real."""
    if not RASA_PYTHON.is_file():
        pytest.skip(".venv-rasa is not built (make setup)")
    argv = processes.with_python([*processes.RASA_COMMAND, "run", "--help"], RASA_PYTHON)
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage: rasa run") and "--enable-api" in done.stdout


def test_the_app_image_migrates_the_store_then_runs_the_app():
    stages = dockerfile_stages()
    assert last(stages, "app", "ENTRYPOINT") is None  # compose's other commands run as they are written
    shell, flag, script = exec_form(last(stages, "app", "CMD"))
    assert (shell, flag) == ("sh", "-c")
    steps = [step.strip() for step in script.split("&&")]
    assert steps[0] == "hotline db upgrade"  # the store's schema first: the app creates no tables
    assert shlex.split(steps[-1]) == ["exec", *processes.app_argv()] and len(steps) == 2
    assert sorted(last(stages, "app", "EXPOSE").split()) == sorted(
        [str(processes.APP.port), str(processes.ACTIONS.port)])
    assert "HOTLINE_APP_HOST=0.0.0.0" in " ".join(args for i, args in stages["app"] if i == "ENV")


# --- healthchecks ---------------------------------------------------------------------------------

def urls_in(argv: list[str]) -> list[str]:
    return re.findall(r"https?://[^'\"\s)]+", " ".join(argv))


def compose_healthcheck(service: dict) -> list[str]:
    test = service["healthcheck"]["test"]
    assert test[0] == "CMD", test
    return test[1:]


def all_healthchecks() -> dict[str, tuple[list[str], str]]:
    """{where: (command, the URL launcher/processes.py says it must ask)}."""
    stages = dockerfile_stages()
    compose = yaml.safe_load(COMPOSE.read_text())
    return {
        "rasa image": (healthcheck(last(stages, "rasa", "HEALTHCHECK"))[1], processes.RASA.health_url()),
        "app image": (healthcheck(last(stages, "app", "HEALTHCHECK"))[1], processes.APP.health_url()),
        "compose actions": (compose_healthcheck(compose["services"]["actions"]), processes.ACTIONS.health_url()),
    }


@pytest.mark.parametrize("where", ["rasa image", "app image", "compose actions"])
def test_each_process_has_a_healthcheck_on_its_health_url(where):
    command, url = all_healthchecks()[where]
    assert command[:2] == ["python", "-c"]  # the images have no curl
    assert urls_in(command) == [url]


def test_the_rasa_healthcheck_waits_for_the_model():
    options, _ = healthcheck(last(dockerfile_stages(), "rasa", "HEALTHCHECK"))
    assert int(options["start-period"].rstrip("s")) >= 120  # loading the model takes a minute or two


class _Answer(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("where", ["rasa image", "app image", "compose actions"])
def test_a_healthcheck_fails_unless_its_process_answers_200(where):
    command, url = all_healthchecks()[where]
    server = http.server.HTTPServer(("127.0.0.1", 0), _Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    here = f"http://127.0.0.1:{server.server_port}"
    argv = [sys.executable, *[re.sub(r"http://127\.0\.0\.1:\d+", here, a) for a in command[1:]]]
    try:
        for status, healthy in ((200, True), (503, False)):
            server.status = status
            assert (subprocess.run(argv, capture_output=True, timeout=30).returncode == 0) is healthy, status
    finally:
        server.shutdown()
        server.server_close()
    assert subprocess.run(argv, capture_output=True, timeout=30).returncode != 0  # nothing listening


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


def effective_command(service: dict) -> list[str]:
    """What a service runs: its image's ENTRYPOINT, and its command or else the image's CMD."""
    stages = dockerfile_stages()
    stage = service["build"]["target"]
    entrypoint = last(stages, stage, "ENTRYPOINT")
    command = service.get("command") or exec_form(last(stages, stage, "CMD"))
    return (exec_form(entrypoint) if entrypoint else []) + command


def test_compose_runs_two_rasa_actions_app_and_the_three_backends(compose):
    services = compose["services"]
    assert {"rasa-1", "rasa-2", "actions", "app", "postgres", "redis", "rabbitmq"} <= set(services)
    for name in ("rasa-1", "rasa-2"):
        assert services[name]["build"]["target"] == "rasa"
    for name in ("actions", "app", "init"):
        assert services[name]["build"]["target"] == "app"
    for name, service in services.items():
        image = service["image"]
        assert image.startswith("hotline-") or re.fullmatch(r"[\w/.-]+:\d[\w.-]*", image), (name, image)


def test_compose_runs_each_process_as_launcher_processes_defines_it(compose):
    services = compose["services"]
    assert effective_command(services["actions"]) == processes.actions_argv()
    for name in ("rasa-1", "rasa-2"):
        assert effective_command(services[name]) == processes.rasa_argv(
            model=MODEL, endpoints="endpoints.prod.yml", credentials="credentials.yml", interface="0.0.0.0",
            logging_config="rasa-logging.yml")
        assert services[name]["depends_on"]["actions"] == {"condition": "service_healthy"}
    app = effective_command(services["app"])
    assert app == exec_form(last(dockerfile_stages(), "app", "CMD"))  # migrations, then the app
    # The ports, as the other services reach them.
    env = interpolate(services["app"]["environment"], SECRETS)
    assert env["HOTLINE_RASA_URLS"].split(",") == [processes.RASA.url(host=name) for name in ("rasa-1", "rasa-2")]
    assert services["rasa-1"]["environment"]["HOTLINE_ACTION_ENDPOINT_URL"] == \
        processes.ACTIONS.url(host="actions") + "/webhook"
    assert services["app"]["ports"] == [f"127.0.0.1:{processes.APP.port}:{processes.APP.port}"]
    assert "HOTLINE_APP_PORT" not in env  # the app listens on its default port


def test_compose_init_migrates_the_store_before_it_ingests(compose):
    init = compose["services"]["init"]
    shell, flag, script = init["command"]
    steps = [step.strip() for step in script.split("&&")]
    assert (shell, flag) == ("sh", "-c")
    assert steps.index("hotline db upgrade") < next(i for i, s in enumerate(steps) if s.startswith("hotline ingest"))
    assert init["healthcheck"] == {"disable": True}  # one-shot: the image's healthcheck is the app's


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
    derived = endpoints.rasa_endpoints(app_settings, processes.ACTIONS.url(host="actions") + "/webhook",
                                       broker_url=None)
    # The app's settings select every production backend, i.e. exactly endpoints.prod.yml.
    assert derived.text() == endpoints.PRODUCTION.read_text()
    for name in ("rasa-1", "rasa-2"):
        env = {k: str(v) for k, v in services[name]["environment"].items()}
        assert needed <= set(env), needed - set(env)
        assert {k: env[k] for k in needed} == derived.env
        command = effective_command(compose["services"][name])
        assert command[command.index("--endpoints") + 1] == "endpoints.prod.yml"


def test_the_rasa_image_has_every_module_of_ours_that_its_code_imports():
    """What Rasa runs (bot/ and what it imports: the tracker stores use hotline/privacy.py) is in the
    Rasa image, which holds only those (the rest of the repository needs SQLAlchemy 2)."""
    import ast

    copied = copies(dockerfile_stages()["rasa"])
    ours = pyproject_packages()
    have = lambda path: any(path == c or (c.endswith("/") and path.startswith(c)) for c in copied)  # noqa: E731
    todo, seen = [p for c in copied if c.endswith("/") for p in (ROOT / c).rglob("*.py")], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        # Module-level imports: an import inside a function runs only where it is called (privacy's
        # load_published reads the store in the app and the action server, never in Rasa).
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
            for name in names:
                if name.split(".")[0] not in ours:
                    continue
                module = ROOT / (name.replace(".", "/") + ".py")
                module = module if module.is_file() else ROOT / name.replace(".", "/") / "__init__.py"
                relative = str(module.relative_to(ROOT))
                assert have(relative), f"{path.relative_to(ROOT)} imports {name}: the Rasa image lacks {relative}"
                todo.append(module)
