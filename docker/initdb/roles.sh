#!/bin/sh
# Run once by the postgres image, on an empty volume, as its superuser: the role that owns the
# schema and migrates it (`tac`), the role the API connects as (`tac_api`: it owns nothing, so it
# cannot drop the audit trail's triggers; `tac-api db grant` gives it what it may do), and the
# database, owned by `tac` (so is its public schema, on PostgreSQL 15 and later).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$TAC_DB_PASSWORD" -v api_password="$TAC_DB_API_PASSWORD" <<'SQL'
CREATE ROLE tac LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE tac_api LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'api_password';
CREATE DATABASE tac OWNER tac;
SQL
