#!/bin/sh
# SPDX-License-Identifier: ISC
# install.sh -- where every shipped file goes: install.sh [DESTDIR]
#
# Commands into $DESTDIR$PREFIX/sbin, man pages into share/man/man{5,7,8}.
# Lab-only tools (mktree, sftunneld, pmtool) are not installed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-}
prefix=${PREFIX:-/usr/local}
bin=${SFCA_BIN:-$top/bin}
SHIPPED="check_ca_expiry sftunnel_status generate_certs copy_sftunnel_certs
copy_sftunnel_certs_jumpserver"

install -d -m 755 "$dest$prefix/sbin"
for c in $SHIPPED; do
	[ -x "$bin/$c" ] || continue
	install -m 755 "$bin/$c" "$dest$prefix/sbin/$c"
	for m in "$top"/man/"$c".[1-8]; do
		[ -e "$m" ] || continue
		s=${m##*.}
		install -d -m 755 "$dest$prefix/share/man/man$s"
		install -m 644 "$m" "$dest$prefix/share/man/man$s/"
	done
done
for m in "$top"/man/*.5 "$top"/man/*.7; do
	[ -e "$m" ] || continue
	s=${m##*.}
	install -d -m 755 "$dest$prefix/share/man/man$s"
	install -m 644 "$m" "$dest$prefix/share/man/man$s/"
done
