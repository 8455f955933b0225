#!/usr/bin/env bash
# Make sure the project's backing services (PostgreSQL, Redis, Mosquitto) are
# reachable on loopback. Debian/Ubuntu with apt; works without systemd.
#
#   scripts/services.sh [up|status|down]      (default: up)
#
# Connection settings come from DATABASE_URL, REDIS_URL and MQTT_URL.
# Everything this script starts is recorded under <repo>/.services/ (gitignored)
# so that `down` stops exactly that and nothing else.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/services.sh [up|status|down]

  up      (default) make PostgreSQL, Redis and Mosquitto answer on loopback:
          a service whose port already answers is left alone; otherwise its
          Debian package is installed if missing (apt-get) and it is started
          bound to loopback only. Then the database named in DATABASE_URL is
          created if it does not exist.
  status  one line per service; exit 0 if all are reachable, 1 otherwise.
  down    stop the services this script started (recorded in .services/);
          services that were already running are left alone.

Environment (defaults in brackets):
  DATABASE_URL   [postgresql://postgres@127.0.0.1:5432/loa]
  REDIS_URL      [redis://127.0.0.1:6379]
  MQTT_URL       [mqtt://127.0.0.1:1883]
  SERVICES_WAIT_SECONDS  how long to wait for a started service [30]

A URL whose host is not loopback is only checked for reachability; nothing is
installed or started for it.
EOF
}

SCRIPT_PATH=${BASH_SOURCE[0]}
SCRIPT_PATH=$(readlink -f -- "$SCRIPT_PATH" 2>/dev/null || printf '%s' "$SCRIPT_PATH")
SCRIPT_DIR=$(cd -- "$(dirname -- "$SCRIPT_PATH")" && pwd -P)
ROOT_DIR=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
STATE_DIR="$ROOT_DIR/.services"
WAIT_SECONDS=${SERVICES_WAIT_SECONDS:-30}

# Daemons and admin tools live in sbin, which a non-login PATH may lack.
for _d in /usr/local/sbin /usr/sbin /sbin; do
  case ":$PATH:" in *":$_d:"*) ;; *) PATH="$PATH:$_d" ;; esac
done
unset _d
export PATH

# have CMD: CMD is an executable file on PATH. (`command -v` also reports a
# file that exists but is not executable, when nothing executable matches.)
have() {
  local p
  p=$(type -P -- "$1" 2>/dev/null) && [[ -n $p && -x $p ]]
}

say() { printf '%s: %s\n' "$1" "$2"; }
warn() { printf '%s: %s\n' "$1" "$2" >&2; }
die() {
  printf '%s: error: %s\n' "$1" "$2" >&2
  exit 1
}

# Print the last lines of a log file (as root when needed), indented, to stderr.
show_log_tail() {
  local file=$1
  [[ -n $file ]] || return 0
  printf '  --- last lines of %s ---\n' "$file" >&2
  if [[ -r $file ]]; then
    tail -n 20 -- "$file" | sed 's/^/  /' >&2 || true
  else
    as_root tail -n 20 -- "$file" 2>/dev/null | sed 's/^/  /' >&2 || printf '  (log not readable)\n' >&2
  fi
}

as_root() {
  if ((EUID == 0)); then
    "$@"
  elif have sudo; then
    sudo -- "$@"
  else
    die services "need root (or sudo) to run: $*"
  fi
}

# ---------------------------------------------------------------------------
# URLs

