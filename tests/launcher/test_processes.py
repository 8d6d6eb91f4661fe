"""One definition of each process (launcher/processes.py), and what is derived from it.

The stack (make run, make run-prod, tests/e2e, tests/prod, bench/loadtest.py) starts exactly those
command lines; the settings' defaults are its ports; the endpoints.yml Rasa reads when run by hand
is the launcher's template with make run's values; each setting's default is written once.
(The Dockerfile and docker-compose.yml are compared with it in test_container.py.)
"""
from __future__ import annotations

import dataclasses
import io
import os
import re
import sys
from pathlib import Path

import pytest
import yaml

from hotline.settings import Settings
from launcher import endpoints, processes, progress
from launcher.stack import BROKER_SQLITE_TIMEOUT, CREDENTIALS, MODEL, RASA_PYTHON, Stack

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = ROOT / "Makefile"


def test_the_stack_starts_each_process_as_defined(tmp_path):
    s = Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"})
    stack = Stack(s, actions_port=6055, rasa_port=6005, app_port=6080, extra_rasa_ports=(6006,), base_env={})
    services = {service.name: service for service in stack._services()}
    actions, rasa, rasa_2, app = (services[n] for n in ("action server", "Rasa server", "Rasa server 2", "app"))
    assert actions.argv == processes.with_python(processes.actions_argv(6055), sys.executable)
    assert app.argv == processes.with_python(processes.app_argv(), sys.executable)
    for service, port in ((rasa, 6005), (rasa_2, 6006)):
        assert service.argv == processes.with_python(processes.rasa_argv(
            model=MODEL, endpoints=endpoints.EMBEDDED, credentials=CREDENTIALS, interface="127.0.0.1", port=port),
            RASA_PYTHON)
    assert [actions.ready_url, rasa.ready_url, app.ready_url] == [
        processes.ACTIONS.health_url(6055), processes.RASA.health_url(6005), processes.APP.health_url(6080)]
    # The app reaches the Rasa server where the stack put it.
    assert Settings.from_env(app.env).app_port == 6080 and Settings.from_env(app.env).rasa_url == stack.rasa_url


def test_the_defaults_are_the_ports_of_the_processes(tmp_path):
    stack = Stack(Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path)}))
    assert (stack.actions_port, stack.rasa_port, stack.app_port) == (
        processes.ACTIONS.port, processes.RASA.port, processes.APP.port)
    s = Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path)})
    assert s.app_port == processes.APP.port and s.rasa_url == processes.RASA.url() == stack.rasa_url
    assert s.app_host == processes.LOOPBACK
    # make run-prod asks for two Rasa servers (on the default port and the next), not for ports.
    assert re.search(r"^\texec .*launcher\.supervise --rasa-servers \$\(PROD_RASA_SERVERS\)$",
                     MAKEFILE.read_text(), re.M)


def test_the_default_shape_runs_a_rasa_server_per_core(monkeypatch, tmp_path):
    """One Rasa server per core (at least one, at most four) unless HOTLINE_RASA_SERVERS says;
    without shared stores the app remembers where each conversation is (web/rasa.py Placement)."""
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path)}).rasa_server_count == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path)}).rasa_server_count == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path)}).rasa_server_count == 3
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path)}).rasa_server_count == 4
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path)}).rasa_server_count == 1
    one = Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path), "HOTLINE_RASA_SERVERS": "1"})
    assert one.rasa_server_count == 1 and not one.conversations_shared
    shared = Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path), "HOTLINE_TRACKER_STORE_URL": "postgresql://x/y",
                                "HOTLINE_LOCK_STORE_URL": "redis://127.0.0.1:6379/1"})
    assert shared.conversations_shared
    with pytest.raises(ValueError):
        Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path), "HOTLINE_RASA_SERVERS": "-1"})


def test_two_rasa_servers_without_shared_stores_start_on_consecutive_ports(tmp_path):
    stack = Stack(Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path)}), rasa_port=7005, extra_rasa_ports=(7006,))
    services = {s.name: s for s in stack._services()}
    assert stack.rasa_urls == ["http://127.0.0.1:7005", "http://127.0.0.1:7006"]
    app = Settings.from_env(services["app"].env)
    assert app.rasa_instances == tuple(stack.rasa_urls) and not app.conversations_shared


# --- settings -----------------------------------------------------------------------------------

