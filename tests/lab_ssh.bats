#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# lab_ssh.bats -- the lab's per-host sshd and the device login dialogue

load helpers

SSHLAB=$BATS_TEST_DIRNAME/lab/ssh
FMC_UUID=11111111-2222-4333-8444-555555555555
FTD_UUID=aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee

# A two-host lab, trees made with mkdir so this file needs nothing else.
setup_file() {
	local lab r
	lab=$(sfca_scratch)
	export LAB=$lab
	cat >"$LAB/hosts.txt" <<-HOSTS
	# name role addr uuid
	fmc1 fmc 127.77.99.1 $FMC_UUID
	ftd1 ftd 127.77.99.2 $FTD_UUID
	HOSTS
	(umask 077; printf '%s\n' '# name password' 'fmc1 Fmc$pw\1"x' \
	    'ftd1 ftd-Pw_2' >"$LAB/passwords")

	r=$LAB/hosts/fmc1/root
	mkdir -p "$r/etc/sf/ca_root" "$r/var/sf/peers/$FTD_UUID" "$r/var/log" \
	    "$r/usr/local/sf/bin" "$r/usr/local/sbin"
	printf 'APPLIANCE_UUID=%s\nMODEL=lab\n' "$FMC_UUID" >"$r/etc/sf/ims.conf"
	: >"$r/var/log/messages"

	r=$LAB/hosts/ftd1/root
	mkdir -p "$r/ngfw/etc/sf" "$r/ngfw/var/sf/peers/$FMC_UUID" \
	    "$r/ngfw/var/log" "$r/etc" "$r/var" "$r/usr/local/sbin"
	ln -s ../ngfw/etc/sf "$r/etc/sf"
	ln -s ../ngfw/var/sf "$r/var/sf"
	ln -s ../ngfw/var/log "$r/var/log"
	printf 'APPLIANCE_UUID=%s\n' "$FTD_UUID" >"$r/ngfw/etc/sf/ims.conf"
	printf '#!/bin/sh\necho "lab pmtool $*"\n' >"$r/usr/local/sbin/pmtool"
	chmod 755 "$r/usr/local/sbin/pmtool"

	# What the machine looks like before: nothing of it may change.
	stat -c '%n %s %Y' /var/log/wtmp /var/log/btmp /var/log/lastlog \
	    /etc/passwd /etc/shadow /etc/group 2>/dev/null >"$LAB/system.before"
	if [ -e /run/sshd ]; then echo present >>"$LAB/system.before"; fi

	"$SSHLAB/sshd-host" up "$LAB" fmc1 3>&-
	"$SSHLAB/sshd-host" up "$LAB" ftd1 3>&-
}

teardown_file() {
	"$SSHLAB/sshd-host" down "$LAB" fmc1 3>&- || true
	"$SSHLAB/sshd-host" down "$LAB" ftd1 3>&- || true
	rm -rf "$LAB"
}

# labssh NAME [ARGS...]: plain ssh as admin, the password from the lab
labssh() {
	local name=$1 addr
	shift
	addr=$(sfca_host "$name" 3)
	SFCA_DIALOGUE_ASKPASS=1 SFCA_DIALOGUE_PWFILE=${PWFILE:-$LAB/passwords} \
	SFCA_DIALOGUE_PWNAME=${PWFILE:+}${PWFILE:-$name} \
	SSH_ASKPASS=$SSHLAB/ssh-dialogue SSH_ASKPASS_REQUIRE=force \
	timeout 20 ssh -F none -o UserKnownHostsFile="$LAB/hosts/$name/ssh/known_hosts" \
	    -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes \
	    -o NumberOfPasswordPrompts=1 -o PubkeyAuthentication=no \
	    -o ConnectTimeout="${CT:-10}" -o LogLevel=ERROR "admin@$addr" "$@" 3>&-
}

dialogue() {
	timeout 30 "$SSHLAB/ssh-dialogue" "$@" 3>&-
}

@test "sshd-host: scripts parse" {
	local f
	for f in sshd-host ssh-dialogue clish rootsh sudo bashrc; do
		run -0 bash -n "$SSHLAB/$f"
	done
}

