#!/bin/sh
# SPDX-License-Identifier: ISC
# build.sh -- assemble the hotfix: build.sh BINDIR OUTDIR CMD...
#
# Called by `make hotfix` once the commands (and hfremote) are linked into
# BINDIR.  Writes OUTDIR/<name>.sh.REL.tar, a tar holding one file,
# <name>.sh: hotfix/installer.sh with its checksums filled in, followed by
# the payload (a gzip'd tar of bin/, libexec/, man/, NEEDED and MANIFEST).
# The name follows the vendor's pattern: Sfca_Hotfix_<letters>-<version>-<build>.
# HOTFIX_LETTERS (AA) and HOTFIX_BUILD (1) may be set in the environment;
# the version is SFCA_VERSION of common/version.h, padded to three numbers.
set -eu
export LC_ALL=C
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { echo "usage: build.sh BINDIR OUTDIR CMD..." >&2; exit 2; }
bindir=$1 out=$2
shift 2

letters=${HOTFIX_LETTERS:-AA}
build=${HOTFIX_BUILD:-1}
version=$(sed -n 's/^#define[ 	]*SFCA_VERSION[ 	]*"\(.*\)"/\1/p' \
    "$top/common/version.h")
case $version in
*.*.*) ;;
*.*) version=$version.0 ;;
*) version=$version.0.0 ;;
esac
case $letters$build in
*[!A-Za-z0-9]*) echo "build.sh: bad HOTFIX_LETTERS or HOTFIX_BUILD" >&2; exit 2;;
esac
name=Sfca_Hotfix_$letters-$version-$build

stage=$out/stage
rm -rf "$stage"
mkdir -p "$stage/payload/bin" "$stage/payload/libexec" "$stage/payload/man"
p=$stage/payload

# The commands, and the man pages man/SHIPPED lists (make install reads it too).
for c in "$@"; do
	install -m 755 "$bindir/$c" "$p/bin/$c"
	strip --strip-unneeded "$p/bin/$c"
done
for m in $(sed -e 's/#.*//' "$top/man/SHIPPED"); do
	install -m 644 "$top/man/$m" "$p/man/"
done
install -m 755 "$bindir/hfremote" "$p/libexec/hfremote"
strip --strip-unneeded "$p/libexec/hfremote"

# What the binaries still need from the FMC: the dynamic part of the link,
# with what those libraries need in turn (ldd's closure, vdso aside).
for f in "$p"/bin/* "$p"/libexec/*; do
	ldd "$f" | awk '$1 !~ /^linux-vdso/ { sub(".*/", "", $1); print $1 }'
done | sort -u >"$p/NEEDED"

(cd "$p" && find . -type f ! -name MANIFEST | sed 's|^\./||' | sort |
    xargs sha256sum) >"$p/MANIFEST"

# Reproducible payload: fixed owner, order and times.
tar -C "$p" --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime=@0 -cf - . | gzip -n -9 >"$stage/payload.tgz"
psize=$(wc -c <"$stage/payload.tgz")
psum=$(sha256sum "$stage/payload.tgz" | cut -d' ' -f1)
hlines=$(wc -l <"$top/hotfix/installer.sh")

sed -e "s/@HOTFIX@/$name/g" -e "s/@VERSION@/$version/g" \
    -e "s/@PAYLOAD_LINE@/$((hlines + 1))/" \
    -e "s/@PAYLOAD_SIZE@/$psize/" -e "s/@PAYLOAD_SHA256@/$psum/" \
    "$top/hotfix/installer.sh" >"$stage/header"
hsum=$(grep -v '^SFCA_HEADER_SHA256=' "$stage/header" | sha256sum |
    cut -d' ' -f1)
sed -i "s/^SFCA_HEADER_SHA256=.*/SFCA_HEADER_SHA256=$hsum/" "$stage/header"

mkdir -p "$stage/rel"
cat "$stage/header" "$stage/payload.tgz" >"$stage/rel/$name.sh"
chmod 755 "$stage/rel/$name.sh"
rm -f "$out"/Sfca_Hotfix_*.sh.REL.tar
tar -C "$stage/rel" --owner=0 --group=0 --numeric-owner --mtime=@0 \
    -cf "$out/$name.sh.REL.tar" "$name.sh"
echo "$out/$name.sh.REL.tar"
echo "  commands: $*"
echo "  needs from the FMC: $(tr '\n' ' ' <"$p/NEEDED")"
