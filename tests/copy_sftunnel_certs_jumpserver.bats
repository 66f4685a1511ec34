#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# copy_sftunnel_certs_jumpserver.bats -- from the lab's outside, the FMC over SSH

load helpers

setup_file() {
	LAB=$(sfca_scratch)
	export LAB
	lab -d "$LAB" up -H -n 3 -k ec -b 127.64 >/dev/null 3>&- || return 1
	F=$LAB/hosts/FMCpri/root
	FU=$(sfca_host FMCpri 4)
	export F FU
	# The FMC's PATH has our tools, as the hotfix installs them.
	mkdir -p "$F/usr/local/sf/bin"
	cp "$SFCA_BIN/sftunnel_status" "$F/usr/local/sf/bin/"
	KH=$LAB/known_hosts
	for h in $(awk '!/^#/ { print $1 }' "$LAB/hosts.txt"); do
		"$SFCA_TOP/tests/lab/ssh/sshd-host" known-hosts "$LAB" "$h" ||
		    return 1
	done >"$KH"
	export KH
	lab -d "$LAB" cut FTD-1 && lab -d "$LAB" cut FTD-2 || return 1
	generate_certs -r "$F" -y >/dev/null 2>&1 3>&-
	lab -d "$LAB" heal FTD-1 && lab -d "$LAB" heal FTD-2 || return 1
}

teardown_file() {
	[ -n "${LAB-}" ] && lab -d "$LAB" down --purge >/dev/null 3>&- || true
}

teardown() {
	# put back what a test changed on the FMC
	[ -e "$BATS_TEST_TMPDIR/ims.orig" ] &&
	    cat "$BATS_TEST_TMPDIR/ims.orig" >"$F/etc/sf/ims.conf"
	rm -rf "$F/var/sf/peers/00000000-0000-4000-8000-000000000000"
	[ -e "$BATS_TEST_TMPDIR/ims3.orig" ] && cat "$BATS_TEST_TMPDIR/ims3.orig" \
	    >"$LAB/hosts/FTD-3/root/etc/sf/ims.conf"
	rm -rf "$F/var/tmp/certs/9999999999"
	rm -f "$LAB/hosts/FTD-3/no-tunnel"
}

peerdir() { echo "$LAB/hosts/$1/root/ngfw/var/sf/peers/$FU"; }
pw() { awk -v n="$1" '$1 == n { print $2 }' "$LAB/passwords"; }

# mkcsv: FMCpri marked fmc, then the HA peer and the FTDs
mkcsv() {
	local h
	CSV=$BATS_TEST_TMPDIR/devices.csv
	(umask 077
	printf '# device_name,ipaddr,login,password,role\n'
	printf 'FMCpri,%s,admin,"%s",fmc\n' "$(sfca_host FMCpri 3)" "$(pw FMCpri)"
	for h in FMCsec FTD-1 FTD-2 FTD-3; do
		printf '%s,%s,admin,"%s"\n' "$h" "$(sfca_host "$h" 3)" "$(pw "$h")"
	done) >"$CSV"
}

@test "copy_sftunnel_certs_jumpserver: brings the devices back from a jump host" {
	mkcsv
	mkdir "$BATS_TEST_TMPDIR/cwd"
	cd "$BATS_TEST_TMPDIR/cwd"
	run -0 copy_sftunnel_certs_jumpserver -k "$KH" -w 60 "$CSV"
	assert_output --partial "Fetching certificates from FMCpri"
	assert_output --partial "Fetched certificates for 4 peers of FMCpri using /var/tmp/certs/"
	assert_output --partial "Successfully copied certificates to FMCsec"
	assert_output --partial "Successfully copied certificates to FTD-1"
	assert_output --regexp 'FTD-1 +127\.64\.1\.1 +done'
	assert_output --regexp 'FTD-2 +127\.64\.1\.2 +done'
	assert_output --regexp 'FMCsec +127\.64\.0\.2 +done'
	refute_output --partial "$(pw FMCpri)"
	cmp "$F/etc/sf/ca_root/cacert.pem" "$(peerdir FTD-1)/cacert.pem"
	cmp "$F/etc/sf/ca_root/cacert.pem" \
	    "$LAB/hosts/FMCsec/root/var/sf/peers/$FU/from_peer/cacert.pem"
	# nothing was left on the jump host
	run -0 ls -A "$BATS_TEST_TMPDIR/cwd"
	assert_output ""
	run -0 sftunnel_status -r "$F"
	refute_output --partial 'chains to current CA: No'
}

