#!/usr/bin/env bash
# Make sure PostgreSQL 15 with pgvector (>= 0.7) is ready on 127.0.0.1:5432,
# create a test database with the `vector` extension, and print its URL.
#
#   URL=$(bash infra/ci/postgres.sh [--fresh] [DBNAME])
#
# Idempotent. All progress goes to stderr; the only stdout line is the URL.
# Must run as root (CI and dev machines run as root).
set -euo pipefail

PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PG_CONFIG=$PG_BIN/pg_config
PG_HOST=127.0.0.1
PG_PORT=5432
PG_USER=postgres
MIN_VECTOR=0.7.0
SRC_SUITE=trixie
SRC_FILE=/etc/apt/sources.list.d/warden-$SRC_SUITE-src.sources

DB=warden_test
FRESH=0
for arg in "$@"; do
  case "$arg" in
    --fresh) FRESH=1 ;;
    -h|--help) sed -n '2,9p' "$0" >&2; exit 0 ;;
    -*) echo "postgres.sh: unknown option $arg" >&2; exit 2 ;;
    *) DB=$arg ;;
  esac
done
if [[ ! $DB =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
  echo "postgres.sh: invalid database name '$DB'" >&2
  exit 2
fi

log() { echo "[postgres.sh] $*" >&2; }
# Run a noisy command with its output kept in a log, shown only if it fails.
quiet() {
  local out rc=0
  out=$(mktemp /tmp/warden-ci-log.XXXXXX)
  "$@" >"$out" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    log "command failed ($rc): $*"
    cat "$out" >&2
  fi
  rm -f "$out"
  return "$rc"
}
export DEBIAN_FRONTEND=noninteractive

if [[ $(id -u) -ne 0 ]]; then
  log "must run as root (needs apt-get and make install)"
  exit 1
fi

APT_UPDATED=0
apt_update() {
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    quiet apt-get update
    APT_UPDATED=1
  fi
}
apt_install() {
  apt_update
  log "apt-get install $*"
  quiet apt-get install -y --no-install-recommends "$@"
}

psql_admin() { # psql as the superuser; extra args passed through (-d DB ...)
  PGOPTIONS="-c client_min_messages=warning" psql -X -v ON_ERROR_STOP=1 -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$@"
}

# --------------------------------------------------------------------------
# (a) PostgreSQL 15 server running on 127.0.0.1:5432 with trust auth
# --------------------------------------------------------------------------
if [[ ! -x $PG_BIN/postgres ]]; then
  apt_install "postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR"
  HBA=/etc/postgresql/$PG_MAJOR/main/pg_hba.conf
  if [[ -f $HBA ]] && ! grep -q '^# warden-ci trust' "$HBA"; then
    log "configuring trust auth in $HBA"
    {
      echo "# warden-ci trust (local test machine only)"
      echo "local all all trust"
      echo "host all all 127.0.0.1/32 trust"
      echo "host all all ::1/128 trust"
      grep -v '^\s*#' "$HBA" | grep -v '^\s*$' | grep -Ev '^\s*(local|host)\s+all\s+all\s' || true
    } >"$HBA.new"
    mv "$HBA.new" "$HBA"
    chown postgres:postgres "$HBA"
    # running cluster (if apt started it) must re-read pg_hba.conf
    pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" main reload >&2 2>/dev/null || true
  fi
fi

pg_ready() { "$PG_BIN/pg_isready" -q -h "$PG_HOST" -p "$PG_PORT"; }

if ! pg_ready; then
  ver=$(ls /etc/postgresql | sort -V | tail -n1)
  log "starting PostgreSQL cluster $ver/main"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2 || true
  for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
  if ! pg_ready; then
    log "PostgreSQL did not come up on $PG_HOST:$PG_PORT"
    pg_lsclusters >&2 || true
    exit 1
  fi
fi
server_major=$(psql_admin -d postgres -Atc 'show server_version_num')
server_major=$((server_major / 10000))
if [[ $server_major -ne $PG_MAJOR ]]; then
  log "expected PostgreSQL $PG_MAJOR on $PG_HOST:$PG_PORT, found $server_major"
  exit 1
fi
log "PostgreSQL $server_major is up on $PG_HOST:$PG_PORT"

# Memory for the benchmarks' data set: PostgreSQL's default shared_buffers (128MB) holds neither the HNSW
# graphs of 100k chunks (260 MB over the four per-kind indexes) nor the heap pages searches touch, so every
# query re-reads them from the OS cache. Measured at 100k chunks (scratch profile of retrievePassages and
# search(), 180 queries each, 2 cores): evidence retrieval p50/p95 33/55 -> 24/40 ms, hybrid search 34/58 ->
# 25/38 ms with 1GB. A restart is needed only when the value changes (first run on a machine).
PG_SHARED_BUFFERS=1GB
restart_pg() {
  pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" main restart >&2
  for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
  pg_ready || { log "PostgreSQL did not come back after the restart"; exit 1; }
}
current_sb=$(psql_admin -d postgres -Atc 'show shared_buffers')
if [[ $current_sb != "$PG_SHARED_BUFFERS" ]]; then
  log "setting shared_buffers = $PG_SHARED_BUFFERS (was $current_sb); restarting PostgreSQL"
  psql_admin -d postgres -c "ALTER SYSTEM SET shared_buffers = '$PG_SHARED_BUFFERS'" >&2
  restart_pg
fi

# Huge pages for that shared memory. Without them every backend maps the 1GB in 4 KB pages and takes a page
# fault the first time it touches each one: a new connection's first HNSW walks cost ~25 ms instead of ~3
# (100k chunks, 2 cores), and warm walks pay TLB misses. Measured with bench:assess at 100k chunks: deterministic
# assessment p50/p95 28.8–30.4 / 47.4–59.0 ms without, 24.4 / 39.3 ms with. PostgreSQL's default huge_pages=try
# uses them only when the kernel has enough reserved (vm.nr_hugepages, 0 on this machine kind), so reserve what
# the server asks for (shared_memory_size_in_huge_pages, PostgreSQL >= 15) and restart once. Where the kernel
# refuses (an unprivileged container), PostgreSQL runs as before.
hp_field() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
hp_need=$(psql_admin -d postgres -Atc 'show shared_memory_size_in_huge_pages' 2>/dev/null || echo 0)
hp_setting=$(psql_admin -d postgres -Atc 'show huge_pages')
if [[ $hp_need =~ ^[0-9]+$ && $hp_need -gt 0 && $hp_setting != off && -w /proc/sys/vm/nr_hugepages ]]; then
  hp_total=$(hp_field HugePages_Total)
  hp_used=$(( hp_total - $(hp_field HugePages_Free) + $(hp_field HugePages_Rsvd) ))
  if [[ $hp_used -lt $hp_need ]]; then
    # Not in use by the server yet: reserve enough beside what others use, then restart into them.
    want=$(( hp_used + hp_need ))
    if [[ $hp_total -lt $want ]]; then echo "$want" >/proc/sys/vm/nr_hugepages 2>/dev/null || true; fi
    if [[ $(hp_field HugePages_Total) -ge $want ]]; then
      log "reserved $hp_need huge pages for PostgreSQL's shared memory; restarting PostgreSQL"
      restart_pg
    else
      log "could not reserve $hp_need huge pages (got $(hp_field HugePages_Total)); PostgreSQL keeps 4 KB pages"
    fi
  fi
fi

# --------------------------------------------------------------------------
# (b) pgvector >= 0.7, built from Debian trixie's source package
# --------------------------------------------------------------------------
CONTROL=/usr/share/postgresql/$PG_MAJOR/extension/vector.control
installed_vector_version() {
  [[ -f $CONTROL ]] || return 0
  sed -nE "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'([^']+)'.*/\1/p" "$CONTROL" | head -n1
}
vector_ok() {
  local v
  v=$(installed_vector_version)
  [[ -n $v ]] && [[ -f $(${PG_CONFIG} --pkglibdir)/vector.so ]] &&
    dpkg --compare-versions "$v" ge "$MIN_VECTOR"
}

# Prints "URI<TAB>KEYRING" of the Debian main archive already configured on
# this machine (deb822 *.sources first, then one-line *.list / sources.list).
debian_mirror() {
  local f sources=() lists=()
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f && $f != "$SRC_FILE" ]] && sources+=("$f")
  done
  [[ -f /etc/apt/sources.list ]] && lists+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list; do [[ -f $f ]] && lists+=("$f"); done
  {
    # deb822 stanzas: Types deb, a plain release suite, component main, not security
    [[ ${#sources[@]} -eq 0 ]] || awk '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled != "no" && uris ~ /debian/ && uris !~ /security/ &&
            suites ~ /(^| )[a-z]+( |$)/ && comps ~ /(^| )main( |$)/) {
          split(uris, u, " "); print u[1] "\t" keyring
        }
        types = uris = suites = comps = keyring = enabled = ""
      }
      FNR == 1 { flush() }
      /^[[:space:]]*$/ { flush(); next }
      /^[[:space:]]*#/ { next }
      /^[A-Za-z-]+:/ {
        key = tolower($1); sub(/:$/, "", key); val = $0; sub(/^[^:]*:[[:space:]]*/, "", val)
        if (key == "types") types = val
        else if (key == "uris") uris = val
        else if (key == "suites") suites = val
        else if (key == "components") comps = val
        else if (key == "signed-by") keyring = val
        else if (key == "enabled") enabled = tolower(val)
      }
      END { flush() }
    ' "${sources[@]}"
    # one-line format: deb [signed-by=...] URI suite main
    [[ ${#lists[@]} -eq 0 ]] || awk '
      /^[[:space:]]*deb[[:space:]]/ && $0 ~ /debian/ && $0 !~ /security/ && $0 ~ /[[:space:]]main([[:space:]]|$)/ {
        kr = ""; uri = ""; inopt = 0
        for (i = 2; i <= NF; i++) {
          if ($i ~ /^\[/ || inopt) {
            inopt = ($i !~ /\]$/)
            t = $i; gsub(/[][]/, "", t)
            if (t ~ /^signed-by=/) { sub(/^signed-by=/, "", t); kr = t }
            continue
          }
          uri = $i; break
        }
        if (uri != "") print uri "\t" kr
      }
    ' "${lists[@]}"
  } | head -n1 | grep .
}

build_pgvector() {
  local line mirror keyring
  line=$(debian_mirror) || { log "could not find a Debian mirror in /etc/apt/sources.list{,.d}"; exit 1; }
  mirror=${line%%$'\t'*}
  keyring=${line#*$'\t'}
  if [[ -z $keyring ]]; then
    # No Signed-By on the configured source: it relies on the default trusted
    # keyrings; use the archive keyring package's file if present.
    [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] && keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  fi
  log "using Debian mirror $mirror (keyring: ${keyring:-apt default})"

  local want
  want="# Managed by warden infra/ci/postgres.sh: source packages only (no binaries from $SRC_SUITE).
Types: deb-src
URIs: $mirror
Suites: $SRC_SUITE
Components: main"
  [[ -n $keyring ]] && want+=$'\n'"Signed-By: $keyring"
  if [[ ! -f $SRC_FILE ]] || [[ "$(cat "$SRC_FILE")" != "$want" ]]; then
    log "writing $SRC_FILE"
    printf '%s\n' "$want" >"$SRC_FILE"
  fi

  # One update picks up the new deb-src entry and fresh bookworm lists.
  apt_update
  local deps=()
  dpkg -s "postgresql-server-dev-$PG_MAJOR" >/dev/null 2>&1 || deps+=("postgresql-server-dev-$PG_MAJOR")
  dpkg -s dpkg-dev >/dev/null 2>&1 || deps+=(dpkg-dev)
  command -v make >/dev/null || deps+=(make)
  command -v gcc >/dev/null || deps+=(gcc)
  [[ ${#deps[@]} -eq 0 ]] || apt_install "${deps[@]}"

  local build
  build=$(mktemp -d /tmp/warden-pgvector.XXXXXX)
  # shellcheck disable=SC2064
  trap "rm -rf '$build'" EXIT
  log "apt-get source pgvector/$SRC_SUITE in $build"
  (cd "$build" && quiet apt-get source "pgvector/$SRC_SUITE")
  local src
  src=$(find "$build" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n1)
  [[ -n $src ]] || { log "pgvector source not unpacked"; exit 1; }
  log "building $(basename "$src") against $PG_CONFIG"
  # OPTFLAGS="" avoids -march=native so the .so doesn't depend on this CPU;
  # with_llvm=no skips JIT bitcode (not needed for tests).
  quiet make -C "$src" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" with_llvm=no
  quiet make -C "$src" install PG_CONFIG="$PG_CONFIG" OPTFLAGS="" with_llvm=no
  rm -rf "$build"
  trap - EXIT
}

if vector_ok; then
  log "pgvector $(installed_vector_version) already installed; skipping build"
else
  log "pgvector >= $MIN_VECTOR not installed (found: '$(installed_vector_version)'); building"
  build_pgvector
  vector_ok || { log "pgvector install did not produce version >= $MIN_VECTOR"; exit 1; }
  log "installed pgvector $(installed_vector_version)"
fi

# --------------------------------------------------------------------------
# (c) test database with the vector extension
# --------------------------------------------------------------------------
if [[ $FRESH -eq 1 ]]; then
  log "dropping database $DB (--fresh)"
  psql_admin -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >&2
fi
if [[ -z $(psql_admin -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'") ]]; then
  log "creating database $DB"
  psql_admin -d postgres -c "CREATE DATABASE \"$DB\"" >&2
fi
psql_admin -d "$DB" -c "CREATE EXTENSION IF NOT EXISTS vector" >&2
# An existing DB may hold an older extension version; bring it up to date.
psql_admin -d "$DB" -c "ALTER EXTENSION vector UPDATE" >&2 2>/dev/null || true
log "database $DB ready with vector $(psql_admin -d "$DB" -Atc "SELECT extversion FROM pg_extension WHERE extname = 'vector'")"

echo "postgres://$PG_USER@$PG_HOST:$PG_PORT/$DB"
