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

# sfca_synopsis_options MANPAGE: the options of an mdoc page's SYNOPSIS,
# one a line: "-X" for each letter of a `Fl` group (`.Op Fl HhjV`), and
# "--name" for `Fl Fl name` or `Fl \-name`.  A `Fl` takes the words up
# to the next macro or punctuation.
sfca_synopsis_options() {
	awk '
	/^\.Sh / { syn = ($2 == "SYNOPSIS"); next }
	!syn { next }
	{
		for (i = 1; i <= NF; i++) {
			if ($i != "Fl" && $i != ".Fl")
				continue
			while (i < NF) {
				w = $(i + 1)
				if (w == "Fl" && i + 2 <= NF) {
					print "--" $(i + 2)
					i += 2
					continue
				}
				if (w ~ /^[A-Z][a-z]$/ || w !~ /^(\\-)?[A-Za-z0-9]/)
					break
				i++
				if (sub(/^\\-/, "", w)) {
					print "--" w
					continue
				}
				n = split(w, ch, "")
				for (k = 1; k <= n; k++)
					print "-" ch[k]
			}
		}
	}' "$1" | sort -u
}

# sfca_long_options MANPAGE: the long options of the page's option list
# (`.It Fl c Ar days , Fl Fl critical ...`), one "--name" a line.
sfca_long_options() {
	awk '/^\.It Fl / {
		for (i = 2; i < NF; i++)
			if ($i == "Fl" && $(i + 1) == "Fl")
				print "--" $(i + 2)
			else if ($i == "Fl" && $(i + 1) ~ /^\\-/)
				print "--" substr($(i + 1), 3)
	}' "$1" | sort -u
}

# sfca_help_check [-m PAGE] MANPAGE CMD...: `CMD... --help` stands alone:
# it exits 0; its usage is the page's SYNOPSIS (as mandoc renders it,
# blanks aside); every SYNOPSIS option starts a line of its own
# ("  -c, --critical=days  what it does"); every long option of the
# page's list is named; it has an "Exit status" paragraph naming each
# status of the page's EXIT STATUS list; and it tells how to open the
# page (or PAGE, "name.8") where the hotfix installs it.  Every miss is a
# line on stdout, and the function fails.
sfca_help_check() {
	local man help rc syn use o st name sec bad=0 page=
	if [ "$1" = -m ]; then
		page=$2
		shift 2
	fi
	man=$1
	shift
	name=$(basename "${page:-$man}")
	sec=${name##*.}
	name=${name%.*}
	help=$("$@" --help 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "$* --help: exit $rc"
		bad=1
	fi
	syn=$(mandoc -Tascii "$man" | col -b |
	    awk '/^SYNOPSIS/ { f = 1; next } /^[A-Z]/ { f = 0 } f' |
	    tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//')
	use=$(awk 'NF == 0 { exit } { print }' <<<"$help" |
	    sed '1s/^usage://' | tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//')
	if [ "$syn" != "$use" ]; then
		echo "usage differs from the SYNOPSIS of $man:"
		echo "  usage:    $use"
		echo "  SYNOPSIS: $syn"
		bad=1
	fi
	for o in $(sfca_synopsis_options "$man"); do
		if ! grep -qE -- "^ +(-[A-Za-z0-9], )?$o([ ,=]|$)" <<<"$help"; then
			echo "missing from --help: $o"
			bad=1
		fi
	done
	for o in $(sfca_long_options "$man"); do
		if ! grep -qE -- "(^|[ ,])$o([ =]|$)" <<<"$help"; then
			echo "long option missing from --help: $o"
			bad=1
		fi
	done
	local ex
	ex=$(awk '/^Exit status/ { f = 1 } f && NF == 0 { exit } f' <<<"$help")
	if [ -z "$ex" ]; then
		echo "no Exit status paragraph in --help"
		bad=1
	fi
	for st in $(awk '/^\.Sh / { f = ($2 == "EXIT") } f && /^\.It [0-9]+$/ { print $2 }' "$man" | sort -u); do
		if ! grep -qE "(^|[^0-9])$st([^0-9]|$)" <<<"$ex"; then
			echo "exit status $st missing from --help"
			bad=1
		fi
	done
	if ! grep -qF "man -l /usr/local/sf/share/man/man$sec/$name.$sec" <<<"$help"; then
		echo "--help does not say: man -l /usr/local/sf/share/man/man$sec/$name.$sec"
		bad=1
	fi
	return "$bad"
}
