#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# sftunnel_status.bats -- status of a lab whose CA expires while connected (127.94.x.x)

load helpers

ca_expired() {
	local na
	na=$(openssl x509 -noout -enddate -in "$(lab root FMCpri)/etc/sf/ca_root/cacert.pem" | cut -d= -f2)
	[ "$(date +%s)" -ge "$(date -d "$na" +%s)" ]
}

setup_file() {
	SCRATCH=$(sfca_scratch)
	export SCRATCH LAB=$SCRATCH/lab SFCA_LAB=$SCRATCH/lab
	# the CA lives 20 seconds: long enough to connect, short enough to wait
	lab up -n 2 -k ec -b 127.94 -i 1 -l 20 --no-ssh -t 15 3>&-
	# a tree with no daemon
	mktree -o "$SCRATCH/idle" -n 1 -k ec -b 127.94 3>&-
}

teardown_file() {
	lab down --purge 3>&-
	rm -rf "$SCRATCH"
}

@test "sftunnel_status: every peer connected on the FMC, exit 0, the original layout" {
	run -0 sftunnel_status -r "$(lab root FMCpri)"
	assert_line --regexp '^SFTUNNEL Start Time: [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [0-9]{4}$'
	assert_line "**RUN STATUS****$(lab addr FTD-1)*************"
	assert_line "Peer: FTD-2, UUID $(lab uuid FTD-2), role ftd"
	assert_line --regexp '^Cipher used = [A-Z0-9_-]+ \(strength:[0-9]+ bits\)$'
	assert_line --regexp '^ChannelA Connected: Yes'
	assert_line "Registration: Completed."
	assert_line --regexp "^IPv4 Connection to peer '$(lab addr FTD-1)' Start Time: "
	assert_line "PEER INFO:"
	assert_line "sw_version 7.2.9"
	assert_line --regexp '^Heartbeat Send Time: .* UTC$'
	assert_line --regexp '^Heartbeat Received Time: .* UTC$'
	assert_line "Peer certificate chains to current CA: Yes"
	assert_line "Session certificate chains to current CA: Yes"
}

@test "sftunnel_status: on an FTD, by IP and by UUID; --brief" {
	run -0 sftunnel_status -r "$(lab root FTD-1)" --brief
	assert_output "FMCpri $(lab uuid FMCpri) $(lab addr FMCpri) fmc up"
	run -0 sftunnel_status -r "$(lab root FMCpri)" -b "$(lab addr FTD-2)"
	assert_output "FTD-2 $(lab uuid FTD-2) $(lab addr FTD-2) ftd up"
	SFCA_ROOT=$(lab root FMCpri) run -0 sftunnel_status --brief "$(lab uuid FTD-1)"
	assert_output "FTD-1 $(lab uuid FTD-1) $(lab addr FTD-1) ftd up"
}

