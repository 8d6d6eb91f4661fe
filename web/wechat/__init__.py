"""The WeChat official-account gateway (``/wechat``): residents reach the assistant through the
南京卫生12320 official account; WeChat's servers call this app, the only part facing the internet.

- ``protocol.py``: what WeChat sends and expects, on top of wechatpy: signatures, timestamps, the
  body limit, XML (through defusedxml first), safe (AES) mode, passive replies.
- ``gateway.py``: one message to the assistant and back: OpenID → keyed pseudonym, dedupe of
  WeChat's retries, numbered choices for Rasa's buttons, passive reply within WeChat's 5 s or
  ``success`` at once and the answer later through the customer-service API.
- ``models.py``: its tables; ``dedup.py``: the dedupe rows, their claims (owner, heartbeat, takeover)
  and pending choices (``WechatMessage``, ``WechatChoice``); ``seal.py``: what a taker answers from.
- ``api.py``: the customer-service message API client (access token cached and refreshed, retried
  with backoff).
- ``messages.py``: the gateway's own words to residents (everything else comes from the assistant).
- ``routes.py``: ``GET``/``POST /wechat``, mounted by ``add_wechat(app)``; ``accesslog.py`` keeps the
  OpenID WeChat puts in the query string out of the access log.
"""
