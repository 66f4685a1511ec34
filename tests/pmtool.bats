#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# pmtool.bats -- restartbyid sftunnel on a running lab (127.95.x.x)

load helpers

setup_file() {
	SCRATCH=$(sfca_scratch)
	export SCRATCH LAB=$SCRATCH/lab SFCA_LAB=$SCRATCH/lab
	lab up -n 2 -k ec -b 127.95 -i 1 --no-ssh -t 15 3>&-
	mktree -o "$SCRATCH/idle" -n 1 -k ec -b 127.95 3>&-
}

teardown_file() {
	lab down --purge 3>&-
	rm -rf "$SCRATCH"
}

@test "pmtool: restartbyid sftunnel re-execs the daemon (same pid) and the tunnel comes back" {
	local r pid gen
	r=$(lab root FTD-1)
	pid=$(cat "$r/var/sf/run/sftunnel.pid")
	gen=$(sfctl -r "$r" status | sed -n 's/^daemon .*gen=\([0-9]*\).*/\1/p')
	SFCA_ROOT=$r run -0 "$r/usr/local/sbin/pmtool" restartbyid sftunnel
	assert_output ""
	run -0 sfctl -r "$r" status
	assert_line --regexp "^daemon pid=$pid gen=$((gen + 1)) kind=ftd"
	run -0 grep -F "Restarting sftunnel" "$r/var/log/messages"
	run -0 lab wait-up FTD-1 -t 10
	run -0 sftunnel_status -r "$(lab root FMCpri)" --brief
}

@test "pmtool: -r names the root; the FMC restarts and every FTD reconnects" {
	run -0 pmtool -r "$(lab root FMCpri)" restartbyid sftunnel
	run -0 lab wait-up -t 15
}

@test "pmtool: an unknown id is exit 2" {
	run -2 pmtool restartbyid snort
	assert_output "pmtool: snort: unknown process id"
}

@test "pmtool: no daemon is exit 1 with a clear error" {
	run -1 pmtool -r "$SCRATCH/idle/hosts/FTD-1/root" restartbyid sftunnel
	assert_output --partial "pmtool: sftunnel: not running"
}

@test "pmtool: usage errors exit 2, --help 0" {
	run -2 pmtool -r /nonexistent restartbyid sftunnel
	assert_output "pmtool: /nonexistent: No such file or directory"
	run -2 pmtool
	run -2 pmtool restartbyid
	run -2 pmtool stop sftunnel
	run -2 pmtool -x restartbyid sftunnel
	run -0 pmtool --help
	assert_output "usage: pmtool [-hV] [-r root] restartbyid id"
}
