# Arabic QA bot. Build:   docker build -t arabic-qa-bot .
# Behind a TLS-inspecting proxy, give pip the proxy's CA bundle as a build secret
# (used for the install only, never stored in the image):
#   docker build --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt -t arabic-qa-bot .
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# Tesseract with its Arabic model reads scanned PDF pages (OCR).
RUN apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        tesseract-ocr tesseract-ocr-ara \
    && rm -rf /var/lib/apt/lists/*

# A virtual environment: also works where the system Python refuses pip installs.
COPY requirements.lock /app/requirements.lock
RUN --mount=type=secret,id=ca,required=false \
    python3 -m venv /opt/venv \
    && if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
    && pip install --no-cache-dir -r /app/requirements.lock

WORKDIR /app
COPY bot /app/bot
COPY retrieval /app/retrieval
COPY storage /app/storage
COPY seeds /app/seeds
COPY docker/entrypoint.sh /usr/local/bin/entrypoint.sh

RUN (getent group bot || groupadd --system --gid 10001 bot) \
    && useradd --system --uid 10001 --gid bot --home-dir /data --no-create-home bot \
    && mkdir -p /data && chown bot:bot /data && chmod 0755 /usr/local/bin/entrypoint.sh

USER bot
ENV CORPUS_DIR=/data/corpus \
    DATABASE_PATH=/data/bot.sqlite3
VOLUME ["/data"]

HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "health"]

ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["python", "-m", "bot", "run"]