@test "sftunnel_status: a peer certificate from another CA says No, whether or not the daemon runs" {
	fmc=$(lab root FMCpri)
	dir=$fmc/var/sf/peers/$(lab uuid FTD-2)
	other=$(ls "$SCRATCH"/idle/hosts/FMCpri/root/var/sf/peers/*/sftunnel-cert.pem | head -n 1)
	cp -p "$dir/sftunnel-cert.pem" "$BATS_TEST_TMPDIR/keep.pem"
	# replaced in place (same inode): the daemon must notice the change
	cat "$other" >"$dir/sftunnel-cert.pem"
	run -0 sftunnel_status -r "$fmc" "$(lab uuid FTD-2)"
	assert_line "Peer certificate chains to current CA: No"
	run -0 sftunnel_status -r "$fmc" --json "$(lab uuid FTD-1)"
	assert_output --partial '"cert_chains":true'
	# put back by rename, as the tools write
	cp -p "$BATS_TEST_TMPDIR/keep.pem" "$dir/.new.pem"
	mv "$dir/.new.pem" "$dir/sftunnel-cert.pem"
	run -0 sftunnel_status -r "$fmc" "$(lab uuid FTD-2)"
	assert_line "Peer certificate chains to current CA: Yes"
	# and the same answer from the files alone, with no daemon
	cp -a "$fmc" "$BATS_TEST_TMPDIR/fmc"
	cat "$other" >"$BATS_TEST_TMPDIR/fmc/var/sf/peers/$(lab uuid FTD-2)/sftunnel-cert.pem"
	run -1 sftunnel_status -r "$BATS_TEST_TMPDIR/fmc" "$(lab uuid FTD-2)"
	assert_line "Peer certificate chains to current CA: No"
	run -1 sftunnel_status -r "$BATS_TEST_TMPDIR/fmc" "$(lab uuid FTD-1)"
	assert_line "Peer certificate chains to current CA: Yes"
}

@test "sftunnel_status: --json is valid JSON with the daemon and every peer" {
	run -0 sftunnel_status -r "$(lab root FMCpri)" --json
	echo "$output" >"$BATS_TEST_TMPDIR/s.json"
	run -0 python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["daemon"]["running"] is True and d["daemon"]["kind"] == "fmc"
assert len(d["peers"]) == 2
for p in d["peers"]:
    assert p["state"] == "up" and p["cert_chains"] is True, p
    assert p["session_chain"] == "yes" and p["hb_recv"] > 0, p
print("ok")' "$BATS_TEST_TMPDIR/s.json"
	assert_output ok
}

# The notAfter of a certificate as openssl prints it, and in seconds.
enddate() { openssl x509 -noout -enddate -in "$1" | cut -d= -f2; }
enddate_s() { date -u -d "$(enddate "$1")" +%s; }

# expiry_re CERT T0 T1: a pattern for "Peer certificate expiry:"'s text
# for CERT as seen at some second between T0 and T1 (whole days left
# change when a second boundary crosses a day's)
expiry_re() {
	local na e d0 d1
	na=$(enddate "$1")
	e=$(date -u -d "$na" +%s)
	if [ "$e" -le "$3" ]; then
		d0=$((($2 - e) / 86400)) d1=$((($3 - e) / 86400))
		echo "^Peer certificate expiry: $na \\(EXPIRED ($d0|$d1) days ago\\)\$"
	else
		d0=$(((e - $2) / 86400)) d1=$(((e - $3) / 86400))
		echo "^Peer certificate expiry: $na \\(($d0|$d1) days left\\)\$"
	fi
}

@test "sftunnel_status: each peer certificate's own expiry, as openssl reads it, on the FMC and on an FTD" {
	local fmc ftd u
	fmc=$(lab root FMCpri)
	for u in FTD-1 FTD-2; do
		run -0 sftunnel_status -r "$fmc" "$(lab uuid $u)"
		assert_line --regexp "^Peer certificate expiry: $(enddate "$fmc/var/sf/peers/$(lab uuid $u)/sftunnel-cert.pem") \\(([0-9]+ days left|EXPIRED [0-9]+ days ago)\\)$"
	done
	run -0 sftunnel_status -r "$fmc" --json
	echo "$output" >"$BATS_TEST_TMPDIR/s.json"
	run -0 python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
want = {sys.argv[2]: int(sys.argv[3]), sys.argv[4]: int(sys.argv[5])}
assert sorted(p["uuid"] for p in d["peers"]) == sorted(want), d
for p in d["peers"]:
    assert p["cert_not_after"] == want[p["uuid"]], p
    assert isinstance(p["cert_expired"], bool) and isinstance(p["cert_days_left"], int), p
print("ok")' "$BATS_TEST_TMPDIR/s.json" \
	    "$(lab uuid FTD-1)" "$(enddate_s "$fmc/var/sf/peers/$(lab uuid FTD-1)/sftunnel-cert.pem")" \
	    "$(lab uuid FTD-2)" "$(enddate_s "$fmc/var/sf/peers/$(lab uuid FTD-2)/sftunnel-cert.pem")"
	assert_output ok
	# on an FTD: its own certificate from that FMC
	ftd=$(lab root FTD-1)
	run -0 sftunnel_status -r "$ftd"
	assert_line --regexp "^Peer certificate expiry: $(enddate "$ftd/var/sf/peers/$(lab uuid FMCpri)/sftunnel-cert.pem") \\("
	assert_line "CA key: unknown (renewals are recorded on the FMC)"
	run -0 sftunnel_status -r "$ftd" -j
	assert_output --partial "\"cert_not_after\":$(enddate_s "$ftd/var/sf/peers/$(lab uuid FMCpri)/sftunnel-cert.pem"),"
	assert_output --partial '"ca_key":"unknown","ca_key_run":null,'
}

@test "sftunnel_status: CA key unknown before any renewal, new after the vendor's renewal, same after --extend" {
	local r=$BATS_TEST_TMPDIR/fmc d run_dir t0 t1
	cp -a "$SCRATCH/idle/hosts/FMCpri/root" "$r"
	run -1 sftunnel_status -r "$r"
	assert_line --index 1 "CA key: unknown (no backup of a replaced CA in /var/sf/sfca/runs)"
	assert_line --index 2 "***********************"
	run -1 sftunnel_status -r "$r" -j
	assert_output --partial '"ca_key":"unknown","ca_key_run":null,'
	# the vendor's renewal: a new key
	run -0 generate_certs -r "$r" --yes
	run_dir=$(basename "$(dirname "$(ls "$r"/var/sf/sfca/runs/*/COMMITTED)")")
	t0=$(date +%s)
	run -1 sftunnel_status -r "$r"
	t1=$(date +%s)
	assert_line "CA key: new (not the key of the CA replaced by the renewal /var/sf/sfca/runs/$run_dir)"
	for d in "$r"/var/sf/peers/*/; do
		assert_line --regexp "$(expiry_re "$d/sftunnel-cert.pem" "$t0" "$t1")"
	done
	run -1 sftunnel_status -r "$r" -j
	python3 -m json.tool <<<"$output" >/dev/null
	assert_output --partial "\"ca_key\":\"new\",\"ca_key_run\":$run_dir,"
	# on the same key
	run -0 generate_certs -r "$r" --extend --yes
	run_dir=$(ls "$r"/var/sf/sfca/runs/*/COMMITTED | sort | tail -n 1)
	run_dir=$(basename "$(dirname "$run_dir")")
	run -1 sftunnel_status -r "$r"
	assert_line "CA key: same (as the CA replaced by the renewal /var/sf/sfca/runs/$run_dir)"
	run -1 sftunnel_status -r "$r" --json
	python3 -m json.tool <<<"$output" >/dev/null
	assert_output --partial "\"ca_key\":\"same\",\"ca_key_run\":$run_dir,"
	# --brief stays one line a peer
	run -1 sftunnel_status -r "$r" --brief
	refute_output --partial "CA key"
}

