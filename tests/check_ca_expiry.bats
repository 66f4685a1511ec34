#!/usr/bin/env bats
# check_ca_expiry: the three outcomes, the health alert, JSON, bad input

load helpers

setup_file() {
	export LAB
	LAB=$(sfca_scratch)
	# 39 days and 23 hours left; the clock is moved with --at for the boundaries.
	sfca_mktree "$LAB" -n 1 -H -k ec -l $((40 * 86400 - 3600))
}

setup() {
	FMC=$LAB/hosts/FMCpri/root
	FTD=$LAB/hosts/FTD-1/root
	NA=$(openssl x509 -noout -enddate -in "$FMC/etc/sf/ca_root/cacert.pem" |
	    cut -d= -f2)
	NA=$(date -u -d "$NA" +%s)
	BAD=$BATS_TEST_TMPDIR
}

teardown_file() {
	rm -rf "$LAB"
}

@test "check_ca_expiry: more than 30 days, vendor wording, exit 0" {
	run -0 check_ca_expiry -r "$FMC"
	assert_line --index 0 "The certificate is valid for more than 30 days."
	assert_line --index 1 "It is valid for 39 more days."
	assert_line --index 2 "There is no immediate need to perform action but this depends on how far the expiry date is in the future."
}

@test "check_ca_expiry: SFCA_ROOT names the tree" {
	SFCA_ROOT=$FMC run -0 check_ca_expiry
	assert_line --index 1 "It is valid for 39 more days."
}

@test "check_ca_expiry: exactly 30 days left is within the next 30 days" {
	run -3 check_ca_expiry -r "$FMC" -t $((NA - 30 * 86400))
	assert_line --index 0 "The certificate will expire within the next 30 days!"
	assert_line --index 1 "It is ONLY valid for 30 more days."
	assert_line --index 2 "It is recommended to take action in renewing the certificate as quickly as possible."
}

@test "check_ca_expiry: one second past 30 days is still more than 30 days" {
	run -0 check_ca_expiry -r "$FMC" -t $((NA - 30 * 86400 - 1))
	assert_line --index 0 "The certificate is valid for more than 30 days."
	assert_line --index 1 "It is valid for 30 more days."
}

@test "check_ca_expiry: expiring today says 0 more days" {
	run -3 check_ca_expiry -r "$FMC" -t $((NA - 1))
	assert_line --index 1 "It is ONLY valid for 0 more days."
}

@test "check_ca_expiry: expired today says 0 days ago" {
	run -4 check_ca_expiry -r "$FMC" -t "$NA"
	assert_line --index 0 "The certificate has expired 0 days ago."
	assert_line --index 1 "In case the sftunnel communication with the FTD is not yet lost, you need to take action immediately in renewing the certificate."
	run -4 check_ca_expiry -r "$FMC" -t $((NA + 86399))
	assert_line --index 0 "The certificate has expired 0 days ago."
}

@test "check_ca_expiry: expired days are whole days rounded down" {
	run -4 check_ca_expiry -r "$FMC" -t $((NA + 3 * 86400 + 5))
	assert_line --index 0 "The certificate has expired 3 days ago."
}

@test "check_ca_expiry: --at takes a UTC date" {
	run -4 check_ca_expiry -r "$FMC" -t 2099-01-01
	assert_line --index 0 --partial "The certificate has expired"
	run -2 check_ca_expiry -r "$FMC" -t yesterday
	assert_output --partial "--at yesterday"
}

# at_form TIME EPOCH: --at TIME is read as EPOCH, in UTC whatever TZ says
# (Honolulu is 10 hours behind: a local reading would be off by 36000).
at_form() {
	TZ=Pacific/Honolulu run -3 check_ca_expiry -r "$FMC" -j -t "$1"
	assert_line --index 0 "{\"now\": $2, \"certificates\": ["
	assert_output --partial '"days_left": 10,'
}

@test "check_ca_expiry: --at takes epoch seconds, alone or after @" {
	t=$((NA - 10 * 86400 - 5))
	at_form "$t" "$t"
	at_form "@$t" "$t"
}

@test "check_ca_expiry: --at takes YYYY-MM-DD, midnight UTC" {
	d=$(date -u -d @$((NA - 10 * 86400)) +%Y-%m-%d)
	t=$(date -u -d "$d" +%s)
	TZ=Pacific/Honolulu run -3 check_ca_expiry -r "$FMC" -j -t "$d"
	assert_line --index 0 "{\"now\": $t, \"certificates\": ["
}

@test "check_ca_expiry: --at takes YYYY-MM-DDTHH:MM:SSZ" {
	t=$((NA - 10 * 86400 - 5))
	at_form "$(date -u -d @$t +%Y-%m-%dT%H:%M:%SZ)" "$t"
}

@test "check_ca_expiry: --at takes YYYY-MM-DDTHH:MM:SS" {
	t=$((NA - 10 * 86400 - 5))
	at_form "$(date -u -d @$t +%Y-%m-%dT%H:%M:%S)" "$t"
}

@test "check_ca_expiry: --at takes 'YYYY-MM-DD HH:MM:SS'" {
	t=$((NA - 10 * 86400 - 5))
	at_form "$(date -u -d @$t '+%Y-%m-%d %H:%M:%S')" "$t"
}

