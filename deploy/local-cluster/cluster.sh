#!/usr/bin/env bash
# cluster.sh — a real Temporal cluster on this machine: the server (v1.32.0, the version the dev
# server embeds) built with the Go toolchain from the Go module proxy, on a PostgreSQL cluster of its
# own, its four services (frontend, history, matching, internal worker) as separate processes, the
# Web UI, advanced visibility on PostgreSQL and the project's search attributes.
# Run it as `./temporal-dev.sh cluster up|down|status|...` (help: `./temporal-dev.sh cluster help`).
#
# Files (all git-ignored):
#   .temporal/cluster-bin/          the built binaries and the server's SQL schema, by version (kept
#                                   between runs; delete to rebuild)
#   $TEMPORAL_CLUSTER_DIR           the run folder (default .temporal/cluster):
#     ports                         the ports chosen at the first `up`: key=value lines, checked, never run
#     temporal.yaml, ui/base.yaml   configs rendered from deploy/local-cluster/{temporal,ui}.yaml
#     postgres/data, postgres.log   the PostgreSQL cluster and its log
#     <part>.pid, logs/<part>.log   each service's pid (its process group) and log
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

readonly SERVER_VERSION=1.32.0
# The UI server the CLI's dev server 1.9.1 embeds; its module ships the built Web UI.
readonly UI_VERSION=2.54.1
readonly SERVER_MODULE=go.temporal.io/server
readonly UI_MODULE=github.com/temporalio/ui-server/v2
# The server's go.mod asks for this Go; an older go (>= 1.21) fetches it from the module proxy itself.
readonly GO_NEEDED=1.26.8
readonly DYNAMIC_CONFIG="$ROOT/deploy/temporal/dynamicconfig.yaml"
readonly SERVICES=(history matching frontend worker)
readonly PARTS=(postgres "${SERVICES[@]}" ui)
readonly HOST=127.0.0.1

readonly CACHE_DIR="$ROOT/.temporal/cluster-bin"
readonly SERVER_BIN="$CACHE_DIR/temporal-server-$SERVER_VERSION"
readonly SQL_TOOL="$CACHE_DIR/temporal-sql-tool-$SERVER_VERSION"
# Temporal's debugging CLI: the only one that shows the cluster's membership (which services joined).
readonly TDBG="$CACHE_DIR/tdbg-$SERVER_VERSION"
readonly SCHEMA_DIR="$CACHE_DIR/schema-$SERVER_VERSION"
readonly UI_BIN="$CACHE_DIR/temporal-ui-server-$UI_VERSION"

RUN_DIR="${TEMPORAL_CLUSTER_DIR:-.temporal/cluster}"
[[ "$RUN_DIR" == /* ]] || RUN_DIR="$ROOT/$RUN_DIR"
readonly RUN_DIR
readonly PORTS_FILE="$RUN_DIR/ports"
readonly CONFIG_FILE="$RUN_DIR/temporal.yaml"
readonly PG_DIR="$RUN_DIR/postgres"
readonly PG_DATA="$PG_DIR/data"
readonly PG_LOG="$PG_DIR/postgres.log"
readonly LOG_DIR="$RUN_DIR/logs"
readonly START_TIMEOUT_S=90
readonly STOP_TIMEOUT_S=20

# Every port the cluster listens on, in the order they follow the frontend's.
readonly PORT_KEYS=(FRONTEND_PORT FRONTEND_MEMBERSHIP_PORT FRONTEND_HTTP_PORT HISTORY_PORT
  HISTORY_MEMBERSHIP_PORT MATCHING_PORT MATCHING_MEMBERSHIP_PORT WORKER_PORT WORKER_MEMBERSHIP_PORT
  POSTGRES_PORT UI_PORT)

usage() {
  cat <<EOF
Usage: ./temporal-dev.sh cluster <command>

A Temporal $SERVER_VERSION cluster on PostgreSQL, its services as separate processes (the dev
server is one process on SQLite: ./temporal-dev.sh start). Built from source with Go on first use.

Commands:
  up                 Build what is missing, start PostgreSQL, create or update the schemas, start
                     the four services and the Web UI, create the namespace and search attributes.
                     Starts only what is not running. The last line of stdout is the frontend's
                     address (HOST:PORT).
  down               Stop the services, the Web UI and PostgreSQL (data stays in the run folder).
  status             Say what runs (exit 0 when everything does, 3 otherwise).
  restart PART       Stop PART (SIGTERM; PostgreSQL: a fast shutdown) and start it again.
                     PART: postgres, frontend, history, matching, worker, ui.
  pid PART           Print the pid of a running PART (exit 3 if it does not run).
  logs PART [-f]     Show the last \${LINES:-100} lines of PART's log; -f follows.
  build              Build (or find cached) the server, its SQL tool and the UI server; print the
                     server binary's path.
  help               Show this help.

Environment:
  TEMPORAL_CLUSTER_DIR    run folder (default .temporal/cluster); another folder is another cluster
  TEMPORAL_CLUSTER_PORT   frontend gRPC port at the first up (default 7333, at most 32759); the next
                          nine are the other services', the frontend's HTTP API (+2) and PostgreSQL's (+9)
  TEMPORAL_CLUSTER_UI_PORT  Web UI port at the first up (default frontend + 1000)
  TEMPORAL_CLUSTER_SHARDS   history shards at the first up (default 4)
  TEMPORAL_CLUSTER_LOG_LEVEL  the services' log level (default warn)
  TEMPORAL_CLUSTER_INSTALL  0: never install PostgreSQL with apt-get (default: install when root)
  PG_BIN                  folder with PostgreSQL's initdb and pg_ctl (default: the newest
                          /usr/lib/postgresql/*/bin)
  GOPATH, GOMODCACHE, GOCACHE, GOPROXY  as for any go build
EOF
}

