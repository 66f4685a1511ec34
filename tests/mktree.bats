#!/usr/bin/env bats
# mktree: the lab's appliance trees are what registration would leave

load helpers

setup_file() {
	export LAB
	LAB=$(sfca_scratch)
	sfca_mktree "$LAB" -n 2 -H -l $((100 * 86400))
}

teardown_file() {
	rm -rf "$LAB"
}

setup() {
	PRI=$LAB/hosts/FMCpri/root
	SEC=$LAB/hosts/FMCsec/root
	PRI_UUID=$(sfca_host FMCpri 4)
	SEC_UUID=$(sfca_host FMCsec 4)
}

subject_of() {
	openssl x509 -noout -subject -nameopt RFC2253 -in "$1" | sed 's/^subject=//'
}

@test "mktree: hosts.txt names every host with its role, address and uuid" {
	run -0 grep -v '^#' "$LAB/hosts.txt"
	assert_line --regexp '^FMCpri fmc 127\.77\.0\.1 [0-9a-f-]{36}$'
	assert_line --regexp '^FMCsec fmc-ha 127\.77\.0\.2 [0-9a-f-]{36}$'
	assert_line --regexp '^FTD-1 ftd 127\.77\.1\.1 [0-9a-f-]{36}$'
	assert_line --regexp '^FTD-2 ftd 127\.77\.1\.2 [0-9a-f-]{36}$'
	[ "$(stat -c %a "$LAB/passwords")" = 600 ]
}

@test "mktree: each FMC has the InternalCA of the SPEC, RSA-2048, SHA-256" {
	for h in FMCpri FMCsec; do
		ca=$LAB/hosts/$h/root/etc/sf/ca_root/cacert.pem
		uuid=$(sfca_host $h 4)
		run -0 subject_of "$ca"
		assert_output "O=Cisco Systems\\, Inc,CN=$uuid,OU=Intrusion Management System,title=InternalCA"
		run -0 openssl x509 -noout -text -in "$ca"
		assert_output --partial "Public-Key: (2048 bit)"
		assert_output --partial "Signature Algorithm: sha256WithRSAEncryption"
		assert_output --partial "CA:TRUE"
		run -0 openssl verify -CAfile "$ca" "$ca"
	done
}

@test "mktree: the CA's lifetime is the one asked for, its span 3650 days" {
	ca=$PRI/etc/sf/ca_root/cacert.pem
	na=$(date -u -d "$(openssl x509 -noout -enddate -in "$ca" | cut -d= -f2)" +%s)
	nb=$(date -u -d "$(openssl x509 -noout -startdate -in "$ca" | cut -d= -f2)" +%s)
	now=$(date +%s)
	[ $((na - now)) -le $((100 * 86400)) ]
	[ $((na - now)) -gt $((100 * 86400 - 120)) ]
	[ $((na - nb)) -eq $((3650 * 86400)) ]
}

@test "mktree: openssl verify accepts every certificate against its CA" {
	n=0
	for h in FMCpri FMCsec; do
		root=$LAB/hosts/$h/root
		ca=$root/etc/sf/ca_root/cacert.pem
		run -0 openssl verify -CAfile "$ca" "$root/etc/sf/keys/sftunnel-cert.pem"
		for c in "$root"/var/sf/peers/*/sftunnel-cert.pem \
		    "$root"/var/sf/peers/*/certs_pushed/sftunnel-cert.pem; do
			run -0 openssl verify -CAfile "$ca" "$c"
			n=$((n + 1))
		done
	done
	for h in FTD-1 FTD-2 FMCpri FMCsec; do
		for d in "$LAB"/hosts/$h/root/var/sf/peers/*/ "$LAB"/hosts/$h/root/var/sf/peers/*/from_peer/; do
			[ -e "$d/cacert.pem" ] || continue
			run -0 openssl verify -CAfile "$d/cacert.pem" "$d/sftunnel-cert.pem"
			n=$((n + 1))
		done
	done
	# 3 peers per FMC, twice each (folder and certs_pushed), and 6 received
	[ "$n" -eq 18 ]
}

