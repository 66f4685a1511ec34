#!/usr/bin/env bats
# generate_certs: transcript, refusals, safety (kills, full disk, lock), HA

load helpers

setup() {
	LAB=$(sfca_scratch)
	# EC keys make the lab quick; generate_certs itself always makes RSA.
	# 100 days and a half left: the day count is stable during the test.
	sfca_mktree "$LAB" -n 3 -k ec -l $((100 * 86400 + 43200))
	FMC=$LAB/hosts/FMCpri/root
	FMCUUID=$(sfca_host FMCpri 4)
}

teardown() {
	[ -n "${HOLDER:-}" ] && kill "$HOLDER" 2>/dev/null
	[ -n "${LABD:-}" ] && lab -d "$LABD" down --purge 3>&-
	rm -rf "$LAB"
}

# Checksums and modes of the whole tree but the run log and var/sf/sfca
# (the lock and the run folders: generate_certs' own state).
tree_sum() {
	(cd "$1" && find . \( -path ./var/log/sf/sfca_generation.log -o \
	    -path ./var/sf/sfca \) -prune -o \
	    -printf '%p %m %s\n' | sort &&
	    find . \( -path ./var/log/sf/sfca_generation.log -o \
	    -path ./var/sf/sfca \) -prune -o -type f -print0 | sort -z |
	    xargs -0 sha256sum)
}

pubsum() { openssl pkey -in "$1" -pubout | sha256sum; }
certpubsum() { openssl x509 -in "$1" -noout -pubkey | sha256sum; }

# Every certificate chains to the tree's CA and every key matches.
assert_consistent() {
	local r=$1 ca=$1/etc/sf/ca_root/cacert.pem d
	[ "$(pubsum "$r/etc/sf/ca_root/private/cakey.pem")" = \
	    "$(certpubsum "$ca")" ] || fail "CA key does not match the CA"
	for d in "$r/etc/sf/keys" "$r"/var/sf/peers/*/ \
	    "$r"/var/sf/peers/*/certs_pushed; do
		openssl verify -CAfile "$ca" "$d/sftunnel-cert.pem" >/dev/null ||
		    fail "$d: does not chain to the CA"
		[ "$(pubsum "$d/sftunnel-key.pem")" = \
		    "$(certpubsum "$d/sftunnel-cert.pem")" ] ||
		    fail "$d: key does not match"
	done
}

# FAILED_PUSH of a run folder: var/tmp/certs/<its epoch>/FAILED_PUSH.
failed_push() { echo "$FMC/var/tmp/certs/${1##*/}/FAILED_PUSH"; }

# The one run folder (var/sf/sfca/runs/<epoch>) with a DONE marker.
done_run() {
	local d n=0 r=
	for d in "$FMC"/var/sf/sfca/runs/*/; do
		[ -e "$d/DONE" ] && { r=${d%/}; n=$((n + 1)); }
	done
	[ "$n" -eq 1 ] || return 1
	echo "$r"
}

# Answer the prompts on a terminal: tty_run PRINTF-FORMAT ARGS...
tty_run() {
	local answers=$1
	shift
	# shellcheck disable=SC2059
	printf "$answers" | script -qec "generate_certs $*" /dev/null
}

@test "generate_certs: --help prints the usage on stdout, exit 0" {
	run -0 generate_certs --help
	assert_output --partial "usage: generate_certs"
	run -0 generate_certs -h
	assert_output --partial "usage: generate_certs"
}

@test "generate_certs: --help lists every option of the SYNOPSIS, the exit statuses, the manual" {
	run -0 sfca_help_check "$SFCA_TOP/man/generate_certs.8" generate_certs
}

@test "generate_certs: a bad option or an argument is a usage error, exit 2" {
	run -2 generate_certs --bogus
	run -2 generate_certs -r "$FMC" extra
	run -2 generate_certs -j 0 -r "$FMC"
	run -2 generate_certs -t abc -r "$FMC"
}

@test "generate_certs: a root that is not a folder is a usage error, exit 2" {
	run -2 generate_certs -r /nonexistent -y
	assert_output "generate_certs: /nonexistent: No such file or directory"
	run -2 generate_certs -r "$FMC/etc/sf/ims.conf" -y
	assert_output "generate_certs: $FMC/etc/sf/ims.conf: not a directory"
	SFCA_ROOT=/nonexistent run -2 generate_certs -y
	assert_output "generate_certs: /nonexistent: No such file or directory"
}

@test "generate_certs: --version" {
	run -0 generate_certs --version
	assert_output "generate_certs (sfca) 0.1"
	run -0 generate_certs -V
	assert_output "generate_certs (sfca) 0.1"
}

@test "generate_certs: every peer disconnected: the vendor transcript line for line" {
	local na expect n
	na=$(openssl x509 -noout -enddate -in "$FMC/etc/sf/ca_root/cacert.pem" | cut -d= -f2)
	run -0 --separate-stderr generate_certs -r "$FMC" --yes
	expect="setting log file to /var/log/sf/sfca_generation.log
You are about to generate new certificates for FMC and devices.
After successful cert generation, device specific certs will be pushed automatically
If the connection between FMC and a device is down, user needs to copy the certificates onto the device manually
For more details on disconnected devices, use sftunnel_status.pl
Do you want to continue? [yes/no]:yes
Current ca_root expires in 100 days - at $na
Do you want to continue? [yes/no]:yes"
	for n in FTD-1 FTD-2 FTD-3; do
		expect="$expect
Failed to push to $n = /var/sf/peers/$FMCUUID/cacert.pem
Failed to push to $n = /var/sf/peers/$FMCUUID/sftunnel-key.pem
Failed to push to $n = /var/sf/peers/$FMCUUID/sftunnel-cert.pem"
	done
	run_dir=$(done_run)
	expect="$expect
Some files were failed to be pushed to remote peers. For more details check /var/tmp/certs/${run_dir##*/}/FAILED_PUSH"
	assert_output "$expect"
	assert_equal "$stderr" ""
}

@test "generate_certs: FAILED_PUSH holds the five fields for every file, in the run's epoch folder" {
	local before after run_dir n u ip expect=
	before=$(date +%s)
	run -0 generate_certs -r "$FMC" -y
	after=$(date +%s)
	run_dir=$(done_run)
	[ "${run_dir##*/}" -ge "$before" ] && [ "${run_dir##*/}" -le "$after" ]
	for n in FTD-1 FTD-2 FTD-3; do
		u=$(sfca_host "$n" 4)
		ip=$(sfca_host "$n" 3)
		expect="$expect$u $n $ip /etc/sf/ca_root/cacert.pem /var/sf/peers/$FMCUUID/cacert.pem
$u $n $ip /var/sf/peers/$u/certs_pushed//sftunnel-key.pem /var/sf/peers/$FMCUUID/sftunnel-key.pem
$u $n $ip /var/sf/peers/$u/certs_pushed//sftunnel-cert.pem /var/sf/peers/$FMCUUID/sftunnel-cert.pem
"
	done
	assert_equal "$(cat "$(failed_push "$run_dir")")" "${expect%$'\n'}"
}

