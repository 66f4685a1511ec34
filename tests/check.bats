#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# check.bats -- copy_sftunnel_certs --check and copy_sftunnel_certs_jumpserver
# --check: a read-only look at every device, against a lab with real sshds

load helpers

setup_file() {
	LAB=$(sfca_scratch)/lab
	export LAB
	lab -d "$LAB" up -H -n 5 -k ec -b 127.66 >/dev/null 3>&- || return 1
	F=$LAB/hosts/FMCpri/root
	FU=$(sfca_host FMCpri 4)
	export F FU
	KH=$LAB/known_hosts
	for h in $(awk '!/^#/ { print $1 }' "$LAB/hosts.txt"); do
		"$SFCA_TOP/tests/lab/ssh/sshd-host" known-hosts "$LAB" "$h" ||
		    return 1
	done >"$KH"
	export KH
	# FTD-1 misses the renewal: it keeps the old CA and files.
	lab -d "$LAB" cut FTD-1 || return 1
	generate_certs -r "$F" -y >/dev/null 2>&1 3>&- || return 1
	"$SFCA_TOP/tests/lab/ssh/sshd-host" cont "$LAB" FTD-1 >/dev/null ||
	    return 1
	# FTD-3 lies: it says it is FTD-4.
	sed -i "s/^APPLIANCE_UUID=.*/APPLIANCE_UUID=$(sfca_host FTD-4 4)/" \
	    "$LAB/hosts/FTD-3/root/etc/sf/ims.conf" || return 1
	# FTD-4's clock is 10 minutes ahead; FTD-1 and FTD-4 log every
	# command their root shells run.
	echo 600 >"$LAB/hosts/FTD-4/clock-skew"
	touch "$LAB/hosts/FTD-1/audit" "$LAB/hosts/FTD-4/audit"
	for h in FTD-1 FTD-4; do
		"$SFCA_TOP/tests/lab/ssh/sshd-host" down "$LAB" "$h" >/dev/null &&
		    "$SFCA_TOP/tests/lab/ssh/sshd-host" up "$LAB" "$h" \
		    >/dev/null 3>&- || return 1
	done
	# FTD-2 answers TCP but says nothing (sshd and daemon stopped).
	lab -d "$LAB" cut FTD-2 || return 1
}

teardown_file() {
	[ -n "${LAB-}" ] && lab -d "$LAB" down --purge >/dev/null 3>&- || true
	[ -n "${LAB-}" ] && rm -rf "$(dirname "$LAB")" || true
}

# a listener a test started (SINK, its pid) ends with the test
teardown() {
	[ -z "${SINK-}" ] || kill "$SINK" 2>/dev/null || true
}

pw() { awk -v n="$1" '$1 == n { print $2 }' "$LAB/passwords"; }
addr() { sfca_host "$1" 3; }

# mkcsv HOST...: a 0600 CSV with those hosts (GHOST: an address where
# nothing listens)
mkcsv() {
	local h
	(umask 077; for h in "$@"; do
		if [ "$h" = GHOST ]; then
			echo 'GHOST,127.66.9.9,admin,"x"'
		else
			printf '%s,%s,admin,"%s"\n' "$h" "$(addr "$h")" "$(pw "$h")"
		fi
	done >"$BATS_TEST_TMPDIR/d.csv")
	CSV=$BATS_TEST_TMPDIR/d.csv
}

# A known_hosts in which FTD-5's address carries FMCsec's keys.
kh_changed() {
	grep -v "^$(addr FTD-5) " "$KH" >"$BATS_TEST_TMPDIR/kh"
	sed -n "s/^$(addr FMCsec) /$(addr FTD-5) /p" "$KH" >>"$BATS_TEST_TMPDIR/kh"
	echo "$BATS_TEST_TMPDIR/kh"
}

# trees: every entry of every host's appliance tree (type, mode, owner,
# size, path) and the SHA-256 of every regular file, but for what the
# tunnel daemons change by themselves (logs, run folder, heartbeats)
trees() {
	local h r
	for h in $(awk '!/^#/ { print $1 }' "$LAB/hosts.txt"); do
		r=$LAB/hosts/$h/root
		(cd "$r" && find . \( -path ./var/log -o -path ./var/sf/run -o \
		    -path ./ngfw/var/log -o -path ./ngfw/var/sf/run -o \
		    -path ./proc -o -path ./dev \) -prune -o \
		    ! -name sftunnel-heartbeat -printf '%y %m %u %g %s %p\n' |
		    sort)
		(cd "$r" && find . \( -path ./var/log -o -path ./var/sf/run -o \
		    -path ./ngfw/var/log -o -path ./ngfw/var/sf/run -o \
		    -path ./proc -o -path ./dev \) -prune -o -type f \
		    ! -name sftunnel-heartbeat -print0 | sort -z |
		    xargs -0 -r sha256sum)
	done | sha256sum
}

