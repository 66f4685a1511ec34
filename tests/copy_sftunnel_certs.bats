#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# copy_sftunnel_certs.bats -- on the FMC, against a lab with real sshds

load helpers

setup_file() {
	LAB=$(sfca_scratch)/lab
	export LAB
	lab -d "$LAB" up -H -n 3 -k ec -b 127.63 >/dev/null 3>&- || return 1
	F=$LAB/hosts/FMCpri/root
	FU=$(sfca_host FMCpri 4)
	export F FU
	# known_hosts for every host, and a CSV with every host
	KH=$LAB/known_hosts
	for h in $(awk '!/^#/ { print $1 }' "$LAB/hosts.txt"); do
		tests_kh=$("$SFCA_TOP/tests/lab/ssh/sshd-host" known-hosts "$LAB" "$h") || return 1
		printf '%s\n' "$tests_kh"
	done >"$KH"
	export KH
	# FTD-1 and FTD-2 miss the renewal: they keep the old files.
	lab -d "$LAB" cut FTD-1 && lab -d "$LAB" cut FTD-2 || return 1
	generate_certs -r "$F" -y >/dev/null 2>&1 3>&-
	# Their sshd comes back, their tunnel daemon stays stopped: nothing
	# but this tool can bring them the new files.
	"$SFCA_TOP/tests/lab/ssh/sshd-host" cont "$LAB" FTD-1 >/dev/null &&
	    "$SFCA_TOP/tests/lab/ssh/sshd-host" cont "$LAB" FTD-2 >/dev/null ||
	    return 1
	mkdir -p "$LAB/old"
	cp -a "$(peerdir FTD-1)" "$LAB/old/FTD-1"
}

teardown_file() {
	[ -n "${LAB-}" ] && lab -d "$LAB" down --purge >/dev/null 3>&- || true
	[ -n "${LAB-}" ] && rm -rf "$(dirname "$LAB")" || true
}

teardown() {
	rm -f "$LAB/hosts/FTD-3/no-tunnel"
	# a test that changed a host's ims.conf puts it back
	if [ -n "${IMS-}" ] && [ -e "$BATS_TEST_TMPDIR/ims.orig" ]; then
		cat "$BATS_TEST_TMPDIR/ims.orig" >"$IMS"
	fi
}

peerdir() { echo "$LAB/hosts/$1/root/ngfw/var/sf/peers/$FU"; }

# spaced FILE: spaces around every '=' of an ims.conf (kept in ims.orig)
spaced() {
	IMS=$1
	cp "$IMS" "$BATS_TEST_TMPDIR/ims.orig"
	sed 's/^\([A-Z_]*\)=/\1 = /' "$BATS_TEST_TMPDIR/ims.orig" >"$IMS"
}
pw() { awk -v n="$1" '$1 == n { print $2 }' "$LAB/passwords"; }
addr() { sfca_host "$1" 3; }

# mkcsv HOST...: a 0600 CSV with those hosts
mkcsv() {
	local h
	(umask 077; for h in "$@"; do
		printf '%s,%s,admin,"%s"\n' "$h" "$(addr "$h")" "$(pw "$h")"
	done >"$BATS_TEST_TMPDIR/d.csv")
	CSV=$BATS_TEST_TMPDIR/d.csv
}

# FTD-1 still holds exactly its old files
old_intact() {
	local f
	for f in cacert.pem sftunnel-cert.pem sftunnel-key.pem; do
		cmp "$LAB/old/FTD-1/$f" "$(peerdir FTD-1)/$f" || return 1
	done
	! cmp -s "$F/etc/sf/ca_root/cacert.pem" "$(peerdir FTD-1)/cacert.pem"
}

@test "copy_sftunnel_certs: a root that is not a folder is a usage error, nothing touched" {
	mkcsv FTD-1
	run -2 copy_sftunnel_certs -r /nonexistent "$CSV"
	assert_output "copy_sftunnel_certs: /nonexistent: No such file or directory"
	run -2 copy_sftunnel_certs -r "$F/etc/sf/ims.conf" "$CSV"
	assert_output "copy_sftunnel_certs: $F/etc/sf/ims.conf: not a directory"
	SFCA_ROOT=/nonexistent run -2 copy_sftunnel_certs "$CSV"
	old_intact
}