@test "generate_certs: the new CA is RSA-2048, SHA-256, 3650 days, v3 CA, SPEC subject; every identity chains to it" {
	local ca=$FMC/etc/sf/ca_root/cacert.pem old nb na text
	old=$(openssl x509 -noout -fingerprint -in "$ca")
	run -0 generate_certs -r "$FMC" -y
	[ "$(openssl x509 -noout -fingerprint -in "$ca")" != "$old" ]
	text=$(openssl x509 -noout -text -in "$ca")
	[[ $text == *"Public-Key: (2048 bit)"* ]]
	[[ $text == *"rsaEncryption"* ]]
	[[ $text == *"Signature Algorithm: sha256WithRSAEncryption"* ]]
	[[ $text == *"CA:TRUE"* ]]
	[[ $text == *"Version: 3 (0x2)"* ]]
	run -0 openssl x509 -noout -subject -nameopt compat -in "$ca"
	assert_output "subject=/title=InternalCA/OU=Intrusion Management System/CN=$FMCUUID/O=Cisco Systems, Inc"
	nb=$(date -u -d "$(openssl x509 -noout -startdate -in "$ca" | cut -d= -f2)" +%s)
	na=$(date -u -d "$(openssl x509 -noout -enddate -in "$ca" | cut -d= -f2)" +%s)
	# from a day before the run to 3650 days after it
	assert_equal $((na - nb)) $((3651 * 86400))
	assert_consistent "$FMC"
	# certs_pushed/ is what the peers get: the same as the peer folder
	for d in "$FMC"/var/sf/peers/*/; do
		cmp "$d/sftunnel-cert.pem" "$d/certs_pushed/sftunnel-cert.pem"
		cmp "$d/sftunnel-key.pem" "$d/certs_pushed/sftunnel-key.pem"
	done
	# a fresh CA database: one V line per identity, the CRL of the new CA
	assert_equal "$(grep -c '^V' "$FMC/etc/sf/ca_root/index.txt")" 4
	openssl crl -in "$FMC/etc/sf/ca_root/crl.pem" -CAfile "$ca" -noout
}

# notbefore/notafter FILE: the validity bounds as epoch seconds
notbefore() { date -u -d "$(openssl x509 -noout -startdate -in "$1" | cut -d= -f2)" +%s; }
notafter() { date -u -d "$(openssl x509 -noout -enddate -in "$1" | cut -d= -f2)" +%s; }

@test "generate_certs: every certificate it issues starts a day before the run, ends 3650 days after it" {
	local run_dir start f
	run -0 generate_certs -r "$FMC" -y
	run_dir=$(done_run)
	start=${run_dir##*/}
	for f in "$FMC/etc/sf/ca_root/cacert.pem" \
	    "$FMC/etc/sf/keys/sftunnel-cert.pem" \
	    "$FMC"/var/sf/peers/*/sftunnel-cert.pem \
	    "$FMC"/var/sf/peers/*/certs_pushed/sftunnel-cert.pem; do
		assert_equal "$(notbefore "$f")" $((start - 86400))
		assert_equal "$(notafter "$f")" $((start + 3650 * 86400))
	done
	# a device clock a day behind accepts them, an older one does not
	f=$(ls "$FMC"/var/sf/peers/*/sftunnel-cert.pem | head -1)
	run -0 openssl verify -attime $((start - 86400 + 60)) \
	    -CAfile "$FMC/etc/sf/ca_root/cacert.pem" "$f"
	run -2 openssl verify -attime $((start - 86400 - 60)) \
	    -CAfile "$FMC/etc/sf/ca_root/cacert.pem" "$f"
	assert_output --partial "certificate is not yet valid"
}

@test "generate_certs: --backdate sets the start of validity, 0 to 604800 seconds" {
	local run_dir start f
	run -0 generate_certs -r "$FMC" -y --backdate 0
	run_dir=$(done_run)
	start=${run_dir##*/}
	for f in "$FMC/etc/sf/ca_root/cacert.pem" "$FMC"/var/sf/peers/*/sftunnel-cert.pem; do
		assert_equal "$(notbefore "$f")" "$start"
		assert_equal "$(notafter "$f")" $((start + 3650 * 86400))
	done
	run -2 generate_certs -r "$FMC" -y -b 604801
	assert_output --partial "generate_certs: -b 604801: too large"
	run -2 generate_certs -r "$FMC" -y -b -1
	run -2 generate_certs -r "$FMC" -y -b 1d
}

@test "generate_certs: keys are 0600, backups of every replaced file are kept" {
	local sums run_dir f
	sums=$(tree_sum "$FMC")
	cp -a "$FMC" "$BATS_TEST_TMPDIR/orig"
	run -0 generate_certs -r "$FMC" -y
	run_dir=$(done_run)
	for f in "$FMC/etc/sf/ca_root/private/cakey.pem" \
	    "$FMC/etc/sf/keys/sftunnel-key.pem" \
	    "$FMC"/var/sf/peers/*/sftunnel-key.pem \
	    "$FMC"/var/sf/peers/*/certs_pushed/sftunnel-key.pem \
	    "$run_dir"/backup/etc/sf/ca_root/private/cakey.pem; do
		assert_equal "$(stat -c %a "$f")" 600
	done
	while read -r f; do
		cmp "$BATS_TEST_TMPDIR/orig/$f" "$run_dir/backup/$f"
		! cmp -s "$BATS_TEST_TMPDIR/orig/$f" "$FMC/$f"
	done < <(grep -v -e index.txt -e serial -e crl.pem "$run_dir/MANIFEST")
	assert_equal "$(wc -l < "$run_dir/MANIFEST")" $((3 * 4 + 7))
	# the staged copies of the keys are gone once done
	assert_not_exist "$run_dir/new"
}

@test "generate_certs: the run folder is var/sf/sfca/runs/<epoch>, root's alone; var/tmp/certs/<epoch> holds FAILED_PUSH only" {
	local run_dir e
	run -0 generate_certs -r "$FMC" -y
	run_dir=$(done_run)
	e=${run_dir##*/}
	assert_equal "$run_dir" "$FMC/var/sf/sfca/runs/$e"
	assert_equal "$(stat -c '%a %u' "$FMC/var/sf/sfca" "$FMC/var/sf/sfca/runs" "$run_dir" "$run_dir/backup")" "700 0
700 0
700 0
700 0"
	assert_file_exist "$FMC/var/sf/sfca/runs/.generate_certs.lock"
	assert_file_exist "$run_dir/MANIFEST"
	# nothing but the vendor's report where everyone can look
	assert_equal "$(ls -A "$FMC/var/tmp/certs")" "$e"
	assert_equal "$(ls -A "$FMC/var/tmp/certs/$e")" "FAILED_PUSH"
	assert_equal "$(stat -c '%a %u' "$FMC/var/tmp/certs/$e" "$FMC/var/tmp/certs/$e/FAILED_PUSH")" "755 0