@test "copy_sftunnel_certs_jumpserver: --keep keeps the fetched files, keys 0600" {
	mkcsv
	SFCA_TEST_FETCHED=$BATS_TEST_TMPDIR/fetched \
	    run -0 copy_sftunnel_certs_jumpserver -k "$KH" -K "$BATS_TEST_TMPDIR/keep" -w 60 "$CSV"
	# after the vendor's renewal the FMC sends the keys (the test hook
	# the --extend test reads sees them)
	run -0 grep -c '/sftunnel-key\.pem$' "$BATS_TEST_TMPDIR/fetched"
	[ "$output" -ge 1 ]
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/keep")" = 700 ]
	cmp "$F/etc/sf/ca_root/cacert.pem" "$BATS_TEST_TMPDIR/keep/etc/sf/ca_root/cacert.pem"
	k=$(find "$BATS_TEST_TMPDIR/keep" -name sftunnel-key.pem | head -n 1)
	[ -n "$k" ]
	[ "$(stat -c %a "$k")" = 600 ]
}

@test "copy_sftunnel_certs_jumpserver: reads the FMC's files as generate_certs does" {
	local bad=00000000-0000-4000-8000-000000000000 fu
	CSV=$BATS_TEST_TMPDIR/devices.csv
	(umask 077
	printf 'FMCpri,%s,admin,"%s",fmc\n' "$(sfca_host FMCpri 3)" "$(pw FMCpri)"
	printf 'FTD-3,%s,admin,"%s"\n' "$(sfca_host FTD-3 3)" "$(pw FTD-3)"
	) >"$CSV"
	# spaces around '=' in the FMC's ims.conf
	cp "$F/etc/sf/ims.conf" "$BATS_TEST_TMPDIR/ims.orig"
	sed 's/^\([A-Z_]*\)=/\1 = /' "$BATS_TEST_TMPDIR/ims.orig" >"$F/etc/sf/ims.conf"
	run -0 copy_sftunnel_certs_jumpserver -k "$KH" -w 60 "$CSV"
	assert_output --partial "Fetched certificates for 4 peers of FMCpri"
	assert_output --regexp 'FTD-3 +127\.64\.1\.3 +done'
	cat "$BATS_TEST_TMPDIR/ims.orig" >"$F/etc/sf/ims.conf"
	# a sftunnel.json whose uuid is not its folder's is refused
	fu=$(sfca_host FTD-3 4)
	mkdir "$F/var/sf/peers/$bad"
	cp "$F/var/sf/peers/$fu/sftunnel.json" "$F/var/sf/peers/$bad/"
	run -1 copy_sftunnel_certs_jumpserver -k "$KH" -w 60 "$CSV"
	assert_output --partial "/var/sf/peers/$bad/sftunnel.json: uuid $fu does not match its folder"
	assert_output --partial "no device was touched"
	refute_output --partial "Attempting connection to FTD-3"
}

@test "copy_sftunnel_certs_jumpserver: an unreachable FMC touches no device" {
	mkcsv
	"$SFCA_TOP/tests/lab/ssh/sshd-host" stop "$LAB" FMCpri
	run -1 copy_sftunnel_certs_jumpserver -k "$KH" -t 2 "$CSV"
	"$SFCA_TOP/tests/lab/ssh/sshd-host" cont "$LAB" FMCpri
	assert_output --partial "Could not connect to FMCpri"
	assert_output --partial "no device was touched"
	refute_output --partial "Attempting connection to FTD-1"
}

