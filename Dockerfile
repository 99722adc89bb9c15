# tac-api on PostgreSQL. Installs exactly the pinned versions CI tested (requirements.lock).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml README.md alembic.ini ./
COPY alembic ./alembic
COPY src ./src
RUN pip install --no-deps -e . && useradd --system --uid 10001 tac
USER tac

ENV TAC_HOST=0.0.0.0 TAC_PORT=8000
EXPOSE 8000
# Migrate (guarded by an advisory lock, so replicas can start together), then serve.
CMD ["sh", "-c", "tac-api db upgrade && exec tac-api serve"]