@test "check_ca_expiry: --at refuses other forms, naming the ones it takes" {
	for bad in "2034-10-09T10:12" "10:12:50" "2034/10/09" "@" "@-5" "2034-10-09Z"; do
		run -2 check_ca_expiry -r "$FMC" -t "$bad"
		assert_line --index 0 "check_ca_expiry: --at $bad: not [@]epoch seconds or YYYY-MM-DD[( |T)HH:MM:SS[Z]]"
	done
}

@test "check_ca_expiry: health ok beyond 90 days" {
	run -0 check_ca_expiry -H -r "$FMC" -t $((NA - 90 * 86400 - 1))
	assert_output "Firewall Management Center's internal root certificate is valid for 90 more days."
}

@test "check_ca_expiry: health warning at exactly 90 days" {
	run -1 check_ca_expiry -H -r "$FMC" -t $((NA - 90 * 86400))
	assert_output "Firewall Management Center's internal root certificate is expiring in 90 days. If it expires, Firewall Threat Defense cannot be managed and might experience degradation. Review the Field Notice FN #74214 and regenerate the certificate."
}

@test "check_ca_expiry: health warning on the last day" {
	run -1 check_ca_expiry -H -r "$FMC" -t $((NA - 1))
	assert_output --partial "is expiring in 0 days."
}

@test "check_ca_expiry: health critical once expired" {
	run -2 check_ca_expiry -H -r "$FMC" -t "$NA"
	assert_output "Firewall Management Center's internal root certificate has expired. As a result, Firewall Threat Defense cannot be managed and may experience degradation. Review the Field Notice FN #74214 and regenerate the certificate."
}

@test "check_ca_expiry: health thresholds are configurable" {
	run -0 check_ca_expiry -H -w 10 -r "$FMC" -t $((NA - 11 * 86400))
	run -1 check_ca_expiry -H -w 10 -r "$FMC" -t $((NA - 10 * 86400))
	run -2 check_ca_expiry -H -w 10 -c 5 -r "$FMC" -t $((NA - 5 * 86400))
	assert_output --partial "is expiring in 5 days."
	run -3 check_ca_expiry -H -w 5 -c 10 -r "$FMC"
	run -3 check_ca_expiry -H -w x -r "$FMC"
}

@test "check_ca_expiry: --json describes the certificate" {
	run -0 check_ca_expiry -j -r "$FMC"
	uuid=$(sfca_host FMCpri 4)
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = d["certificates"][0]
assert c["path"] == "/etc/sf/ca_root/cacert.pem", c
assert c["uuid"] == sys.argv[1], c
assert c["days_left"] == 39 and c["status"] == "valid" and not c["expired"], c
assert c["not_after_epoch"] == int(sys.argv[2]), c
' "$uuid" "$NA"
	run -4 check_ca_expiry -j -r "$FMC" -t "$NA"
	assert_output --partial '"status": "expired"'
}

@test "check_ca_expiry: an FTD reports the CA of each of its FMCs" {
	run -0 check_ca_expiry -r "$FTD"
	assert_output --partial "/var/sf/peers/$(sfca_host FMCpri 4)/cacert.pem (FMCpri,"
	assert_output --partial "/var/sf/peers/$(sfca_host FMCsec 4)/cacert.pem (FMCsec,"
	[ "$(grep -c 'It is valid for 39 more days.' <<<"$output")" -eq 2 ]
}

@test "check_ca_expiry: the worst of several certificates decides" {
	fmc=$(sfca_host FMCsec 4)
	root=$BATS_TEST_TMPDIR/ftd
	cp -a "$FTD" "$root"
	# An expired CA for one FMC: take it from a lab made expired.
	sfca_mktree "$BATS_TEST_TMPDIR/old" -n 0 -k ec -l -86400
	cp "$BATS_TEST_TMPDIR/old/hosts/FMCpri/root/etc/sf/ca_root/cacert.pem" \
	    "$root/ngfw/var/sf/peers/$fmc/cacert.pem"
	run -4 check_ca_expiry -r "$root"
	assert_output --partial "The certificate has expired 1 days ago."
	assert_output --partial "It is valid for 39 more days."
}

@test "check_ca_expiry: a missing certificate is one line naming it" {
	run -1 check_ca_expiry -f "$BAD/nope.pem"
	assert_output "check_ca_expiry: $BAD/nope.pem: No such file or directory"
}

@test "check_ca_expiry: an empty certificate is one line naming it" {
	: >"$BAD/empty.pem"
	run -1 check_ca_expiry -f "$BAD/empty.pem"
	assert_output "check_ca_expiry: $BAD/empty.pem: empty file"
}

@test "check_ca_expiry: a malformed certificate is one line naming it" {
	printf -- '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n' >"$BAD/bad.pem"
	run -1 check_ca_expiry -f "$BAD/bad.pem"
	assert_output --regexp "^check_ca_expiry: $BAD/bad.pem: malformed certificate"
	[ "${#lines[@]}" -eq 1 ]
	head -c 700 "$FMC/etc/sf/ca_root/cacert.pem" >"$BAD/cut.pem"
	run -1 check_ca_expiry -f "$BAD/cut.pem"
	assert_output --regexp "^check_ca_expiry: $BAD/cut.pem: malformed certificate"
	printf 'hello\n' >"$BAD/text.pem"
	run -1 check_ca_expiry -f "$BAD/text.pem"
	assert_output "check_ca_expiry: $BAD/text.pem: not a PEM file"
}

@test "check_ca_expiry: a directory is one line naming it" {
	run -1 check_ca_expiry -f "$FMC/etc"
	assert_output "check_ca_expiry: $FMC/etc: is a directory"
}

