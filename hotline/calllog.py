"""The call log: Rasa's tracker events, consumed from its SQL event broker, as pseudonymous turns.

Rasa's SQL event broker (``bot.server.brokers.TurnSQLEventBroker``: Rasa 3.6's ``SQLEventBroker``,
one transaction a turn, pointed at the store's database) appends every tracker event to the table
``events`` (id, sender_id, data = the event dict as JSON). ``consume_once`` turns the user messages
among them into ``CallTurn`` rows (the assistant's messages, masked, onto the turn they answer) and deletes the rows it read, all in one transaction: no clear
text stays in the broker table, and a crash before the commit loses nothing (the same rows are read
again next time). Turns are deduplicated by the message's ``message_id`` (a hash of the row when
there is none), so a redelivered event adds nothing.

Senders are pseudonyms: the first 16 hex characters of HMAC-SHA256(key, sender id), the key being
``Settings.secret_key``. Texts and entity values are masked (hotline.privacy) before they are stored.

What the consumer needs to know about a sender between batches (the conversation it is in, the
active form, the category of its latest turn, its latest turn) is kept in ``call_conversation``,
never in memory: a consumer restarted, or another one taking over, continues exactly the same.
Consumers take turns: each first updates the one ``call_log_consumer`` row, which holds the others
at that statement until it commits (row lock on PostgreSQL, write lock on SQLite).
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Engine, and_, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from database.engine import checkpoint
from hotline import privacy, taxonomy
from hotline.privacy import mask_text
from hotline.models import CallConversation, CallLogCursor, CallTurn, events
from hotline.clock import utc

log = logging.getLogger(__name__)

TICKET_SLOT = "ticket_number"  # the slot the complaint action sets to the ticket's number
MAX_TEXT = 4000  # a message longer than this is not a question; the log keeps its start
# The console's lookup box talks to Rasa as console-<hmac of the agent's name> (web/console): agents'
# lookups are no residents' calls, so their events are dropped instead of entering the call log.
CONSOLE_SENDER_PREFIX = "console-"
# The WeChat gateway's senders (web/wechat/gateway.py pseudonym): wx-<keyed hash of the OpenID>.
# Every other sender came straight through Rasa's REST channel.
WECHAT_SENDER_PREFIX = "wx-"
WECHAT, REST = "wechat", "rest"
CHANNELS = (WECHAT, REST)


def channel_of(sender_id: str) -> str:
    """Which way a sender's messages came: the WeChat gateway, or Rasa's REST channel directly (the
    turns' ``channel`` column is Rasa's input_channel, which is ``rest`` for both)."""
    return WECHAT if sender_id.startswith(WECHAT_SENDER_PREFIX) else REST


def pseudonym(key: bytes, sender_id: str) -> str:
    """The call log's name for a sender (hotline/privacy.py): 16 hex characters. A channel's own
    pseudonym (the gateway's wx-…) is hashed again so that every sender fits one column format."""
    return privacy.pseudonym(key, sender_id)


# The consumer's statements, built once: it runs them every half second, and building them anew (the
# latest-conversation join above all) cost more than running them. Its cursor's UPDATE is on the table:
# the consumer never loads the row, so the ORM has nothing to synchronise.
_CURSOR = CallLogCursor.__table__
_ANY_PENDING = select(events.c.id).limit(1)
_PENDING = select(events.c.id, events.c.sender_id, events.c.data).order_by(events.c.id).limit(bindparam("batch"))
_SEEN = select(CallTurn.event_key).where(CallTurn.event_key.in_(bindparam("keys", expanding=True)))
_CONSUMED = delete(events).where(events.c.id.in_(bindparam("ids", expanding=True)))
_COUNT = update(_CURSOR).where(_CURSOR.c.id == 1).values(consumed=_CURSOR.c.consumed + bindparam("rows"))
_TOUCH = update(_CURSOR).where(_CURSOR.c.id == 1).values(last_run=bindparam("now"))
_LATEST = (select(CallConversation.sender, func.max(CallConversation.number).label("number"))
           .where(CallConversation.sender.in_(bindparam("senders", expanding=True)))
           .group_by(CallConversation.sender).subquery())
_CURRENT = select(CallConversation).join(
    _LATEST, and_(CallConversation.sender == _LATEST.c.sender, CallConversation.number == _LATEST.c.number))


@dataclass
class _Sender:
    """One sender's state during a batch: its current conversation (persisted) and latest turn."""

    conversation: CallConversation
    last_turn: CallTurn | None = None


def consume_once(engine: Engine, key: bytes, *, batch: int = 500,
                 tally: Counter[tuple[str, str | None]] | None = None) -> int:
    """Consume up to `batch` pending broker rows in one transaction; return how many were consumed
    (0: nothing was pending). Call it again while it returns `batch`. `tally`, when given, counts the
    turns written, by (channel_of their sender, category), once the transaction has committed.

    After rows were consumed, SQLite's write-ahead log is checkpointed and truncated: the deleted
    rows' text (overwritten in the file by secure_delete, database/engine.py) leaves the log too."""
    written: Counter[tuple[str, str | None]] = Counter()
    consumed = _consume_batch(engine, key, batch, written)
    if tally is not None:
        tally.update(written)
    if consumed:
        with engine.connect() as connection:
            checkpoint(connection)
    return consumed


def _consume_batch(engine: Engine, key: bytes, batch: int, written: Counter) -> int:
    with Session(engine) as session, session.begin():
        # A plain read first: polled every half second, an idle consumer should not write (on SQLite
        # every write takes the database's one write lock, which Rasa's broker needs too).
        if session.execute(_ANY_PENDING).first() is None:
            return 0
        _take_turn(session)
        rows = session.execute(_PENDING, {"batch": batch}).all()
        if not rows:
            return 0
        parsed = [(row.id, row.sender_id, _load(row.id, row.data)) for row in rows]
        user_keys = [_event_key(e, data) for _, _, (e, data) in parsed if e and e.get("event") == "user"]
        seen = set(session.scalars(_SEEN, {"keys": user_keys}))
        wanted = []  # (pseudonym, event, data, sender id) of the events that go into the log
        names: dict[str, str] = {}  # sender id → pseudonym: a turn's dozen events share one sender
        for _row_id, sender_id, (event, data) in parsed:
            if event is None:
                continue
            sender_id = sender_id or event.get("sender_id") or ""
            if str(sender_id).startswith(CONSOLE_SENDER_PREFIX):
                continue  # an agent's lookup in the console, not a resident's call: deleted, not counted
            if (name := names.get(str(sender_id))) is None:
                name = names[str(sender_id)] = pseudonym(key, str(sender_id))
            wanted.append((name, event, data, sender_id))
        # Every sender's current conversation in one query, before anything is added: a query per
        # sender flushed the batch's new rows one sender at a time (most of the consumer's time).
        senders = _current(session, {name for name, *_ in wanted})
        for name, event, data, sender_id in wanted:
            turn = _apply(session, senders, name, event, data, seen)
            if turn is not None:
                written[(channel_of(str(sender_id)), turn.category)] += 1
        session.flush()
        for state in senders.values():
            if state.last_turn is not None:
                state.conversation.last_turn_id = state.last_turn.id
        ids = [row.id for row in rows]
        for start in range(0, len(ids), 500):  # bounded IN lists
            session.execute(_CONSUMED, {"ids": ids[start:start + 500]})
        session.execute(_COUNT, {"rows": len(rows)})
        return len(rows)


def consume_all(engine: Engine, key: bytes, *, batch: int = 500) -> int:
    """Consume until nothing is pending; return how many rows were consumed."""
    total = 0
    while True:
        n = consume_once(engine, key, batch=batch)
        total += n
        if n < batch:
            return total


def turns(session: Session, *, since: datetime | None = None, until: datetime | None = None,
          sender: str | None = None, key: bytes | None = None) -> list[CallTurn]:
    """Turns by time; `since` inclusive, `until` exclusive (naive = UTC). `sender` is the id as the
    channel received it (a WeChat openid): it is hashed with `key` to find its pseudonym."""
    query = select(CallTurn).order_by(CallTurn.time, CallTurn.id)
    if since is not None:
        query = query.where(CallTurn.time >= utc(since))
    if until is not None:
        query = query.where(CallTurn.time < utc(until))
    if sender is not None:
        if key is None:
            raise ValueError("a sender id is looked up by its pseudonym: pass the key")
        query = query.where(CallTurn.sender == pseudonym(key, sender))
    return list(session.scalars(query))


# --- inside consume_once --------------------------------------------------------------------------

def _take_turn(session: Session) -> None:
    """Wait until no other consumer is in its transaction (see the module docstring)."""
    touch = {"now": utc()}
    if session.execute(_TOUCH, touch).rowcount == 0:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        session.execute(insert(_CURSOR).values(id=1, consumed=0, last_run=None).on_conflict_do_nothing())
        session.execute(_TOUCH, touch)


def _load(row_id: int, data: str | None) -> tuple[dict | None, str]:
    try:
        event = json.loads(data or "")
    except ValueError:
        event = None
    if not isinstance(event, dict):
        # Unusable: dropped with the batch so that it does not block the rows after it. Its content
        # is not logged (it may hold a message in clear).
        log.warning("events row %s is not a JSON object: dropped", row_id)
        return None, ""
    return event, data or ""


def _event_key(event: dict, data: str) -> str:
    message_id = event.get("message_id")
    if isinstance(message_id, str) and message_id:
        return message_id[:64]
    # The row's content, not its id: a redelivered row gets a new id (SQLite even reuses ids of
    # deleted rows) but carries the same event, timestamp included.
    return "sha256:" + hashlib.sha256(data.encode("utf-8")).hexdigest()[:57]


def _current(session: Session, names: set[str]) -> dict[str, _Sender]:
    """The latest conversation of each of these senders that has one (bounded IN lists)."""
    found: dict[str, _Sender] = {}
    ordered = sorted(names)
    for start in range(0, len(ordered), 500):
        for conversation in session.scalars(_CURRENT, {"senders": ordered[start:start + 500]}):
            found[conversation.sender] = _Sender(conversation)
    return found


def _state(session: Session, senders: dict[str, _Sender], name: str) -> _Sender:
    """The sender's state in this batch (``senders``: from ``_current``); a first conversation for a new one."""
    if name not in senders:
        current = CallConversation(sender=name, number=1)
        session.add(current)
        senders[name] = _Sender(current)
    return senders[name]


def _new_conversation(session: Session, state: _Sender) -> None:
    old = state.conversation
    if old.started is None:  # nothing was said in it yet: reuse it, as if it had just started
        old.loop = old.last_category = None
        return
    state.conversation = CallConversation(sender=old.sender, number=old.number + 1)
    session.add(state.conversation)
    state.last_turn = None


def _apply(session: Session, senders: dict[str, _Sender], name: str, event: dict, data: str,
           seen: set[str]) -> CallTurn | None:
    """Apply one event; the turn it added to the call log, if it did."""
    kind = event.get("event")
    if kind == "user":
        key = _event_key(event, data)
        if key in seen:
            return None  # redelivered: already in the log
        seen.add(key)
        return _user(session, _state(session, senders, name), event, key)
    elif kind in ("session_started", "restart"):
        _new_conversation(session, _state(session, senders, name))
    elif kind == "active_loop":
        state = _state(session, senders, name)
        loop = event.get("name")
        state.conversation.loop = loop if isinstance(loop, str) and loop else None
    elif kind == "slot" and event.get("name") == TICKET_SLOT and event.get("value"):
        _link_ticket(session, _state(session, senders, name), str(event["value"]))
    elif kind == "bot" and event.get("text"):
        _answer(session, _state(session, senders, name), str(event["text"]))
    return None


def _user(session: Session, state: _Sender, event: dict, key: str) -> CallTurn:
    conversation = state.conversation
    parse = event.get("parse_data") or {}
    intent = (parse.get("intent") or {}).get("name")
    confidence = (parse.get("intent") or {}).get("confidence")
    category = taxonomy.category_of(intent, loop=conversation.loop, previous=conversation.last_category)
    time = _time(event.get("timestamp"))
    turn = CallTurn(
        event_key=key,
        conversation=conversation,
        time=time,
        sender=conversation.sender,
        channel=_short(event.get("input_channel"), 50),
        text=mask_text(str(event.get("text") or ""))[:MAX_TEXT],
        intent=_short(intent, 64),
        confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
        category=category,
        entities=_entities(parse.get("entities") or event.get("entities") or []),
        ticket=None,
        loop=conversation.loop,
    )
    session.add(turn)
    if conversation.started is None:
        conversation.started = time
    conversation.category = taxonomy.higher(conversation.category, category)
    conversation.last_category = category
    state.last_turn = turn
    return turn


def _link_ticket(session: Session, state: _Sender, number: str) -> None:
    turn = state.last_turn
    if turn is None and state.conversation.last_turn_id is not None:
        turn = session.get(CallTurn, state.conversation.last_turn_id)
    if turn is None:  # the slot came before any message of this conversation: the sender's latest
        turn = session.scalar(select(CallTurn).where(CallTurn.sender == state.conversation.sender)
                              .order_by(CallTurn.time.desc(), CallTurn.id.desc()).limit(1))
    if turn is None:
        log.warning("ticket %s: no turn of its sender in the call log to link it to", number)
        return
    turn.ticket = number[:20]


def _answer(session: Session, state: _Sender, text: str) -> None:
    """The assistant's message, masked, onto the turn it answers (the transcript an agent reads when
    the conversation is handed over); a message before any turn (a greeting) is not kept."""
    turn = state.last_turn
    if turn is None and state.conversation.last_turn_id is not None:
        turn = session.get(CallTurn, state.conversation.last_turn_id)
    if turn is None:
        return
    masked = mask_text(text)[:MAX_TEXT]
    turn.answer = masked if not turn.answer else f"{turn.answer}\n{masked}"[:MAX_TEXT * 2]
    state.last_turn = turn


def _entities(entities) -> list[dict]:
    kept = []
    for entity in entities if isinstance(entities, list) else []:
        if not isinstance(entity, dict) or "entity" not in entity:
            continue
        kept.append({"entity": str(entity["entity"]), "value": _masked(entity.get("value"))})
    return kept


def _masked(value):
    """An entity value with every number in it masked, whatever its type (duckling gives dicts)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        text = str(value)
        return value if mask_text(text) == text else mask_text(text)
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _masked(v) for k, v in value.items()}
    return mask_text(str(value))


def _time(timestamp) -> datetime:
    if isinstance(timestamp, (int, float)):
        return datetime.fromtimestamp(timestamp, timezone.utc).replace(tzinfo=None)
    return utc()


def _short(value, limit: int) -> str | None:
    return str(value)[:limit] if value else None
