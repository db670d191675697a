#!/usr/bin/env bash
# Starts the services the tests talk to when they are down (this machine kind usually starts
# them already), and creates the test database and role. Idempotent.
set -euo pipefail

# Redis on 127.0.0.1:6379 (the chat bus and cluster tests).
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  command -v redis-server >/dev/null || { apt-get update -qq; apt-get install -y -qq redis-server; }
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi

# PostgreSQL 15 on 127.0.0.1:5432 (the PostgreSQL stores and the cluster).
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if ! command -v pg_ctlcluster >/dev/null || [ ! -d /etc/postgresql/15/main ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15
  fi
  pg_ctlcluster 15 main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

# Our own role and database, whatever pg_hba.conf allows for others: created as the postgres
# superuser over the local socket, used over TCP with a password.
psql_su() { su postgres -c "psql -v ON_ERROR_STOP=1 -qtAX $*"; }
if ! psql_su "-c \"select 1 from pg_roles where rolname='tutti_ci'\"" | grep -q 1; then
  psql_su "-c \"create role tutti_ci login createdb password 'tutti_ci'\""
fi
if ! psql_su "-c \"select 1 from pg_database where datname='tutti_ci'\"" | grep -q 1; then
  psql_su "-c \"create database tutti_ci owner tutti_ci\""
fi
echo "services: redis and postgresql up; TUTTI_TEST_DATABASE_URL=postgres://tutti_ci:tutti_ci@127.0.0.1:5432/tutti_ci"
