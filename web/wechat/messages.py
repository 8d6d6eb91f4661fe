"""What the gateway itself says to residents on WeChat. Everything else (greeting, answers,
figures) comes from the assistant (domain.yml and the store): no figure here."""
from __future__ import annotations

from web.rasa import TEMPORARY_FAILURE

# Images, video, location, links, a voice message WeChat could not recognise.
PLEASE_TYPE = "抱歉，目前只能看懂文字消息，请输入文字描述您的问题。"
# The Rasa server did not answer (down, restarting, too slow): the same words as when it answers
# nothing (web/rasa.py), one wording for one situation.
UNAVAILABLE = TEMPORARY_FAILURE
# The assistant's answer had no text (only a custom payload or an image, which WeChat text cannot carry).
NO_ANSWER = "抱歉，我没有理解您的意思，请换个说法再问一次。"
# Under the numbered choices that stand for the assistant's buttons.
CHOICE_HINT = "请回复序号选择（如：1）。"


def choice_line(number: int, title: str) -> str:
    return f"{number}. {title}"