@test "sshd-host: up runs one sshd per host, status reports it" {
	run -0 "$SSHLAB/sshd-host" status "$LAB" fmc1
	assert_output --regexp '^fmc1: up on 127\.77\.99\.1:22 \(pid [0-9]+\)$'
	run -0 "$SSHLAB/sshd-host" status "$LAB" ftd1
	run -0 pgrep -f "$LAB/hosts/fmc1/ssh/sshd_config"
	assert_equal "${#lines[@]}" 1
	assert_file_exist "$LAB/hosts/fmc1/ssh/ssh_host_ed25519_key"
	assert_file_exist "$LAB/hosts/fmc1/ssh/known_hosts"
	# A second up changes nothing.
	run -0 "$SSHLAB/sshd-host" up "$LAB" fmc1 3>&-
	assert_output "fmc1: already up"
}

@test "sshd-host: the password is kept only as a hash in root-only files" {
	local f
	for f in "$LAB/hosts/fmc1/ssh/etc/shadow" \
	    "$LAB/hosts/fmc1/ssh/chroot-etc/shadow"; do
		run -0 stat -c %a "$f"
		assert_output 600
		run -0 grep -c '^admin:\$6\$' "$f"
		run -1 grep -F 'Fmc$pw' "$f"
	done
}

@test "sshd-host: dialogue reaches the root prompt with the exact prompts" {
	run -0 dialogue -v "$LAB" fmc1
	assert_line --partial '> expert'
	assert_output --partial 'admin@fmc1:~$ sudo su'
	assert_output --partial 'Password: '
	assert_output --partial 'root@fmc1:/home/admin# '
	assert_line 'fmc1: root'
	# Typed with echo off: the password is not in the transcript.
	refute_output --partial 'Fmc$pw'
	run -0 dialogue "$LAB" ftd1
	assert_output 'ftd1: root'
}

@test "sshd-host: root commands act on the host's own tree at appliance paths" {
	run -0 dialogue "$LAB" fmc1 'id -un; cat /etc/sf/ims.conf; ls /var/sf/peers'
	assert_line root
	assert_line "APPLIANCE_UUID=$FMC_UUID"
	assert_line "$FTD_UUID"
	run -0 dialogue "$LAB" ftd1 'cat /etc/sf/ims.conf; ls /ngfw/var/sf/peers; pmtool restartbyid sftunnel'
	assert_line "APPLIANCE_UUID=$FTD_UUID"
	assert_line "$FMC_UUID"
	assert_line 'lab pmtool restartbyid sftunnel'
	# Root writes land in the tree, seen from outside at the host's path.
	run -0 dialogue "$LAB" ftd1 'echo pushed >/var/sf/peers/'"$FMC_UUID"'/mark'
	assert_file_contains "$LAB/hosts/ftd1/root/ngfw/var/sf/peers/$FMC_UUID/mark" pushed
	run -3 dialogue "$LAB" fmc1 'exit 3'
}

@test "sshd-host: the expert shell is admin, unprivileged" {
	run -0 labssh fmc1 <<-'IN'
	expert
	id -un
	touch /etc/sf/x 2>/dev/null || echo denied
	exit
	exit
	IN
	# Without a pty the CLI's "> " (stdout) may begin the line; touch's
	# complaint (stderr) is dropped, or it could split the "denied" line.
	assert_line --regexp '^(> )?admin$'
	assert_line --regexp '^(> )?denied$'
	assert_file_not_exist "$LAB/hosts/fmc1/root/etc/sf/x"
}

@test "sshd-host: the CLI runs show commands and refuses others" {
	run -0 labssh fmc1 'show version'
	assert_output --partial "UUID                      : $FMC_UUID"
	run -1 labssh ftd1 'rm -rf /'
	assert_output --partial 'Syntax error: Illegal command: rm -rf /'
	# "ssh admin@host expert" is the expert shell on stdin.
	run -0 labssh fmc1 expert <<<'id -un'
	assert_line admin
	run -0 labssh fmc1 help
	assert_output --partial expert
}