644 0"
}

@test "generate_certs: killed with the commit's temporaries in place: the next run completes and leaves no temporary anywhere" {
	local before
	before=$(find "$FMC" -name '.*.??????' | wc -l)
	assert_equal "$before" 0
	SFCA_TEST_KILL_AT=commit-tmp run -137 generate_certs -r "$FMC" -y
	# the window is real: copies of private keys lie next to the keys
	run -0 find "$FMC/var/sf/peers" "$FMC/etc/sf" -name '.*.??????'
	refute_output ""
	run -0 generate_certs -r "$FMC" -y
	assert_line --partial "Completing the interrupted renewal in /var/sf/sfca/runs/"
	assert_consistent "$FMC"
	done_run
	run -0 find "$FMC" -name '.*.??????'
	assert_output ""
}

@test "generate_certs: the commit keeps each replaced file's mode and owner; a missing ca_root/private is made 0700" {
	local u=$(sfca_host FTD-1 4) d
	d=$FMC/var/sf/peers/$u
	chown 65534:65534 "$d/sftunnel-cert.pem"
	chmod 640 "$d/sftunnel-cert.pem"
	chown 0:65534 "$d/certs_pushed/sftunnel-key.pem"
	chmod 440 "$d/certs_pushed/sftunnel-key.pem"
	chmod 444 "$FMC/etc/sf/ca_root/cacert.pem"
	SFCA_TEST_KILL_AT=backed-up run -137 generate_certs -r "$FMC" -y
	rm -r "$FMC/etc/sf/ca_root/private"
	umask 022
	run -0 generate_certs -r "$FMC" -y
	assert_consistent "$FMC"
	assert_equal "$(stat -c '%a %u %g' "$d/sftunnel-cert.pem")" "640 65534 65534"
	assert_equal "$(stat -c '%a %u %g' "$d/certs_pushed/sftunnel-key.pem")" "440 0 65534"
	assert_equal "$(stat -c '%a %u %g' "$FMC/etc/sf/ca_root/cacert.pem")" "444 0 0"
	# the others as they were
	assert_equal "$(stat -c '%a %u' "$d/sftunnel-key.pem" "$d/certs_pushed/sftunnel-cert.pem")" "600 0
644 0"
	assert_equal "$(stat -c '%a %u' "$FMC/etc/sf/ca_root/private" "$FMC/etc/sf/ca_root/private/cakey.pem")" "700 0
600 0"
}

