#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# generate_certs-extend.bats -- generate_certs --extend: the InternalCA and
# every certificate renewed on the same keys (labs on 127.150.x.x)

load helpers

setup() {
	LAB=$(sfca_scratch)
	sfca_mktree "$LAB" -n 3 -k ec -l $((100 * 86400 + 43200))
	FMC=$LAB/hosts/FMCpri/root
	FMCUUID=$(sfca_host FMCpri 4)
	CA=$FMC/etc/sf/ca_root/cacert.pem
	cp "$CA" "$BATS_TEST_TMPDIR/oldca.pem"
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

# The bytes of every key file of a tree, run folders aside (where a flat
# name like etc%sf%keys%sftunnel-cert.pem is no key).
key_sums() {
	(cd "$1" && find . \( -path ./var/tmp -o -path ./var/sf/sfca \) \
	    -prune -o -name '*key*.pem' -type f -print0 | sort -z |
	    xargs -0 sha256sum)
}

pubsum() { openssl pkey -in "$1" -pubout | sha256sum; }
certpubsum() { openssl x509 -in "$1" -noout -pubkey | sha256sum; }
notbefore() { date -u -d "$(openssl x509 -noout -startdate -in "$1" | cut -d= -f2)" +%s; }
notafter() { date -u -d "$(openssl x509 -noout -enddate -in "$1" | cut -d= -f2)" +%s; }
ext() { openssl x509 -noout -ext "$1" -in "$2"; }

# Every certificate chains to the tree's CA and pairs with the key next to it.
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

@test "generate_certs --extend: the transcript, in the vendor's words, every peer disconnected" {
	local na expect n run_dir
	na=$(openssl x509 -noout -enddate -in "$CA" | cut -d= -f2)
	run -0 --separate-stderr generate_certs -r "$FMC" --extend --yes
	run_dir=$(done_run)
	expect="setting log file to /var/log/sf/sfca_generation.log
You are about to renew the certificates for FMC and devices on their existing keys.
After successful cert renewal, the CA and device certs will be pushed automatically; no private key is changed or pushed
If the connection between FMC and a device is down, it keeps working until the current ca_root expires, then user needs to copy cacert.pem and sftunnel-cert.pem onto the device manually
For more details on disconnected devices, use sftunnel_status.pl
Do you want to continue? [yes/no]:yes
Current ca_root expires in 100 days - at $na
Renewed ca_root will expire in 3650 days - at $(openssl x509 -noout -enddate -in "$CA" | cut -d= -f2)
Do you want to continue? [yes/no]:yes"
	for n in FTD-1 FTD-2 FTD-3; do
		expect="$expect
Failed to push to $n = /var/sf/peers/$FMCUUID/cacert.pem
Failed to push to $n = /var/sf/peers/$FMCUUID/sftunnel-cert.pem"
	done
	expect="$expect
Some files were failed to be pushed to remote peers. For more details check /var/tmp/certs/${run_dir##*/}/FAILED_PUSH"
	assert_output "$expect"
	assert_equal "$stderr" ""
	assert_equal "$(notafter "$CA")" $((${run_dir##*/} + 3650 * 86400))
}

@test "generate_certs --extend: FAILED_PUSH lists only the two public files, five fields each" {
	local run_dir n u ip expect=
	run -0 generate_certs -r "$FMC" -e -y
	run_dir=$(done_run)
	for n in FTD-1 FTD-2 FTD-3; do
		u=$(sfca_host "$n" 4)
		ip=$(sfca_host "$n" 3)
		expect="$expect$u $n $ip /etc/sf/ca_root/cacert.pem /var/sf/peers/$FMCUUID/cacert.pem
$u $n $ip /var/sf/peers/$u/certs_pushed//sftunnel-cert.pem /var/sf/peers/$FMCUUID/sftunnel-cert.pem
"
	done
	assert_equal "$(cat "$(failed_push "$run_dir")")" "${expect%$'\n'}"
	run -1 grep 'key\.pem' "$(failed_push "$run_dir")"
	# the run says which mode it was; its MANIFEST holds no key
	assert_file_exist "$run_dir/EXTEND"
	run -1 grep 'key\.pem' "$run_dir/MANIFEST"
	assert_equal "$(wc -l < "$run_dir/MANIFEST")" $((3 * 2 + 5))
}

@test "generate_certs --extend: the CA keeps subject, key and key identifier; new serial from the counter; no key file changes" {
	local old=$BATS_TEST_TMPDIR/oldca.pem keys run_dir start serial d
	keys=$(key_sums "$FMC")
	serial=$(cat "$FMC/etc/sf/ca_root/serial")
	run -0 generate_certs -r "$FMC" -e -y
	run_dir=$(done_run)
	start=${run_dir##*/}
	# not a byte changed in any key file of the tree
	assert_equal "$(key_sums "$FMC")" "$keys"
	run -0 openssl x509 -noout -subject -nameopt compat -in "$CA"
	assert_output "subject=/title=InternalCA/OU=Intrusion Management System/CN=$FMCUUID/O=Cisco Systems, Inc"
	assert_equal "$(openssl x509 -noout -subject -nameopt compat -in "$old")" "$output"
	assert_equal "$(openssl x509 -noout -pubkey -in "$CA")" "$(openssl x509 -noout -pubkey -in "$old")"
	assert_equal "$(ext subjectKeyIdentifier "$CA")" "$(ext subjectKeyIdentifier "$old")"
	assert_equal "$(openssl x509 -noout -serial -in "$CA")" "serial=$serial"
	run -0 openssl x509 -noout -text -in "$CA"
	assert_line --partial "Signature Algorithm: ecdsa-with-SHA256"
	assert_line --partial "CA:TRUE"
	assert_equal "$(notbefore "$CA")" $((start - 86400))
	assert_equal "$(notafter "$CA")" $((start + 3650 * 86400))
	# every leaf: the same subject and key, a new serial and validity
	for d in "$FMC/etc/sf/keys" "$FMC"/var/sf/peers/*/ "$FMC"/var/sf/peers/*/certs_pushed; do
		assert_equal "$(openssl x509 -noout -subject -in "$d/sftunnel-cert.pem")" \
		    "$(openssl x509 -noout -subject -in "$run_dir/backup/${d#"$FMC"/}/sftunnel-cert.pem")"
		[ "$(openssl x509 -noout -serial -in "$d/sftunnel-cert.pem")" != \
		    "$(openssl x509 -noout -serial -in "$run_dir/backup/${d#"$FMC"/}/sftunnel-cert.pem")" ]
		assert_equal "$(notbefore "$d/sftunnel-cert.pem")" $((start - 86400))
		assert_equal "$(notafter "$d/sftunnel-cert.pem")" $((start + 3650 * 86400))
	done
	assert_consistent "$FMC"
	# old and renewed CA verify the same certificates, old ones and new
	for d in "$FMC"/var/sf/peers/*/; do
		openssl verify -CAfile "$old" "$d/sftunnel-cert.pem"
		openssl verify -CAfile "$CA" "$run_dir/backup/${d#"$FMC"/}/sftunnel-cert.pem"
	done
	# the CA database goes on: the old lines stay, one more per certificate
	assert_equal "$(head -4 "$FMC/etc/sf/ca_root/index.txt")" \
	    "$(cat "$run_dir/backup/etc/sf/ca_root/index.txt")"
	assert_equal "$(grep -c '^V' "$FMC/etc/sf/ca_root/index.txt")" 8
	openssl crl -in "$FMC/etc/sf/ca_root/crl.pem" -CAfile "$CA" -noout
	[ $((16#$(cat "$FMC/etc/sf/ca_root/serial"))) -gt $((16#$serial + 4)) ]
}

@test "generate_certs --extend: --days sets the end, 1 to 7300; --days needs --extend" {
	local run_dir start
	run -0 generate_certs -r "$FMC" -e -y --days 30 --backdate 600
	run_dir=$(done_run)
	start=${run_dir##*/}
	assert_line --index 7 --regexp "^Renewed ca_root will expire in 30 days - at "
	assert_equal "$(notafter "$CA")" $((start + 30 * 86400))
	assert_equal "$(notbefore "$CA")" $((start - 600))
	assert_equal "$(notafter "$FMC/etc/sf/keys/sftunnel-cert.pem")" $((start + 30 * 86400))
	run -2 generate_certs -r "$FMC" -e -y -d 0
	run -2 generate_certs -r "$FMC" -e -y -d 7301
	assert_output --partial "generate_certs: -d 7301: too large"
	run -2 generate_certs -r "$FMC" -y -d 30
	run -2 generate_certs -r "$FMC" -e -k -y
	run -0 generate_certs --help
	assert_output --partial "generate_certs -e [-fhnVy] [-b seconds] [-d days]"
}

@test "generate_certs --extend: --dry-run tells what it would do and changes nothing" {
	local sums n
	sums=$(tree_sum "$FMC")
	run -0 generate_certs -r "$FMC" -e --dry-run < /dev/null
	assert_line --index 0 "Dry run: nothing will be changed."
	assert_line "Would renew the InternalCA on its key: EC-256, SHA-256, 3650 days, subject /title=InternalCA/OU=Intrusion Management System/CN=$FMCUUID/O=Cisco Systems, Inc"
	assert_line "Would back up 11 files into /var/sf/sfca/runs/<epoch>/backup and replace them; no key"
	for n in FTD-1 FTD-2 FTD-3; do
		assert_line "$n $(sfca_host $n 4) $(sfca_host $n 3) ftd: reissued certificate on its key; tunnel down: would list in FAILED_PUSH for /var/sf/peers/$FMCUUID/"
	done
	assert_equal "$(tree_sum "$FMC")" "$sums"
	assert_not_exist "$FMC/var/log/sf/sfca_generation.log"
}

@test "generate_certs --extend: no terminal and no --yes refuses, nothing changes" {
	local sums
	sums=$(tree_sum "$FMC")
	run -1 --separate-stderr generate_certs -r "$FMC" -e < /dev/null
	assert_equal "$stderr" "generate_certs: standard input is not a terminal: answer the prompts on a terminal, or use --yes"
	assert_equal "$(tree_sum "$FMC")" "$sums"
}

# refused WHY: the one line, and nothing changed
refused() {
	local sums
	sums=$(tree_sum "$FMC")
	run -1 --separate-stderr generate_certs -r "$FMC" -e -y
	assert_output "setting log file to /var/log/sf/sfca_generation.log"
	assert_equal "$stderr" "generate_certs: $CA: cannot be renewed on its own key: $1; generate_certs without --extend makes a new CA and new keys"
	assert_equal "$(tree_sum "$FMC")" "$sums"
	run -1 --separate-stderr generate_certs -r "$FMC" -e -n
	assert_equal "$stderr" "generate_certs: $CA: cannot be renewed on its own key: $1; generate_certs without --extend makes a new CA and new keys"
	assert_equal "$(tree_sum "$FMC")" "$sums"
}

@test "generate_certs --extend: refused on a weak CA key, with the reason and the way out" {
	openssl req -x509 -nodes -newkey rsa:1024 -days 30 \
	    -subj "/title=InternalCA/OU=Intrusion Management System/CN=$FMCUUID/O=Cisco Systems, Inc" \
	    -keyout "$FMC/etc/sf/ca_root/private/cakey.pem" -out "$CA" 2>/dev/null
	refused "the key is RSA of 1024 bits (it takes RSA of 2048 bits or more, or EC P-256 or P-384)"
	# the default mode is the way out
	run -0 generate_certs -r "$FMC" -y
}

@test "generate_certs --extend: refused when the CA certificate and key are not a pair" {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$FMC/etc/sf/ca_root/private/cakey.pem" 2>/dev/null
	refused "the key does not match the CA certificate"
}

@test "generate_certs --extend: refused when the CA certificate is not self-signed" {
	local t=$BATS_TEST_TMPDIR
	openssl req -x509 -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -subj /CN=root -days 30 -keyout "$t/root.key" -out "$t/root.pem" 2>/dev/null
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -subj "/title=InternalCA/OU=Intrusion Management System/CN=$FMCUUID/O=Cisco Systems, Inc" \
	    -keyout "$FMC/etc/sf/ca_root/private/cakey.pem" -out "$t/ca.csr" 2>/dev/null
	printf 'basicConstraints=critical,CA:TRUE\nsubjectKeyIdentifier=hash\n' > "$t/ext"
	openssl x509 -req -in "$t/ca.csr" -CA "$t/root.pem" -CAkey "$t/root.key" \
	    -set_serial 9 -days 30 -extfile "$t/ext" -out "$CA" 2>/dev/null
	refused "the certificate is not self-signed"
}

@test "generate_certs --extend: a CA that has already expired is renewed the same way" {
	local lab2=$LAB/expired r na keys
	sfca_mktree "$lab2" -n 2 -k ec -l $((-3 * 86400 - 3600))
	r=$lab2/hosts/FMCpri/root
	keys=$(key_sums "$r")
	na=$(openssl x509 -noout -enddate -in "$r/etc/sf/ca_root/cacert.pem" | cut -d= -f2)
	cp "$(ls "$r"/var/sf/peers/*/sftunnel-cert.pem | head -1)" "$BATS_TEST_TMPDIR/"
	run -0 generate_certs -r "$r" -e -y
	assert_line --index 6 "Current ca_root expires in -3 days - at $na"
	assert_consistent "$r"
	assert_equal "$(key_sums "$r")" "$keys"
	run -0 openssl x509 -checkend 86400 -noout -in "$r/etc/sf/ca_root/cacert.pem"
	# what the expired CA issued chains again
	run -0 openssl verify -CAfile "$r/etc/sf/ca_root/cacert.pem" "$BATS_TEST_TMPDIR/sftunnel-cert.pem"
}

@test "generate_certs --extend: an index.txt past 1 MB, as eight renewals of 1000 peers leave it, is carried on and committed" {
	local idx=$FMC/etc/sf/ca_root/index.txt n
	# 9000 lines of earlier renewals (the commit read at most 1 MB)
	awk 'BEGIN { for (i = 1; i <= 9000; i++) printf "V\t361128000000Z\t\t%X\tunknown\t/title=sftunnel/OU=Intrusion Management System/CN=00000000-0000-4000-8000-%012d/O=Cisco Systems\n", i + 4096, i }' >> "$idx"
	[ "$(stat -c %s "$idx")" -gt 1048576 ]
	n=$(wc -l < "$idx")
	run -0 generate_certs -r "$FMC" -e -y
	refute_output --partial "larger than"
	# the old lines kept, one more per certificate (this FMC's, 3 peers')
	assert_equal "$(wc -l < "$idx")" "$((n + 4))"
	assert_consistent "$FMC"
}

@test "generate_certs --extend: a second concurrent run refuses, exit 1" {
	local fifo=$BATS_TEST_TMPDIR/answers sums
	mkfifo "$fifo"
	script -qec "generate_certs -e -r $FMC" /dev/null < "$fifo" \
	    > "$BATS_TEST_TMPDIR/first.out" 3>&- &
	HOLDER=$!
	exec 4> "$fifo"
	until_ok 5 grep -q "Do you want" "$BATS_TEST_TMPDIR/first.out"
	sums=$(tree_sum "$FMC")
	run -1 --separate-stderr generate_certs -r "$FMC" -e -y
	assert_equal "$stderr" "generate_certs: $FMC/var/sf/sfca/runs/.generate_certs.lock: another generate_certs is running"
	assert_equal "$(tree_sum "$FMC")" "$sums"
	printf 'yes\nyes\n' >&4
	exec 4>&-
	wait "$HOLDER" || true
	HOLDER=
	assert_consistent "$FMC"
	done_run
}

# Kill an --extend run at STEP, run again (without -e: the run folder
# says which mode it was), check it ends renewed once, on the same keys.
extend_kill_and_rerun() {
	local step=$1 keys run_dir old=$BATS_TEST_TMPDIR/oldca.pem
	keys=$(key_sums "$FMC")
	SFCA_TEST_KILL_AT=$step run -137 generate_certs -r "$FMC" -e -y
	assert_equal "$(key_sums "$FMC")" "$keys"
	if [ "$step" = committed ]; then
		# committed by second names: the live CA is the staged file
		assert_equal "$(stat -c %i "$CA")" \
		    "$(stat -c %i "$FMC"/var/sf/sfca/runs/*/new/etc%sf%ca_root%cacert.pem)"
	fi
	# the CA certificate is replaced last, by the commit
	case $step in
	committed|pushed) ! cmp -s "$old" "$CA" ;;
	*) cmp "$old" "$CA" ;;
	esac
	run -0 generate_certs -r "$FMC" -y
	assert_line --partial "Some files were failed to be pushed"
	assert_consistent "$FMC"
	assert_equal "$(key_sums "$FMC")" "$keys"
	! cmp -s "$old" "$CA"
	assert_equal "$(openssl x509 -noout -pubkey -in "$CA")" "$(openssl x509 -noout -pubkey -in "$old")"
	run_dir=$(done_run)
	cmp "$old" "$run_dir/backup/etc/sf/ca_root/cacert.pem"
	assert_not_exist "$run_dir/new"
	run -1 grep 'key\.pem' "$(failed_push "$run_dir")"
	assert_no_leftovers
	echo "$run_dir"
}

# No temporary anywhere in the tree, and no live file that is still a
# second name of one in a run folder.
assert_no_leftovers() {
	run -0 find "$FMC" -name '.*.??????'
	assert_output ""
	run -0 find "$FMC/etc/sf" "$FMC/var/sf/peers" -type f -links +1
	assert_output ""
}

@test "generate_certs --extend: killed while staging: nothing replaced, the re-run renews afresh" {
	local sums
	sums=$(tree_sum "$FMC" | grep -v -e var/tmp/certs -e var/sf/sfca)
	SFCA_TEST_KILL_AT=staging run -137 generate_certs -r "$FMC" -e -y
	assert_equal "$(tree_sum "$FMC" | grep -v -e var/tmp/certs -e var/sf/sfca)" "$sums"
	run -0 generate_certs -r "$FMC" -e -y
	assert_consistent "$FMC"
	run -0 find "$FMC/var/sf/sfca/runs" -name ABANDONED
	refute_output ""
}

@test "generate_certs --extend: killed after staging: the re-run completes the same renewal, as --extend" {
	local staged
	SFCA_TEST_KILL_AT=staged run -137 generate_certs -r "$FMC" -e -y
	staged=$(ls "$FMC"/var/sf/sfca/runs/*/new/etc%sf%ca_root%cacert.pem)
	cp "$staged" "$BATS_TEST_TMPDIR/staged.pem"
	run -0 generate_certs -r "$FMC" -n
	assert_line --regexp "ftd: staged certificate on its key; tunnel down"
	run -0 generate_certs -r "$FMC" -y
	assert_line --index 1 "You are about to renew the certificates for FMC and devices on their existing keys."
	assert_line --partial "Completing the interrupted renewal in /var/sf/sfca/runs/"
	cmp "$BATS_TEST_TMPDIR/staged.pem" "$CA"
	assert_consistent "$FMC"
	assert_equal "$(openssl x509 -noout -pubkey -in "$CA")" \
	    "$(openssl x509 -noout -pubkey -in "$BATS_TEST_TMPDIR/oldca.pem")"
	done_run
}

@test "generate_certs --extend: killed with half the commit's temporaries made: the re-run completes, no temporary and no shared file left" {
	local n
	SFCA_TEST_KILL_AT=commit-tmp run -137 generate_certs -r "$FMC" -e -y
	# the window is real: temporaries lie next to the certificates
	n=$(find "$FMC/var/sf/peers" "$FMC/etc/sf" -name '.*.??????' | wc -l)
	[ "$n" -gt 0 ]
	extend_kill_and_rerun mid-commit
}

@test "generate_certs --extend: the backup is the replaced file itself, a second name; the commit keeps each file's mode and owner" {
	local u=$(sfca_host FTD-1 4) d run_dir ino
	d=$FMC/var/sf/peers/$u
	chown 65534:65534 "$d/sftunnel-cert.pem"
	chmod 640 "$d/sftunnel-cert.pem"
	chmod 444 "$CA"
	cp "$d/sftunnel-cert.pem" "$BATS_TEST_TMPDIR/old-cert.pem"
	ino=$(stat -c %i "$d/sftunnel-cert.pem")
	run -0 generate_certs -r "$FMC" -e -y
	run_dir=$(done_run)
	# the old file, not a copy: the same inode, the same bytes
	assert_equal "$(stat -c %i "$run_dir/backup/var/sf/peers/$u/sftunnel-cert.pem")" "$ino"
	cmp "$BATS_TEST_TMPDIR/old-cert.pem" "$run_dir/backup/var/sf/peers/$u/sftunnel-cert.pem"
	cmp "$BATS_TEST_TMPDIR/oldca.pem" "$run_dir/backup/etc/sf/ca_root/cacert.pem"
	! cmp -s "$BATS_TEST_TMPDIR/old-cert.pem" "$d/sftunnel-cert.pem"
	assert_equal "$(stat -c '%a %u %g' "$d/sftunnel-cert.pem")" "640 65534 65534"
	assert_equal "$(stat -c '%a %u %g' "$CA")" "444 0 0"
	assert_equal "$(stat -c '%a %u %g' "$d/certs_pushed/sftunnel-cert.pem")" "644 0 0"
	assert_consistent "$FMC"
	assert_no_leftovers
}

@test "generate_certs --extend: a peer folder on another filesystem is committed by copy" {
	local u=$(sfca_host FTD-2 4) d out=$BATS_TEST_TMPDIR/xdev
	d=$FMC/var/sf/peers/$u
	cp -a "$d" "$BATS_TEST_TMPDIR/peer"
	# in a private mount namespace: the peer's folder a tmpfs of its own
	unshare -m sh -c '
		mount -t tmpfs tmpfs "$1" && cp -a "$2/." "$1/" &&
		[ "$(stat -c %d "$1")" != "$(stat -c %d "$3")" ] || exit 9
		generate_certs -r "$4" -e -y >"$5.out" 2>"$5.err"
		echo $? >"$5.rc"
		cp -a "$1/." "$5.peer"
	' sh "$d" "$BATS_TEST_TMPDIR/peer" "$FMC/var/sf/sfca" "$FMC" "$out" 3>&-
	assert_equal "$(cat "$out.rc")" 0
	# what the namespace's tmpfs held, back in place: it chains, on its key
	rm -rf "$d" && cp -a "$out.peer" "$d"
	assert_consistent "$FMC"
	cmp "$BATS_TEST_TMPDIR/peer/sftunnel-key.pem" "$d/sftunnel-key.pem"
	! cmp -s "$BATS_TEST_TMPDIR/peer/sftunnel-cert.pem" "$d/sftunnel-cert.pem"
	assert_no_leftovers
}

@test "generate_certs --extend: staged in one folder by flat names; a run staged in the tree's shape (an earlier version) is completed too" {
	local run_dir f
	SFCA_TEST_KILL_AT=staged run -137 generate_certs -r "$FMC" -e -y
	run_dir=$(ls -d "$FMC"/var/sf/sfca/runs/*/)
	# one folder, no tree: a name per file of the manifest
	run -0 find "$run_dir/new" -mindepth 1 -type d
	assert_output ""
	assert_equal "$(find "$run_dir/new" -type f | wc -l)" "$(wc -l < "$run_dir/MANIFEST")"
	# the shape an earlier version staged in: new/<path>
	for f in "$run_dir"/new/*; do
		f=${f##*/}
		mkdir -p "$run_dir/new/$(dirname "${f//%//}")"
		mv "$run_dir/new/$f" "$run_dir/new/${f//%//}"
	done
	run -0 generate_certs -r "$FMC" -y
	assert_line --partial "Completing the interrupted renewal in /var/sf/sfca/runs/"
	assert_consistent "$FMC"
	cmp "$run_dir/backup/etc/sf/ca_root/cacert.pem" "$BATS_TEST_TMPDIR/oldca.pem"
	! cmp -s "$CA" "$BATS_TEST_TMPDIR/oldca.pem"
	assert_no_leftovers
}

@test "generate_certs --extend: killed after the backup" {
	extend_kill_and_rerun backed-up
}

@test "generate_certs --extend: killed mid-commit: the CA certificate is still the old one until the re-run completes" {
	extend_kill_and_rerun mid-commit
}

@test "generate_certs --extend: killed after the commit, before the push" {
	extend_kill_and_rerun committed
}

@test "generate_certs --extend: killed after the push, before DONE" {
	extend_kill_and_rerun pushed
}

@test "generate_certs --extend: the HA secondary waits for the primary's renewal, in this mode too" {
	local lab2=$LAB/ha pri sec puuid suuid sums
	sfca_mktree "$lab2" -n 1 -k ec -H
	pri=$lab2/hosts/FMCpri/root
	sec=$lab2/hosts/FMCsec/root
	puuid=$(LAB=$lab2 sfca_host FMCpri 4)
	suuid=$(LAB=$lab2 sfca_host FMCsec 4)
	sums=$(tree_sum "$sec")
	run -1 --separate-stderr generate_certs -r "$sec" -e -y
	[[ $stderr == "generate_certs: this FMC is the HA secondary and the primary FMCpri has not renewed yet"* ]]
	assert_equal "$(tree_sum "$sec")" "$sums"
	sleep 1		# the primary's renewed CA must postdate the secondary's
	run -0 generate_certs -r "$pri" -e -y
	assert_line "Failed to push to FMCsec = /var/sf/peers/$puuid/from_peer/cacert.pem"
	cp "$pri/etc/sf/ca_root/cacert.pem" "$sec/var/sf/peers/$puuid/from_peer/cacert.pem"
	cp "$pri/var/sf/peers/$suuid/certs_pushed/sftunnel-cert.pem" "$sec/var/sf/peers/$puuid/from_peer/sftunnel-cert.pem"
	run -0 generate_certs -r "$sec" -e -y
	assert_consistent "$sec"
	run -1 generate_certs -r "$sec" -e -y
}

# --- on a running lab (sftunneld on every host), addresses 127.150.x.x ---

# lab_up ARGS...: a lab of our own address block, torn down by teardown
lab_up() {
	LABD=$LAB/lab
	lab -d "$LABD" up -b 127.150 -k ec --no-ssh -t 30 "$@" 3>&-
	FMC=$LABD/hosts/FMCpri/root
	FMCUUID=$(lab -d "$LABD" uuid FMCpri)
	CA=$FMC/etc/sf/ca_root/cacert.pem
	cp "$CA" "$BATS_TEST_TMPDIR/oldca.pem"
}

# pdir HOST: the folder where HOST keeps what FMCpri issued for it
pdir() {
	local d=$LABD/hosts/$1/root/var/sf/peers/$FMCUUID
	[ "$1" = FMCsec ] && d=$d/from_peer
	echo "$d"
}

# sums HOST: the bytes of HOST's three files from FMCpri
sums() { (cd "$(pdir "$1")" && sha256sum cacert.pem sftunnel-cert.pem sftunnel-key.pem); }

# got_public HOST: HOST holds FMCpri's renewed CA and its reissued
# certificate, next to the key it had
got_public() {
	local u d
	u=$(lab -d "$LABD" uuid "$1")
	d=$(pdir "$1")
	cmp -s "$d/cacert.pem" "$CA" &&
	    cmp -s "$d/sftunnel-cert.pem" "$FMC/var/sf/peers/$u/certs_pushed/sftunnel-cert.pem" &&
	    [ "$(pubsum "$d/sftunnel-key.pem")" = "$(certpubsum "$d/sftunnel-cert.pem")" ]
}

# chains VIEWER HOST...: VIEWER sees each HOST up, on a certificate that
# chains to VIEWER's current CA
chains() {
	local v=$1 h
	shift
	for h in "$@"; do
		run -0 sftunnel_status -r "$LABD/hosts/$v/root" "$(lab -d "$LABD" uuid "$h")"
		assert_line "Session certificate chains to current CA: Yes"
	done
}

restart() {
	local h
	for h in "$@"; do
		lab -d "$LABD" restart "$h" 3>&-
	done
}

@test "generate_certs --extend: lab, all peers up: each gets the two public files on its own key, tunnels stay, restarts reconnect" {
	local before h k1 k2 k3
	lab_up -n 3
	k1=$(sha256sum < "$(pdir FTD-1)/sftunnel-key.pem")
	k2=$(sha256sum < "$(pdir FTD-2)/sftunnel-key.pem")
	k3=$(sha256sum < "$(pdir FTD-3)/sftunnel-key.pem")
	run -0 sftunnel_status -r "$FMC" --brief
	before=$output
	run -0 generate_certs -r "$FMC" -e -y
	assert_equal "${#lines[@]}" 9
	assert_line --index 8 "Do you want to continue? [yes/no]:yes"
	assert_not_exist "$(failed_push "$(done_run)")"
	for h in FTD-1 FTD-2 FTD-3; do
		got_public "$h" || fail "$h did not get the public files"
	done
	# no key moved
	assert_equal "$(sha256sum < "$(pdir FTD-1)/sftunnel-key.pem")" "$k1"
	assert_equal "$(sha256sum < "$(pdir FTD-2)/sftunnel-key.pem")" "$k2"
	assert_equal "$(sha256sum < "$(pdir FTD-3)/sftunnel-key.pem")" "$k3"
	run -0 sftunnel_status -r "$FMC" --brief
	assert_equal "$output" "$before"
	# every daemon, the FMC's too, starts again on the renewed files
	restart FMCpri FTD-1 FTD-2 FTD-3
	lab -d "$LABD" wait-up -t 30
	chains FMCpri FTD-1 FTD-2 FTD-3
	chains FTD-1 FMCpri
}

@test "generate_certs --extend: lab, a one-minute CA, two FTDs cut: the reached ones take the renewal, the cut ones come back on their old files" {
	local h k
	lab_up -n 4 -l 60
	lab -d "$LABD" cut FTD-3
	lab -d "$LABD" cut FTD-4
	lab -d "$LABD" wait-down -t 20 FTD-3
	lab -d "$LABD" wait-down -t 20 FTD-4
	sums FTD-3 > "$BATS_TEST_TMPDIR/FTD-3.sums"
	sums FTD-4 > "$BATS_TEST_TMPDIR/FTD-4.sums"
	run -0 generate_certs -r "$FMC" -e -y -t 5
	assert_line "Failed to push to FTD-3 = /var/sf/peers/$FMCUUID/sftunnel-cert.pem"
	assert_line "Failed to push to FTD-4 = /var/sf/peers/$FMCUUID/cacert.pem"
	got_public FTD-1 && got_public FTD-2
	# all daemons start again, the FMC's included: the reached FTDs chain
	restart FMCpri FTD-1 FTD-2
	lab -d "$LABD" wait-up -t 30 FTD-1 FTD-2
	chains FMCpri FTD-1 FTD-2
	# the cut ones come back while the old CA is still valid
	for h in FTD-3 FTD-4; do
		lab -d "$LABD" heal "$h"
		restart "$h"
	done
	lab -d "$LABD" wait-up -t 30 FTD-3 FTD-4
	run -0 openssl x509 -checkend 0 -noout -in "$(pdir FTD-3)/cacert.pem"
	for h in FTD-3 FTD-4; do
		# on their old files: the FMC accepts their old certificates
		assert_equal "$(sums "$h")" "$(cat "$BATS_TEST_TMPDIR/$h.sums")"
		! cmp -s "$(pdir "$h")/cacert.pem" "$CA"
	done
	chains FMCpri FTD-3 FTD-4
	chains FTD-3 FMCpri
}

@test "generate_certs --extend: lab, CA already expired with the tunnels up: the same result" {
	lab_up -n 2 -l 4
	until_ok 10 sh -c "! openssl x509 -checkend 0 -noout -in '$CA'"
	lab -d "$LABD" wait-up -t 5
	run -0 generate_certs -r "$FMC" -e -y
	assert_line --index 6 --regexp '^Current ca_root expires in -0 days - at '
	assert_equal "${#lines[@]}" 9
	got_public FTD-1 && got_public FTD-2
	restart FMCpri FTD-1 FTD-2
	lab -d "$LABD" wait-up -t 30
	chains FMCpri FTD-1 FTD-2
}

@test "generate_certs --extend: lab, the FMC's copy of a peer's key is not the peer's: cacert.pem only, the mismatch named" {
	local u2 d f before
	lab_up -n 2
	u2=$(lab -d "$LABD" uuid FTD-2)
	d=$FMC/var/sf/peers/$u2
	# the FMC's records hold another key for FTD-2 than FTD-2 does
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$BATS_TEST_TMPDIR/k.pem" 2>/dev/null
	pkitool reissue "$d/sftunnel-cert.pem" "$BATS_TEST_TMPDIR/k.pem" "$CA" \
	    "$FMC/etc/sf/ca_root/private/cakey.pem" 99 $(($(date +%s) - 60)) $(($(date +%s) + 86400)) \
	    > "$BATS_TEST_TMPDIR/c.pem"
	for f in "$d" "$d/certs_pushed"; do
		cp "$BATS_TEST_TMPDIR/k.pem" "$f/sftunnel-key.pem"
		cp "$BATS_TEST_TMPDIR/c.pem" "$f/sftunnel-cert.pem"
	done
	before=$(cd "$(pdir FTD-2)" && sha256sum sftunnel-cert.pem sftunnel-key.pem)
	run -0 generate_certs -r "$FMC" -e -n
	assert_line "FTD-2 $u2 $(lab -d "$LABD" addr FTD-2) ftd: reissued certificate on its key; tunnel up, key mismatch: would push cacert.pem only to /var/sf/peers/$FMCUUID/"
	run -0 generate_certs -r "$FMC" -e -y
	assert_equal "${#lines[@]}" 13
	# both public files are listed, the pushed cacert.pem too: they go together
	assert_line --index 9 "Failed to push to FTD-2 = /var/sf/peers/$FMCUUID/cacert.pem"
	assert_line --index 10 "Failed to push to FTD-2 = /var/sf/peers/$FMCUUID/sftunnel-cert.pem"
	assert_line --index 11 "Key mismatch on FTD-2: it holds another key than /var/sf/peers/$u2/certs_pushed/sftunnel-key.pem, so only cacert.pem was pushed"
	assert_line --index 12 --partial "Some files were failed to be pushed"
	assert_equal "$(cat "$(failed_push "$(done_run)")")" \
	    "$u2 FTD-2 $(lab -d "$LABD" addr FTD-2) /etc/sf/ca_root/cacert.pem /var/sf/peers/$FMCUUID/cacert.pem
$u2 FTD-2 $(lab -d "$LABD" addr FTD-2) /var/sf/peers/$u2/certs_pushed//sftunnel-cert.pem /var/sf/peers/$FMCUUID/sftunnel-cert.pem"
	# FTD-2 got the renewed CA and kept a pair that belongs together
	cmp "$(pdir FTD-2)/cacert.pem" "$CA"
	assert_equal "$(cd "$(pdir FTD-2)" && sha256sum sftunnel-cert.pem sftunnel-key.pem)" "$before"
	got_public FTD-1
	restart FMCpri FTD-1 FTD-2
	lab -d "$LABD" wait-up -t 30
	chains FMCpri FTD-1 FTD-2
}

@test "generate_certs --extend: lab, HA pair: primary then secondary; the primary's key for the secondary's certificate is not seen" {
	local sec puuid suuid
	lab_up -n 1 -H
	sec=$LABD/hosts/FMCsec/root
	puuid=$FMCUUID
	suuid=$(lab -d "$LABD" uuid FMCsec)
	run -1 generate_certs -r "$sec" -e -y
	sleep 1		# the primary's renewed CA must postdate the secondary's
	run -0 generate_certs -r "$FMC" -e -y
	assert_equal "${#lines[@]}" 9
	got_public FMCsec && got_public FTD-1
	run -0 generate_certs -r "$sec" -e -y
	# the primary shows the secondary its own identity, not the one the
	# secondary issued for it: that certificate is not pushed
	assert_line "Failed to push to FMCpri = /var/sf/peers/$suuid/from_peer/cacert.pem"
	assert_line "Failed to push to FMCpri = /var/sf/peers/$suuid/from_peer/sftunnel-cert.pem"
	assert_line "Key not seen on FMCpri: its session does not show which key it holds, so only cacert.pem was pushed"
	cmp "$sec/etc/sf/ca_root/cacert.pem" "$FMC/var/sf/peers/$suuid/from_peer/cacert.pem"
	cmp "$sec/etc/sf/ca_root/cacert.pem" "$LABD/hosts/FTD-1/root/var/sf/peers/$suuid/cacert.pem"
	restart FMCpri FMCsec FTD-1
	lab -d "$LABD" wait-up -t 30
	chains FMCpri FMCsec FTD-1
	chains FMCsec FTD-1
}

# --- the copy tools after --extend, on a lab with sshds (127.150.x.x) ---

# lab_ssh_up ARGS...: lab_up with an sshd per host; KH the known_hosts
lab_ssh_up() {
	local h
	LABD=$LAB/lab
	lab -d "$LABD" up -b 127.150 -k ec -t 30 "$@" 3>&-
	FMC=$LABD/hosts/FMCpri/root
	FMCUUID=$(lab -d "$LABD" uuid FMCpri)
	CA=$FMC/etc/sf/ca_root/cacert.pem
	cp "$CA" "$BATS_TEST_TMPDIR/oldca.pem"
	KH=$LABD/known_hosts
	for h in $(awk '!/^#/ { print $1 }' "$LABD/hosts.txt"); do
		"$SFCA_TOP/tests/lab/ssh/sshd-host" known-hosts "$LABD" "$h"
	done >"$KH"
}

# devcsv [--fmc] HOST...: a 0600 CSV of those hosts into CSV (--fmc:
# FMCpri first, marked fmc, for the jump host)
devcsv() {
	local h fmc=
	[ "$1" = --fmc ] && { fmc=1; shift; }
	CSV=$BATS_TEST_TMPDIR/devices.csv
	: >"$CSV"
	chmod 600 "$CSV"
	([ -n "$fmc" ] && printf 'FMCpri,%s,admin,"%s",fmc\n' \
	    "$(lab -d "$LABD" addr FMCpri)" "$(awk '$1 == "FMCpri" { print $2 }' "$LABD/passwords")"
	for h in "$@"; do
		printf '%s,%s,admin,"%s"\n' "$h" "$(lab -d "$LABD" addr "$h")" \
		    "$(awk -v n="$h" '$1 == n { print $2 }' "$LABD/passwords")"
	done) >"$CSV"
}

# keystat HOST: the bytes, inode and change time of HOST's key file, and
# every name in its folder with "key" in it: a key written or renamed
# over (even with the same bytes) changes this
keystat() {
	local d
	d=$(pdir "$1")
	stat -L -c '%i %Z %s %a' "$d/sftunnel-key.pem"
	sha256sum < "$d/sftunnel-key.pem"
	ls -a "$d" | grep key
}

# messages HOST: its tunnel log
messages() {
	local r=$LABD/hosts/$1/root
	if [ -e "$r/ngfw/var/log/messages" ]; then
		cat "$r/ngfw/var/log/messages"
	else
		cat "$r/var/log/messages"
	fi
}

@test "generate_certs --extend: lab, proof 2: the old CA expired, a cut FTD fails (err 10) until copy_sftunnel_certs gives it the two public files, on the key it had" {
	local d oldcert ks
	lab_ssh_up -n 2 -l 30
	d=$(pdir FTD-2)
	lab -d "$LABD" cut FTD-2
	lab -d "$LABD" wait-down -t 20 FTD-2
	cp "$d/sftunnel-cert.pem" "$BATS_TEST_TMPDIR/ftd2-cert.pem"
	ks=$(keystat FTD-2)
	run -0 generate_certs -r "$FMC" -e -y -t 5
	assert_line "Failed to push to FTD-2 = /var/sf/peers/$FMCUUID/sftunnel-cert.pem"
	got_public FTD-1
	# the old CA expires; FTD-2 comes back only to fail on it
	until_ok 40 sh -c "! openssl x509 -checkend 0 -noout -in '$BATS_TEST_TMPDIR/oldca.pem' >/dev/null"
	lab -d "$LABD" heal FTD-2
	restart FTD-2
	until_ok 20 sh -c "grep -q 'err 10:certificate has expired' '$LABD/hosts/FTD-2/root/ngfw/var/log/messages' 2>/dev/null || grep -q 'err 10:certificate has expired' '$LABD/hosts/FTD-2/root/var/log/messages'"
	run -1 lab -d "$LABD" wait-up -t 3 FTD-2
	# the copy tool: the two public files, no key
	devcsv FTD-2
	run -0 copy_sftunnel_certs -r "$FMC" -k "$KH" -w 30 "$CSV"
	# the key file was never written: same bytes, inode and change time
	assert_equal "$(keystat FTD-2)" "$ks"
	assert_line --partial "The key on FTD-2 is the one of its renewed certificate: copying cacert.pem and sftunnel-cert.pem, no key"
	assert_line --partial "Successfully copied certificates to FTD-2"
	assert_line --partial "Restarting sftunnel for FTD-2"
	assert_output --regexp 'FTD-2 +127\.150\.[0-9.]+ +done'
	got_public FTD-2
	# the public files were backed up as in the default mode
	cmp "$d/cacert.pem.backup" "$BATS_TEST_TMPDIR/oldca.pem"
	cmp "$d/sftunnel-cert.pem.backup" "$BATS_TEST_TMPDIR/ftd2-cert.pem"
	lab -d "$LABD" wait-up -t 30 FTD-2
	chains FMCpri FTD-2
	chains FTD-2 FMCpri
}

@test "generate_certs --extend: lab, the FMC's copy of a device's key is not the device's: copy_sftunnel_certs gives it cacert.pem only and names the mismatch" {
	local u2 d f ks before
	lab_ssh_up -n 2
	u2=$(lab -d "$LABD" uuid FTD-2)
	d=$FMC/var/sf/peers/$u2
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$BATS_TEST_TMPDIR/k.pem" 2>/dev/null
	pkitool reissue "$d/sftunnel-cert.pem" "$BATS_TEST_TMPDIR/k.pem" "$CA" \
	    "$FMC/etc/sf/ca_root/private/cakey.pem" 99 $(($(date +%s) - 60)) $(($(date +%s) + 86400)) \
	    > "$BATS_TEST_TMPDIR/c.pem"
	for f in "$d" "$d/certs_pushed"; do
		cp "$BATS_TEST_TMPDIR/k.pem" "$f/sftunnel-key.pem"
		cp "$BATS_TEST_TMPDIR/c.pem" "$f/sftunnel-cert.pem"
	done
	lab -d "$LABD" cut FTD-2
	lab -d "$LABD" wait-down -t 20 FTD-2
	run -0 generate_certs -r "$FMC" -e -y -t 5
	lab -d "$LABD" heal FTD-2
	ks=$(keystat FTD-2)
	before=$(sha256sum < "$(pdir FTD-2)/sftunnel-cert.pem")
	devcsv FTD-1 FTD-2
	run -1 copy_sftunnel_certs -r "$FMC" -k "$KH" -w 30 "$CSV"
	# FTD-2 keeps the certificate and key it had
	assert_equal "$(keystat FTD-2)" "$ks"
	assert_equal "$(sha256sum < "$(pdir FTD-2)/sftunnel-cert.pem")" "$before"
	assert_line --partial "Key mismatch on FTD-2: it holds another key than the one of /var/sf/peers/$u2/certs_pushed/sftunnel-cert.pem, so only cacert.pem is copied"
	assert_output --regexp "FTD-2 +127\.150\.[0-9.]+ +failed +key mismatch: FTD-2 holds another key than the one of /var/sf/peers/$u2/certs_pushed/sftunnel-cert.pem; only cacert.pem was copied"
	assert_output --regexp 'FTD-1 +127\.150\.[0-9.]+ +done'
	# FTD-2: the renewed CA, and the certificate and key it had
	cmp "$(pdir FTD-2)/cacert.pem" "$CA"
	assert_equal "$(sha256sum < "$(pdir FTD-2)/sftunnel-cert.pem")" "$before"
	assert_equal "$(keystat FTD-2)" "$ks"
	[ "$(pubsum "$(pdir FTD-2)/sftunnel-key.pem")" = "$(certpubsum "$(pdir FTD-2)/sftunnel-cert.pem")" ]
	got_public FTD-1
}

@test "generate_certs --extend: lab, copy_sftunnel_certs_jumpserver learns the mode through its fetch and sends no key" {
	local ks run_dir
	lab_ssh_up -n 2
	mkdir -p "$FMC/usr/local/sf/bin"
	cp "$SFCA_BIN/sftunnel_status" "$FMC/usr/local/sf/bin/"
	lab -d "$LABD" cut FTD-2
	lab -d "$LABD" wait-down -t 20 FTD-2
	run -0 generate_certs -r "$FMC" -e -y -t 5
	lab -d "$LABD" heal FTD-2
	ks=$(keystat FTD-2)
	devcsv --fmc FTD-2
	SFCA_TEST_FETCHED=$BATS_TEST_TMPDIR/fetched \
	    run -0 copy_sftunnel_certs_jumpserver -k "$KH" -w 30 "$CSV"
	assert_equal "$(keystat FTD-2)" "$ks"
	# no key travelled, not even to the jump host: the FMC left the
	# keys out of what it sent (its certificates and the CA it sent)
	run -0 grep -c '/sftunnel-cert\.pem$' "$BATS_TEST_TMPDIR/fetched"
	[ "$output" -ge 2 ]
	run -0 grep -cx 'etc/sf/ca_root/cacert\.pem' "$BATS_TEST_TMPDIR/fetched"
	run -1 grep key "$BATS_TEST_TMPDIR/fetched"
	run -0 copy_sftunnel_certs_jumpserver -k "$KH" -w 30 "$CSV"
	assert_line --partial "Renewal on the same keys (/var/sf/sfca/runs/$(basename "$(done_run)") is --extend): copying cacert.pem and sftunnel-cert.pem only"
	assert_line --partial "The key on FTD-2 is the one of its renewed certificate"
	assert_output --regexp 'FTD-2 +127\.150\.[0-9.]+ +done'
	got_public FTD-2
	assert_equal "$(keystat FTD-2)" "$ks"
	# a run folder handed to another user says nothing: both tools
	# refuse before any device, the jump host's on the FMC itself
	run_dir=$(done_run)
	chown 65534:65534 "$run_dir"
	rm "$(pdir FTD-2)/cacert.pem.backup"
	run -1 copy_sftunnel_certs_jumpserver -k "$KH" -w 30 "$CSV"
	# (the FMC's chroot has no name for uid 65534)
	assert_line --regexp "^copy_sftunnel_certs_jumpserver: FMCpri: /var/sf/sfca/runs/${run_dir##*/}: owned by [A-Za-z]+ \(uid 65534\), mode 700, not root's folder that only root can change: refused; no device was touched\$"
	refute_output --partial "Attempting connection to FTD-2"
	run -1 --separate-stderr copy_sftunnel_certs -r "$FMC" -k "$KH" "$CSV"
	assert_equal "$stderr" "copy_sftunnel_certs: $run_dir: owned by nobody (uid 65534), not by root: refused"
	assert_not_exist "$(pdir FTD-2)/cacert.pem.backup"
}

@test "generate_certs --extend: copy_sftunnel_certs --dry-run says which files the newest renewal lets it copy" {
	local csv=$BATS_TEST_TMPDIR/d.csv run_dir
	(umask 077; printf 'FTD-1,%s,admin,x\n' "$(sfca_host FTD-1 3)" >"$csv")
	run -0 copy_sftunnel_certs -n -r "$FMC" "$csv"
	assert_line --index 1 "Renewal with new keys: would copy cacert.pem, sftunnel-key.pem and sftunnel-cert.pem"
	run -0 generate_certs -r "$FMC" -e -y
	run_dir=$(done_run)
	run -0 copy_sftunnel_certs -n -r "$FMC" "$csv"
	assert_line --index 1 "Renewal on the same keys (/var/sf/sfca/runs/${run_dir##*/} is --extend): would copy cacert.pem and sftunnel-cert.pem only, each device's certificate only if it holds its key; no key"
	# a newer run that never staged replaced nothing: it does not count
	mkdir -m 700 "$FMC/var/sf/sfca/runs/$((${run_dir##*/} + 5))"
	run -0 copy_sftunnel_certs -n -r "$FMC" "$csv"
	assert_line --index 1 --partial "Renewal on the same keys (/var/sf/sfca/runs/${run_dir##*/} is"
	rmdir "$FMC/var/sf/sfca/runs/$((${run_dir##*/} + 5))"
	sleep 1
	run -0 generate_certs -r "$FMC" -y
	run -0 copy_sftunnel_certs -n -r "$FMC" "$csv"
	assert_line --index 1 --regexp "^Renewal with new keys \(/var/sf/sfca/runs/[0-9]+\): would copy cacert.pem, sftunnel-key.pem and sftunnel-cert.pem$"
}