@test "sshd-host: a wrong login password is refused" {
	echo 'not-the-password' >"$BATS_TEST_TMPDIR/pw"
	PWFILE=$BATS_TEST_TMPDIR/pw run -255 labssh fmc1 'show version'
	run -255 dialogue -P "$BATS_TEST_TMPDIR/pw" "$LAB" fmc1 id
	assert_output 'ssh-dialogue: fmc1: login refused'
	# Another host's password does not open this one.
	awk '$1 == "ftd1" { print $2 }' "$LAB/passwords" >"$BATS_TEST_TMPDIR/pw"
	run -255 dialogue -P "$BATS_TEST_TMPDIR/pw" "$LAB" fmc1 id
}

@test "sshd-host: a wrong sudo password stays in the expert shell" {
	echo 'Fmc$pw' >"$BATS_TEST_TMPDIR/pw"
	run -255 dialogue -S "$BATS_TEST_TMPDIR/pw" "$LAB" fmc1 id
	assert_output 'ssh-dialogue: fmc1: sudo su: wrong password'
	run -0 labssh fmc1 <<-'IN'
	expert
	sudo su
	wrong
	id -un
	exit
	exit
	IN
	assert_output --partial 'Sorry, try again.'
	assert_line --regexp '^(> )?admin$'
	refute_line --regexp '^(> )?root$'
}

@test "sshd-host: a direct-shell host lands in the expert shell" {
	run -0 "$SSHLAB/sshd-host" down "$LAB" fmc1 3>&-
	run -0 "$SSHLAB/sshd-host" up --direct-shell "$LAB" fmc1 3>&-
	assert_output 'fmc1: up on 127.77.99.1:22 (shell)'
	run -0 labssh fmc1 'id -un; cat /etc/sf/ims.conf'
	assert_line admin
	assert_line "APPLIANCE_UUID=$FMC_UUID"
	run -0 dialogue -v "$LAB" fmc1 'id -un'
	refute_output --partial '> '
	assert_line root
	# The marker file does the same, --cli overrides it.
	touch "$LAB/hosts/fmc1/direct-shell"
	run -0 "$SSHLAB/sshd-host" down "$LAB" fmc1 3>&-
	run -0 "$SSHLAB/sshd-host" up "$LAB" fmc1 3>&-
	assert_output --partial '(shell)'
	run -0 "$SSHLAB/sshd-host" down "$LAB" fmc1 3>&-
	run -0 "$SSHLAB/sshd-host" up --cli "$LAB" fmc1 3>&-
	assert_output --partial '(cli)'
	rm "$LAB/hosts/fmc1/direct-shell"
	run -0 labssh fmc1 'show hostname'
	assert_output fmc1
}

@test "sshd-host: stop makes a host unreachable, cont brings it back" {
	run -0 "$SSHLAB/sshd-host" stop "$LAB" ftd1
	run -4 "$SSHLAB/sshd-host" status "$LAB" ftd1
	assert_output --regexp '^ftd1: stopped'
	SECONDS=0
	CT=2 run -255 labssh ftd1 'show hostname'
	assert_output --partial 'timed out'
	[ "$SECONDS" -lt 10 ]
	# The other host is not affected.
	run -0 labssh fmc1 'show hostname'
	run -0 "$SSHLAB/sshd-host" cont "$LAB" ftd1
	run -0 "$SSHLAB/sshd-host" status "$LAB" ftd1
	run -0 labssh ftd1 'show hostname'
	assert_output ftd1
}

@test "sshd-host: a session may wait 40 s before it logs in (LoginGraceTime 120)" {
	# A fleet client connects ahead and logs in when one of its slots
	# frees; at 30 s sshd dropped the session without a log line.
	run -0 timeout 60 python3 -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 22), timeout=10)
s.settimeout(10)
if not s.recv(256).startswith(b"SSH-2.0-"):
	sys.exit("no banner")
time.sleep(40)
s.sendall(b"SSH-2.0-labtest\r\n")
if not s.recv(4096):
	sys.exit("closed by the server")
