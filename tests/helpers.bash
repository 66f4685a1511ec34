# SPDX-License-Identifier: ISC
# helpers.bash -- loaded by every BATS file: assertions, PATH, scratch dirs

bats_require_minimum_version 1.5.0

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '/usr/lib/bats/bats-file/load'

SFCA_TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
SFCA_BIN=${SFCA_BIN:-$SFCA_TOP/bin}
export SFCA_TOP SFCA_BIN
# Only our binaries and the system's: nothing from the caller's PATH.
export PATH="$SFCA_BIN:$SFCA_TOP/tests/lab:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export HOME="$BATS_TEST_TMPDIR/home"
mkdir -p "$HOME"
unset SFCA_ROOT
export LC_ALL=C

# 0 when every component of path $1 is root-owned and not group- or
# world-writable, as OpenSSH's ChrootDirectory demands.
sfca_chroot_safe() {
	local p=$1
	while :; do
		[ -e "$p" ] || return 1
		[ "$(stat -c %u "$p")" = 0 ] || return 1
		[ $(( 0$(stat -c %a "$p") & 022 )) -eq 0 ] || return 1
		[ "$p" = / ] && return 0
		p=$(dirname "$p")
	done
}

# Where scratch labs go: build/t when the checkout's path is chroot-safe,
# else a folder of our own under /var/lib (a clone under /tmp, say).  Not
# /run, /etc or /var/log: the lab's sshd mounts its own over those.
SFCA_SCRATCH_FALLBACK=/var/lib/sfca-test
sfca_scratch_base() {
	if sfca_chroot_safe "$SFCA_TOP"; then
		echo "$SFCA_TOP/build/t"
	else
		echo "$SFCA_SCRATCH_FALLBACK"
	fi
}

# A scratch folder that ChrootDirectory accepts (root-owned path, not /tmp).
sfca_scratch() {
	local base d
	base=$(sfca_scratch_base)
	# short: the daemon's control socket path must fit in sun_path
	local f=${BATS_TEST_FILENAME##*/}
	d="$base/${f:0:6}.${BATS_SUITE_TEST_NUMBER:-0}.$$"
	rm -rf "$d"
	mkdir -p "$d"
	chmod 755 "$base" "$d"
	[ "$base" = "$SFCA_SCRATCH_FALLBACK" ] || chmod 755 "$SFCA_TOP/build"
	echo "$d"
}

# until_ok SECS CMD...: poll CMD every 0.1 s; fail after SECS seconds
until_ok() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "timed out: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

# Make a lab of trees: sfca_mktree DIR [mktree options]
sfca_mktree() {
	local dir=$1
	shift
	mktree -o "$dir" "$@" 3>&-
}

# Field N of hosts.txt for host NAME: sfca_host NAME FIELD (2 role 3 addr 4 uuid)
sfca_host() {
	awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$LAB/hosts.txt"
}
