# shellcheck shell=bash
# A throw-away PostgreSQL cluster for the pgstore tests and benchmarks.
#
# Source it from bash (.ci/run does, under set -euo pipefail):
#
#	source .ci/postgres.sh
#
# It installs PostgreSQL from Debian when no /usr/lib/postgresql/*/bin/pg_ctl
# exists, creates a cluster in a new temporary directory, starts it on a Unix
# socket in that directory (no TCP port, so nothing can collide with it),
# creates the database spaceauthz, exports its DSN as
# SPACEAUTHZ_TEST_POSTGRES_DSN, and stops the cluster and deletes the
# directory when the sourcing shell exits (an EXIT trap that runs any EXIT
# trap set before it). As root the server runs as the postgres user, since
# PostgreSQL refuses to run as root; otherwise as the current user.
#
# When SPACEAUTHZ_TEST_POSTGRES_DSN is already set it does nothing: the tests
# use that database. spaceauthz_pg_stop stops the cluster early.
#
# The cluster runs with fsync=off: it is thrown away, and the tests and
# benchmarks should measure the store, not the disk.

spaceauthz_pg_start() {
	if [ -n "${SPACEAUTHZ_TEST_POSTGRES_DSN:-}" ]; then
		echo "== postgres: using SPACEAUTHZ_TEST_POSTGRES_DSN from the environment"
		return 0
	fi

	local bin
	bin=$(spaceauthz_pg_bindir)
	if [ -z "$bin" ]; then
		echo "== postgres: installing from Debian"
		if [ "$(id -u)" -ne 0 ]; then
			echo "postgres.sh: PostgreSQL is missing and only root can install it" >&2
			return 1
		fi
		# The package would otherwise create and try to start a cluster of
		# its own, which these tests never use.
		mkdir -p /etc/postgresql-common
		if ! grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
			echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
		fi
		DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql </dev/null >/dev/null
		bin=$(spaceauthz_pg_bindir)
		if [ -z "$bin" ]; then
			echo "postgres.sh: installing postgresql gave no pg_ctl" >&2
			return 1
		fi
	fi

	SPACEAUTHZ_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/spaceauthz-pg.XXXXXX")
	# A subshell of the sourcing shell may run its EXIT trap; only the
	# sourcing shell itself stops the cluster.
	SPACEAUTHZ_PG_OWNER=$BASHPID
	local dir=$SPACEAUTHZ_PG_DIR
	local -a as=()
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir"
		as=(runuser -u postgres --)
	fi
	SPACEAUTHZ_PG_AS=("${as[@]}")
	SPACEAUTHZ_PG_CTL=$bin/pg_ctl

	echo "== postgres: $("$bin/postgres" --version) in $dir"
	"${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		return 1
	}
	# Chain the stop before starting, so that a failed start still cleans up.
	local previous
	previous=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
	# shellcheck disable=SC2064 # expand $previous now
	trap "spaceauthz_pg_stop; ${previous:-:}" EXIT
	"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-k $dir -c listen_addresses= -c port=5432 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
		start >/dev/null || {
		cat "$dir/server.log" >&2
		return 1
	}
	"${as[@]}" "$bin/psql" -X -q -h "$dir" -p 5432 -U postgres -d postgres -v ON_ERROR_STOP=1 \
		-c 'CREATE DATABASE spaceauthz' </dev/null
	export SPACEAUTHZ_TEST_POSTGRES_DSN="postgres://postgres@/spaceauthz?host=$dir&port=5432&sslmode=disable"
	echo "== postgres: SPACEAUTHZ_TEST_POSTGRES_DSN=$SPACEAUTHZ_TEST_POSTGRES_DSN"
}

# spaceauthz_pg_bindir prints the bin directory of the newest installed
# PostgreSQL, or nothing.
spaceauthz_pg_bindir() {
	local ctl
	ctl=$(ls -1d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n 1)
	[ -n "$ctl" ] && dirname "$ctl"
	return 0
}

spaceauthz_pg_stop() {
	local dir=${SPACEAUTHZ_PG_DIR:-}
	[ -n "$dir" ] || return 0
	[ "$BASHPID" = "${SPACEAUTHZ_PG_OWNER:-}" ] || return 0
	SPACEAUTHZ_PG_DIR=
	if [ -f "$dir/data/postmaster.pid" ]; then
		"${SPACEAUTHZ_PG_AS[@]}" "$SPACEAUTHZ_PG_CTL" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	unset SPACEAUTHZ_TEST_POSTGRES_DSN
	echo "== postgres: stopped"
}

spaceauthz_pg_start
