# The stock bridge: `docker build -t stock-bridge .` then `docker run stock-bridge status`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    STOCK_BRIDGE_CONFIG=/etc/stock-bridge/bridge.toml

WORKDIR /app
COPY pyproject.toml README.md ./
COPY connector ./connector
COPY fixtures ./fixtures
RUN pip install . \
    && useradd --system --home-dir /var/lib/stock-bridge --create-home bridge
COPY docker/bridge.toml /etc/stock-bridge/bridge.toml

USER bridge
WORKDIR /var/lib/stock-bridge
EXPOSE 8765
ENTRYPOINT ["stock-bridge"]
CMD ["run", "--config", "/etc/stock-bridge/bridge.toml"]
