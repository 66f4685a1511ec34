#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# devices_csv.bats -- devices.csv(5) as copy_sftunnel_certs reads it (--dry-run)

load helpers

setup() {
	D=$(sfca_scratch)
	sfca_mktree "$D/lab" -n 2 -k ec >/dev/null
	R=$D/lab/hosts/FMCpri/root
	CSV=$D/devices.csv
}

teardown() {
	rm -rf "$D"
}

# csv TEXT: write CSV (printf-interpreted) with mode 0600
csv() {
	(umask 077; printf "$1" >"$CSV")
}

@test "devices.csv: BOM, CRLF, comments, blanks, spaces and quotes are accepted" {
	csv '\xef\xbb\xbf#device_name,ipaddr,login,password\r\n\r\n  # a comment\r\n FTD-1 , 127.9.1.1 , admin , "pa,ss""word" \r\n\r\nFTD-2,127.9.1.2,admin,plain\r\n"FMC x",127.9.0.1,admin,"a b",fmc\r\n'
	run -0 copy_sftunnel_certs -n -r "$R" "$CSV"
	assert_line --partial "$CSV:4: FTD-1 127.9.1.1 as admin"
	assert_line --partial "$CSV:6: FTD-2 127.9.1.2 as admin"
	assert_line --partial "$CSV:7: FMC\\sx 127.9.0.1 as admin"
	refute_output --partial 'pa,ss'
	refute_output --partial 'plain'
}

@test "devices.csv: the jump host reads the fmc mark" {
	csv 'FMCpri,127.9.0.1,admin,x,fmc\nFTD-1,127.9.1.1,admin,"y,z"\n'
	run -0 copy_sftunnel_certs_jumpserver -n "$CSV"
	assert_line "$CSV:1: FMCpri 127.9.0.1 as admin: the FMC (certificates are fetched from it)"
	assert_line "$CSV:2: FTD-1 127.9.1.1 as admin: device"
}

@test "devices.csv: no row marked fmc is a usage error for the jump host" {
	csv 'FMCpri,127.9.0.1,admin,x\n'
	run -2 copy_sftunnel_certs_jumpserver "$CSV"
	assert_output --partial "no row is marked fmc"
}

@test "devices.csv: two rows marked fmc name the second line" {
	csv 'A,127.9.0.1,admin,x,fmc\nB,127.9.0.2,admin,x,FMC\n'
	run -2 copy_sftunnel_certs_jumpserver "$CSV"
	assert_output --partial "$CSV:2: a second row marked fmc"
}

@test "devices.csv: a malformed line is an error naming file and line, before any device" {
	csv 'FTD-1,127.9.1.1,admin,x\n# fine\nFTD-2,127.9.1.2,admin\n'
	run -2 copy_sftunnel_certs -r "$R" -t 1 "$CSV"
	assert_output "copy_sftunnel_certs: $CSV:3: expected device_name,ipaddr,login,password"
	refute_output --partial Attempting
}

@test "devices.csv: each kind of bad line is named" {
	local bad
	for bad in 'A,127.9.1.1,admin,"unterminated' 'A,not-an-ip,admin,x' \
	    'A,127.9.1.1,admin,' 'A,127.9.1.1,admin,x,router' \
	    'A,127.9.1.1,admin,x"y' 'A,127.9.1.1,admin,"x" y' \
	    ',127.9.1.1,admin,x' 'A,127.9.1.1,admin,x,fmc,extra'; do
		csv "# head\n$bad\n"
		run -2 copy_sftunnel_certs -n -r "$R" "$CSV"
		assert_output --partial "$CSV:2: "
	done
	csv 'A,127.9.1.1,admin,x\nA,127.9.1.2,admin,y\n'
	run -2 copy_sftunnel_certs -n -r "$R" "$CSV"
	assert_output "copy_sftunnel_certs: $CSV:2: duplicate device name A (also on line 1)"
	csv '# only comments\n\n'
	run -2 copy_sftunnel_certs -n -r "$R" "$CSV"
	assert_output --partial "$CSV: no devices"
}

@test "devices.csv: invalid UTF-8 in any field is an error naming file and line" {
	local row
	for row in 'B\xff,127.9.1.2,admin,y:device_name' \
	    'B,127.9.1.2,admin\xc3,y:login' 'B,127.9.1.2,admin,y\xc0\xaf:password' \
	    'B,127.9.1.2,admin,"\xed\xa0\x80":password' \
	    'B,127.9.1.2,admin,y,fmc\xf4\x90\x80\x80:role'; do
		csv "A,127.9.1.1,admin,x\n${row%:*}\n"
		run -2 copy_sftunnel_certs -n -r "$R" "$CSV"
		assert_output "copy_sftunnel_certs: $CSV:2: invalid UTF-8 in ${row##*:}"
	done
	# valid UTF-8 is a name like any other, and printed encoded
	csv 'Z\xc3\xbcrich,127.9.1.1,admin,p\xc3\xa4ss\n'
	run -0 copy_sftunnel_certs -n -r "$R" "$CSV"
	assert_line --partial "$CSV:1: Z\\303\\274rich 127.9.1.1 as admin"
}

