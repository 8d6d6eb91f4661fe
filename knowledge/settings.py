"""Settings, read from the environment once, when a process starts (never at import)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        var_dir = Path(env.get("HOTLINE_VAR_DIR", PROJECT_ROOT / "var"))
        url = env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'hotline.db'}"
        return cls(database_url=normalise_url(url), var_dir=var_dir)


def normalise_url(url: str) -> str:
    """Plain postgres URLs (as Heroku-style tooling hands them out) use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
