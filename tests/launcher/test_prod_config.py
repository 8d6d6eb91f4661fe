"""The production shape's configuration: environment variables only, the embedded default unchanged.

What Rasa is given (launcher/endpoints.py), how the app spreads conversations (web/rasa.py ``route``),
and what is refused with a message naming the variable. The running system on PostgreSQL, Redis
and RabbitMQ is tests/prod.
"""
from __future__ import annotations

from collections import Counter

import pytest
import yaml

from hotline.settings import Settings
from launcher import endpoints, supervise
from launcher.endpoints import SQL_BROKER_TYPE, ConfigurationError, rasa_endpoints
from web.rasa import route
from launcher.stack import Stack

PG = "postgresql://hotline:pg%40pass@db.example:5432"
FULL = {"DATABASE_URL": f"{PG}/hotline", "HOTLINE_TRACKER_STORE_URL": "redis://:redis-pass@cache.example:6380/3",
        "HOTLINE_LOCK_STORE_URL": "redis://:redis-pass@cache.example:6380/3",
        "HOTLINE_RABBITMQ_URL": "amqp://hotline:mq-pass@mq.example", "HOTLINE_RABBITMQ_QUEUE": "events_a"}
BROKER = "sqlite:////tmp/hotline.db?timeout=30"


def settings(tmp_path, **env) -> Settings:
    return Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path), **env})


def test_unset_is_the_embedded_default_exactly_as_before(tmp_path):
    chosen = rasa_endpoints(settings(tmp_path), "http://127.0.0.1:5055/webhook", broker_url=BROKER)
    assert chosen.embedded and chosen.path(tmp_path) == endpoints.EMBEDDED
    assert chosen.env == {"HOTLINE_ACTION_ENDPOINT_URL": "http://127.0.0.1:5055/webhook",
                          "HOTLINE_EVENT_BROKER_URL": BROKER,
                          "HOTLINE_CONVERSATION_RETENTION_MINUTES": "120",
                          "HOTLINE_TRACKER_MAX_CONVERSATIONS": "20000"}
    # Conversations in memory are masked and forgotten (bot/server/trackers.py).
    assert yaml.safe_load(endpoints.EMBEDDED.read_text())["tracker_store"]["type"] == endpoints.IN_MEMORY_TYPE
    assert not list(tmp_path.iterdir())  # nothing written
    assert settings(tmp_path).rasa_instances == ("http://127.0.0.1:5005",)
    # The checked-in file names the same broker as the generated ones (one transaction per turn).
    assert yaml.safe_load(endpoints.EMBEDDED.read_text())["event_broker"]["type"] == SQL_BROKER_TYPE


def test_every_backend_set_is_the_checked_in_production_file_with_no_secret_in_it(tmp_path):
    chosen = rasa_endpoints(settings(tmp_path, **FULL), "http://actions:5055/webhook", broker_url=None)
    assert chosen.path(tmp_path) == endpoints.PRODUCTION
    text = endpoints.PRODUCTION.read_text()
    assert chosen.text() == text
    for secret in ("pg@pass", "pg%40pass", "redis-pass", "mq-pass", "db.example", "cache.example"):
        assert secret not in text
    config = yaml.safe_load(text)
    assert (config["tracker_store"]["type"], config["lock_store"]["type"], config["event_broker"]["type"]) == (
        endpoints.REDIS_TRACKER_TYPE, "redis", endpoints.PIKA_BROKER_TYPE)
    # Rasa's environment: the trackers' URL as it is (our store splits it), the lock store's and
    # RabbitMQ's parts split (Rasa's own take them so).
    assert chosen.env["HOTLINE_TRACKER_STORE_URL"] == "redis://:redis-pass@cache.example:6380/3"
    assert {k: chosen.env[k] for k in ("HOTLINE_LOCK_STORE_HOST", "HOTLINE_LOCK_STORE_PORT",
                                       "HOTLINE_LOCK_STORE_DB", "HOTLINE_LOCK_STORE_PASSWORD")} == {
        "HOTLINE_LOCK_STORE_HOST": "cache.example", "HOTLINE_LOCK_STORE_PORT": "6380",
        "HOTLINE_LOCK_STORE_DB": "3", "HOTLINE_LOCK_STORE_PASSWORD": "redis-pass"}
    assert (chosen.env["HOTLINE_RABBITMQ_PORT"], chosen.env["HOTLINE_RABBITMQ_USERNAME"],
            chosen.env["HOTLINE_RABBITMQ_QUEUE"]) == ("5672", "hotline", "events_a")
    # Every variable of the file has its value.
    assert set(chosen.env) == set(_variables(config))


def test_trackers_on_postgresql_are_rasas_sql_store_written_into_the_var_dir(tmp_path):
    s = settings(tmp_path, **{**FULL, "HOTLINE_TRACKER_STORE_URL": f"{PG}/hotline_rasa"})
    chosen = rasa_endpoints(s, "http://actions:5055/webhook", broker_url=None)
    path = chosen.path(tmp_path)
    assert path == tmp_path / "endpoints.yml"
    assert yaml.safe_load(path.read_text())["tracker_store"]["type"] == endpoints.SQL_TRACKER_TYPE
    # psycopg2's URL (Rasa's driver).
    assert chosen.env["HOTLINE_TRACKER_STORE_URL"] == "postgresql://hotline:pg%40pass@db.example:5432/hotline_rasa"


