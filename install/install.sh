#!/bin/sh
# SPDX-License-Identifier: ISC
# install.sh -- where every shipped file goes: install.sh [DESTDIR]
#
# Commands into $DESTDIR$PREFIX/sbin: every command of cmd/ (which holds
# exactly the shipped ones) that is built.  Man pages into share/man/man<s>:
# those man/SHIPPED lists (the hotfix payload reads it too).  Lab-only tools
# (tests/lab: mktree, sftunneld, pmtool, ...) and their pages are not installed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-}
prefix=${PREFIX:-/usr/local}
# make install builds what ships, without the test hooks, in build/install/bin.
bin=${SFCA_BIN:-$top/build/install/bin}

install -d -m 755 "$dest$prefix/sbin"
for f in "$top"/cmd/*.c; do
	c=${f##*/}
	c=${c%.c}
	case $c in *-*) continue ;; esac	# a part of a command
	[ -x "$bin/$c" ] || continue
	install -m 755 "$bin/$c" "$dest$prefix/sbin/$c"
done
for m in $(sed -e 's/#.*//' "$top/man/SHIPPED"); do
	s=${m##*.}
	install -d -m 755 "$dest$prefix/share/man/man$s"
	install -m 644 "$top/man/$m" "$dest$prefix/share/man/man$s/"
done
