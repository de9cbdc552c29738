# shellcheck shell=bash
# The --secure half of scripts/elasticsearch.sh (sourced by it; not run alone): TLS material,
# the elastic user's bootstrap password, and the least-privilege role, user and API key.

# What secops may do, and nothing else: read, write, create, roll over and manage `secops-*`
# indices; put/get index templates (Elasticsearch has no per-name template privilege: the
# cluster privilege manage_index_templates is the narrowest there is); read cluster health
# (monitor) for `secops es status` and the setup's wait for yellow.
SECOPS_ROLE='{
  "cluster": ["monitor", "manage_index_templates"],
  "indices": [
    {
      "names": ["secops-*"],
      "privileges": ["read", "write", "create_index", "manage", "view_index_metadata"]
    }
  ]
}'

es_tool() { # $1 = tool under bin/, then its arguments; runs as the ES user
	local tool="$1"
	shift
	as_es_user env ES_JAVA_HOME="$JAVA_HOME_FOR_ES" ES_PATH_CONF="$ES_HOME/config" \
		"$ES_HOME/bin/$tool" "$@"
}

new_secret() { # 32 random letters and digits
	local s=""
	while ((${#s} < 32)); do
		s+="$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
	done
	printf '%s' "${s:0:32}"
}

write_secret() { # $1 = file; the secret on stdin; mode 600 (a new file, whatever was there)
	rm -f "$1"
	(umask 077 && cat >"$1")
}

# A CA and a node certificate for 127.0.0.1/localhost, made by elasticsearch-certutil (PEM).
make_certs() {
	local certs="$ES_HOME/config/certs" tmp
	[[ -s "$certs/ca.crt" && -s "$certs/node.crt" && -s "$certs/node.key" ]] && return 0
	tmp="$(mktemp -d "$BASE/tmp/certs.XXXXXX")"
	[[ "$IS_ROOT" -eq 0 ]] || chown "$ES_USER:" "$tmp"
	log "making a CA and a node certificate with elasticsearch-certutil"
	es_tool elasticsearch-certutil ca --silent --pem --days 3650 --out "$tmp/ca.zip" >/dev/null
	as_es_user unzip -q "$tmp/ca.zip" -d "$tmp"
	es_tool elasticsearch-certutil cert --silent --pem --days 3650 --name node \
		--ca-cert "$tmp/ca/ca.crt" --ca-key "$tmp/ca/ca.key" \
		--ip 127.0.0.1 --dns localhost --out "$tmp/node.zip" >/dev/null
	as_es_user unzip -q "$tmp/node.zip" -d "$tmp"
	as_es_user mkdir -p "$certs"
	as_es_user cp "$tmp/ca/ca.crt" "$tmp/ca/ca.key" "$tmp/node/node.crt" "$tmp/node/node.key" "$certs/"
	as_es_user chmod 600 "$certs/ca.key" "$certs/node.key"
	rm -rf "$tmp"
}

# The integ-test zip lacks the analysis-common module whose components the `.security` index
# settings name; scripts/es-security-analysis registers Lucene's own ones (compiled here with
# the JDK that runs the node, against the distribution's jars).
install_security_analysis() {
	local src="$REPO/scripts/es-security-analysis" dest="$ES_HOME/plugins/secops-security-analysis" tmp
	[[ -s "$dest/secops-security-analysis.jar" && "$dest/secops-security-analysis.jar" -nt "$src/src/org/secops/esanalysis/SecurityIndexAnalysisPlugin.java" ]] && return 0
	[[ -x "$JAVA_HOME_FOR_ES/bin/javac" ]] || die "no javac at $JAVA_HOME_FOR_ES (a JDK is needed for --secure)"
	log "building the security index analysis plugin"
	tmp="$(mktemp -d "$BASE/tmp/plugin.XXXXXX")"
	"$JAVA_HOME_FOR_ES/bin/javac" --release 21 -nowarn -cp "$ES_HOME/lib/*" -d "$tmp/classes" \
		"$src"/src/org/secops/esanalysis/*.java
	mkdir -p "$dest"
	"$JAVA_HOME_FOR_ES/bin/jar" cf "$dest/secops-security-analysis.jar" -C "$tmp/classes" .
	sed "s/@ES_VERSION@/$ES_VERSION/" "$src/plugin-descriptor.properties" >"$dest/plugin-descriptor.properties"
	[[ "$IS_ROOT" -eq 0 ]] || chown -R "$ES_USER:" "$dest"
	rm -rf "$tmp"
}

# $1 = data path. Certificates, the client folder, the elastic password in the keystore, and
# the settings in SECURE_SETTINGS.
secure_prepare() {
	local data="$1" pw
	mkdir -p "$CLIENT"
	chmod 700 "$CLIENT"
	install_security_analysis
	make_certs
	cp "$ES_HOME/config/certs/ca.crt" "$CLIENT/ca.crt"
	if [[ ! -s "$CLIENT/elastic.password" ]]; then
		# A new password only takes effect on a new security index: start from empty data.
		rm -rf "${data:?}"/* "$CLIENT/secops.password" "$CLIENT/secops.api_key"
		new_secret | write_secret "$CLIENT/elastic.password"
	fi
	pw="$(cat "$CLIENT/elastic.password")"
	if [[ ! -f "$ES_HOME/config/elasticsearch.keystore" ]]; then
		es_tool elasticsearch-keystore create >/dev/null
	fi
	printf '%s' "$pw" | es_tool elasticsearch-keystore add --force --stdin bootstrap.password >/dev/null
	printf 'user = "elastic:%s"\ncacert = "%s"\n' "$pw" "$CLIENT/ca.crt" | write_secret "$CLIENT/curl.cfg"
	SECURE_SETTINGS=(
		"-Expack.security.enabled=true"
		"-Expack.security.http.ssl.enabled=true"
		"-Expack.security.http.ssl.key=certs/node.key"
		"-Expack.security.http.ssl.certificate=certs/node.crt"
		"-Expack.security.http.ssl.certificate_authorities=certs/ca.crt"
		"-Expack.security.transport.ssl.enabled=true"
		"-Expack.security.transport.ssl.verification_mode=certificate"
		"-Expack.security.transport.ssl.key=certs/node.key"
		"-Expack.security.transport.ssl.certificate=certs/node.crt"
		"-Expack.security.transport.ssl.certificate_authorities=certs/ca.crt"
		"-Expack.security.authc.api_key.enabled=true"
	)
}

security_api() { # $1 = method, $2 = path; JSON body on stdin; prints the response
	es_curl -fsS --max-time 60 -X "$1" -H 'Content-Type: application/json' \
		--data-binary @- "$URL$2"
}

# $1 = URL. The role, the native user `secops` and an API key for secops (security API).
secure_provision() {
	local URL="$1" body
	security_api PUT /_security/role/secops_writer <<<"$SECOPS_ROLE" >/dev/null || return 1
	[[ -s "$CLIENT/secops.password" ]] || new_secret | write_secret "$CLIENT/secops.password"
	printf '{"password": "%s", "roles": ["secops_writer"], "full_name": "secops"}' \
		"$(cat "$CLIENT/secops.password")" | security_api PUT /_security/user/secops >/dev/null || return 1
	body="$(printf '{"name": "secops", "role_descriptors": {"secops_writer": %s}}' "$SECOPS_ROLE")"
	security_api POST /_security/api_key <<<"$body" |
		python3 -c 'import json, sys; sys.stdout.write(json.load(sys.stdin)["encoded"])' |
		write_secret "$CLIENT/secops.api_key.tmp" || return 1
	[[ -s "$CLIENT/secops.api_key.tmp" ]] || return 1
	mv "$CLIENT/secops.api_key.tmp" "$CLIENT/secops.api_key"
	log "role secops_writer, user secops and an API key for secops are in $CLIENT"
}
