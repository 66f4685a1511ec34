# SPDX-License-Identifier: ISC
# extend.sh -- sourced by bench/run: generate_certs --extend at fleet scale
#
# 1000 peers (peersim), all connected, as on an FMC: the default mode's
# renewal first (new RSA-2048 CA and keys, pushed, 3 files a peer), the
# FMC's sftunneld restarted so that every peer comes back on the identity
# pushed to it, then --extend end to end (CA renewed on its key, every
# certificate reissued on its key, committed, cacert.pem and
# sftunnel-cert.pem pushed to every peer and acknowledged).  A figure is
# printed only when its run did that work for every peer.

# not_acked LAB: the FTDs whose cacert.pem or sftunnel-cert.pem is not
# what the FMC now holds for them (the CA, certs_pushed/), one name a line
not_acked() {
	local lab=$1 f=$1/hosts/FMCpri/root fmc name u d
	fmc=$(awk '!/^#/ && $2 == "fmc" { print $4; exit }' "$lab/hosts.txt")
	while read -r name _ _ u; do
		d=$lab/hosts/$name/root/var/sf/peers/$fmc
		cmp -s "$d/cacert.pem" "$f/etc/sf/ca_root/cacert.pem" &&
		    cmp -s "$d/sftunnel-cert.pem" \
		    "$f/var/sf/peers/$u/certs_pushed/sftunnel-cert.pem" ||
		    echo "$name"
	done < <(awk '!/^#/ && $2 == "ftd"' "$lab/hosts.txt")
}

# renewal_done LAB N WHAT: the last renewal exited 0, listed nothing in
# FAILED_PUSH, pushed every certificate (no key mismatch or unseen key)
# and every FTD holds what the FMC holds for it; else the section fails
# with what is missing
renewal_done() {
	local lab=$1 n=$2 what=$3 r=$1/hosts/FMCpri/root bad nb
	[ "$(cat "$lab/hosts/FMCpri/gc.rc")" = 0 ] ||
	    { tail -n 5 "$lab/hosts/FMCpri/gc.out" >&2; die "extend: $what: generate_certs exited $(cat "$lab/hosts/FMCpri/gc.rc")"; }
	[ "$(failed_lines "$r")" = 0 ] ||
	    die "extend: $what: $(failed_lines "$r") FAILED_PUSH lines (expect 0)"
	! grep -q '^Key \(mismatch\|not seen\)' "$lab/hosts/FMCpri/gc.out" ||
	    die "extend: $what: $(grep -c '^Key ' "$lab/hosts/FMCpri/gc.out") peers got cacert.pem only"
	bad=$(not_acked "$lab")
	nb=$(printf '%s' "$bad" | grep -c .)
	[ "$nb" = 0 ] ||
	    die "extend: $what: $nb of $n FTDs do not hold the FMC's CA and their certificate ($(echo $bad | cut -c 1-200))"
}

bench_extend() {
	local n=${BENCH_EXTEND_N:-1000} lab r tn te
	lab=$W/extend
	r=$lab/hosts/FMCpri/root
	mklab "$lab" "$n" 127.82
	note "extend: $n peers, FMC sftunneld -i $HB, peersim playing the $n FTDs over TLS from 127.82.x.y"
	start_fmc "$lab"
	start_sim "$lab"
	# generous: at a load of 18 on two cores, 953 of 1000 in 120 s
	wait_up "$r" "$n" 900 || die "extend: $n peers did not come up ($(nup "$r") up)"
	tn=$(gc "$r")
	renewal_done "$lab" "$n" "new-key run"
	note "extend-$n: default mode (new CA key, new keys) connected: $tn s, 0 FAILED_PUSH, every FTD holds its files"
	# Every peer back on the identity just pushed to it: its session shows
	# the key --extend must see before it pushes a certificate.
	stop_pid "$(cat "$lab/fmc.pid")"
	start_fmc "$lab"
	wait_up "$r" "$n" 900 || die "extend: $n peers not back after the restart ($(nup "$r") up)"
	cp "$r/etc/sf/ca_root/cacert.pem" "$lab/ca.before"
	te=$(gc "$r" -e)
	# what the FTDs are compared with has changed: the check can fail
	! cmp -s "$lab/ca.before" "$r/etc/sf/ca_root/cacert.pem" ||
	    die "extend: --extend run: the FMC's cacert.pem did not change"
	renewal_done "$lab" "$n" "--extend run"
	note "extend-$n: --extend connected: 0 FAILED_PUSH, every FTD holds the renewed cacert.pem and its reissued sftunnel-cert.pem"
	fig "extend-$n-connected" "$te" "new-key-connected-run" "$tn"
	out "extend-$n-connected: speed-up $(ratio "$tn" "$te")× vs new-key run $tn s (goal >= 30×)"
	out "extend-$n-connected: $te s (ratio $(ratio "$te" 3)× vs goal 3 s)"
	stop_pid "$(cat "$lab/sim.pid")"
	stop_pid "$(cat "$lab/fmc.pid")"
	note "$(cat "$lab/sim.out")"
	cp "$r/var/log/sf/sfca_generation.log" "$W/extend-$n.log"
	rm -rf "$lab"
}