@test "check_ca_expiry: a key where the certificate should be" {
	root=$BATS_TEST_TMPDIR/fmc
	cp -a "$FMC" "$root"
	cp "$root/etc/sf/ca_root/private/cakey.pem" "$root/etc/sf/ca_root/cacert.pem"
	run -1 check_ca_expiry -r "$root"
	assert_output "check_ca_expiry: $root/etc/sf/ca_root/cacert.pem: holds a private key, not a certificate"
	run -3 check_ca_expiry -H -r "$root"
}

@test "check_ca_expiry: a tree that is neither FMC nor FTD" {
	run -1 check_ca_expiry -r "$LAB"
	assert_output --partial "neither an FMC nor an FTD tree"
}

@test "check_ca_expiry: a root that is not a folder is a usage error (2, 3 with -H)" {
	run -2 check_ca_expiry -r "$BAD/none"
	assert_output "check_ca_expiry: $BAD/none: No such file or directory"
	run -2 check_ca_expiry -r "$FMC/etc/sf/ims.conf"
	assert_output "check_ca_expiry: $FMC/etc/sf/ims.conf: not a directory"
	SFCA_ROOT=$BAD/none run -2 check_ca_expiry
	SFCA_ROOT=$BAD/none run -2 check_ca_expiry -j
	run -3 check_ca_expiry -H -r "$BAD/none"
	assert_output "check_ca_expiry: $BAD/none: No such file or directory"
}

@test "check_ca_expiry: -H is parsed like any option: -Hj and -jH agree" {
	for args in -Hj -jH "-H -j" "-j -H" "--json --health" "-Hjr $FMC"; do
		run -3 check_ca_expiry $args -r "$FMC"
		assert_output --partial "check_ca_expiry: --health and --json exclude each other"
		assert_line --index 1 --partial "usage: check_ca_expiry"
	done
}

@test "check_ca_expiry: with -H a usage error is unknown (3), wherever -H stands" {
	for args in -Hx -xH "-H -x" "-x -H" "-w x -H" "-H -w x" "-Ht bad" "-t bad -H" "-H extra"; do
		run -3 check_ca_expiry $args -r "$FMC"
		assert_output --partial "usage: check_ca_expiry"
	done
	for args in -x "-w x" "-t bad" "-jx" "-x --help"; do
		run -2 check_ca_expiry $args -r "$FMC"
		assert_output --partial "usage: check_ca_expiry"
	done
	run -1 check_ca_expiry -Hr "$FMC"
	assert_output --partial "internal root certificate is expiring in 39 days."
}

@test "check_ca_expiry: usage, help and version" {
	run -2 check_ca_expiry -x
	assert_line --partial "usage: check_ca_expiry"
	run -2 check_ca_expiry extra
	run -0 check_ca_expiry --help
	assert_output --partial "usage: check_ca_expiry [-HhjpVv]"
	run -0 check_ca_expiry --version
	assert_output "check_ca_expiry (sfca) 0.1"
	run -3 check_ca_expiry -H -j
}

@test "check_ca_expiry: --help lists every option of the SYNOPSIS, the exit statuses, the manual" {
	run -0 sfca_help_check "$SFCA_TOP/man/check_ca_expiry.8" check_ca_expiry
	run -0 check_ca_expiry -h
	assert_line "  -H, --health         the FMC health alert's text, with Nagios exit statuses"
	assert_line "  man -l /usr/local/sf/share/man/man8/check_ca_expiry.8"
}

@test "check_ca_expiry: the --help check fails on an option --help does not list" {
	local man=$BATS_TEST_TMPDIR/check_ca_expiry.8
	# the page grows an option the command's --help lacks
	sed 's/^\.Op Fl HhjpVv$/.Op Fl HhjpVvZ/' "$SFCA_TOP/man/check_ca_expiry.8" >"$man"
	run -1 sfca_help_check "$man" check_ca_expiry
	assert_line "missing from --help: -Z"
	assert_line --partial "usage differs from the SYNOPSIS"
	# a --help that lost the line of -w, --warning
	help_without_w() { check_ca_expiry "$@" | grep -v -- '^  -w, '; }
	run -1 sfca_help_check "$SFCA_TOP/man/check_ca_expiry.8" help_without_w
	assert_output "missing from --help: -w
long option missing from --help: --warning"
}

# --- Prometheus metrics (--prom, --prom-file) -------------------------------

# promcheck: the output of the last run passes promtool's parser and linter
# (called bare, not through run, so that $output stays)
promcheck() {
	printf '%s\n' "$output" | promtool check metrics
}

# metric NAME [LABEL-MATCH]: the value of the one series of NAME whose
# line holds LABEL-MATCH, from the last run's output
metric() {
	local l
	l=$(grep -F "$1{" <<<"$output" | grep -F -- "${2-}")
	[ "$(wc -l <<<"$l")" -eq 1 ] || { echo "not one series: $1 $2: $l" >&2; return 1; }
	echo "${l##* }"
}

