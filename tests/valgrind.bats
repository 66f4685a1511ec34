#!/usr/bin/env bats
# valgrind: the shipped commands run clean under memcheck (no leak, no error)

load helpers

setup_file() {
	export LAB
	LAB=$(sfca_scratch)
	sfca_mktree "$LAB" -n 3 -H -k ec -b 127.71
}

teardown_file() {
	rm -rf "$LAB"
}

# vg CMD...: memcheck with every leak kind that matters an error (exit 99)
vg() {
	valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect --track-fds=no "$@"
}

@test "valgrind: check_ca_expiry, every mode, and a bad certificate" {
	run -0 vg check_ca_expiry -r "$LAB/hosts/FMCpri/root"
	run -1 vg check_ca_expiry -H -w 5000 -r "$LAB/hosts/FMCpri/root"
	assert_output --partial "is expiring in"
	run -0 vg check_ca_expiry -j -r "$LAB/hosts/FTD-1/root"
	run -1 vg check_ca_expiry -f "$LAB/hosts/FMCpri/root/etc/sf/ca_root/private/cakey.pem"
	run -2 vg check_ca_expiry --bogus
}

@test "valgrind: check_ca_expiry -v and -j, sftunnel_status, after renewals (the run folders' backups read)" {
	local root=$BATS_TEST_TMPDIR/fmc
	cp -a "$LAB/hosts/FMCpri/root" "$root"
	run -0 vg check_ca_expiry -v -r "$root"
	assert_output --partial "CA key: unknown"
	run -0 generate_certs -r "$root" --yes
	run -0 generate_certs -r "$root" --extend --yes
	run -0 vg check_ca_expiry -v -r "$root"
	assert_output --partial "CA key: same"
	run -0 vg check_ca_expiry -j -r "$root"
	run -0 vg check_ca_expiry -p -r "$root"
	assert_output --partial "sfca_internal_ca_same_key{"
	run -0 vg check_ca_expiry -v -r "$LAB/hosts/FTD-1/root"
	run -1 vg sftunnel_status -r "$root"
	assert_output --partial "CA key: same"
	run -1 vg sftunnel_status -j -r "$root"
}

@test "valgrind: check_ca_expiry --prom and --prom-file, and a bad certificate" {
	local root=$BATS_TEST_TMPDIR/ftd uuid
	run -0 vg check_ca_expiry -p -r "$LAB/hosts/FTD-1/root"
	assert_output --partial "sfca_check_ca_expiry_success 1"
	run -0 vg check_ca_expiry -P "$BATS_TEST_TMPDIR/m.prom" -r "$LAB/hosts/FMCpri/root"
	cp -a "$LAB/hosts/FTD-1/root" "$root"
	uuid=$(awk '$1 == "FMCsec" { print $4 }' "$LAB/hosts.txt")
	: >"$root/ngfw/var/sf/peers/$uuid/cacert.pem"
	run -1 vg check_ca_expiry -p -P "$BATS_TEST_TMPDIR/m.prom" -r "$root"
	assert_output --partial "sfca_check_ca_expiry_success 0"
	run -1 vg check_ca_expiry -p -r "$LAB"
}

@test "valgrind: sftunnel_status with no daemon, full, brief and JSON" {
	run -1 vg sftunnel_status -r "$LAB/hosts/FMCpri/root"
	assert_output --partial "Peer certificate chains to current CA: Yes"
	run -1 vg sftunnel_status -b -r "$LAB/hosts/FTD-2/root"
	run -1 vg sftunnel_status -j -r "$LAB/hosts/FMCsec/root"
	run -2 vg sftunnel_status -r "$LAB/hosts/FMCpri/root" 00000000-0000-4000-8000-000000000000
}

@test "valgrind: generate_certs renews on the same keys, dry run and refusal" {
	root=$LAB/hosts/FMCpri/root
	run -0 vg generate_certs -n -r "$root"
	run -0 vg generate_certs -y -k -r "$root"
	assert_output --partial "Some files were failed to be pushed"
	run -1 vg generate_certs -y -r "$LAB/hosts/FTD-1/root"
}

@test "valgrind: generate_certs --extend, dry run, renewal and refusal" {
	local root=$LAB/hosts/FMCpri/root
	local key=$root/etc/sf/ca_root/private/cakey.pem
	run -0 vg generate_certs -e -n -r "$root"
	run -0 vg generate_certs -e -y -r "$root"
	assert_output --partial "Renewed ca_root will expire in 3650 days"
	cp -p "$key" "$BATS_TEST_TMPDIR/cakey.pem"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key" 2>/dev/null
	run -1 vg generate_certs -e -y -r "$root"
	assert_output --partial "cannot be renewed on its own key"
	cp -p "$BATS_TEST_TMPDIR/cakey.pem" "$key"
}

@test "valgrind: the copy tools parse a devices.csv and plan without connecting" {
	csv=$BATS_TEST_TMPDIR/devices.csv
	printf '%s\n' '#device_name,ipaddr,login,password' \
	    'FTD-1,127.71.1.1,admin,"pa,ss""word"' >"$csv"
	chmod 600 "$csv"
	run -0 vg copy_sftunnel_certs -n -r "$LAB/hosts/FMCpri/root" "$csv"
	assert_output --partial "FTD-1"
	printf 'FTD-2,127.71.1.2,admin\n' >>"$csv"
	run -2 vg copy_sftunnel_certs -n -r "$LAB/hosts/FMCpri/root" "$csv"
	assert_output --partial "$csv:3"
}

@test "valgrind: copy_sftunnel_certs -K writes kits from FAILED_PUSH and from a CSV, after either renewal, and refuses a folder" {
	local root=$BATS_TEST_TMPDIR/fmc csv=$BATS_TEST_TMPDIR/devices.csv
	cp -a "$LAB/hosts/FMCpri/root" "$root"
	run -0 generate_certs -r "$root" --yes
	run -0 vg copy_sftunnel_certs -K "$BATS_TEST_TMPDIR/k1" -r "$root"
	assert_output --partial "$BATS_TEST_TMPDIR/k1/FTD-1.sh"
	# two names that make the same file name: the second gets its uuid
	(umask 077; printf '%s\n' 'FTD 1,127.71.1.1,admin,pw' 'FTD_1,127.71.1.2,admin,pw' \
	    'FMCpri,127.71.0.1,admin,pw' >"$csv")
	run -0 vg copy_sftunnel_certs -K "$BATS_TEST_TMPDIR/k2" -r "$root" "$csv"
	assert_output --partial "$BATS_TEST_TMPDIR/k2/FTD_1.sh"
	assert_output --partial "$BATS_TEST_TMPDIR/k2/FTD_1-$(awk '$1 == "FTD-2" { print $4 }' "$LAB/hosts.txt").sh"
	assert_equal "$(ls "$BATS_TEST_TMPDIR/k2" | wc -l)" 2
	run -0 generate_certs -r "$root" --extend --yes
	run -0 vg copy_sftunnel_certs -K "$BATS_TEST_TMPDIR/k3" -r "$root" "$csv"
	run ! grep -q "PRIVATE KEY" "$BATS_TEST_TMPDIR/k3/FTD_1.sh"
	ln -s k3 "$BATS_TEST_TMPDIR/k4"
	run -1 vg copy_sftunnel_certs -K "$BATS_TEST_TMPDIR/k4" -r "$root"
	assert_output --partial "a symbolic link"
}
