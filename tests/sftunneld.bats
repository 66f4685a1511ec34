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

# a test that failed while it played FTD-1 (lab cut) leaves it stopped
teardown() {
	lab heal FTD-1 >/dev/null 2>&1 3>&- || true
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

# ---------------------------------------------------------------------
# Hostile peers: a peer with a valid certificate that sends malformed
# frames, floods handshakes or pushes without end (tests/lab/rawpeer)
# ---------------------------------------------------------------------

# hostile_as FTD: CERT KEY CA of that FTD, as it holds them for the FMC.
# The tests stop that FTD's own daemon (lab cut) while they play it, or
# it would reconnect and replace them.
hostile_as() {
	local d
	d=$(lab root "$1")/var/sf/peers/$(lab uuid FMCpri)
	echo "$d/sftunnel-cert.pem $d/sftunnel-key.pem $d/cacert.pem"
}

# pushfile OUT ID NAME FILE: an FR_PUSH payload of one well-formed file
pushfile() {
	{
		printf '%s 1\nFILE %s %s %s\n' "$2" "$3" "$(stat -c %s "$4")" \
		    "$(sha256sum <"$4" | cut -d' ' -f1)"
		cat "$4"
	} >"$1"
}

# fmc_since FTD: the start of FTD's tunnel as the FMC's daemon tells it
fmc_since() {
	sftunnel_status -r "$(lab root FMCpri)" "$(lab uuid "$1")" |
	    grep -F "Connection to peer" | grep -F "Start Time"
}

@test "sftunneld: a peer's malformed push frames are parsed by length and refused; the daemon and the other peers stay up" {
	local fmc fp pid since2 t=$BATS_TEST_TMPDIR sha16
	fmc=$(lab root FMCpri)
	fp=$fmc/var/sf/peers/$(lab uuid FTD-1)/from_peer
	run -0 lab wait-up -t 10
	pid=$(cat "$fmc/var/sf/run/sftunnel.pid")
	since2=$(fmc_since FTD-2)
	[ -n "$since2" ]
	run -0 lab cut FTD-1
	sha16=$(printf -- '-----BEGIN CERTI' | sha256sum | cut -d' ' -f1)
	# the PEM ends the payload: nothing past it may be read
	printf -- '7 1\nFILE cacert.pem 16 %s\n-----BEGIN CERTI' "$sha16" >"$t/p1"
	# a header split over two lines: no field from the next line
	pushfile "$t/ca" 8 cacert.pem "$fmc/etc/sf/ca_root/cacert.pem"
	sed '2s/ /\n/2' "$t/ca" >"$t/p2"
	# a size past the payload, a signed size, a size of 25 digits
	printf '9 1\nFILE cacert.pem 99 %s\nxx' "$sha16" >"$t/p3"
	printf '10 1\nFILE cacert.pem +16 %s\n-----BEGIN CERTI' "$sha16" >"$t/p4"
	printf '11 1\nFILE cacert.pem 1234567890123456789012345 %s\n' "$sha16" >"$t/p5"
	# two spaces, a trailing field
	printf '12 1\nFILE  cacert.pem 16 %s\n-----BEGIN CERTI' "$sha16" >"$t/p6"
	printf '13 1\nFILE cacert.pem 16 %s x\n-----BEGIN CERTI' "$sha16" >"$t/p7"
	# shellcheck disable=SC2046
	run -0 rawpeer push "$(lab addr FMCpri)" $(hostile_as FTD-1) \
	    "$t/p1" "$t/p2" "$t/p3" "$t/p4" "$t/p5" "$t/p6" "$t/p7"
	assert_output "7
ERR cacert.pem not a valid PEM file
END
8
ERR file0 malformed push
END
9
ERR file0 malformed push
END
10
ERR file0 malformed push
END
11
ERR file0 malformed push
END
12
ERR file0 malformed push
END
13
ERR file0 malformed push
END"
	assert_file_not_exist "$fp/cacert.pem"
	# the same daemon, FTD-2's tunnel never dropped, FTD-1 back
	run -0 cat "$fmc/var/sf/run/sftunnel.pid"
	assert_output "$pid"
	run -0 fmc_since FTD-2
	assert_output "$since2"
	run -0 lab heal FTD-1
	run -0 lab wait-up -t 10
}

@test "sftunneld: what one peer pushes into its from_peer/ is bounded: three names, three backups" {
	local fmc fp u t=$BATS_TEST_TMPDIR i n
	fmc=$(lab root FMCpri)
	u=$(lab uuid FTD-1)
	fp=$fmc/var/sf/peers/$u/from_peer
	run -0 lab wait-up -t 10
	# two valid certificates, pushed in turn: each push backs up the other
	pushfile "$t/a" 1 cacert.pem "$fmc/etc/sf/ca_root/cacert.pem"
	pushfile "$t/b" 2 cacert.pem "$(echo "$SCRATCH"/foreign/hosts/FMCpri/root)/etc/sf/ca_root/cacert.pem"
	printf '3 1\nFILE ../../../etc/sf/ims.conf 2 %s\nxx' \
	    "$(printf xx | sha256sum | cut -d' ' -f1)" >"$t/c"
	run -0 lab cut FTD-1
	for i in 1 2 3 4 5 6; do
		# shellcheck disable=SC2046
		run -0 rawpeer push "$(lab addr FMCpri)" $(hostile_as FTD-1) "$t/a" "$t/b"
		assert_line --index 1 --regexp '^OK cacert.pem [0-9a-f]{64}$'
		sleep 1		# backups are named by the second
	done
	# shellcheck disable=SC2046
	run -0 rawpeer push "$(lab addr FMCpri)" $(hostile_as FTD-1) "$t/c"
	assert_line --index 1 "ERR ../../../etc/sf/ims.conf not a pushable file"
	n=$(find "$fp/backup" -mindepth 1 -maxdepth 1 -type d | wc -l)
	assert_equal "$n" 3
	run -0 find "$fp" -type f ! -path "$fp/backup/*"
	assert_output "$fp/cacert.pem"
	run -0 grep -F "Removed old backup $fp/backup/" "$fmc/var/log/messages"
	run -0 lab heal FTD-1
	run -0 lab wait-up -t 10
}

@test "sftunneld: handshakes in progress are bounded per address; a flood is cut at once and keeps no peer out" {
	local fmc pid
	fmc=$(lab root FMCpri)
	run -0 lab wait-up -t 10
	# 100 connections from one address that never start TLS: all but 4
	# are closed within the first second (not at the handshake timeout)
	rawpeer flood "$(lab addr FMCpri)" 100 4 127.92.9.9 >"$BATS_TEST_TMPDIR/flood" &
	pid=$!
	sleep 1
	run -0 lab restart FTD-2
	run -0 lab wait-up FTD-2 -t 10
	wait "$pid"
	run -0 cat "$BATS_TEST_TMPDIR/flood"
	assert_output "96 96"
}

@test "sftunneld: out of descriptors the daemon pauses accepting instead of spinning, and takes peers again after" {
	local fmc pid dpid t0 t1 ticks soft hard
	fmc=$(lab root FMCpri)
	run -0 lab wait-up -t 10
	dpid=$(cat "$fmc/var/sf/run/sftunnel.pid")
	read -r soft hard < <(prlimit --pid "$dpid" --nofile --noheadings -o SOFT,HARD)
	# few descriptors left: 60 connections from 60 addresses exhaust them
	prlimit --pid "$dpid" --nofile=40:"$hard"
	t0=$(awk '{ print $14 + $15 }' "/proc/$dpid/stat")
	rawpeer flood "$(lab addr FMCpri)" 60 3 127.92.10 >/dev/null &
	pid=$!
	wait "$pid"
	t1=$(awk '{ print $14 + $15 }' "/proc/$dpid/stat")
	ticks=$((t1 - t0))
	prlimit --pid "$dpid" --nofile="$soft:$hard"
	# 3 s of flood cost well under a second of CPU (a spin costs 3)
	echo "CPU ticks during the flood: $ticks"
	[ "$ticks" -lt "$(( $(getconf CLK_TCK) / 2 ))" ]
	run -0 grep -F "Accept: Too many open files; pausing" "$fmc/var/log/messages"
	run -0 lab restart FTD-2
	run -0 lab wait-up -t 15
}
