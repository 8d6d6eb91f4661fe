"""What the agent console (web/console) keeps in the store: agents and their passwords, logged-in
sessions, failed logins (throttling), the ticket audit; and the hospital search it offers.

Every function takes the session first and works inside the caller's transaction. Passwords are
hashed with scrypt (stdlib ``hashlib.scrypt``, a memory-hard KDF): a random salt per password and
the parameters stored with the hash, compared in constant time. Session tokens and CSRF tokens are
random (``secrets``); only the SHA-256 of a session token is stored.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from hotline.models import Agent, ConsoleSession, LoginFailure, TicketAudit
from knowledge.queries import NotFound
from hotline.clock import utc

MIN_PASSWORD = 10  # characters
MAX_PASSWORD = 256  # longer input is not a password, and scrypt on megabytes is a denial of service
NAME = re.compile(r"[\w.\-]{2,50}")  # letters (Chinese too), digits, . _ -
# scrypt cost: n=2**14, r=8 is 16 MiB and some 50 ms per hash on this machine's cores.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SALT_BYTES, KEY_BYTES = 2 ** 14, 8, 1, 16, 32
SESSION_HOURS = 12  # a shift and then some: an agent logs in again the next day
# Throttling: failures within the window, per agent name and per client address. Several agents
# may share one address (the centre's NAT), so the address limit is higher.
FAILURE_WINDOW = timedelta(minutes=15)
NAME_LIMIT = 5
ADDRESS_LIMIT = 20


class AgentError(ValueError):
    """An agent cannot be created or changed as asked."""


class AgentNotFound(NotFound):
    """No agent has that name."""


# --- passwords --------------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(key)])


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    data = password.encode("utf-8")
    if len(data) > MAX_PASSWORD * 4:
        raise ValueError("password too long")
    return hashlib.scrypt(data, salt=salt, n=n, r=r, p=p, dklen=length, maxmem=64 * 1024 * 1024)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# A hash of nothing anybody knows: a login with an unknown name costs the same scrypt as one with a
# known name, so the response time does not tell which names exist.
@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AgentError(f"the password is too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AgentError(f"the password is too long: at most {MAX_PASSWORD} characters")
    if not password.strip():
        raise AgentError("the password is only spaces")


# --- agents -----------------------------------------------------------------------------------------

def add_agent(session: Session, name: str, password: str, *, now: datetime | None = None) -> Agent:
    name = name.strip()
    if not NAME.fullmatch(name):
        raise AgentError(f"{name!r} is not an agent name: 2-50 letters, digits, '.', '_' or '-'")
    check_password_rules(password)
    if session.scalar(select(Agent).where(Agent.name == name)) is not None:
        raise AgentError(f"an agent called {name!r} exists already")
    agent = Agent(name=name, password_hash=hash_password(password), active=True, created_at=utc(now))
    session.add(agent)
    session.flush()
    return agent


def agents(session: Session) -> list[Agent]:
    return list(session.scalars(select(Agent).order_by(Agent.name)))


def get_agent(session: Session, name: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.name == name.strip()))
    if agent is None:
        raise AgentNotFound(f"no agent is called {name!r}")
    return agent


def disable_agent(session: Session, name: str) -> Agent:
    """The agent can no longer log in, and every session of theirs ends now."""
    agent = get_agent(session, name)
    agent.active = False
    session.execute(delete(ConsoleSession).where(ConsoleSession.agent_id == agent.id))
    session.flush()
    return agent


def authenticate(session: Session, name: str, password: str) -> Agent | None:
    """The active agent with that name and password; None otherwise (same cost either way)."""
    agent = session.scalar(select(Agent).where(Agent.name == name.strip())) if name.strip() else None
    if len(password) > MAX_PASSWORD:
        return None
    ok = verify_password(password, agent.password_hash if agent is not None else _dummy_hash())
    if agent is None or not ok or not agent.active:
        return None
    return agent


# --- sessions -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoggedIn:
    """What a request knows about its agent (no ORM object: it outlives the request's session)."""

    agent: str
    csrf: str
    session_id: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(session: Session, agent: Agent, *, now: datetime | None = None) -> tuple[str, LoggedIn]:
    """A new session for the agent: (the token for the cookie, what requests will see)."""
    at = utc(now)
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= at))  # housekeeping
    token = secrets.token_urlsafe(32)
    row = ConsoleSession(token_hash=token_hash(token), agent_id=agent.id, csrf=secrets.token_urlsafe(32),
                         created_at=at, expires_at=at + timedelta(hours=SESSION_HOURS))
    session.add(row)
    agent.last_login = at
    session.flush()
    return token, LoggedIn(agent.name, row.csrf, row.id)