@test "sftunnel_status: a missing peer certificate: its expiry says so, null in JSON" {
	local r=$BATS_TEST_TMPDIR/fmc u
	cp -a "$SCRATCH/idle/hosts/FMCpri/root" "$r"
	u=$(basename "$(ls -d "$r"/var/sf/peers/*/ | head -n 1)")
	rm "$r/var/sf/peers/$u/sftunnel-cert.pem"
	run -1 sftunnel_status -r "$r" "$u"
	assert_line "Peer certificate expiry: missing or unreadable"
	run -1 sftunnel_status -r "$r" -j "$u"
	assert_output --partial '"cert_not_after":null,"cert_expired":null,"cert_days_left":null,'
	python3 -m json.tool <<<"$output" >/dev/null
}

@test "sftunnel_status: --json stays valid UTF-8 JSON whatever bytes ims.conf's HOSTNAME holds" {
	local r=$BATS_TEST_TMPDIR/fmc
	cp -a "$SCRATCH/idle/hosts/FMCpri/root" "$r"
	# a byte that is not UTF-8, DEL, an escape, a quote, a backslash, and é
	sed -i "s/^HOSTNAME=.*/HOSTNAME=x$(printf '\377\177\033')\"\\\\$(printf '\303\251')y/" "$r/etc/sf/ims.conf"
	run -1 sftunnel_status -r "$r" -j
	assert_output --partial '"host":"x\ufffd\u007f\u001b\"\\'"$(printf '\303\251')"'y",'
	printf '%s\n' "$output" | python3 -c 'import json, sys; json.loads(sys.stdin.buffer.read())'
	printf '%s\n' "$output" | jq -e '.daemon.host == "x\ufffd\u007f\u001b\"\\\u00e9y"'
}

