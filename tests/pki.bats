#!/usr/bin/env bats
# pki: renewal of a CA on its own key and reissue of leaves (common/pki.c,
# driven through the lab's pkitool), every result checked with openssl

load helpers

setup() {
	T=$BATS_TEST_TMPDIR
	NOW=$(date +%s)
	# an InternalCA that expired an hour ago, and a leaf it issued
	sfca_mktree "$T/lab" -n 1 -k ec -l -3600
	LAB=$T/lab
	F=$T/lab/hosts/FMCpri/root
	CA=$F/etc/sf/ca_root/cacert.pem
	CAKEY=$F/etc/sf/ca_root/private/cakey.pem
	PEER=$F/var/sf/peers/$(sfca_host FTD-1 4)
}

epoch() { date -u -d "$(openssl x509 -noout "-$1" -in "$2" | cut -d= -f2)" +%s; }
pub() { openssl x509 -noout -pubkey -in "$1"; }
ext() { openssl x509 -noout -ext "$1" -in "$2"; }
subj() { openssl x509 -noout -subject -nameopt compat -in "$1"; }

# a self-signed CA of the openssl CLI: mkca NAME KEYALG-OPTIONS...
mkca() {
	local n=$1
	shift
	openssl req -x509 -nodes -subj "/CN=$n" -days 30 "$@" \
	    -keyout "$T/$n.key" -out "$T/$n.pem" 2>/dev/null
}

@test "pki: the CA renewed on its key keeps subject, key and key identifier; new serial, SHA-256, the asked validity" {
	local nb=$((NOW - 86400)) na=$((NOW + 3650 * 86400))
	run -0 pkitool renew-ca "$CA" "$CAKEY" 4660 "$nb" "$na"
	echo "$output" > "$T/new.pem"
	assert_equal "$(subj "$T/new.pem")" "$(subj "$CA")"
	run -0 subj "$T/new.pem"
	assert_output --regexp '^subject=/title=InternalCA/OU=Intrusion Management System/CN=[0-9a-f-]{36}/O=Cisco Systems, Inc$'
	assert_equal "$(openssl x509 -noout -issuer -nameopt compat -in "$T/new.pem" | cut -d= -f2-)" \
	    "$(subj "$CA" | cut -d= -f2-)"
	assert_equal "$(pub "$T/new.pem")" "$(pub "$CA")"
	assert_equal "$(ext subjectKeyIdentifier "$T/new.pem")" \
	    "$(ext subjectKeyIdentifier "$CA")"
	assert_equal "$(ext basicConstraints "$T/new.pem")" \
	    "$(ext basicConstraints "$CA")"
	assert_equal "$(ext keyUsage "$T/new.pem")" "$(ext keyUsage "$CA")"
	run -0 openssl x509 -noout -serial -in "$T/new.pem"
	assert_output "serial=1234"
	run -0 openssl x509 -noout -text -in "$T/new.pem"
	assert_line --partial "Signature Algorithm: ecdsa-with-SHA256"
	assert_line --partial "Version: 3 (0x2)"
	assert_equal "$(epoch startdate "$T/new.pem")" "$nb"
	assert_equal "$(epoch enddate "$T/new.pem")" "$na"
	# self-signed, and the same key signs it
	run -0 openssl verify -CAfile "$T/new.pem" "$T/new.pem"
	[ "$(pkitool pubkey "$T/new.pem")" = "$(pkitool pubkey "$CA")" ]
}

@test "pki: what the old CA issued chains to the renewed one, also after the old one expired" {
	run -0 pkitool renew-ca "$CA" "$CAKEY" 9 $((NOW - 60)) $((NOW + 86400))
	echo "$output" > "$T/new.pem"
	run -2 openssl verify -CAfile "$CA" "$PEER/sftunnel-cert.pem"
	assert_output --partial "certificate has expired"
	run -0 openssl verify -CAfile "$T/new.pem" "$PEER/sftunnel-cert.pem"
	run -0 openssl verify -CAfile "$T/new.pem" "$F/etc/sf/keys/sftunnel-cert.pem"
}