log() { printf 'cluster: %s\n' "$*" >&2; }
die() { printf 'cluster: error: %s\n' "$*" >&2; exit 1; }
rel() { printf '%s\n' "${1#"$ROOT"/}"; }

# ---------------------------------------------------------------- ports

# True while process $1 runs (a zombie, dead but not yet reaped by its parent, does not).
alive() {
  local state
  state="$(ps -o stat= -p "$1" 2>/dev/null)" && [[ -n "$state" && "$state" != Z* ]]
}

is_port() { [[ "$1" =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535)); }
port_in_use() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# Loads the ports this run folder's cluster was set up with; returns 1 if it has none yet.
# The file is data: known keys with port numbers only, anything else stops the script.
load_ports() {
  local line key value number=0
  [[ -f "$PORTS_FILE" ]] || return 1
  while IFS= read -r line || [[ -n "$line" ]]; do
    number=$((number + 1))
    key="${line%%=*}"
    value="${line#*=}"
    [[ "$line" == *=* && " ${PORT_KEYS[*]} " == *" $key "* ]] \
      || die "$(rel "$PORTS_FILE") line $number is not a known key=value; remove the run folder or fix it"
    is_port "$value" || die "$(rel "$PORTS_FILE"): $key is not a port number"
    printf -v "$key" '%s' "$value"
  done <"$PORTS_FILE"
  for key in "${PORT_KEYS[@]}"; do
    [[ -n "${!key:-}" ]] || die "$(rel "$PORTS_FILE") lacks $key; remove the run folder or fix it"
  done
}

# Chooses the ports from TEMPORAL_CLUSTER_PORT (and _UI_PORT) and records them, at the first `up`.
choose_ports() {
  local base="${TEMPORAL_CLUSTER_PORT:-7333}" i key
  # Temporal's SQL schema keeps the services' membership ports in a smallint column.
  is_port "$base" && ((base + 8 <= 32767)) || die "TEMPORAL_CLUSTER_PORT must be a port number up to 32759 (Temporal's PostgreSQL schema stores the services' ports as smallint)"
  for i in {0..9}; do
    key="${PORT_KEYS[$i]}"
    printf -v "$key" '%s' "$((base + i))"
  done
  UI_PORT="${TEMPORAL_CLUSTER_UI_PORT:-$((base + 1000))}"
  is_port "$UI_PORT" || die "TEMPORAL_CLUSTER_UI_PORT must be a port number"
  mkdir -p "$RUN_DIR"
  for key in "${PORT_KEYS[@]}"; do printf '%s=%s\n' "$key" "${!key}"; done >"$PORTS_FILE"
}

# Refuses a TEMPORAL_CLUSTER_PORT that differs from the one this run folder was set up with.
check_requested_port() {
  if [[ -n "${TEMPORAL_CLUSTER_PORT:-}" && "$TEMPORAL_CLUSTER_PORT" != "$FRONTEND_PORT" ]]; then
    die "the cluster in $(rel "$RUN_DIR") uses port $FRONTEND_PORT, not TEMPORAL_CLUSTER_PORT=$TEMPORAL_CLUSTER_PORT; use another TEMPORAL_CLUSTER_DIR, or run down and delete that folder"
  fi
}