@test "check_ca_expiry: --prom on an FMC: validity, time left, state, info, promtool-clean" {
	local uuid fp
	uuid=$(sfca_host FMCpri 4)
	fp=$(openssl x509 -in "$FMC/etc/sf/ca_root/cacert.pem" -noout -fingerprint -sha256 |
	    cut -d= -f2 | tr -d : | tr A-F a-f)
	NB=$(openssl x509 -noout -startdate -in "$FMC/etc/sf/ca_root/cacert.pem" | cut -d= -f2)
	NB=$(date -u -d "$NB" +%s)
	# valid: 100 days before the end, beyond the 90-day threshold
	run -0 check_ca_expiry --prom -r "$FMC" -t $((NA - 100 * 86400))
	promcheck
	labels="{fmc_uuid=\"$uuid\",path=\"/etc/sf/ca_root/cacert.pem\"}"
	assert_line "sfca_internal_ca_not_after_timestamp_seconds$labels $NA"
	assert_line "sfca_internal_ca_not_before_timestamp_seconds$labels $NB"
	assert_line "sfca_internal_ca_remaining_seconds$labels $((100 * 86400))"
	assert_line "sfca_internal_ca_expired$labels 0"
	assert_line "sfca_internal_ca_expiring$labels 0"
	assert_line "sfca_internal_ca_read_error$labels 0"
	assert_line "sfca_internal_ca_info{fmc_uuid=\"$uuid\",path=\"/etc/sf/ca_root/cacert.pem\",cn=\"$uuid\",sha256=\"$fp\"} 1"
	assert_line "sfca_check_ca_expiry_timestamp_seconds $((NA - 100 * 86400))"
	assert_line "sfca_check_ca_expiry_success 1"
	assert_line "# TYPE sfca_internal_ca_remaining_seconds gauge"
	assert_line --partial "# HELP sfca_internal_ca_remaining_seconds "
	# every series is sfca_, every family has one HELP and one TYPE
	[ -z "$(grep -v '^#' <<<"$output" | grep -v '^sfca_')" ]
	n=$(grep '^sfca_' <<<"$output" | sed 's/[{ ].*//' | sort -u | wc -l)
	[ "$(grep -c '^# TYPE sfca_[a-z_]* gauge$' <<<"$output")" -eq "$n" ]
	[ "$(grep -c '^# HELP sfca_' <<<"$output")" -eq "$n" ]
	# expiring: now (39 days left), and at the threshold set with -w
	run -0 check_ca_expiry --prom -r "$FMC"
	promcheck
	assert_equal "$(metric sfca_internal_ca_expiring)" 1
	assert_equal "$(metric sfca_internal_ca_expired)" 0
	assert_line --partial "within the warning threshold of 90 days"
	run -0 check_ca_expiry -p -w 39 -r "$FMC"
	assert_equal "$(metric sfca_internal_ca_expiring)" 0
	run -0 check_ca_expiry -p -w 40 -r "$FMC"
	assert_equal "$(metric sfca_internal_ca_expiring)" 1
	# expired, by the clock: the state is in the metrics, the status is 0
	run -0 check_ca_expiry --prom -r "$FMC" -t $((NA + 5))
	assert_equal "$(metric sfca_internal_ca_expired)" 1
	assert_equal "$(metric sfca_internal_ca_expiring)" 1
	assert_equal "$(metric sfca_internal_ca_remaining_seconds)" -5
	promcheck
}

@test "check_ca_expiry: --prom on an expired CA made so" {
	local old=$BATS_TEST_TMPDIR/old
	sfca_mktree "$old" -n 0 -k ec -l -86400
	run -0 check_ca_expiry -p -r "$old/hosts/FMCpri/root"
	promcheck
	assert_equal "$(metric sfca_internal_ca_expired)" 1
	[ "$(metric sfca_internal_ca_remaining_seconds)" -le -86400 ]
	[ "$(metric sfca_internal_ca_remaining_seconds)" -gt -86500 ]
	assert_line "sfca_check_ca_expiry_success 1"
}

@test "check_ca_expiry: --prom on an FTD: one series per FMC, by FMC UUID" {
	local pri sec root=$BATS_TEST_TMPDIR/ftd
	pri=$(sfca_host FMCpri 4)
	sec=$(sfca_host FMCsec 4)
	run -0 check_ca_expiry -p -r "$FTD"
	promcheck
	[ "$(grep -c '^sfca_internal_ca_expired{' <<<"$output")" -eq 2 ]
	assert_line "sfca_internal_ca_expired{fmc_uuid=\"$pri\",path=\"/var/sf/peers/$pri/cacert.pem\"} 0"
	assert_line "sfca_internal_ca_expired{fmc_uuid=\"$sec\",path=\"/var/sf/peers/$sec/cacert.pem\"} 0"
	assert_line --partial "sfca_internal_ca_info{fmc_uuid=\"$sec\",path=\"/var/sf/peers/$sec/cacert.pem\",cn=\"$sec\",sha256=\""
	# one FMC's CA expired (a real one, from a lab made expired)
	cp -a "$FTD" "$root"
	sfca_mktree "$BATS_TEST_TMPDIR/old" -n 0 -k ec -l -86400
	cp "$BATS_TEST_TMPDIR/old/hosts/FMCpri/root/etc/sf/ca_root/cacert.pem" \
	    "$root/ngfw/var/sf/peers/$sec/cacert.pem"
	run -0 check_ca_expiry -p -r "$root"
	assert_equal "$(metric sfca_internal_ca_expired "\"$sec\"")" 1
	assert_equal "$(metric sfca_internal_ca_expired "\"$pri\"")" 0
	assert_equal "$(metric sfca_internal_ca_expiring "\"$pri\"")" 1
	promcheck
}

