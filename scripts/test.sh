#!/usr/bin/env bash
# SC2016: the single-quoted scripts for `bash -c` expand later on purpose.
# SC2317: cleanup() is called from the EXIT trap.  SC2012: version dir names.
# shellcheck disable=SC2016,SC2317,SC2012

# Aurora's one test command (the README's `bash scripts/test.sh`; CI runs it via .ci/run).
#
# Usage:
#   bash scripts/test.sh                                 # everything: go test ./...
#   bash scripts/test.sh -run TestX ./internal/api/      # extra go test args
#
# Any arguments are passed to `go test` (after -count=1 -timeout 25m -v, so
# e.g. -timeout/-count given here win). If the arguments name packages
# (./..., ./internal/api/, ., or github.com/aurora-oss/aurora/...), they are
# used INSTEAD of ./... (paths are relative to the repo root: the script cds
# there); if they are only flags, ./... is appended. Do not pass
# -json: the summary parses -v text output.
#
# Phases: packages (Debian packages the tests need) -> services (PostgreSQL,
# Redis) -> build (go build, go vet, gofmt) -> staticcheck -> test.
# Build/vet/gofmt/staticcheck failures do not stop the run: the tests still run
# so one CI run shows everything, and the script exits non-zero at the end.
#
# Environment the tests receive:
#   TEST_DATABASE_URL        postgres://USER@127.0.0.1:5432/test?sslmode=disable
#                            (or the caller's own value; unset = PostgreSQL tests skip)
#   TEST_REDIS_URL           redis://127.0.0.1:6379/0 (or the caller's; unset = skip)
#   AURORA_TEST_BINARY       absolute path of the freshly built cmd/aurora binary
#   AURORA_TEST_ALERTMANAGER /usr/bin/prometheus-alertmanager, when installed
#   AURORA_TEST_WEAVIATE     weaviate-server built into $HOME/.cache/aurora-ci/
#   CI                       passed through; with CI=true the Go tests FAIL
#                            instead of skipping when a service is unreachable
#
# Knobs: AURORA_TEST_BIN_DIR (where the aurora binary goes; default ./bin),
#        TEST_DATABASE_URL / TEST_REDIS_URL (use these instead of probing the defaults).
set -euo pipefail

# Debian packages the tests need. Keep this the only list.
# chromium: the web UI's browser tests (internal/web) drive it with chromedp
# over the DevTools protocol, so no chromium-driver is needed.
# pgbouncer and redis-sentinel: the data-tier e2e tests (replica, PgBouncer, Sentinel, Cluster)
APT_PACKAGES="prometheus-alertmanager prometheus chromium pgbouncer redis-sentinel"
ALERTMANAGER_BIN=/usr/bin/prometheus-alertmanager

# staticcheck v0.8.x (2026.1) is the first release line built for Go 1.26
# (its go.mod says go 1.26.0). Bump deliberately; the cache path is keyed on it.
STATICCHECK_VERSION=v0.8.2

PG_HOST=127.0.0.1 PG_PORT=5432 PG_DB=test
REDIS_HOST=127.0.0.1 REDIS_PORT=6379

# --- helpers ---------------------------------------------------------------

T_START=$SECONDS
PHASE_NAME="" PHASE_T0=0
WARNINGS=()   # loud warnings, repeated at the end because they scroll away
FAILURES=()   # failed checks (build, vet, gofmt, staticcheck); tests still run

phase_start() {
  PHASE_NAME=$1 PHASE_T0=$SECONDS
  printf '\n== [%s] %s\n' "$(date '+%F %T')" "$PHASE_NAME"
}
phase_end() {
  printf -- '-- %s: %ds\n' "$PHASE_NAME" $((SECONDS - PHASE_T0))
}
info() { printf '   %s\n' "$*"; }

