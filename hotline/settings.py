"""Settings, read from the environment once, when a process starts (never at import)."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field, fields
from datetime import time
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Mapping

from launcher.processes import APP, LOOPBACK, RASA

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(variable: str, default: Any, parse: Callable[[str], Any] = str, **options: Any) -> Any:
    """A setting read from ``variable`` by ``from_env``: unset or empty keeps ``default``, the only
    place the default is written. Keyword-only, so that tests constructing Settings may leave it out."""
    return field(default=default, kw_only=True, metadata={"env": variable, "parse": parse}, **options)


def _url(value: str) -> str:
    return value.rstrip("/")


def _urls(value: str) -> tuple[str, ...]:
    return tuple(u.strip().rstrip("/") for u in value.split(",") if u.strip())


def _networks(value: str) -> tuple[str, ...]:
    """Comma-separated addresses or networks (10.0.0.5, 172.18.0.0/16, ::1), each checked here."""
    import ipaddress

    networks = []
    for item in (v.strip() for v in value.split(",")):
        if item:
            try:
                networks.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                raise ValueError(f"HOTLINE_TRUSTED_PROXIES: {item!r} is not an address or a network") from None
    return tuple(networks)


# Rasa's session (domain.yml session_config.session_expiration_time, which tests/launcher checks).
SESSION_MINUTES = 60


def _retention(value: str) -> int:
    minutes = int(value)
    if not minutes >= SESSION_MINUTES:
        raise ValueError(f"HOTLINE_CONVERSATION_RETENTION_MINUTES is {value}: at least the session, "
                         f"{SESSION_MINUTES} minutes")
    return minutes


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(f"{value}: a whole number, 0 or more")
    return number


MAX_AUTO_RASA_SERVERS = 4


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(f"{value}: a positive whole number")
    return number


def _flag(value: str | None) -> bool:
    """An on/off variable: 1, true, yes, on (any case) are on; unset or empty is off."""
    if not value:
        return False
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if value.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{value!r} is not on or off (1/0, true/false, yes/no, on/off)")


def _hours(value: str) -> tuple[time, time]:
    """Opening hours "08:00-20:00" (Nanjing time; 24:00 is the end of the day; an end before the
    start runs past midnight)."""
    try:
        start, end = (part.strip() for part in value.split("-"))
        first = time.fromisoformat(start)
        last = time.max if end == "24:00" else time.fromisoformat(end)
    except ValueError:
        raise ValueError(f"HOTLINE_HANDOFF_HOURS: {value!r} is not HH:MM-HH:MM") from None
    if first == last:
        raise ValueError(f"HOTLINE_HANDOFF_HOURS: {value!r} opens and closes at the same time")
    return first, last


MIN_KEY_BYTES = 16  # shorter keys make pseudonyms of guessable ids (phone-like sender ids) brute-forceable


def _key_from_env(value: str | None) -> bytes | None:
    if not value:
        return None
    key = value.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"HOTLINE_SECRET_KEY is {len(key)} bytes: use at least {MIN_KEY_BYTES}")
    return key


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path
    # The running system (web/, `make run`): where the app listens, where it reaches the Rasa server.
    app_host: str = _env("HOTLINE_APP_HOST", LOOPBACK)
    app_port: int = _env("HOTLINE_APP_PORT", APP.port, int)
    rasa_url: str = _env("HOTLINE_RASA_URL", RASA.url(), _url)
    # HOTLINE_SECRET_KEY when set; otherwise `secret_key` reads (or creates) <var_dir>/secret.key.
    secret_key_env: bytes | None = _env("HOTLINE_SECRET_KEY", None, _key_from_env, repr=False)
    # The WeChat official account (web/wechat): WECHAT_TOKEN signs every callback; safe (AES) mode
    # when WECHAT_AES_KEY is set; WECHAT_APPID and WECHAT_SECRET fetch the access token of the
    # customer-service message API at wechat_api_url (WECHAT_API_URL: a loopback fake in tests).
    wechat_token: str | None = _env("WECHAT_TOKEN", None, repr=False)
    wechat_appid: str | None = _env("WECHAT_APPID", None)
    wechat_aes_key: str | None = _env("WECHAT_AES_KEY", None, repr=False)
    wechat_secret: str | None = _env("WECHAT_SECRET", None, repr=False)
    wechat_api_url: str = _env("WECHAT_API_URL", "https://api.weixin.qq.com", _url)
    # The account's original id (gh_…): a message whose ToUserName is another is refused. Unset: not
    # checked (the gateway says so in its log).
    wechat_account: str | None = _env("WECHAT_ACCOUNT", None)
    # Seconds the app's shutdown gives WeChat answers still in progress; what is left then is released
    # for another process's sweep. Below docker-compose.yml's stop_grace_period (30 s) with room for
    # the requests in flight (web/app.py) and the rest of the cleanup.
    wechat_drain_timeout: float = _env("HOTLINE_WECHAT_DRAIN_TIMEOUT", 20.0, float)
    # The customer-service account (kf2001@gh_…) a WeChat transfer names (TransInfo/KfAccount); unset:
    # WeChat offers the conversation to every agent of the account (web/wechat/gateway.py).
    wechat_kf_account: str | None = _env("WECHAT_KF_ACCOUNT", None)
    # Human handoff (hotline/handoff.py): seconds a conversation waits in the queue before the resident
    # is told that nobody could take it (and given 12320), and the hours agents take conversations,
    # Nanjing time, every day ("08:00-20:00"; "00:00-24:00", the default, is always).
    handoff_wait: float = _env("HOTLINE_HANDOFF_WAIT", 600.0, float)
    handoff_hours: tuple[time, time] = _env("HOTLINE_HANDOFF_HOURS", (time(0), time.max), _hours)
    # The agent console's session cookie gets the Secure flag (HOTLINE_COOKIE_SECURE=1) when the app
    # is served behind HTTPS; off by default so that http://127.0.0.1 works for `make run` and tests.
    cookie_secure: bool = _env("HOTLINE_COOKIE_SECURE", False, _flag)
    # The reverse proxy (or proxies) in front of the app, addresses or networks: only a request coming
    # from one of them has its X-Forwarded-For read for the client's address (the console's login
    # throttling). Unset: the header is ignored, whoever sends it.
    trusted_proxies: tuple[str, ...] = _env("HOTLINE_TRUSTED_PROXIES", (), _networks)
    # The crisis detector's classifier (`make crisis-model`), which the WeChat gateway scores every
    # message with; missing, the gateway still runs the detector's danger signals.
    crisis_model: Path = _env("HOTLINE_CRISIS_MODEL", PROJECT_ROOT / "var" / "crisis-model.json", Path)
    # How long a conversation is kept by Rasa (its tracker store: bot/server/trackers.py) after its last
    # message, and a complaint form's phone before its ticket (hotline/contacts.py). At least Rasa's
    # session (domain.yml session_expiration_time): a resident who comes back within the session goes on.
    conversation_retention_minutes: int = _env("HOTLINE_CONVERSATION_RETENTION_MINUTES", 120, _retention)
    # The default shape keeps conversations in each Rasa process's memory: at most this many, the
    # longest idle forgotten first, so that memory stays bounded whatever the traffic.
    tracker_max_conversations: int = _env("HOTLINE_TRACKER_MAX_CONVERSATIONS", 20_000, _positive)
    # The launcher's logs (var/log/*.log, make run): rotated past this size, this many old ones kept.
    log_max_mb: int = _env("HOTLINE_LOG_MAX_MB", 20, _positive)
    log_backups: int = _env("HOTLINE_LOG_BACKUPS", 5, _positive)
    # GET /metrics (docs/metrics.md) wants "Authorization: Bearer <this>" when set; unset, it answers
    # whoever reaches it, and the reverse proxy keeps it from the internet.
    metrics_token: str | None = _env("HOTLINE_METRICS_TOKEN", None, repr=False)

    # Production shape (docs/configuration.md; launcher/endpoints.py): each one unset keeps the embedded
    # default. Several Rasa servers behind the app (HOTLINE_RASA_URLS; empty: rasa_url alone), Rasa's
    # tracker store on PostgreSQL, its lock store on Redis, its event broker on RabbitMQ (the queue
    # the app's consumer reads, web/broker.py).
    rasa_urls: tuple[str, ...] = _env("HOTLINE_RASA_URLS", (), _urls)
    # How many Rasa servers `make run` starts (launcher/supervise.py); 0: one per CPU core, at most
    # MAX_AUTO_RASA_SERVERS (each holds about 1.4 GB). Conversations are spread by sender (web/rasa.py).
    # On 2 cores the second server lifts capacity from 40 to 45 messages/s (bench/README.md, session 12).
    rasa_servers: int = _env("HOTLINE_RASA_SERVERS", 0, _count)
    tracker_store_url: str | None = _env("HOTLINE_TRACKER_STORE_URL", None, repr=False)
    lock_store_url: str | None = _env("HOTLINE_LOCK_STORE_URL", None, repr=False)
    rabbitmq_url: str | None = _env("HOTLINE_RABBITMQ_URL", None, repr=False)
    rabbitmq_queue: str = _env("HOTLINE_RABBITMQ_QUEUE", "hotline_events")

    @property
    def rasa_server_count(self) -> int:
        return self.rasa_servers or max(1, min(os.cpu_count() or 1, MAX_AUTO_RASA_SERVERS))

    @property
    def conversations_shared(self) -> bool:
        """Whether every Rasa server sees every conversation (a shared tracker store and lock store)."""
        return bool(self.tracker_store_url and self.lock_store_url)

    @property
    def rasa_instances(self) -> tuple[str, ...]:
        """Every Rasa server the app spreads conversations over (web/rasa.py)."""
        return self.rasa_urls or (self.rasa_url,)

    @cached_property
    def secret_key(self) -> bytes:
        """The key of the call log's pseudonyms (HMAC-SHA256 of sender ids).

        Read on first use, not in from_env: most commands never need it, and creating a key file
        is a side effect only the call log and reports should have.
        """
        if self.secret_key_env is not None:
            return self.secret_key_env
        return load_or_create_key(self.var_dir / "secret.key")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        var_dir = Path(env.get("HOTLINE_VAR_DIR", PROJECT_ROOT / "var"))
        url = env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'hotline.db'}"
        # Every other field from its variable; those unset (or empty) are left to the field's default.
        given = {f.name: f.metadata["parse"](value) for f in fields(cls)
                 if "env" in f.metadata and (value := env.get(f.metadata["env"]))}
        return cls(database_url=normalise_url(url), var_dir=var_dir, **given)


def normalise_url(url: str) -> str:
    """Plain postgres URLs (as Heroku-style tooling hands them out) use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`; 32 random bytes written there (mode 0600) when there is none yet.

    Several processes may start at once (app, action server, `hotline report`): the key is written
    to a temporary file and linked into place, so exactly one key wins and no reader sees half of it.
    """
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret.key.")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(os.urandom(32))
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process created it first: use theirs
        finally:
            os.unlink(tmp)
        key = path.read_bytes()
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"{path}: {len(key)} bytes, not a key (delete it to have a new one made)")
    return key
