#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# lab.bats -- the lab driver: up, status, cut/heal, restart, exec, down (127.96.x.x)

load helpers

setup_file() {
	SCRATCH=$(sfca_scratch)
	export SCRATCH LAB=$SCRATCH/lab SFCA_LAB=$SCRATCH/lab
	lab up -n 2 -k ec -b 127.96 -i 1 -t 20 3>&-
}

teardown_file() {
	lab down --purge 3>&-
	rm -rf "$SCRATCH"
}

@test "lab: up starts a daemon and an sshd per host; status shows every tunnel up" {
	run -0 lab status
	assert_line --regexp '^FMCpri +fmc +127\.96\.0\.1 +running +2/2 up$'
	assert_line --regexp '^FTD-1 +ftd +127\.96\.1\.1 +running +1/1 up$'
	assert_line --regexp '^FTD-2 +ftd +127\.96\.1\.2 +running +1/1 up$'
	run -0 "$SFCA_TOP/tests/lab/ssh/sshd-host" status "$LAB" FTD-1
	run -0 test -x "$(lab root FTD-1)/usr/local/sbin/pmtool"
	run -1 lab up -n 1 --no-ssh
	assert_output --partial "a lab is already there"
}

@test "lab: root, addr, uuid and exec name a host" {
	run -0 lab root FTD-1
	assert_output "$LAB/hosts/FTD-1/root"
	run -0 lab addr FTD-2
	assert_output 127.96.1.2
	run -0 lab uuid FMCpri
	assert_output "$(sfca_host FMCpri 4)"
	run -0 lab exec FTD-1 sh -c 'echo "$SFCA_ROOT"'
	assert_output "$LAB/hosts/FTD-1/root"
	run -3 lab exec FTD-1 sh -c 'exit 3'
	SFCA_LAB=/nonexistent run -0 lab -d "$LAB" addr FMCpri
	assert_output 127.96.0.1
}

@test "lab: cut makes a host unreachable, heal brings it back" {
	run -0 lab cut FTD-2
	run -0 lab status
	assert_line --regexp '^FTD-2 +ftd +127\.96\.1\.2 +cut +-$'
	run -4 "$SFCA_TOP/tests/lab/ssh/sshd-host" status "$LAB" FTD-2
	run -0 lab wait-down FTD-2 -t 10
	run -1 lab wait-up FTD-2 -t 1
	assert_output --partial "timed out after 1s waiting for FTD-2's tunnels to come up"
	run -0 lab heal FTD-2
	run -0 "$SFCA_TOP/tests/lab/ssh/sshd-host" status "$LAB" FTD-2
	run -0 lab wait-up FTD-2 -t 15
}

@test "lab: restart restarts a host's sftunnel through its pmtool" {
	run -0 lab restart FMCpri
	run -0 grep -F "Restarting sftunnel" "$(lab root FMCpri)/var/log/messages"
	run -0 lab wait-up -t 15
}

@test "lab: bad hosts exit 1, bad usage exits 2" {
	run -1 lab root FTD-9
	assert_output "lab: FTD-9: no such host in $LAB/hosts.txt"
	run -2 lab frobnicate
	run -2 lab wait-down
	run -2 lab cut
	run -2 lab up -i x
	run -1 lab -d "$SCRATCH/none" status
	run -0 lab -h
	assert_output --partial "usage: lab"
}

@test "lab: up -P gives every host the password of a file, never in argv" {
	local l=$SCRATCH/pw
	(umask 077; echo 'Bench-pw_1' >"$SCRATCH/pwfile")
	run -2 lab -d "$l" up -n 1 --no-ssh -P "$SCRATCH/none"
	run -2 lab -d "$l" up -n 1 --no-ssh -p x -P "$SCRATCH/pwfile"
	run -0 lab -d "$l" up -n 1 -k ec -b 127.95 --no-ssh -t 20 -P "$SCRATCH/pwfile" 3>&-
	run -0 cat "$l/passwords"
	assert_line 'FMCpri Bench-pw_1'
	assert_line 'FTD-1 Bench-pw_1'
	assert_equal "${#lines[@]}" 2
	run -0 stat -c %a "$l/passwords"
	assert_output 600
	run -0 lab -d "$l" down --purge 3>&-
}

@test "lab: down stops only what it started, verified; --purge removes the lab" {
	local pids p other r
	pids=$(cat "$LAB"/hosts/*/sftunneld.lab-pid)
	# a daemon the lab did not start must survive lab down
	mktree -o "$SCRATCH/other" -n 0 -k ec -b 127.96 3>&-
	r=$SCRATCH/other/hosts/FMCpri/root
	sftunneld -d -r "$r" -a 127.96.9.1 >/dev/null 2>&1 3>&- &
	other=$!
	run -0 lab down
	for p in $pids; do
		run -1 test -d "/proc/$p"
	done
	run -0 test -d "/proc/$other"
	run -3 "$SFCA_TOP/tests/lab/ssh/sshd-host" status "$LAB" FTD-1
	assert_file_exist "$LAB/hosts.txt"
	run -0 lab down --purge
	assert_file_not_exist "$LAB"
	kill "$other"
	wait "$other" || true
}