@test "copy_sftunnel_certs: wrong password fails that device only" {
	mkcsv FTD-1 FTD-3
	sed -i '1s/,"[^"]*"$/,"wrong,pass"/' "$CSV"
	run -1 copy_sftunnel_certs -r "$F" -k "$KH" -w 20 "$CSV"
	assert_output --regexp 'FTD-1 +127\.63\.1\.1 +failed +login to FTD-1 refused: wrong login or password'
	assert_output --regexp 'FTD-3 +127\.63\.1\.3 +done'
	refute_output --partial 'wrong,pass'
	old_intact
}

@test "copy_sftunnel_certs: a changed host key stops that device" {
	mkcsv FTD-1 FTD-3
	grep -v "^$(addr FTD-1) " "$KH" >"$BATS_TEST_TMPDIR/kh"
	sed -n "s/^$(addr FTD-2) /$(addr FTD-1) /p" "$KH" >>"$BATS_TEST_TMPDIR/kh"
	run -1 copy_sftunnel_certs -r "$F" -k "$BATS_TEST_TMPDIR/kh" -w 20 "$CSV"
	assert_output --partial "Could not connect to FTD-1: host key for FTD-1 ($(addr FTD-1)) has changed"
	assert_output --regexp 'FTD-3 +127\.63\.1\.3 +done'
	old_intact
}

@test "copy_sftunnel_certs: an unknown host needs --accept-new" {
	mkcsv FTD-3
	run -1 copy_sftunnel_certs -r "$F" -k "$BATS_TEST_TMPDIR/none" -w 20 "$CSV"
	assert_output --partial "is not known (first contact needs --accept-new)"
	run -0 copy_sftunnel_certs -r "$F" -k "$BATS_TEST_TMPDIR/none" -A -w 20 "$CSV"
	assert_file_exist "$BATS_TEST_TMPDIR/none"
	run -0 copy_sftunnel_certs -r "$F" -k "$BATS_TEST_TMPDIR/none" -w 20 "$CSV"
}

@test "copy_sftunnel_certs: a connection dropped mid-copy keeps the old files" {
	mkcsv FTD-1 FTD-3
	SFCA_TEST_DROP_AFTER=FTD-1:2 run -1 copy_sftunnel_certs -r "$F" -k "$KH" -w 20 "$CSV"
	assert_output --partial "connection to FTD-1 lost while copying (after 2 of 3 files staged)"
	assert_output --regexp 'FTD-3 +127\.63\.1\.3 +done'
	old_intact
}

@test "copy_sftunnel_certs: a full disk on the device keeps the old files" {
	local pid d kb
	mkcsv FTD-1 FTD-3
	pid=$(cat "$LAB/hosts/FTD-1/ssh/sshd.pid")
	d=$(peerdir FTD-1)
	# A tmpfs over the peer folder, in the sshd's namespace only, just
	# big enough for the files already there (one page each).
	kb=$(( ($(ls -A "$d" | wc -l) + 1) * 4 ))
	cp -a "$d" "$BATS_TEST_TMPDIR/pf"
	nsenter -m -t "$pid" mount -t tmpfs -o size=${kb}k,mode=0755 sfca-full "$d"
	nsenter -m -t "$pid" cp -a "$BATS_TEST_TMPDIR/pf/." "$d/"
	nsenter -m -t "$pid" sh -c "dd if=/dev/zero of=$d/.fill bs=4k 2>/dev/null; true"
	run -1 copy_sftunnel_certs -r "$F" -k "$KH" -w 20 "$CSV"
	nsenter -m -t "$pid" rm -f "$d/.fill"
	for f in cacert.pem sftunnel-cert.pem sftunnel-key.pem; do
		nsenter -m -t "$pid" cmp "$BATS_TEST_TMPDIR/pf/$f" "$d/$f"
	done
	nsenter -m -t "$pid" umount "$d"
	assert_output --partial "No space left on device; old files kept"
	assert_output --regexp 'FTD-3 +127\.63\.1\.3 +done'
	old_intact
}