def find_session(session: Session, token: str, *, now: datetime | None = None) -> LoggedIn | None:
    """The live session of an active agent the token belongs to; None for anything else."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(ConsoleSession).options(joinedload(ConsoleSession.agent))
                         .where(ConsoleSession.token_hash == token_hash(token)))
    if row is None or row.expires_at <= utc(now) or not row.agent.active:
        return None
    return LoggedIn(row.agent.name, row.csrf, row.id)


def close_session(session: Session, session_id: int) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.id == session_id))


# --- throttling ----------------------------------------------------------------------------------------

def failure_keys(name: str, address: str | None) -> tuple[str, str]:
    return f"name:{name.strip()[:100]}", f"addr:{address or 'unknown'}"[:120]


def recent_failures(session: Session, name: str, address: str | None, *,
                    now: datetime | None = None) -> tuple[int, int]:
    """Failures within the window: (for this name, from this address)."""
    since = utc(now) - FAILURE_WINDOW
    counts = []
    for key in failure_keys(name, address):
        counts.append(session.scalar(select(func.count()).select_from(LoginFailure)
                                     .where(LoginFailure.key == key, LoginFailure.at > since)) or 0)
    return counts[0], counts[1]


def locked_until(session: Session, name: str, address: str | None, *,
                 now: datetime | None = None) -> datetime | None:
    """When logins for this name (or from this address) are possible again; None: now."""
    at = utc(now)
    since = at - FAILURE_WINDOW
    until = None
    for key, limit in zip(failure_keys(name, address), (NAME_LIMIT, ADDRESS_LIMIT)):
        times = list(session.scalars(select(LoginFailure.at).where(LoginFailure.key == key, LoginFailure.at > since)
                                     .order_by(LoginFailure.at.desc()).limit(limit)))
        if len(times) >= limit:
            # Open again when the limit-th most recent failure leaves the window.
            free = times[limit - 1] + FAILURE_WINDOW
            until = free if until is None else max(until, free)
    return until


def record_failure(session: Session, name: str, address: str | None, *, now: datetime | None = None) -> None:
    at = utc(now)
    session.execute(delete(LoginFailure).where(LoginFailure.at < at - timedelta(days=1)))  # housekeeping
    for key in failure_keys(name, address):
        session.add(LoginFailure(key=key, at=at))
    session.flush()


def clear_failures(session: Session, name: str) -> None:
    """After a good login: the name's failures go (the address's stay: one good account must not
    reset the count of guesses at others from the same place)."""
    session.execute(delete(LoginFailure).where(LoginFailure.key == failure_keys(name, None)[0]))


# --- the ticket audit ----------------------------------------------------------------------------------

def audit(session: Session, agent: str, ticket_number: str, action: str, detail: str | None = None,
          *, now: datetime | None = None) -> TicketAudit:
    row = TicketAudit(at=utc(now), agent=agent, ticket_number=ticket_number, action=action,
                      detail=detail[:200] if detail else None)
    session.add(row)
    session.flush()
    return row


def audit_log(session: Session, *, ticket_number: str | None = None, agent: str | None = None,
              limit: int = 500) -> list[TicketAudit]:
    """Newest first."""
    query = select(TicketAudit).order_by(TicketAudit.at.desc(), TicketAudit.id.desc()).limit(limit)
    if ticket_number:
        query = query.where(TicketAudit.ticket_number == ticket_number.strip().upper())
    if agent:
        query = query.where(TicketAudit.agent == agent.strip())
    return list(session.scalars(query))