@test "check_ca_expiry: --prom with a bad certificate: an error metric, exit 1" {
	local pri sec root=$BATS_TEST_TMPDIR/ftd
	pri=$(sfca_host FMCpri 4)
	sec=$(sfca_host FMCsec 4)
	cp -a "$FTD" "$root"
	printf -- '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n' \
	    >"$root/ngfw/var/sf/peers/$sec/cacert.pem"
	run -1 --separate-stderr check_ca_expiry -p -r "$root"
	[[ $stderr =~ ^check_ca_expiry:\ $root/var/sf/peers/$sec/cacert.pem:\ malformed\ certificate ]]
	promcheck
	assert_line "sfca_internal_ca_read_error{fmc_uuid=\"$sec\",path=\"/var/sf/peers/$sec/cacert.pem\"} 1"
	assert_line "sfca_internal_ca_read_error{fmc_uuid=\"$pri\",path=\"/var/sf/peers/$pri/cacert.pem\"} 0"
	assert_line "sfca_check_ca_expiry_success 0"
	# the good one is still shown, the bad one has no other series
	assert_equal "$(metric sfca_internal_ca_expired "\"$pri\"")" 0
	refute_line --partial "sfca_internal_ca_expired{fmc_uuid=\"$sec\""
	# a key where the FMC's CA should be; a tree that is no appliance
	root=$BATS_TEST_TMPDIR/fmc
	cp -a "$FMC" "$root"
	cp "$root/etc/sf/ca_root/private/cakey.pem" "$root/etc/sf/ca_root/cacert.pem"
	run -1 --separate-stderr check_ca_expiry -p -r "$root"
	assert_equal "$stderr" "check_ca_expiry: $root/etc/sf/ca_root/cacert.pem: holds a private key, not a certificate"
	assert_equal "$(metric sfca_internal_ca_read_error)" 1
	promcheck
	run -1 --separate-stderr check_ca_expiry -p -r "$LAB"
	assert_equal "$stderr" "check_ca_expiry: $LAB: neither an FMC nor an FTD tree (no etc/sf/ims.conf)"
	assert_output --partial "sfca_check_ca_expiry_success 0"
	refute_output --partial "sfca_internal_ca_read_error"
	promcheck
}

@test "check_ca_expiry: --prom escapes label values, and keeps them UTF-8" {
	local d=$BATS_TEST_TMPDIR
	openssl req -x509 -utf8 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$d/k.pem" -out "$d/q.pem" -days 10 \
	    -subj "/CN=$(printf 'we"ird\\\\name caf\xc3\xa9')" 2>/dev/null
	run -0 check_ca_expiry -p -f "$d/q.pem"
	assert_line --partial "cn=\"we\\\"ird\\\\name café\","
	promcheck
	# a CN whose bytes are not UTF-8 (a T61String, byte 0xff)
	printf '[req]\ndistinguished_name=dn\nstring_mask=nombstr\nprompt=no\n[dn]\nCN=x\377y\n' >"$d/c.cnf"
	openssl req -x509 -config "$d/c.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$d/k.pem" -out "$d/t.pem" -days 10 2>/dev/null
	run -0 check_ca_expiry -p -f "$d/t.pem"
	assert_line --partial "cn=\"x$(printf '\357\277\275')y\","
	promcheck
}

@test "check_ca_expiry: --prom excludes -H and -j; --prom-file wants a path" {
	run -2 check_ca_expiry -p -j -r "$FMC"
	assert_line --index 0 "check_ca_expiry: --prom and --prom-file exclude --health and --json"
	run -3 check_ca_expiry -H --prom-file "$BATS_TEST_TMPDIR/x.prom" -r "$FMC"
	run -2 check_ca_expiry -P "" -r "$FMC"
	run -2 check_ca_expiry -P
	assert_file_not_exist "$BATS_TEST_TMPDIR/x.prom"
}

@test "check_ca_expiry: --prom-file writes the metrics, 0644, nothing else in the folder" {
	local d=$BATS_TEST_TMPDIR/textfile
	mkdir "$d"
	run -0 check_ca_expiry --prom-file "$d/sfca_ca.prom" -r "$FMC" -t "$NA"
	assert_output ""
	run -0 ls -A "$d"
	assert_output sfca_ca.prom
	run -0 stat -c %a "$d/sfca_ca.prom"
	assert_output 644
	run -0 promtool check metrics <"$d/sfca_ca.prom"
	run -0 check_ca_expiry --prom -r "$FMC" -t "$NA"
	[ "$output" = "$(cat "$d/sfca_ca.prom")" ]
	# -p as well: both
	run -0 check_ca_expiry -p -P "$d/sfca_ca.prom" -r "$FMC"
	assert_line "sfca_check_ca_expiry_success 1"
	# a usage error or a root that is no folder writes nothing
	rm "$d/sfca_ca.prom"
	run -2 check_ca_expiry -P "$d/sfca_ca.prom" -r "$BAD/none"
	run -2 check_ca_expiry -P "$d/sfca_ca.prom" -x
	run -0 ls -A "$d"
	assert_output ""
}