@test "copy_sftunnel_certs: an unreachable device costs its timeout once" {
	mkcsv FTD-1 FTD-3
	printf 'FTD-1b,%s,admin,x\n' "$(addr FTD-1)" >>"$CSV"
	"$SFCA_TOP/tests/lab/ssh/sshd-host" stop "$LAB" FTD-1
	run -1 copy_sftunnel_certs -r "$F" -k "$KH" -t 3 -w 20 "$CSV"
	"$SFCA_TOP/tests/lab/ssh/sshd-host" cont "$LAB" FTD-1
	assert_output --partial "Could not connect to FTD-1"
	assert_output --regexp 'FTD-1b +127\.63\.1\.1 +failed +could not connect'
	assert_output --regexp 'FTD-3 +127\.63\.1\.3 +done'
	# The two rows of the dead address wait out the same 3 s, not one
	# after the other: their failures are logged less than 3 s apart.
	# (From the log's own times, not the wall clock of a loaded machine.)
	a=$(sed -n 's/ - Could not connect to FTD-1$//p' <<<"$output")
	b=$(sed -n 's/ - Could not connect to FTD-1b$//p' <<<"$output")
	[ -n "$a" ] && [ -n "$b" ]
	a=$(date -d "$a" +%s) b=$(date -d "$b" +%s)
	[ $(( b > a ? b - a : a - b )) -lt 3 ]
	old_intact
}

@test "copy_sftunnel_certs: a device that does not answer holds no -j slot" {
	mkcsv FTD-1 FTD-3
	"$SFCA_TOP/tests/lab/ssh/sshd-host" stop "$LAB" FTD-1
	# one slot: FTD-3 is worked on while FTD-1 waits for its banner
	run -1 copy_sftunnel_certs -r "$F" -k "$KH" -j 1 -t 8 -w 20 "$CSV"
	"$SFCA_TOP/tests/lab/ssh/sshd-host" cont "$LAB" FTD-1
	assert_output --regexp 'FTD-3 +127\.63\.1\.3 +done'
	# blocks come in completion order: FTD-3's before FTD-1's
	done3=$(grep -n 'Closing connection with FTD-3' <<<"$output" | cut -d: -f1)
	dead1=$(grep -n 'Could not connect to FTD-1' <<<"$output" | cut -d: -f1)
	[ -n "$done3" ] && [ -n "$dead1" ] && [ "$done3" -lt "$dead1" ]
	old_intact
}

@test "copy_sftunnel_certs: reads ims.conf and sftunnel.json as generate_certs does" {
	local t=$BATS_TEST_TMPDIR/t f ims u a fu csv=$BATS_TEST_TMPDIR/t.csv
	local bad=00000000-0000-4000-8000-000000000000
	sfca_mktree "$t" -n 1 -k ec
	f=$t/hosts/FMCpri/root
	ims=$f/etc/sf/ims.conf
	u=$(awk '$1 == "FMCpri" { print $4 }' "$t/hosts.txt")
	fu=$(awk '$1 == "FTD-1" { print $4 }' "$t/hosts.txt")
	a=$(awk '$1 == "FTD-1" { print $3 }' "$t/hosts.txt")
	(umask 077; printf 'FTD-1,%s,admin,x\n' "$a" >"$csv")
	# spaces around '=': both read the FMC's uuid
	sed -i 's/^\([A-Z_]*\)=/\1 = /' "$ims"
	run -0 generate_certs -n -r "$f"
	assert_output --partial "for this FMC ($u)"
	run -0 copy_sftunnel_certs -n -r "$f" "$csv"
	assert_output --partial "FMC FMCpri ($u)"
	assert_output --partial "FTD-1 $a as admin: FTD"
	# quotes belong to the value: neither takes it for a uuid
	sed -i "s/^APPLIANCE_UUID = .*/APPLIANCE_UUID=\"$u\"/" "$ims"
	run -1 generate_certs -n -r "$f"
	assert_output --partial "no valid APPLIANCE_UUID"
	run -1 copy_sftunnel_certs -n -r "$f" "$csv"
	assert_output --partial "/etc/sf/ims.conf: no APPLIANCE_UUID on the FMC"
	sed -i "s/^APPLIANCE_UUID=.*/APPLIANCE_UUID=$u/" "$ims"
	# a sftunnel.json whose uuid is not its folder's: both refuse
	mv "$f/var/sf/peers/$fu" "$f/var/sf/peers/$bad"
	run -1 generate_certs -n -r "$f"
	assert_output --partial "/var/sf/peers/$bad/sftunnel.json: uuid $fu does not match its folder"
	run -1 copy_sftunnel_certs -n -r "$f" "$csv"
	assert_output --partial "/var/sf/peers/$bad/sftunnel.json: uuid $fu does not match its folder"
	refute_output --partial "as admin"
}

