#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# copy_sftunnel_certs-kit.bats -- console kits (-K), run inside lab hosts
# as a console would, against real tunnel daemons

load helpers

setup_file() {
	LAB=$(sfca_scratch)/lab
	export LAB
	# RSA-2048, the vendor's keys: the kit size the man page gives
	lab -d "$LAB" up -n 3 -b 127.66 >/dev/null 3>&- || return 1
	F=$LAB/hosts/FMCpri/root
	FU=$(sfca_host FMCpri 4)
	export F FU
	# FTD-1 and FTD-2 miss the renewal and come back on their old files:
	# their tunnels stay down, neither the tunnel nor SSH reaches them
	lab -d "$LAB" cut FTD-1 && lab -d "$LAB" cut FTD-2 || return 1
	# seen down first, so that no push waits in their sockets for the heal
	lab -d "$LAB" wait-down -t 20 FTD-1 >/dev/null &&
	    lab -d "$LAB" wait-down -t 20 FTD-2 >/dev/null || return 1
	generate_certs -r "$F" -y >/dev/null 2>&1 3>&-
	[ -n "$(ls "$F"/var/tmp/certs/*/FAILED_PUSH)" ] || return 1
	lab -d "$LAB" heal FTD-1 >/dev/null && lab -d "$LAB" heal FTD-2 >/dev/null ||
	    return 1
	"$SFCA_TOP/tests/lab/ssh/sshd-host" stop "$LAB" FTD-1 >/dev/null &&
	    "$SFCA_TOP/tests/lab/ssh/sshd-host" stop "$LAB" FTD-2 >/dev/null ||
	    return 1
	K=$(dirname "$LAB")/kits
	export K
	mkdir -p "$LAB/old"
	cp -a "$(peerdir FTD-1)" "$LAB/old/FTD-1"
}

teardown_file() {
	[ -n "${LAB-}" ] && lab -d "$LAB" down --purge >/dev/null 3>&- || true
	[ -n "${LAB-}" ] && rm -rf "$(dirname "$LAB")" || true
}

peerdir() { echo "$LAB/hosts/$1/root/ngfw/var/sf/peers/$FU"; }
addr() { sfca_host "$1" 3; }
uuid() { sfca_host "$1" 4; }
up() { sftunnel_status -r "$F" --brief "$(uuid "$1")" >/dev/null 2>&1; }

# treesum HOST: owner, mode, size, link target and SHA-256 of everything
# in the host's tree but what its running daemon changes by itself
treesum() {
	local skip='( -path ./var/log -o -path ./ngfw/var/log -o -path ./var/sf/run -o -path ./ngfw/var/sf/run -o -name sftunnel-heartbeat )'
	# shellcheck disable=SC2086
	(cd "$LAB/hosts/$1/root" && set -f &&
	    find . -xdev $skip -prune -o -printf '%p %u %m %s %l\n' | sort &&
	    find . -xdev $skip -prune -o -type f -print0 | sort -z |
	    xargs -0 sha256sum) | sha256sum
}

# on HOST CMD...: CMD as root in HOST (the lab's exec), with the PATH of
# the device's root shell, where pmtool is
on() {
	local h=$1
	shift
	lab -d "$LAB" exec "$h" env \
	    PATH="$LAB/hosts/$h/root/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin" \
	    "$@"
}

