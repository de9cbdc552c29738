#!/usr/bin/env bash
# A throwaway single-node Elasticsearch for the test suite and the demo.
#
#   scripts/elasticsearch.sh start [--lease PID]   start (or reuse) the node; last stdout line = URL
#   scripts/elasticsearch.sh status                 print cluster health JSON (exit 3 if not running)
#   scripts/elasticsearch.sh stop                   stop the node and wait for it to exit
#   scripts/elasticsearch.sh release PID            drop PID's lease; stop the node if it was started
#                                                   under leases and no live lease is left
#
# With --secure (any position), every command acts on a second, separate node (state under
# build/elasticsearch-secure/) started as a SOC runs it: HTTPS with a CA and a node certificate
# made by the distribution's own elasticsearch-certutil, the `elastic` user's password set with
# elasticsearch-keystore (bootstrap.password), and, through the security API, a role
# `secops_writer` limited to `secops-*`, a native user `secops` with that role and an API key
# for secops with the same privileges. The client side lands in build/elasticsearch-secure/client/
# (mode 700): ca.crt, elastic.password, secops.password, secops.api_key (the encoded key) and
# env (SECOPS_ES_URL, SECOPS_ES_CA_CERTS, SECOPS_ES_API_KEY to `source`). Secrets are written
# to files, never printed or passed on a command line.
#
# The server is Elastic's "integ-test-zip" distribution from Maven Central (server + HTTP
# transport + x-pack core/security only), fetched once with Maven (cached in ~/.m2) and
# unpacked under build/elasticsearch/. It binds 127.0.0.1 on a free port, security off.
# Elasticsearch refuses to run as root, so as root it runs as the unprivileged system user
# $SECOPS_ES_USER (default secops-es), created on first use.
#
# Environment overrides: SECOPS_ES_VERSION, SECOPS_ES_USER, SECOPS_ES_HEAP (default 512m),
# SECOPS_ES_START_TIMEOUT (seconds, default 120), SECOPS_ES_EXTRA_SETTINGS ("-Ekey=value ..."),
# SECOPS_ES_JAVA_OPTS (extra JVM flags, appended after the heap flags),
# ES_JAVA_HOME (default: Temurin 25; ES ignores JAVA_HOME).
set -euo pipefail

ES_VERSION="${SECOPS_ES_VERSION:-9.2.0}"
ES_ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
MVN_DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
ES_USER="${SECOPS_ES_USER:-secops-es}"
ES_HEAP="${SECOPS_ES_HEAP:-512m}"
START_TIMEOUT="${SECOPS_ES_START_TIMEOUT:-120}"
JAVA_HOME_FOR_ES="${ES_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
CLUSTER_NAME="secops-test"
SECURE=0

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
STATE="$REPO/build/elasticsearch" # url, lock, leases; also the ES base when traversable
URL_FILE="$STATE/url"
BASE_FILE="$STATE/base"
LEASES="$STATE/leases"
LEASED_MARK="$STATE/started-under-lease"

IS_ROOT=0
if [[ "$(id -u)" -eq 0 ]]; then IS_ROOT=1; fi

