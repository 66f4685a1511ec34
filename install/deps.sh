#!/bin/sh
# SPDX-License-Identifier: ISC
# deps.sh -- install the Debian packages sfca needs to build, test and demo
#
# usage: deps.sh [--bench]
#
# Idempotent and silent when everything is present.  Needs root (or sudo)
# only when something is missing.
set -eu

# libclang-rt-14-dev: libFuzzer for tests/fuzz (clang 14 is Debian 12's);
# python3: tests/lab/rawpeer; prometheus: promtool, and
# prometheus-node-exporter with curl: check_ca_expiry's metrics in its tests.
PKGS="build-essential clang libclang-rt-14-dev pkg-config libssl-dev
libssh-dev libbsd-dev openssl bats bats-assert bats-support bats-file mandoc
openssh-server openssh-client util-linux iproute2 procps psmisc valgrind
libpam-modules bsdextrautils man-db python3 prometheus prometheus-node-exporter
curl"
# Only for make bench (deps.sh --bench): the parallel-ssh baseline, and GNU
# time for the peak memory of sftunnel_status.
BENCH_PKGS="pssh time"
[ "${1-}" = --bench ] && PKGS="$PKGS $BENCH_PKGS"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# The package lists may be absent on a fresh machine.
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Installing openssh-server may start the system sshd, and prometheus (for
# its promtool) and prometheus-node-exporter (its textfile collector reads
# check_ca_expiry's metrics in a test) their servers; the tests run their
# own and need none of these.