@test "generate_certs: the backups of the last 3 runs are kept (--keep-runs N), older run folders removed without following a link" {
	local runs=$FMC/var/sf/sfca/runs first outside=$BATS_TEST_TMPDIR/outside
	run -0 generate_certs -r "$FMC" -y
	first=$(ls "$runs")
	# a link in the oldest backup must not lead the removal out of it
	mkdir "$outside" && echo keep > "$outside/file"
	ln -s "$outside" "$runs/$first/backup/link"
	ln -s "$outside/file" "$runs/$first/backup/filelink"
	for _ in 1 2 3; do
		run -0 generate_certs -r "$FMC" -y
	done
	run -0 ls "$runs"
	assert_equal "${#lines[@]}" 3
	refute_line "$first"
	assert_equal "$(cat "$outside/file")" keep
	# every one kept holds its backup
	for d in "$runs"/*/; do
		assert_file_exist "$d/DONE"
		assert_file_exist "$d/backup/etc/sf/ca_root/private/cakey.pem"
	done
	run -0 generate_certs -r "$FMC" -y --keep-runs 1
	run -0 ls "$runs"
	assert_equal "${#lines[@]}" 1
	assert_file_exist "$(done_run)/backup/etc/sf/ca_root/cacert.pem"
	run -2 generate_certs -r "$FMC" -y --keep-runs 0
	assert_output --partial "generate_certs: --keep-runs 0: too small"
	run -2 generate_certs -r "$FMC" -y --keep-runs x
}

@test "generate_certs: the log tells the run and holds no key material" {
	run -0 generate_certs -r "$FMC" -y
	grep -q "renewal complete" "$FMC/var/log/sf/sfca_generation.log"
	run -1 grep -r "PRIVATE KEY" "$FMC/var/log"
	run -1 grep -r "BEGIN" "$FMC/var/log/sf/sfca_generation.log"
}

@test "generate_certs: answers other than yes abort and change nothing" {
	local sums ans
	sums=$(tree_sum "$FMC")
	for ans in 'no\n' 'y\n' 'YES\n' 'yes please\n' '\n' '' 'yes\nno\n' \
	    'yes\n\n' 'yes\n'; do
		run -1 tty_run "$ans" -r "$FMC"
		assert_output --partial "generate_certs: aborted: nothing was changed"
		assert_equal "$(tree_sum "$FMC")" "$sums"
	done
	# the second prompt is reached only after a yes
	run -1 tty_run 'yes\nno\n' -r "$FMC"
	assert_output --partial "Current ca_root expires in"
	run -1 tty_run 'no\n' -r "$FMC"
	refute_output --partial "Current ca_root expires in"
}

@test "generate_certs: yes twice on a terminal renews" {
	run -0 tty_run 'yes\nyes\n' -r "$FMC"
	assert_output --partial "Some files were failed to be pushed"
	assert_consistent "$FMC"
	done_run
}

@test "generate_certs: no terminal and no --yes refuses, nothing changes" {
	local sums
	sums=$(tree_sum "$FMC")
	run -1 --separate-stderr generate_certs -r "$FMC" < /dev/null
	assert_equal "$stderr" "generate_certs: standard input is not a terminal: answer the prompts on a terminal, or use --yes"
	assert_equal "$(tree_sum "$FMC")" "$sums"
	assert_not_exist "$FMC/var/log/sf/sfca_generation.log"
}

@test "generate_certs: --dry-run tells what it would do to which peer and changes nothing" {
	local sums n
	sums=$(tree_sum "$FMC")
	run -0 generate_certs -r "$FMC" --dry-run < /dev/null
	assert_line --index 0 "Dry run: nothing will be changed."
	assert_line --partial "Would make a new InternalCA: RSA-2048, SHA-256, 3650 days, subject /title=InternalCA/OU=Intrusion Management System/CN=$FMCUUID/O=Cisco Systems, Inc"
	for n in FTD-1 FTD-2 FTD-3; do
		assert_line "$n $(sfca_host $n 4) $(sfca_host $n 3) ftd: new certificate and key; tunnel down: would list in FAILED_PUSH for /var/sf/peers/$FMCUUID/"
	done
	run -0 generate_certs -r "$FMC" -n
	assert_equal "$(tree_sum "$FMC")" "$sums"
	assert_not_exist "$FMC/var/log/sf/sfca_generation.log"
}

@test "generate_certs: SFCA_ROOT names the tree" {
	SFCA_ROOT=$FMC run -0 generate_certs -n
	assert_line --partial "CN=$FMCUUID"
}

@test "generate_certs: an FTD's tree is not an FMC: clear error, nothing changes" {
	local ftd=$LAB/hosts/FTD-1/root sums
	sums=$(tree_sum "$ftd")
	run -1 --separate-stderr generate_certs -r "$ftd" -y
	assert_equal "$stderr" "generate_certs: $ftd: not an FMC (the tree is an FTD): generate_certs runs on the management center"
	assert_output ""
	assert_equal "$(tree_sum "$ftd")" "$sums"
	run -1 generate_certs -r "$BATS_TEST_TMPDIR" -y
	assert_output --partial "not an FMC (the tree is of an unknown kind)"
}

@test "generate_certs: a missing, malformed or foreign CA key is a clear error, nothing changes" {
	local key=$FMC/etc/sf/ca_root/private/cakey.pem sums
	mv "$key" "$BATS_TEST_TMPDIR/cakey.pem"
	sums=$(tree_sum "$FMC")
	run -1 --separate-stderr generate_certs -r "$FMC" -y
	assert_equal "$stderr" "generate_certs: $key: No such file or directory"
	assert_equal "$(tree_sum "$FMC")" "$sums"

	echo "garbage" > "$key"
	chmod 600 "$key"
	sums=$(tree_sum "$FMC")
	run -1 --separate-stderr generate_certs -r "$FMC" -y
	assert_equal "$stderr" "generate_certs: $key: not a PEM file"
	assert_equal "$(tree_sum "$FMC")" "$sums"

	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key" 2>/dev/null
	sums=$(tree_sum "$FMC")
	run -1 --separate-stderr generate_certs -r "$FMC" -y
	assert_equal "$stderr" "generate_certs: $key: does not match $FMC/etc/sf/ca_root/cacert.pem"
	assert_equal "$(tree_sum "$FMC")" "$sums"

	mkdir -p "$BATS_TEST_TMPDIR/x" && rm "$key" && mkdir "$key"
	run -1 --separate-stderr generate_certs -r "$FMC" -y
	assert_equal "$stderr" "generate_certs: $key: is a directory"
}

@test "generate_certs: a second concurrent run refuses, exit 1" {
	local fifo=$BATS_TEST_TMPDIR/answers sums
	mkfifo "$fifo"
	# the first run waits at its first prompt, holding the lock
	script -qec "generate_certs -r $FMC" /dev/null < "$fifo" \
	    > "$BATS_TEST_TMPDIR/first.out" 3>&- &
	HOLDER=$!
	exec 4> "$fifo"
	for _ in $(seq 50); do
		grep -q "Do you want" "$BATS_TEST_TMPDIR/first.out" && break
		sleep 0.1
	done
	sums=$(tree_sum "$FMC")
	run -1 --separate-stderr generate_certs -r "$FMC" -y
	assert_equal "$stderr" "generate_certs: $FMC/var/sf/sfca/runs/.generate_certs.lock: another generate_certs is running"
	assert_equal "$(tree_sum "$FMC")" "$sums"
	# the first one is unharmed: it goes on when answered
	printf 'yes\nyes\n' >&4
	exec 4>&-
	wait "$HOLDER" || true
	HOLDER=
	assert_consistent "$FMC"
	done_run
}

# Kill at STEP, check the tree, run again, check it is renewed once.
kill_and_rerun() {
	local step=$1 orig=$BATS_TEST_TMPDIR/orig-ca.pem run_dir
	cp "$FMC/etc/sf/ca_root/cacert.pem" "$orig"
	SFCA_TEST_KILL_AT=$step run -137 generate_certs -r "$FMC" -y
	run -0 generate_certs -r "$FMC" -y
	assert_line --partial "Some files were failed to be pushed"
	assert_consistent "$FMC"
	! cmp -s "$orig" "$FMC/etc/sf/ca_root/cacert.pem"
	run_dir=$(done_run)
	cmp "$orig" "$run_dir/backup/etc/sf/ca_root/cacert.pem"
	assert_not_exist "$run_dir/new"
	[ -s "$(failed_push "$run_dir")" ]
	echo "$run_dir"
}

@test "generate_certs: killed while staging: old material intact, the re-run renews" {
	local sums
	sums=$(tree_sum "$FMC" | grep -v -e var/tmp/certs -e var/sf/sfca)
	SFCA_TEST_KILL_AT=staging run -137 generate_certs -r "$FMC" -y
	assert_equal "$(tree_sum "$FMC" | grep -v -e var/tmp/certs -e var/sf/sfca)" "$sums"
	assert_consistent "$FMC"
	run kill_and_rerun none
	assert_success
	# the half-staged folder is marked and holds no key any more
	run -0 find "$FMC/var/sf/sfca/runs" -name ABANDONED
	refute_output ""
	run -0 find "$FMC/var/sf/sfca/runs" -name '*key*' -path '*/new/*'
	assert_output ""
}

@test "generate_certs: killed after staging: the re-run completes the same renewal" {
	local staged run_dir
	SFCA_TEST_KILL_AT=staged run -137 generate_certs -r "$FMC" -y
	staged=$(ls "$FMC"/var/sf/sfca/runs/*/new/etc/sf/ca_root/cacert.pem)
	cp "$staged" "$BATS_TEST_TMPDIR/staged.pem"
	run -0 generate_certs -r "$FMC" -y
	assert_line --partial "Completing the interrupted renewal in /var/sf/sfca/runs/"
	assert_consistent "$FMC"
	cmp "$BATS_TEST_TMPDIR/staged.pem" "$FMC/etc/sf/ca_root/cacert.pem"
	done_run
}