@test "pki: old and renewed CA verify the same chains while the old is valid" {
	local old=$T/lab2/hosts/FMCpri/root leaf
	sfca_mktree "$T/lab2" -n 1 -k ec -l 3600
	leaf=$(ls "$old"/var/sf/peers/*/sftunnel-cert.pem)
	run -0 pkitool renew-ca "$old/etc/sf/ca_root/cacert.pem" \
	    "$old/etc/sf/ca_root/private/cakey.pem" 7 $((NOW - 86400)) $((NOW + 86400 * 30))
	echo "$output" > "$T/new.pem"
	# a leaf reissued under the renewed CA chains to the old one too
	run -0 pkitool reissue "$leaf" "${leaf%cert.pem}key.pem" "$T/new.pem" \
	    "$old/etc/sf/ca_root/private/cakey.pem" 8 $((NOW - 86400)) $((NOW + 86400 * 30))
	echo "$output" > "$T/leaf.pem"
	run -0 openssl verify -CAfile "$old/etc/sf/ca_root/cacert.pem" "$T/leaf.pem"
	run -0 openssl verify -CAfile "$T/new.pem" "$T/leaf.pem"
	run -0 openssl verify -CAfile "$old/etc/sf/ca_root/cacert.pem" "$leaf"
	run -0 openssl verify -CAfile "$T/new.pem" "$leaf"
	# once the old CA has expired, only the renewed one does
	run -2 openssl verify -attime $((NOW + 7200)) \
	    -CAfile "$old/etc/sf/ca_root/cacert.pem" "$T/leaf.pem"
	assert_output --partial "certificate has expired"
	run -0 openssl verify -attime $((NOW + 7200)) -CAfile "$T/new.pem" "$T/leaf.pem"
}

@test "pki: a leaf reissued on its key keeps subject, key and extensions; new serial and validity" {
	local nb=$((NOW - 3600)) na=$((NOW + 100 * 86400)) e
	run -0 pkitool reissue "$PEER/sftunnel-cert.pem" "$PEER/sftunnel-key.pem" \
	    "$CA" "$CAKEY" 48879 "$nb" "$na"
	echo "$output" > "$T/leaf.pem"
	assert_equal "$(subj "$T/leaf.pem")" "$(subj "$PEER/sftunnel-cert.pem")"
	assert_equal "$(pub "$T/leaf.pem")" "$(pub "$PEER/sftunnel-cert.pem")"
	for e in subjectKeyIdentifier authorityKeyIdentifier basicConstraints \
	    keyUsage extendedKeyUsage; do
		assert_equal "$(ext $e "$T/leaf.pem")" "$(ext $e "$PEER/sftunnel-cert.pem")"
	done
	run -0 openssl x509 -noout -serial -in "$T/leaf.pem"
	assert_output "serial=BEEF"
	assert_equal "$(epoch startdate "$T/leaf.pem")" "$nb"
	assert_equal "$(epoch enddate "$T/leaf.pem")" "$na"
	run -0 openssl x509 -noout -text -in "$T/leaf.pem"
	assert_line --partial "Signature Algorithm: ecdsa-with-SHA256"
	# the peer's own key pairs with it
	assert_equal "$(openssl pkey -in "$PEER/sftunnel-key.pem" -pubout)" \
	    "$(pub "$T/leaf.pem")"
	run -0 openssl verify -no_check_time -CAfile "$CA" "$T/leaf.pem"
}

@test "pki: reissued on another key, the subject key identifier is that key's" {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/other.key" 2>/dev/null
	run -0 pkitool reissue "$PEER/sftunnel-cert.pem" "$T/other.key" \
	    "$CA" "$CAKEY" 3 $((NOW - 60)) $((NOW + 86400))
	echo "$output" > "$T/leaf.pem"
	assert_equal "$(openssl pkey -in "$T/other.key" -pubout)" "$(pub "$T/leaf.pem")"
	[ "$(ext subjectKeyIdentifier "$T/leaf.pem")" != \
	    "$(ext subjectKeyIdentifier "$PEER/sftunnel-cert.pem")" ]
	# as OpenSSL computes it for that key
	openssl req -new -x509 -key "$T/other.key" -subj /CN=x -days 1 \
	    -out "$T/ref.pem" 2>/dev/null
	assert_equal "$(ext subjectKeyIdentifier "$T/leaf.pem")" \
	    "$(ext subjectKeyIdentifier "$T/ref.pem")"
}

@test "pki: RSA-2048, RSA-4096, EC P-256 and P-384 CAs are renewable" {
	mkca r2 -newkey rsa:2048
	mkca r4 -newkey rsa:4096
	mkca p256 -newkey ec -pkeyopt ec_paramgen_curve:P-256
	mkca p384 -newkey ec -pkeyopt ec_paramgen_curve:P-384
	for n in r2 r4 p256 p384; do
		run -0 pkitool check "$T/$n.pem" "$T/$n.key"
		assert_output "renewable"
		run -0 pkitool renew-ca "$T/$n.pem" "$T/$n.key" 2 $((NOW - 60)) $((NOW + 86400))
		echo "$output" > "$T/$n.new"
		run -0 openssl verify -CAfile "$T/$n.new" "$T/$n.new"
		assert_equal "$(pub "$T/$n.new")" "$(pub "$T/$n.pem")"
	done
	run -0 openssl x509 -noout -text -in "$T/r4.new"
	assert_line --partial "Signature Algorithm: sha256WithRSAEncryption"
	run -0 openssl x509 -noout -text -in "$T/p384.new"
	assert_line --partial "Signature Algorithm: ecdsa-with-SHA256"
}

@test "pki: weak or unsupported keys are refused with the reason" {
	mkca r1 -newkey rsa:1024
	mkca p521 -newkey ec -pkeyopt ec_paramgen_curve:P-521
	mkca k1 -newkey ec -pkeyopt ec_paramgen_curve:secp256k1
	mkca ed -newkey ed25519
	run -1 pkitool check "$T/r1.pem" "$T/r1.key"
	assert_output "the key is RSA of 1024 bits (it takes RSA of 2048 bits or more, or EC P-256 or P-384)"
	run -1 pkitool check "$T/p521.pem" "$T/p521.key"
	assert_output "the key is EC on P-521 (it takes RSA of 2048 bits or more, or EC P-256 or P-384)"
	run -1 pkitool check "$T/k1.pem" "$T/k1.key"
	assert_output "the key is EC on secp256k1 (it takes RSA of 2048 bits or more, or EC P-256 or P-384)"
	run -1 pkitool check "$T/ed.pem" "$T/ed.key"
	assert_output "the key is ED25519 (it takes RSA of 2048 bits or more, or EC P-256 or P-384)"
	run -1 --separate-stderr pkitool renew-ca "$T/r1.pem" "$T/r1.key" 2 1 2
	assert_output ""
	assert_equal "$stderr" "pkitool: $T/r1.pem: the key is RSA of 1024 bits (it takes RSA of 2048 bits or more, or EC P-256 or P-384)"
}

@test "pki: a CA and a key that are not a pair are refused" {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/other.key" 2>/dev/null
	run -1 pkitool check "$CA" "$T/other.key"
	assert_output "the key does not match the CA certificate"
}

@test "pki: a CA certificate that is not self-signed, or not a CA, is refused" {
	mkca root -newkey ec -pkeyopt ec_paramgen_curve:P-256
	# an intermediate CA: CA:TRUE, issued by root
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -subj /CN=mid -keyout "$T/mid.key" -out "$T/mid.csr" 2>/dev/null
	printf 'basicConstraints=critical,CA:TRUE\nsubjectKeyIdentifier=hash\n' > "$T/ext"
	openssl x509 -req -in "$T/mid.csr" -CA "$T/root.pem" -CAkey "$T/root.key" \
	    -set_serial 5 -days 2 -extfile "$T/ext" -out "$T/mid.pem" 2>/dev/null
	run -1 pkitool check "$T/mid.pem" "$T/mid.key"
	assert_output "the certificate is not self-signed"
	# self-signed, but CA:FALSE
	openssl req -x509 -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -subj /CN=leaf -days 2 -addext basicConstraints=critical,CA:FALSE \
	    -keyout "$T/leaf.key" -out "$T/leaf.pem" 2>/dev/null
	run -1 pkitool check "$T/leaf.pem" "$T/leaf.key"
	assert_output "the certificate is not a CA (basicConstraints CA:TRUE)"
	# the InternalCA of the lab is all three
	run -0 pkitool check "$CA" "$CAKEY"
	assert_output "renewable"
}