@test "copy_sftunnel_certs: reads a device's ims.conf as generate_certs does" {
	mkcsv FTD-3
	spaced "$LAB/hosts/FTD-3/root/etc/sf/ims.conf"
	run -0 copy_sftunnel_certs -r "$F" -k "$KH" -w 20 "$CSV"
	assert_output --partial "Successfully copied certificates to FTD-3"
	assert_output --regexp 'FTD-3 +127\.63\.1\.3 +done'
}

# peersum HOST: sha256 of every file of HOST's folder for this FMC (the
# heartbeat aside), names included: a new or replaced file shows
peersum() {
	(cd "$(peerdir "$1")" && find . -type f ! -name sftunnel-heartbeat |
	    LC_ALL=C sort | xargs sha256sum)
}
# conns HOST: the connections HOST's sshd has logged
conns() {
	grep -c 'Connection from' "$LAB/hosts/$1/ssh/sshd.log" || true
}

@test "copy_sftunnel_certs: a canary that fails stops the run (exit 5); no other device is connected to" {
	local s2 s3 c2 c3
	mkcsv FTD-1 FTD-2 FTD-3
	sed -i '1s/,"[^"]*"$/,"wrong"/' "$CSV"
	s2=$(peersum FTD-2) s3=$(peersum FTD-3) c2=$(conns FTD-2) c3=$(conns FTD-3)
	run -5 copy_sftunnel_certs -r "$F" -k "$KH" -C 1 -w 20 "$CSV"
	assert_output --regexp 'FTD-1 +127\.63\.1\.1 +failed +login to FTD-1 refused: wrong login or password'
	assert_output --regexp 'FTD-2 +127\.63\.1\.2 +not started +not started: canary FTD-1 failed \(--canary 1\)'
	assert_output --regexp 'FTD-3 +127\.63\.1\.3 +not started +not started: canary FTD-1 failed \(--canary 1\)'
	assert_line "Canary: FTD-1 failed (--canary 1): 2 devices not started, none connected to"
	refute_output --partial "Attempting connection to FTD-2"
	refute_output --partial "Attempting connection to FTD-3"
	# their sshds saw no connection, their files are as they were
	[ "$(conns FTD-2)" = "$c2" ]
	[ "$(conns FTD-3)" = "$c3" ]
	[ "$(peersum FTD-2)" = "$s2" ]
	[ "$(peersum FTD-3)" = "$s3" ]
	old_intact
}

@test "copy_sftunnel_certs: a canary whose files are copied but whose tunnel never comes up fails the run (exit 5); no other device is touched" {
	local s1 s2 sf c1 c2 cf
	mkcsv FTD-3 FTD-1 FTD-2 FMCsec
	# FTD-3's SSH works, its tunnel daemon restarts, but connects nowhere
	touch "$LAB/hosts/FTD-3/no-tunnel"
	s1=$(peersum FTD-1) s2=$(peersum FTD-2) sf=$(sha256sum <"$LAB/hosts/FMCsec/root/var/sf/peers/$FU/from_peer/cacert.pem")
	c1=$(conns FTD-1) c2=$(conns FTD-2) cf=$(conns FMCsec)
	run -5 copy_sftunnel_certs -r "$F" -k "$KH" -C 1 -w 8 "$CSV"
	rm -f "$LAB/hosts/FTD-3/no-tunnel"
	# the copy itself went through: files in place, tunnel restarted
	assert_output --partial "Successfully copied certificates to FTD-3"
	assert_output --partial "Restarting sftunnel for FTD-3"
	cmp "$F/etc/sf/ca_root/cacert.pem" "$(peerdir FTD-3)/cacert.pem"
	# ... and it is the tunnel that failed it
	assert_output --regexp 'FTD-3 +127\.63\.1\.3 +failed +copied, but the tunnel was not seen up within 8 s'
	assert_line "Canary: FTD-3 failed (--canary 1): 3 devices not started, none connected to"
	for h in FTD-1 FTD-2 FMCsec; do
		assert_output --regexp "$h +127\.63\.[01]\.[0-9] +not started +not started: canary FTD-3 failed \(--canary 1\)"
		refute_output --partial "Attempting connection to $h"
	done
	run -0 grep -c 'Connect to .* failed: no-tunnel (lab knob)' "$LAB/hosts/FTD-3/root/ngfw/var/log/messages"
	refute_output 0
	# nobody else was connected to, nothing else changed
	[ "$(conns FTD-1)" = "$c1" ] && [ "$(conns FTD-2)" = "$c2" ] && [ "$(conns FMCsec)" = "$cf" ]
	[ "$(peersum FTD-1)" = "$s1" ]
	[ "$(peersum FTD-2)" = "$s2" ]
	[ "$(sha256sum <"$LAB/hosts/FMCsec/root/var/sf/peers/$FU/from_peer/cacert.pem")" = "$sf" ]
	old_intact
	# the knob gone, FTD-3 comes back by itself
	lab -d "$LAB" wait-up -t 30 FTD-3
}