@test "copy_sftunnel_certs_jumpserver: --help lists every option of the SYNOPSIS, the exit statuses, the manual" {
	run -0 sfca_help_check "$SFCA_TOP/man/copy_sftunnel_certs_jumpserver.8" copy_sftunnel_certs_jumpserver
}

@test "copy_sftunnel_certs_jumpserver: a device that reports another peer's UUID, or a FAILED_PUSH naming another peer's key, is refused" {
	local u2 u3 ip2 ip3 ims=$LAB/hosts/FTD-3/root/etc/sf/ims.conf before fp
	u2=$(sfca_host FTD-2 4)
	u3=$(sfca_host FTD-3 4)
	ip2=$(sfca_host FTD-2 3)
	ip3=$(sfca_host FTD-3 3)
	CSV=$BATS_TEST_TMPDIR/devices.csv
	(umask 077
	printf 'FMCpri,%s,admin,"%s",fmc\n' "$(sfca_host FMCpri 3)" "$(pw FMCpri)"
	printf 'FTD-3,%s,admin,"%s"\n' "$ip3" "$(pw FTD-3)"
	) >"$CSV"
	# FTD-3 says it is FTD-2
	cp "$ims" "$BATS_TEST_TMPDIR/ims3.orig"
	sed -i "s/^APPLIANCE_UUID=.*/APPLIANCE_UUID=$u2/" "$ims"
	before=$(cd "$(peerdir FTD-3)" && sha256sum ./*.pem)
	run -1 copy_sftunnel_certs_jumpserver -k "$KH" -w 5 "$CSV"
	assert_output --partial "Certificates will not be copied to FTD-3: FTD-3 ($ip3) says it is $u2, the FMC's FTD-2 at $ip2 (at $ip3 it has FTD-3, $u3): refused"
	refute_output --partial "Copying certificates"
	# --nat, with FTD-2's own row: still never FTD-2's files
	printf 'FTD-2,%s,admin,"%s"\n' "$ip2" "$(pw FTD-2)" >>"$CSV"
	run -1 copy_sftunnel_certs_jumpserver -N -k "$KH" -w 30 "$CSV"
	assert_output --partial "Certificates will not be copied to FTD-3: FTD-3 ($ip3) says it is $u2, the FMC's FTD-2 at $ip2, which is FTD-2 ($CSV:3): refused"
	assert_output --regexp "FTD-2 +$ip2 +done"
	assert_equal "$(cd "$(peerdir FTD-3)" && sha256sum ./*.pem)" "$before"
	cat "$BATS_TEST_TMPDIR/ims3.orig" >"$ims"
	# a FAILED_PUSH on the FMC that sends FTD-3 FTD-2's key
	fp=$F/var/tmp/certs/9999999999/FAILED_PUSH
	mkdir -p "${fp%/*}"
	chmod 0755 "${fp%/*}"
	echo "$u3 FTD-3 $ip3 /var/sf/peers/$u2/certs_pushed//sftunnel-key.pem /var/sf/peers/$FU/sftunnel-key.pem" >"$fp"
	run -1 copy_sftunnel_certs_jumpserver -k "$KH" -w 5 "$CSV"
	assert_output --partial "/var/tmp/certs/9999999999/FAILED_PUSH:1: /var/sf/peers/$u2/certs_pushed//sftunnel-key.pem is not FTD-3's own sftunnel-key.pem: refused"
	assert_output --partial "no device was touched"
	refute_output --partial "Attempting connection to FTD-3"
	assert_equal "$(cd "$(peerdir FTD-3)" && sha256sum ./*.pem)" "$before"
}

@test "copy_sftunnel_certs_jumpserver: a FAILED_PUSH folder on the FMC that is not root's is refused there; no device is touched" {
	local e
	CSV=$BATS_TEST_TMPDIR/devices.csv
	(umask 077
	printf 'FMCpri,%s,admin,"%s",fmc\n' "$(sfca_host FMCpri 3)" "$(pw FMCpri)"
	printf 'FTD-3,%s,admin,"%s"\n' "$(sfca_host FTD-3 3)" "$(pw FTD-3)"
	) >"$CSV"
	e=$(ls "$F/var/tmp/certs" | head -n 1)
	[ -e "$F/var/tmp/certs/$e/FAILED_PUSH" ]
	chown 65534:65534 "$F/var/tmp/certs/$e"
	run -1 copy_sftunnel_certs_jumpserver -k "$KH" -w 60 "$CSV"
	chown 0:0 "$F/var/tmp/certs/$e"
	assert_output --regexp "/var/tmp/certs/$e: owned by [^ ]+ \(uid 65534\), mode 755, not root's 0700 or 0755 folder: refused"
	assert_output --partial "no device was touched"
	refute_output --partial "Attempting connection to FTD-3"
}

# conns HOST: the connections HOST's sshd has logged
conns() {
	grep -c 'Connection from' "$LAB/hosts/$1/ssh/sshd.log" || true
}
# peersum HOST: sha256 of every file of HOST's folder for this FMC (the
# heartbeat aside), names included
peersum() {
	(cd "$(peerdir "$1")" && find . -type f ! -name sftunnel-heartbeat |
	    LC_ALL=C sort | xargs sha256sum)
}

@test "copy_sftunnel_certs_jumpserver: a canary that fails stops the run (exit 5); no other device is connected to" {
	local h before=
	mkcsv
	# FMCsec is the first device: its password is wrong
	sed -i '/^FMCsec,/s/,"[^"]*"$/,"wrong"/' "$CSV"
	for h in FTD-1 FTD-2 FTD-3; do
		before+="$h $(conns "$h") $(peersum "$h")"$'\n'
	done
	run -5 copy_sftunnel_certs_jumpserver -k "$KH" -C 1 -w 20 "$CSV"
	assert_output --partial "Fetching certificates from FMCpri"
	assert_output --regexp 'FMCsec +127\.64\.0\.2 +failed +login to FMCsec refused: wrong login or password'
	for h in FTD-1 FTD-2 FTD-3; do
		assert_output --regexp "$h +127\\.64\\.1\\.[123] +not started +not started: canary FMCsec failed \\(--canary 1\\)"
		refute_output --partial "Attempting connection to $h"
	done
	assert_line "Canary: FMCsec failed (--canary 1): 3 devices not started, none connected to"
	for h in FTD-1 FTD-2 FTD-3; do
		echo "$h $(conns "$h") $(peersum "$h")"
	done >"$BATS_TEST_TMPDIR/after"
	[ "$before" = "$(cat "$BATS_TEST_TMPDIR/after")"$'\n' ]
}

@test "copy_sftunnel_certs_jumpserver: -J after a failing canary: the document on stdout, the FMC's block and the others on stderr, exit 5, nothing else touched" {
	local h before=
	mkcsv
	sed -i '/^FMCsec,/s/,"[^"]*"$/,"wrong"/' "$CSV"
	for h in FTD-1 FTD-2 FTD-3; do
		before+="$h $(conns "$h") $(peersum "$h")"$'\n'
	done
	run -5 --separate-stderr copy_sftunnel_certs_jumpserver -k "$KH" -C 1 -J -w 20 "$CSV"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/run.json"
	refute_output --partial 'Fetching certificates'
	grep -q 'Fetching certificates from FMCpri' <<<"$stderr"
	grep -q 'Attempting connection to FMCsec' <<<"$stderr"
	python3 -m json.tool "$BATS_TEST_TMPDIR/run.json" >/dev/null
	run -0 python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
v = {x["name"]: x for x in d["devices"]}
assert [x["name"] for x in d["devices"]] == ["FMCpri", "FMCsec", "FTD-1", "FTD-2", "FTD-3"]
assert v["FMCpri"]["result"] == "skipped" and v["FMCpri"]["reason"] == "the FMC: certificates fetched"
assert v["FMCsec"]["result"] == "failed" and v["FMCsec"]["canary"] is True
for n in ("FTD-1", "FTD-2", "FTD-3"):
    assert v[n]["result"] == "not started" and v[n]["canary"] is False, v[n]
assert d["canary"] == {"requested": 1, "devices": ["FMCsec"], "done": 0, "passed": False, "failed": "FMCsec", "not_started": 3}, d["canary"]
assert d["summary"] == {"done": 0, "skipped": 1, "failed": 1, "not_started": 3}, d["summary"]
assert d["fmc"]["uuid"] == sys.argv[2] and d["halt_after"] is None and d["status"] == 5' "$BATS_TEST_TMPDIR/run.json" "$FU"
	for h in FTD-1 FTD-2 FTD-3; do
		echo "$h $(conns "$h") $(peersum "$h")"
	done >"$BATS_TEST_TMPDIR/after"
	[ "$before" = "$(cat "$BATS_TEST_TMPDIR/after")"$'\n' ]
}

@test "copy_sftunnel_certs_jumpserver: a canary whose files are copied but whose tunnel never comes up fails the run (exit 5); no other device is touched" {
	local h before=
	CSV=$BATS_TEST_TMPDIR/devices.csv
	(umask 077
	printf 'FMCpri,%s,admin,"%s",fmc\n' "$(sfca_host FMCpri 3)" "$(pw FMCpri)"
	for h in FTD-3 FTD-1 FTD-2 FMCsec; do
		printf '%s,%s,admin,"%s"\n' "$h" "$(sfca_host "$h" 3)" "$(pw "$h")"
	done) >"$CSV"
	# FTD-3's SSH works, its tunnel daemon restarts, but connects nowhere
	touch "$LAB/hosts/FTD-3/no-tunnel"
	for h in FTD-1 FTD-2; do
		before+="$h $(conns "$h") $(peersum "$h")"$'\n'
	done
	before+="FMCsec $(conns FMCsec)"$'\n'
	run -5 copy_sftunnel_certs_jumpserver -k "$KH" -C 1 -w 8 "$CSV"
	rm -f "$LAB/hosts/FTD-3/no-tunnel"
	assert_output --partial "Successfully copied certificates to FTD-3"
	assert_output --partial "Restarting sftunnel for FTD-3"
	assert_output --regexp 'FTD-3 +127\.64\.1\.3 +failed +copied, but the tunnel was not seen up within 8 s'
	assert_line "Canary: FTD-3 failed (--canary 1): 3 devices not started, none connected to"
	for h in FTD-1 FTD-2 FMCsec; do
		refute_output --partial "Attempting connection to $h"
	done
	{
		for h in FTD-1 FTD-2; do
			echo "$h $(conns "$h") $(peersum "$h")"
		done
		echo "FMCsec $(conns FMCsec)"
	} >"$BATS_TEST_TMPDIR/after"
	[ "$before" = "$(cat "$BATS_TEST_TMPDIR/after")"$'\n' ]
	lab -d "$LAB" wait-up -t 30 FTD-3
}

@test "copy_sftunnel_certs_jumpserver: --halt-after 1 with -j 1 starts no device after the first failure" {
	mkcsv
	sed -i '/^FMCsec,/s/,"[^"]*"$/,"wrong"/; /^FTD-1,/s/,"[^"]*"$/,"wrong"/' "$CSV"
	c2=$(conns FTD-2)
	run -1 copy_sftunnel_certs_jumpserver -k "$KH" -H 1 -j 1 -w 20 "$CSV"
	assert_output --regexp 'FMCsec +127\.64\.0\.2 +failed'
	assert_output --regexp 'FTD-1 +127\.64\.1\.1 +not started +not started: 1 device had failed \(--halt-after 1\)'
	assert_output --regexp 'FTD-3 +127\.64\.1\.3 +not started'
	assert_line "Halted: 3 devices not started after 1 failed (--halt-after 1)"
	[ "$(conns FTD-2)" = "$c2" ]
}
