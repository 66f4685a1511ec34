#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# hotfix.bats -- make hotfix, and its installer on lab FMC trees

load helpers

SSHLAB=${SFCA_SSHLAB:-$SFCA_TOP/tests/lab/ssh}

VENDOR="generate_certs.pl:generate_certs sftunnel_status.pl:sftunnel_status
copy_sftunnel_certs.py:copy_sftunnel_certs
copy_sftunnel_certs_jumpserver.py:copy_sftunnel_certs_jumpserver"

setup_file() {
	local top
	top=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	make -C "$top" -s hotfix >/dev/null 3>&-
}

setup() {
	REL=$(ls "$SFCA_TOP"/build/hotfix/Sfca_Hotfix_*.sh.REL.tar)
	NAME=$(basename "$REL" .sh.REL.tar)
	D=$(sfca_scratch)
	LAB=$D/lab
	SSH_UP=
}

teardown() {
	if [ -n "$SSH_UP" ]; then
		"$SSHLAB/sshd-host" down "$LAB" FMCsec 3>&- || true
	fi
	rm -rf "$D"
}

# unpack: the installer into $D, as an operator does
unpack() { tar -C "$D" -xf "$REL"; X=$D/$NAME.sh; }

# snap ROOT [EXCLUDE]: every path with type, mode, link target; every
# file's mtime and sha256 (directory times aside)
snap() {
	(cd "$1" && find . ! -path "./${2:-/}*" -printf '%p %y %m %l\n' |
	    sort && find . -type f ! -path "./${2:-/}*" -printf '%p %T@\n' |
	    sort && find . -type f ! -path "./${2:-/}*" -print0 | sort -z |
	    xargs -0 sha256sum)
}

# its own address block, apart from the other tests' labs
fmc_lab() { sfca_mktree "$LAB" -b 127.79 -k ec -n 1 "$@" >/dev/null; }