@test "copy_sftunnel_certs: --halt-after starts no device once that many have failed" {
	local s3 c2 c3
	mkcsv FTD-1 FTD-2 FTD-3
	sed -i '1,2s/,"[^"]*"$/,"wrong"/' "$CSV"
	s3=$(peersum FTD-3) c2=$(conns FTD-2) c3=$(conns FTD-3)
	run -1 copy_sftunnel_certs -r "$F" -k "$KH" -H 1 -j 1 -w 20 "$CSV"
	assert_output --regexp 'FTD-1 +127\.63\.1\.1 +failed +login to FTD-1 refused'
	assert_output --regexp 'FTD-2 +127\.63\.1\.2 +not started +not started: 1 device had failed \(--halt-after 1\)'
	assert_output --regexp 'FTD-3 +127\.63\.1\.3 +not started +not started: 1 device had failed \(--halt-after 1\)'
	assert_line "Halted: 2 devices not started after 1 failed (--halt-after 1)"
	[ "$(conns FTD-2)" = "$c2" ]
	[ "$(conns FTD-3)" = "$c3" ]
	[ "$(peersum FTD-3)" = "$s3" ]
	# with 2, the second failure stops the third device
	run -1 copy_sftunnel_certs -r "$F" -k "$KH" -H 2 -j 1 -w 20 "$CSV"
	assert_output --regexp 'FTD-2 +127\.63\.1\.2 +failed +login to FTD-2 refused'
	assert_output --regexp 'FTD-3 +127\.63\.1\.3 +not started +not started: 2 devices had failed \(--halt-after 2\)'
	[ "$(conns FTD-3)" = "$c3" ]
	[ "$(peersum FTD-3)" = "$s3" ]
	old_intact
}

@test "copy_sftunnel_certs: --canary and --halt-after take 1 or more" {
	mkcsv FTD-3
	run -2 copy_sftunnel_certs -r "$F" -k "$KH" -C 0 "$CSV"
	assert_output --partial "-C 0: too small"
	run -2 copy_sftunnel_certs -r "$F" -k "$KH" --halt-after=x "$CSV"
	assert_output --partial "-H x: invalid"
}

@test "copy_sftunnel_certs: brings the devices back, skips this FMC, copies to the HA peer" {
	mkcsv FMCpri FMCsec FTD-1 FTD-2 FTD-3
	lab -d "$LAB" heal FTD-1 && lab -d "$LAB" heal FTD-2
	run -0 copy_sftunnel_certs -r "$F" -k "$KH" -w 60 "$CSV"
	assert_output --partial "Attempting connection to FMCpri"
	assert_output --partial "FMCpri is not an HA-peer. Certificates will not be copied"
	assert_output --partial "Successfully copied certificates to FMCsec"
	assert_output --partial "Restarting sftunnel for FTD-1"
	assert_output --regexp 'FTD-1 +127\.63\.1\.1 +done'
	assert_output --regexp 'FTD-2 +127\.63\.1\.2 +done'
	refute_output --partial "$(pw FTD-1)"
	# blocks are whole: every block starts with Attempting, ends with Closing
	run -0 awk '/^=====$/ { if (open && last !~ /Closing connection/) bad = 1; open = 0; next }
	    / - / { if (!open && $0 !~ /Attempting connection/) bad = 1; open = 1; last = $0 }
	    END { exit bad }' <<<"$output"
	cmp "$F/etc/sf/ca_root/cacert.pem" "$(peerdir FTD-1)/cacert.pem"
	# The daemon may win the race and push first; else our backup is there.
	if [ -e "$(peerdir FTD-1)/sftunnel-key.pem.backup" ]; then
		cmp "$LAB/old/FTD-1/sftunnel-key.pem" \
		    "$(peerdir FTD-1)/sftunnel-key.pem.backup"
	fi
	[ "$(stat -c %a "$(peerdir FTD-1)/sftunnel-key.pem")" = 600 ]
	cmp "$F/etc/sf/ca_root/cacert.pem" \
	    "$LAB/hosts/FMCsec/root/var/sf/peers/$FU/from_peer/cacert.pem"
	run -0 sftunnel_status -r "$F"
	[ "$(grep -c 'Peer certificate chains to current CA: Yes' <<<"$output")" -ge 4 ]
	refute_output --partial 'chains to current CA: No'
}

