#!/bin/sh
# Run once by the postgres image, on an empty data volume (docker-entrypoint-initdb.d), as
# POSTGRES_USER (chiso). Each service owns its database: `chiso` owns all three and runs the
# migrations; each service connects as its own role (chiso_<service>_app), which may connect
# to its database only and gets its row access from the migration (DATABASE_RUNTIME_ROLE).
# The passwords come from the environment (docker-compose.yml, .env); psql quotes them as
# literals (:'name'), so any character is safe here.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v gateway_password="$GATEWAY_DB_PASSWORD" \
  -v ingest_password="$INGEST_DB_PASSWORD" \
  -v indicators_password="$INDICATORS_DB_PASSWORD" <<'SQL'
CREATE ROLE chiso_gateway_app LOGIN PASSWORD :'gateway_password';
CREATE ROLE chiso_ingest_app LOGIN PASSWORD :'ingest_password';
CREATE ROLE chiso_indicators_app LOGIN PASSWORD :'indicators_password';

CREATE DATABASE chiso_gateway OWNER chiso;
CREATE DATABASE chiso_ingest OWNER chiso;
CREATE DATABASE chiso_indicators OWNER chiso;

REVOKE ALL ON DATABASE chiso_gateway FROM PUBLIC;
REVOKE ALL ON DATABASE chiso_ingest FROM PUBLIC;
REVOKE ALL ON DATABASE chiso_indicators FROM PUBLIC;
GRANT CONNECT ON DATABASE chiso_gateway TO chiso_gateway_app;
GRANT CONNECT ON DATABASE chiso_ingest TO chiso_ingest_app;
GRANT CONNECT ON DATABASE chiso_indicators TO chiso_indicators_app;
SQL

# PostgreSQL 15 and later grant PUBLIC no CREATE on `public`; said again for older images.
for database in chiso_gateway chiso_ingest chiso_indicators; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$database" \
    -c 'REVOKE CREATE ON SCHEMA public FROM PUBLIC'
done
