#!/bin/sh
# SPDX-License-Identifier: ISC
# baseline_genc.sh -- the renewal's key work the way the vendor scripts do it
#
# usage: baseline_genc.sh [-P jobs] FMC-ROOT OUT-DIR
#
# What generate_certs.pl does for the keys and certificates, one openssl(1)
# process per key, request and signature: a new InternalCA (genrsa, then
# req -x509), then for the FMC and for every peer folder of FMC-ROOT
# a key (genrsa), a request (req -new) and a signature (x509 -req -CA),
# written with their certs_pushed/ copies into OUT-DIR/peers/<uuid>/.
# Sequential, as the original is; -P jobs runs the peers jobs at a time
# (xargs -P), the best a shell script can do.  No push: it is the
# reference for the making of keys and certificates.  FMC-ROOT is only
# read.  Exit status 0 on success, 1 on failure, 2 on usage.
set -eu
export LC_ALL=C

jobs=0
if [ "${1-}" = -P ]; then
	jobs=$2
	shift 2
fi
[ $# -eq 2 ] || { echo "usage: baseline_genc.sh [-P jobs] FMC-ROOT OUT-DIR" >&2; exit 2; }
root=$1
out=$2

uuid=$(sed -n 's/^APPLIANCE_UUID=//p' "$root/etc/sf/ims.conf")
[ -n "$uuid" ] || { echo "baseline_genc.sh: $root: no APPLIANCE_UUID" >&2; exit 1; }
mkdir -p "$out/ca_root/private" "$out/keys" "$out/peers"
umask 077

# The InternalCA.
openssl genrsa -out "$out/ca_root/private/cakey.pem" 2048 2>/dev/null
openssl req -new -x509 -sha256 -days 3650 -set_serial 1 \
    -key "$out/ca_root/private/cakey.pem" \
    -subj "/title=InternalCA/OU=Intrusion Management System/CN=$uuid/O=Cisco Systems, Inc" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=keyCertSign,cRLSign" \
    -out "$out/ca_root/cacert.pem"

# issue DIR CN SERIAL: key, request, signature; then the certs_pushed copy
issue() {
	openssl genrsa -out "$1/sftunnel-key.pem" 2048 2>/dev/null
	openssl req -new -sha256 -key "$1/sftunnel-key.pem" -subj "/CN=$2" \
	    -out "$1/sftunnel.csr"
	openssl x509 -req -sha256 -days 3650 -in "$1/sftunnel.csr" \
	    -CA "$out/ca_root/cacert.pem" \
	    -CAkey "$out/ca_root/private/cakey.pem" -set_serial "$3" \
	    -out "$1/sftunnel-cert.pem" 2>/dev/null
	mkdir -p "$1/certs_pushed"
	cp "$1/sftunnel-key.pem" "$1/sftunnel-cert.pem" "$1/certs_pushed/"
}

issue "$out/keys" "$uuid" 2

if [ "$jobs" -gt 0 ]; then
	export out
	i=3
	for d in "$root"/var/sf/peers/*/; do
		p=$(basename "$d")
		mkdir -p "$out/peers/$p"
		echo "$out/peers/$p $p $i"
		i=$((i + 1))
	done | xargs -P "$jobs" -n 3 sh -c '
		openssl genrsa -out "$1/sftunnel-key.pem" 2048 2>/dev/null &&
		openssl req -new -sha256 -key "$1/sftunnel-key.pem" \
		    -subj "/CN=$2" -out "$1/sftunnel.csr" &&
		openssl x509 -req -sha256 -days 3650 -in "$1/sftunnel.csr" \
		    -CA "$out/ca_root/cacert.pem" \
		    -CAkey "$out/ca_root/private/cakey.pem" -set_serial "$3" \
		    -out "$1/sftunnel-cert.pem" 2>/dev/null &&
		mkdir -p "$1/certs_pushed" &&
		cp "$1/sftunnel-key.pem" "$1/sftunnel-cert.pem" "$1/certs_pushed/"
	    ' sh
else
	i=3
	for d in "$root"/var/sf/peers/*/; do
		p=$(basename "$d")
		mkdir -p "$out/peers/$p"
		issue "$out/peers/$p" "$p" "$i"
		i=$((i + 1))
	done
fi