ENV_FIELDS = [f for f in dataclasses.fields(Settings) if "env" in f.metadata]
# A value each variable may take, and the field it gives.
SAMPLES = {
    "HOTLINE_APP_HOST": ("0.0.0.0", "0.0.0.0"), "HOTLINE_APP_PORT": ("9090", 9090),
    "HOTLINE_RASA_URL": ("http://rasa:5005/", "http://rasa:5005"),
    "HOTLINE_SECRET_KEY": ("s" * 20, b"s" * 20),
    "WECHAT_TOKEN": ("t", "t"), "WECHAT_APPID": ("wx1", "wx1"), "WECHAT_AES_KEY": ("a", "a"),
    "WECHAT_SECRET": ("x", "x"), "WECHAT_API_URL": ("http://127.0.0.1:1/", "http://127.0.0.1:1"),
    "HOTLINE_COOKIE_SECURE": ("on", True),
    "HOTLINE_RASA_URLS": (" http://a:1/, ,http://b:2", ("http://a:1", "http://b:2")),
    "HOTLINE_RASA_SERVERS": ("3", 3),
    "HOTLINE_TRACKER_STORE_URL": ("postgresql://h/r", "postgresql://h/r"),
    "HOTLINE_LOCK_STORE_URL": ("redis://h/1", "redis://h/1"),
    "HOTLINE_RABBITMQ_URL": ("amqp://g:g@h", "amqp://g:g@h"), "HOTLINE_RABBITMQ_QUEUE": ("q", "q"),
    "HOTLINE_CRISIS_MODEL": ("/srv/crisis.json", Path("/srv/crisis.json")),
}


def test_every_setting_is_read_from_its_variable_and_defaults_to_its_field(tmp_path):
    assert set(SAMPLES) <= {f.metadata["env"] for f in ENV_FIELDS}
    base = {"HOTLINE_VAR_DIR": str(tmp_path)}
    unset, empty = Settings.from_env(base), Settings.from_env({**base, **{v: "" for v in SAMPLES}})
    for f in ENV_FIELDS:
        assert getattr(unset, f.name) == f.default == getattr(empty, f.name), f.name
        if f.metadata["env"] in SAMPLES:
            value, parsed = SAMPLES[f.metadata["env"]]
            assert getattr(Settings.from_env({**base, f.metadata["env"]: value}), f.name) == parsed, f.name
    # Constructed by hand (tests), the same defaults.
    by_hand = Settings(database_url=unset.database_url, var_dir=tmp_path)
    assert all(getattr(by_hand, f.name) == getattr(unset, f.name) for f in ENV_FIELDS)


def test_a_setting_that_cannot_work_is_refused():
    with pytest.raises(ValueError, match="HOTLINE_SECRET_KEY"):
        Settings.from_env({"HOTLINE_SECRET_KEY": "short"})
    with pytest.raises(ValueError, match="not on or off"):
        Settings.from_env({"HOTLINE_COOKIE_SECURE": "maybe"})
    with pytest.raises(ValueError):
        Settings.from_env({"HOTLINE_APP_PORT": "eighty"})


def test_each_default_is_written_once_in_the_settings_module():
    source = (ROOT / "hotline" / "settings.py").read_text()
    from_env = source[source.index("def from_env"):source.index("def normalise_url")]
    for f in ENV_FIELDS:
        if isinstance(f.default, str) and f.default:
            assert f.default not in from_env, f.name
    assert not re.search(r"\b(5005|5055|8080)\b", source)  # the ports are launcher/processes.py's


# --- endpoints.yml: Rasa by hand ----------------------------------------------------------------

def test_endpoints_yml_needs_no_variable_and_is_the_launchers_template_with_make_runs_values():
    text = (ROOT / "endpoints.yml").read_text()
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert "$" not in body  # Rasa 3.6 stops on an unset ${VARIABLE}: `rasa shell` works without any
    store = re.search(r"^STORE := (\S+)$", MAKEFILE.read_text(), re.M).group(1)
    defaults = Settings.from_env({})
    values = {endpoints.ACTION_ENDPOINT: processes.ACTIONS.url() + "/webhook",
              endpoints.SQL_BROKER: f"sqlite:///{store}?timeout={BROKER_SQLITE_TIMEOUT}",
              endpoints.RETENTION: str(defaults.conversation_retention_minutes),
              endpoints.MAX_CONVERSATIONS: str(defaults.tracker_max_conversations)}
    template = endpoints.EMBEDDED.read_text()
    for name, value in values.items():
        template = template.replace("${" + name + "}", value)
    assert "${" not in yaml.safe_dump(yaml.safe_load(template))
    assert yaml.safe_load(text) == yaml.safe_load(template)


def test_make_shell_and_make_actions_are_there_and_in_the_help():
    text = MAKEFILE.read_text()
    help_block = text[:text.index("\n\n")]
    for target, module in (("shell", "launcher.shell shell"), ("actions", "launcher.shell actions")):
        assert re.search(rf"^#   make {target}\s", help_block, re.M), target
        rule = re.search(rf"^{target}: .*\n((?:\t.*\n)+)", text, re.M)
        assert rule and module in rule.group(1), target
    assert re.search(r"^shell: .*\$\(MODEL\)", text, re.M)


