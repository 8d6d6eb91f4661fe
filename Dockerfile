# syntax=docker/dockerfile:1
# Two images, each from its runtime lock (requirements/X-runtime.lock: X.lock less the test tools and
# what only they need; `make lock` writes it) with the same pip commands as `make setup` (the
# Makefile's build-venv: bootstrap.lock, then X-runtime.in constrained by X-runtime.lock, pip check,
# and the installed set compared with the lock):
#   docker build --target rasa -t hotline-rasa .   Rasa server (+ bot/ custom NLU components)
#   docker build --target app  -t hotline-app  .   our app, the action server and the hotline CLI
# Commands and ports are those of launcher/processes.py; tests/launcher/test_container.py compares
# this file and docker-compose.yml with it and with the Makefile. docker-compose.yml runs the images
# (two Rasa, actions, app) on PostgreSQL, Redis and RabbitMQ; docs/deploy.md maps them onto Rasa's Helm chart.
#
# The model is not built in: it is trained by `make model` (the NLU components need the gazetteer of
# the store) and mounted read-only at /app/models/current.tar.gz (compose: ./models).
# Pinned to the exact Python of .python-version.
ARG PYTHON_IMAGE=python:3.10.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS base
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
# Non-root: uid 10001 owns nothing but its home (Rasa and jieba write caches there).
RUN groupadd --system --gid 10001 hotline \
 && useradd --system --uid 10001 --gid hotline --home-dir /home/hotline --create-home hotline
WORKDIR /app
COPY requirements/bootstrap.lock requirements/
RUN python -m venv /opt/venv \
 && pip install -r requirements/bootstrap.lock

FROM base AS rasa
ENV RASA_TELEMETRY_ENABLED=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONPATH=/app
COPY requirements/rasa-runtime.in requirements/rasa-runtime.lock requirements/
RUN pip install --build-constraint requirements/bootstrap.lock -r requirements/rasa-runtime.in -c requirements/rasa-runtime.lock \
 && pip check \
 && diff -u <(grep -v '^\s*\(#\|$\)' requirements/rasa-runtime.lock | sort -f) <(pip freeze --all --exclude-editable | sort -f)
COPY config.yml domain.yml endpoints.yml endpoints.prod.yml credentials.yml rasa-logging.yml ./
COPY data/ data/
# Our NLU components and the pure Python they use, on PYTHONPATH (the packages the Makefile links
# into .venv-rasa); nothing else: knowledge/, the rest of hotline/ ... need SQLAlchemy 2.
COPY bot/ bot/
COPY language/ language/
COPY safety/ safety/
COPY hotline/__init__.py hotline/privacy.py hotline/
USER hotline
EXPOSE 5005
# Rasa answers / once the model is loaded (a minute or two).
HEALTHCHECK --interval=10s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5005/', timeout=4)"]
# The `rasa` command as the hotline runs it (Rasa's own, with its action-answer check made fast:
# bot/server/), so that the container's arguments are rasa's, from `run` on, as Rasa's Helm chart
# gives them. By default: HTTP API off (no --enable-api), only the REST channel of credentials.yml;
# backends from the ${VARIABLES} of endpoints.prod.yml (docs/deploy.md lists them); no message text
# in the log when RabbitMQ is down (rasa-logging.yml).
ENTRYPOINT ["python", "-m", "bot.server"]
CMD ["run", "--model", "/app/models/current.tar.gz", "--interface", "0.0.0.0", "--port", "5005", \
     "--credentials", "credentials.yml", "--endpoints", "endpoints.prod.yml", \
     "--logging-config-file", "rasa-logging.yml"]

FROM base AS app
# The CJK font `hotline report --format png` draws with (one of `make system-deps`'s packages; the
# others, chromium for the console's browser tests, are not needed to run).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/*
COPY requirements/app-runtime.in requirements/app-runtime.lock requirements/
COPY pyproject.toml ./
# Every package of pyproject.toml (installed editable, as in .venv: these are the code that runs).
COPY actions/ actions/
COPY bot/ bot/
COPY database/ database/
COPY hotline/ hotline/
COPY knowledge/ knowledge/
COPY language/ language/
COPY launcher/ launcher/
COPY safety/ safety/
COPY web/ web/
RUN pip install --build-constraint requirements/bootstrap.lock -r requirements/app-runtime.in -c requirements/app-runtime.lock \
 && pip check \
 && diff -u <(grep -v '^\s*\(#\|$\)' requirements/app-runtime.lock | sort -f) <(pip freeze --all --exclude-editable | sort -f)
# The crisis detector's classifier, trained here from the repository's data as `make crisis-model`
# does (a second): the WeChat gateway scores every message with it, also when Rasa is down.
COPY domain.yml ./
COPY data/nlu/ data/nlu/
RUN python -m safety.train --out /app/crisis-model.json
# var/: the secret key file when HOTLINE_SECRET_KEY is not given, generated files, logs.
RUN mkdir -p /app/var && chown hotline:hotline /app/var
ENV HOTLINE_VAR_DIR=/app/var HOTLINE_APP_HOST=0.0.0.0 HOTLINE_CRISIS_MODEL=/app/crisis-model.json
USER hotline
EXPOSE 8080 5055
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
# The store's schema brought to head (Alembic migrations: the app creates no table), then the app.
# The same image runs the action server and the one-shot init with commands of their own (compose).
CMD ["sh", "-c", "hotline db upgrade && exec python -m web"]
