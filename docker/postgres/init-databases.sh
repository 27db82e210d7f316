#!/bin/sh
# Runs once, when the postgres volume is empty (postgres image: /docker-entrypoint-initdb.d), as the superuser.
# One Postgres holds Temporal's two databases and mediamesh's feature store, each owned by its own role:
#   temporal  -> temporal, temporal_visibility   (schemas: the temporal-schema job, temporal-sql-tool)
#   mediamesh -> mediamesh                       (schema: the migrate job, prisma migrate deploy)
# Passwords come from the container environment (TEMPORAL_DB_PASSWORD, MEDIAMESH_DB_PASSWORD); psql variables
# quote them, so no shell or SQL interpolation happens here.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v temporal_password="$TEMPORAL_DB_PASSWORD" \
  -v mediamesh_password="$MEDIAMESH_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;

CREATE ROLE mediamesh LOGIN PASSWORD :'mediamesh_password';
CREATE DATABASE mediamesh OWNER mediamesh;

-- Temporal's advanced-visibility schema creates btree_gin; create it here so the temporal role needs no extra rights.
\connect temporal_visibility
CREATE EXTENSION IF NOT EXISTS btree_gin;
SQL
