#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# hostile.bats -- the suite against attackers: an unprivileged local user,
# a lying device, hostile bytes in the files it reads

load helpers

teardown() {
	# a lying SSH device a test started (tests/lab/sshliar.c)
	if [ -n "${LIAR_PID-}" ]; then
		kill "$LIAR_PID" 2>/dev/null || true
		wait "$LIAR_PID" 2>/dev/null || true
	fi
	# a test that made a device's file immutable gives it back
	if [ -n "${IMMUTABLE-}" ]; then
		chattr -i "$IMMUTABLE" 2>/dev/null || true
	fi
	# sshds a test started itself, apart from a lab's (sshd-host up)
	for h in ${SSH_UP-}; do
		"$SFCA_TOP/tests/lab/ssh/sshd-host" down "$LAB" "$h" \
		    >/dev/null 3>&- || true
	done
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
# certificates (logs, lock files and generate_certs' own state folder
# var/sf/sfca, which holds its lock, aside), and their listing
untrusted_sum() {
	(cd "$1" && find etc var/sf -xdev -path var/sf/sfca -prune -o \
	    ! -name '*.lock' -print | LC_ALL=C sort |
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

@test "hostile: a peer named with an escape sequence and a space is shown encoded, FAILED_PUSH keeps five fields and is matched back" {
	local js fp u fu pw vname n
	D=$(sfca_scratch)
	LAB=$D/lab
	lab -d "$LAB" up -n 1 -k ec -b 127.64 >/dev/null 3>&-
	R=$LAB/hosts/FMCpri/root
	u=$(sfca_host FTD-1 4)
	fu=$(sfca_host FMCpri 4)
	js=$R/var/sf/peers/$u/sftunnel.json
	# ESC [2J clears the screen, ESC ]0;...BEL sets the window title
	sed -i 's/"name": *"[^"]*"/"name": "FTD 1\\u001b[2J\\u001b]0;pwned\\u0007\\\\"/' "$js"
	vname='FTD\s1\033[2J\033]0;pwned\a\\'
	run -0 sftunnel_status -r "$R"
	assert_line "Peer: $vname, UUID $u, role ftd"
	refute_output --partial $'\033'
	run -0 sftunnel_status -b -r "$R"
	assert_output "$vname $u $(sfca_host FTD-1 3) ftd up"
	run -0 sftunnel_status -j -r "$R"
	assert_output --partial "\"name\":\"${vname//\\/\\\\}\""
	# the renewal misses it: FAILED_PUSH names it, five fields a line
	lab -d "$LAB" cut FTD-1
	run -0 generate_certs -y -r "$R"
	refute_output --partial $'\033'
	assert_line "Failed to push to $vname = /var/sf/peers/$fu/sftunnel-key.pem"
	fp=$(echo "$R"/var/tmp/certs/*/FAILED_PUSH)
	[ -f "$fp" ]
	N=$vname run -0 awk 'NF != 5 || $2 != ENVIRON["N"] { bad = 1 } END { print NR; exit bad }' "$fp"
	assert_output 3
	! grep -q $'\033' "$fp"
	! grep -q $'\033' "$R/var/log/sf/sfca_generation.log"
	# the copy tool reads FAILED_PUSH back and brings that device its files
	lab -d "$LAB" heal FTD-1
	pw=$(awk '$1 == "FTD-1" { print $2 }' "$LAB/passwords")
	(umask 077; printf 'FTD-1,%s,admin,"%s"\n' "$(sfca_host FTD-1 3)" "$pw" >"$D/d.csv")
	run -0 copy_sftunnel_certs -n -r "$R" "$D/d.csv"
	assert_line "FMC FMCpri ($fu), /${fp#"$R"/}"
	run -0 copy_sftunnel_certs -r "$R" -A -k "$D/kh" -w 60 "$D/d.csv"
	refute_output --partial $'\033'
	for n in cacert.pem sftunnel-cert.pem sftunnel-key.pem; do
		if [ "$n" = cacert.pem ]; then
			cmp "$R/etc/sf/ca_root/cacert.pem" "$LAB/hosts/FTD-1/root/ngfw/var/sf/peers/$fu/$n"
		else
			cmp "$R/var/sf/peers/$u/certs_pushed/$n" "$LAB/hosts/FTD-1/root/ngfw/var/sf/peers/$fu/$n"
		fi
	done
	# a lying device: what it answers is never printed raw
	sed -i 's/^APPLIANCE_UUID=.*/APPLIANCE_UUID=\x1b[2J\x1b]0;pwned\x07/' \
	    "$LAB/hosts/FTD-1/root/ngfw/etc/sf/ims.conf"
	run -1 copy_sftunnel_certs -r "$R" -k "$D/kh" -w 5 "$D/d.csv"
	assert_output --partial "/etc/sf/ims.conf: malformed APPLIANCE_UUID"
	refute_output --partial $'\033'
}

# ---------------------------------------------------------------------
# What the copy tools believe: the sources FAILED_PUSH names, the UUID
# a device reports (a planted line, a lying device, -N)
# ---------------------------------------------------------------------

# A lab of FMCpri, FTD-1 and FTD-2 with sshds, and their known hosts.
trust_setup() {
	local h
	D=$(sfca_scratch)
	LAB=$D/lab
	lab -d "$LAB" up -n 2 -k ec -b 127.160 >/dev/null 3>&- || return 1
	F=$LAB/hosts/FMCpri/root
	FU=$(sfca_host FMCpri 4)
	U1=$(sfca_host FTD-1 4)
	U2=$(sfca_host FTD-2 4)
	IP1=$(sfca_host FTD-1 3)
	IP2=$(sfca_host FTD-2 3)
	KH=$D/known_hosts
	for h in FTD-1 FTD-2; do
		"$SFCA_TOP/tests/lab/ssh/sshd-host" known-hosts "$LAB" "$h" ||
		    return 1
	done >"$KH"
	CSV=$D/devices.csv
}

# trust_csv HOST...: a 0600 CSV of those hosts
trust_csv() {
	local h
	(umask 077; for h in "$@"; do
		printf '%s,%s,admin,"%s"\n' "$h" "$(sfca_host "$h" 3)" \
		    "$(awk -v n="$h" '$1 == n { print $2 }' "$LAB/passwords")"
	done >"$CSV")
}

# sha256 of every file of every host's tree but logs, heartbeats, the
# daemons' own state and the FMC's var/tmp/certs (the planted file)
trust_sums() {
	local h
	for h in FMCpri FTD-1 FTD-2; do
		echo "$h"
		(cd "$LAB/hosts/$h/root" && find . -xdev -type f \
		    ! -name sftunnel-heartbeat ! -name '*.lock' ! -name '*.pid' \
		    ! -path '*/var/log/*' ! -path './var/tmp/certs/*' -print0 |
		    LC_ALL=C sort -z |
		    xargs -0 sha256sum)
	done
}

# FTD-1 holds none of FTD-2's files, and FTD-2's key is on no FTD but FTD-2
trust_no_foreign_key() {
	local k2
	k2=$(sha256sum <"$F/var/sf/peers/$U2/certs_pushed/sftunnel-key.pem")
	[ "$(sha256sum <"$LAB/hosts/FTD-1/root/ngfw/var/sf/peers/$FU/sftunnel-key.pem")" != "$k2" ]
	! cmp -s "$F/var/sf/peers/$U2/certs_pushed/sftunnel-cert.pem" \
	    "$LAB/hosts/FTD-1/root/ngfw/var/sf/peers/$FU/sftunnel-cert.pem"
}

@test "hostile: a FAILED_PUSH line that gives FTD-1 FTD-2's key is refused naming file:line; no device changes" {
	trust_setup
	local fp=$F/var/tmp/certs/9999999999/FAILED_PUSH before
	# planted by root in a folder that passes the ownership check
	mkdir -p "${fp%/*}"
	chmod 0755 "$F/var/tmp/certs" "${fp%/*}"
	{
		echo "$U1 FTD-1 $IP1 /etc/sf/ca_root/cacert.pem /var/sf/peers/$FU/cacert.pem"
		echo "$U1 FTD-1 $IP1 /var/sf/peers/$U2/certs_pushed//sftunnel-key.pem /var/sf/peers/$FU/sftunnel-key.pem"
		echo "$U1 FTD-1 $IP1 /var/sf/peers/$U2/certs_pushed//sftunnel-cert.pem /var/sf/peers/$FU/sftunnel-cert.pem"
	} >"$fp"
	trust_csv FTD-1 FTD-2
	before=$(trust_sums)
	run -1 copy_sftunnel_certs -r "$F" -k "$KH" -w 5 "$CSV"
	assert_output "copy_sftunnel_certs: /var/tmp/certs/9999999999/FAILED_PUSH:2: /var/sf/peers/$U2/certs_pushed//sftunnel-key.pem is not FTD-1's own sftunnel-key.pem: refused"
	[ "$(trust_sums)" = "$before" ]
	trust_no_foreign_key
	# a source elsewhere on the FMC, even encoded, is refused the same way
	printf '%s FTD-1 %s /etc/sf/ca_root/private/cakey.pem /var/sf/peers/%s/sftunnel-key.pem\n' \
	    "$U1" "$IP1" "$FU" >"$fp"
	run -1 copy_sftunnel_certs -r "$F" -k "$KH" -w 5 "$CSV"
	assert_output "copy_sftunnel_certs: /var/tmp/certs/9999999999/FAILED_PUSH:1: /etc/sf/ca_root/private/cakey.pem is not FTD-1's own sftunnel-key.pem: refused"
	printf '%s FTD-1 %s /var/sf/peers/%s/certs_pushed/..\\057..\\057%s/certs_pushed/sftunnel-key.pem /var/sf/peers/%s/sftunnel-key.pem\n' \
	    "$U1" "$IP1" "$U1" "$U2" "$FU" >"$fp"
	run -1 copy_sftunnel_certs -n -r "$F" "$CSV"
	assert_output --partial "FAILED_PUSH:1: /var/sf/peers/$U1/certs_pushed/..\\057..\\057$U2/certs_pushed/sftunnel-key.pem is not FTD-1's own sftunnel-key.pem: refused"
	# raw bytes planted in a field reach the terminal encoded
	printf '%s FTD-1 %s /tmp/\033]0;pwned\007\033[2J /var/sf/peers/%s/sftunnel-key.pem\n' \
	    "$U1" "$IP1" "$FU" >"$fp"
	run -1 copy_sftunnel_certs -n -r "$F" "$CSV"
	assert_output --partial 'FAILED_PUSH:1: /tmp/\033]0;pwned\a\033[2J is not FTD-1'"'"'s own sftunnel-key.pem: refused'
	refute_output --regexp $'[\x01-\x1f]'
	[ "$(trust_sums)" = "$before" ]
}

@test "hostile: a FAILED_PUSH naming a device's own files is followed: it gets its own files only" {
	trust_setup
	local fp=$F/var/tmp/certs/9999999999/FAILED_PUSH d
	mkdir -p "${fp%/*}"
	chmod 0755 "$F/var/tmp/certs" "${fp%/*}"
	# the peer folder's own copy instead of certs_pushed/, as a line may say
	echo "$U1 FTD-1 $IP1 /var/sf/peers/$U1//sftunnel-key.pem /var/sf/peers/$FU/sftunnel-key.pem" >"$fp"
	trust_csv FTD-1
	run -0 copy_sftunnel_certs -r "$F" -k "$KH" -w 30 "$CSV"
	assert_output --regexp 'FTD-1 +127\.160\.1\.1 +done'
	d=$LAB/hosts/FTD-1/root/ngfw/var/sf/peers/$FU
	cmp "$F/var/sf/peers/$U1/sftunnel-key.pem" "$d/sftunnel-key.pem"
	cmp "$F/var/sf/peers/$U1/certs_pushed/sftunnel-cert.pem" "$d/sftunnel-cert.pem"
	cmp "$F/etc/sf/ca_root/cacert.pem" "$d/cacert.pem"
	trust_no_foreign_key
}

@test "hostile: a device that reports another peer's UUID is refused naming both; no device changes" {
	trust_setup
	local before
	# FTD-1 lies: it says it is FTD-2
	sed -i "s/^APPLIANCE_UUID=.*/APPLIANCE_UUID=$U2/" \
	    "$LAB/hosts/FTD-1/root/etc/sf/ims.conf"
	trust_csv FTD-1
	before=$(trust_sums)
	run -1 copy_sftunnel_certs -r "$F" -k "$KH" -w 5 "$CSV"
	assert_output --partial "Certificates will not be copied to FTD-1: FTD-1 ($IP1) says it is $U2, the FMC's FTD-2 at $IP2 (at $IP1 it has FTD-1, $U1): refused"
	assert_output --regexp "FTD-1 +$IP1 +failed +FTD-1 \\($IP1\\) says it is $U2"
	refute_output --partial "Copying certificates"
	[ "$(trust_sums)" = "$before" ]
	trust_no_foreign_key
}

@test "hostile: --nat accepts a device registered at another address, never a UUID another row has" {
	trust_setup
	local j=$F/var/sf/peers/$U1/sftunnel.json before
	# FTD-1 registered behind NAT: the FMC knows it as 10.160.1.1
	sed -i "s/\"$IP1\"/\"10.160.1.1\"/" "$j"
	grep -q '"10.160.1.1"' "$j"
	trust_csv FTD-1
	before=$(trust_sums)
	run -1 copy_sftunnel_certs -r "$F" -k "$KH" -w 5 "$CSV"
	assert_output --partial "FTD-1 ($IP1) says it is $U1, the FMC's FTD-1 at 10.160.1.1: refused"
	[ "$(trust_sums)" = "$before" ]
	run -0 copy_sftunnel_certs --nat -r "$F" -k "$KH" -w 30 "$CSV"
	assert_output --partial "Successfully copied certificates to FTD-1"
	assert_output --regexp "FTD-1 +$IP1 +done"
	# a liar behind "NAT": FTD-2's own row has FTD-2's address
	sed -i "s/^APPLIANCE_UUID=.*/APPLIANCE_UUID=$U2/" \
	    "$LAB/hosts/FTD-1/root/etc/sf/ims.conf"
	trust_csv FTD-1 FTD-2
	before=$(cd "$LAB/hosts/FTD-1/root" && find . -xdev -type f \
	    -path '*/var/sf/peers/*' ! -name sftunnel-heartbeat -print0 |
	    LC_ALL=C sort -z | xargs -0 sha256sum)
	run -1 copy_sftunnel_certs -N -r "$F" -k "$KH" -w 30 "$CSV"
	assert_output --partial "Certificates will not be copied to FTD-1: FTD-1 ($IP1) says it is $U2, the FMC's FTD-2 at $IP2, which is FTD-2 ($CSV:2): refused"
	assert_output --regexp "FTD-2 +$IP2 +done"
	[ "$(cd "$LAB/hosts/FTD-1/root" && find . -xdev -type f \
	    -path '*/var/sf/peers/*' ! -name sftunnel-heartbeat -print0 |
	    LC_ALL=C sort -z | xargs -0 sha256sum)" = "$before" ]
	trust_no_foreign_key
}

# ---------------------------------------------------------------------
# What a device can send: a device that streams output, a refused
# password (tried once), a sudo that refuses; the three files of a device
# change together.  Lab block 127.170.
# ---------------------------------------------------------------------

# bound_setup: FMCpri, FTD-1 and FTD-2 with sshds; KH and CSV (FTD-1 and
# FTD-2 with their passwords); PD1 FTD-1's folder of this FMC's files
bound_setup() {
	local h
	D=$(sfca_scratch)
	LAB=$D/lab
	lab -d "$LAB" up -n 2 -k ec -b 127.170 >/dev/null 3>&-
	F=$LAB/hosts/FMCpri/root
	PD1=$LAB/hosts/FTD-1/root/ngfw/var/sf/peers/$(sfca_host FMCpri 4)
	KH=$D/known_hosts
	for h in FMCpri FTD-1 FTD-2; do
		"$SFCA_TOP/tests/lab/ssh/sshd-host" known-hosts "$LAB" "$h"
	done >"$KH"
	CSV=$D/devices.csv
	(umask 077; for h in FTD-1 FTD-2; do
		printf '%s,%s,admin,"%s"\n' "$h" "$(sfca_host "$h" 3)" \
		    "$(awk -v n="$h" '$1 == n { print $2 }' "$LAB/passwords")"
	done >"$CSV")
}

# bound_knob HOST FILE [VALUE]: a knob of tests/lab/ssh/README, then the
# host's sshd again so that it reads it
bound_knob() {
	printf '%s\n' "${3-}" >"$LAB/hosts/$1/$2"
	"$SFCA_TOP/tests/lab/ssh/sshd-host" down "$LAB" "$1" >/dev/null 3>&-
	"$SFCA_TOP/tests/lab/ssh/sshd-host" up "$LAB" "$1" >/dev/null 3>&-
}

# bound_sum DIR: sha256 of FTD-1's three files as they are
bound_sum() {
	(cd "$1" && sha256sum cacert.pem sftunnel-key.pem sftunnel-cert.pem)
}

@test "hostile: a device that streams 100 MB fails alone, with a reason; the others are copied" {
	local before
	bound_setup
	bound_knob FTD-1 flood 104857600
	before=$(bound_sum "$PD1")
	run -1 timeout 300 copy_sftunnel_certs -r "$F" -k "$KH" -w 30 "$CSV"
	assert_output --regexp 'FTD-1 +127\.170\.1\.1 +failed +cannot reach a root shell on FTD-1: FTD-1 sent more than 4194304 bytes without the expected answer'
	assert_output --regexp 'FTD-2 +127\.170\.1\.2 +done'
	[ "$(bound_sum "$PD1")" = "$before" ]
}

@test "hostile: a refused password is tried once on the device, never again" {
	local log n
	bound_setup
	log=$LAB/hosts/FTD-1/ssh/sshd.log
	sed -i '1s/,"[^"]*"$/,"wrong"/' "$CSV"
	n=$(grep -cE 'Failed (password|keyboard-interactive)' "$log" || true)
	run -1 copy_sftunnel_certs -r "$F" -k "$KH" -w 30 "$CSV"
	assert_output --regexp 'FTD-1 +127\.170\.1\.1 +failed +login to FTD-1 refused: wrong login or password'
	assert_output --regexp 'FTD-2 +127\.170\.1\.2 +done'
	# one failed login in the device's sshd log, where two methods are offered
	run -0 grep -cE 'Failed (password|keyboard-interactive)' "$log"
	assert_output "$((n + 1))"
}

# liar_up MODE: FTD-1's sshd gives way to sshliar (tests/lab/sshliar.c) on
# the same address, whose host key replaces FTD-1's in $KH; its log is $LL
liar_up() {
	local a
	a=$(sfca_host FTD-1 3)
	"$SFCA_TOP/tests/lab/ssh/sshd-host" down "$LAB" FTD-1 >/dev/null 3>&-
	ssh-keygen -q -t ed25519 -N '' -C liar -f "$D/liar_key"
	LL=$D/liar.log
	sshliar "$a" "$D/liar_key" "$1" "$LL" 3>&- &
	LIAR_PID=$!
	until_ok 10 grep -qx listening "$LL"
	grep -vF "$a " "$KH" >"$KH.new" || true
	printf '%s %s\n' "$a" "$(cut -d' ' -f1,2 "$D/liar_key.pub")" >>"$KH.new"
	mv "$KH.new" "$KH"
}

@test "hostile: a device that asks round after round without a question is left after 4 rounds; the others are copied" {
	bound_setup
	liar_up endless
	run -1 copy_sftunnel_certs -r "$F" -k "$KH" -w 30 "$CSV"
	assert_output --regexp 'FTD-1 +127\.170\.1\.1 +failed +login to FTD-1 refused: more than 4 keyboard-interactive rounds'
	assert_output --regexp 'FTD-2 +127\.170\.1\.2 +done'
	# the device saw four answered rounds, none of them with a password
	until_ok 10 grep -q '^closed after' "$LL"
	run -0 grep -c '^round [0-9]*: 0 answers$' "$LL"
	assert_output 4
	run -0 grep '^closed after' "$LL"
	assert_output 'closed after 4 rounds'
}

@test "hostile: a device whose first round asks two questions is refused; the password is never sent to it" {
	bound_setup
	liar_up two
	run -1 copy_sftunnel_certs -r "$F" -k "$KH" -w 30 "$CSV"
	assert_output --regexp 'FTD-1 +127\.170\.1\.1 +failed +login to FTD-1 refused: it asks 2 questions, not a password'
	assert_output --regexp 'FTD-2 +127\.170\.1\.2 +done'
	until_ok 10 grep -q '^closed after' "$LL"
	run -0 grep '^round\|^closed' "$LL"
	assert_output 'closed after 0 rounds'
}

# ---------------------------------------------------------------------
# A lying tunnel daemon: what a reply on the control socket may cost
# ---------------------------------------------------------------------

# liar_daemon SOCK N: answer one request on SOCK with N "PEER" lines, OK
liar_daemon() {
	python3 - "$1" "$2" <<'PY' &
import os, socket, sys
path, n = sys.argv[1], int(sys.argv[2])
reply = b"PEER \n" * n + b"OK\n"
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path + ".tmp")
s.listen(1)
os.rename(path + ".tmp", path)
c, _ = s.accept()
c.recv(4096)
try:
    c.sendall(reply)
except OSError:
    pass
c.close()
os.unlink(path)
PY
}

@test "hostile: a STATUS reply of millions of 6-byte PEER lines costs its size, not a struct per line: refused past 16384 peers" {
	D=$(sfca_scratch)
	sfca_mktree "$D/t" -n 1 -k ec >/dev/null
	local r=$D/t/hosts/FMCpri/root sock
	sock=$r/var/sf/run/sftunnel.sock
	mkdir -p "${sock%/*}"
	# 18 MB of "PEER \n": a struct ctl_peer per line was 1.4 GB
	liar_daemon "$sock" 3000000
	until_ok 20 test -S "$sock"
	run -1 sh -c 'ulimit -v 1000000; exec sftunnel_status -r "$1" --brief' sh "$r"
	assert_output --partial "sftunnel_status: control socket: STATUS: more than 16384 peers"
	refute_output --partial "out of memory"
	wait
}

# ---------------------------------------------------------------------
# generate_certs: the run folder and FAILED_PUSH's folder (an
# unprivileged local user plants run folders, links and reports)
# ---------------------------------------------------------------------

# as_nobody CMD...: run CMD as an unprivileged local user
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# Checksums, modes and owners of a tree but the run log.
hostile_sum() {
	(cd "$1" && find . -path ./var/log/sf/sfca_generation.log -prune -o \
	    -printf '%p %m %u %s %l\n' | sort &&
	    find . -type f ! -name sfca_generation.log -print0 | sort -z |
	    xargs -0 sha256sum)
}

gc_setup() {
	D=$(sfca_scratch)
	LAB=$D/lab
	sfca_mktree "$LAB" -n 2 -k ec
	FMC=$LAB/hosts/FMCpri/root
	# as on an appliance: /var/tmp is everyone's, and no run made
	# var/tmp/certs yet
	chmod 1777 "$FMC/var/tmp"
	rmdir "$FMC/var/tmp/certs"
	mkdir -p "$FMC/root/.ssh"
	chmod 700 "$FMC/root"
}

@test "hostile: a forged run folder in /var/tmp/certs (STAGED, MANIFEST naming root/.ssh/authorized_keys) steers nothing" {
	local forged sums
	gc_setup
	forged=$FMC/var/tmp/certs/9999999999
	as_nobody sh -c '
		set -e
		mkdir -p "$1/new/root/.ssh"
		echo "ssh-ed25519 AAAA attacker" > "$1/new/root/.ssh/authorized_keys"
		echo root/.ssh/authorized_keys > "$1/MANIFEST"
		date +%s > "$1/STAGED"
		date +%s > "$1/BACKED_UP"
	' sh "$forged"
	sums=$(hostile_sum "$FMC")
	run -1 --separate-stderr generate_certs -r "$FMC" --yes
	assert_equal "$stderr" "generate_certs: $FMC/var/tmp/certs: owned by nobody (uid 65534), not by root: refused"
	refute_output --partial "Completing the interrupted renewal"
	assert_not_exist "$FMC/root/.ssh/authorized_keys"
	assert_equal "$(hostile_sum "$FMC")" "$sums"
	# not even a dry run reads it
	run -1 --separate-stderr generate_certs -r "$FMC" --dry-run
	assert_equal "$stderr" "generate_certs: $FMC/var/tmp/certs: owned by nobody (uid 65534), not by root: refused"
	assert_equal "$(hostile_sum "$FMC")" "$sums"
}

@test "hostile: a forged run folder cannot be made where the runs are: var/sf/sfca is root's alone" {
	gc_setup
	run -0 generate_certs -r "$FMC" --yes
	assert_equal "$(stat -c '%a %U' "$FMC/var/sf/sfca" "$FMC/var/sf/sfca/runs")" "700 root
700 root"
	run ! as_nobody mkdir "$FMC/var/sf/sfca/runs/9999999999"
	run ! as_nobody ls "$FMC/var/sf/sfca/runs"
}

@test "hostile: a run folder in var/sf/sfca/runs that is not root's, or a link, is refused before anything changes" {
	local forged sums elsewhere=$BATS_TEST_TMPDIR/elsewhere
	gc_setup
	run -0 generate_certs -r "$FMC" --yes
	forged=$FMC/var/sf/sfca/runs/9999999999
	# made while runs/ was open to it, say: another user's run folder
	mkdir -p "$forged/new/root/.ssh"
	echo "ssh-ed25519 AAAA attacker" >"$forged/new/root/.ssh/authorized_keys"
	echo root/.ssh/authorized_keys >"$forged/MANIFEST"
	date +%s >"$forged/STAGED"
	chown -R 65534:65534 "$forged"
	sums=$(hostile_sum "$FMC")
	run -1 --separate-stderr generate_certs -r "$FMC" --yes
	assert_equal "$stderr" "generate_certs: $forged: owned by nobody (uid 65534), not by root: refused"
	assert_equal "$(hostile_sum "$FMC")" "$sums"
	run -1 --separate-stderr generate_certs -r "$FMC" --dry-run
	assert_equal "$(hostile_sum "$FMC")" "$sums"
	# a link in its place, to a folder that looks like a run: not followed
	rm -rf "$forged"
	mkdir -p "$elsewhere"
	date +%s >"$elsewhere/STAGED"
	ln -s "$elsewhere" "$forged"
	sums=$(hostile_sum "$FMC")
	run -1 --separate-stderr generate_certs -r "$FMC" --yes
	refute_output --partial "interrupted"
	assert_regex "$stderr" "^generate_certs: $forged: .*refused\$"
	assert_equal "$(hostile_sum "$FMC")" "$sums"
}

@test "hostile: a symlinked /var/tmp/certs is refused, nothing is written through it" {
	local sums target=$BATS_TEST_TMPDIR/elsewhere
	gc_setup
	mkdir "$target"
	chown 65534:65534 "$target"
	as_nobody ln -s ../../etc/sf/ca_root "$FMC/var/tmp/certs"
	sums=$(hostile_sum "$FMC")
	run -1 --separate-stderr generate_certs -r "$FMC" --yes
	assert_equal "$stderr" "generate_certs: $FMC/var/tmp/certs: a symbolic link, owned by nobody (uid 65534): refused"
	assert_equal "$(hostile_sum "$FMC")" "$sums"

	as_nobody rm "$FMC/var/tmp/certs"
	as_nobody ln -s "$target" "$FMC/var/tmp/certs"
	sums=$(hostile_sum "$FMC")
	run -1 --separate-stderr generate_certs -r "$FMC" --yes
	assert_equal "$stderr" "generate_certs: $FMC/var/tmp/certs: a symbolic link, owned by nobody (uid 65534): refused"
	assert_equal "$(hostile_sum "$FMC")" "$sums"
	assert_equal "$(ls -A "$target")" ""
}

@test "hostile: a /var/tmp/certs/<epoch> that is not root's is refused before anything changes" {
	local sums now e
	gc_setup
	mkdir -m 755 "$FMC/var/tmp/certs"
	# the folders of every epoch the run may take
	now=$(date +%s)
	for e in $(seq "$now" $((now + 60))); do
		mkdir "$FMC/var/tmp/certs/$e"
		chown 65534:65534 "$FMC/var/tmp/certs/$e"
	done
	sums=$(hostile_sum "$FMC")
	run -1 --separate-stderr generate_certs -r "$FMC" --yes
	assert_regex "$stderr" "^generate_certs: $FMC/var/tmp/certs/[0-9]+: owned by nobody \(uid 65534\), not by root: refused\$"
	assert_equal "$(hostile_sum "$FMC")" "$sums"
	# root's, but writable by others: refused as well
	for e in $(seq "$now" $((now + 60))); do
		chown 0:0 "$FMC/var/tmp/certs/$e"
		chmod 777 "$FMC/var/tmp/certs/$e"
	done
	sums=$(hostile_sum "$FMC")
	run -1 --separate-stderr generate_certs -r "$FMC" --yes
	assert_regex "$stderr" "^generate_certs: $FMC/var/tmp/certs/[0-9]+: owned by root \(uid 0\), mode 0777, not 0700 or 0755: refused\$"
	assert_equal "$(hostile_sum "$FMC")" "$sums"
}

@test "hostile: copy_sftunnel_certs refuses a FAILED_PUSH in a folder that is not root's" {
	local sums csv=$BATS_TEST_TMPDIR/d.csv u
	gc_setup
	run -0 generate_certs -r "$FMC" --yes
	u=$(sfca_host FTD-1 4)
	printf 'FTD-1,%s,admin,"pw"\n' "$(sfca_host FTD-1 3)" > "$csv"
	chmod 600 "$csv"
	# a FAILED_PUSH newer than the run's, in a folder root made but
	# handed to a user: what that user writes there is not believed
	mkdir "$FMC/var/tmp/certs/9999999999"
	chown 65534:65534 "$FMC/var/tmp/certs/9999999999"
	as_nobody sh -c 'printf "%s FTD-1 10.0.0.1 /var/sf/peers/%s/certs_pushed//sftunnel-key.pem /x\n" "$2" "$2" > "$1/FAILED_PUSH"' \
	    sh "$FMC/var/tmp/certs/9999999999" "$u"
	sums=$(hostile_sum "$FMC")
	run -1 --separate-stderr copy_sftunnel_certs -r "$FMC" "$csv"
	assert_equal "$stderr" "copy_sftunnel_certs: $FMC/var/tmp/certs/9999999999: owned by nobody (uid 65534), not by root: refused"
	assert_equal "$(hostile_sum "$FMC")" "$sums"
	# a symlinked var/tmp/certs too
	mv "$FMC/var/tmp/certs" "$FMC/var/tmp/c2"
	chown -R 65534:65534 "$FMC/var/tmp/c2"
	as_nobody ln -s c2 "$FMC/var/tmp/certs"
	sums=$(hostile_sum "$FMC")
	run -1 --separate-stderr copy_sftunnel_certs -r "$FMC" "$csv"
	assert_equal "$stderr" "copy_sftunnel_certs: $FMC/var/tmp/certs: a symbolic link, owned by nobody (uid 65534): refused"
	assert_equal "$(hostile_sum "$FMC")" "$sums"
}

# ---------------------------------------------------------------------
# The hotfix's remote step: the primary installs the secondary over SSH,
# through the secondary's /var/tmp, which every local user there can
# write (an unprivileged user plants files; a peer record lies)
# ---------------------------------------------------------------------

# hotfix_setup: an HA pair's trees, the secondary's sshd up and its
# /var/tmp everyone's (1777, as on an appliance), the installer in $D
hotfix_setup() {
	make -C "$SFCA_TOP" -s hotfix >/dev/null 3>&-
	REL=$(ls "$SFCA_TOP"/build/hotfix/Sfca_Hotfix_*.sh.REL.tar)
	NAME=$(basename "$REL" .sh.REL.tar)
	D=$(sfca_scratch)
	LAB=$D/lab
	sfca_mktree "$LAB" -b 127.83 -k ec -n 1 -H >/dev/null
	chmod 755 "$LAB"
	PRI=$LAB/hosts/FMCpri/root
	SEC=$LAB/hosts/FMCsec/root
	chmod 1777 "$SEC/var/tmp"
	"$SFCA_TOP/tests/lab/ssh/sshd-host" up "$LAB" FMCsec >/dev/null 3>&-
	SSH_UP=FMCsec
	KH=$LAB/hosts/FMCsec/ssh/known_hosts
	(umask 077; awk '$1 == "FMCsec" { print $2 }' "$LAB/passwords" >"$D/pw")
	tar -C "$D" -xf "$REL"
	X=$D/$NAME.sh
}

# as_nobody CMD...: CMD as an unprivileged local user
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

# hotfix_on_secondary: the secondary has the hotfix, and no folder of
# the upload is left in its /var/tmp
hotfix_on_secondary() {
	grep -q "^$NAME.sh.REL.tar .*uuid=$(sfca_host FMCsec 4)\$" \
	    "$SEC/etc/sf/patch_history" &&
	cmp "$PRI/usr/local/sf/bin/check_ca_expiry" \
	    "$SEC/usr/local/sf/bin/check_ca_expiry" &&
	! ls -d "$SEC"/var/tmp/sfca-hotfix.* 2>/dev/null
}

# plant: what a local user of the secondary leaves in its /var/tmp, at
# the names the installer's copy went by: the old ".part", the copy's
# own name and the temporary of a put beside it
plant_names() { echo "$NAME.sh.part $NAME.sh .$NAME.sh.sfca-tmp"; }

# vartmp_state: owner, mode, type, link target and checksum of every
# entry of the secondary's /var/tmp but certs/
vartmp_state() {
	(cd "$SEC/var/tmp" && find . -path ./certs -prune -o -printf '%p %u %m %y %l\n' |
	    sort && find . -path ./certs -prune -o -type f -print0 | sort -z |
	    xargs -0 -r sha256sum)
}

@test "hostile: hotfix: files and folders a local user made in the secondary's /var/tmp are not used, the install goes on" {
	hotfix_setup
	local f
	for f in $(plant_names); do
		as_nobody sh -c 'echo planted >"$1" && chmod 666 "$1"' - \
		    "$SEC/var/tmp/$f"
	done
	# where the copy is renamed to, a folder: the rename would fail
	rm -f "$SEC/var/tmp/$NAME.sh"
	as_nobody mkdir -m 777 "$SEC/var/tmp/$NAME.sh"
	vartmp_state >"$D/before"
	run -0 sh "$X" --root "$PRI" --secondary 127.83.0.2 \
	    --password-file "$D/pw" --known-hosts "$KH"
	assert_output --partial "the secondary FMCsec (127.83.0.2) has $NAME"
	hotfix_on_secondary
	vartmp_state >"$D/after"
	run -0 diff "$D/before" "$D/after"
}

@test "hostile: hotfix: links a local user made in the secondary's /var/tmp are not followed, the install goes on" {
	hotfix_setup
	local f
	echo precious >"$SEC/var/sf/precious"
	for f in $(plant_names); do
		as_nobody ln -s /var/sf/precious "$SEC/var/tmp/$f"
	done
	sha256sum "$SEC/var/sf/precious" >"$D/precious"
	vartmp_state >"$D/before"
	run -0 sh "$X" --root "$PRI" --secondary 127.83.0.2 \
	    --password-file "$D/pw" --known-hosts "$KH"
	assert_output --partial "the secondary FMCsec (127.83.0.2) has $NAME"
	hotfix_on_secondary
	sha256sum -c --quiet "$D/precious"
	vartmp_state >"$D/after"
	run -0 diff "$D/before" "$D/after"
}

@test "hostile: hotfix: a secondary's address that starts with '-' is an address, not an option" {
	hotfix_setup
	local j
	# the primary's record of its peer says "-a" (hfremote's accept-new)
	j=$(grep -l '"role": "fmc-ha"' "$PRI"/var/sf/peers/*/sftunnel.json)
	sed -i 's/"ip": "[^"]*"/"ip": "-a"/' "$j"
	(umask 077; printf 'FMCsec,-a,admin,%s\n' "$(cat "$D/pw")" >"$D/devices.csv")
	run -1 sh "$X" --root "$PRI" --ha-csv "$D/devices.csv" --known-hosts "$KH"
	assert_output --partial "hfremote: -a: bad SSH options"
	assert_output --partial "the secondary FMCsec (-a): install failed (status 1); installed here only"
	# typed by the operator
	run -1 sh "$X" --root "$PRI" --secondary -a --password-file "$D/pw" \
	    --known-hosts "$KH"
	assert_output --partial "hfremote: -a: bad SSH options"
	run -1 grep "^$NAME" "$SEC/etc/sf/patch_history"
}

@test "hostile: the SSH commit replaces a device's three files all or none: a failed rename rolls the others back" {
	local before u
	bound_setup
	# FTD-1 holds other files than the FMC's (so every one is replaced)
	for f in cacert.pem sftunnel-key.pem sftunnel-cert.pem; do
		printf '# old %s\n' "$f" >>"$PD1/$f"
	done
	before=$(bound_sum "$PD1")
	# the third file cannot be replaced (rename(2): EPERM)
	IMMUTABLE=$PD1/sftunnel-cert.pem
	chattr +i "$IMMUTABLE"
	run -1 copy_sftunnel_certs -r "$F" -k "$KH" -w 30 "$CSV"
	assert_output --regexp 'FTD-1 +127\.170\.1\.1 +failed +copy failed: cannot rename into /[^ ]*/sftunnel-cert\.pem: Operation not permitted; rolled back: the device keeps its old files'
	assert_output --regexp 'FTD-2 +127\.170\.1\.2 +done'
	chattr -i "$IMMUTABLE"
	# byte for byte the old files, and no temporary left beside them
	[ "$(bound_sum "$PD1")" = "$before" ]
	run -0 find "$PD1" -maxdepth 1 -name '.*sfca*'
	assert_output ''
}

@test "hostile: a sudo that refuses the password is reported as refused, at once, asked once" {
	bound_setup
	echo 3 >"$LAB/hosts/FTD-1/sudo-tries"
	bound_knob FTD-1 sudo-refuses
	SECONDS=0
	run -1 copy_sftunnel_certs -r "$F" -k "$KH" -w 30 "$CSV"
	assert_output --regexp 'FTD-1 +127\.170\.1\.1 +failed +sudo su on FTD-1 refused the password'
	assert_output --regexp 'FTD-2 +127\.170\.1\.2 +done'
	refute_output --partial 'no answer'
	# one answer to sudo's three questions
	run -0 cat "$LAB/hosts/FTD-1/ssh/tmp/sudo-attempts"
	assert_output "attempt 1"
}

# ---------------------------------------------------------------------
# The CA key's history (check_ca_expiry -v/-j/-p, sftunnel_status): run
# folders that are not root's alone are reported, never read
# ---------------------------------------------------------------------

# forge_run DIR: as the local user, a committed run folder in DIR (the
# user's) whose backup "replaced" a CA on the current CA's own key
forge_run() {
	cp "$FMC/etc/sf/ca_root/cacert.pem" "$D/public-ca.pem"
	chmod 644 "$D/public-ca.pem"
	as_nobody sh -c '
		set -e
		mkdir -p "$1/backup/etc/sf/ca_root"
		cp "$2" "$1/backup/etc/sf/ca_root/cacert.pem"
		date +%s > "$1/STAGED"
		date +%s > "$1/BACKED_UP"
		date +%s > "$1/COMMITTED"
		date +%s > "$1/DONE"
	' sh "$1" "$D/public-ca.pem"
}

@test "hostile: a run folder a local user owns, claiming the CA kept its key, is refused by check_ca_expiry and sftunnel_status, not read" {
	local runs forged sums uuid
	gc_setup
	uuid=$(sfca_host FMCpri 4)
	# an honest renewal on a new key: the truth is "new"
	run -0 generate_certs -r "$FMC" --yes
	run -0 check_ca_expiry -v -r "$FMC"
	assert_line --partial "CA key: new "
	# runs/ traversable (still no one's to write but root's), and in it a
	# folder the local user owns and fills
	runs=$FMC/var/sf/sfca/runs
	chmod 711 "$FMC/var/sf/sfca" "$runs"
	forged=$runs/9999999999
	mkdir -m 700 "$forged"
	chown 65534:65534 "$forged"
	forge_run "$forged"
	sums=$(hostile_sum "$FMC")
	run -0 --separate-stderr check_ca_expiry -v -r "$FMC"
	assert_equal "$stderr" "check_ca_expiry: $forged: owned by nobody (uid 65534), not by root: refused"
	assert_line "CA key: refused (a folder of /var/sf/sfca/runs failed the ownership check and was not read)"
	refute_output --partial "CA key: same"
	run -0 --separate-stderr check_ca_expiry -j -r "$FMC"
	assert_equal "$stderr" "check_ca_expiry: $forged: owned by nobody (uid 65534), not by root: refused"
	printf '%s\n' "$output" | jq -e '.certificates[0].ca_key == "refused" and .certificates[0].ca_key_run == 9999999999'
	run -0 --separate-stderr check_ca_expiry -p -r "$FMC"
	printf '%s\n' "$output" | promtool check metrics
	refute_output --partial "sfca_internal_ca_same_key"
	assert_line "sfca_check_ca_expiry_success 1"
	run -1 --separate-stderr sftunnel_status -r "$FMC"
	assert_equal "$stderr" "sftunnel_status: $forged: owned by nobody (uid 65534), not by root: refused"
	assert_line "CA key: refused (a folder of /var/sf/sfca/runs failed the ownership check and was not read)"
	run -1 --separate-stderr sftunnel_status -r "$FMC" -j
	printf '%s\n' "$output" | jq -e '.ca_key == "refused" and .ca_key_run == 9999999999'
	assert_equal "$(hostile_sum "$FMC")" "$sums"
	# the same folder, root's, would be believed: the forgery is a real one
	chown -R 0:0 "$forged"
	run -0 check_ca_expiry -v -r "$FMC"
	assert_line "CA key: same (as the CA replaced by the renewal /var/sf/sfca/runs/9999999999)"
	# a run folder that is a link to the user's forgery: refused, not followed
	rm -rf "$forged"
	mkdir "$D/forged" && chown 65534:65534 "$D/forged"
	forge_run "$D/forged"
	chown -R 0:0 "$D/forged"
	ln -s "$D/forged" "$forged"
	sums=$(hostile_sum "$FMC")
	run -0 --separate-stderr check_ca_expiry -v -r "$FMC"
	assert_equal "$stderr" "check_ca_expiry: $forged: a symbolic link, owned by root (uid 0): refused"
	assert_line --partial "CA key: refused "
	run -1 --separate-stderr sftunnel_status -r "$FMC" -j
	printf '%s\n' "$output" | jq -e '.ca_key == "refused"'
	assert_equal "$(hostile_sum "$FMC")" "$sums"
	# the runs folder itself the user's: refused, nothing under it read
	rm "$forged"
	chown 65534:65534 "$runs"
	run -0 --separate-stderr check_ca_expiry -v -r "$FMC"
	assert_equal "$stderr" "check_ca_expiry: $runs: owned by nobody (uid 65534), not by root: refused"
	assert_line --partial "CA key: refused "
	chown 0:0 "$runs"
	chmod 700 "$FMC/var/sf/sfca" "$runs"
	# and with the forgeries gone, the truth again
	run -0 check_ca_expiry -v -r "$FMC"
	assert_line --partial "CA key: new "
}

# ---------------------------------------------------------------------
# The copy tools and generate_certs' run markers (EXTEND says only the
# public files move): read only from folders that only root can change
# ---------------------------------------------------------------------

@test "hostile: copy tools: a run folder handed to a local user says nothing about the mode; refused before any device" {
	local sums csv=$BATS_TEST_TMPDIR/d.csv run_dir
	gc_setup
	run -0 generate_certs -r "$FMC" --yes
	run_dir=$(ls -d "$FMC"/var/sf/sfca/runs/[0-9]*)
	(umask 077; printf 'FTD-1,%s,admin,"pw"\n' "$(sfca_host FTD-1 3)" > "$csv")
	run -0 copy_sftunnel_certs -n -r "$FMC" "$csv"
	assert_line --index 1 "Renewal with new keys (/var/sf/sfca/runs/${run_dir##*/}): would copy cacert.pem, sftunnel-key.pem and sftunnel-cert.pem"
	# a newer run folder root made but handed to a user, marked as a
	# renewal on the same keys (the user cannot reach it through
	# var/sf/sfca: its state is made here as it would be)
	mkdir -m 700 "$FMC/var/sf/sfca/runs/9999999999"
	date +%s > "$FMC/var/sf/sfca/runs/9999999999/STAGED"
	date +%s > "$FMC/var/sf/sfca/runs/9999999999/EXTEND"
	chown -R 65534:65534 "$FMC/var/sf/sfca/runs/9999999999"
	sums=$(hostile_sum "$FMC")
	run -1 --separate-stderr copy_sftunnel_certs -r "$FMC" "$csv"
	assert_equal "$stderr" "copy_sftunnel_certs: $FMC/var/sf/sfca/runs/9999999999: owned by nobody (uid 65534), not by root: refused"
	run -1 --separate-stderr copy_sftunnel_certs -n -r "$FMC" "$csv"
	assert_equal "$stderr" "copy_sftunnel_certs: $FMC/var/sf/sfca/runs/9999999999: owned by nobody (uid 65534), not by root: refused"
	assert_equal "$(hostile_sum "$FMC")" "$sums"
	# a link in its place is not followed
	rm -rf "$FMC/var/sf/sfca/runs/9999999999"
	mkdir -m 700 "$BATS_TEST_TMPDIR/elsewhere"
	date +%s > "$BATS_TEST_TMPDIR/elsewhere/STAGED"
	date +%s > "$BATS_TEST_TMPDIR/elsewhere/EXTEND"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$FMC/var/sf/sfca/runs/9999999999"
	run -1 --separate-stderr copy_sftunnel_certs -n -r "$FMC" "$csv"
	assert_equal "$stderr" "copy_sftunnel_certs: $FMC/var/sf/sfca/runs/9999999999: a symbolic link, owned by root (uid 0): refused"
}

# ---------------------------------------------------------------------
# Console kits (copy_sftunnel_certs -K DIR): a local user prepares the
# kit folder, or a link in it, where root will write every device's key
# ---------------------------------------------------------------------

# kit_setup: an FMC tree after a renewal that reached no device (every
# peer in FAILED_PUSH), and $PUB, a folder everyone may write (1777, as
# /tmp), for the kit folder
kit_setup() {
	gc_setup
	generate_certs -r "$FMC" --yes >/dev/null 2>&1 3>&-
	[ -n "$(ls "$FMC"/var/tmp/certs/*/FAILED_PUSH)" ]
	PUB=$D/pub
	mkdir -m 1777 "$PUB"
}

@test "hostile: -K refuses a kit folder a local user made, or a link a local user put in its place; nothing is written through it" {
	local sums
	kit_setup
	# the user's own folder, open to root's writes
	as_nobody mkdir -m 777 "$PUB/kits"
	sums=$(hostile_sum "$FMC")
	run -1 --separate-stderr copy_sftunnel_certs -r "$FMC" -K "$PUB/kits"
	assert_equal "$stderr" "copy_sftunnel_certs: $PUB/kits: owned by nobody (uid 65534), not by root: refused"
	assert_equal "$(ls -A "$PUB/kits")" ""
	assert_equal "$(hostile_sum "$FMC")" "$sums"
	# a link to it, under the name root was given
	as_nobody ln -s kits "$PUB/k2"
	run -1 --separate-stderr copy_sftunnel_certs -r "$FMC" -K "$PUB/k2"
	assert_equal "$stderr" "copy_sftunnel_certs: $PUB/k2: a symbolic link, owned by nobody (uid 65534): refused"
	assert_equal "$(ls -A "$PUB/kits")" ""
	# a missing kit folder in the user's folder: not made there
	run -1 --separate-stderr copy_sftunnel_certs -r "$FMC" -K "$PUB/kits/new"
	assert_equal "$stderr" "copy_sftunnel_certs: $PUB/kits: owned by nobody (uid 65534), not by root: refused"
	assert_equal "$(ls -A "$PUB/kits")" ""
	assert_equal "$(hostile_sum "$FMC")" "$sums"
}

@test "hostile: -K refuses a root kit folder others can write (sticky as /tmp): a user's link to a kit's name is not followed" {
	local victim
	kit_setup
	victim=$D/victim
	echo precious >"$victim"
	mkdir -m 1777 "$PUB/kits"
	as_nobody ln -s "$victim" "$PUB/kits/FTD-1.sh"
	run -1 --separate-stderr copy_sftunnel_certs -r "$FMC" -K "$PUB/kits"
	assert_equal "$stderr" "copy_sftunnel_certs: $PUB/kits: owned by root (uid 0), mode 1777, not 0700 or 0755: refused"
	assert_equal "$(cat "$victim")" precious
	assert_equal "$(stat -c '%U %F' "$PUB/kits/FTD-1.sh")" "nobody symbolic link"
	assert_equal "$(ls -A "$PUB/kits")" "FTD-1.sh"
	# made root's 0700, the same link (left by the user before) is
	# replaced by the kit, never written through
	chmod 700 "$PUB/kits"
	run -0 copy_sftunnel_certs -r "$FMC" -K "$PUB/kits"
	assert_equal "$(cat "$victim")" precious
	assert_equal "$(stat -c '%U %a %F' "$PUB/kits/FTD-1.sh")" "root 600 regular file"
}

# ---------------------------------------------------------------------
# --check against hostile devices: what they answer is read by length
# within caps and shown encoded, and nothing on them changes
# ---------------------------------------------------------------------

# every entry of a folder (type, mode, owner, size, link target) and the
# SHA-256 of its regular files
check_tree() {
	(cd "$1" && find . -printf '%y %m %u %s %l %p\n' | sort &&
	    find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

@test "hostile: --check: a CA that is a link to the shadow file, a 1 MiB certificate and a UUID with an escape sequence are refused or reported, never read past their caps, nothing changed" {
	local before pd2
	bound_setup
	pd2=$LAB/hosts/FTD-2/root/ngfw/var/sf/peers/$(sfca_host FMCpri 4)
	# FTD-1: its CA a link to the shadow file, its certificate 1 MiB
	ln -sf /etc/shadow "$PD1/cacert.pem"
	head -c 1048576 /dev/zero | tr '\0' A >"$PD1/sftunnel-cert.pem"
	# FTD-2: its UUID carries an escape sequence (a title change)
	sed -i 's/^APPLIANCE_UUID=.*/APPLIANCE_UUID=\x1b]0;pwned\x07/' \
	    "$LAB/hosts/FTD-2/root/etc/sf/ims.conf"
	before=$(check_tree "$PD1"; check_tree "$pd2"; check_tree "$LAB/hosts/FTD-2/root/etc")
	run -4 copy_sftunnel_certs -r "$F" -k "$KH" --check "$CSV"
	assert_output --regexp 'FTD-1 +127\.170\.1\.1 +copy +known +\+0 +unreadable +- .*its CA cannot be read; its certificate does not chain to the current CA \(not a certificate\)'
	assert_output --regexp 'FTD-2 +127\.170\.1\.2 +refused +known .*/etc/sf/ims\.conf: malformed APPLIANCE_UUID'
	refute_output --partial $'\e'
	refute_output --partial 'pwned'
	refute_output --partial 'root:$'
	# the JSON document is valid and says the same
	run -4 --separate-stderr copy_sftunnel_certs -r "$F" -k "$KH" -cJ "$CSV"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/c.json"
	run -0 python3 -c 'import json, sys
v = {d["name"]: d for d in json.load(open(sys.argv[1]))["devices"]}
assert v["FTD-1"]["ca"] == "unreadable" and v["FTD-1"]["ca_sha256"] is None
assert v["FTD-1"]["cert_present"] is True and v["FTD-1"]["cert_chains_to_current_ca"] is False
assert v["FTD-2"]["verdict"] == "refused" and v["FTD-2"]["uuid"] is None' "$BATS_TEST_TMPDIR/c.json"
	[ "$(check_tree "$PD1"; check_tree "$pd2"; check_tree "$LAB/hosts/FTD-2/root/etc")" = "$before" ]
}

# ---------------------------------------------------------------------
# The copy's --json: a device's words reach the document encoded, never raw
# ---------------------------------------------------------------------

@test "hostile: copy -J: a canary whose restart answers an escape sequence, a quote and a backslash: valid JSON, the words vis-encoded, nothing raw on stdout or stderr, the other device untouched" {
	local before
	bound_setup
	# FTD-1's pmtool lies: a title change, a quote, a backslash, exit 1
	cat >"$LAB/hosts/FTD-1/root/usr/local/sbin/pmtool" <<'SH'
#!/bin/sh
printf '\033]0;pwned\007 say "hi" \\ end\n'
exit 1
SH
	before=$(check_tree "$LAB/hosts/FTD-2/root/ngfw/var/sf/peers")
	run -5 --separate-stderr copy_sftunnel_certs -r "$F" -k "$KH" -C 1 -J -w 10 "$CSV"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/c.json"
	refute_output --partial $'\e'
	refute_output --partial $'\a'
	[[ $stderr != *$'\e'* ]] && [[ $stderr != *$'\a'* ]]
	grep -qF 'Failed to restart sftunnel for FTD-1' <<<"$stderr"
	run -0 python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
v = {x["name"]: x for x in d["devices"]}
want = "pmtool restartbyid sftunnel failed: \\033]0;pwned\\a say \"hi\" \\\\ end"
assert v["FTD-1"]["result"] == "failed" and v["FTD-1"]["reason"] == want, v["FTD-1"]["reason"]
assert v["FTD-2"]["result"] == "not started"
assert d["canary"]["failed"] == "FTD-1" and d["status"] == 5' "$BATS_TEST_TMPDIR/c.json"
	[ "$(check_tree "$LAB/hosts/FTD-2/root/ngfw/var/sf/peers")" = "$before" ]
}
