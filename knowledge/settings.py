"""Settings, read from the environment once, when a process starts (never at import)."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path
    # The running system (web/, `make run`): where the app listens, where it reaches the Rasa server.
    # Keyword-only with defaults, so that constructing Settings by hand (tests) can leave them out.
    app_host: str = field(default="127.0.0.1", kw_only=True)
    app_port: int = field(default=8080, kw_only=True)
    rasa_url: str = field(default="http://127.0.0.1:5005", kw_only=True)
    # HOTLINE_SECRET_KEY when set; otherwise `secret_key` reads (or creates) <var_dir>/secret.key.
    secret_key_env: bytes | None = field(default=None, kw_only=True, repr=False)
    # The WeChat official account (web/wechat): WECHAT_TOKEN signs every callback; safe (AES) mode
    # when WECHAT_AES_KEY is set; WECHAT_APPID and WECHAT_SECRET fetch the access token of the
    # customer-service message API at wechat_api_url (WECHAT_API_URL: a loopback fake in tests).
    wechat_token: str | None = field(default=None, kw_only=True, repr=False)
    wechat_appid: str | None = field(default=None, kw_only=True)
    wechat_aes_key: str | None = field(default=None, kw_only=True, repr=False)
    wechat_secret: str | None = field(default=None, kw_only=True, repr=False)
    wechat_api_url: str = field(default="https://api.weixin.qq.com", kw_only=True)
    # The agent console's session cookie gets the Secure flag (HOTLINE_COOKIE_SECURE=1) when the app
    # is served behind HTTPS; off by default so that http://127.0.0.1 works for `make run` and tests.
    cookie_secure: bool = field(default=False, kw_only=True)

    # Production shape (README, Configuration; web/endpoints.py): each one unset keeps the embedded
    # default. Several Rasa servers behind the app (HOTLINE_RASA_URLS; empty: rasa_url alone), Rasa's
    # tracker store on PostgreSQL, its lock store on Redis, its event broker on RabbitMQ (the queue
    # the app's consumer reads, web/broker.py).
    rasa_urls: tuple[str, ...] = field(default=(), kw_only=True)
    tracker_store_url: str | None = field(default=None, kw_only=True, repr=False)
    lock_store_url: str | None = field(default=None, kw_only=True, repr=False)
    rabbitmq_url: str | None = field(default=None, kw_only=True, repr=False)
    rabbitmq_queue: str = field(default="hotline_events", kw_only=True)

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
        return cls(database_url=normalise_url(url), var_dir=var_dir,
                   app_host=env.get("HOTLINE_APP_HOST") or "127.0.0.1",
                   app_port=int(env.get("HOTLINE_APP_PORT") or 8080),
                   rasa_url=(env.get("HOTLINE_RASA_URL") or "http://127.0.0.1:5005").rstrip("/"),
                   secret_key_env=_key_from_env(env.get("HOTLINE_SECRET_KEY")),
                   rasa_urls=tuple(u.strip().rstrip("/") for u in (env.get("HOTLINE_RASA_URLS") or "").split(",")
                                   if u.strip()),
                   tracker_store_url=env.get("HOTLINE_TRACKER_STORE_URL") or None,
                   lock_store_url=env.get("HOTLINE_LOCK_STORE_URL") or None,
                   rabbitmq_url=env.get("HOTLINE_RABBITMQ_URL") or None,
                   rabbitmq_queue=env.get("HOTLINE_RABBITMQ_QUEUE") or "hotline_events",
                   wechat_token=env.get("WECHAT_TOKEN") or None,
                   wechat_appid=env.get("WECHAT_APPID") or None,
                   wechat_aes_key=env.get("WECHAT_AES_KEY") or None,
                   wechat_secret=env.get("WECHAT_SECRET") or None,
                   wechat_api_url=(env.get("WECHAT_API_URL") or "https://api.weixin.qq.com").rstrip("/"),
                   cookie_secure=_flag(env.get("HOTLINE_COOKIE_SECURE")))


def normalise_url(url: str) -> str:
    """Plain postgres URLs (as Heroku-style tooling hands them out) use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _flag(value: str | None) -> bool:
    """An on/off variable: 1, true, yes, on (any case) are on; unset or empty is off."""
    if not value:
        return False
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if value.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{value!r} is not on or off (1/0, true/false, yes/no, on/off)")


MIN_KEY_BYTES = 16  # shorter keys make pseudonyms of guessable ids (phone-like sender ids) brute-forceable


def _key_from_env(value: str | None) -> bytes | None:
    if not value:
        return None
    key = value.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"HOTLINE_SECRET_KEY is {len(key)} bytes: use at least {MIN_KEY_BYTES}")
    return key


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