@test "copy_sftunnel_certs: -K without a CSV writes a 0600 kit for each FAILED_PUSH device into a new 0700 folder" {
	local fp
	fp=$(ls -d "$F"/var/tmp/certs/*/FAILED_PUSH | tail -n 1)
	run -0 copy_sftunnel_certs -r "$F" -K "$K"
	assert_line --regexp "^FTD-1 \(127\.66\.1\.1, $(uuid FTD-1)\): $K/FTD-1\.sh, [0-9]+ bytes\$"
	assert_line --regexp "^FTD-2 \(127\.66\.1\.2, $(uuid FTD-2)\): $K/FTD-2\.sh, [0-9]+ bytes\$"
	assert_equal "${#lines[@]}" 2
	assert_equal "$(stat -c '%a %U' "$K")" "700 root"
	assert_equal "$(cd "$K" && stat -c '%n %a %U %s' *)" "$(cd "$K" &&
	    for f in FTD-1.sh FTD-2.sh; do echo "$f 600 root $(wc -c <"$f")"; done)"
	# what the man page promises: under 9000 bytes with RSA-2048 keys,
	# no tab (a paste would complete it), lines under 160 columns
	for f in "$K"/*.sh; do
		[ "$(wc -c <"$f")" -lt 9000 ]
		run ! grep -q $'\t' "$f"
		[ "$(awk '{ if (length > m) m = length } END { print m }' "$f")" -lt 160 ]
	done
	# it carries exactly what the SSH copy would: FAILED_PUSH's sources
	grep -q -- "-----BEGIN" "$K/FTD-1.sh"
	awk '$1 == "'"$(uuid FTD-1)"'" && /sftunnel-key/ { print $4 }' "$fp" |
	    while read -r src; do
		grep -qF -- "$(sed -n 2p "$F/$src")" "$K/FTD-1.sh"
	    done
	run ! grep -qF -- "$(sed -n 2p "$F/var/sf/peers/$(uuid FTD-2)/certs_pushed/sftunnel-key.pem")" "$K/FTD-1.sh"
	assert_file_not_exist "$K/FTD-3.sh"
}

@test "copy_sftunnel_certs: a kit with one byte of its payload changed refuses on its device and changes nothing" {
	local before
	[ -f "$K/FTD-1.sh" ]
	# one byte of the key's text
	awk '/^K=/ { k = 1 } k && /^[A-Za-z0-9+\/]+$/ && !done { $0 = (substr($0, 1, 1) == "A" ? "B" : "A") substr($0, 2); done = 1 } { print }' \
	    "$K/FTD-1.sh" >"$BATS_TEST_TMPDIR/bad.sh"
	[ "$(cmp -l "$K/FTD-1.sh" "$BATS_TEST_TMPDIR/bad.sh" | wc -l)" -eq 1 ]
	before=$(treesum FTD-1)
	run -2 on FTD-1 sh "$BATS_TEST_TMPDIR/bad.sh"
	assert_output "sfca kit FTD-1: refused: damaged: its SHA-256 is not the one it was made with; nothing changed"
	assert_equal "$(treesum FTD-1)" "$before"
	run ! up FTD-1
}

@test "copy_sftunnel_certs: a kit run on another device refuses and changes nothing there" {
	local before
	before=$(treesum FTD-3)
	run -2 on FTD-3 sh "$K/FTD-1.sh"
	assert_output "sfca kit FTD-1: refused: this device is $(uuid FTD-3), the kit is for FTD-1 ($(uuid FTD-1)); nothing changed"
	assert_equal "$(treesum FTD-3)" "$before"
	# the FMC is not its device either
	before=$(treesum FMCpri)
	run -2 on FMCpri sh "$K/FTD-1.sh"
	assert_output "sfca kit FTD-1: refused: this device is $FU, the kit is for FTD-1 ($(uuid FTD-1)); nothing changed"
	assert_equal "$(treesum FMCpri)" "$before"
	# nor is its device to a user that is not root
	before=$(treesum FTD-1)
	run -2 on FTD-1 setpriv --reuid=65534 --regid=65534 --clear-groups sh <"$K/FTD-1.sh"
	assert_output "sfca kit FTD-1: refused: not root (expert, then sudo su); nothing changed"
	assert_equal "$(treesum FTD-1)" "$before"
}

@test "copy_sftunnel_certs: a kit pasted into its device's root shell installs its files all at once and the tunnel comes up" {
	local d f
	d=$(peerdir FTD-1)
	run ! up FTD-1
	# a console: an interactive shell on a terminal, the kit pasted in
	# line by line (a terminal's line buffer holds 4096 bytes: what a
	# paste sends faster than the shell reads is lost, so a terminal
	# program paces a paste, as here)
	run -0 on FTD-1 script -qfec "bash --norc --noprofile -i" /dev/null \
	    < <(while IFS= read -r l; do printf '%s\n' "$l"; sleep 0.02; done \
	    <"$K/FTD-1.sh"; echo 'exit $?')
	assert_output --partial "sfca kit FTD-1: installed in $LAB/hosts/FTD-1/root/var/sf/peers/$FU, sftunnel restarted"
	until_ok 30 up FTD-1
	cmp "$F/etc/sf/ca_root/cacert.pem" "$d/cacert.pem"
	for f in cacert.pem sftunnel-cert.pem sftunnel-key.pem; do
		cmp "$LAB/old/FTD-1/$f" "$d/$f.backup"
		! cmp -s "$d/$f" "$d/$f.backup"
	done
	assert_equal "$(stat -c '%a %U' "$d/sftunnel-key.pem" "$d/cacert.pem" "$d/sftunnel-cert.pem")" "600 root
644 root
644 root"
	assert_equal "$(ls -A "$d" | grep -c sfca)" 0
}

@test "copy_sftunnel_certs: -K with a CSV names each kit after its row, skips a row that is no peer, and sh FILE brings the device back" {
	local csv=$BATS_TEST_TMPDIR/d.csv k2=$BATS_TEST_TMPDIR/k2
	(umask 077; printf '%s\n' \
	    "../FTD 2,$(addr FTD-2),admin,pw" \
	    "FMCpri,$(addr FMCpri),admin,pw" >"$csv")
	run -0 copy_sftunnel_certs -r "$F" --kit "$k2" "$csv"
	assert_line --index 0 --regexp "^\.\./FTD\\\\s2 \(127\.66\.1\.2, $(uuid FTD-2)\): $k2/_\._FTD_2\.sh, [0-9]+ bytes\$"
	assert_line --index 1 "FMCpri (127.66.0.1): not a peer of this FMC by address: no kit"
	assert_equal "$(ls -A "$k2")" "_._FTD_2.sh"
	run ! up FTD-2
	run -0 on FTD-2 sh "$k2/_._FTD_2.sh"
	assert_output "sfca kit _._FTD_2: installed in $LAB/hosts/FTD-2/root/var/sf/peers/$FU, sftunnel restarted"
	until_ok 30 up FTD-2
	cmp "$F/etc/sf/ca_root/cacert.pem" "$(peerdir FTD-2)/cacert.pem"
	# run again, it puts the same files back and the tunnel comes up again
	run -0 on FTD-2 sh "$k2/_._FTD_2.sh"
	until_ok 30 up FTD-2
}

@test "copy_sftunnel_certs: -K refuses a folder that is a link or not root's, and a usage without a folder" {
	local t=$BATS_TEST_TMPDIR
	mkdir "$t/real"
	ln -s real "$t/link"
	run -1 copy_sftunnel_certs -r "$F" -K "$t/link"
	assert_output "copy_sftunnel_certs: $t/link: a symbolic link, owned by root (uid 0): refused"
	assert_equal "$(ls -A "$t/real")" ""
	mkdir -m 700 "$t/theirs"
	chown 65534:65534 "$t/theirs"
	run -1 copy_sftunnel_certs -r "$F" -K "$t/theirs"
	assert_output "copy_sftunnel_certs: $t/theirs: owned by nobody (uid 65534), not by root: refused"
	assert_equal "$(ls -A "$t/theirs")" ""
	run -2 copy_sftunnel_certs -r "$F" -K "$t/k" a.csv b.csv
	run -2 copy_sftunnel_certs -r "$F" -n -K "$t/k"
	assert_file_not_exist "$t/k"
}

@test "copy_sftunnel_certs: after generate_certs --extend a kit carries no key, refuses a device whose key is another, and installs the two public files onto the device's key" {
	local csv=$BATS_TEST_TMPDIR/d.csv k3=$BATS_TEST_TMPDIR/k3 d key ks before
	d=$(peerdir FTD-3)
	key=$d/sftunnel-key.pem
	cp "$d/cacert.pem" "$BATS_TEST_TMPDIR/oldca.pem"
	cp "$d/sftunnel-cert.pem" "$BATS_TEST_TMPDIR/oldcert.pem"
	# seen down first, so that no push waits in its socket for the heal
	lab -d "$LAB" cut FTD-3
	lab -d "$LAB" wait-down -t 20 FTD-3
	run -0 generate_certs -r "$F" -e -y -t 5
	assert_line "Failed to push to FTD-3 = /var/sf/peers/$FU/cacert.pem"
	assert_line "Failed to push to FTD-3 = /var/sf/peers/$FU/sftunnel-cert.pem"
	lab -d "$LAB" heal FTD-3
	(umask 077; printf 'FTD-3,%s,admin,pw\n' "$(addr FTD-3)" >"$csv")
	run -0 copy_sftunnel_certs -r "$F" -K "$k3" "$csv"
	assert_output --regexp "^FTD-3 \(127\.66\.1\.3, $(uuid FTD-3)\): $k3/FTD-3\.sh, [0-9]+ bytes\$"
	run ! grep -q "PRIVATE KEY" "$k3/FTD-3.sh"
	run ! grep -q "^K=" "$k3/FTD-3.sh"
	grep -q "^# Files: cacert.pem sftunnel-cert.pem " "$k3/FTD-3.sh"
	# a device that holds another key than its certificate's: refused
	cp -p "$key" "$BATS_TEST_TMPDIR/key.pem"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key" 2>/dev/null
	before=$(treesum FTD-3)
	run -2 on FTD-3 sh "$k3/FTD-3.sh"
	assert_output "sfca kit FTD-3: refused: $LAB/hosts/FTD-3/root/var/sf/peers/$FU/sftunnel-key.pem is another key than the one of its renewed certificate; nothing changed"
	assert_equal "$(treesum FTD-3)" "$before"
	# its own key back: the two public files go, the key is not written
	cp -p "$BATS_TEST_TMPDIR/key.pem" "$key"
	ks=$(stat -c '%i %Z %a' "$key"; sha256sum <"$key")
	run -0 on FTD-3 sh "$k3/FTD-3.sh"
	assert_output "sfca kit FTD-3: installed in $LAB/hosts/FTD-3/root/var/sf/peers/$FU, sftunnel restarted"
	assert_equal "$(stat -c '%i %Z %a' "$key"; sha256sum <"$key")" "$ks"
	assert_file_not_exist "$key.backup"
	cmp "$F/etc/sf/ca_root/cacert.pem" "$d/cacert.pem"
	cmp "$F/var/sf/peers/$(uuid FTD-3)/sftunnel-cert.pem" "$d/sftunnel-cert.pem"
	cmp "$BATS_TEST_TMPDIR/oldca.pem" "$d/cacert.pem.backup"
	cmp "$BATS_TEST_TMPDIR/oldcert.pem" "$d/sftunnel-cert.pem.backup"
	until_ok 30 up FTD-3
}