# audit_rw HOST: the commands HOST's root shells ran that are not
# read-only: an external command outside the check's few, or a
# redirection into anything but /dev/null or another descriptor
audit_rw() {
	grep -aE $'^(file|builtin|function|keyword|none)\t' \
	    "$LAB/hosts/$1/ssh/tmp/audit" | awk -F'\t' '
	{
		cmd = $2
		if ($1 == "file") {
			split(cmd, w, /[ \t]/)
			n = split(w[1], p, "/")
			if (p[n] !~ /^(stty|base64|bash|date|grep|head|wc|sha256sum|df|openssl)$/)
				print "ran: " cmd
		}
		s = cmd
		while (match(s, />+ *[^ &);|]+/)) {
			t = substr(s, RSTART, RLENGTH)
			sub(/^>+ */, "", t)
			if (t != "/dev/null")
				print "writes: " cmd
			s = substr(s, RSTART + RLENGTH)
		}
	}'
}

@test "check: every verdict in one run, and nothing changed on any device" {
	local before khb kh
	kh=$(kh_changed)
	mkcsv FMCpri FMCsec FTD-1 FTD-2 FTD-3 FTD-4 FTD-5 GHOST
	: >"$LAB/hosts/FTD-1/ssh/tmp/audit"
	: >"$LAB/hosts/FTD-4/ssh/tmp/audit"
	before=$(trees)
	khb=$(sha256sum <"$kh")
	run -4 copy_sftunnel_certs -r "$F" -k "$kh" -t 3 --check "$CSV"
	assert_output --regexp 'FMCpri +127\.66\.0\.1 +current +known .*an FMC, not the HA peer: the copy skips it'
	assert_output --regexp 'FMCsec +127\.66\.0\.2 +current +known +\+0 +current +[0-9-]{10} +[0-9]+ +CA and certificate current'
	assert_output --regexp 'FTD-1 +127\.66\.1\.1 +copy +known +\+0 +older +[0-9-]{10} +[0-9]+ +its CA is an older one of this FMC; its certificate does not chain to the current CA'
	assert_output --regexp 'FTD-2 +127\.66\.1\.2 +unreachable +- .*no banner: could not connect to FTD-2 \(127\.66\.1\.2\)'
	assert_output --partial 'Could not connect to FTD-2: no banner'
	assert_output --regexp "FTD-3 +127\\.66\\.1\\.3 +refused +known .*FTD-3 \\(127\\.66\\.1\\.3\\) says it is $(sfca_host FTD-4 4), the FMC's FTD-4 at 127\\.66\\.1\\.4.*: refused"
	assert_output --regexp 'FTD-4 +127\.66\.1\.4 +current +known +\+(599|600)! +current '
	assert_output --regexp "Clock of FTD-4: \\+(599|600) s against the FMC \\(WARNING: more than 5 minutes\\)"
	assert_output --regexp 'FTD-5 +127\.66\.1\.5 +refused +changed .*host key for FTD-5 \(127\.66\.1\.5\) has changed: not logged in'
	assert_output --regexp 'GHOST +127\.66\.9\.9 +unreachable .* refused: could not connect to GHOST \(127\.66\.9\.9\): Connection refused'
	assert_output --partial 'Could not connect to GHOST: refused'
	assert_output --partial '3 current, 1 to copy, 2 unreachable, 2 refused'
	# the CA line: its fingerprint as openssl prints it, its kind
	fp=$(openssl x509 -in "$F/etc/sf/ca_root/cacert.pem" -noout \
	    -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f)
	assert_output --partial "CA /var/sf/peers/$FU/cacert.pem: SHA-256 $fp, expires"
	# nothing changed: trees, known_hosts, and what the root shells ran
	[ "$(trees)" = "$before" ]
	[ "$(sha256sum <"$kh")" = "$khb" ]
	run -0 audit_rw FTD-1
	assert_output ''
	run -0 audit_rw FTD-4
	assert_output ''
	# the check did run there: its reads are in the log
	run -0 grep -c $'^file\tsha256sum' "$LAB/hosts/FTD-4/ssh/tmp/audit"
	refute_output 0
}