@test "sftunnel_status: errors exit 2, --version, --help" {
	run -2 sftunnel_status -r "$(lab root FMCpri)" 10.9.9.9
	assert_output "sftunnel_status: 10.9.9.9: no such peer"
	run -2 sftunnel_status -r /nonexistent
	assert_output "sftunnel_status: /nonexistent: No such file or directory"
	run -2 sftunnel_status -r "$(lab root FMCpri)/etc/sf/ims.conf"
	assert_output --partial "ims.conf: not a directory"
	SFCA_ROOT=/nonexistent run -2 sftunnel_status
	run -2 sftunnel_status -r "$BATS_TEST_TMPDIR"
	run -2 sftunnel_status --brief --json
	run -2 sftunnel_status a b
	run -2 sftunnel_status -x
	run -0 sftunnel_status --version
	assert_output "sftunnel_status (sfca) 0.1"
	run -0 sftunnel_status -h
	assert_output --partial "usage: sftunnel_status"
}

@test "sftunnel_status: no daemon: every peer down, says so, exit 1" {
	run -1 sftunnel_status -r "$SCRATCH/idle/hosts/FMCpri/root"
	assert_line "SFTUNNEL is not running: every peer is down"
	assert_line "ChannelA Connected: No"
	assert_line "Last disconnect reason : sftunneld is not running"
	run -1 sftunnel_status -r "$SCRATCH/idle/hosts/FTD-1/root" --brief
	assert_line --partial "sftunneld is not running"
	assert_line --regexp ' fmc down$'
}

@test "sftunnel_status: the CA expires while connected: tunnels stay up, CA shown expired" {
	until_ok 30 ca_expired
	run -0 lab wait-up -t 5
	run -0 sftunnel_status -r "$(lab root FMCpri)"
	assert_line --regexp '^CA expiry: .* \(EXPIRED [0-9]+ days ago\)$'
	refute_line "ChannelA Connected: No"
	run -0 sftunnel_status -r "$(lab root FTD-2)" --json
	assert_output --partial '"ca_expired":true'
	assert_output --partial '"state":"up"'
}

@test "sftunnel_status: after a restart with an expired CA exactly that FTD is down" {
	local ftd fmc
	ftd=$(lab root FTD-1)
	fmc=$(lab root FMCpri)
	run -0 lab exec FTD-1 "$ftd/usr/local/sbin/pmtool" restartbyid sftunnel
	until_ok 10 grep -qF "err 10:certificate has expired" "$ftd/var/log/messages"
	run -0 grep -F -- "-Error with certificate at depth: 1" "$ftd/var/log/messages"
	run -0 grep -F "issuer = /title=InternalCA/OU=Intrusion Management System/CN=$(lab uuid FMCpri)/O=Cisco Systems, Inc" "$ftd/var/log/messages"
	run -0 grep -F "Connect:SSL handshake failed" "$ftd/var/log/messages"
	run -0 lab wait-down FTD-1 -t 10
	run -1 sftunnel_status -r "$ftd"
	assert_line "Last disconnect reason : certificate verify failed: err 10:certificate has expired"
	run -1 sftunnel_status -r "$fmc"
	run -1 sftunnel_status -r "$fmc" --brief "$(lab uuid FTD-1)"
	run -0 sftunnel_status -r "$fmc" --brief "$(lab uuid FTD-2)"
	run -0 sftunnel_status -r "$(lab root FTD-2)"
}

@test "sftunnel_status: --help lists every option of the SYNOPSIS, the exit statuses, the manual" {
	run -0 sfca_help_check "$SFCA_TOP/man/sftunnel_status.8" sftunnel_status
}