@test "generate_certs: a resume re-verifies everything staged and takes only the files a renewal writes" {
	local run_dir saved=$BATS_TEST_TMPDIR/saved u sums
	SFCA_TEST_KILL_AT=staged run -137 generate_certs -r "$FMC" -y
	run_dir=$(ls -d "$FMC"/var/sf/sfca/runs/*/)
	run_dir=${run_dir%/}
	cp -a "$run_dir" "$saved"
	u=$(sfca_host FTD-2 4)
	sums=$(tree_sum "$FMC")
	# a staged key that is not its certificate's
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$run_dir/new/var/sf/peers/$u/sftunnel-key.pem" 2>/dev/null
	run -1 --separate-stderr generate_certs -r "$FMC" -y
	assert_equal "$stderr" "generate_certs: $run_dir/new/var/sf/peers/$u/sftunnel-key.pem: does not match $run_dir/new/var/sf/peers/$u/sftunnel-cert.pem
generate_certs: the interrupted renewal in $run_dir does not verify: it is not completed; this run changed nothing"
	assert_equal "$(tree_sum "$FMC")" "$sums"
	# a staged CA that did not issue the staged certificates
	rm -rf "$run_dir" && cp -a "$saved" "$run_dir"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj /CN=other -keyout "$run_dir/new/etc/sf/ca_root/private/cakey.pem" \
	    -out "$run_dir/new/etc/sf/ca_root/cacert.pem" 2>/dev/null
	run -1 --separate-stderr generate_certs -r "$FMC" -y
	assert_regex "$stderr" "^generate_certs: $run_dir/new/var/sf/peers/[-0-9a-f]+/(certs_pushed/)?sftunnel-cert.pem: does not chain to the staged CA: unable to get local issuer certificate"
	assert_equal "$(tree_sum "$FMC")" "$sums"
	# a staged CA key that is not the staged CA's
	rm -rf "$run_dir" && cp -a "$saved" "$run_dir"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$run_dir/new/etc/sf/ca_root/private/cakey.pem" 2>/dev/null
	run -1 --separate-stderr generate_certs -r "$FMC" -y
	assert_equal "$stderr" "generate_certs: $run_dir/new/etc/sf/ca_root/private/cakey.pem: does not match $run_dir/new/etc/sf/ca_root/cacert.pem
generate_certs: the interrupted renewal in $run_dir does not verify: it is not completed; this run changed nothing"
	assert_equal "$(tree_sum "$FMC")" "$sums"
	# a MANIFEST line outside the allow-list, even with its staged file
	rm -rf "$run_dir" && cp -a "$saved" "$run_dir"
	mkdir -p "$run_dir/new/root/.ssh"
	echo "ssh-ed25519 AAAA planted" > "$run_dir/new/root/.ssh/authorized_keys"
	echo root/.ssh/authorized_keys >> "$run_dir/MANIFEST"
	run -1 --separate-stderr generate_certs -r "$FMC" -y
	assert_equal "$stderr" "generate_certs: $run_dir/MANIFEST:$(wc -l < "$run_dir/MANIFEST"): not a file a renewal writes: the interrupted renewal in $run_dir is not completed; this run changed nothing"
	assert_equal "$(tree_sum "$FMC")" "$sums"
	assert_not_exist "$FMC/root/.ssh/authorized_keys"
	# a NUL byte in the MANIFEST is refused, not taken for its end
	rm -rf "$run_dir" && cp -a "$saved" "$run_dir"
	printf '\0root/.ssh/authorized_keys\n' >> "$run_dir/MANIFEST"
	run -1 --separate-stderr generate_certs -r "$FMC" -y
	assert_equal "$stderr" "generate_certs: $run_dir/MANIFEST:$(wc -l < "$run_dir/MANIFEST"): a NUL byte: the interrupted renewal in $run_dir is not completed; this run changed nothing"
	assert_equal "$(tree_sum "$FMC")" "$sums"
	# the untouched journal completes
	rm -rf "$run_dir" && cp -a "$saved" "$run_dir"
	run -0 generate_certs -r "$FMC" -y
	assert_line --partial "Completing the interrupted renewal"
	assert_consistent "$FMC"
}

@test "generate_certs: killed mid-commit: the re-run completes, backups are the originals" {
	kill_and_rerun mid-commit
}

@test "generate_certs: killed after the backup, before the commit" {
	kill_and_rerun backed-up
}

@test "generate_certs: killed after the commit, before the push: the re-run pushes" {
	kill_and_rerun committed
}

@test "generate_certs: killed after the push, before DONE" {
	kill_and_rerun pushed
}

@test "generate_certs: mid-commit, the tree is mixed until the re-run; the CA pair is never what breaks it" {
	SFCA_TEST_KILL_AT=mid-commit run -137 generate_certs -r "$FMC" -y
	# the CA certificate is written last: still the old pair
	[ "$(pubsum "$FMC/etc/sf/ca_root/private/cakey.pem")" = \
	    "$(certpubsum "$FMC/etc/sf/ca_root/cacert.pem")" ]
	run -0 generate_certs -r "$FMC" -n
	assert_line --partial "Would complete the interrupted renewal in"
	run -0 generate_certs -r "$FMC" -y
	assert_consistent "$FMC"
}

@test "generate_certs: --reuse-keys reissues the certificates on the existing keys" {
	local u=$(sfca_host FTD-2 4) k1 c1
	k1=$(sha256sum < "$FMC/var/sf/peers/$u/sftunnel-key.pem")
	c1=$(sha256sum < "$FMC/var/sf/peers/$u/sftunnel-cert.pem")
	run -0 generate_certs -r "$FMC" -y --reuse-keys
	assert_equal "$(sha256sum < "$FMC/var/sf/peers/$u/sftunnel-key.pem")" "$k1"
	[ "$(sha256sum < "$FMC/var/sf/peers/$u/sftunnel-cert.pem")" != "$c1" ]
	assert_consistent "$FMC"
	run -0 generate_certs -r "$FMC" -y -k
	assert_consistent "$FMC"
}

@test "generate_certs: CA already expired: the vendor sentence with the days as expired" {
	local lab2=$LAB/expired na
	sfca_mktree "$lab2" -n 1 -k ec -l $((-3 * 86400 - 3600))
	na=$(openssl x509 -noout -enddate -in "$lab2/hosts/FMCpri/root/etc/sf/ca_root/cacert.pem" | cut -d= -f2)
	run -0 generate_certs -r "$lab2/hosts/FMCpri/root" -y
	assert_line --index 6 "Current ca_root expires in -3 days - at $na"
	assert_consistent "$lab2/hosts/FMCpri/root"
	run -0 openssl x509 -checkend 86400 -noout -in "$lab2/hosts/FMCpri/root/etc/sf/ca_root/cacert.pem"
}

@test "generate_certs: the HA secondary refuses before the primary's renewal, --force overrides" {
	local lab2=$LAB/ha pri sec sums
	sfca_mktree "$lab2" -n 1 -k ec -H
	pri=$lab2/hosts/FMCpri/root
	sec=$lab2/hosts/FMCsec/root
	sums=$(tree_sum "$sec")
	run -1 --separate-stderr generate_certs -r "$sec" -y
	assert_output "setting log file to /var/log/sf/sfca_generation.log"
	[[ $stderr == "generate_certs: this FMC is the HA secondary and the primary FMCpri has not renewed yet"*"run generate_certs on the primary first, or use --force" ]]
	assert_equal "$(tree_sum "$sec")" "$sums"
	run -0 generate_certs -r "$sec" -y --force
	assert_consistent "$sec"
}

@test "generate_certs: HA without the daemon: primary, then its CA reaches the secondary, then the secondary" {
	local lab2=$LAB/ha pri sec puuid suuid
	sfca_mktree "$lab2" -n 1 -k ec -H
	pri=$lab2/hosts/FMCpri/root
	sec=$lab2/hosts/FMCsec/root
	puuid=$(LAB=$lab2 sfca_host FMCpri 4)
	suuid=$(LAB=$lab2 sfca_host FMCsec 4)
	sleep 1		# the primary's new CA must postdate the secondary's
	run -0 generate_certs -r "$pri" -y
	# the HA peer's files go to from_peer/ on the other FMC
	assert_line "Failed to push to FMCsec = /var/sf/peers/$puuid/from_peer/cacert.pem"
	assert_consistent "$pri"
	# still refused: the primary's CA has not reached the secondary
	run -1 generate_certs -r "$sec" -y
	# what the push (or copy_sftunnel_certs) would have delivered
	cp "$pri/etc/sf/ca_root/cacert.pem" "$sec/var/sf/peers/$puuid/from_peer/cacert.pem"
	cp "$pri/var/sf/peers/$suuid/certs_pushed/sftunnel-cert.pem" "$sec/var/sf/peers/$puuid/from_peer/sftunnel-cert.pem"
	cp "$pri/var/sf/peers/$suuid/certs_pushed/sftunnel-key.pem" "$sec/var/sf/peers/$puuid/from_peer/sftunnel-key.pem"
	run -0 generate_certs -r "$sec" -y
	assert_consistent "$sec"
	# the secondary's next renewal waits for the primary's next one
	run -1 generate_certs -r "$sec" -y
}

# In a private mount namespace: a 2 MB tmpfs over a copy of the tree with
# $4 pages left (none filled when negative; "ro" as $5 makes
# ca_root/private read-only), generate_certs (with $GC_MODE's options
# too, both times), the tree's sums before and after (but its own state
# and log), then room again and a second run.
# Everything lands in $3.*; the copy of the tree after both in $3.tree.
FILL_SCRIPT='
set -e
mnt=$1 r=$1/root out=$3 pages=$4 ro=${5:-} mode=${GC_MODE:-}
mount -t tmpfs -o size=2m tmpfs "$mnt"
cp -a "$2" "$r"
sum() {
	cd "$r"
	find . \( -path ./var/log/sf -o -path ./var/sf/sfca -o -path ./var/tmp/certs \) -prune -o -type f -print0 | sort -z | xargs -0 sha256sum
	find . \( -path ./var/log/sf -o -path ./var/sf/sfca -o -path ./var/tmp/certs \) -prune -o -printf "%p %m %u\n" | sort
	cd /
}
sum > "$out.before"
if [ -n "$ro" ]; then
	mount --bind "$r/etc/sf/ca_root/private" "$r/etc/sf/ca_root/private"
	mount -o remount,bind,ro "$r/etc/sf/ca_root/private"
fi
if [ "$pages" -ge 0 ]; then
	dd if=/dev/zero of="$mnt/fill" bs=4k 2>/dev/null || true
	rm -f "$mnt/fill"
	dd if=/dev/zero of="$mnt/fill" bs=4k count=$(( $(stat -f -c %a "$mnt") - pages )) 2>/dev/null
fi
set +e
generate_certs -r "$r" -y $mode > "$out.stdout" 2> "$out.stderr"
echo $? > "$out.rc"
sum > "$out.after"
rm -f "$mnt/fill"
[ -z "$ro" ] || umount "$r/etc/sf/ca_root/private"
generate_certs -r "$r" -y $mode > "$out.stdout2" 2> "$out.stderr2"
echo $? > "$out.rc2"
cp -a "$r" "$out.tree"
'

# fill_run PAGES [ro]: FILL_SCRIPT on $FMC, into $BATS_TEST_TMPDIR/f$1.*
fill_run() {
	local mnt=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$mnt"
	unshare -m sh -c "$FILL_SCRIPT" sh "$mnt" "$FMC" \
	    "$BATS_TEST_TMPDIR/f$1" "$@" 3>&-
	# nothing of it outside the namespace
	! findmnt "$mnt" >/dev/null
}

# The failed run of fill_run ended in one of two states and said which:
# rolled back (the old files, and the next run starts afresh) or
# committed (every file new, and the next run completes it).  Either way
# the next run renews and leaves no temporary.
assert_one_of_two() {
	local o=$BATS_TEST_TMPDIR/f$1 rc
	rc=$(cat "$o.rc")
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "$1: exit $rc"
	# neither state: files not all put back, or committed and not marked
	run -1 grep -e "could not put every file back" \
	    -e "the journal could not say so" "$o.stderr"
	if [ "$rc" = 1 ]; then
		if cmp -s "$o.before" "$o.after"; then
			run -1 grep "Completing the interrupted renewal" "$o.stdout2"
			run -1 grep -e "committed" "$o.stderr"
		else
			run -0 grep "^generate_certs: committed: every file is the new one" "$o.stderr"
			run -0 grep "Completing the interrupted renewal" "$o.stdout2"
			assert_consistent "$o.tree"
		fi
	fi
	assert_equal "$(cat "$o.rc2")" 0
	assert_consistent "$o.tree"
	run -0 find "$o.tree" -name '.*.??????'
	assert_output ""
}

@test "generate_certs: a full disk at any point: rolled back or committed, told truthfully; the next run renews" {
	local n hit=0
	for n in $(seq 6 4 74); do
		fill_run "$n"
		assert_one_of_two "$n"
		grep -q "commit failed before any file was replaced: rolled back, the previous files are in place" \
		    "$BATS_TEST_TMPDIR/f$n.stderr" && hit=$((hit + 1))
	done
	# some fill level failed the commit itself, not only the staging
	[ "$hit" -ge 1 ]
	# the smallest: staging fails, nothing changes, a clear error
	assert_equal "$(cat "$BATS_TEST_TMPDIR/f6.rc")" 1
	run -0 cat "$BATS_TEST_TMPDIR/f6.stderr"
	assert_output --partial "No space left on device"
	cmp "$BATS_TEST_TMPDIR/f6.before" "$BATS_TEST_TMPDIR/f6.after"
}

@test "generate_certs --extend: a full disk at any point: rolled back or committed, told truthfully; the next run renews" {
	local n
	# --extend's backup and commit are second names: the commit needs no
	# room and frees none, so its marker's room is taken beforehand
	for n in $(seq 0 1 24); do
		GC_MODE=-e fill_run "$n"
		assert_one_of_two "$n"
	done
	# the smallest: staging fails, nothing changes, a clear error
	assert_equal "$(cat "$BATS_TEST_TMPDIR/f0.rc")" 1
	run -0 cat "$BATS_TEST_TMPDIR/f0.stderr"
	assert_output --partial "No space left on device"
	cmp "$BATS_TEST_TMPDIR/f0.before" "$BATS_TEST_TMPDIR/f0.after"
}

@test "generate_certs: a read-only ca_root/private: the commit is rolled back whole, marked so, the next run starts afresh" {
	local run_dir
	fill_run -1 ro
	assert_equal "$(cat "$BATS_TEST_TMPDIR/f-1.rc")" 1
	run -0 cat "$BATS_TEST_TMPDIR/f-1.stderr"
	assert_line --partial "private/cakey.pem: temporary file: Read-only file system"
	assert_line "generate_certs: commit failed before any file was replaced: rolled back, the previous files are in place"
	assert_line "generate_certs: nothing was changed; the next run starts afresh"
	cmp "$BATS_TEST_TMPDIR/f-1.before" "$BATS_TEST_TMPDIR/f-1.after"
	assert_one_of_two -1
	# the failed run is marked ROLLED_BACK, its staged keys gone
	run_dir=$(ls -d "$BATS_TEST_TMPDIR/f-1.tree"/var/sf/sfca/runs/*/ROLLED_BACK)
	assert_not_exist "${run_dir%/ROLLED_BACK}/new"
}