@test "check: --json is one JSON document with the same facts" {
	local kh
	kh=$(kh_changed)
	mkcsv FMCpri FMCsec FTD-1 FTD-2 FTD-3 FTD-4 FTD-5 GHOST
	run -4 --separate-stderr copy_sftunnel_certs -r "$F" -k "$kh" -t 3 -c -J "$CSV"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out.json"
	# the blocks went to stderr, as for the copy's -J
	grep -q 'Closing connection with FTD-4' <<<"$stderr"
	run -0 python3 -m json.tool "$BATS_TEST_TMPDIR/out.json"
	run -0 python3 - "$BATS_TEST_TMPDIR/out.json" "$FU" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["fmc"]["uuid"] == sys.argv[2], d["fmc"]
v = {x["name"]: x for x in d["devices"]}
for n, want in [("FMCpri", "current"), ("FMCsec", "current"),
    ("FTD-1", "copy"), ("FTD-2", "unreachable"), ("FTD-3", "refused"),
    ("FTD-4", "current"), ("FTD-5", "refused"), ("GHOST", "unreachable")]:
    assert v[n]["verdict"] == want, (n, v[n])
assert v["FTD-1"]["ca"] == "older" and v["FTD-1"]["cert_chains_to_current_ca"] is False
assert v["FTD-4"]["ca"] == "current" and v["FTD-4"]["cert_chains_to_current_ca"] is True
assert v["FTD-4"]["key_issued_by_fmc"] is True and v["FTD-4"]["free_kib"] > 0
assert v["FTD-4"]["clock_warning"] is True and 599 <= v["FTD-4"]["clock_skew_s"] <= 600
assert v["FTD-1"]["clock_warning"] is False
assert v["FTD-3"]["address_matches"] is False and v["FTD-3"]["uuid_registered"] is True
assert v["FTD-5"]["host_key"] == "changed" and v["FTD-5"]["logged_in"] is None
assert v["FTD-2"]["unreachable_why"] == "no banner" and v["FTD-2"]["reachable"] is False
assert v["GHOST"]["unreachable_why"] == "refused"
assert v["FMCsec"]["folder"].endswith("/from_peer")
assert d["summary"] == {"current": 3, "copy": 1, "unreachable": 2, "refused": 2}
assert d["status"] == 4
PY
}

@test "check: an unknown host key is reported, not recorded without -A" {
	local khb
	mkcsv FTD-4
	grep -v "^$(addr FTD-4) " "$KH" >"$BATS_TEST_TMPDIR/kh"
	khb=$(sha256sum <"$BATS_TEST_TMPDIR/kh")
	run -4 copy_sftunnel_certs -r "$F" -k "$BATS_TEST_TMPDIR/kh" --check "$CSV"
	assert_output --regexp 'FTD-4 +127\.66\.1\.4 +refused +new .*host key SHA256:[A-Za-z0-9+/]+ of FTD-4 \(127\.66\.1\.4\) is not known: not logged in \(-A records it\)'
	[ "$(sha256sum <"$BATS_TEST_TMPDIR/kh")" = "$khb" ]
	run -0 copy_sftunnel_certs -r "$F" -k "$BATS_TEST_TMPDIR/kh" -A --check "$CSV"
	assert_output --regexp 'FTD-4 +127\.66\.1\.4 +current +recorded '
	run -0 grep -c "^$(addr FTD-4) " "$BATS_TEST_TMPDIR/kh"
	refute_output 0
}

@test "check: a refused password is reported and tried once" {
	local log n
	mkcsv FTD-4
	sed -i '1s/,"[^"]*"$/,"wrong"/' "$CSV"
	log=$LAB/hosts/FTD-4/ssh/sshd.log
	n=$(grep -cE 'Failed (password|keyboard-interactive)' "$log" || true)
	run -4 copy_sftunnel_certs -r "$F" -k "$KH" --check "$CSV"
	assert_output --regexp 'FTD-4 +127\.66\.1\.4 +refused +known .*login to FTD-4 refused: wrong login or password \(not tried again\)'
	refute_output --partial '"wrong"'
	run -0 grep -cE 'Failed (password|keyboard-interactive)' "$log"
	assert_output "$((n + 1))"
}

