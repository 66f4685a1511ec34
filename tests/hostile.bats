#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# hostile.bats -- the suite against attackers: an unprivileged local user,
# a lying device, hostile bytes in the files it reads

load helpers

# ---------------------------------------------------------------------
# Untrusted bytes: names, device output and the files of a tree
# (escape sequences, FIFOs, symbolic links)
# ---------------------------------------------------------------------

untrusted_setup() {
	D=$(sfca_scratch)
	sfca_mktree "$D/lab" -n 2 -k ec >/dev/null
	R=$D/lab/hosts/FMCpri/root
	CSV=$D/devices.csv
}

@test "hostile: a devices.csv name with an escape sequence is refused, shown encoded" {
	untrusted_setup
	(umask 077; printf 'FTD-1,127.9.1.1,admin,x\nFTD\033[2J\033]0;pwned\a,127.9.1.2,admin,y\n' >"$CSV")
	run -2 copy_sftunnel_certs -r "$R" -t 1 "$CSV"
	assert_output 'copy_sftunnel_certs: '"$CSV"':2: bad device name "FTD\033[2J\033]0;pwned\a"'
	refute_output --partial $'\033'
	refute_output --partial Attempting
	rm -rf "$D"
}