# --- on a running lab (sftunneld on every host) ---

# lab_up ARGS...: a lab of our own address block, torn down by lab_teardown
lab_up() {
	LABD=$LAB/lab
	lab -d "$LABD" up -b 127.79 -k ec --no-ssh -t 30 "$@" 3>&-
	FMC=$LABD/hosts/FMCpri/root
	FMCUUID=$(lab -d "$LABD" uuid FMCpri)
}

lab_teardown() {
	[ -n "${LABD:-}" ] && lab -d "$LABD" down --purge 3>&-
	LABD=
}

# received HOST: HOST holds what FMCpri issued and pushed for it
received() {
	local r=$LABD/hosts/$1/root u dir
	u=$(lab -d "$LABD" uuid "$1")
	dir=$r/var/sf/peers/$FMCUUID
	[ "$1" = FMCsec ] && dir=$dir/from_peer
	cmp -s "$dir/cacert.pem" "$FMC/etc/sf/ca_root/cacert.pem" &&
	    cmp -s "$dir/sftunnel-cert.pem" "$FMC/var/sf/peers/$u/certs_pushed/sftunnel-cert.pem" &&
	    cmp -s "$dir/sftunnel-key.pem" "$FMC/var/sf/peers/$u/certs_pushed/sftunnel-key.pem" &&
	    [ "$(stat -c %a "$dir/sftunnel-key.pem")" = 600 ]
}