@test "check: a device whose address drops every connection attempt is unreachable, timeout" {
	(umask 077; echo 'SILENT,127.66.9.8,admin,"x"' >"$BATS_TEST_TMPDIR/d.csv")
	CSV=$BATS_TEST_TMPDIR/d.csv
	# a listener that never accepts, its one-place queue filled: the
	# kernel drops every further SYN, as a filtered address does
	python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.66.9.8", 22))
s.listen(0)
f = socket.create_connection(("127.66.9.8", 22), timeout=5)
print("ready", flush=True)
time.sleep(120)
' >"$BATS_TEST_TMPDIR/sink" 3>&- &
	SINK=$!
	for _ in $(seq 50); do
		grep -q ready "$BATS_TEST_TMPDIR/sink" && break
		sleep 0.1
	done
	# the address does drop a connection attempt (else the test is moot)
	run -1 python3 -c '
import socket
try:
    socket.create_connection(("127.66.9.8", 22), timeout=1)
except socket.timeout:
    raise SystemExit(1)
'
	run -4 copy_sftunnel_certs -r "$F" -k "$KH" -t 2 --check "$CSV"
	assert_output --regexp 'SILENT +127\.66\.9\.8 +unreachable .* timeout: could not connect to SILENT \(127\.66\.9\.8\)'
	assert_output --partial 'Could not connect to SILENT: timeout'
	run -4 --separate-stderr copy_sftunnel_certs -r "$F" -k "$KH" -t 2 --check -J "$CSV"
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])["devices"][0]
assert d["verdict"] == "unreachable" and d["unreachable_why"] == "timeout", d
assert d["reachable"] is False, d
' "$output"
}

@test "check: usage: neither --json nor --check goes with --dry-run" {
	mkcsv FTD-4
	run -2 copy_sftunnel_certs -r "$F" -J -n "$CSV"
	run -2 copy_sftunnel_certs -r "$F" -c -n "$CSV"
	run -2 copy_sftunnel_certs -r "$F" -cJ -n "$CSV"
	run -2 copy_sftunnel_certs_jumpserver -J -n "$CSV"
	run -2 copy_sftunnel_certs_jumpserver -c -n "$CSV"
}

@test "copy_sftunnel_certs_jumpserver: --check from a jump host, the FMC's clock and files" {
	local before
	(umask 077
	printf '%s,%s,admin,"%s",fmc\n' FMCpri "$(addr FMCpri)" "$(pw FMCpri)"
	for h in FTD-1 FTD-3 FTD-4; do
		printf '%s,%s,admin,"%s"\n' "$h" "$(addr "$h")" "$(pw "$h")"
	done) >"$BATS_TEST_TMPDIR/j.csv"
	before=$(trees)
	run -4 copy_sftunnel_certs_jumpserver -k "$KH" --check "$BATS_TEST_TMPDIR/j.csv"
	assert_output --partial "Fetched certificates for"
	assert_output --regexp 'FTD-1 +127\.66\.1\.1 +copy +known .* older '
	assert_output --regexp 'FTD-3 +127\.66\.1\.3 +refused '
	assert_output --regexp 'FTD-4 +127\.66\.1\.4 +current +known +\+(599|600)! +current '
	refute_output --regexp 'FMCpri +127\.66\.0\.1 '
	run -4 --separate-stderr copy_sftunnel_certs_jumpserver -k "$KH" -cJ "$BATS_TEST_TMPDIR/j.csv"
	printf '%s\n' "$output" | python3 -m json.tool >/dev/null
	[ "$(trees)" = "$before" ]
}

@test "check: after the copy, the device that needed it is current" {
	mkcsv FTD-1
	lab -d "$LAB" heal FTD-1
	: >"$LAB/hosts/FTD-1/ssh/tmp/audit"
	run -0 copy_sftunnel_certs -r "$F" -k "$KH" -w 30 "$CSV"
	# the audit sees what a copy writes: it would see a check's
	run -0 audit_rw FTD-1
	assert_output --regexp 'ran: (mv|rm|dd|cp)'
	mkcsv FTD-1 FTD-4 FMCsec
	run -0 copy_sftunnel_certs -r "$F" -k "$KH" --check "$CSV"
	assert_output --regexp 'FTD-1 +127\.66\.1\.1 +current +known +\+0 +current '
	assert_output --partial '3 current, 0 to copy, 0 unreachable, 0 refused'
}

@test "check: a CA renewed on its key (--extend) is told from an older one" {
	mkcsv FTD-4 FTD-1
	lab -d "$LAB" cut FTD-4
	generate_certs -r "$F" --extend -y >/dev/null 2>&1 3>&-
	"$SFCA_TOP/tests/lab/ssh/sshd-host" cont "$LAB" FTD-4 >/dev/null
	run -3 copy_sftunnel_certs -r "$F" -k "$KH" --check "$CSV"
	assert_output --regexp 'FTD-4 +127\.66\.1\.4 +copy +known +\+(599|600)! +renewed .*its CA is this FMC.s key before the renewal'
	assert_output --partial '1 current, 1 to copy, 0 unreachable, 0 refused'
}
