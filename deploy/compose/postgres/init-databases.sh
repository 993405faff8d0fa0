#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d):
# one database per service, each owned by its own login role, as in production (RDS:
# one database and one user per service). The role's password is SERVICES_DB_PASSWORD.
set -eu
: "${SERVICES_DB_PASSWORD:?set SERVICES_DB_PASSWORD}"
for service in auth user board chat noti storage video ops; do
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v role="$service" -v db="${service}_db" -v password="$SERVICES_DB_PASSWORD" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"role";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
done