# Every FTD restarts its tunnel daemon and reconnects on the new files.
restart_all_and_check() {
	local h n=0
	for h in "$@"; do
		lab -d "$LABD" restart "$h" 3>&-
	done
	lab -d "$LABD" wait-up -t 30 "$@"
	# 1 is sftunnel_status's "some peer is down" (the cut ones)
	run sftunnel_status -r "$FMC"
	[ "$status" -le 1 ]
	for h in "$@"; do
		n=$((n + 1))
	done
	[ "$(grep -c 'Session certificate chains to current CA: Yes' <<<"$output")" -ge "$n" ]
	refute_output --partial "chains to current CA: No"
}

@test "generate_certs: lab, all peers up: every peer gets the new files, tunnels stay up, restarts reconnect" {
	lab_up -n 3
	run -0 sftunnel_status -r "$FMC" --brief
	local before=$output
	run -0 generate_certs -r "$FMC" -y
	assert_equal "${#lines[@]}" 8
	assert_line --index 7 "Do you want to continue? [yes/no]:yes"
	run_dir=$(done_run)
	assert_not_exist "$(failed_push "$run_dir")"
	for h in FTD-1 FTD-2 FTD-3; do
		received "$h" || fail "$h did not receive the new files"
	done
	# the tunnels stayed up through the renewal
	run -0 sftunnel_status -r "$FMC" --brief
	assert_equal "$output" "$before"
	restart_all_and_check FTD-1 FTD-2 FTD-3
	lab_teardown
}

@test "generate_certs: lab, two peers cut: FAILED_PUSH holds exactly their 6 lines, the others are fine" {
	local u2 u3 ip2 ip3 h
	lab_up -n 4
	lab -d "$LABD" cut FTD-2
	lab -d "$LABD" cut FTD-3
	lab -d "$LABD" wait-down -t 20 FTD-2
	lab -d "$LABD" wait-down -t 20 FTD-3
	run -0 generate_certs -r "$FMC" -y -t 5
	assert_equal "${#lines[@]}" 15
	run_dir=$(done_run)
	u2=$(lab -d "$LABD" uuid FTD-2)
	u3=$(lab -d "$LABD" uuid FTD-3)
	ip2=$(lab -d "$LABD" addr FTD-2)
	ip3=$(lab -d "$LABD" addr FTD-3)
	assert_equal "$(cat "$(failed_push "$run_dir")")" \
"$u2 FTD-2 $ip2 /etc/sf/ca_root/cacert.pem /var/sf/peers/$FMCUUID/cacert.pem
$u2 FTD-2 $ip2 /var/sf/peers/$u2/certs_pushed//sftunnel-key.pem /var/sf/peers/$FMCUUID/sftunnel-key.pem
$u2 FTD-2 $ip2 /var/sf/peers/$u2/certs_pushed//sftunnel-cert.pem /var/sf/peers/$FMCUUID/sftunnel-cert.pem
$u3 FTD-3 $ip3 /etc/sf/ca_root/cacert.pem /var/sf/peers/$FMCUUID/cacert.pem
$u3 FTD-3 $ip3 /var/sf/peers/$u3/certs_pushed//sftunnel-key.pem /var/sf/peers/$FMCUUID/sftunnel-key.pem
$u3 FTD-3 $ip3 /var/sf/peers/$u3/certs_pushed//sftunnel-cert.pem /var/sf/peers/$FMCUUID/sftunnel-cert.pem"
	assert_line --index 8 "Failed to push to FTD-2 = /var/sf/peers/$FMCUUID/cacert.pem"
	assert_line --index 13 "Failed to push to FTD-3 = /var/sf/peers/$FMCUUID/sftunnel-cert.pem"
	for h in FTD-1 FTD-4; do
		received "$h" || fail "$h did not receive the new files"
	done
	! received FTD-2
	restart_all_and_check FTD-1 FTD-4
	lab_teardown
}

