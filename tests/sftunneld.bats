#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# sftunneld.bats -- the tunnel daemon against a running lab (127.92.x.x)

load helpers

# grep_after FILE LINES PATTERN: PATTERN in FILE past its first LINES lines
grep_after() {
	tail -n +"$(($2 + 1))" "$1" | grep -qF -- "$3"
}

setup_file() {
	SCRATCH=$(sfca_scratch)
	export SCRATCH LAB=$SCRATCH/lab SFCA_LAB=$SCRATCH/lab
	lab up -n 2 -k ec -b 127.92 -i 1 --no-ssh -t 30 3>&-
	# a lab of another FMC, never started: its certificates are foreign
	mktree -o "$SCRATCH/foreign" -n 1 -k ec -b 127.92 3>&-
}

teardown_file() {
	lab down --purge 3>&-
	rm -rf "$SCRATCH"
}

@test "sftunneld: tunnels come up with valid certificates" {
	local fmc ftd ip
	fmc=$(lab root FMCpri)
	ftd=$(lab root FTD-1)
	ip=$(lab addr FMCpri)
	run -0 lab wait-up -t 10
	run -0 grep -F "sftunnel:sf_ssl [INFO] Initiating IPv4 connection" "$ftd/var/log/messages"
	run -0 grep -F "Wait to connect to 8305 (IP: $ip)" "$ftd/var/log/messages"
	run -0 grep -F "Connected to $ip" "$ftd/var/log/messages"
	run -0 grep -F "Connected to $(lab addr FTD-1)" "$fmc/var/log/messages"
	# the syslog shape of SPEC 1.3
	run -0 grep -E '^[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} FTD-1 SF-IMS\[[0-9]+\]: \[[0-9]+\] sftunnel:sf_ssl \[INFO\] Connected to ' "$ftd/var/log/messages"
	# heartbeats touch the peer folders on both sides
	until_ok 5 test -f "$fmc/var/sf/peers/$(lab uuid FTD-1)/sftunnel-heartbeat"
	until_ok 5 test -f "$ftd/var/sf/peers/$(lab uuid FMCpri)/sftunnel-heartbeat"
	run -0 sfctl -r "$fmc" status
	assert_line --regexp "^FTD-1 $(lab uuid FTD-1) up TLSv1\.[23] chain=yes"
	assert_line --regexp "^FTD-2 $(lab uuid FTD-2) up TLSv1\.[23] chain=yes"
}