@test "mktree: each peer certificate names its peer and matches its key" {
	for d in "$PRI"/var/sf/peers/*/; do
		uuid=$(basename "$d")
		run -0 subject_of "$d/sftunnel-cert.pem"
		assert_output --partial "CN=$uuid,"
		a=$(openssl x509 -noout -pubkey -in "$d/sftunnel-cert.pem")
		b=$(openssl pkey -pubout -in "$d/sftunnel-key.pem")
		[ "$a" = "$b" ]
		run -0 openssl x509 -noout -text -in "$d/sftunnel-cert.pem"
		assert_output --partial "Public-Key: (2048 bit)"
		assert_output --partial "TLS Web Server Authentication, TLS Web Client Authentication"
		cmp "$d/sftunnel-cert.pem" "$d/certs_pushed/sftunnel-cert.pem"
	done
}

@test "mktree: an FTD holds its FMCs' CAs and its identity from each" {
	for h in FTD-1 FTD-2; do
		root=$LAB/hosts/$h/root
		cmp "$root/var/sf/peers/$PRI_UUID/cacert.pem" "$PRI/etc/sf/ca_root/cacert.pem"
		cmp "$root/var/sf/peers/$SEC_UUID/cacert.pem" "$SEC/etc/sf/ca_root/cacert.pem"
		uuid=$(sfca_host $h 4)
		cmp "$root/var/sf/peers/$PRI_UUID/sftunnel-cert.pem" "$PRI/var/sf/peers/$uuid/sftunnel-cert.pem"
		run -0 grep -x 'MODEL_TYPE=SENSOR' "$root/ngfw/etc/sf/ims.conf"
		[ "$(readlink "$root/var/sf")" = ../ngfw/var/sf ]
		grep -q "\"role\": \"fmc\"" "$root/var/sf/peers/$PRI_UUID/sftunnel.json"
	done
}

@test "mktree: the HA pair know each other as fmc-ha, with from_peer identities" {
	grep -q '"role": "fmc-ha"' "$PRI/var/sf/peers/$SEC_UUID/sftunnel.json"
	grep -q '"role": "fmc-ha"' "$SEC/var/sf/peers/$PRI_UUID/sftunnel.json"
	cmp "$SEC/var/sf/peers/$PRI_UUID/from_peer/cacert.pem" "$PRI/etc/sf/ca_root/cacert.pem"
	run -0 grep -x 'HA_ROLE=secondary' "$SEC/etc/sf/ims.conf"
	run -0 grep -x 'HA_ROLE=primary' "$PRI/etc/sf/ims.conf"
}

@test "mktree: every key is 0600 and its folder is not world-writable" {
	run -0 find "$LAB/hosts" -name '*key.pem' ! -perm 600
	assert_output ""
	# per FMC: CA, own, 3 peers twice, from_peer; per FTD: one per FMC
	[ "$(find "$LAB/hosts" -name '*key.pem' | wc -l)" -eq 22 ]
	[ "$(stat -c %a "$PRI/etc/sf/ca_root/private")" = 700 ]
	run -0 find "$LAB/hosts" -type d -perm -o+w
	assert_output ""
}

@test "mktree: the CA database lists every certificate it issued" {
	# own certificate + 3 peers
	[ "$(wc -l <"$PRI/etc/sf/ca_root/index.txt")" -eq 4 ]
	run -0 cat "$PRI/etc/sf/ca_root/serial"
	assert_output "06"
	run -0 openssl crl -noout -CAfile "$PRI/etc/sf/ca_root/cacert.pem" -in "$PRI/etc/sf/ca_root/crl.pem"
}

@test "mktree: sftunnel.conf and ims.conf are what the tools read" {
	run -0 cat "$PRI/etc/sf/sftunnel.conf"
	assert_line "  proxy_cacert /etc/sf/ca_root/cacert.pem;"
	assert_line "  proxy_tls_version TLSv1.2;"
	run -0 grep -x "APPLIANCE_UUID=$PRI_UUID" "$PRI/etc/sf/ims.conf"
	run -0 grep -x "MGMT_IP=127.77.0.1" "$PRI/etc/sf/ims.conf"
}

@test "mktree: EC keys on request, and refusal to overwrite a lab" {
	lab=$BATS_TEST_TMPDIR/ec
	run -0 mktree -o "$lab" -n 1 -k ec
	run -0 openssl x509 -noout -text -in "$lab/hosts/FTD-1/root/var/sf/peers/$(awk '$1=="FMCpri"{print $4}' "$lab/hosts.txt")/sftunnel-cert.pem"
	assert_output --partial "Public-Key: (256 bit)"
	run -1 mktree -o "$lab" -n 1 -k ec
	assert_output --partial "already exists"
	run -2 mktree -o "$lab" -k dsa
}
