"""Rasa's tracker stores, kept private and kept short (endpoints: ``type: bot.server.trackers.…``).

Rasa keeps each conversation's events (every message as typed, every slot) in its tracker store, and
publishes them to the event broker as it saves them. These stores differ from Rasa's own in two ways:

- **Masked.** What they keep and publish has every phone, ID-card and bank-card number masked
  (hotline/privacy.py ``mask_text``: user messages with their entities and metadata, the assistant's
  answers, slot values). The turn being answered is untouched in memory: NLU, the policies and the
  actions see what the resident wrote; only what outlives the turn is masked. The complaint form's
  phone is not in any slot either (hotline/contacts.py): nothing a later turn needs is lost.
- **Expiring.** A conversation idle for ``retention_minutes`` is forgotten. In memory (the default
  shape) at most ``max_conversations`` are kept, the longest idle dropped first, so memory stays
  bounded; in Redis (the production shape) each conversation is one key that expires after the
  retention; on SQL (PostgreSQL, the production shape before session 16) the events of
  conversations idle past the retention are deleted, at most once a minute per Rasa process.

A conversation that is forgotten starts again as a new one: the retention is at least Rasa's session
(domain.yml ``session_expiration_time``), after which Rasa starts a new session anyway.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from typing import Any, Dict, Iterable, List, Optional, Text
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker, get_trackers_for_conversation_sessions
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from hotline.privacy import mask_text

logger = logging.getLogger(__name__)

# Events whose strings may hold what a resident typed (a slot holds a message's words; the assistant
# repeats some of them). The others hold names and numbers of Rasa's own.
_PERSONAL = frozenset({"user", "bot", "slot", "entities"})
_PURGE_EVERY_S = 60.0


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def private_event(data: Dict[Text, Any]) -> Dict[Text, Any]:
    """An event as it is kept and published: its personal numbers masked (a new dict)."""
    if data.get("event") not in _PERSONAL:
        return data
    return {k: (v if k in ("event", "timestamp", "name") else _masked(v)) for k, v in data.items()}


def _minutes(value: Any) -> float:
    minutes = float(value)
    if not minutes > 0:
        raise ValueError(f"retention_minutes must be positive, not {value!r}")
    return minutes


class _Private:
    """What both stores publish: masked events (the call log reads them, the broker may be a queue)."""

    async def _stream_new_events(self, event_broker: EventBroker, new_events: List[Event],
                                 sender_id: Text) -> None:
        for event in new_events:
            event_broker.publish({"sender_id": sender_id, **private_event(event.as_dict())})


class ExpiringInMemoryTrackerStore(_Private, InMemoryTrackerStore):
    """Rasa's in-memory store, masked, with idle conversations dropped and a cap on their number."""

    def __init__(self, domain: Domain, event_broker: Optional[EventBroker] = None,
                 retention_minutes: Any = 120, max_conversations: Any = 20_000, host: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(domain, event_broker, **kwargs)
        self.retention_s = _minutes(retention_minutes) * 60
        self.max_conversations = int(max_conversations)
        if self.max_conversations < 1:
            raise ValueError("max_conversations must be at least 1")
        self._last_saved: "OrderedDict[Text, float]" = OrderedDict()  # oldest first

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        self.store[tracker.sender_id] = _dialogue(tracker)
        self._last_saved[tracker.sender_id] = now = time.monotonic()
        self._last_saved.move_to_end(tracker.sender_id)
        self._forget(now)

    async def _retrieve(self, sender_id: Text, fetch_all_sessions: bool) -> Optional[DialogueStateTracker]:
        self._forget(time.monotonic())
        return await super()._retrieve(sender_id, fetch_all_sessions)

    async def keys(self) -> Iterable[Text]:
        self._forget(time.monotonic())
        return list(self.store.keys())

    def _forget(self, now: float) -> None:
        """Drop the conversations idle past the retention, then the longest idle beyond the cap."""
        dropped = 0
        while self._last_saved:
            sender_id, saved = next(iter(self._last_saved.items()))
            if now - saved < self.retention_s and len(self._last_saved) <= self.max_conversations:
                break
            del self._last_saved[sender_id]
            self.store.pop(sender_id, None)
            dropped += 1
        if dropped:
            logger.debug("forgot %d conversations", dropped)


def _dialogue(tracker: DialogueStateTracker) -> str:
    """The conversation as kept: Rasa's serialised dialogue with every event masked."""
    dialogue = tracker.as_dialogue().as_dict()
    dialogue["events"] = [private_event(e) for e in dialogue["events"]]
    return json.dumps(dialogue)


class ExpiringRedisTrackerStore(_Private, RedisTrackerStore):
    """Rasa's Redis store, masked, each conversation one key expiring after the retention.

    The production shape's choice (session 16): every Rasa server reads the conversation and writes it
    back once a message, and PostgreSQL's row per event (Rasa's SQL store: the whole history read as rows,
    each new event an INSERT through the ORM) cost a fifth of a server's time; one GET and one SET of
    the serialised dialogue cost what the in-memory store of the default shape costs. Unlike Rasa's
    own Redis store, ``save`` writes what it was given and does not merge the conversation's earlier
    sessions back in (Rasa retrieves only the last one): an ended session is forgotten, as in memory.
    Redis is reached in a worker thread, off the server's event loop.
    ``url``: redis://[:password@]host[:port][/db] (the lock store's database may be shared: the keys
    are ``tracker:<sender>``, the locks' ``lock:<sender>``).
    """

    def __init__(self, domain: Optional[Domain] = None, host: Text = "", event_broker: Optional[EventBroker] = None,
                 retention_minutes: Any = 120, **kwargs: Any) -> None:
        url = urlsplit(host)
        if url.scheme != "redis" or not url.hostname:
            raise ValueError("the Redis tracker store's url is redis://[:password@]host[:port][/db]")
        self.retention_s = _minutes(retention_minutes) * 60
        super().__init__(domain, host=url.hostname, port=url.port or 6379, db=int(url.path.strip("/") or 0),
                         password=unquote(url.password) if url.password else None, event_broker=event_broker,
                         record_exp=self.retention_s, **kwargs)

    async def save(self, tracker: DialogueStateTracker, timeout: Optional[float] = None) -> None:
        await self.stream_events(tracker)
        await asyncio.to_thread(self.red.set, self.key_prefix + tracker.sender_id, _dialogue(tracker),
                                ex=max(1, round(timeout or self.retention_s)))

    async def _retrieve(self, sender_id: Text, fetch_all_sessions: bool) -> Optional[DialogueStateTracker]:
        stored = await asyncio.to_thread(self.red.get, self.key_prefix + sender_id)
        if stored is None:
            return None
        tracker = self.deserialise_tracker(sender_id, stored)
        if fetch_all_sessions or tracker is None:
            return tracker
        sessions = get_trackers_for_conversation_sessions(tracker)
        return sessions[-1] if len(sessions) > 1 else tracker

    async def keys(self) -> Iterable[Text]:
        keys = await asyncio.to_thread(self.red.keys, self.key_prefix + "*")
        return [key[len(self.key_prefix):] for key in keys]


class ExpiringSQLTrackerStore(_Private, SQLTrackerStore):
    """Rasa's SQL store, masked, with events older than the retention deleted."""

    def __init__(self, domain: Optional[Domain] = None, *args: Any, retention_minutes: Any = 120,
                 **kwargs: Any) -> None:
        super().__init__(domain, *args, **kwargs)
        # As the store's own engines (database/engine.py): a failed statement's error quotes no event.
        self.engine.hide_parameters = True
        self.retention_s = _minutes(retention_minutes) * 60
        self._purged_at = float("-inf")

    # Rasa's SQL store talks to the database synchronously, on the server's event loop: under load
    # (make loadtest, production shape) reading and writing the tracker was two fifths of the server's
    # time, with every other conversation waiting behind each query. Here the database work runs in a
    # worker thread; the lock store keeps one message per conversation at a time, as before.
    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool
                        ) -> Optional[DialogueStateTracker]:
        events = await asyncio.to_thread(self._events, sender_id, fetch_events_from_all_sessions)
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    def _events(self, sender_id: Text, fetch_events_from_all_sessions: bool) -> List[Dict[Text, Any]]:
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id,
                                     fetch_events_from_all_sessions=fetch_events_from_all_sessions).all()
            return [json.loads(row.data) for row in rows]

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's SQLTrackerStore.save, with each new event's data masked; then the purge when due."""
        await self.stream_events(tracker)
        await asyncio.to_thread(self._write, tracker)

    def _write(self, tracker: DialogueStateTracker) -> None:
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = private_event(event.as_dict())
                session.add(self.SQLEvent(
                    sender_id=tracker.sender_id, type_name=event.type_name,
                    timestamp=data.get("timestamp"),
                    intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    action_name=data.get("name"), data=json.dumps(data)))
            session.commit()
        if time.monotonic() - self._purged_at >= _PURGE_EVERY_S:
            self.purge()

    def purge(self, now: Optional[float] = None) -> int:
        """Delete the conversations idle for longer than the retention (their latest event older:
        wall-clock seconds, as Rasa's timestamps); how many events. A conversation in progress is
        never cut short: its events would be counted again by the next save (``_additional_events``)."""
        self._purged_at = time.monotonic()
        cutoff = (time.time() if now is None else now) - self.retention_s
        event = self.SQLEvent
        with self.session_scope() as session:
            idle = (sa.select(event.sender_id).group_by(event.sender_id)
                    .having(sa.func.max(event.timestamp) < cutoff))
            deleted = session.query(event).filter(event.sender_id.in_(idle)).delete(synchronize_session=False)
            session.commit()
        if deleted:
            logger.info("deleted %d events of conversations idle for %.0f minutes", deleted, self.retention_s / 60)
        return deleted