frontend_address() { echo "$HOST:$FRONTEND_PORT"; }

# The ports of part $1: the first is where it answers.
ports_of() {
  case "$1" in
    postgres) echo "$POSTGRES_PORT" ;;
    frontend) echo "$FRONTEND_PORT $FRONTEND_MEMBERSHIP_PORT $FRONTEND_HTTP_PORT" ;;
    history) echo "$HISTORY_PORT $HISTORY_MEMBERSHIP_PORT" ;;
    matching) echo "$MATCHING_PORT $MATCHING_MEMBERSHIP_PORT" ;;
    worker) echo "$WORKER_PORT $WORKER_MEMBERSHIP_PORT" ;;
    ui) echo "$UI_PORT" ;;
  esac
}

# Dies if a port of part $1 is taken (by something that is not this cluster's part).
check_ports_free() {
  local port
  for port in $(ports_of "$1"); do
    port_in_use "$port" && die "port $port ($1) on $HOST is in use by another process; stop it, or use another TEMPORAL_CLUSTER_PORT with a new TEMPORAL_CLUSTER_DIR"
  done
  return 0
}

# ---------------------------------------------------------------- build

# Dies unless go runs and is new enough to build the server (itself, or by fetching GO_NEEDED).
require_go() {
  local version
  command -v go >/dev/null 2>&1 || die "Go is not installed; the cluster builds Temporal's server with it.
  Install Go $GO_NEEDED (https://go.dev/doc/install), e.g.:
    curl -sSfL https://go.dev/dl/go$GO_NEEDED.linux-amd64.tar.gz | sudo tar -C /usr/local -xz && export PATH=/usr/local/go/bin:\$PATH
  Any Go from 1.21 on fetches Go $GO_NEEDED from the module proxy by itself (GOTOOLCHAIN=auto);
  Debian's golang-go (1.19) is too old."
  version="$(go env GOVERSION 2>/dev/null || true)"
  version="${version#go}"
  local major="${version%%.*}" minor="${version#*.}"
  minor="${minor%%[.a-z]*}"
  if ! [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || ((major == 1 && minor < 21)); then
    die "go $version is too old to build Temporal's server (it needs Go $GO_NEEDED; any Go from 1.21 on fetches it itself): install a newer Go (https://go.dev/doc/install)"
  fi
}

# go install $1 (package@version) into a scratch GOBIN and moves the binary named $2 to $3.
go_install() {
  local package="$1" built="$2" target="$3" bin_dir
  bin_dir="$(mktemp -d "$CACHE_DIR/.build.XXXXXX")"
  if ! GOBIN="$bin_dir" GOFLAGS="${GOFLAGS:--buildvcs=false}" go install "$package"; then
    rm -rf "$bin_dir"
    die "go install $package failed (see above)"
  fi
  mv "$bin_dir/$built" "$target"
  rm -rf "$bin_dir"
}

# Builds what is not cached yet: the server, its SQL tool, their schema files and the UI server.
cmd_build() {
  local started=$SECONDS module_dir
  if [[ -x "$SERVER_BIN" && -x "$SQL_TOOL" && -x "$TDBG" && -d "$SCHEMA_DIR" && -x "$UI_BIN" ]]; then
    printf '%s\n' "$SERVER_BIN"
    return 0
  fi
  require_go
  mkdir -p "$CACHE_DIR"
  if [[ ! -x "$SERVER_BIN" ]]; then
    log "building Temporal server $SERVER_VERSION with $(go env GOVERSION) (from the Go module proxy; 10-20 minutes on 2 cores the first time)..."
    go_install "$SERVER_MODULE/cmd/server@v$SERVER_VERSION" server "$SERVER_BIN"
  fi
  if [[ ! -x "$SQL_TOOL" ]]; then
    log "building Temporal's SQL schema tool $SERVER_VERSION..."
    go_install "$SERVER_MODULE/cmd/tools/sql@v$SERVER_VERSION" sql "$SQL_TOOL"
  fi
  if [[ ! -x "$TDBG" ]]; then
    log "building tdbg $SERVER_VERSION..."
    go_install "$SERVER_MODULE/cmd/tools/tdbg@v$SERVER_VERSION" tdbg "$TDBG"
  fi
  if [[ ! -d "$SCHEMA_DIR" ]]; then
    # The schema files ship in the server's module: the module cache holds them after the build.
    module_dir="$(go mod download -json "$SERVER_MODULE@v$SERVER_VERSION" | sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')"
    [[ -d "$module_dir/schema/postgresql/v12" ]] || die "no schema/postgresql/v12 in the server module ($module_dir)"
    rm -rf "$SCHEMA_DIR.tmp"
    mkdir -p "$SCHEMA_DIR.tmp"
    cp -R "$module_dir/schema/postgresql/v12/." "$SCHEMA_DIR.tmp/"
    chmod -R u+w "$SCHEMA_DIR.tmp"
    mv "$SCHEMA_DIR.tmp" "$SCHEMA_DIR"
  fi
  if [[ ! -x "$UI_BIN" ]]; then
    log "building Temporal's Web UI server $UI_VERSION..."
    go_install "$UI_MODULE/cmd/server@v$UI_VERSION" server "$UI_BIN"
  fi
  log "built in $((SECONDS - started)) s, cached in $(rel "$CACHE_DIR")"
  printf '%s\n' "$SERVER_BIN"
}

# ---------------------------------------------------------------- PostgreSQL

# Sets PG_BIN to a folder with initdb and pg_ctl; installs Debian's postgresql when allowed.
find_postgres() {
  local found
  if [[ -n "${PG_BIN:-}" ]]; then
    [[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" ]] || die "PG_BIN=$PG_BIN has no initdb and pg_ctl"
    return 0
  fi
  found="$(find_postgres_bin)" || {
    install_postgres
    found="$(find_postgres_bin)" || die "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb is there"
  }
  PG_BIN="$found"
}

find_postgres_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && printf '%s\n' "$dir"
}

install_postgres() {
  local how="apt-get install -y postgresql"
  if ((EUID != 0)); then
    die "PostgreSQL's server is not installed; the cluster stores Temporal's data in it. Install it:
    sudo $how
  (or set PG_BIN to a folder with PostgreSQL's initdb and pg_ctl)"
  fi
  if [[ "${TEMPORAL_CLUSTER_INSTALL:-1}" == 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    die "PostgreSQL's server is not installed; the cluster stores Temporal's data in it. Install it:
    $how
  (or set PG_BIN to a folder with PostgreSQL's initdb and pg_ctl)"
  fi
  log "PostgreSQL is not installed: $how (set TEMPORAL_CLUSTER_INSTALL=0 to refuse)..."
  # Debian's package also sets up a system cluster on port 5432; this cluster never uses it.
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; then
    log "apt-get install failed; updating the package lists and trying again..."
    apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 \
      || die "could not install PostgreSQL: $how failed (see above)"
  fi
}

# Runs "$@" as the owner of the PostgreSQL cluster: the postgres user when we are root (PostgreSQL
# refuses to run as root), else ourselves.
as_pg() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_running() { [[ -f "$PG_DATA/PG_VERSION" ]] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

pg_pid() {
  local pid
  [[ -f "$PG_DATA/postmaster.pid" ]] || return 1
  IFS= read -r pid <"$PG_DATA/postmaster.pid" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" && printf '%s\n' "$pid"
}

# Creates the PostgreSQL cluster (user temporal, password temporal, as compose's) on first use.
init_postgres() {
  local pwfile
  [[ -f "$PG_DATA/PG_VERSION" ]] && return 0
  if ((EUID == 0)); then
    getent passwd postgres >/dev/null || die "no postgres user to run PostgreSQL as (it refuses to run as root); install Debian's postgresql package, or run as another user"
  fi
  rm -rf "$PG_DIR"
  mkdir -p "$PG_DIR"
  ((EUID != 0)) || chown postgres: "$PG_DIR"
  as_pg test -w "$PG_DIR" || die "the postgres user cannot write $PG_DIR: make the folders above it traversable (chmod o+x) or use another TEMPORAL_CLUSTER_DIR"
  pwfile="$PG_DIR/pwfile"
  printf 'temporal\n' >"$pwfile"
  ((EUID != 0)) || chown postgres: "$pwfile"
  log "creating a PostgreSQL cluster in $(rel "$PG_DATA")..."
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U temporal --pwfile="$pwfile" --auth=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
  rm -f "$pwfile"
  # TCP on loopback only, no Unix socket (nothing shares the system's), room for four services' pools.
  cat >>"$PG_DATA/postgresql.conf" <<EOF

# durable-agents local cluster (deploy/local-cluster/cluster.sh); the port is given at start.
listen_addresses = '$HOST'
unix_socket_directories = ''
max_connections = 200
EOF
}

start_postgres() {
  if pg_running; then return 0; fi
  check_ports_free postgres
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -o "-p $POSTGRES_PORT" -w -t "$START_TIMEOUT_S" start >/dev/null \
    || { tail -n 20 "$PG_LOG" >&2; die "PostgreSQL did not start (log: $(rel "$PG_LOG"))"; }
  log "PostgreSQL running on $HOST:$POSTGRES_PORT (pid $(pg_pid))"
}

stop_postgres() {
  [[ -n "${PG_BIN:-}" ]] || PG_BIN="$(find_postgres_bin)" || return 0
  pg_running || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t "$STOP_TIMEOUT_S" stop >/dev/null \
    || as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null
  log "PostgreSQL stopped"
}

# Temporal's SQL tool against database $1.
sql_tool() {
  local db="$1"
  shift
  SQL_PASSWORD=temporal "$SQL_TOOL" --plugin postgres12 --ep "$HOST" -p "$POSTGRES_PORT" -u temporal --db "$db" "$@"
}

# Creates the two databases and their schemas, then brings them to this server version's: all with
# Temporal's own SQL tool, as compose's temporal-schema job does.
setup_schemas() {
  local db schema out
  for db in temporal temporal_visibility; do
    schema=temporal
    [[ "$db" == temporal ]] || schema=visibility
    if [[ ! -f "$RUN_DIR/schema-created.$db" ]]; then
      out="$(sql_tool "$db" create-database 2>&1)" || [[ "$out" == *"already exists"* ]] \
        || { printf '%s\n' "$out" >&2; die "could not create database $db"; }
      sql_tool "$db" setup-schema -v 0.0 >"$LOG_DIR/schema-$db.log" 2>&1 \
        || { tail -n 20 "$LOG_DIR/schema-$db.log" >&2; die "setup-schema of $db failed"; }
      touch "$RUN_DIR/schema-created.$db"
    fi
    if [[ "$(cat "$RUN_DIR/schema-version.$db" 2>/dev/null)" != "$SERVER_VERSION" ]]; then
      sql_tool "$db" update-schema -d "$SCHEMA_DIR/$schema/versioned" >>"$LOG_DIR/schema-$db.log" 2>&1 \
        || { tail -n 20 "$LOG_DIR/schema-$db.log" >&2; die "update-schema of $db failed"; }
      printf '%s\n' "$SERVER_VERSION" >"$RUN_DIR/schema-version.$db"
      log "schema of $db is at server $SERVER_VERSION's"
    fi
  done
}

# ---------------------------------------------------------------- services

# Writes $1 (a template of deploy/local-cluster) to $2 with each ${NAME} replaced by its value.
render() {
  local text name
  text="$(<"$1")"
  for name in "${PORT_KEYS[@]}" LOG_LEVEL HISTORY_SHARDS DYNAMIC_CONFIG; do
    text="${text//"\${$name}"/${!name}}"
  done
  printf '%s\n' "$text" >"$2"
  ! grep -v '^[[:space:]]*#' "$2" | grep -q '\${' || die "$1 has a placeholder cluster.sh does not fill"
}

write_configs() {
  LOG_LEVEL="${TEMPORAL_CLUSTER_LOG_LEVEL:-warn}"
  HISTORY_SHARDS="$(cat "$RUN_DIR/shards" 2>/dev/null || true)"
  if [[ -z "$HISTORY_SHARDS" ]]; then
    HISTORY_SHARDS="${TEMPORAL_CLUSTER_SHARDS:-4}"
    printf '%s\n' "$HISTORY_SHARDS" >"$RUN_DIR/shards"
  fi
  [[ "$HISTORY_SHARDS" =~ ^[1-9][0-9]{0,4}$ ]] || die "the history shard count must be a number, not $HISTORY_SHARDS"
  [[ -f "$DYNAMIC_CONFIG" ]] || die "$DYNAMIC_CONFIG is missing"
  render "$HERE/temporal.yaml" "$CONFIG_FILE"
  mkdir -p "$RUN_DIR/ui"
  render "$HERE/ui.yaml" "$RUN_DIR/ui/base.yaml"
}

# Sets PART_COMMAND to the command line of part $1 (also how its process is recognised: this run
# folder's config is in it).
command_of() {
  case "$1" in
    ui) PART_COMMAND=("$UI_BIN" --root "$RUN_DIR" --config ui --env local start) ;;
    *) PART_COMMAND=("$SERVER_BIN" --config-file "$CONFIG_FILE" --allow-no-auth start "--service=$1") ;;
  esac
}

# Prints the pid of running part $1 (its pid file's, if that process runs its command); 1 if none.
part_pid() {
  local part="$1" file="$RUN_DIR/$1.pid" pid=""
  if [[ "$part" == postgres ]]; then
    pg_pid
    return
  fi
  [[ -f "$file" ]] && IFS= read -r pid <"$file"
  if [[ "$pid" =~ ^[1-9][0-9]{0,9}$ ]] && alive "$pid" \
    && command_of "$part" && [[ "$(ps -o args= -p "$pid" 2>/dev/null)" == "${PART_COMMAND[*]}" ]]; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$file"
  return 1
}

# Starts part $1 in its own session and process group, appending to its log; waits until it answers.
start_part() {
  local part="$1" pid deadline
  part_pid "$part" >/dev/null && return 0
  check_ports_free "$part"
  mkdir -p "$LOG_DIR"
  command_of "$part"
  nohup setsid "${PART_COMMAND[@]}" >>"$LOG_DIR/$part.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$RUN_DIR/$part.pid"
  deadline=$((SECONDS + START_TIMEOUT_S))
  until port_in_use "$(ports_of "$part" | cut -d' ' -f1)"; do
    if ! alive "$pid"; then
      tail -n 5 "$LOG_DIR/$part.log" | cut -c1-600 >&2
      die "$part exited during start-up (log: $(rel "$LOG_DIR/$part.log"))"
    fi
    ((SECONDS < deadline)) || die "$part did not listen on its port within ${START_TIMEOUT_S}s (log: $(rel "$LOG_DIR/$part.log"))"
    sleep 0.2
  done
  log "$part running (pid $pid)"
}

# Stops part $1 and its process group: SIGTERM, then SIGKILL after STOP_TIMEOUT_S.
stop_part() {
  local part="$1" pid deadline
  pid="$(part_pid "$part")" || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT_S))
  while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  if alive "$pid"; then log "$part (pid $pid) did not stop in ${STOP_TIMEOUT_S}s; SIGKILL"; fi
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$RUN_DIR/$part.pid"
  log "$part stopped (pid $pid)"
}

# The Temporal CLI (from ./temporal-dev.sh install) against this cluster's frontend.
temporal_cli() {
  [[ -n "${TEMPORAL_BIN:-}" ]] || TEMPORAL_BIN="$("$ROOT/temporal-dev.sh" install | tail -n 1)"
  "$TEMPORAL_BIN" "$@" --address "$(frontend_address)" --command-timeout 5s
}

# Waits until $* succeeds (quietly), up to START_TIMEOUT_S; dies naming $1 (what it waits for).
wait_for() {
  local what="$1" deadline=$((SECONDS + START_TIMEOUT_S))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "$what: not within ${START_TIMEOUT_S}s (logs: $(rel "$LOG_DIR"))"
    sleep 0.5
  done
}

# The cluster's membership as the frontend sees it (one ring per service: its role and members).
membership() { "$TDBG" --address "$(frontend_address)" --context-timeout 5 membership list-gossip 2>/dev/null; }

# Prints "role count" for each ring of the cluster's membership.
ring_sizes() {
  membership | sed -nE 's/.*"(role|member_count)": "?([a-z0-9]+)"?,?$/\2/p' | paste -d' ' - -
}

# True when each of the four services has a member in the cluster's membership.
all_services_joined() {
  local rings service
  rings="$(ring_sizes)" || return 1
  for service in "${SERVICES[@]}"; do
    grep -qE "^$service [1-9]" <<<"$rings" || return 1
  done
}

# The default namespace and the project's search attributes (src/contract.ts), as compose's
# temporal-setup job makes them; idempotent.
setup_namespace() {
  local existing pair name
  if ! temporal_cli operator namespace describe -n default >/dev/null 2>&1; then
    temporal_cli operator namespace create -n default --retention 7d >/dev/null
    log "namespace default created"
  fi
  # A new namespace reaches the services' caches within their refresh interval (about 10 s).
  wait_for "the namespace default to be usable" temporal_cli workflow count -n default
  existing="$(temporal_cli operator search-attribute list -n default)"
  for pair in $("$ROOT/temporal-dev.sh" search-attributes); do
    name="${pair%%=*}"
    if ! grep -qw -- "$name" <<<"$existing"; then
      temporal_cli operator search-attribute create -n default --name "$name" --type "${pair#*=}" >/dev/null
      log "search attribute $pair registered"
    fi
  done
}

# ---------------------------------------------------------------- commands

cmd_up() {
  local started=$SECONDS service
  if load_ports; then check_requested_port; else choose_ports; fi
  cmd_build >/dev/null
  find_postgres
  mkdir -p "$LOG_DIR"
  init_postgres
  start_postgres
  setup_schemas
  write_configs
  # History first: matching and the frontend find it through the membership ring.
  for service in "${SERVICES[@]}"; do start_part "$service"; done
  wait_for "the frontend to be healthy" temporal_cli operator cluster health
  wait_for "the four services to join the cluster" all_services_joined
  start_part ui
  setup_namespace
  log "up in $((SECONDS - started)) s; Web UI http://localhost:$UI_PORT"
  echo "export TEMPORAL_ADDRESS=$(frontend_address)"
  frontend_address
}

cmd_down() {
  local part
  load_ports || { echo "No cluster in $(rel "$RUN_DIR")."; return 0; }
  for part in ui frontend worker matching history; do stop_part "$part"; done
  stop_postgres
  echo "Cluster in $(rel "$RUN_DIR") stopped."
}

cmd_status() {
  local part pid running=0 where
  load_ports || { echo "No cluster in $(rel "$RUN_DIR") (./temporal-dev.sh cluster up)."; return 3; }
  PG_BIN="${PG_BIN:-$(find_postgres_bin || true)}"
  echo "Temporal $SERVER_VERSION cluster in $(rel "$RUN_DIR"):"
  for part in "${PARTS[@]}"; do
    case "$part" in
      ui) where="http://localhost:$UI_PORT" ;;
      *) where="$HOST:$(ports_of "$part" | cut -d' ' -f1)" ;;
    esac
    if pid="$(part_pid "$part")"; then
      running=$((running + 1))
      printf '  %-9s running  pid %-8s %s\n' "$part" "$pid" "$where"
    else
      printf '  %-9s stopped\n' "$part"
    fi
  done
  if part_pid frontend >/dev/null && [[ -x "$TDBG" ]]; then
    echo "  membership: $(ring_sizes | sed 's/ / ×/' | paste -sd, - | sed 's/,/, /g')"
  fi
  echo "export TEMPORAL_ADDRESS=$(frontend_address)"
  ((running == ${#PARTS[@]})) || return 3
}

check_part() {
  [[ " ${PARTS[*]} " == *" ${1:-} "* ]] || { usage >&2; die "unknown part '${1:-}': one of ${PARTS[*]}"; }
}

cmd_restart() {
  local part="${1:-}"
  check_part "$part"
  load_ports || die "no cluster in $(rel "$RUN_DIR"); run ./temporal-dev.sh cluster up"
  if [[ "$part" == postgres ]]; then
    find_postgres
    stop_postgres
    start_postgres
  else
    LOG_LEVEL="${TEMPORAL_CLUSTER_LOG_LEVEL:-warn}"
    stop_part "$part"
    start_part "$part"
    [[ "$part" != frontend ]] || wait_for "the frontend to be healthy" temporal_cli operator cluster health
  fi
}

cmd_pid() {
  check_part "${1:-}"
  load_ports || return 3
  PG_BIN="${PG_BIN:-$(find_postgres_bin || true)}"
  part_pid "$1" || return 3
}

cmd_logs() {
  local part="${1:-}" file
  check_part "$part"
  file="$LOG_DIR/$part.log"
  [[ "$part" != postgres ]] || file="$PG_LOG"
  [[ -f "$file" ]] || die "no log yet ($(rel "$file"))"
  case "${2:-}" in
    -f | --follow) tail -n "${LINES:-100}" -f "$file" ;;
    "") tail -n "${LINES:-100}" "$file" ;;
    *) usage >&2; exit 2 ;;
  esac
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    restart) cmd_restart "$@" ;;
    pid) cmd_pid "$@" ;;
    logs) cmd_logs "$@" ;;
    build) cmd_build ;;
    help | -h | --help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
