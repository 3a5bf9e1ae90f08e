FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_URL=sqlite+aiosqlite:////data/nudgebot.sqlite3

# tzdata for the system; the Python tzdata package covers zoneinfo as well.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 nudgebot \
    && mkdir /data && chown nudgebot /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY nudges ./nudges
COPY migrations ./migrations
RUN pip install .

USER nudgebot
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${PORT}/healthz" || exit 1
CMD ["nudgebot", "serve"]