@test "sftunneld: STATUS tells the CN, public key and expiry of the certificate each peer presents" {
	local fmc ftd u key na
	fmc=$(lab root FMCpri)
	ftd=$(lab root FTD-1)
	u=$(lab uuid FTD-1)
	run -0 lab wait-up -t 10
	# what FTD-1 presents is its own sftunnel-cert.pem
	key=$(openssl x509 -noout -pubkey -in "$ftd/var/sf/peers/$(lab uuid FMCpri)/sftunnel-cert.pem" |
	    openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
	na=$(date -u -d "$(openssl x509 -noout -enddate -in "$ftd/var/sf/peers/$(lab uuid FMCpri)/sftunnel-cert.pem" | cut -d= -f2)" +%s)
	run -0 sfctl -r "$fmc" status
	assert_line --regexp "^FTD-1 $u up TLSv1\.[23] chain=yes cn=$u issuer=$(lab uuid FMCpri) key=$key expires=$na reason="
	# and the FTD sees the FMC's own certificate
	key=$(openssl x509 -noout -pubkey -in "$fmc/etc/sf/keys/sftunnel-cert.pem" |
	    openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
	run -0 sfctl -r "$ftd" status
	assert_line --regexp "^FMCpri $(lab uuid FMCpri) up TLSv1\.[23] chain=yes cn=$(lab uuid FMCpri) issuer=$(lab uuid FMCpri) key=$key expires=[1-9][0-9]* reason="
}

@test "sftunneld: the control socket is 0600 in a 0700 folder, and a private key never reaches the log" {
	local fmc
	fmc=$(lab root FMCpri)
	run -0 stat -c %a "$fmc/var/sf/run" "$fmc/var/sf/run/sftunnel.sock"
	assert_output $'700\n600'
	run -0 sfctl -r "$fmc" status
	run -1 grep -l "PRIVATE KEY" "$fmc/var/log/messages" "$(lab root FTD-1)/var/log/messages"
}

@test "sftunneld: a push writes atomically, keeps a backup, checks sha256 and keeps the session" {
	local fmc ftd dir other since sha
	fmc=$(lab root FMCpri)
	ftd=$(lab root FTD-1)
	dir=$ftd/var/sf/peers/$(lab uuid FMCpri)
	other=$SCRATCH/foreign/hosts/FTD-1/root/var/sf/peers/*/
	mkdir -p "$BATS_TEST_TMPDIR/new" "$BATS_TEST_TMPDIR/old"
	cp $other/sftunnel-cert.pem "$BATS_TEST_TMPDIR/new/sftunnel-cert.pem"
	cp "$dir/sftunnel-cert.pem" "$BATS_TEST_TMPDIR/old/sftunnel-cert.pem"
	since=$(sfctl -r "$fmc" status | awk -v u="$(lab uuid FTD-1)" '$2 == u')
	sha=$(sha256sum <"$BATS_TEST_TMPDIR/new/sftunnel-cert.pem" | cut -d' ' -f1)

	run -0 sfctl -r "$fmc" push "$(lab uuid FTD-1)" "$BATS_TEST_TMPDIR/new/sftunnel-cert.pem"
	assert_output "OK sftunnel-cert.pem $sha"
	run -0 cmp "$BATS_TEST_TMPDIR/new/sftunnel-cert.pem" "$dir/sftunnel-cert.pem"
	run -0 cmp "$BATS_TEST_TMPDIR/old/sftunnel-cert.pem" "$dir"/backup/*/sftunnel-cert.pem
	run -0 find "$dir" -maxdepth 1 -name '.*tmp*'
	assert_output ""
	# the same content again: OK, nothing written, no second backup
	run -0 sfctl -r "$fmc" push "$(lab uuid FTD-1)" "$BATS_TEST_TMPDIR/new/sftunnel-cert.pem"
	run -0 find "$dir/backup" -name sftunnel-cert.pem
	assert_equal "$(echo "$output" | wc -l)" 1
	# the session was never dropped
	run -0 sfctl -r "$fmc" status
	assert_line "$since"
	# put the original back
	run -0 sfctl -r "$fmc" push "$(lab uuid FTD-1)" "$BATS_TEST_TMPDIR/old/sftunnel-cert.pem"
	run -0 cmp "$BATS_TEST_TMPDIR/old/sftunnel-cert.pem" "$dir/sftunnel-cert.pem"
}

@test "sftunneld: a key is pushed 0600; bad files and unknown peers get ERR" {
	local fmc ftd dir
	fmc=$(lab root FMCpri)
	ftd=$(lab root FTD-2)
	dir=$ftd/var/sf/peers/$(lab uuid FMCpri)
	cp "$fmc/var/sf/peers/$(lab uuid FTD-2)/sftunnel-key.pem" "$BATS_TEST_TMPDIR/"
	chmod 644 "$BATS_TEST_TMPDIR/sftunnel-key.pem"
	rm "$dir/sftunnel-key.pem"
	run -0 sfctl -r "$fmc" push "$(lab uuid FTD-2)" "$BATS_TEST_TMPDIR/sftunnel-key.pem"
	run -0 stat -c %a "$dir/sftunnel-key.pem"
	assert_output 600
	echo "not a pem" >"$BATS_TEST_TMPDIR/cacert.pem"
	run -1 sfctl -r "$fmc" push "$(lab uuid FTD-2)" "$BATS_TEST_TMPDIR/cacert.pem"
	assert_output "ERR cacert.pem not a valid PEM file"
	run -1 sfctl -r "$fmc" push 00000000-0000-0000-0000-000000000000 "$BATS_TEST_TMPDIR/cacert.pem"
	assert_output "ERR cacert.pem unknown peer"
	run -0 lab wait-up FTD-2 -t 5
}

@test "sftunneld: a certificate from another CA is refused, and logged on both sides" {
	local fmc ftd dir foreign n_fmc n_ftd
	fmc=$(lab root FMCpri)
	ftd=$(lab root FTD-2)
	dir=$ftd/var/sf/peers/$(lab uuid FMCpri)
	foreign=$(echo "$SCRATCH"/foreign/hosts/FTD-1/root/var/sf/peers/*)
	cp -p "$dir/sftunnel-cert.pem" "$dir/sftunnel-key.pem" "$BATS_TEST_TMPDIR/"
	cp "$foreign/sftunnel-cert.pem" "$foreign/sftunnel-key.pem" "$dir/"
	n_fmc=$(wc -l <"$fmc/var/log/messages")
	n_ftd=$(wc -l <"$ftd/var/log/messages")
	run -0 lab restart FTD-2
	until_ok 10 grep_after "$fmc/var/log/messages" "$n_fmc" "Refused connection from $(lab addr FTD-2): certificate verify failed"
	run -0 grep_after "$fmc/var/log/messages" "$n_fmc" "-Error with certificate at depth: 0"
	until_ok 10 grep_after "$ftd/var/log/messages" "$n_ftd" "Connect:SSL handshake failed"
	run -1 sftunnel_status -r "$fmc" --brief "$(lab uuid FTD-2)"
	assert_output --regexp " down$"
	run -0 sftunnel_status -r "$fmc" --brief "$(lab uuid FTD-1)"
	# its own identity back: it comes back
	cp -p "$BATS_TEST_TMPDIR/sftunnel-cert.pem" "$BATS_TEST_TMPDIR/sftunnel-key.pem" "$dir/"
	run -0 lab wait-up FTD-2 -t 15
}

@test "sftunneld: a cut host is declared down after 3 heartbeats and comes back when healed" {
	local fmc
	fmc=$(lab root FMCpri)
	run -0 lab cut FTD-1
	run -0 lab wait-down FTD-1 -t 10
	run -1 sftunnel_status -r "$fmc" "$(lab uuid FTD-1)"
	assert_line "Last disconnect reason : heartbeat timeout"
	run -0 grep -F "Heartbeat timeout from $(lab addr FTD-1)" "$fmc/var/log/messages"
	run -0 sftunnel_status -r "$fmc" --brief "$(lab uuid FTD-2)"
	run -0 lab heal FTD-1
	run -0 lab wait-up FTD-1 -t 15
}

@test "sftunneld: one daemon per tree; SIGTERM removes its socket and pidfile" {
	local r pid
	run -1 sftunneld -d -i 1 -r "$(lab root FMCpri)" 3>&-
	assert_output --partial "already running"
	r=$SCRATCH/foreign/hosts/FMCpri/root
	sftunneld -d -i 1 -r "$r" -a 127.92.9.1 >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	pid=$!
	until_ok 5 test -S "$r/var/sf/run/sftunnel.sock"
	run -0 cat "$r/var/sf/run/sftunnel.pid"
	assert_output "$pid"
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	assert_file_not_exist "$r/var/sf/run/sftunnel.sock"
	assert_file_not_exist "$r/var/sf/run/sftunnel.pid"
	run -0 grep -F "sftunnel stopped" "$r/var/log/messages"
}

@test "sftunneld: usage errors exit 2, --help 0" {
	run -2 sftunneld -i 0
	run -2 sftunneld -x
	run -2 sftunneld extra
	run -0 sftunneld --help
	assert_output --partial "usage: sftunneld"
	run -2 sftunneld -d -r /nonexistent
	assert_output --partial "/nonexistent: No such file or directory"
	run -2 sfctl -r /nonexistent status
}