@test "hotfix: make hotfix names the file the vendor's way and carries one installer" {
	[[ ${REL##*/} =~ ^Sfca_Hotfix_[A-Z]+-[0-9]+\.[0-9]+\.[0-9]+-[0-9]+\.sh\.REL\.tar$ ]]
	run -0 tar -tf "$REL"
	assert_output "$NAME.sh"
}

@test "hotfix: the payload has a MANIFEST of every file, and NEEDED" {
	local p=$SFCA_TOP/build/hotfix/stage/payload
	run -0 bash -c "cd '$p' && sha256sum --strict -c MANIFEST"
	[ "$(cd "$p" && find . -type f ! -name MANIFEST | wc -l)" -eq \
	    "$(wc -l <"$p/MANIFEST")" ]
	assert_file_exist "$p/bin/check_ca_expiry"
	assert_file_exist "$p/man/check_ca_expiry.8"
	run -0 grep -x 'libc.so.6' "$p/NEEDED"
	# never the lab's tools
	assert_file_not_exist "$p/bin/mktree"
	assert_file_not_exist "$p/bin/sftunneld"
	assert_file_not_exist "$p/bin/pmtool"
	# libssh, OpenSSL, libbsd are linked in
	run -0 ldd "$p/bin/check_ca_expiry"
	refute_output --partial libcrypto
	refute_output --partial libssh
	refute_output --partial libbsd
}

# shipped_pages: the names man/SHIPPED lists, sorted
shipped_pages() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$SFCA_TOP/man/SHIPPED" | LC_ALL=C sort; }

@test "hotfix: the payload carries the commands of cmd/ and the pages man/SHIPPED lists, no lab page" {
	local p=$SFCA_TOP/build/hotfix/stage/payload
	run -0 bash -c "cd '$p/man' && ls | LC_ALL=C sort"
	assert_output "$(shipped_pages)"
	run -0 bash -c "cd '$p/bin' && ls | LC_ALL=C sort"
	assert_output "$(cd "$SFCA_TOP/cmd" && ls | sed -n 's/^\([^-]*\)\.c$/\1/p' | LC_ALL=C sort)"
	for m in sftunneld.8 sftunnel.7 pmtool.8; do
		assert_file_not_exist "$p/man/$m"
		assert_file_exist "$SFCA_TOP/tests/lab/man/$m"
	done
}

@test "hotfix: the payload's binaries and make install's carry no SFCA_TEST_ hook, the tests' build does" {
	local p=$SFCA_TOP/build/hotfix/stage/payload f
	make -C "$SFCA_TOP" -s install DESTDIR="$D/inst" >/dev/null 3>&-
	for f in "$p"/bin/* "$p"/libexec/* "$D"/inst/usr/local/sbin/*; do
		run -1 grep -c SFCA_TEST_ "$f"
	done
	# the check can fail: the build the tests use has them
	run -0 grep -l SFCA_TEST_KILL_AT "$SFCA_BIN/generate_certs"
	run -0 grep -l SFCA_TEST_DROP_AFTER "$SFCA_BIN/copy_sftunnel_certs"
}

@test "hotfix: make install installs the same commands and pages as the payload" {
	local dest=$D/inst
	make -C "$SFCA_TOP" -s install DESTDIR="$dest" >/dev/null 3>&-
	run -0 bash -c "find '$dest/usr/local/share/man' -type f -printf '%f\\n' | LC_ALL=C sort"
	assert_output "$(shipped_pages)"
	run -0 bash -c "cd '$dest/usr/local/sbin' && ls | LC_ALL=C sort"
	assert_output "$(cd "$SFCA_TOP/build/hotfix/stage/payload/bin" && ls | LC_ALL=C sort)"
}

@test "hotfix: --readiness-check reports and changes nothing" {
	fmc_lab
	unpack
	local r=$LAB/hosts/FMCpri/root
	snap "$r" >"$D/before"
	run -0 sh "$X" --root "$r" --readiness-check
	assert_output --partial "version 7.2.9: supported"
	assert_output --partial "state: not installed"
	assert_line ready
	snap "$r" >"$D/after"
	run -0 cmp "$D/before" "$D/after"
}

@test "hotfix: installs; the commands work from the FMC's PATH under both names" {
	fmc_lab
	unpack
	local r=$LAB/hosts/FMCpri/root v n c
	run -0 sh "$X" --root "$r"
	assert_output --partial "$NAME installed"
	assert_file_executable "$r/usr/local/sf/bin/check_ca_expiry"
	assert_file_exist "$r/usr/local/sf/share/man/man8/check_ca_expiry.8"
	run -0 grep -c "^$NAME.sh.REL.tar installed=.* uuid=$(sfca_host FMCpri 4)\$" \
	    "$r/etc/sf/patch_history"
	assert_output 1
	run -0 grep -F "$NAME installed" "$r/var/log/sf/$NAME/status.log"

	PATH=$r/usr/local/sf/bin:/usr/bin:/bin
	run -0 command -v check_ca_expiry
	assert_output "$r/usr/local/sf/bin/check_ca_expiry"
	run -0 check_ca_expiry --root "$r"
	assert_line "The certificate is valid for more than 30 days."
	n=0
	for v in $VENDOR; do
		c=${v#*:}
		[ -e "$SFCA_TOP/build/hotfix/stage/payload/bin/$c" ] || continue
		run -0 command -v "${v%%:*}"
		assert_output "$r/usr/local/sf/bin/${v%%:*}"
		run -0 "${v%%:*}" --version
		[ "$output" = "$("$c" --version)" ]
		n=$((n + 1))
	done
	[ "$n" -ge 1 ]
}

@test "hotfix: a re-run changes nothing, patch_history included" {
	fmc_lab
	unpack
	local r=$LAB/hosts/FMCpri/root
	run -0 sh "$X" --root "$r"
	snap "$r" >"$D/before"
	run -0 sh "$X" --root "$r"
	assert_output "$NAME is already installed on $(cd "$r" && pwd -P): nothing to do"
	snap "$r" >"$D/after"
	run -0 cmp "$D/before" "$D/after"
}

@test "hotfix: --uninstall puts back byte for byte what was there" {
	fmc_lab
	unpack
	local r=$LAB/hosts/FMCpri/root
	# a vendor script and an earlier hotfix were there before
	printf '#!/usr/bin/perl\n# the vendor script\n' \
	    >"$r/usr/local/sf/bin/generate_certs.pl"
	chmod 750 "$r/usr/local/sf/bin/generate_certs.pl"
	touch -d '2024-10-14 12:00' "$r/usr/local/sf/bin/generate_certs.pl"
	echo 'Cisco_Firepower_Mgmt_Center_Hotfix_BA-7.2.9.1-1.sh.REL.tar' \
	    >>"$r/etc/sf/patch_history"
	snap "$r" >"$D/before"
	run -0 sh "$X" --root "$r"
	run -0 test -L "$r/usr/local/sf/bin/generate_certs.pl"
	run -0 sh "$X" --root "$r" --uninstall
	assert_output --partial "$NAME uninstalled"
	# everything as before; the hotfix's own log stays, as the vendor's do
	snap "$r" "var/log/sf/$NAME" >"$D/after"
	run -0 diff "$D/before" "$D/after"
	assert_file_exist "$r/var/log/sf/$NAME/status.log"
	assert_file_not_exist "$r/var/sf/hotfix"
	assert_file_not_exist "$r/usr/local/sf/share"
	# and again: nothing to undo
	run -0 sh "$X" --root "$r" --uninstall
	assert_output "$NAME is not installed on $(cd "$r" && pwd -P): nothing to do"
}

@test "hotfix: a corrupted payload is refused before anything changes" {
	fmc_lab
	unpack
	local r=$LAB/hosts/FMCpri/root size b
	size=$(stat -c %s "$X")
	# flip every bit of one byte near the end of the payload (writing a
	# fixed byte left it as it was when it already held that byte)
	b=$(dd if="$X" bs=1 skip=$((size - 100)) count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	printf "\\$(printf %o $((b ^ 255)))" |
	    dd of="$X" bs=1 seek=$((size - 100)) conv=notrunc 2>/dev/null
	[ "$(dd if="$X" bs=1 skip=$((size - 100)) count=1 2>/dev/null | od -An -tu1 | tr -d ' ')" = $((b ^ 255)) ]
	snap "$r" >"$D/before"
	run -1 sh "$X" --root "$r"
	assert_output --partial "corrupted installer (payload checksum mismatch)"
	run -1 sh "$X" --root "$r" --uninstall
	snap "$r" >"$D/after"
	run -0 cmp "$D/before" "$D/after"
}

@test "hotfix: a corrupted script is refused before anything changes" {
	fmc_lab
	unpack
	local r=$LAB/hosts/FMCpri/root
	sed -i 's/^BINDIR=usr\/local\/sf\/bin$/BINDIR=usr\/local\/sf\/bim/' "$X"
	snap "$r" >"$D/before"
	run -1 sh "$X" --root "$r"
	assert_output --partial "corrupted installer (script checksum mismatch)"
	snap "$r" >"$D/after"
	run -0 cmp "$D/before" "$D/after"
}

@test "hotfix: a truncated installer is refused before anything changes" {
	fmc_lab
	local r=$LAB/hosts/FMCpri/root size
	size=$(stat -c %s "$REL")
	head -c $((size / 2)) "$REL" >"$D/cut.tar"
	run tar -C "$D" -xf "$D/cut.tar"
	X=$D/$NAME.sh
	snap "$r" >"$D/before"
	run -1 sh "$X" --root "$r"
	assert_output --partial "truncated or corrupted installer"
	snap "$r" >"$D/after"
	run -0 cmp "$D/before" "$D/after"
}

@test "hotfix: an FTD, or an FMC of an unsupported version, is refused" {
	fmc_lab
	unpack
	run -1 sh "$X" --root "$LAB/hosts/FTD-1/root"
	assert_output --partial "not a management center (MODEL_TYPE is 'SENSOR'"
	local r=$LAB/hosts/FMCpri/root
	sed -i 's/^SWVERSION=.*/SWVERSION=6.2.3/' "$r/etc/sf/ims.conf"
	snap "$r" >"$D/before"
	run -1 sh "$X" --root "$r"
	assert_output --partial "FMC version '6.2.3' is not supported"
	run -1 sh "$X" --root "$r" --readiness-check
	snap "$r" >"$D/after"
	run -0 cmp "$D/before" "$D/after"
}

@test "hotfix: usage errors exit 2" {
	unpack
	run -2 sh "$X" --bogus
	run -2 sh "$X" --secondary 127.0.0.1
	run -2 sh "$X" --port x
	run -2 sh "$X" --root /nonexistent
	assert_output "$NAME.sh: /nonexistent: no such folder"
	run -2 sh "$X" --root "$X" --readiness-check
	run -0 sh "$X" --help
	assert_line --partial "usage: $NAME.sh"
	run -0 sh "$X" --version
}

@test "hotfix: --help lists every option of the SYNOPSIS, the exit statuses, the manual" {
	unpack
	# its own page does not ship: it points to the commands' pages
	run -0 sfca_help_check -m generate_certs.8 "$SFCA_TOP/man/sfca_hotfix.8" sh "$X"
}

@test "hotfix: the closing message says how to read the man pages, and that works" {
	fmc_lab
	unpack
	local r=$LAB/hosts/FMCpri/root m=$LAB/hosts/FMCpri/root/usr/local/sf/share/man
	run -0 sh "$X" --root "$r"
	assert_line "Manual pages of the commands, on this FMC:"
	assert_line "  man -l $m/man8/generate_certs.8"
	assert_line "  export MANPATH=$m:"
	[ "${lines[-1]}" = "  man generate_certs" ]
	# what it says works, whatever the PATH
	PATH=/usr/bin:/bin MANPAGER=cat run -0 man -l "$m/man8/generate_certs.8"
	assert_output --partial "generate_certs"
	for p in generate_certs check_ca_expiry devices.csv; do
		MANPATH=$m: PATH=/usr/bin:/bin run -0 man -w "$p"
		assert_output --regexp "^$m/man[58]/$p\.[58]\$"
	done
	MANPATH=$m: PATH=/usr/bin:/bin run -0 man -w ls
	# after an uninstall the pages are gone, and a new install says it again
	run -0 sh "$X" --root "$r" --uninstall
	assert_file_not_exist "$m/man8/generate_certs.8"
	run -0 sh "$X" --root "$r"
	assert_line "  export MANPATH=$m:"
}

@test "hotfix: the secondary refuses while the primary lacks it, names the primary" {
	fmc_lab -H
	unpack
	local s=$LAB/hosts/FMCsec/root
	snap "$s" >"$D/before"
	run -1 sh "$X" --root "$s"
	assert_output --partial "refusing: the primary FMCpri (127.79.0.1, $(sfca_host FMCpri 4)) does not have $NAME"
	run -1 sh "$X" --root "$s" --readiness-check
	snap "$s" >"$D/after"
	run -0 cmp "$D/before" "$D/after"
	# a record that is not the primary's is no proof
	run -1 sh "$X" --root "$s" --primary-record \
	    "$NAME.sh.REL.tar installed=2025-01-01T00:00:00Z uuid=$(sfca_host FTD-1 4)"
	assert_output --partial "not a record of $NAME.sh.REL.tar from the primary FMCpri"
	# --force overrides
	run -0 sh "$X" --root "$s" --force
	assert_output --partial "HA order: primary FMCpri not checked (--force)"
	run -0 grep -c "^$NAME.sh.REL.tar " "$s/etc/sf/patch_history"
}

@test "hotfix: primary first, then the secondary with the primary's record" {
	fmc_lab -H
	unpack
	local p=$LAB/hosts/FMCpri/root s=$LAB/hosts/FMCsec/root rec
	run -0 sh "$X" --root "$p"
	rec=$(grep "^$NAME.sh.REL.tar " "$p/etc/sf/patch_history")
	# the primary tells exactly how to do the secondary
	assert_output --partial "the secondary FMCsec (127.79.0.2) needs $NAME too"
	assert_output --partial "sh $NAME.sh --secondary 127.79.0.2 --login admin --password-file FILE"
	assert_output --partial "sh $NAME.sh --primary-record '$rec'"
	run -0 sh "$X" --root "$s" --primary-record "$rec"
	assert_output --partial "HA order: primary FMCpri has it: $rec"
	# re-running the secondary needs no record any more, and changes nothing
	snap "$s" >"$D/before"
	run -0 sh "$X" --root "$s"
	assert_output --partial "nothing to do"
	snap "$s" >"$D/after"
	run -0 cmp "$D/before" "$D/after"
}

@test "hotfix: on the primary it installs the secondary over SSH" {
	fmc_lab -H
	chmod 755 "$LAB"
	unpack
	local p=$LAB/hosts/FMCpri/root s=$LAB/hosts/FMCsec/root
	run -0 "$SSHLAB/sshd-host" up "$LAB" FMCsec 3>&-
	SSH_UP=1
	(umask 077; awk '$1 == "FMCsec" { print $2 }' "$LAB/passwords" >"$D/pw")
	# a wrong password: installed here, the secondary refused, said so
	(umask 077; echo wrong >"$D/badpw")
	run -1 sh "$X" --root "$p" --secondary 127.79.0.2 \
	    --password-file "$D/badpw" --known-hosts "$LAB/hosts/FMCsec/ssh/known_hosts"
	assert_output --partial "127.79.0.2: login refused"
	assert_output --partial "install failed (status 1); installed here only"
	run -1 grep "^$NAME" "$s/etc/sf/patch_history"
	# the right one
	run -0 sh "$X" --root "$p" --secondary 127.79.0.2 \
	    --password-file "$D/pw" --known-hosts "$LAB/hosts/FMCsec/ssh/known_hosts"
	assert_output --partial "installing $NAME on / (FMC $(sfca_host FMCsec 4), 7.2.9, secondary)"
	assert_output --partial "the secondary FMCsec (127.79.0.2) has $NAME"
	run -0 grep -c "^$NAME.sh.REL.tar .*uuid=$(sfca_host FMCsec 4)\$" \
	    "$s/etc/sf/patch_history"
	run -0 cmp "$p/usr/local/sf/bin/check_ca_expiry" \
	    "$s/usr/local/sf/bin/check_ca_expiry"
	assert_file_not_exist "$s/var/tmp/$NAME.sh"
	# the password went nowhere near argv or the logs
	run -1 grep -rF "$(cat "$D/pw")" "$p/var/log" "$s/var/log"
}

@test "hotfix: on the primary, --ha-csv takes the secondary's row of devices.csv" {
	fmc_lab -H
	chmod 755 "$LAB"
	unpack
	local p=$LAB/hosts/FMCpri/root s=$LAB/hosts/FMCsec/root
	run -0 "$SSHLAB/sshd-host" up "$LAB" FMCsec 3>&-
	SSH_UP=1
	(umask 077
	 echo '# device_name,ipaddr,login,password'
	 echo "FTD-1,127.79.1.1,admin,x"
	 awk '$1 == "FMCsec" { print "FMCsec,127.79.0.2,admin," $2 }' "$LAB/passwords"
	) >"$D/devices.csv"
	run -0 sh "$X" --root "$p" --ha-csv "$D/devices.csv" \
	    --known-hosts "$LAB/hosts/FMCsec/ssh/known_hosts"
	assert_output --partial "the secondary FMCsec (127.79.0.2) has $NAME"
	run -0 grep -c "^$NAME.sh.REL.tar " "$s/etc/sf/patch_history"
}

@test "hotfix: a run killed half-way is finished by the next, and still undone exactly" {
	fmc_lab
	unpack
	local r=$LAB/hosts/FMCpri/root st
	snap "$r" >"$D/before"
	run -0 sh "$X" --root "$r"
	# as if killed after the backups, before the last files and the record
	st=$r/var/sf/hotfix/$NAME
	rm -f "$st/complete" "$r/usr/local/sf/bin/check_ca_expiry"
	cp -p "$st/backup/etc/sf/patch_history" "$r/etc/sf/patch_history"
	run -0 sh "$X" --root "$r"
	assert_output --partial "$NAME installed"
	assert_file_executable "$r/usr/local/sf/bin/check_ca_expiry"
	assert_file_exist "$st/complete"
	run -0 sh "$X" --root "$r" --uninstall
	snap "$r" "var/log/sf/$NAME" >"$D/after"
	run -0 diff "$D/before" "$D/after"
}
