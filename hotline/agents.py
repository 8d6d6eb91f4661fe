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
# Throttling: failures within the window are counted per agent name and per client address. Past a
# number of free failures, each further one pauses logins for a time that doubles, up to a ceiling:
# - a name pauses itself only (5 free, then 30 s, 1, 2, 4 … minutes, at most 15): guessing one
#   agent's password gets slow, and no other agent is affected;
# - an address (several agents share the centre's NAT, or the proxy's when HOTLINE_TRUSTED_PROXIES
#   is not set) pauses only the names that have failed lately (20 free, then 2 s doubling, at most
#   a minute): an agent who has not mistyped logs in at once, whatever others did from there, while
#   someone trying name after name gets one guess per name.
FAILURE_WINDOW = timedelta(minutes=15)
NAME_LIMIT = 5  # free failures of a name
NAME_PAUSE, NAME_MAX_PAUSE = timedelta(seconds=30), timedelta(minutes=15)
ADDRESS_LIMIT = 20  # free failures from an address
ADDRESS_PAUSE, ADDRESS_MAX_PAUSE = timedelta(seconds=2), timedelta(minutes=1)


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
    state = throttle(session, name, address, now=now)
    return state.name_failures, state.address_failures


@dataclass(frozen=True)
class Throttle:
    """Recent failures of a name and of an address, and until when each pauses (None: it does not)."""

    name_failures: int
    address_failures: int
    name_until: datetime | None
    address_until: datetime | None

    @property
    def until(self) -> datetime | None:
        """When this name may try again from this address: its own pause, and the address's pause
        if the name has failed lately."""
        times = [self.name_until] + ([self.address_until] if self.name_failures else [])
        return max((t for t in times if t is not None), default=None)


def pause(failures: int, free: int, step: timedelta, most: timedelta) -> timedelta | None:
    """The pause after `failures` recent failures: none while they are `free`, then `step` doubling
    with each further failure, at most `most`."""
    if failures < free:
        return None
    return min(step * 2 ** min(failures - free, 30), most)


def throttle(session: Session, name: str, address: str | None, *, now: datetime | None = None) -> Throttle:
    at = utc(now)
    since = at - FAILURE_WINDOW
    counts, untils = [], []
    for key, free, step, most in zip(failure_keys(name, address), (NAME_LIMIT, ADDRESS_LIMIT),
                                     (NAME_PAUSE, ADDRESS_PAUSE), (NAME_MAX_PAUSE, ADDRESS_MAX_PAUSE)):
        n, latest = session.execute(select(func.count(), func.max(LoginFailure.at))
                                    .where(LoginFailure.key == key, LoginFailure.at > since)).one()
        wait = pause(n or 0, free, step, most)
        until = latest + wait if wait is not None and latest is not None else None
        counts.append(n or 0)
        untils.append(until if until is not None and until > at else None)
    return Throttle(counts[0], counts[1], untils[0], untils[1])


def locked_until(session: Session, name: str, address: str | None, *,
                 now: datetime | None = None) -> datetime | None:
    """When logins for this name from this address are possible again; None: now."""
    return throttle(session, name, address, now=now).until


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