# loud LINE...: a block that cannot be missed in a long log (stderr).
loud() {
  local bar='!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
  local line
  {
    printf '\n%s\n' "$bar"
    for line in "$@"; do printf '!!! %s !!!\n' "$line"; done
    printf '%s\n\n' "$bar"
  } >&2
  WARNINGS+=("$1")
}

# Same test as the Go tests use: exactly CI=true.
is_ci() { [[ "${CI:-}" == true ]]; }
is_root() { [[ "$(id -u)" -eq 0 ]]; }

# tcp_open HOST PORT: is something listening? (bash /dev/tcp, bounded by timeout)
tcp_open() {
  timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# Hide the password in a URL before printing it.
redact_url() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }

# --- setup -----------------------------------------------------------------

# Run from the repo root whatever the caller's cwd is.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Go lives in /usr/local/go on our machines; a non-login shell may lack it in PATH.
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  export PATH="$PATH:/usr/local/go/bin"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "FATAL: the go toolchain is not in PATH (expected /usr/local/go/bin/go)" >&2
  exit 1
fi
GO_VERSION="$(go env GOVERSION)"                 # e.g. go1.26.8
GO_MINOR="$(sed -E 's/^(go[0-9]+\.[0-9]+).*/\1/' <<<"$GO_VERSION")"   # go1.26

: "${HOME:=$(cd ~ && pwd)}"
TOOLS_CACHE="$HOME/.cache/aurora-ci"
TMP="${TMPDIR:-/tmp}"
WORK_TMP="$(mktemp -d "$TMP/aurora-test.XXXXXX")"

printf '== aurora tests: %s, %s, repo %s, CI=%s, uid %s\n' \
  "$(date '+%F %T')" "$GO_VERSION" "$ROOT" "${CI:-<unset>}" "$(id -u)"

# --- staticcheck: start building it in the background right away -----------
# Building staticcheck takes a minute or two on 2 cores; overlap it with apt
# and go build. The binary is cached per staticcheck version AND Go minor
# version (a staticcheck built with an older Go cannot load newer code).
STATICCHECK_DIR="$TOOLS_CACHE/staticcheck-$STATICCHECK_VERSION-$GO_MINOR"
STATICCHECK_LINK="$TOOLS_CACHE/bin/staticcheck"   # convenience link for humans
STATICCHECK=""          # path of a usable binary, once known
SC_PID=""               # background build, while running
SC_LOG="$WORK_TMP/staticcheck-build.log"

# staticcheck_ok BIN: is BIN staticcheck $STATICCHECK_VERSION built with $GO_MINOR?
staticcheck_ok() {
  [[ -x "$1" ]] || return 1
  local meta
  meta="$(go version -m "$1" 2>/dev/null)" || return 1
  head -n 1 <<<"$meta" | grep -qE ": ${GO_MINOR}([.[:space:]]|$)" &&
    grep -qE "^[[:space:]]+mod[[:space:]]+honnef\.co/go/tools[[:space:]]+${STATICCHECK_VERSION}[[:space:]]" <<<"$meta"
}

if staticcheck_ok "$STATICCHECK_LINK"; then
  STATICCHECK="$STATICCHECK_LINK"
elif staticcheck_ok "$STATICCHECK_DIR/staticcheck"; then
  STATICCHECK="$STATICCHECK_DIR/staticcheck"
else
  mkdir -p "$TOOLS_CACHE"
  # Install into a temp dir and rename, so an interrupted build never leaves
  # a half-written binary in the cache. setsid gives the build its own process
  # group so the EXIT trap can stop all of it (go + compilers) if we bail out.
  build_staticcheck='set -e
    tmp="$(mktemp -d "$1.tmp.XXXXXX")"
    trap '\''rm -rf "$tmp"'\'' EXIT
    GOBIN="$tmp" go install "honnef.co/go/tools/cmd/staticcheck@$2"
    mkdir -p "$1"
    mv -f "$tmp/staticcheck" "$1/staticcheck"'
  if command -v setsid >/dev/null 2>&1; then
    setsid bash -c "$build_staticcheck" _ "$STATICCHECK_DIR" "$STATICCHECK_VERSION" \
      </dev/null >"$SC_LOG" 2>&1 &
  else
    bash -c "$build_staticcheck" _ "$STATICCHECK_DIR" "$STATICCHECK_VERSION" \
      </dev/null >"$SC_LOG" 2>&1 &
  fi
  SC_PID=$!
  info "building staticcheck $STATICCHECK_VERSION in the background (pid $SC_PID, log $SC_LOG)"
