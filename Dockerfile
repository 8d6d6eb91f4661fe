# syntax=docker/dockerfile:1
# Two images built from the same lock files with the same pip commands as `make setup` (the
# Makefile's build-venv: bootstrap.lock, then X.in constrained by X.lock, pip check, and the
# installed set compared with the lock; tests/test_container.py keeps the two in step):
#   docker build --target rasa -t hotline-rasa .   Rasa server (+ bot/ custom NLU components)
#   docker build --target app  -t hotline-app  .   our app (hotline-app), the action server and the hotline CLI
# docker-compose.yml runs them (two Rasa, actions, app) on PostgreSQL, Redis and RabbitMQ;
# docs/deploy.md maps them onto Rasa's Helm chart.
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
COPY requirements/rasa.in requirements/rasa.lock requirements/
RUN pip install --build-constraint requirements/bootstrap.lock -r requirements/rasa.in -c requirements/rasa.lock \
 && pip check \
 && diff -u <(grep -v '^\s*\(#\|$\)' requirements/rasa.lock | sort -f) <(pip freeze --all --exclude-editable | sort -f)
COPY config.yml domain.yml endpoints.yml endpoints.prod.yml credentials.yml rasa-logging.yml ./
COPY data/ data/
# Only bot/ (on PYTHONPATH, as the Makefile links it into .venv-rasa): knowledge/ needs SQLAlchemy 2.
COPY bot/ bot/
USER hotline
EXPOSE 5005
# `rasa run` with its action-answer check made fast (bot/server.py). HTTP API off (no --enable-api): only the REST channel of credentials.yml. Backends from the
# ${VARIABLES} of endpoints.prod.yml (docs/deploy.md lists them); no message text in the log when
# RabbitMQ is down (rasa-logging.yml).
CMD ["python", "-m", "bot.server", "run", "--model", "/app/models/current.tar.gz", "--interface", "0.0.0.0", "--port", "5005", \
     "--credentials", "credentials.yml", "--endpoints", "endpoints.prod.yml", \
     "--logging-config-file", "rasa-logging.yml"]

FROM base AS app
# The CJK font `hotline report --format png` draws with (one of `make system-deps`'s packages; the
# others, chromium for the console's browser tests, are not needed to run).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/*
COPY requirements/app.in requirements/app.lock requirements/
COPY pyproject.toml ./
COPY bot/ bot/
COPY actions/ actions/
COPY knowledge/ knowledge/
COPY web/ web/
RUN pip install --build-constraint requirements/bootstrap.lock -r requirements/app.in -c requirements/app.lock \
 && pip check \
 && diff -u <(grep -v '^\s*\(#\|$\)' requirements/app.lock | sort -f) <(pip freeze --all --exclude-editable | sort -f)
# var/: the secret key file when HOTLINE_SECRET_KEY is not given, generated files, logs.
RUN mkdir -p /app/var && chown hotline:hotline /app/var
ENV HOTLINE_VAR_DIR=/app/var HOTLINE_APP_HOST=0.0.0.0
USER hotline
EXPOSE 8080 5055
# The app; the same image runs the action server (compose: python -m rasa_sdk --actions actions).
CMD ["hotline-app"]
