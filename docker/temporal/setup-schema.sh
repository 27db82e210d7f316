#!/bin/sh
# One-shot job (temporalio/admin-tools): brings Temporal's two databases up to this image's schema version before
# the server starts. The databases and the `temporal` role are created by ../postgres/init-databases.sh.
# Safe to run again, and that is how upgrades get their schema changes: `setup-schema -v 0.0` leaves a newer
# version alone and `update-schema` applies only the versions that are missing.
# Env: SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD (read by temporal-sql-tool itself).
set -eu

schema_dir=/etc/temporal/schema/postgresql/v12

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) versioned="$schema_dir/temporal/versioned" ;;
    *) versioned="$schema_dir/visibility/versioned" ;;
  esac
  echo "temporal-schema: $db"
  temporal-sql-tool --plugin postgres12 --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" --db "$db" setup-schema -v 0.0
  temporal-sql-tool --plugin postgres12 --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" --db "$db" update-schema -d "$versioned"
done
echo "temporal-schema: done"
