# Opsloop for self-hosting: `opsloop serve` (HTTP mode) by default; the same image runs
# `opsloop run`, `scheduler` and `migrate` (see compose.yaml and README → Run it with
# containers). Settings come from the environment (README → Configuration), never the image.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A user of its own: the bot never runs as root.
RUN groupadd --system --gid 10001 opsloop \
    && useradd --system --uid 10001 --gid opsloop --home-dir /data --create-home opsloop

WORKDIR /app
COPY . .
# The README's install commands, as written there.
RUN python3 -m venv .venv && . .venv/bin/activate && pip install --no-cache-dir -e .
ENV PATH=/app/.venv/bin:$PATH

# The working directory of the running bot: an embedded SQLite database (the default
# DATABASE_URL, sqlite:///opsloop.db) lives here; mount a volume to keep it.
WORKDIR /data
USER 10001:10001
EXPOSE 3000

# GET /healthz answers 200 when the database answers, 503 when not (urlopen raises on both
# a refused connection and a 503). Only `serve` listens: compose disables it for the others.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]

ENTRYPOINT ["opsloop"]
CMD ["serve", "--host", "0.0.0.0", "--port", "3000"]