@test "check_ca_expiry: --prom-file replaces the file by rename, never in place" {
	local d=$BATS_TEST_TMPDIR/textfile ino root=$BATS_TEST_TMPDIR/fmc
	mkdir "$d"
	run -0 check_ca_expiry -P "$d/sfca_ca.prom" -r "$FMC" -t $((NA - 100 * 86400))
	ln "$d/sfca_ca.prom" "$BATS_TEST_TMPDIR/old.prom"
	ino=$(stat -c %i "$d/sfca_ca.prom")
	run -0 check_ca_expiry -P "$d/sfca_ca.prom" -r "$FMC" -t "$NA"
	# the old inode keeps the old content whole; the path has the new one
	[ "$(stat -c %i "$d/sfca_ca.prom")" != "$ino" ]
	run -0 grep -c '^sfca_internal_ca_expired{.*} 0$' "$BATS_TEST_TMPDIR/old.prom"
	run -0 grep -c '^sfca_internal_ca_expired{.*} 1$' "$d/sfca_ca.prom"
	run -0 ls -A "$d"
	assert_output sfca_ca.prom
	# a bad certificate replaces the old values with the error metric
	cp -a "$FMC" "$root"
	: >"$root/etc/sf/ca_root/cacert.pem"
	run -1 check_ca_expiry -P "$d/sfca_ca.prom" -r "$root"
	assert_output "check_ca_expiry: $root/etc/sf/ca_root/cacert.pem: empty file"
	run -0 grep -x 'sfca_check_ca_expiry_success 0' "$d/sfca_ca.prom"
	run -1 grep '^sfca_internal_ca_expired' "$d/sfca_ca.prom"
	run -0 promtool check metrics <"$d/sfca_ca.prom"
	# a link at the path is replaced, its target untouched
	echo target >"$BATS_TEST_TMPDIR/target"
	rm "$d/sfca_ca.prom"
	ln -s "$BATS_TEST_TMPDIR/target" "$d/sfca_ca.prom"
	run -0 check_ca_expiry -P "$d/sfca_ca.prom" -r "$FMC"
	[ -f "$d/sfca_ca.prom" ] && [ ! -L "$d/sfca_ca.prom" ]
	run -0 cat "$BATS_TEST_TMPDIR/target"
	assert_output target
}

@test "check_ca_expiry: --prom-file that cannot be written leaves no temporary behind" {
	local d=$BATS_TEST_TMPDIR/textfile
	mkdir -p "$d/sfca_ca.prom"
	run -1 check_ca_expiry -P "$d/sfca_ca.prom" -r "$FMC"
	assert_output --partial "check_ca_expiry: $d/sfca_ca.prom: rename: Is a directory"
	run -0 ls -A "$d"
	assert_output sfca_ca.prom
	run -1 check_ca_expiry -P "$d/none/sfca_ca.prom" -r "$FMC"
	assert_output "check_ca_expiry: $d/none/sfca_ca.prom: temporary file: No such file or directory"
	run -0 ls -A "$d"
	assert_output sfca_ca.prom
}

@test "check_ca_expiry: a reader of --prom-file never sees a partial file" {
	local d=$BATS_TEST_TMPDIR/textfile i n=0 lines
	mkdir "$d"
	check_ca_expiry -P "$d/sfca_ca.prom" -r "$FTD"
	lines=$(grep -c '^sfca_' "$d/sfca_ca.prom")
	# 100 rewrites, and a reader that checks each whole read meanwhile
	(for i in $(seq 100); do check_ca_expiry -P "$d/sfca_ca.prom" -r "$FTD" || exit 1; done) 3>&- &
	local w=$!
	while kill -0 "$w" 2>/dev/null; do
		tail -n 1 "$d/sfca_ca.prom" | grep -qx 'sfca_check_ca_expiry_success 1'
		[ "$(grep -c '^sfca_' "$d/sfca_ca.prom")" -eq "$lines" ]
		n=$((n + 1))
	done
	wait "$w"
	[ "$n" -gt 0 ]
	run -0 ls -A "$d"
	assert_output sfca_ca.prom
}

@test "check_ca_expiry: node_exporter's textfile collector serves what --prom-file writes" {
	local d=$BATS_TEST_TMPDIR/textfile addr=127.76.0.9:19105 pid
	local scrape=$BATS_TEST_TMPDIR/scrape
	mkdir "$d"
	run -0 check_ca_expiry -P "$d/sfca_ca.prom" -r "$FTD"
	prometheus-node-exporter --collector.disable-defaults \
	    --collector.textfile --collector.textfile.directory="$d" \
	    --web.listen-address="$addr" >"$BATS_TEST_TMPDIR/ne.log" 2>&1 3>&- &
	pid=$!
	until_ok 10 curl -sf -o "$scrape" "http://$addr/metrics" ||
	    { kill "$pid"; false; }
	kill "$pid"
	wait "$pid" || true
	run -0 grep -x 'node_textfile_scrape_error 0' "$scrape"
	run -0 grep -c '^sfca_internal_ca_expired{fmc_uuid=' "$scrape"
	assert_output 2
	run -0 grep -x 'sfca_check_ca_expiry_success 1' "$scrape"
}

# --- What a renewal changed (-v, -j, --prom) --------------------------------

# renewed [generate_certs options]: a copy of the FMC tree, renewed by
# generate_certs with those options (no daemon: every push fails, which is
# not what is tested here); its root in $R
renewed() {
	R=$BATS_TEST_TMPDIR/fmc
	[ -d "$R" ] || cp -a "$FMC" "$R"
	run -0 generate_certs -r "$R" --yes "$@"
}

