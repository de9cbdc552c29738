#!/usr/bin/env bash
# Run CMD against a real, throwaway Elasticsearch:
#   bash scripts/with-elasticsearch.sh .venv/bin/pytest [ARGS...]
# Starts the node with scripts/elasticsearch.sh (downloading it with Maven on first use),
# exports SECOPS_TEST_ES_URL, runs CMD, and stops the node on exit unless it was already
# running before (started by hand) or another with-elasticsearch.sh run still uses it.
# Exits with CMD's status; exits 1 with the reason if Elasticsearch cannot be started.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
es="$here/elasticsearch.sh"
lease="$$"

# shellcheck disable=SC2317  # invoked via trap
cleanup() {
	bash "$es" release "$lease" >&2 || echo "with-elasticsearch.sh: WARNING: could not stop Elasticsearch" >&2
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! out="$(bash "$es" start --lease "$lease")"; then
	echo "with-elasticsearch.sh: ERROR: Elasticsearch could not be started (reason above); not running: $*" >&2
	exit 1
fi
url="$(printf '%s\n' "$out" | tail -n 1)"
if [[ "$url" != http://* ]]; then
	echo "with-elasticsearch.sh: ERROR: elasticsearch.sh start printed no URL (got: $url)" >&2
	exit 1
fi

export SECOPS_TEST_ES_URL="$url"
echo "with-elasticsearch.sh: SECOPS_TEST_ES_URL=$url" >&2

rc=0
"$@" || rc=$?
exit "$rc"
