#!/bin/sh
# Run once by the TimescaleDB image when its data volume is new (/docker-entrypoint-initdb.d):
# the login Grafana's data source uses, read-only and time-limited, with no privileges yet.
# The tables do not exist at this point: `cityvitals db grant-wall-reader` grants SELECT on
# exactly what the walls read after every `cityvitals db migrate` (the compose file's
# `wall-reader` service; storage/wall_reader.py holds the list). Not pg_read_all_data: that
# would let any Grafana editor read api_keys and dead-letter payloads through Explore.
set -eu
: "${GRAFANA_DB_USER:=grafana_reader}"
: "${GRAFANA_DB_PASSWORD:?set GRAFANA_DB_PASSWORD (deploy/.env)}"
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v reader="$GRAFANA_DB_USER" -v password="$GRAFANA_DB_PASSWORD" <<'SQL'
CREATE ROLE :"reader" LOGIN PASSWORD :'password';
ALTER ROLE :"reader" SET default_transaction_read_only = on;
ALTER ROLE :"reader" SET statement_timeout = '30s';
SQL