# --- make model's progress ----------------------------------------------------------------------

def bar(done: int, total: int, spent: str = "00:10", left: str = "00:20") -> str:
    return f"Epochs: {100 * done // total:3d}%|###       | {done}/{total} [{spent}<{left},  1.50it/s, t_loss=1.{done}, i_acc=0.9]"


def run_bars(tty: bool, seconds_per_epoch: float, epochs: int = 60) -> list[str]:
    now = [0.0]
    out = io.StringIO()
    shown = progress.Progress(out, tty=tty, clock=lambda: now[0])
    shown.record("INFO rasa.engine.training.hooks - Starting to train component 'DIETClassifier'.")
    for done in range(epochs + 1):
        now[0] = done * seconds_per_epoch
        shown.record(bar(done, epochs))
    shown.record(bar(epochs, epochs))  # tqdm draws the last state again when it closes
    shown.close()
    return out.getvalue().replace("\r", "\n").splitlines()


def test_off_a_terminal_a_training_prints_a_line_every_few_seconds_at_most():
    lines = [line for line in run_bars(tty=False, seconds_per_epoch=1.0) if line]
    assert len(lines) <= 60 / progress.EVERY + 2
    assert lines[0].startswith("   DIETClassifier: epoch 0/60")
    assert lines[-1] == "   DIETClassifier: epoch 60/60, 00:10 spent (t_loss=1.60, i_acc=0.9)"
    assert "00:20 left" in lines[1]


def test_on_a_terminal_the_line_is_redrawn_and_ends_once():
    lines = run_bars(tty=True, seconds_per_epoch=1.0)
    assert sum("epoch 60/60" in line for line in lines) == 1


def test_the_log_keeps_everything_and_the_model_rule_uses_it(tmp_path):
    import os

    data = ("Starting to train component 'TEDPolicy'.\n" + "\r".join(bar(i, 3) for i in range(4)) + "\nDone\n").encode()
    read, write = os.pipe()
    os.write(write, data)
    os.close(write)
    out = io.StringIO()
    with open(read, "rb") as source, open(tmp_path / "train.log", "wb") as log:
        progress.pump(source, log, progress.Progress(out, tty=False))
    assert (tmp_path / "train.log").read_bytes() == data
    assert "TEDPolicy: epoch 3/3" in out.getvalue()
    rule = re.search(r"^\$\(MODEL\): .*\n((?:\t.*\n)+)", MAKEFILE.read_text(), re.M).group(1)
    assert "launcher/progress.py var/train.log" in rule and "TQDM_DISABLE" not in rule


# --- make shell ---------------------------------------------------------------------------------

def test_make_shell_runs_rasa_shell_beside_an_action_server_it_stops_afterwards(tmp_path, monkeypatch):
    import json
    import os
    import urllib.request

    from launcher import shell

    # A stand-in for .venv-rasa's python: records how it was called and whether the action server
    # named by its endpoints answers, then exits as `rasa shell` might.
    record = tmp_path / "called.json"
    fake = tmp_path / "python"
    fake.write_text(f"""#!{sys.executable}
import json, os, sys, urllib.request
url = os.environ["HOTLINE_ACTION_ENDPOINT_URL"].replace("/webhook", "/health")
with urllib.request.urlopen(url, timeout=5) as answer:
    status = answer.status
json.dump({{"argv": sys.argv[1:], "status": status, "url": url,
            "broker": os.environ.get("HOTLINE_EVENT_BROKER_URL")}}, open({str(record)!r}, "w"))
sys.exit(3)
""")
    fake.chmod(0o755)
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    monkeypatch.setattr(shell, "RASA_PYTHON", fake)
    monkeypatch.setattr(shell, "RASA", fake)
    monkeypatch.setattr(shell, "MODEL", model)
    settings = Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"})
    assert shell.shell(settings, ["--debug"]) == 3
    called = json.loads(record.read_text())
    assert called["status"] == 200 and called["broker"].startswith("sqlite:///")
    argv = called["argv"]
    assert argv[:4] == [*processes.RASA_COMMAND[1:], "shell", "--model"] and argv[-1] == "--debug"
    assert argv[argv.index("--endpoints") + 1] == str(endpoints.EMBEDDED)
    with pytest.raises(OSError):  # stopped with the shell
        urllib.request.urlopen(called["url"], timeout=2)
    assert os.path.getsize(tmp_path / "log" / "shell-actions.log") > 0
