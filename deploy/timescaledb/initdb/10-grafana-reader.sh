#!/bin/sh
# Run once by the TimescaleDB image when its data volume is new (/docker-entrypoint-initdb.d):
# a read-only login for Grafana's data source, so the walls cannot change what they show.
# pg_read_all_data (PostgreSQL 14+) covers the tables and views `cityvitals db migrate` creates
# later, in every schema (TimescaleDB's aggregates included).
set -eu
: "${GRAFANA_DB_USER:=grafana_reader}"
: "${GRAFANA_DB_PASSWORD:?set GRAFANA_DB_PASSWORD (deploy/.env)}"
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v reader="$GRAFANA_DB_USER" -v password="$GRAFANA_DB_PASSWORD" <<'SQL'
CREATE ROLE :"reader" LOGIN PASSWORD :'password';
GRANT pg_read_all_data TO :"reader";
ALTER ROLE :"reader" SET default_transaction_read_only = on;
ALTER ROLE :"reader" SET statement_timeout = '30s';
SQL