@test "generate_certs: lab, one file of a peer refused: all three of its files are in FAILED_PUSH" {
	local u2 ip2 d
	lab_up -n 2
	u2=$(lab -d "$LABD" uuid FTD-2)
	ip2=$(lab -d "$LABD" addr FTD-2)
	# FTD-2 cannot store its certificate: a folder stands in its place
	d=$LABD/hosts/FTD-2/root/var/sf/peers/$FMCUUID/sftunnel-cert.pem
	rm -f "$d"
	mkdir "$d"
	touch "$d/x"
	run -0 generate_certs -r "$FMC" -y -t 10
	assert_equal "$(cat "$(failed_push "$(done_run)")")" \
"$u2 FTD-2 $ip2 /etc/sf/ca_root/cacert.pem /var/sf/peers/$FMCUUID/cacert.pem
$u2 FTD-2 $ip2 /var/sf/peers/$u2/certs_pushed//sftunnel-key.pem /var/sf/peers/$FMCUUID/sftunnel-key.pem
$u2 FTD-2 $ip2 /var/sf/peers/$u2/certs_pushed//sftunnel-cert.pem /var/sf/peers/$FMCUUID/sftunnel-cert.pem"
	assert_line "Failed to push to FTD-2 = /var/sf/peers/$FMCUUID/cacert.pem"
	assert_line "Failed to push to FTD-2 = /var/sf/peers/$FMCUUID/sftunnel-key.pem"
	assert_line "Failed to push to FTD-2 = /var/sf/peers/$FMCUUID/sftunnel-cert.pem"
	# the two it did take are there: the list is what to copy together
	cmp "$FMC/etc/sf/ca_root/cacert.pem" "${d%/*}/cacert.pem"
	received FTD-1
	lab_teardown
}

@test "generate_certs: lab, CA already expired with the tunnels still up: same result" {
	lab_up -n 2 -l 4
	# the tunnels outlive the CA
	sleep 5
	run -1 openssl x509 -checkend 0 -noout -in "$FMC/etc/sf/ca_root/cacert.pem"
	lab -d "$LABD" wait-up -t 5
	run -0 generate_certs -r "$FMC" -y
	assert_line --index 6 --regexp '^Current ca_root expires in -0 days - at '
	assert_equal "${#lines[@]}" 8
	for h in FTD-1 FTD-2; do
		received "$h" || fail "$h did not receive the new files"
	done
	restart_all_and_check FTD-1 FTD-2
	lab_teardown
}

@test "generate_certs: lab, HA pair: primary, then secondary" {
	local sec puuid
	lab_up -n 2 -H
	sec=$LABD/hosts/FMCsec/root
	puuid=$FMCUUID
	# the secondary first is refused
	run -1 generate_certs -r "$sec" -y
	sleep 1		# the primary's new CA must postdate the secondary's
	run -0 generate_certs -r "$FMC" -y
	assert_equal "${#lines[@]}" 8
	for h in FMCsec FTD-1 FTD-2; do
		received "$h" || fail "$h did not receive the primary's files"
	done
	run -0 generate_certs -r "$sec" -y
	assert_equal "${#lines[@]}" 8
	# the secondary's files reached the primary's from_peer/ and the FTDs
	cmp "$sec/etc/sf/ca_root/cacert.pem" "$FMC/var/sf/peers/$(lab -d "$LABD" uuid FMCsec)/from_peer/cacert.pem"
	cmp "$sec/etc/sf/ca_root/cacert.pem" "$LABD/hosts/FTD-1/root/var/sf/peers/$(lab -d "$LABD" uuid FMCsec)/cacert.pem"
	lab -d "$LABD" restart FMCsec 3>&-
	restart_all_and_check FTD-1 FTD-2
	lab -d "$LABD" wait-up -t 30
	run -0 sftunnel_status -r "$sec"
	refute_output --partial "chains to current CA: No"
	lab_teardown
}

# --- progress on a terminal (script(1) gives the command a pty) ---

# on_tty CMD: run CMD (a shell line) with a pseudo-terminal as its
# stdin, stdout and stderr; what the terminal received is $TTY_OUT
on_tty() {
	TTY_OUT=$BATS_TEST_TMPDIR/tty.raw
	script -qec "$1" /dev/null </dev/null >"$TTY_OUT"
}

# no_ctl FILE: FILE holds no carriage return and no escape byte
no_ctl() {
	! LC_ALL=C grep -q $'[\r\033]' "$1"
}

@test "generate_certs: on a terminal a progress line on stderr, rewritten in place and removed; stdout byte for byte as without one" {
	local copy=$LAB/copy
	cp -a "$FMC" "$copy"
	# stdout to a file, stderr on the terminal
	on_tty "generate_certs -r '$FMC' -y >'$BATS_TEST_TMPDIR/out.tty'"
	run -0 grep -c 'generate_certs: keys made 5/5, certificates signed 4/4, pushes acknowledged 0/0, elapsed [0-9]*:[0-9][0-9]' "$TTY_OUT"
	# rewritten in place: each line starts with \r and ends clearing the rest
	run -0 grep -c $'\rgenerate_certs: keys made 0/5, certificates signed 0/4, pushes acknowledged 0/0, elapsed 0:[0-9][0-9]\033\\[K' "$TTY_OUT"
	# removed at the end: the last bytes clear the line
	[ "$(tail -c 4 "$TTY_OUT" | od -An -c | tr -d ' ')" = '\r033[K' ]
	# the same run without a terminal, on a copy of the same tree: the
	# transcript is the same bytes but the run's epoch (FAILED_PUSH)
	generate_certs -r "$copy" -y >"$BATS_TEST_TMPDIR/out.plain" 2>"$BATS_TEST_TMPDIR/err.plain"
	no_ctl "$BATS_TEST_TMPDIR/out.tty"
	cmp <(sed 's/[0-9]\{10\}/EPOCH/g' "$BATS_TEST_TMPDIR/out.tty") \
	    <(sed 's/[0-9]\{10\}/EPOCH/g' "$BATS_TEST_TMPDIR/out.plain")
	grep -q 'Some files were failed to be pushed' "$BATS_TEST_TMPDIR/out.plain"
	# stderr a file: not a byte of progress
	no_ctl "$BATS_TEST_TMPDIR/err.plain"
	run -1 grep -c 'keys made' "$BATS_TEST_TMPDIR/err.plain"
	# stdout on the terminal, stderr a file: nothing on stderr either
	cp -a "$copy" "$LAB/copy2"
	on_tty "generate_certs -r '$LAB/copy2' -y 2>'$BATS_TEST_TMPDIR/err.file'"
	no_ctl "$BATS_TEST_TMPDIR/err.file"
	run -1 grep -c 'keys made' "$TTY_OUT"
	# no key bytes in what the terminal got
	run -1 grep -c 'PRIVATE KEY' "$TTY_OUT"
}

@test "generate_certs: lab, on a terminal the progress line counts the pushes acknowledged" {
	lab_up -n 2
	on_tty "generate_certs -r '$FMC' -y >'$BATS_TEST_TMPDIR/out.tty'"
	run -0 grep -c 'keys made 4/4, certificates signed 3/3, pushes acknowledged 2/2, elapsed' "$TTY_OUT"
	[ "$(tail -c 4 "$TTY_OUT" | od -An -c | tr -d ' ')" = '\r033[K' ]
	no_ctl "$BATS_TEST_TMPDIR/out.tty"
	run -0 wc -l <"$BATS_TEST_TMPDIR/out.tty"
	assert_output 8
	lab_teardown
}
