#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks use, only when missing.
# PostgreSQL server binaries (initdb, postgres), psql and pgbench; openssl for test certificates.
set -euo pipefail
need=()
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$pgbin" ] && [ -x "$pgbin/initdb" ] || need+=(postgresql)
command -v psql >/dev/null || need+=(postgresql-client)
command -v pgbench >/dev/null || need+=(postgresql-contrib)
command -v openssl >/dev/null || need+=(openssl)
for extra in "$@"; do
  case "$extra" in
    pgbouncer) command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer) ;;
    chromium) command -v chromium >/dev/null || need+=(chromium) ;;
    mariadb) command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server) ;;
  esac
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