# The newest run folder of $R marked COMMITTED.
newest_run() {
	local d r=
	for d in "$R"/var/sf/sfca/runs/*/; do
		[ -e "$d/COMMITTED" ] && r=$(basename "$d")
	done
	echo "$r"
}

# assert_peer_lines ROOT NOW: one -v line per peer folder of ROOT, with
# the notAfter of its certificate as openssl prints it and the whole days
# from NOW to it
assert_peer_lines() {
	local d u na nae n=0 peers=$1/var/sf/peers
	[ -d "$1/ngfw" ] && peers=$1/ngfw/var/sf/peers
	for d in "$peers"/*/; do
		u=$(basename "$d")
		na=$(openssl x509 -noout -enddate -in "$d/sftunnel-cert.pem" | cut -d= -f2)
		nae=$(date -u -d "$na" +%s)
		assert_line --regexp "^Peer certificate of [^ ]+ \\($u, [0-9.]+\\): $na \\($(((nae - $2) / 86400)) days left\\)$"
		n=$((n + 1))
	done
	[ "$n" -ge 1 ]
	[ "$(grep -c '^Peer certificate of ' <<<"$output")" -eq "$n" ]
}

@test "check_ca_expiry: -v before any renewal: the vendor's lines, CA key unknown, each peer certificate's expiry" {
	local now
	now=$(date +%s)
	run -0 check_ca_expiry -v -r "$FMC" -t "$now"
	# the vendor's text first, as without -v
	assert_line --index 0 "The certificate is valid for more than 30 days."
	assert_line --index 1 "It is valid for 39 more days."
	assert_line --index 2 "There is no immediate need to perform action but this depends on how far the expiry date is in the future."
	assert_line --index 3 "CA key: unknown (no backup of a replaced CA in /var/sf/sfca/runs)"
	assert_peer_lines "$FMC" "$now"
	# without -v not one line more
	run -0 check_ca_expiry -r "$FMC"
	[ "${#lines[@]}" -eq 3 ]
	refute_output --partial "CA key"
	# unknown: no same-key series in the metrics
	run -0 check_ca_expiry -p -r "$FMC"
	promcheck
	refute_output --partial "sfca_internal_ca_same_key"
}

@test "check_ca_expiry: after a default renewal the CA key is new; after --extend it is the same" {
	local now run_dir
	renewed
	run_dir=$(newest_run)
	[ -n "$run_dir" ]
	now=$(date +%s)
	run -0 check_ca_expiry -v -r "$R" -t "$now"
	# 3650 days from the run's start: whole days left, 3650 when the
	# check runs in the renewal's second, 3649 after
	assert_line --index 1 --regexp '^It is valid for 36(49|50) more days\.$'
	assert_line "CA key: new (not the key of the CA replaced by the renewal /var/sf/sfca/runs/$run_dir)"
	assert_peer_lines "$R" "$now"
	run -0 check_ca_expiry -j -r "$R"
	python3 -m json.tool <<<"$output" >/dev/null
	python3 -c '
import json, sys
c = json.loads(sys.argv[1])["certificates"][0]
assert c["ca_key"] == "new" and c["ca_key_run"] == int(sys.argv[2]), c
' "$output" "$run_dir"
	run -0 check_ca_expiry -p -r "$R"
	promcheck
	assert_line "sfca_internal_ca_same_key{fmc_uuid=\"$(sfca_host FMCpri 4)\",path=\"/etc/sf/ca_root/cacert.pem\"} 0"
	# the same night the better way: on the same key
	renewed --extend
	[ "$(newest_run)" != "$run_dir" ]
	run_dir=$(newest_run)
	run -0 check_ca_expiry -v -r "$R" -t "$now"
	assert_line "CA key: same (as the CA replaced by the renewal /var/sf/sfca/runs/$run_dir)"
	assert_peer_lines "$R" "$now"
	run -0 check_ca_expiry -p -r "$R"
	promcheck
	assert_line "sfca_internal_ca_same_key{fmc_uuid=\"$(sfca_host FMCpri 4)\",path=\"/etc/sf/ca_root/cacert.pem\"} 1"
}