fi

# --- weaviate-server: build it in the background too ------------------------
# The knowledge base's Weaviate store (internal/kb/weaviate) is tested against
# a real server, which the tests start on loopback ports with a temp data dir
# (vectors come from Aurora, so no modules). Building it takes ~11 min cold on
# 2 cores, so it starts now and is waited for just before the tests; cached
# per Weaviate version and Go minor version like staticcheck.
WEAVIATE_VERSION=v1.35.2
WEAVIATE_DIR="$TOOLS_CACHE/weaviate-$WEAVIATE_VERSION-$GO_MINOR"
WEAVIATE_PID=""
WEAVIATE_LOG="$WORK_TMP/weaviate-build.log"
weaviate_ok() {
  [[ -x "$1" ]] || return 1
  local meta
  meta="$(go version -m "$1" 2>/dev/null)" || return 1
  head -n 1 <<<"$meta" | grep -qE ": ${GO_MINOR}([.[:space:]]|$)" &&
    grep -qE "^[[:space:]]+mod[[:space:]]+github\.com/weaviate/weaviate[[:space:]]+${WEAVIATE_VERSION}[[:space:]]" <<<"$meta"
}
if ! weaviate_ok "$WEAVIATE_DIR/weaviate-server"; then
  mkdir -p "$TOOLS_CACHE"
  build_weaviate='set -e
    tmp="$(mktemp -d "$1.tmp.XXXXXX")"
    trap '\''rm -rf "$tmp"'\'' EXIT
    GOBIN="$tmp" GOFLAGS=-mod=mod go install "github.com/weaviate/weaviate/cmd/weaviate-server@$2"
    mkdir -p "$1"
    mv -f "$tmp/weaviate-server" "$1/weaviate-server"'
  if command -v setsid >/dev/null 2>&1; then
    setsid bash -c "$build_weaviate" _ "$WEAVIATE_DIR" "$WEAVIATE_VERSION" \
      </dev/null >"$WEAVIATE_LOG" 2>&1 &
  else
    bash -c "$build_weaviate" _ "$WEAVIATE_DIR" "$WEAVIATE_VERSION" \
      </dev/null >"$WEAVIATE_LOG" 2>&1 &
  fi
  WEAVIATE_PID=$!
  info "building weaviate-server $WEAVIATE_VERSION in the background (pid $WEAVIATE_PID, log $WEAVIATE_LOG)"
fi

# --- helm: built from the Go module proxy in the background too -----------
# internal/deploytest renders and lints deploy/helm/aurora with it (a
# minute or more to build on 2 cores; cached per helm version and Go minor).
HELM_VERSION=v3.22.0
HELM_DIR="$TOOLS_CACHE/helm-$HELM_VERSION-$GO_MINOR"
HELM_PID=""
HELM_LOG="$WORK_TMP/helm-build.log"
if [[ ! -x "$HELM_DIR/helm" ]]; then
  mkdir -p "$TOOLS_CACHE"
  build_helm='set -e
    tmp="$(mktemp -d "$1.tmp.XXXXXX")"
    trap '\''rm -rf "$tmp"'\'' EXIT
    GOBIN="$tmp" go install "helm.sh/helm/v3/cmd/helm@$2"
    mkdir -p "$1"
    mv -f "$tmp/helm" "$1/helm"'
  if command -v setsid >/dev/null 2>&1; then
    setsid bash -c "$build_helm" _ "$HELM_DIR" "$HELM_VERSION" </dev/null >"$HELM_LOG" 2>&1 &
  else
    bash -c "$build_helm" _ "$HELM_DIR" "$HELM_VERSION" </dev/null >"$HELM_LOG" 2>&1 &
  fi
  HELM_PID=$!
  info "building helm $HELM_VERSION in the background (pid $HELM_PID, log $HELM_LOG)"
