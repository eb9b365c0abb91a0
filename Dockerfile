# syntax=docker/dockerfile:1.7
# One image for the three services; the command picks which one runs:
#   docker build -t chiso .
#   docker run --rm -p 8000:8000 chiso serve gateway --host 0.0.0.0 --port 8000
#   docker run --rm chiso migrate ingest        # one-shot, then exits
# Build from the repository root (the uv workspace and its uv.lock live there).

ARG PYTHON_VERSION=3.11
ARG UV_VERSION=0.13.9

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# ---- build: resolve the locked dependencies into /app/.venv ---------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS build

COPY --from=uv /uv /usr/local/bin/uv

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# Step 1: third-party dependencies only. This layer changes only when a pyproject.toml or
# uv.lock changes, so code edits reuse it.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/
COPY services/gateway/pyproject.toml services/gateway/
COPY services/ingest/pyproject.toml services/ingest/
COPY services/indicators/pyproject.toml services/indicators/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-install-workspace --no-dev

# Step 2: the workspace's own packages. --no-editable installs them as real wheels (migrations
# and data files included), so the runtime stage needs only the virtualenv, not the sources.
COPY README.md ./
COPY src/ src/
COPY shared/ shared/
COPY services/ services/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# ---- runtime: the virtualenv on a clean slim image, run as a non-root user ------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime

# A numeric UID so Kubernetes can verify runAsNonRoot without reading /etc/passwd.
RUN groupadd --system --gid 10001 chiso \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin chiso \
    && mkdir -p /data /etc/chiso/jwt-keys \
    && chown 10001:10001 /data /etc/chiso/jwt-keys

# Owned by root and not writable by the app user: the code cannot be changed at run time.
COPY --from=build /app/.venv /app/.venv

ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CHISO_GATEWAY_DATA_DIR=/data \
    CHISO_INGEST_DATA_DIR=/data \
    CHISO_INDICATORS_DATA_DIR=/data

WORKDIR /app
USER 10001:10001

# gateway 8000, ingest 8001, indicators 8002 (documentation only; the command sets the port).
EXPOSE 8000 8001 8002

ENTRYPOINT ["chiso"]
CMD ["serve", "gateway", "--host", "0.0.0.0", "--port", "8000"]