@test "devices.csv: a bad row beside a good one touches no device" {
	csv 'FTD-1,127.9.1.1,admin,x\nFTD-2\xff,127.9.1.2,admin,y\n'
	run -2 copy_sftunnel_certs -r "$R" -t 1 "$CSV"
	assert_output "copy_sftunnel_certs: $CSV:2: invalid UTF-8 in device_name"
	csv 'FMCpri,127.9.0.1,admin,x,fmc\nFTD-1,127.9.1.1,admin,y\nFTD-2,127.9.1.2,admin,\xff\n'
	run -2 copy_sftunnel_certs_jumpserver -t 1 "$CSV"
	assert_output "copy_sftunnel_certs_jumpserver: $CSV:3: invalid UTF-8 in password"
}

@test "devices.csv: a NUL byte is reported with its line" {
	csv 'A,127.9.1.1,admin,x\n# comment\nB,127.9.1.2,ad\0min,y\n'
	run -2 copy_sftunnel_certs -n -r "$R" "$CSV"
	assert_output "copy_sftunnel_certs: $CSV:3: NUL byte"
	csv 'A,127.9.1.1,admin,x\n# a comment \0 too\n'
	run -2 copy_sftunnel_certs -n -r "$R" "$CSV"
	assert_output "copy_sftunnel_certs: $CSV:2: NUL byte"
}

@test "devices.csv: a duplicate name names both lines, the earliest duplicate first" {
	csv 'A,127.9.1.1,admin,x\nB,127.9.1.2,admin,x\n#\nC,127.9.1.3,admin,x\nB,127.9.1.4,admin,x\nA,127.9.1.5,admin,x\nB,127.9.1.6,admin,x\n'
	run -2 copy_sftunnel_certs -n -r "$R" "$CSV"
	assert_output "copy_sftunnel_certs: $CSV:5: duplicate device name B (also on line 2)"
}

# 1 MB of 95,000 short unique rows took 15 s when each name was compared
# with every earlier one; the parse is n log n now (well under 1 s), and
# timeout stands for "not quadratic" with a wide margin for a slow box.
@test "devices.csv: 95,000 rows in 1 MB are read in near-linear time" {
	(umask 077; awk 'BEGIN {
		a = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		for (i = 0; i < 95000; i++)
			printf "%s%s%s,::,a,p\n", substr(a, int(i / 3844) + 1, 1),
			    substr(a, int(i / 62) % 62 + 1, 1), substr(a, i % 62 + 1, 1)
	}' >"$CSV")
	[ "$(stat -c %s "$CSV")" -le 1048576 ]
	# into a file: bats' run would split 95,002 lines in bash (the FMC,
	# the files it would copy, a line per row)
	timeout 20 copy_sftunnel_certs -n -r "$R" "$CSV" >"$D/plan" 2>&1
	[ "$(wc -l <"$D/plan")" -eq 95002 ]
	[ "$(tail -n 1 "$D/plan")" = "$CSV:95000: oIf :: as a: not a peer of this FMC by address" ]
	# one duplicate at the end is still found, naming both lines
	printf '00y,::,a,p\n' >>"$CSV"
	run -2 timeout 20 copy_sftunnel_certs -n -r "$R" "$CSV"
	assert_output "copy_sftunnel_certs: $CSV:95001: duplicate device name 00y (also on line 35)"
}

@test "devices.csv: readable by others is warned about, once" {
	csv 'FTD-1,127.9.1.1,admin,x\n'
	chmod 644 "$CSV"
	run -0 copy_sftunnel_certs -n -r "$R" "$CSV"
	assert_line "copy_sftunnel_certs: $CSV: readable by group or others (chmod 600 it): it holds passwords"
	chmod 600 "$CSV"
	run -0 copy_sftunnel_certs -n -r "$R" "$CSV"
	refute_output --partial readable
}

@test "devices.csv: usage and version" {
	run -2 copy_sftunnel_certs
	assert_output --partial "usage: copy_sftunnel_certs"
	run -0 copy_sftunnel_certs -h
	run -0 copy_sftunnel_certs -V
	assert_output "copy_sftunnel_certs (sfca) 0.1"
	run -0 copy_sftunnel_certs_jumpserver --version
	assert_output "copy_sftunnel_certs_jumpserver (sfca) 0.1"
	run -2 copy_sftunnel_certs -j 0 x.csv
}