@test "copy_sftunnel_certs: --help lists every option of the SYNOPSIS, the exit statuses, the manual" {
	run -0 sfca_help_check "$SFCA_TOP/man/copy_sftunnel_certs.8" copy_sftunnel_certs
	run -0 copy_sftunnel_certs --help
	assert_line "  its CSV: man -l /usr/local/sf/share/man/man5/devices.csv.5"
}

@test "copy_sftunnel_certs: a canary that is done lets the rest start after it" {
	local t3 t1
	mkcsv FTD-3 FTD-1 FTD-2
	run -0 copy_sftunnel_certs -r "$F" -k "$KH" --canary 1 -w 60 "$CSV"
	assert_output --regexp 'FTD-3 +127\.63\.1\.3 +done'
	assert_output --regexp 'FTD-1 +127\.63\.1\.1 +done'
	assert_output --regexp 'FTD-2 +127\.63\.1\.2 +done'
	assert_line "Canary: 1 device done first (--canary 1), then the rest"
	# FTD-1 was not attempted before FTD-3's block was closed
	t3=$(sed -n 's/ - Closing connection with FTD-3$//p' <<<"$output")
	t1=$(sed -n 's/ - Attempting connection to FTD-1$//p' <<<"$output")
	[ -n "$t3" ] && [ -n "$t1" ]
	[ "$(date -d "$t1" +%s)" -ge "$(date -d "$t3" +%s)" ]
	# FTD-3's block comes first
	run -0 grep -m1 'Attempting connection' <<<"$output"
	assert_output --partial "Attempting connection to FTD-3"
}

# on_tty CMD: run CMD (a shell line) with a pseudo-terminal as its
# stdin, stdout and stderr (script(1)); what the terminal got is $TTY_OUT
on_tty() {
	TTY_OUT=$BATS_TEST_TMPDIR/tty.raw
	script -qec "$1" /dev/null </dev/null >"$TTY_OUT"
}

@test "copy_sftunnel_certs: on a terminal a live count on stderr between whole blocks; stdout as without one; none when stderr is a file" {
	local t=$BATS_TEST_TMPDIR
	mkcsv FTD-3 FMCsec
	# stdout to a file, stderr on the terminal
	on_tty "copy_sftunnel_certs -r '$F' -k '$KH' -w 60 '$CSV' >'$t/out.tty'"
	grep -q $'\rdone 0, failed 0, running [12], waiting [01], elapsed 0:[0-9][0-9]\033\\[K' "$TTY_OUT"
	grep -q $'\rdone 2, failed 0, running 0, waiting 0, elapsed [0-9]*:[0-9][0-9]\033\\[K' "$TTY_OUT"
	[ "$(tail -c 4 "$TTY_OUT" | od -An -c | tr -d ' ')" = '\r033[K' ]
	! LC_ALL=C grep -q $'[\r\033]' "$t/out.tty"
	# the same without a terminal: the same lines, times and order aside
	copy_sftunnel_certs -r "$F" -k "$KH" -w 60 "$CSV" >"$t/out.plain" 2>"$t/err.plain"
	cmp <(sed 's/[0-9]/N/g' "$t/out.tty" | sort) <(sed 's/[0-9]/N/g' "$t/out.plain" | sort)
	# stderr a file: no byte of progress
	[ ! -s "$t/err.plain" ]
	# stdout and stderr on the terminal: without the count's lines, what
	# is left is whole lines of the blocks and the table
	on_tty "copy_sftunnel_certs -r '$F' -k '$KH' -w 60 '$CSV'"
	grep -q $'\rdone 2, failed 0, running 0, waiting 0' "$TTY_OUT"
	LC_ALL=C sed -E $'s/\r(done [0-9]+, failed [0-9]+, running [0-9]+, waiting [0-9]+, elapsed [0-9]+:[0-9]+)?\033\\[K//g' "$TTY_OUT" |
	    tr -d '\r' >"$t/left"
	! LC_ALL=C grep -q $'\033' "$t/left"
	cmp <(sed 's/[0-9]/N/g' "$t/left" | sort) <(sed 's/[0-9]/N/g' "$t/out.plain" | sort)
}