# pct_decode STRING -> percent-decoded STRING on stdout
pct_decode() {
  local s=${1//\\/\\\\}
  printf '%b' "${s//%/\\x}"
}

# parse_url URL DEFAULT_PORT: sets URL_HOST URL_PORT URL_USER URL_PASS URL_PATH.
# Accepts scheme://[user[:password]@]host[:port][/path][?query][#fragment],
# with host an IPv6 literal in brackets or empty (= 127.0.0.1).
parse_url() {
  local url=$1 default_port=$2 rest authority userinfo hostport
  rest=$url
  [[ $rest == *://* ]] && rest=${rest#*://}
  rest=${rest%%#*}
  rest=${rest%%\?*}
  if [[ $rest == */* ]]; then
    authority=${rest%%/*}
    URL_PATH=${rest#*/}
  else
    authority=$rest
    URL_PATH=
  fi
  URL_USER='' URL_PASS=''
  if [[ $authority == *@* ]]; then
    userinfo=${authority%@*}
    hostport=${authority##*@}
    if [[ $userinfo == *:* ]]; then
      URL_USER=$(pct_decode "${userinfo%%:*}")
      URL_PASS=$(pct_decode "${userinfo#*:}")
    else
      URL_USER=$(pct_decode "$userinfo")
    fi
  else
    hostport=$authority
  fi
  if [[ $hostport == \[* ]]; then
    URL_HOST=${hostport#\[}
    URL_HOST=${URL_HOST%%\]*}
    hostport=${hostport#*\]}
    URL_PORT=${hostport#:}
  elif [[ $hostport == *:* ]]; then
    URL_HOST=${hostport%:*}
    URL_PORT=${hostport##*:}
  else
    URL_HOST=$hostport
    URL_PORT=
  fi
  [[ -n $URL_HOST ]] || URL_HOST=127.0.0.1
  [[ -n $URL_PORT ]] || URL_PORT=$default_port
  URL_PATH=$(pct_decode "$URL_PATH")
  if ! [[ $URL_PORT =~ ^[0-9]+$ ]] || ((10#$URL_PORT < 1 || 10#$URL_PORT > 65535)); then
    return 1
  fi
  URL_PORT=$((10#$URL_PORT))
}

is_loopback() {
  case $1 in
    localhost | localhost. | 127.* | ::1 | 0:0:0:0:0:0:0:1) return 0 ;;
    *) return 1 ;;
  esac
}

# Display form of host:port (IPv6 literals in brackets).
hp() {
  if [[ $1 == *:* ]]; then printf '[%s]:%s' "$1" "$2"; else printf '%s:%s' "$1" "$2"; fi
}

load_config() {
  local db_url=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/loa}
  local redis_url=${REDIS_URL:-redis://127.0.0.1:6379}
  local mqtt_url=${MQTT_URL:-mqtt://127.0.0.1:1883}
  local mqtt_default=1883

  parse_url "$db_url" 5432 || die postgresql "cannot parse a port out of DATABASE_URL=$db_url"
  PG_HOST=$URL_HOST PG_PORT=$URL_PORT PG_USER=${URL_USER:-postgres} PG_PASS=$URL_PASS
  PG_DB=${URL_PATH%%/*}

  parse_url "$redis_url" 6379 || die redis "cannot parse a port out of REDIS_URL=$redis_url"
  REDIS_HOST=$URL_HOST REDIS_PORT=$URL_PORT

  case $mqtt_url in mqtts://* | ssl://* | wss://*) mqtt_default=8883 ;; esac
  parse_url "$mqtt_url" "$mqtt_default" || die mosquitto "cannot parse a port out of MQTT_URL=$mqtt_url"
  MQTT_HOST=$URL_HOST MQTT_PORT=$URL_PORT
}

# ---------------------------------------------------------------------------
# Ports, processes, state

# port_open HOST PORT: does something accept TCP connections there?
# Uses bash's /dev/tcp so that no client tool is needed.
port_open() {
  # shellcheck disable=SC2016 # $1/$2 expand in the child shell
  if have timeout; then
    timeout 2 "$BASH" -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
  else
    "$BASH" -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
  fi
}

# wait_port HOST PORT: poll until the port answers, at most WAIT_SECONDS.
wait_port() {
  local deadline=$((SECONDS + WAIT_SECONDS))
  until port_open "$1" "$2"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.25
  done
}

# proc_alive PID: process exists and is not a zombie.
proc_alive() {
  local stat
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

proc_cmdline() {
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
}

state_file() { printf '%s/%s-%s.state' "$STATE_DIR" "$1" "$2"; }

# state_get FILE KEY
state_get() {
  local key val
  while IFS='=' read -r key val; do
    if [[ $key == "$2" ]]; then
      printf '%s' "$val"
      return 0
    fi
  done <"$1"
  return 1
}

ensure_state_dir() {
  mkdir -p "$STATE_DIR"
}

LOCK_FD=
# unlocked CMD...: run CMD without the lock's fd, so that daemons it starts do
# not inherit it and keep the lock held after this script exits.
unlocked() {
  if [[ -n $LOCK_FD ]]; then
    "$@" {LOCK_FD}>&-
  else
    "$@"
  fi
}

take_lock() {
  ensure_state_dir
  have flock || return 0
  exec {LOCK_FD}>"$STATE_DIR/.lock"
  flock -n "$LOCK_FD" && return 0
  say services "waiting for another scripts/services.sh (lock $STATE_DIR/.lock)"
  flock -w 300 "$LOCK_FD" || die services "another scripts/services.sh still holds $STATE_DIR/.lock after 300s"
}

# ---------------------------------------------------------------------------
# apt

APT_UPDATED=0
OUR_POLICY_RC=0
POLICY_RC=/usr/sbin/policy-rc.d

cleanup() {
  if ((OUR_POLICY_RC)); then
    as_root rm -f "$POLICY_RC" || true
  fi
}
trap cleanup EXIT

# Keep package maintainer scripts from starting the freshly installed service
# through its init script: this script starts it itself, loopback-only.
block_service_autostart() {
  ((OUR_POLICY_RC)) && return 0
  [[ -e $POLICY_RC ]] && return 0
  # shellcheck disable=SC2016 # $1 expands in the child shell
  as_root sh -c 'printf "#!/bin/sh\n# temporary, created by scripts/services.sh during apt-get install\nexit 101\n" >"$1" && chmod 755 "$1"' _ "$POLICY_RC"
  OUR_POLICY_RC=1
}

# apt_install SERVICE PACKAGE...
apt_install() {
  local svc=$1 log
  shift
  have apt-get || die "$svc" "not installed and apt-get is not available; install $* by hand"
  ensure_state_dir
  log="$STATE_DIR/apt.log"
  block_service_autostart
  if ((!APT_UPDATED)); then
    say "$svc" "running apt-get update"
    if ! unlocked as_root apt-get update >"$log" 2>&1; then
      show_log_tail "$log"
      die "$svc" "apt-get update failed"
    fi
    APT_UPDATED=1
  fi
  if ! unlocked as_root env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 \
    apt-get install -y --no-install-recommends "$@" >"$log" 2>&1; then
    show_log_tail "$log"
    die "$svc" "apt-get install $* failed"
  fi
  say "$svc" "installed $*"
}

# ---------------------------------------------------------------------------
# PostgreSQL

pg_server_present() {
  have pg_ctlcluster &&
    have pg_createcluster &&
    have pg_lsclusters &&
    have psql &&
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

# Lines "version name port status logfile" of all clusters, newest version first.
pg_clusters() {
  pg_lsclusters -h 2>/dev/null | awk '{print $1, $2, $3, $4, $7}' | sort -t' ' -k1,1nr -k2,2
}

# Newest PostgreSQL major version: from /etc/postgresql, else the installed servers.
pg_newest_version() {
  local v best=
  for v in /etc/postgresql/*/ /usr/lib/postgresql/*/bin/postgres; do
    [[ -e $v ]] || continue
    v=${v#/etc/postgresql/}
    v=${v#/usr/lib/postgresql/}
    v=${v%%/*}
    [[ $v =~ ^[0-9]+$ && -x /usr/lib/postgresql/$v/bin/postgres ]] || continue
    if [[ -z $best ]] || ((v > best)); then best=$v; fi
  done
  [[ -n $best ]] && printf '%s' "$best"
}

PG_HBA_MARK='# loa scripts/services.sh: trust loopback TCP for postgres'

pg_allow_trust() {
  local ver=$1 name=$2 hba tmp
  hba="/etc/postgresql/$ver/$name/pg_hba.conf"
  if as_root grep -qF "$PG_HBA_MARK" "$hba"; then return 0; fi
  tmp=$(mktemp)
  as_root cat "$hba" | awk -v mark="$PG_HBA_MARK" '
    function block() {
      print mark
      print "host    all             postgres        127.0.0.1/32            trust"
      print "host    all             postgres        ::1/128                 trust"
      print ""
    }
    !done && $0 !~ /^[[:space:]]*(#|$)/ { block(); done = 1 }
    { print }
    END { if (!done) block() }' >"$tmp"
  # shellcheck disable=SC2016 # $1/$2 expand in the child shell
  as_root sh -c 'cat "$1" >"$2"' _ "$tmp" "$hba"
  rm -f "$tmp"
  say postgresql "set trust auth for user postgres on 127.0.0.1/::1 in $hba"
}

pg_ensure_running() {
  local before after line ver='' name='' port status='' log='' created=0 f

  if port_open "$PG_HOST" "$PG_PORT"; then
    say postgresql "already running on $(hp "$PG_HOST" "$PG_PORT")"
    return 0
  fi

  before=
  if ! pg_server_present; then
    before=$(pg_clusters || true)
    apt_install postgresql postgresql
    pg_server_present || die postgresql "server still not found after installing postgresql"
    after=$(pg_clusters || true)
    # A cluster created by the package's maintainer scripts on our behalf.
    [[ -z $before && -n $after ]] && created=1
  fi

  while read -r line; do
    [[ -n $line ]] || continue
    read -r ver name port status log <<<"$line"
    [[ $port == "$PG_PORT" ]] && break
    ver='' name=''
  done < <(pg_clusters || true)

  if [[ -z $name ]]; then
    if [[ -n $(pg_clusters || true) ]]; then
      warn postgresql "existing clusters (version name port status):"
      pg_clusters | awk '{print "  " $1, $2, $3, $4}' >&2
      die postgresql "no cluster is configured for port $PG_PORT; point DATABASE_URL at one of the ports above or create one (pg_createcluster -p $PG_PORT <version> <name>)"
    fi
    ver=$(pg_newest_version) || die postgresql "no PostgreSQL server version found under /usr/lib/postgresql"
    name=main
    unlocked as_root pg_createcluster --port "$PG_PORT" --locale C.UTF-8 --encoding UTF8 "$ver" "$name" >/dev/null
    say postgresql "created cluster $ver/$name on port $PG_PORT"
    created=1
    read -r ver name port status log < <(pg_clusters | awk -v v="$ver" -v n="$name" '$1 == v && $2 == n')
  fi

  if ((created)); then
    pg_allow_trust "$ver" "$name"
  fi

  local started=0
  if [[ $status == down* ]]; then
    if ! unlocked as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start; then
      show_log_tail "$log"
      die postgresql "pg_ctlcluster $ver $name start failed"
    fi
    ensure_state_dir
    f=$(state_file postgresql "$PG_PORT")
    printf 'version=%s\nname=%s\nport=%s\nlog=%s\n' "$ver" "$name" "$PG_PORT" "$log" >"$f"
    started=1
  elif ((created)); then
    # Started by the package's maintainer scripts: pick up the pg_hba.conf edit.
    unlocked as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload
  fi

  if ! wait_port "$PG_HOST" "$PG_PORT"; then
    show_log_tail "$log"
    die postgresql "cluster $ver/$name is running but $(hp "$PG_HOST" "$PG_PORT") did not answer within ${WAIT_SECONDS}s (check listen_addresses and port in /etc/postgresql/$ver/$name/postgresql.conf)"
  fi
  if ((started)); then
    say postgresql "started cluster $ver/$name on $(hp "$PG_HOST" "$PG_PORT")"
  else
    say postgresql "cluster $ver/$name is running on $(hp "$PG_HOST" "$PG_PORT") (not started by this script, not recorded)"
  fi
}

# psql_try ARGS...: run psql against the URL's server as the URL's user,
# retrying while the server is still starting up.
psql_try() {
  local out deadline=$((SECONDS + WAIT_SECONDS))
  while :; do
    if out=$(PGPASSWORD=$PG_PASS PGCONNECT_TIMEOUT=5 psql -X -q -v ON_ERROR_STOP=1 \
      -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres "$@" 2>&1); then
      printf '%s' "$out"
      return 0
    fi
    if [[ $out == *"starting up"* || $out == *"Connection refused"* ]] && ((SECONDS < deadline)); then
      sleep 0.5
      continue
    fi
    printf '%s\n' "$out" >&2
    return 1
  done
}

pg_ensure_database() {
  local db=$PG_DB exists
  [[ -n $db ]] || return 0
  if ! have psql; then
    apt_install postgresql postgresql-client
  fi
  exists=$(psql_try -tAc "SELECT 1 FROM pg_database WHERE datname = '${db//\'/\'\'}'") ||
    die postgresql "cannot query $(hp "$PG_HOST" "$PG_PORT") as user $PG_USER"
  if [[ $exists == 1 ]]; then
    say postgresql "database $db exists"
    return 0
  fi
  if ! PGPASSWORD=$PG_PASS createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" --maintenance-db=postgres -- "$db"; then
    die postgresql "createdb $db failed"
  fi
  say postgresql "created database $db"
}

pg_stop() {
  local f=$1 ver name port status
  ver=$(state_get "$f" version) || ver=
  name=$(state_get "$f" name) || name=
  port=$(state_get "$f" port) || port='?'
  if [[ -z $ver || -z $name ]]; then
    warn postgresql "ignoring malformed $f"
    rm -f "$f"
    return 0
  fi
  status=$(pg_clusters 2>/dev/null | awk -v v="$ver" -v n="$name" '$1 == v && $2 == n {print $4}')
  if [[ -z $status ]]; then
    say postgresql "cluster $ver/$name no longer exists"
  elif [[ $status == down* ]]; then
    say postgresql "cluster $ver/$name (port $port) was already stopped"
  else
    unlocked as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" stop
    say postgresql "stopped cluster $ver/$name (port $port)"
  fi
  rm -f "$f"
}

# ---------------------------------------------------------------------------
# Redis

redis_ensure_running() {
  local dir log pidf pid binds f

  if port_open "$REDIS_HOST" "$REDIS_PORT"; then
    say redis "already running on $(hp "$REDIS_HOST" "$REDIS_PORT")"
    return 0
  fi
  if ! have redis-server; then
    apt_install redis redis-server
    have redis-server || die redis "redis-server still not found after installing redis-server"
    if port_open "$REDIS_HOST" "$REDIS_PORT"; then
      say redis "running on $(hp "$REDIS_HOST" "$REDIS_PORT") (started by the package, not recorded)"
      return 0
    fi
  fi

  case $REDIS_HOST in
    localhost | localhost. | 127.0.0.1 | ::1 | 0:0:0:0:0:0:0:1) binds=(127.0.0.1 -::1) ;;
    *) binds=("$REDIS_HOST") ;;
  esac
  ensure_state_dir
  dir="$STATE_DIR/redis-$REDIS_PORT"
  mkdir -p "$dir"
  log="$dir/redis.log"
  pidf="$dir/redis.pid"
  rm -f "$pidf"
  : >"$log"
  if ! unlocked redis-server --daemonize yes --bind "${binds[@]}" --port "$REDIS_PORT" \
    --save "" --appendonly no --dir "$dir" --logfile "$log" --pidfile "$pidf" >/dev/null; then
    show_log_tail "$log"
    die redis "redis-server failed to start"
  fi
  if ! wait_port "$REDIS_HOST" "$REDIS_PORT"; then
    show_log_tail "$log"
    die redis "$(hp "$REDIS_HOST" "$REDIS_PORT") did not answer within ${WAIT_SECONDS}s"
  fi
  pid=$(cat "$pidf" 2>/dev/null || true)
  f=$(state_file redis "$REDIS_PORT")
  printf 'pid=%s\nport=%s\ndir=%s\nlog=%s\n' "$pid" "$REDIS_PORT" "$dir" "$log" >"$f"
  say redis "started on $(hp "$REDIS_HOST" "$REDIS_PORT") (pid $pid, no persistence)"
}

# ---------------------------------------------------------------------------
# Mosquitto

# The user mosquitto runs as once it drops privileges (it does when started as root).
mosquitto_runtime_user() {
  if ((EUID != 0)); then
    id -un
  elif id -u mosquitto >/dev/null 2>&1; then
    printf mosquitto
  else
    printf nobody
  fi
}

# A directory for log and pid file that USER can write.
mosquitto_runtime_dir() {
  local user=$1 dir=$2
  mkdir -p "$dir"
  if ((EUID != 0)); then
    printf '%s' "$dir"
    return 0
  fi
  chown "$user:" "$dir" 2>/dev/null || chown "$user" "$dir"
  if have runuser && runuser -u "$user" -- test -w "$dir" 2>/dev/null; then
    printf '%s' "$dir"
    return 0
  fi
  # The repository path is not traversable for $user: fall back to a temp dir.
  rmdir "$dir" 2>/dev/null || true
  dir=$(mktemp -d "${TMPDIR:-/tmp}/loa-mosquitto-$MQTT_PORT.XXXXXX")
  chmod 755 "$dir"
  chown "$user:" "$dir" 2>/dev/null || chown "$user" "$dir"
  printf '%s' "$dir"
}

mosquitto_ensure_running() {
  local dir conf user run log pidf pid bind f

  if port_open "$MQTT_HOST" "$MQTT_PORT"; then
    say mosquitto "already running on $(hp "$MQTT_HOST" "$MQTT_PORT")"
    return 0
  fi
  if ! have mosquitto; then
    apt_install mosquitto mosquitto mosquitto-clients
    have mosquitto || die mosquitto "mosquitto still not found after installing mosquitto"
    if port_open "$MQTT_HOST" "$MQTT_PORT"; then
      say mosquitto "running on $(hp "$MQTT_HOST" "$MQTT_PORT") (started by the package, not recorded)"
      return 0
    fi
  fi

  case $MQTT_HOST in
    localhost | localhost.) bind=127.0.0.1 ;;
    *) bind=$MQTT_HOST ;;
  esac
  ensure_state_dir
  dir="$STATE_DIR/mosquitto-$MQTT_PORT"
  mkdir -p "$dir"
  conf="$dir/mosquitto.conf"
  user=$(mosquitto_runtime_user)
  run=$(mosquitto_runtime_dir "$user" "$dir/run")
  log="$run/mosquitto.log"
  pidf="$run/mosquitto.pid"
  rm -f "$pidf"
  cat >"$conf" <<EOF
# Generated by scripts/services.sh; rewritten on every start.
listener $MQTT_PORT $bind
allow_anonymous true
persistence false
pid_file $pidf
log_dest file $log
log_type error
log_type warning
log_type notice
log_type information
EOF
  chmod 644 "$conf"
  if ! unlocked mosquitto -d -c "$conf" >"$dir/start.log" 2>&1; then
    show_log_tail "$dir/start.log"
    show_log_tail "$log"
    die mosquitto "mosquitto failed to start"
  fi
  if ! wait_port "$MQTT_HOST" "$MQTT_PORT"; then
    show_log_tail "$dir/start.log"
    show_log_tail "$log"
    die mosquitto "$(hp "$MQTT_HOST" "$MQTT_PORT") did not answer within ${WAIT_SECONDS}s"
  fi
  pid=
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    pid=$(cat "$pidf" 2>/dev/null || true)
    [[ -n $pid ]] && break
    sleep 0.2
  done
  f=$(state_file mosquitto "$MQTT_PORT")
  printf 'pid=%s\nport=%s\nconf=%s\nrundir=%s\nlog=%s\n' "$pid" "$MQTT_PORT" "$conf" "$run" "$log" >"$f"
  say mosquitto "started on $(hp "$MQTT_HOST" "$MQTT_PORT") (pid ${pid:-unknown}, config $conf, log $log)"
}

# ---------------------------------------------------------------------------
# Stopping what we started

# stop_pid SERVICE PID MUST_CONTAIN DESCRIPTION
stop_pid() {
  local svc=$1 pid=$2 match=$3 what=$4 deadline
  if ! proc_alive "$pid"; then
    say "$svc" "$what was already stopped"
    return 0
  fi
  if [[ $(proc_cmdline "$pid") != *"$match"* ]]; then
    warn "$svc" "pid $pid is no longer $what ($(proc_cmdline "$pid")); not touching it"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 15))
  while proc_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  if proc_alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    say "$svc" "killed $what (pid $pid) after 15s"
  else
    say "$svc" "stopped $what (pid $pid)"
  fi
}

redis_stop() {
  local f=$1 pid port
  pid=$(state_get "$f" pid) || pid=
  port=$(state_get "$f" port) || port='?'
  stop_pid redis "$pid" ":$port" "redis-server on port $port"
  rm -f "$f"
}

mosquitto_stop() {
  local f=$1 pid port conf run
  pid=$(state_get "$f" pid) || pid=
  port=$(state_get "$f" port) || port='?'
  conf=$(state_get "$f" conf) || conf=
  run=$(state_get "$f" rundir) || run=
  if [[ -z $pid && -n $run && -r $run/mosquitto.pid ]]; then pid=$(cat "$run/mosquitto.pid"); fi
  stop_pid mosquitto "$pid" "$conf" "mosquitto on port $port"
  rm -f "$f"
  # A temp-dir fallback (see mosquitto_runtime_dir) is not kept around.
  if [[ -n $run && $run != "$STATE_DIR"/* && $run == */loa-mosquitto-* ]]; then rm -rf -- "$run"; fi
}

# ---------------------------------------------------------------------------
# Commands

# Ensures one service: starts it when it is ours to run (loopback), else only checks it.
ensure_service() {
  local name=$1 host=$2 port=$3
  shift 3
  if is_loopback "$host"; then
    local step
    for step in "$@"; do "$step"; done
  elif port_open "$host" "$port"; then
    say "$name" "external, reachable on $(hp "$host" "$port") (nothing to do)"
  else
    warn "$name" "external, NOT reachable on $(hp "$host" "$port")"
    return 1
  fi
}

cmd_up() {
  local rc=0
  load_config
  take_lock
  ensure_service postgresql "$PG_HOST" "$PG_PORT" pg_ensure_running pg_ensure_database || rc=1
  ensure_service redis "$REDIS_HOST" "$REDIS_PORT" redis_ensure_running || rc=1
  ensure_service mosquitto "$MQTT_HOST" "$MQTT_PORT" mosquitto_ensure_running || rc=1
  return "$rc"
}

# Sets host and port of a service from the loaded configuration.
service_address() {
  case $1 in
    postgresql) host=$PG_HOST port=$PG_PORT ;;
    redis) host=$REDIS_HOST port=$REDIS_PORT ;;
    mosquitto) host=$MQTT_HOST port=$MQTT_PORT ;;
  esac
}

cmd_status() {
  local rc=0 svc host port note
  load_config
  for svc in postgresql redis mosquitto; do
    service_address "$svc"
    note=
    if ! is_loopback "$host"; then
      note=" (external)"
    elif [[ -e $(state_file "$svc" "$port") ]]; then
      note=" (started by scripts/services.sh)"
    fi
    if port_open "$host" "$port"; then
      say "$svc" "running on $(hp "$host" "$port")$note"
    else
      say "$svc" "not reachable on $(hp "$host" "$port")$note"
      rc=1
    fi
  done
  return "$rc"
}

cmd_down() {
  local svc host port f found
  load_config
  take_lock
  for svc in postgresql redis mosquitto; do
    service_address "$svc"
    found=0
    for f in "$STATE_DIR/$svc"-*.state; do
      [[ -e $f ]] || continue
      [[ $f == "$(state_file "$svc" "$port")" ]] && found=1
      case $svc in
        postgresql) pg_stop "$f" ;;
        redis) redis_stop "$f" ;;
        mosquitto) mosquitto_stop "$f" ;;
      esac
    done
    if ((!found)); then
      if ! is_loopback "$host"; then
        say "$svc" "$(hp "$host" "$port") is external; leaving it alone"
      elif port_open "$host" "$port"; then
        say "$svc" "$(hp "$host" "$port") was not started by this script; leaving it alone"
      else
        say "$svc" "nothing to stop on $(hp "$host" "$port")"
      fi
    fi
  done
}

main() {
  local cmd=${1:-up}
  case $cmd in
    -h | --help | help)
      usage
      return 0
      ;;
    up | status | down) ;;
    *)
      usage >&2
      return 2
      ;;
  esac
  if (($# > 1)); then
    usage >&2
    return 2
  fi
  "cmd_$cmd"
}

main "$@"
