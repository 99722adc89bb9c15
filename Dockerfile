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
# Serve only: migrating needs the schema's owner, which the API's own role is not. Run
# `tac-api db upgrade && tac-api db grant --role <the API's role>` as the owner first
# (docker-compose.yml's `migrate` service); until then /health/ready answers 503.
CMD ["tac-api", "serve"]
