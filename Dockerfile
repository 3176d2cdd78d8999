# dtsbot's image: `dtsbot serve` as a non-root user, configured by /etc/dtsbot/app.yaml (the production template
# unless you mount your own) and secrets as files (*_FILE). docs/deploy.md says how it was checked: CI lints this
# file with hadolint and runs deploy/entrypoint.sh outside Docker; no image is built there.

# Build: a virtualenv with dtsbot and its dependencies, copied whole into the runtime stage (no compiler there).
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/dtsbot
WORKDIR /src
COPY pyproject.toml README.md LICENSE MANIFEST.in app.yaml ./
COPY bot ./bot
COPY core ./core
COPY handlers ./handlers
COPY storage ./storage
COPY sandbox ./sandbox
RUN /opt/dtsbot/bin/pip install ./

FROM python:3.11-slim-bookworm
LABEL org.opencontainers.image.title="dtsbot" \
      org.opencontainers.image.description="Slack bot that runs a cross-account Tencent Cloud DTS migration" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 dtsbot \
    && useradd --system --no-log-init --uid 10001 --gid dtsbot --home-dir /var/lib/dtsbot --create-home dtsbot
COPY --from=build /opt/dtsbot /opt/dtsbot
COPY deploy/entrypoint.sh /usr/local/bin/dtsbot-entrypoint
COPY deploy/app.production.yaml /etc/dtsbot/app.yaml
ENV PATH=/opt/dtsbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DTSBOT_CONFIG=/etc/dtsbot/app.yaml \
    DTSBOT_METRICS_PORT=9090
USER 10001:10001
WORKDIR /var/lib/dtsbot
# 3000: Slack's requests in HTTP mode (behind your HTTPS proxy); 9090: /healthz and /metrics (metrics.port).
EXPOSE 3000 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['DTSBOT_METRICS_PORT'], timeout=4)"]
ENTRYPOINT ["dtsbot-entrypoint"]
