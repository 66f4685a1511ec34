# SPDX-License-Identifier: ISC
# copy.sh -- sourced by bench/run: copy_sftunnel_certs against what a user
# would otherwise run (a sequential scp+ssh loop, parallel-ssh/-scp)
#
# The same work for all three, per FTD: log in as admin with the password
# (PAM, through the lab's sshd), reach root (expert, sudo su, password),
# put cacert.pem, sftunnel-cert.pem and sftunnel-key.pem into
# /var/sf/peers/<FMC-UUID>/ keeping .backup copies, restart sftunnel.
# The baselines need one password for every host (parallel-ssh sends the
# same stdin everywhere), so the bench lab gets one (lab up -P: from a
# file, never argv).
# Host keys are checked against the lab's known_hosts by all three.

# copy_env LAB: askpass, ssh options, known_hosts, devices.csv, hosts list
copy_env() {
	local lab=$1 c=$1/copy
	mkdir -p -m 0700 "$c"
	cat "$lab"/hosts/*/ssh/known_hosts >"$c/known_hosts"
	# OpenSSH asks this program for the password (never argv).
	printf '#!/bin/sh\nexec cat %s\n' "$c/pw" >"$c/askpass"
	chmod 0700 "$c/askpass"
	SSHOPT=(-F none -o "UserKnownHostsFile=$c/known_hosts"
	    -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes
	    -o ConnectTimeout=20 -o PubkeyAuthentication=no
	    -o PreferredAuthentications=keyboard-interactive,password
	    -o NumberOfPasswordPrompts=1 -o LogLevel=ERROR)
	# the same options as one string for parallel-ssh/-scp -x
	PX=${SSHOPT[*]}
	export PX
	# created 0600 (the redirection inside the umask): it holds passwords
	(umask 077
	{ echo "# device_name,ipaddr,login,password"
	awk -v pw="$(cat "$c/pw")" '!/^#/ && $2 == "ftd" { printf "%s,%s,admin,%s\n", $1, $3, pw }' \
	    "$lab/hosts.txt"; } >"$c/devices.csv")
	awk '!/^#/ && $2 == "ftd" { print $3 }' "$lab/hosts.txt" >"$c/addrs"
}

# The root-shell part of the baselines, same for every FTD; the password
# for sudo su is its second line (stdin of ssh, never argv).
root_script() {
	local fmc=$1
	printf 'sudo su\n%s\n' "$(cat "$2")"
	cat <<-EOF
	d=/var/sf/peers/$fmc
	for f in cacert.pem sftunnel-cert.pem sftunnel-key.pem; do cp -p \$d/\$f \$d/\$f.backup && cat /home/admin/\$f >\$d/.\$f.new && mv -f \$d/.\$f.new \$d/\$f && rm -f /home/admin/\$f || echo COPY-FAILED; done; chmod 600 \$d/sftunnel-key.pem
	pmtool restartbyid sftunnel >/dev/null 2>&1 || echo RESTART-FAILED
	echo BASELINE-DONE
	exit
	exit
	EOF
}

# files_of LAB ADDR: the three files the FMC issued for the FTD at ADDR
files_of() {
	local u f=$1/hosts/FMCpri/root
	u=$(awk -v a="$2" '!/^#/ && $3 == a { print $4 }' "$1/hosts.txt")
	echo "$f/etc/sf/ca_root/cacert.pem $f/var/sf/peers/$u/certs_pushed/sftunnel-cert.pem $f/var/sf/peers/$u/certs_pushed/sftunnel-key.pem"
}

# One device, the way an operator's loop does it: scp, then ssh.
loop_one() {
	local lab=$1 a=$2 fmc=$3 o
	# shellcheck disable=SC2046
	scp -q "${SSHOPT[@]}" $(files_of "$lab" "$a") "admin@$a:/home/admin/" \
	    </dev/null || { echo "$a: scp failed"; return 1; }
	o=$(root_script "$fmc" "$lab/copy/pw" |
	    ssh -T "${SSHOPT[@]}" "admin@$a" expert 2>/dev/null)
	case $o in
	*-FAILED*) echo "$a: copy or restart failed"; return 1 ;;
	*BASELINE-DONE*) ;;
	*) echo "$a: ssh failed"; return 1 ;;
	esac
}

# name_of LAB ADDR...: the lab names of the hosts at ADDR..., one a line
name_of() {
	local lab=$1
	shift
	printf '%s\n' "$@" | awk 'NR == FNR { a[$1]; next }
	    !/^#/ && ($3 in a) { print $1 }' - "$lab/hosts.txt"
}

# copy_failed LAB WHAT HOST...: the run WHAT did not do its work on
# HOST...: their sshd logs' last lines (at most 8 hosts), then the section
# fails; no figure is printed for a run that did not do what it measures
copy_failed() {
	local lab=$1 what=$2 h k=0
	shift 2
	{
		printf 'bench: copy: %s: failed on %s host(s): %s\n' "$what" "$#" \
		    "$(echo "$@" | cut -c 1-300)"
		for h in "$@"; do
			k=$((k + 1))
			[ $k -le 8 ] || break
			printf -- '--- %s: tail of %s\n' "$h" "$lab/hosts/$h/ssh/sshd.log"
			tail -n 12 "$lab/hosts/$h/ssh/sshd.log" 2>&1
		done
		printf 'bench: copy: the lab is left in %s (lab -d %s down --purge)\n' \
		    "$lab" "$lab"
	} | tee -a "$RES" >&2
	LABS=()		# kept for a look: its processes are stopped below
	"$LABSH" -d "$lab" down >/dev/null 2>&1
	exit 1
}

# failed_of OUT: the devices copy_sftunnel_certs' summary table in OUT
# does not give as done
failed_of() {
	awk '/^DEVICE +ADDRESS +RESULT/ { t = 1; next }
	    t && NF >= 3 && $3 != "done" { print $1 }' "$1"
}

# cpu_busy: jiffies the whole machine spent busy so far
cpu_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# child_cpu: clock ticks of CPU the processes this shell waited for used
child_cpu() { sed 's/.*) //' "/proc/$$/stat" | awk '{ print $14 + $15 }'; }

# run_timed NAME DEVICES CMD...: wall, client CPU (children), machine CPU.
# CMD may be a shell function; its processes count as the client.
run_timed() {
	local name=$1 n=$2 t0 b0 b1 c0 c1 hz wall
	shift 2
	hz=$(getconf CLK_TCK)
	b0=$(cpu_busy)
	c0=$(child_cpu)
	t0=$(now)
	"$@"
	wall=$(el "$t0")
	c1=$(child_cpu)
	b1=$(cpu_busy)
	note "$name: client CPU $(awk -v a="$c0" -v b="$c1" -v h="$hz" -v n="$n" 'BEGIN { printf "%.3f", (b - a) / h / n }') s/device, whole machine (client+sshd+PAM+daemons, and any other load) $(awk -v a="$b0" -v b="$b1" -v h="$hz" -v n="$n" 'BEGIN { printf "%.3f", (b - a) / h / n }') s/device"
	eval "T_$name=$wall"
}

bench_copy() {
	local n lab r fmc j=16 sizes cut k t_ok t_cut bad cutl
	sizes=${BENCH_SIZES_COPY:-50 200}
	[ -x "$BIN/copy_sftunnel_certs" ] || { note "copy: $BIN/copy_sftunnel_certs missing, section skipped"; return 0; }
	[ -x "$SSHD_HOST" ] || { note "copy: $SSHD_HOST missing, section skipped"; return 0; }
	command -v parallel-ssh >/dev/null || die "copy: parallel-ssh missing (install/deps.sh --bench)"
	for n in $sizes; do
		lab=$W/copy$n
		r=$lab/hosts/FMCpri/root
		"$LABSH" -d "$lab" down --purge >/dev/null 2>&1
		LABS+=("$lab")
		rm -f "$lab.pw"
		(umask 077; openssl rand -base64 12 >"$lab.pw")
		"$LABSH" -d "$lab" up -n "$n" -k ec -i "$HB" -b 127.85 -t 300 \
		    -P "$lab.pw" >/dev/null || die "copy: lab up -n $n failed"
		mkdir -p -m 0700 "$lab/copy"
		mv -f "$lab.pw" "$lab/copy/pw"
		copy_env "$lab"
		fmc=$(awk '!/^#/ && $2 == "fmc" { print $4 }' "$lab/hosts.txt")
		export SSH_ASKPASS=$lab/copy/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=:0
		rm -f "$lab/copy/pssh.out"
		note "copy: $n FTDs with real sshd (password through PAM), concurrency $j, timeout 20 s"

		# ours: the same work, no wait for the tunnels (-w 0)
		ours() {
			"$BIN/copy_sftunnel_certs" -r "$r" -k "$lab/copy/known_hosts" \
			    -j "$j" -t 20 -w 0 "$lab/copy/devices.csv" >"$1" 2>&1
		}
		run_timed ours "$n" ours "$lab/copy/ours.out"
		note "copy-$n ours: $(grep -c 'Successfully copied' "$lab/copy/ours.out") of $n copied"
		[ "$(grep -c 'Successfully copied' "$lab/copy/ours.out")" = "$n" ] ||
		    copy_failed "$lab" "copy_sftunnel_certs (output in $lab/copy/ours.out)" \
			$(failed_of "$lab/copy/ours.out")
		# pssh: one parallel-scp per FTD (its files are its own), $j at a
		# time; then one parallel-ssh for every FTD (same root script).
		# pssh: parallel-scp sends the same files to every host and each
		# FTD has its own, so the files go by scp, $j at a time (xargs
		# -P); then one parallel-ssh -A (the password typed once at its
		# prompt) runs the same root script on every FTD, $j at a time.
		pssh_all() {
			local a
			while read -r a; do
				echo "$a $(files_of "$lab" "$a")"
			done <"$lab/copy/addrs" | xargs -P "$j" -L 1 sh -c '
			    a=$1; shift
			    scp -q $PX "$@" "admin@$a:/home/admin/" </dev/null ||
			    echo "SCP-FAILED $a"' sh >>"$lab/copy/pssh.out"
			root_script "$fmc" "$lab/copy/pw" >"$lab/copy/root.sh"
			env -u SSH_ASKPASS -u SSH_ASKPASS_REQUIRE -u DISPLAY \
			    python3 "$HERE/ttypass.py" "$lab/copy/pw" sh -c '
			    exec parallel-ssh -A -h "$1" -l admin -p "$2" -t 120 -I \
				-x "$PX" -i expert <"$3"' sh "$lab/copy/addrs" "$j" \
			    "$lab/copy/root.sh" >>"$lab/copy/pssh.out" 2>&1
			rm -f "$lab/copy/root.sh"
		}
		run_timed pssh "$n" pssh_all
		note "copy-$n pssh: $(grep -c 'SUCCESS' "$lab/copy/pssh.out") of $n succeeded, $(grep -c '^BASELINE-DONE' "$lab/copy/pssh.out") finished the root script, $(grep -c '^[A-Z]*-FAILED' "$lab/copy/pssh.out") scp, copy or restart failures"
		# every host: its scp went, its session succeeded and ran the
		# root script to the end
		bad=$(sed 's/\x1b\[[0-9;]*m//g; s/\r$//' "$lab/copy/pssh.out" |
		    awk 'NR == FNR { if (/\[SUCCESS\]/) ok[$4]
			else if (/^SCP-FAILED /) scp[$2]
			next }
		    !($1 in ok) || ($1 in scp) { print $1 }' - "$lab/copy/addrs")
		[ -z "$bad" ] && [ "$(grep -c '^BASELINE-DONE' "$lab/copy/pssh.out")" = "$n" ] &&
		    ! grep -q '^[A-Z]*-FAILED' "$lab/copy/pssh.out" ||
		    copy_failed "$lab" "parallel-ssh (output in $lab/copy/pssh.out)" \
			$(name_of "$lab" $bad)
		loop_all() {
			local a
			: >"$lab/copy/loop.bad"
			while read -r a; do
				loop_one "$lab" "$a" "$fmc" >>"$lab/copy/loop.out" ||
				    echo "$a" >>"$lab/copy/loop.bad"
			done <"$lab/copy/addrs"
		}
		run_timed loop "$n" loop_all
		note "copy-$n loop: $(( n - $(grep -c . "$lab/copy/loop.bad") )) of $n succeeded"
		[ ! -s "$lab/copy/loop.bad" ] ||
		    copy_failed "$lab" "sequential scp+ssh (output in $lab/copy/loop.out)" $(name_of "$lab" $(cat "$lab/copy/loop.bad"))
		fig "copy-$n-ours" "$T_ours" "pssh-j$j" "$T_pssh"
		fig "copy-$n-ours" "$T_ours" "sequential-scp+ssh" "$T_loop"
		out "copy-$n-ours: speed-up $(ratio "$T_pssh" "$T_ours")× vs pssh, $(ratio "$T_loop" "$T_ours")× vs sequential loop"

		# 10% of the devices unreachable (sshd and sftunneld stopped).
		cut=$(( n / 10 ))
		cutl=()
		for k in $(seq 1 "$cut"); do
			"$LABSH" -d "$lab" cut "FTD-$((k * 10))" >/dev/null || die "cut failed"
			cutl+=("FTD-$((k * 10))")
		done
		t_ok=$T_ours
		run_timed ours "$n" ours "$lab/copy/ours-cut.out"
		t_cut=$T_ours
		note "copy-$n-10%-unreachable: $(grep -c 'Successfully copied' "$lab/copy/ours-cut.out") copied, $(grep -c 'Could not connect' "$lab/copy/ours-cut.out") could not connect"
		# the figure only when every reachable device was copied and
		# exactly the cut ones failed
		bad=$( { failed_of "$lab/copy/ours-cut.out"; printf '%s\n' "${cutl[@]}"; } |
		    sort | uniq -u)
		[ -z "$bad" ] && [ "$(grep -c 'Successfully copied' "$lab/copy/ours-cut.out")" = $((n - cut)) ] ||
		    copy_failed "$lab" "copy_sftunnel_certs, $cut cut (output in $lab/copy/ours-cut.out)" $bad
		out "copy-$n-ours-10%-unreachable: $t_cut s (ratio $(ratio "$t_cut" "$t_ok")× vs all reachable $t_ok s; +$(awk -v a="$t_cut" -v b="$t_ok" 'BEGIN { printf "%.1f", a - b }') s, target <= +20 s, one timeout)"
		unset SSH_ASKPASS SSH_ASKPASS_REQUIRE DISPLAY
		"$LABSH" -d "$lab" down --purge >/dev/null || note "copy: lab down failed"
		LABS=()
	done
}
