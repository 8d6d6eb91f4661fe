"""The hotline's own web application (aiohttp) and the running system around it.

- ``app.py``: ``create_app(settings)``, the application factory: the store's engine, an HTTP client
  session and the call-log consumer live in its cleanup contexts; ``main()`` is ``hotline-app`` /
  ``python -m web``.
- ``keys.py``: the typed application keys (``web.AppKey``) everything in the app is found under.
- ``routes.py``: every route (today ``GET /healthz``; the WeChat gateway and the agent console join it).
- ``stack.py``: the three processes of the running system (action server, Rasa server, this app),
  started, waited for and stopped together; ``supervise.py`` runs them for ``make run``, and the
  end-to-end tests (tests/e2e) use the same code on free ports.
"""