fi

cleanup() {
  if [[ -n "$HELM_PID" ]] && kill -0 "$HELM_PID" 2>/dev/null; then
    kill -- "-$HELM_PID" 2>/dev/null || kill "$HELM_PID" 2>/dev/null || true
  fi
  if [[ -n "$SC_PID" ]] && kill -0 "$SC_PID" 2>/dev/null; then
    kill -- "-$SC_PID" 2>/dev/null || kill "$SC_PID" 2>/dev/null || true
  fi
  if [[ -n "$WEAVIATE_PID" ]] && kill -0 "$WEAVIATE_PID" 2>/dev/null; then
    kill -- "-$WEAVIATE_PID" 2>/dev/null || kill "$WEAVIATE_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK_TMP"
}
trap cleanup EXIT

# --- phase: packages -------------------------------------------------------

# PIDs whose executable is one of the daemons our packages ship (alertmanager,
# prometheus). (`pgrep -x prometheus-alertmanager` can never match: process
# names are cut to 15 chars.)
DAEMON_BINS=("$ALERTMANAGER_BIN" /usr/bin/prometheus)
alertmanager_pids() {
  local p exe bin
  for p in /proc/[0-9]*; do
    exe="$(readlink "$p/exe" 2>/dev/null)" || continue
    for bin in "${DAEMON_BINS[@]}"; do
      [[ "$exe" == "$bin" || "$exe" == "$bin (deleted)" ]] && echo "${p#/proc/}"
    done
  done
  return 0
}

phase_start "install packages"
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in $APT_PACKAGES; do
    # `dpkg -s` also succeeds for removed-but-not-purged packages; check the status.
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == "install ok installed" ]]; then
      info "$pkg: installed"
    else
      missing+=("$pkg")
    fi
  done
else
  loud "dpkg not found (not Debian?): cannot check/install: $APT_PACKAGES" \
       "tests that need them will be SKIPPED"
fi