@test "check_ca_expiry: --json: ca_key and every peer certificate's notAfter, as openssl reads it" {
	local now
	now=$(date +%s)
	run -0 check_ca_expiry -j -r "$FMC" -t "$now"
	python3 -m json.tool <<<"$output" >/dev/null
	echo "$output" >"$BATS_TEST_TMPDIR/c.json"
	for d in "$FMC"/var/sf/peers/*/; do
		na=$(openssl x509 -noout -enddate -in "$d/sftunnel-cert.pem" | cut -d= -f2)
		echo "$(basename "$d") $(date -u -d "$na" +%s)"
	done >"$BATS_TEST_TMPDIR/want"
	run -0 python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["certificates"][0]
assert c["ca_key"] == "unknown" and c["ca_key_run"] is None, c
want = dict(l.split() for l in open(sys.argv[2]))
assert sorted(p["uuid"] for p in c["peers"]) == sorted(want), c
now = int(sys.argv[3])
for p in c["peers"]:
    na = int(want[p["uuid"]])
    assert p["cert_state"] == "ok" and p["cert_not_after_epoch"] == na, p
    assert p["cert_days_left"] == (na - now) // 86400 and not p["cert_expired"], p
    assert p["cert"] == "/var/sf/peers/%s/sftunnel-cert.pem" % p["uuid"], p
print("ok")' "$BATS_TEST_TMPDIR/c.json" "$BATS_TEST_TMPDIR/want" "$now"
	assert_output ok
	# an expired peer certificate: negative days, expired, the CA's status kept
	run -4 check_ca_expiry -j -r "$FMC" -t 2099-01-01
	python3 -c '
import json, sys
c = json.loads(sys.argv[1])["certificates"][0]
assert all(p["cert_expired"] and p["cert_days_left"] < 0 for p in c["peers"]), c
' "$output"
	run -4 check_ca_expiry -v -r "$FMC" -t 2099-01-01
	assert_line --regexp '^Peer certificate of FTD-1 .*GMT \(EXPIRED [0-9]+ days ago\)$'
}

@test "check_ca_expiry: -v and -j on an FTD: the CA key unknown, the device's own certificate per FMC" {
	local now
	now=$(date +%s)
	run -0 check_ca_expiry -v -r "$FTD" -t "$now"
	[ "$(grep -c '^CA key: unknown (renewals are recorded on the FMC)$' <<<"$output")" -eq 2 ]
	assert_peer_lines "$FTD" "$now"
	run -0 check_ca_expiry -j -r "$FTD"
	python3 -c '
import json, sys
cs = json.loads(sys.argv[1])["certificates"]
assert len(cs) == 2
for c in cs:
    assert c["ca_key"] == "unknown" and len(c["peers"]) == 1, c
    assert c["peers"][0]["uuid"] in c["path"], c
' "$output"
}

@test "check_ca_expiry: a missing or bad peer certificate is said, the CA's status kept" {
	local root=$BATS_TEST_TMPDIR/fmc ftd
	cp -a "$FMC" "$root"
	ftd=$(sfca_host FTD-1 4)
	rm "$root/var/sf/peers/$ftd/sftunnel-cert.pem"
	run -0 check_ca_expiry -v -r "$root"
	assert_line "Peer certificate of FTD-1 ($ftd, $(sfca_host FTD-1 3)): missing"
	echo garbage >"$root/var/sf/peers/$ftd/sftunnel-cert.pem"
	run -0 --separate-stderr check_ca_expiry -v -r "$root"
	assert_line "Peer certificate of FTD-1 ($ftd, $(sfca_host FTD-1 3)): unreadable"
	assert_equal "$stderr" "check_ca_expiry: $root/var/sf/peers/$ftd/sftunnel-cert.pem: not a PEM file"
	run -0 --separate-stderr check_ca_expiry -j -r "$root"
	python3 -c '
import json, sys
ps = json.loads(sys.argv[1])["certificates"][0]["peers"]
bad = [p for p in ps if p["cert_state"] != "ok"]
assert len(bad) == 1 and bad[0]["cert_state"] == "unreadable", ps
assert bad[0]["cert_not_after"] is None and bad[0]["cert_days_left"] is None, bad
' "$output"
}

@test "check_ca_expiry: -v excludes -H, -j, -p and -P" {
	for args in "-v -H" "-Hv" "-v -j" "-v -p" "-v -P $BATS_TEST_TMPDIR/m.prom"; do
		run check_ca_expiry $args -r "$FMC"
		[ "$status" -eq 2 ] || [ "$status" -eq 3 ]
		assert_output --partial "--verbose is for the vendor's text"
	done
	[ ! -e "$BATS_TEST_TMPDIR/m.prom" ]
}

@test "check_ca_expiry: --json stays valid UTF-8 JSON whatever bytes a certificate's CN holds" {
	local d=$BATS_TEST_TMPDIR
	# a T61String CN: byte 0xff (not UTF-8) and DEL
	printf '[req]\ndistinguished_name=dn\nstring_mask=nombstr\nprompt=no\n[dn]\nCN=x\377\177y\n' >"$d/c.cnf"
	openssl req -x509 -config "$d/c.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$d/k.pem" -out "$d/t.pem" -days 10 2>/dev/null
	run -3 check_ca_expiry -j -f "$d/t.pem"
	assert_output --partial '"uuid": "x\ufffd\u007fy"'
	# strict: the bytes must decode as UTF-8
	printf '%s\n' "$output" | python3 -c 'import json, sys; json.loads(sys.stdin.buffer.read())'
	printf '%s\n' "$output" | jq -e '.certificates[0].ca_key == "unknown" and .certificates[0].peers == []'
}

@test "check_ca_expiry: a renewal killed before its commit replaced nothing: its backup is passed over until it completes" {
	local first second
	renewed
	first=$(newest_run)
	# --extend killed once its backup is made: the backup holds the
	# current CA, which it has not replaced
	SFCA_TEST_KILL_AT=backed-up run -137 generate_certs -r "$R" --extend --yes
	second=$(basename "$(dirname "$(ls "$R"/var/sf/sfca/runs/*/BACKED_UP | sort | tail -n 1)")")
	[ "$second" != "$first" ]
	assert_file_exist "$R/var/sf/sfca/runs/$second/backup/etc/sf/ca_root/cacert.pem"
	assert_file_not_exist "$R/var/sf/sfca/runs/$second/COMMITTED"
	run -0 check_ca_expiry -v -r "$R"
	assert_line "CA key: new (not the key of the CA replaced by the renewal /var/sf/sfca/runs/$first)"
	# completed by a re-run: now it has replaced the CA, on its key
	run -0 generate_certs -r "$R" --extend --yes
	assert_file_exist "$R/var/sf/sfca/runs/$second/COMMITTED"
	run -0 check_ca_expiry -v -r "$R"
	assert_line "CA key: same (as the CA replaced by the renewal /var/sf/sfca/runs/$second)"
}