log() { printf 'elasticsearch.sh: %s\n' "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

as_es_user() {
	if [[ "$IS_ROOT" -eq 1 ]]; then
		runuser -u "$ES_USER" -- "$@"
	else
		"$@"
	fi
}

ensure_user() {
	[[ "$IS_ROOT" -eq 1 ]] || return 0
	if ! getent passwd "$ES_USER" >/dev/null; then
		log "creating system user $ES_USER"
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$ES_USER"
	fi
}

# Where the ES home/data/logs live: build/elasticsearch if the ES user can reach it,
# otherwise a per-checkout directory under /var/tmp (e.g. a repo under /root).
choose_base() {
	if [[ "$IS_ROOT" -eq 0 ]] || runuser -u "$ES_USER" -- test -x "$STATE"; then
		printf '%s\n' "$STATE"
	else
		local hash
		hash="$(printf '%s' "$REPO" | sha256sum | cut -c1-12)"
		log "NOTE: $ES_USER cannot traverse $STATE; using /var/tmp/secops-es-$hash for ES home/data/logs"
		printf '%s\n' "/var/tmp/secops-es-$hash"
	fi
}

load_base() {
	if [[ -f "$BASE_FILE" ]]; then
		BASE="$(cat "$BASE_FILE")"
	else
		BASE="$STATE"
	fi
	ES_HOME="$BASE/elasticsearch-$ES_VERSION"
	PID_FILE="$BASE/run/es.pid"
	LOG_DIR="$BASE/logs"
}

server_pid() {
	# Prints the pid of a live ES server started by this script, or fails.
	local pid
	[[ -f "${PID_FILE:-}" ]] || return 1
	pid="$(tr -dc '0-9' <"$PID_FILE")"
	[[ -n "$pid" ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	grep -qa 'org.elasticsearch' "/proc/$pid/cmdline" 2>/dev/null || return 1
	printf '%s\n' "$pid"
}

es_curl() { # curl with the CA and the elastic user's credentials (from a file) when secure
	if [[ "$SECURE" -eq 1 ]]; then
		curl -K "$CLIENT/curl.cfg" "$@"
	else
		curl "$@"
	fi
}

health() { # $1 = url; prints health JSON when the cluster is at least yellow
	es_curl -fsS --max-time 15 "$1/_cluster/health?wait_for_status=yellow&timeout=5s" 2>/dev/null
}

install_es() {
	if [[ -x "$ES_HOME/bin/elasticsearch" && -f "$ES_HOME/.secops-unpacked" ]]; then
		return 0
	fi
	command -v mvn >/dev/null || die "mvn not found (needed to fetch $ES_ARTIFACT)"
	command -v unzip >/dev/null || die "unzip not found (apt-get install unzip)"
	local tmp t0
	tmp="$(mktemp -d "$BASE/.fetch.XXXXXX")"
	t0=$SECONDS
	log "fetching $ES_ARTIFACT with Maven (cached in ~/.m2 after the first time)"
	if ! mvn -B -q "$MVN_DEP_PLUGIN:copy" -Dartifact="$ES_ARTIFACT" \
		-DoutputDirectory="$tmp" -Dmdep.overWriteReleases=true >"$tmp/mvn.log" 2>&1; then
		tail -n 30 "$tmp/mvn.log" >&2
		rm -rf "$tmp"
		die "could not fetch $ES_ARTIFACT from Maven Central"
	fi
	log "fetched in $((SECONDS - t0)) s; unpacking"
	unzip -q "$tmp/elasticsearch-$ES_VERSION.zip" -d "$tmp/x"
	[[ -x "$tmp/x/elasticsearch-$ES_VERSION/bin/elasticsearch" ]] || die "unexpected zip layout in $ES_ARTIFACT"
	touch "$tmp/x/elasticsearch-$ES_VERSION/.secops-unpacked"
	rm -rf "$ES_HOME"
	mv "$tmp/x/elasticsearch-$ES_VERSION" "$ES_HOME"
	rm -rf "$tmp"
	log "unpacked to $ES_HOME in $((SECONDS - t0)) s total"
}

free_port() {
	local py
	for py in python3 /usr/bin/python3; do
		if command -v "$py" >/dev/null 2>&1; then
			"$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' && return 0
		fi
	done
	local port
	for port in $(seq 9200 9299); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			printf '%s\n' "$port"
			return 0
		fi
	done
	die "no free port found in 9200-9299"
}

show_logs() {
	local f
	for f in "$LOG_DIR/$CLUSTER_NAME.log" "$LOG_DIR/launcher.out"; do
		if [[ -s "$f" ]]; then
			printf -- '----- last 50 lines of %s -----\n' "$f" >&2
			tail -n 50 "$f" >&2
		fi
	done
}

start_failed() {
	log "ERROR: $*"
	show_logs
	stop_server >/dev/null 2>&1 || true
	exit 1
}

stop_server() {
	local pid i
	if pid="$(server_pid)"; then
		log "stopping pid $pid"
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 600; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "still alive after 60 s, sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			for ((i = 0; i < 100; i++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
		fi
		echo "stopped"
	else
		echo "not running"
	fi
	rm -f "$URL_FILE" "$LEASED_MARK" "${PID_FILE:-/nonexistent}"
}

live_leases() { # prints count of leases whose pid is still alive, pruning dead ones
	local n=0 f
	mkdir -p "$LEASES"
	for f in "$LEASES"/*; do
		[[ -e "$f" ]] || continue
		if kill -0 "$(basename "$f")" 2>/dev/null; then
			n=$((n + 1))
		else
			rm -f "$f"
		fi
	done
	printf '%s\n' "$n"
}

cmd_start() {
	local lease=""
	if [[ "${1:-}" == "--lease" ]]; then
		lease="${2:?--lease needs a pid}"
	fi

	if server_pid >/dev/null && [[ -s "$URL_FILE" ]]; then
		local url
		url="$(cat "$URL_FILE")"
		health "$url" >/dev/null || die "a server is running (pid $(server_pid)) but $url is not healthy; run: $0 stop"
		if [[ -n "$lease" ]]; then
			mkdir -p "$LEASES" && touch "$LEASES/$lease"
		else
			rm -f "$LEASED_MARK" # started by hand from now on: leases won't stop it
		fi
		log "already running"
		printf '%s\n' "$url"
		return 0
	fi
	rm -f "$URL_FILE"

	[[ -x "$JAVA_HOME_FOR_ES/bin/java" ]] || die "no Java at $JAVA_HOME_FOR_ES (set ES_JAVA_HOME to a JDK 21+)"
	command -v curl >/dev/null || die "curl not found"
	ensure_user
	BASE="$(choose_base)"
	printf '%s\n' "$BASE" >"$BASE_FILE"
	load_base
	mkdir -p "$BASE"
	chmod 755 "$BASE"
	install_es

	local data="$BASE/data-$ES_VERSION" d
	mkdir -p "$data" "$LOG_DIR" "$BASE/run" "$BASE/tmp"
	if [[ "$IS_ROOT" -eq 1 ]]; then
		chown -R "$ES_USER:" "$ES_HOME" "$data" "$LOG_DIR" "$BASE/run" "$BASE/tmp"
		for d in "$ES_HOME" "$data" "$LOG_DIR"; do
			runuser -u "$ES_USER" -- test -w "$d" || die "$ES_USER cannot write $d"
		done
	fi
	rm -f "$PID_FILE" "$LOG_DIR/launcher.out"

	local port url t0 rc scheme=http
	port="$(free_port)"
	[[ "$SECURE" -eq 0 ]] || scheme=https
	url="$scheme://127.0.0.1:$port"
	local -a settings=(
		"-Ecluster.name=$CLUSTER_NAME"
		"-Enode.name=secops-node"
		"-Ediscovery.type=single-node"
		"-Enetwork.host=127.0.0.1"
		"-Ehttp.port=$port"
		"-Epath.data=$data"
		"-Epath.logs=$LOG_DIR"
		"-Ecluster.routing.allocation.disk.threshold_enabled=false"
		# Registered by x-pack-core even though this zip has no ML module (checked on 9.2.0).
		"-Expack.ml.enabled=false"
	)
	# Extra whitespace-separated settings, e.g. SECOPS_ES_EXTRA_SETTINGS="-Eindices.query.bool.max_clause_count=8192"
	local -a extra=()
	read -r -a extra <<<"${SECOPS_ES_EXTRA_SETTINGS:-}"
	if [[ "$SECURE" -eq 1 ]]; then
		secure_prepare "$data"
		settings+=("${SECURE_SETTINGS[@]}")
	else
		settings+=("-Expack.security.enabled=false")
	fi
	settings+=("${extra[@]}")

	# -XX:-AlwaysPreTouch: ES pre-touches the whole heap by default (~750 MB RSS vs ~575 MB).
	log "starting Elasticsearch $ES_VERSION on $url (home $ES_HOME)"
	t0=$SECONDS
	rc=0
	(
		cd "$BASE"
		as_es_user env ES_JAVA_HOME="$JAVA_HOME_FOR_ES" ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP -XX:-AlwaysPreTouch ${SECOPS_ES_JAVA_OPTS:-}" \
			ES_TMPDIR="$BASE/tmp" ES_PATH_CONF="$ES_HOME/config" \
			"$ES_HOME/bin/elasticsearch" -d -p "$PID_FILE" "${settings[@]}"
	) </dev/null >"$LOG_DIR/launcher.out" 2>&1 9>&- || rc=$?
	[[ "$rc" -eq 0 ]] || start_failed "the Elasticsearch launcher exited with status $rc"

	until health "$url" >/dev/null; do
		server_pid >/dev/null || start_failed "Elasticsearch exited during startup"
		((SECONDS - t0 < START_TIMEOUT)) || start_failed "not healthy (yellow) at $url after ${START_TIMEOUT} s"
		sleep 0.5
	done
	log "healthy after $((SECONDS - t0)) s (pid $(server_pid))"
	if [[ "$SECURE" -eq 1 ]]; then
		secure_provision "$url" || start_failed "could not create the secops role, user and API key"
		printf 'export SECOPS_ES_URL=%q SECOPS_ES_CA_CERTS=%q SECOPS_ES_API_KEY=%q\n' \
			"$url" "$CLIENT/ca.crt" "$(cat "$CLIENT/secops.api_key")" | write_secret "$CLIENT/env"
	fi
	printf '%s\n' "$url" >"$URL_FILE.tmp"
	mv "$URL_FILE.tmp" "$URL_FILE"
	if [[ -n "$lease" ]]; then
		mkdir -p "$LEASES" && touch "$LEASES/$lease" "$LEASED_MARK"
	else
		rm -f "$LEASED_MARK"
	fi
	printf '%s\n' "$url"
}

cmd_status() {
	local pid url
	if ! pid="$(server_pid)" || [[ ! -s "$URL_FILE" ]]; then
		echo "not running" >&2
		return 3
	fi
	url="$(cat "$URL_FILE")"
	log "pid $pid, $url"
	es_curl -fsS --max-time 15 "$url/_cluster/health?pretty" || die "server pid $pid does not answer at $url"
}

cmd_release() {
	local lease="${1:?release needs a pid}"
	rm -f "$LEASES/$lease"
	if ! server_pid >/dev/null; then
		rm -f "$URL_FILE" "$LEASED_MARK"
		return 0
	fi
	if [[ -f "$LEASED_MARK" && "$(live_leases)" -eq 0 ]]; then
		stop_server
	else
		log "not stopping (server started by hand, or other leases remain)"
	fi
}

main() {
	local -a args=()
	local a
	for a in "$@"; do
		if [[ "$a" == "--secure" ]]; then
			SECURE=1
		else
			args+=("$a")
		fi
	done
	set -- "${args[@]}"
	if [[ "$SECURE" -eq 1 ]]; then
		STATE="$REPO/build/elasticsearch-secure"
		URL_FILE="$STATE/url"
		BASE_FILE="$STATE/base"
		LEASES="$STATE/leases"
		LEASED_MARK="$STATE/started-under-lease"
		CLIENT="$STATE/client"
		CLUSTER_NAME="secops-secure"
	fi
	local cmd="${1:-}"
	[[ $# -gt 0 ]] && shift
	mkdir -p "$STATE"
	# Serialise start/stop/release between concurrent callers of the same checkout.
	exec 9>"$STATE/.lock"
	flock -w 600 9 || die "timed out waiting for $STATE/.lock"
	load_base
	case "$cmd" in
	start) cmd_start "$@" ;;
	stop) stop_server ;;
	status) cmd_status ;;
	release) cmd_release "$@" ;;
	*)
		echo "usage: $0 [--secure] start [--lease PID] | status | stop | release PID" >&2
		exit 2
		;;
	esac
}

# shellcheck source=scripts/elasticsearch-secure.sh
source "$(dirname "${BASH_SOURCE[0]}")/elasticsearch-secure.sh"

main "$@"
