# syntax=docker/dockerfile:1
# Skeleton, completed by a later issue. Two images built from the same lock files and with the
# same pip commands as `make setup` (see the Makefile):
#   docker build --target rasa -t hotline-rasa .   Rasa server (+ bot/ custom components)
#   docker build --target app  -t hotline-app  .   action server, our app (web/) and the hotline CLI
ARG PYTHON_IMAGE=python:3.10.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
RUN groupadd --system --gid 10001 hotline \
 && useradd --system --uid 10001 --gid hotline --home-dir /app --no-create-home hotline
WORKDIR /app
COPY requirements/bootstrap.lock requirements/
RUN python -m venv /opt/venv && pip install -r requirements/bootstrap.lock

FROM base AS rasa
ENV RASA_TELEMETRY_ENABLED=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONPATH=/app
COPY requirements/rasa.in requirements/rasa.lock requirements/
RUN pip install --build-constraint requirements/bootstrap.lock -r requirements/rasa.in -c requirements/rasa.lock \
 && pip check
COPY config.yml domain.yml endpoints.yml credentials.yml ./
COPY data/ data/
COPY bot/ bot/
USER hotline
EXPOSE 5005
# Placeholder until a model is trained into the image: `rasa run` comes with a later issue.
CMD ["rasa", "--version"]

FROM base AS app
# The CJK font `hotline report --format png` draws with (as `make system-deps` installs it).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/*
COPY requirements/app.in requirements/app.lock requirements/
COPY pyproject.toml ./
COPY bot/ bot/
COPY actions/ actions/
COPY knowledge/ knowledge/
COPY web/ web/
RUN pip install --build-constraint requirements/bootstrap.lock -r requirements/app.in -c requirements/app.lock \
 && pip check
USER hotline
EXPOSE 5055
CMD ["python", "-m", "rasa_sdk", "--actions", "actions", "--port", "5055"]
