# The bot in a container: `docker compose up` (compose.yaml) runs it with PostgreSQL 16.
# Nothing secret is baked in: settings come from the environment (compose passes `.env`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # The web server (/healthz, /metrics; WeCom's callback and the parents' pages) always runs.
    WEB_HOST=0.0.0.0 \
    WEB_PORT=8080

WORKDIR /app

# The project as pip installs it from pyproject.toml. Editable, so that the migrations and
# alembic.ini next to the code are where `models/db/migrate.py` looks for them.
COPY pyproject.toml README.md alembic.ini babel.cfg ./
COPY bot ./bot
COPY handlers ./handlers
COPY models ./models
COPY scheduler ./scheduler
COPY migrations ./migrations
RUN pip install -e . \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin jiafang

USER jiafang
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=8).status != 200)"]

# Migrations first (`python -m bot db upgrade`, safe to repeat), then the bot, with the options
# in BOT_RUN_OPTIONS (e.g. "--all-schools --webhook" for a district; empty: one school).
CMD ["sh", "-c", "python -m bot db upgrade && exec python -m bot run $BOT_RUN_OPTIONS"]