def test_one_backend_alone_is_written_into_the_var_dir(tmp_path):
    s = settings(tmp_path, HOTLINE_TRACKER_STORE_URL=f"{PG}/hotline_rasa")
    chosen = rasa_endpoints(s, "http://127.0.0.1:5055/webhook", broker_url=BROKER)
    path = chosen.path(tmp_path)
    assert path == tmp_path / "endpoints.yml"
    config = yaml.safe_load(path.read_text())
    assert set(config) == {"action_endpoint", "tracker_store", "event_broker"}
    assert config["event_broker"]["type"] == SQL_BROKER_TYPE  # events still go into the store
    assert set(chosen.env) == set(_variables(config))


@pytest.mark.parametrize("env,message", [
    ({"DATABASE_URL": f"{PG}/hotline", "HOTLINE_TRACKER_STORE_URL": f"{PG}/hotline"}, "store's database"),
    ({"HOTLINE_TRACKER_STORE_URL": "sqlite:///rasa.db"}, "Redis or PostgreSQL"),
    ({"HOTLINE_TRACKER_STORE_URL": "not a url"}, "HOTLINE_TRACKER_STORE_URL"),
    ({"HOTLINE_TRACKER_STORE_URL": "redis://127.0.0.1/trackers"}, "HOTLINE_TRACKER_STORE_URL: the database"),
    ({"HOTLINE_LOCK_STORE_URL": "127.0.0.1:6379"}, "HOTLINE_LOCK_STORE_URL"),
    ({"HOTLINE_LOCK_STORE_URL": "redis://127.0.0.1/locks"}, "not a number"),
    ({"HOTLINE_RABBITMQ_URL": "amqp://guest:guest@127.0.0.1/vhost"}, "virtual host"),
    ({"HOTLINE_RABBITMQ_URL": "http://127.0.0.1"}, "HOTLINE_RABBITMQ_URL"),
    ({"HOTLINE_RABBITMQ_URL": "amqp://g:g@h", "HOTLINE_RABBITMQ_QUEUE": "a queue!"}, "HOTLINE_RABBITMQ_QUEUE"),
])
def test_a_setting_that_cannot_work_is_refused_naming_it(tmp_path, env, message):
    with pytest.raises(ConfigurationError, match=message):
        rasa_endpoints(settings(tmp_path, **env), "http://x/webhook", broker_url=BROKER)


def test_the_stack_gives_every_rasa_server_the_same_endpoints_and_the_app_all_of_them(tmp_path):
    s = settings(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'hotline.db'}", **{
        k: v for k, v in FULL.items() if k != "DATABASE_URL"})
    stack = Stack(s, actions_port=6055, rasa_port=6005, app_port=6080, extra_rasa_ports=(6006,), base_env={})
    services = {service.name: service for service in stack._services()}
    assert set(services) == {"action server", "Rasa server", "Rasa server 2", "app"}
    one, two = services["Rasa server"], services["Rasa server 2"]
    assert one.argv[one.argv.index("--endpoints") + 1] == str(endpoints.PRODUCTION)
    assert one.argv[one.argv.index("--endpoints") + 1] == two.argv[two.argv.index("--endpoints") + 1]
    assert one.env == two.env and one.env["HOTLINE_LOCK_STORE_DB"] == "3"
    assert services["app"].env["HOTLINE_RASA_URLS"] == "http://127.0.0.1:6005,http://127.0.0.1:6006"
    assert Settings.from_env(services["app"].env).rasa_instances == (
        "http://127.0.0.1:6005", "http://127.0.0.1:6006")


def test_no_rasa_server_at_all_is_refused_before_anything_starts(monkeypatch, tmp_path, capsys):
    """Several Rasa servers without shared stores are the default shape now (each keeps its own
    conversations, web/rasa.py Placement; tests/e2e/test_default_shape.py); none at all is refused."""
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(tmp_path))
    with pytest.raises(SystemExit) as exit:
        supervise.main(["--rasa-servers", "0"])
    assert exit.value.code == 2 and "--rasa-servers" in capsys.readouterr().err
    assert not (tmp_path / "run.pid").exists()


def test_a_conversation_sticks_to_one_server_whatever_the_order_and_only_a_gone_servers_move():
    servers = [f"http://rasa-{n}:5005" for n in range(1, 4)]
    senders = [f"resident-{n}" for n in range(3000)]
    first = {s: route(servers, s)[0] for s in senders}
    assert all(route(list(reversed(servers)), s)[0] == first[s] for s in senders)
    spread = Counter(first.values())
    assert len(spread) == 3 and min(spread.values()) > 800, spread
    # Without rasa-3, its residents move; nobody else does, and they go where their order said.
    left = servers[:2]
    for s in senders:
        now = route(left, s)[0]
        assert now == first[s] if first[s] in left else now == route(servers, s)[1]


def _variables(node) -> set[str]:
    import re

    if isinstance(node, dict):
        return set().union(*(_variables(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_variables(v) for v in node))
    return set(re.findall(r"\$\{(\w+)\}", str(node)))


def test_conversations_are_kept_at_least_a_session_and_the_setting_says_so(tmp_path):
    from hotline.settings import SESSION_MINUTES

    domain = yaml.safe_load((endpoints.PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert domain["session_config"]["session_expiration_time"] == SESSION_MINUTES
    assert settings(tmp_path).conversation_retention_minutes == 120
    assert settings(tmp_path, HOTLINE_CONVERSATION_RETENTION_MINUTES="1440").conversation_retention_minutes == 1440
    with pytest.raises(ValueError, match="at least the session"):
        settings(tmp_path, HOTLINE_CONVERSATION_RETENTION_MINUTES="30")