print("kex after 40 s")' "$(sfca_host ftd1 3)"
	assert_output "kex after 40 s"
	run -0 grep -c '^LoginGraceTime 120$' "$LAB/hosts/ftd1/ssh/sshd_config"
}

@test "sshd-host: down leaves no process and no mount behind" {
	local w i f found=
	# A session still open when the host goes down (its stdin a fifo we
	# hold open; fd 3 closed so bats does not wait on it).
	mkfifo "$BATS_TEST_TMPDIR/in"
	labssh ftd1 <"$BATS_TEST_TMPDIR/in" >/dev/null 2>&1 3>&- &
	exec {w}>"$BATS_TEST_TMPDIR/in"
	# Wait for its clish: a process with this host's mounts.
	for i in $(seq 100); do
		for f in $(grep -l -F "$LAB/hosts/ftd1/" /proc/[0-9]*/mountinfo \
		    2>/dev/null); do
			[ "$(cat "${f%/mountinfo}/comm" 2>/dev/null)" = clish ] &&
			    found=1
		done
		[ -n "$found" ] && break
		sleep 0.1
	done
	[ -n "$found" ]
	run -0 "$SSHLAB/sshd-host" down "$LAB" ftd1 3>&-
	assert_output 'ftd1: down'
	exec {w}>&-
	run -0 "$SSHLAB/sshd-host" down "$LAB" ftd1 3>&-
	run -3 "$SSHLAB/sshd-host" status "$LAB" ftd1
	run -1 pgrep -f "$LAB/hosts/ftd1/"
	# No process on the machine has a mount of this host any more.
	run grep -l -F "$LAB/hosts/ftd1/" /proc/[0-9]*/mountinfo
	refute_output --regexp '^/proc/[0-9]+/mountinfo$'
	run -1 grep -F "$LAB" /proc/self/mountinfo /proc/1/mountinfo
	run -255 labssh ftd1 'show hostname'
	# Up again after down.
	run -0 "$SSHLAB/sshd-host" up "$LAB" ftd1 3>&-
	run -0 dialogue "$LAB" ftd1 'cat /etc/sf/ims.conf'
	assert_output "APPLIANCE_UUID=$FTD_UUID"
}

@test "sshd-host: the machine outside the lab folder is unchanged" {
	local now
	now=$(stat -c '%n %s %Y' /var/log/wtmp /var/log/btmp /var/log/lastlog \
	    /etc/passwd /etc/shadow /etc/group 2>/dev/null
	    if [ -e /run/sshd ]; then echo present; fi)
	assert_equal "$now" "$(cat "$LAB/system.before")"
	run -1 grep -F "$LAB" /proc/self/mountinfo
	run -0 grep -c 'Accepted keyboard-interactive/pam for admin' \
	    "$LAB/hosts/fmc1/ssh/sshd.log"
}

@test "sshd-host: refuses a tree sshd cannot chroot to, and bad input" {
	local lab=$LAB/bad
	mkdir -p "$lab/hosts/h1/root"
	chmod 775 "$lab"
	echo 'h1 ftd 127.77.99.9 0000' >"$lab/hosts.txt"
	(umask 077; echo 'h1 pw' >"$lab/passwords")
	run -1 "$SSHLAB/sshd-host" up "$lab" h1 3>&-
	assert_output "sshd-host: $lab: writable by group or others, sshd refuses to chroot there"
	chmod 755 "$lab"
	chmod 644 "$lab/passwords"
	run -1 "$SSHLAB/sshd-host" up "$lab" h1 3>&-
	assert_output "sshd-host: $lab/passwords: mode must be 0600"
	run -1 "$SSHLAB/sshd-host" up "$lab" nosuch 3>&-
	assert_output "sshd-host: nosuch: no such host in $lab/hosts.txt"
	echo 'h2 ftd 10.0.0.1 0000' >>"$lab/hosts.txt"
	run -1 "$SSHLAB/sshd-host" up "$lab" h2 3>&-
	assert_output --partial 'is not a 127.0.0.0/8 address'
	run -2 "$SSHLAB/sshd-host" frobnicate "$lab" h1
	run -2 "$SSHLAB/sshd-host" up "$lab"
}