if ((${#missing[@]})); then
  if is_root; then
    info "installing: ${missing[*]}"
    am_before=" $(alertmanager_pids | tr '\n' ' ') "
    apt_ok=true
    # apt-get update only when something is missing; wait for a held dpkg lock.
    apt_opts=(-q -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)
    if ! apt-get "${apt_opts[@]}" update </dev/null ||
       ! DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y \
           --no-install-recommends \
           -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
           "${missing[@]}" </dev/null; then
      apt_ok=false
    fi
    # A package's postinst may start its daemon (init script; there is no
    # systemd here). It would sit on port 9093 or 9090 and confuse tests,
    # so stop any that appeared during the install (by pid; ones that were
    # already running before are the user's business).
    for pid in $(alertmanager_pids); do
      if [[ "$am_before" != *" $pid "* ]]; then
        info "stopping a daemon started by the package install (pid $pid)"
        kill "$pid" 2>/dev/null || true
      fi
    done
    if ! $apt_ok; then
      if is_ci; then
        echo "FATAL: apt-get install ${missing[*]} failed" >&2
        exit 1
      fi
      loud "apt-get install ${missing[*]} failed: tests that need it will be SKIPPED"
    fi
  else
    for pkg in "${missing[@]}"; do
      loud "$pkg is not installed and you are not root: tests that need it will be SKIPPED" \
           "to run them: sudo apt-get install --no-install-recommends $pkg"
    done
  fi
fi

if [[ -n "${AURORA_TEST_ALERTMANAGER:-}" ]]; then
  info "AURORA_TEST_ALERTMANAGER preset by caller: $AURORA_TEST_ALERTMANAGER"
  export AURORA_TEST_ALERTMANAGER
elif [[ -x "$ALERTMANAGER_BIN" ]]; then
  export AURORA_TEST_ALERTMANAGER="$ALERTMANAGER_BIN"
else
  unset AURORA_TEST_ALERTMANAGER
fi
if tcp_open 127.0.0.1 9093; then
  info "note: something listens on 127.0.0.1:9093 (alertmanager's default port)"
fi
phase_end

# --- phase: services -------------------------------------------------------

# pg_user: print the first of postgres/root that can run a query in $PG_DB.
pg_user() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 3 || return 1
  else
    tcp_open "$PG_HOST" "$PG_PORT" || return 1
  fi
  if ! command -v psql >/dev/null 2>&1; then
    echo postgres   # port answers but no psql to tell users apart: best guess
    return 0
  fi
  local u
  for u in postgres root; do
    if PGCONNECT_TIMEOUT=5 psql -X -w -q -h "$PG_HOST" -p "$PG_PORT" -U "$u" -d "$PG_DB" \
         -Atc 'select 1' </dev/null >/dev/null 2>&1; then
      echo "$u"
      return 0
    fi
  done
  return 1
}

redis_ok() {
  if command -v redis-cli >/dev/null 2>&1; then
    [[ "$(timeout 5 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
  else
    # No redis-cli: speak RESP by hand.
    timeout 5 bash -c '
      exec 3<>"/dev/tcp/$1/$2" || exit 1
      printf "PING\r\n" >&3
      IFS= read -r -t 3 reply <&3 || exit 1
      [[ "$reply" == "+PONG"* ]]' _ "$REDIS_HOST" "$REDIS_PORT" 2>/dev/null
  fi
}

# Under CI only (a developer's machine is theirs to manage): start a stopped
# service once, the way this machine kind starts it, if we can.
start_postgres() {
  is_ci && is_root && [[ -d /etc/postgresql ]] &&
    command -v pg_ctlcluster >/dev/null 2>&1 || return 1
  local ver
  ver="$(ls /etc/postgresql | sort -V | tail -n 1)"
  [[ -n "$ver" ]] || return 1
  info "starting PostgreSQL $ver (pg_ctlcluster)"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start </dev/null || true
  for _ in $(seq 20); do pg_user >/dev/null && return 0; sleep 1; done
  return 1
}
start_redis() {
  is_ci && is_root && command -v redis-server >/dev/null 2>&1 || return 1
  info "starting Redis (redis-server --daemonize yes)"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
    --save "" --appendonly no --dir "$TMP" </dev/null >/dev/null || true
  for _ in $(seq 10); do redis_ok && return 0; sleep 1; done
  return 1
}

phase_start "services"
if [[ -n "${TEST_DATABASE_URL:-}" ]]; then
  info "PostgreSQL: using caller's TEST_DATABASE_URL=$(redact_url "$TEST_DATABASE_URL")"
  export TEST_DATABASE_URL
elif user="$(pg_user)" || { start_postgres && user="$(pg_user)"; }; then
  export TEST_DATABASE_URL="postgres://$user@$PG_HOST:$PG_PORT/$PG_DB?sslmode=disable"
  info "PostgreSQL: ok ($TEST_DATABASE_URL)"
elif is_ci; then
  # Export anyway: under CI=true the Go tests fail (not skip) on an
  # unreachable database, which is exactly what CI should report.
  export TEST_DATABASE_URL="postgres://postgres@$PG_HOST:$PG_PORT/$PG_DB?sslmode=disable"
  loud "ERROR: PostgreSQL is not usable at $PG_HOST:$PG_PORT: CI=true, so the PostgreSQL tests will FAIL" \
       "(wanted: database $PG_DB, user postgres or root, trust auth)"
else
  unset TEST_DATABASE_URL
  loud "PostgreSQL is not usable at $PG_HOST:$PG_PORT: the PostgreSQL tests will be SKIPPED" \
       "(wanted: database $PG_DB, user postgres or root, trust auth)" \
       "to run them: start PostgreSQL (e.g. pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start)" \
       "or export TEST_DATABASE_URL=postgres://USER@HOST:PORT/DB?sslmode=disable"
fi

if [[ -n "${TEST_REDIS_URL:-}" ]]; then
  info "Redis: using caller's TEST_REDIS_URL=$(redact_url "$TEST_REDIS_URL")"
  export TEST_REDIS_URL
elif redis_ok || start_redis; then
  export TEST_REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT/0"
  info "Redis: ok ($TEST_REDIS_URL)"
elif is_ci; then
  export TEST_REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT/0"
  loud "ERROR: Redis does not answer PING at $REDIS_HOST:$REDIS_PORT: CI=true, so the Redis tests will FAIL"
else
  unset TEST_REDIS_URL
  loud "Redis does not answer PING at $REDIS_HOST:$REDIS_PORT: the Redis tests will be SKIPPED" \
       "to run them: start Redis (e.g. redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no)" \
       "or export TEST_REDIS_URL=redis://HOST:PORT/DB"
fi
phase_end

# --- phase: build ----------------------------------------------------------

phase_start "build"
BIN_DIR="${AURORA_TEST_BIN_DIR:-$ROOT/bin}"
mkdir -p "$BIN_DIR"
BIN_DIR="$(cd "$BIN_DIR" && pwd)"    # absolute: tests run from their package dirs
export AURORA_TEST_BINARY="$BIN_DIR/aurora"
# Remove the old binary first: if the build fails, end-to-end tests must not
# silently exercise a stale one.
rm -f "$AURORA_TEST_BINARY"
info "CGO_ENABLED=0 go build -o $AURORA_TEST_BINARY ./cmd/aurora"
# CGO_ENABLED=0: the static binary the Dockerfile ships, so the end-to-end
# tests run exactly that (internal/deploytest checks it is static).
if ! CGO_ENABLED=0 go build -o "$AURORA_TEST_BINARY" ./cmd/aurora </dev/null; then
  FAILURES+=("go build ./cmd/aurora")
  echo "ERROR: go build ./cmd/aurora failed" >&2
fi

info "go vet ./..."
if ! go vet ./... </dev/null; then
  FAILURES+=("go vet")
  echo "ERROR: go vet reported problems" >&2
fi

info "gofmt -l (all .go files but vendor/)"
gofmt_out="$WORK_TMP/gofmt.out"
if ! find . \( -path ./vendor -o -path ./.git \) -prune -o -type f -name '*.go' -print0 |
     xargs -0 -r "$(go env GOROOT)/bin/gofmt" -l >"$gofmt_out" 2>&1 || [[ -s "$gofmt_out" ]]; then
  FAILURES+=("gofmt")
  echo "ERROR: these files need gofmt -w (or do not parse):" >&2
  sed 's/^/    /' "$gofmt_out" >&2
fi
phase_end

# --- phase: staticcheck ----------------------------------------------------

phase_start "staticcheck"
if [[ -n "$SC_PID" ]]; then
  info "waiting for the staticcheck build (pid $SC_PID)"
  if wait "$SC_PID" && staticcheck_ok "$STATICCHECK_DIR/staticcheck"; then
    STATICCHECK="$STATICCHECK_DIR/staticcheck"
    mkdir -p "$(dirname "$STATICCHECK_LINK")"
    ln -sfn "$STATICCHECK" "$STATICCHECK_LINK"
  else
    sed 's/^/    /' "$SC_LOG" >&2 || true
    # A tool that cannot be built is not the code's fault: warn, don't fail.
    loud "could not build staticcheck $STATICCHECK_VERSION: staticcheck was NOT run"
  fi
  SC_PID=""
fi
if [[ -n "$STATICCHECK" ]]; then
  info "$STATICCHECK ./... ($STATICCHECK_VERSION)"
  if ! "$STATICCHECK" ./... </dev/null; then
    FAILURES+=("staticcheck")
    echo "ERROR: staticcheck reported problems" >&2
  fi
fi
phase_end

# --- phase: test -----------------------------------------------------------

if [[ -n "$HELM_PID" ]]; then
  info "waiting for the helm build (pid $HELM_PID)"
  if ! wait "$HELM_PID" || [[ ! -x "$HELM_DIR/helm" ]]; then
    sed 's/^/    /' "$HELM_LOG" >&2 || true
    loud "could not build helm $HELM_VERSION: the Helm chart tests will FAIL under CI=true (skip otherwise)"
  fi
  HELM_PID=""
fi
[[ -x "$HELM_DIR/helm" ]] && export AURORA_TEST_HELM="$HELM_DIR/helm"

phase_start "test"
if [[ -n "$WEAVIATE_PID" ]]; then
  info "waiting for the weaviate-server build (pid $WEAVIATE_PID)"
  if ! wait "$WEAVIATE_PID"; then
    sed 's/^/    /' "$WEAVIATE_LOG" >&2 || true
  fi
  WEAVIATE_PID=""
fi
if [[ -n "${AURORA_TEST_WEAVIATE:-}" ]]; then
  info "AURORA_TEST_WEAVIATE preset by caller: $AURORA_TEST_WEAVIATE"
  export AURORA_TEST_WEAVIATE
elif weaviate_ok "$WEAVIATE_DIR/weaviate-server"; then
  export AURORA_TEST_WEAVIATE="$WEAVIATE_DIR/weaviate-server"
else
  # Under CI=true the Weaviate tests then fail (not skip).
  loud "could not build weaviate-server $WEAVIATE_VERSION: the Weaviate tests will $(is_ci && echo FAIL || echo 'be SKIPPED')"
fi
# Packages named in the arguments replace ./...; flags alone keep ./... .
has_pkg=false
for a in "$@"; do
  case "$a" in
    .|./*|../*|github.com/aurora-oss/aurora|github.com/aurora-oss/aurora/*) has_pkg=true ;;
  esac
done
go_args=(-count=1 -timeout 25m -v "$@")
$has_pkg || go_args+=(./...)

TEST_LOG="$(mktemp "$TMP/aurora-go-test.$(date +%Y%m%d-%H%M%S).XXXXXX")"
[[ -n "${CI+x}" ]] && export CI
info "env: TEST_DATABASE_URL=$(redact_url "${TEST_DATABASE_URL:-<unset: skip>}")"
info "env: TEST_REDIS_URL=$(redact_url "${TEST_REDIS_URL:-<unset: skip>}")"
info "env: AURORA_TEST_BINARY=$AURORA_TEST_BINARY"
info "env: AURORA_TEST_ALERTMANAGER=${AURORA_TEST_ALERTMANAGER:-<unset: skip>}"
info "env: AURORA_TEST_WEAVIATE=${AURORA_TEST_WEAVIATE:-<unset: skip>}"
info "env: CI=${CI:-<unset>}"
info "go test ${go_args[*]}"
info "full log: $TEST_LOG (console hides === RUN/PAUSE/CONT and --- PASS lines)"

# Full -v output goes to the log; the console gets it without the noise.
# grep exits 1 when it prints nothing, so the pipeline's status is ignored
# (set +e) and go test's own exit code, PIPESTATUS[0], decides.
set +e
go test "${go_args[@]}" </dev/null 2>&1 |
  tee "$TEST_LOG" |
  grep --line-buffered -vE '^[[:space:]]*(=== RUN|=== PAUSE|=== CONT|--- PASS)'
pipe_status=("${PIPESTATUS[@]}")
set -e
go_rc=${pipe_status[0]}
if [[ "${pipe_status[1]}" -ne 0 ]]; then
  echo "WARNING: could not write the full log $TEST_LOG" >&2
fi
phase_end

# --- phase: eval -----------------------------------------------------------
# The investigator's scenario bundles, scored against their expected.json:
# every scenario must pass (a root cause found wrongly is a regression).

phase_start "eval"
if [[ -x "$AURORA_TEST_BINARY" ]]; then
  eval_out="$WORK_TMP/eval.out"
  if "$AURORA_TEST_BINARY" eval testdata/scenarios </dev/null >"$eval_out" 2>&1; then
    grep -E '^overall' "$eval_out" || true
  else
    FAILURES+=("eval (testdata/scenarios below 100%)")
    echo "ERROR: aurora eval: not every scenario passes:" >&2
    grep -E '^(FAIL|overall)|^  [a-z_]+ ' "$eval_out" >&2 || cat "$eval_out" >&2
  fi
fi
phase_end

# --- summary ---------------------------------------------------------------

count() { grep -cE "^[[:space:]]*--- $1: " "$TEST_LOG" || true; }
n_pass="$(count PASS)" n_fail="$(count FAIL)" n_skip="$(count SKIP)"

# With -v, a test's log lines (and so t.Skip's reason) are printed BEFORE its
# "--- SKIP" line, under "=== RUN/CONT/NAME <test>" headers; a subtest's
# "--- SKIP" comes later still, when its parent ends. So remember each test's
# last log line and print it with the SKIP; the package name comes from the
# "ok"/"FAIL" line that ends each package's output.
list_results() {
  awk -v want="$1" '
    function flush(pkg,   i) {
      for (i = 1; i <= n; i++) print "  " (pkg == "" ? "" : pkg ": ") items[i]
      n = 0; split("", lastlog)
    }
    /^=== (RUN|CONT|NAME) / { cur = $3; next }
    $0 ~ "^[[:space:]]*--- " want ": " {
      name = $3; why = (name in lastlog) ? "  <- " lastlog[name] : ""
      items[++n] = name why; next
    }
    /^[[:space:]]*--- / { next }
    /^    [^ ]/ && cur != "" { line = $0; sub(/^[[:space:]]+/, "", line); lastlog[cur] = line; next }
    /^(ok|FAIL)[ \t]+[^ \t]+/ { flush($2); cur = ""; next }
    END { flush("") }
  ' "$TEST_LOG"
}

printf '\n== [%s] summary\n' "$(date '+%F %T')"
if ((n_skip)); then
  echo "skipped tests (with the last line they logged, normally the reason):"
  list_results SKIP
fi
if ((n_fail)); then
  echo "failed tests:"
  list_results FAIL
fi
for w in "${WARNINGS[@]}"; do echo "!!! $w" >&2; done
echo "full go test log: $TEST_LOG"

rc=0
if ((${#FAILURES[@]})); then
  failed_list="$(printf '%s, ' "${FAILURES[@]}")"
  echo "FAILED checks: ${failed_list%, }" >&2
  rc=1
fi
if [[ "$go_rc" -ne 0 ]]; then
  echo "FAILED: go test exited $go_rc" >&2
  rc=$go_rc
fi
if ((n_pass + n_fail == 0)); then
  echo "FAILED: 0 passed and 0 failed: no test ran (or all skipped) - check the arguments and the build" >&2
  rc=1
fi
if ((rc == 0)); then
  if ((${#WARNINGS[@]})); then echo "all checks that ran passed (see the warnings above)"; else echo "all checks passed"; fi
fi
printf 'total: %ds\n' $((SECONDS - T_START))
# Last line, in the form CI reads: "N passed, N failed, N skipped".
echo "$n_pass passed, $n_fail failed, $n_skip skipped"
exit "$rc"