# jcheck FILE PYTHON: FILE is one JSON document (python3's json), and
# PYTHON's asserts hold on it as d
jcheck() {
	python3 -m json.tool "$1" >/dev/null || return 1
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[2])' "$1" "$2"
}

@test "copy_sftunnel_certs: -J after a passing canary: one JSON document on stdout, the blocks on stderr, the table unchanged without it" {
	local t=$BATS_TEST_TMPDIR
	mkcsv FMCpri FTD-3 FTD-1
	run -0 --separate-stderr copy_sftunnel_certs -r "$F" -k "$KH" -C 1 -J -w 60 "$CSV"
	printf '%s\n' "$output" >"$t/run.json"
	# stdout is the document alone; the blocks went to stderr, whole
	refute_output --partial '====='
	refute_output --partial 'Attempting connection'
	grep -q 'Attempting connection to FTD-3' <<<"$stderr"
	grep -q 'Closing connection with FTD-1' <<<"$stderr"
	run -0 jcheck "$t/run.json" '
assert d["fmc"]["uuid"] == "'"$FU"'" and d["fmc"]["name"] == "FMCpri", d["fmc"]
v = {x["name"]: x for x in d["devices"]}
assert [x["name"] for x in d["devices"]] == ["FMCpri", "FTD-3", "FTD-1"]
assert v["FMCpri"]["result"] == "skipped" and v["FMCpri"]["canary"] is False
assert v["FTD-3"]["result"] == "done" and v["FTD-3"]["canary"] is True
assert v["FTD-3"]["reason"] == "tunnel up on the new certificates"
assert v["FTD-3"]["uuid"] == "'"$(sfca_host FTD-3 4)"'" and v["FTD-3"]["address"] == "127.63.1.3"
assert v["FTD-1"]["result"] == "done" and v["FTD-1"]["canary"] is False
assert v["FTD-1"]["csv_line"] == 3 and v["FTD-1"]["unreachable"] is False
assert d["summary"] == {"done": 2, "skipped": 1, "failed": 0, "not_started": 0}, d["summary"]
assert d["canary"] == {"requested": 1, "devices": ["FTD-3"], "done": 1, "passed": True, "failed": None, "not_started": 0}, d["canary"]
assert d["halt_after"] is None
assert d["status"] == 0'
	# without -J: the blocks and the table on stdout, nothing on stderr
	run -0 --separate-stderr copy_sftunnel_certs -r "$F" -k "$KH" -C 1 -w 60 "$CSV"
	assert_equal "$stderr" ""
	assert_line "DEVICE  ADDRESS          RESULT   REASON"
	assert_line --regexp '^FTD-3   127\.63\.1\.3       done     tunnel up on the new certificates$'
	assert_line "Canary: 1 device done first (--canary 1), then the rest"
	refute_output --partial '"canary"'
}

@test "copy_sftunnel_certs: -J after a failing canary: exit 5 in the document, its name escaped, the others not started and untouched" {
	local t=$BATS_TEST_TMPDIR s2 s3 c2 c3
	mkcsv FTD-1 FTD-2 FTD-3
	# the canary: FTD-1's address, a name with a quote and a backslash,
	# a wrong password
	sed -i '1s/^FTD-1,\(.*\),"[^"]*"$/"a""b\\c",\1,"wrong"/' "$CSV"
	grep -q '^"a""b\\c",127\.63\.1\.1,admin,"wrong"$' "$CSV"
	s2=$(peersum FTD-2) s3=$(peersum FTD-3) c2=$(conns FTD-2) c3=$(conns FTD-3)
	run -5 --separate-stderr copy_sftunnel_certs -r "$F" -k "$KH" -C 1 -J -w 20 "$CSV"
	printf '%s\n' "$output" >"$t/run.json"
	run -0 jcheck "$t/run.json" '
v = {x["name"]: x for x in d["devices"]}
bad = "a\"b\\\\c"
assert set(v) == {bad, "FTD-2", "FTD-3"}, list(v)
assert v[bad]["result"] == "failed" and v[bad]["canary"] is True and v[bad]["uuid"] is None
assert v[bad]["reason"].startswith("login to " + bad + " refused: wrong login or password"), v[bad]["reason"]
for n in ("FTD-2", "FTD-3"):
    assert v[n]["result"] == "not started" and v[n]["canary"] is False, v[n]
    assert v[n]["reason"] == "not started: canary " + bad + " failed (--canary 1)", v[n]["reason"]
assert d["summary"] == {"done": 0, "skipped": 0, "failed": 1, "not_started": 2}, d["summary"]
assert d["canary"] == {"requested": 1, "devices": [bad], "done": 0, "passed": False, "failed": bad, "not_started": 2}, d["canary"]
assert d["halt_after"] is None
assert d["status"] == 5'
	# the raw bytes: the quote escaped for JSON, the vis backslash too
	grep -qF '"failed": "a\"b\\\\c"' "$t/run.json"
	[ "$(conns FTD-2)" = "$c2" ] && [ "$(conns FTD-3)" = "$c3" ]
	[ "$(peersum FTD-2)" = "$s2" ]
	[ "$(peersum FTD-3)" = "$s3" ]
}

