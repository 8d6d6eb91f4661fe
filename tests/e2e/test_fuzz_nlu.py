"""Random text through the real NLU and dialogue (hypothesis): always an answer, never an error,
every message in the call log.

Each example is one message of a new resident, sent the way the app sends it (web/rasa.py ``ask``)
to the running Rasa server of the ``system`` fixture: random Unicode (control characters, emoji,
CJK), very long text, text that looks like numbers, dates, phone numbers or Rasa's own
``/intent{"entity": …}`` syntax. A bounded number of examples: each one is a real Rasa turn.
"""
from __future__ import annotations

import os

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline import calllog
from hotline.privacy import mask_text
from web import rasa

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
MESSAGES = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=200),
    st.text(st.sampled_from(list("鼓楼医院省人医预约挂号投诉2019年10月0123456789 电话身份证？！")), min_size=1, max_size=60),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=3000, max_size=6000),
    st.builds(lambda name, body: f"/{name}{body}", st.text(st.characters(codec="ascii"), max_size=20),
              st.sampled_from(["", "{", "{}", '{"hospital": "鼓楼医院"}', '{"a": [1, {"b": null}]}', "{{{"])),
).filter(lambda text: text.strip())


@settings(max_examples=60 if THOROUGH else 12, deadline=None, derandomize=not THOROUGH,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(message=MESSAGES)
async def test_any_message_gets_an_answer_and_is_logged(system, message):
    sender = system.new_sender("fuzz")
    actions_log = system.logs["action server"]
    seen = actions_log.stat().st_size
    async with aiohttp.ClientSession() as http:
        # AssistantUnavailable (an HTTP 500, a broken answer) fails the test.
        replies = await rasa.ask(http, system.rasa_url, sender, message, timeout=60)
    # Always an answer: the assistant's, or (when the dialogue model says nothing, as it does to a
    # lone "0") the app's request to send it again (web/rasa.py TEMPORARY_FAILURE). Never an action
    # that crashed on it:
    assert replies and all(isinstance(r.text, str) for r in replies) and "".join(r.text for r in replies)
    with open(actions_log, "rb") as log:
        log.seek(seen)
        assert b"Traceback" not in log.read(), system.log_tail("action server")

    def logged(session):
        return calllog.turns(session, sender=sender, key=system.settings.secret_key)

    turns = await system.eventually(logged, timeout=15)
    assert len(turns) == 1
    # As Rasa received it (its REST channel strips the ends), masked.
    assert turns[0].text == mask_text(message.strip())[:calllog.MAX_TEXT]
