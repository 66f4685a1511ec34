#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# hostile.bats -- the suite against attackers: an unprivileged local user,
# a lying device, hostile bytes in the files it reads

load helpers

teardown() {
	if [ -n "${LAB-}" ] && [ -d "$LAB" ]; then
		lab -d "$LAB" down --purge >/dev/null 3>&- || true
	fi
	if [ -n "${D-}" ]; then
		rm -rf "$D"
	fi
}

# ---------------------------------------------------------------------
# Untrusted bytes: names, device output and the files of a tree
# (escape sequences, FIFOs, symbolic links)
# ---------------------------------------------------------------------

untrusted_setup() {
	D=$(sfca_scratch)
	LAB=$D/lab
	sfca_mktree "$LAB" -n 2 -k ec >/dev/null
	R=$LAB/hosts/FMCpri/root
	CSV=$D/devices.csv
}

@test "hostile: a devices.csv name with an escape sequence is refused, shown encoded" {
	untrusted_setup
	(umask 077; printf 'FTD-1,127.9.1.1,admin,x\nFTD\033[2J\033]0;pwned\a,127.9.1.2,admin,y\n' >"$CSV")
	run -2 copy_sftunnel_certs -r "$R" -t 1 "$CSV"
	assert_output 'copy_sftunnel_certs: '"$CSV"':2: bad device name "FTD\033[2J\033]0;pwned\a"'
	refute_output --partial $'\033'
	refute_output --partial Attempting
}

# sha256 of every file and link under the folders that hold keys and
# certificates (logs and lock files aside), and their listing
untrusted_sum() {
	(cd "$1" && find etc var/sf -xdev ! -name '*.lock' | LC_ALL=C sort |
	    while IFS= read -r f; do
		if [ -L "$f" ]; then echo "L $f $(readlink "$f")"
		elif [ -f "$f" ]; then echo "F $f $(sha256sum <"$f")"
		else echo "$(stat -c %F "$f") $f"; fi
	    done) | sha256sum
}

@test "hostile: a FIFO in place of cacert.pem is refused at once, by every command that reads it" {
	untrusted_setup
	local ca=$R/etc/sf/ca_root/cacert.pem before
	rm "$ca"
	mkfifo -m 644 "$ca"
	before=$(untrusted_sum "$R")
	run -1 timeout 10 check_ca_expiry -r "$R"
	assert_output "check_ca_expiry: $ca: not a regular file"
	run -3 timeout 10 check_ca_expiry -H -r "$R"
	assert_line --partial "$ca: not a regular file"
	run -1 timeout 10 sftunnel_status -r "$R"
	assert_line "sftunnel_status: $ca: not a regular file"
	assert_line "CA expiry: missing or unreadable"
	run -1 timeout 10 generate_certs -y -r "$R"
	assert_line "generate_certs: $ca: not a regular file"
	run -1 timeout 10 generate_certs -e -y -r "$R"
	assert_line "generate_certs: $ca: not a regular file"
	(umask 077; printf 'FTD-1,127.77.1.1,admin,x\n' >"$CSV")
	run -1 timeout 10 copy_sftunnel_certs -n -r "$R" "$CSV"
	assert_output "copy_sftunnel_certs: $ca: not a regular file"
	[ "$(untrusted_sum "$R")" = "$before" ]
	[ -p "$ca" ]
}

@test "hostile: a FIFO in place of a peer's file or of ims.conf is refused at once" {
	untrusted_setup
	local u f
	u=$(sfca_host FTD-1 4)
	f=$R/var/sf/peers/$u/sftunnel-cert.pem
	rm "$f"
	mkfifo "$f"
	(umask 077; printf 'FTD-1,127.77.1.1,admin,x\n' >"$CSV")
	run -1 timeout 10 copy_sftunnel_certs -n -r "$R" "$CSV"
	assert_output "copy_sftunnel_certs: $f: not a regular file"
	run -1 timeout 10 sftunnel_status -r "$R"
	assert_line "sftunnel_status: $f: not a regular file"
	f=$D/lab/hosts/FTD-1/root/ngfw/var/sf/peers/$(sfca_host FMCpri 4)/cacert.pem
	rm "$f"
	mkfifo "$f"
	run -1 timeout 10 check_ca_expiry -r "$D/lab/hosts/FTD-1/root"
	assert_output --partial "$(basename "$f"): not a regular file"
	f=$R/etc/sf/ims.conf
	rm "$f"
	mkfifo "$f"
	run -2 timeout 10 sftunnel_status -r "$R"
	assert_output --partial "ims.conf: not a regular file"
}

@test "hostile: a symbolic link in place of a certificate or key is refused, not followed" {
	untrusted_setup
	local ca=$R/etc/sf/ca_root/cacert.pem u f before
	mv "$ca" "$D/elsewhere.pem"
	ln -s "$D/elsewhere.pem" "$ca"
	before=$(untrusted_sum "$R")
	run -1 check_ca_expiry -r "$R"
	assert_output "check_ca_expiry: $ca: is a symbolic link"
	run -1 sftunnel_status -r "$R"
	assert_line "sftunnel_status: $ca: is a symbolic link"
	run -1 generate_certs -y -r "$R"
	assert_line "generate_certs: $ca: is a symbolic link"
	[ "$(untrusted_sum "$R")" = "$before" ]
	rm "$ca"
	mv "$D/elsewhere.pem" "$ca"
	# a peer's key, linked to another peer's
	u=$(sfca_host FTD-1 4)
	f=$R/var/sf/peers/$u/sftunnel-key.pem
	rm "$f"
	ln -s /etc/shadow "$f"
	(umask 077; printf 'FTD-1,127.77.1.1,admin,x\n' >"$CSV")
	run -1 copy_sftunnel_certs -n -r "$R" "$CSV"
	assert_output "copy_sftunnel_certs: $f: is a symbolic link"
	before=$(untrusted_sum "$R")
	run -1 generate_certs -y -r "$R"
	assert_line --partial "$f: is a symbolic link"
	[ "$(untrusted_sum "$R")" = "$before" ]
}