@test "copy_sftunnel_certs: -J after a --halt-after stop: halted, how many not started, exit 1 in the document" {
	local t=$BATS_TEST_TMPDIR s3 c3
	mkcsv FTD-1 FTD-2 FTD-3
	sed -i '1s/,"[^"]*"$/,"wrong"/' "$CSV"
	s3=$(peersum FTD-3) c3=$(conns FTD-3)
	run -1 --separate-stderr copy_sftunnel_certs -r "$F" -k "$KH" -H 1 -j 1 -J -w 20 "$CSV"
	printf '%s\n' "$output" >"$t/run.json"
	grep -q 'login to FTD-1 refused' <<<"$stderr"
	run -0 jcheck "$t/run.json" '
v = {x["name"]: x for x in d["devices"]}
assert v["FTD-1"]["result"] == "failed"
for n in ("FTD-2", "FTD-3"):
    assert v[n]["result"] == "not started", v[n]
    assert v[n]["reason"] == "not started: 1 device had failed (--halt-after 1)", v[n]["reason"]
assert d["summary"] == {"done": 0, "skipped": 0, "failed": 1, "not_started": 2}, d["summary"]
assert d["canary"] is None
assert d["halt_after"] == {"failures": 1, "halted": True, "not_started": 2}, d["halt_after"]
assert d["status"] == 1'
	[ "$(conns FTD-3)" = "$c3" ]
	[ "$(peersum FTD-3)" = "$s3" ]
	# -J is not for the plan
	run -2 copy_sftunnel_certs -r "$F" -J -n "$CSV"
}

# slow_hosts GRACE DELAY HOST...: each host's sshd restarted with that
# LoginGraceTime and a CLI that waits DELAY s before its banner; with no
# GRACE and DELAY ("" ""), as set up
slow_hosts() {
	local g=$1 d=$2 h
	shift 2
	for h in "$@"; do
		rm -f "$LAB/hosts/$h/login-grace" "$LAB/hosts/$h/cli-delay"
		[ -z "$g" ] || echo "$g" >"$LAB/hosts/$h/login-grace"
		[ -z "$d" ] || echo "$d" >"$LAB/hosts/$h/cli-delay"
		"$SFCA_TOP/tests/lab/ssh/sshd-host" down "$LAB" "$h" >/dev/null &&
		    "$SFCA_TOP/tests/lab/ssh/sshd-host" up "$LAB" "$h" >/dev/null ||
		    return 1
	done
}

# connections HOST: how many connections HOST's sshd has logged
connections() { grep -c '^Connection from ' "$LAB/hosts/$1/ssh/sshd.log" || true; }

@test "copy_sftunnel_certs: a device that waits for a -j slot past its sshd's LoginGraceTime is connected to again, not lost" {
	local n3 ns
	mkcsv FTD-3 FMCsec
	# one slot, each device holds it more than 4 s (its CLI's delay):
	# the one connected ahead waits past its sshd's 3 s grace
	slow_hosts 3 5 FTD-3 FMCsec
	n3=$(connections FTD-3) ns=$(connections FMCsec)
	SFCA_TEST_SLOT_WAIT_MS=1000 \
	    run copy_sftunnel_certs -r "$F" -k "$KH" -j 1 -w 60 "$CSV"
	slow_hosts "" "" FTD-3 FMCsec
	refute_output --partial "lost during login"
	assert_output --regexp 'FTD-3 +127\.63\.1\.3 +done'
	assert_output --regexp 'FMCsec +127\.63\.0\.2 +done'
	assert_success
	# the one that waited hung up and came back: two connections
	n3=$(($(connections FTD-3) - n3)) ns=$(($(connections FMCsec) - ns))
	[ $((n3 + ns)) -eq 3 ]
}
