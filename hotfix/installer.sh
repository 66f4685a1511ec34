#!/bin/sh
# SPDX-License-Identifier: ISC
# @HOTFIX@.sh -- install sfca into a management center's /usr/local/sf/bin
#
# Made by `make hotfix` from hotfix/installer.sh; see sfca_hotfix(8).
# A payload (gzip'd tar) follows the last line of this script.  Nothing
# changes before this script has checked itself, the payload and every
# file in it against the checksums below and the payload's MANIFEST.
SFCA_HEADER_SHA256=@HEADER_SHA256@
HOTFIX=@HOTFIX@
HF_VERSION=@VERSION@
PAYLOAD_LINE=@PAYLOAD_LINE@
PAYLOAD_SIZE=@PAYLOAD_SIZE@
PAYLOAD_SHA256=@PAYLOAD_SHA256@
# FMC software versions (major.minor) this hotfix supports.
SUPPORTED='6.4 6.5 6.6 6.7 7.0 7.1 7.2 7.3 7.4 7.6 7.7'
# Vendor script name -> our command (SPEC 2).
VENDOR_NAMES='generate_certs.pl:generate_certs
sftunnel_status.pl:sftunnel_status
copy_sftunnel_certs.py:copy_sftunnel_certs
copy_sftunnel_certs_jumpserver.py:copy_sftunnel_certs_jumpserver'
REL=$HOTFIX.sh.REL.tar
BINDIR=usr/local/sf/bin
MANDIR=usr/local/sf/share/man
STATEDIR=var/sf/hotfix
LOGDIR=var/log/sf/$HOTFIX

set -u
umask 022
export LC_ALL=C
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
PROG=$HOTFIX.sh
SELF=$0
TMP=

usage() {
	cat >&"${1:-2}" <<-EOF
	usage: $PROG [-acf] [-k known-hosts] [-P port] [-R primary-record]
	        [-r root] [-s host [-l login] -p password-file | -C devices.csv]
	       $PROG -c [-r root]
	       $PROG -u [-r root]
	EOF
	[ "${2:-2}" -eq 0 ] && cat <<-EOF

	Install the sfca commands into /$BINDIR of this FMC, with the vendor
	names as links and the manual pages in /$MANDIR; restart nothing.
	On the primary of an HA pair, also on the secondary (over SSH).

	  -a, --accept-new-host-key      record the secondary's host key if unknown
	  -C, --ha-csv devices.csv       the secondary's login and password: its row
	  -c, --readiness-check          run every check and report; change nothing
	  -f, --force                    on a secondary: install without the record
	  -h, --help                     print this help and exit 0
	  -k, --known-hosts known-hosts  for the secondary (~/.ssh/known_hosts)
	  -l, --login login              login on the secondary (default admin)
	  -P, --port port                the secondary's SSH port (default 22)
	  -p, --password-file file       the secondary's password: its first line
	  -R, --primary-record line      on a secondary: the primary's patch_history
	  -r, --root root                install into this appliance tree, not /
	  -s, --secondary host           on the primary: install on the secondary
	  -u, --uninstall                put back what it replaced, remove the rest
	  -V, --version                  print the hotfix's name and exit 0

	Exit status: 0 installed, uninstalled, ready, or nothing to do; 1 refused
	(corrupted installer, not a supported FMC, HA order) or failed, here or on
	the secondary; 2 usage error, or a root that is not a folder.

	The commands' manual pages, once installed (this installer's own,
	sfca_hotfix(8), comes with the sources and the release notes):
	  man -l /$MANDIR/man8/generate_certs.8
	EOF
	exit "${2:-2}"
}
cleanup() { [ -n "$TMP" ] && rm -rf "$TMP"; TMP=; }
trap 'cleanup' EXIT
trap 'cleanup; exit 1' HUP INT TERM
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }
warn() { printf '%s: %s\n' "$PROG" "$*" >&2; }
say() { printf '%s\n' "$*"; }
# log LEVEL MESSAGE: status.log of this hotfix, and stdout
log() {
	say "$2"
	mkdir -p "$R/$LOGDIR" &&
	printf '%s %s %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$1" "$2" \
	    >>"$R/$LOGDIR/status.log"
}

# logeach LEVEL: log every line of stdin, in the log only
logeach() {
	local l
	while IFS= read -r l; do
		log "$1" "$l" >/dev/null
	done
}

# --- options ---------------------------------------------------------------
R=/ mode=install force= secondary= login=admin pwfile= hacsv= precord=
known= acceptnew= port=22 installed=
need() { [ $# -ge 2 ] || usage; }
while [ $# -gt 0 ]; do
	case $1 in
	-a|--accept-new-host-key) acceptnew=1;;
	-c|--readiness-check) mode=check;;
	-C|--ha-csv) need "$@"; hacsv=$2; shift;;
	-f|--force) force=1;;
	-h|--help) usage 1 0;;
	-k|--known-hosts) need "$@"; known=$2; shift;;
	-l|--login) need "$@"; login=$2; shift;;
	-p|--password-file) need "$@"; pwfile=$2; shift;;
	-P|--port) need "$@"; port=$2; shift;;
	-r|--root) need "$@"; R=$2; shift;;
	-R|--primary-record) need "$@"; precord=$2; shift;;
	-s|--secondary) need "$@"; secondary=$2; shift;;
	-u|--uninstall) mode=uninstall;;
	-V|--version) say "$HOTFIX (sfca $HF_VERSION)"; exit 0;;
	*) usage;;
	esac
	shift
done
case $port in ''|*[!0-9]*) usage;; esac
[ -n "$secondary" ] && [ -z "$pwfile" ] && usage
[ -n "$secondary" ] && [ -n "$hacsv" ] && usage
[ -d "$R" ] || { warn "$R: no such folder"; exit 2; }
R=$(cd "$R" && pwd -P) || exit 1
[ "$R" = / ] && R=

# --- 1. integrity: nothing changes before this passes ----------------------
verify() {
	local sum size
	sum=$(head -n $((PAYLOAD_LINE - 1)) "$SELF" |
	    grep -v '^SFCA_HEADER_SHA256=' | sha256sum | cut -d' ' -f1)
	[ "$sum" = "$SFCA_HEADER_SHA256" ] ||
	    die "$SELF: corrupted installer (script checksum mismatch)"
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/$HOTFIX.XXXXXX") ||
	    die "cannot make a temporary folder"
	tail -n +"$PAYLOAD_LINE" "$SELF" >"$TMP/payload.tgz" ||
	    die "$SELF: cannot read the payload"
	size=$(wc -c <"$TMP/payload.tgz")
	[ "$size" -eq "$PAYLOAD_SIZE" ] ||
	    die "$SELF: truncated or corrupted installer (payload is $size bytes, expected $PAYLOAD_SIZE)"
	sum=$(sha256sum "$TMP/payload.tgz" | cut -d' ' -f1)
	[ "$sum" = "$PAYLOAD_SHA256" ] ||
	    die "$SELF: corrupted installer (payload checksum mismatch)"
	mkdir "$TMP/p" && tar -C "$TMP/p" -xzf "$TMP/payload.tgz" ||
	    die "$SELF: cannot unpack the payload"
	(cd "$TMP/p" && sha256sum --quiet --strict -c MANIFEST) >&2 ||
	    die "$SELF: corrupted payload (MANIFEST check failed)"
	[ "$(cd "$TMP/p" && find . -type f ! -name MANIFEST | wc -l)" -eq \
	    "$(wc -l <"$TMP/p/MANIFEST")" ] ||
	    die "$SELF: corrupted payload (files not in MANIFEST)"
	P=$TMP/p
}

# --- 2. is this a supported FMC ---------------------------------------------
imsval() { sed -n "s/^$1=//p" "$R/etc/sf/ims.conf" | head -n 1; }
# jsonval FILE KEY: a string value of a flat sftunnel.json
jsonval() { sed -n "s/.*\"$2\": *\"\\([^\"]*\\)\".*/\\1/p" "$1" | head -n 1; }
check_fmc() {
	local v mm ok= s j
	[ -r "$R/etc/sf/ims.conf" ] ||
	    die "${R:-/}: not an appliance (no etc/sf/ims.conf)"
	[ "$(imsval MODEL_TYPE)" = CONSOLE ] ||
	    die "${R:-/}: not a management center (MODEL_TYPE is '$(imsval MODEL_TYPE)', expected CONSOLE)"
	UUID=$(imsval APPLIANCE_UUID)
	[ -n "$UUID" ] || die "$R/etc/sf/ims.conf: no APPLIANCE_UUID"
	v=$(imsval SWVERSION)
	mm=$(printf '%s\n' "$v" | cut -d. -f1-2)
	for s in $SUPPORTED; do [ "$mm" = "$s" ] && ok=1; done
	[ -n "$ok" ] ||
	    die "${R:-/}: FMC version '$v' is not supported (supported: $SUPPORTED)"
	SWVERSION=$v
	HA_ROLE=$(imsval HA_ROLE)
	[ -d "$R/$BINDIR" ] || die "$R/$BINDIR: no such folder"
	# The HA peer: the peer folder whose role is fmc-ha.
	PEER_UUID= PEER_NAME= PEER_IP=
	for j in "$R"/var/sf/peers/*/sftunnel.json; do
		[ -f "$j" ] || continue
		[ "$(jsonval "$j" role)" = fmc-ha ] || continue
		PEER_UUID=$(jsonval "$j" uuid) PEER_NAME=$(jsonval "$j" name)
		PEER_IP=$(jsonval "$j" ip)
	done
	case $HA_ROLE in
	''|primary|secondary) ;;
	*) die "$R/etc/sf/ims.conf: unknown HA_ROLE '$HA_ROLE'";;
	esac
	[ -z "$HA_ROLE" ] || [ -n "$PEER_UUID" ] ||
	    die "${R:-/}: HA_ROLE=$HA_ROLE but no peer folder with role fmc-ha"
}

# The binaries must run here (this also proves their libraries resolve).
check_run() {
	local f
	for f in "$P"/bin/*; do
		"$f" --version >/dev/null 2>&1 ||
		    die "${f##*/}: does not run on this system (missing library? see NEEDED in the payload)"
	done
}

# --- 3. the plan: what goes where --------------------------------------------
# PLAN lines: "f SRC DST MODE" (file) or "l TARGET DST" (symlink); DST
# relative to the root.
plan() {
	local f c m s v
	PLAN=
	for f in "$P"/bin/*; do
		c=${f##*/}
		PLAN="$PLAN
f bin/$c $BINDIR/$c 755"
	done
	for v in $VENDOR_NAMES; do
		[ -f "$P/bin/${v#*:}" ] || continue
		PLAN="$PLAN
l ${v#*:} $BINDIR/${v%%:*}"
	done
	for m in "$P"/man/*; do
		[ -f "$m" ] || continue
		s=${m##*.}
		PLAN="$PLAN
f man/${m##*/} $MANDIR/man$s/${m##*/} 644"
	done
	PLAN=${PLAN#?}
}

# in_place: 0 when every planned file and link is there as planned
in_place() {
	local t a b c
	printf '%s\n' "$PLAN" | {
		while read -r t a b c; do
			case $t in
			f) cmp -s "$P/$a" "$R/$b" || exit 1
			   [ "$(stat -c %a "$R/$b")" = "$c" ] || exit 1;;
			l) [ -L "$R/$b" ] &&
			   [ "$(readlink "$R/$b")" = "$a" ] || exit 1;;
			esac
		done
		exit 0
	}
}

RECORD_RE="^$HOTFIX\\.sh\\.REL\\.tar "
has_record() { grep -q "$RECORD_RE" "$R/etc/sf/patch_history" 2>/dev/null; }

# --- HA order -------------------------------------------------------------------
# The secondary installs only once the primary has the hotfix: the proof
# is the primary's patch_history line, which the primary passes as
# --primary-record when it installs here over SSH (or the operator copies
# it from the primary's output).  It must name this hotfix and the uuid of
# this FMC's HA peer.
check_order() {
	local st=$R/$STATEDIR/$HOTFIX
	[ "$HA_ROLE" = secondary ] || return 0
	if [ -f "$st/primary_record" ]; then
		ORDER="primary $PEER_NAME has it (recorded at install)"
		return 0
	fi
	if [ -n "$precord" ]; then
		case $precord in
		"$REL "*" uuid=$PEER_UUID"|"$REL "*" uuid=$PEER_UUID "*)
			ORDER="primary $PEER_NAME has it: $precord"
			return 0;;
		esac
		die "--primary-record: not a record of $REL from the primary $PEER_NAME ($PEER_UUID)"
	fi
	if [ -n "$force" ]; then
		ORDER="primary $PEER_NAME not checked (--force)"
		return 0
	fi
	die "refusing: the primary $PEER_NAME ($PEER_IP, $PEER_UUID) does not have $HOTFIX yet; install it there first (it then installs here over SSH), or pass its --primary-record, or --force"
}

# --- 4. readiness ------------------------------------------------------------
readiness() {
	local avail need
	say "$HOTFIX readiness check on ${R:-/}"
	say "  installer integrity: ok (script, payload, MANIFEST)"
	say "  appliance: FMC $UUID, version $SWVERSION: supported"
	say "  HA role: ${HA_ROLE:-standalone}${PEER_NAME:+, peer $PEER_NAME ($PEER_IP)}"
	say "  binaries run here: ok (needs $(tr '\n' ' ' <"$P/NEEDED"))"
	need=$(du -sk "$P" | cut -f1)
	avail=$(df -Pk "$R/$BINDIR" | awk 'NR == 2 { print $4 }')
	[ "$avail" -gt $((need * 2)) ] ||
	    die "$R/$BINDIR: not enough space (${avail}k free, $((need * 2))k needed)"
	say "  space: ${avail}k free, ${need}k needed"
	if [ "$HA_ROLE" = secondary ]; then
		( check_order ) || exit 1
		say "  HA order: ok"
	fi
	if [ -f "$R/$STATEDIR/$HOTFIX/complete" ] && in_place && has_record
	then
		say "  state: installed (a run would change nothing)"
	else
		say "  state: not installed (a run would install)"
	fi
	say "ready"
}

# --- 5. install ---------------------------------------------------------------
# The state folder is made complete (backups and lists) under a temporary
# name and renamed before the first change: a run killed later finds it
# and finishes; --uninstall and a failed run undo from it.
prepare_state() {
	local st=$R/$STATEDIR/$HOTFIX new t a b c d
	[ -d "$st" ] && return 0
	new=$R/$STATEDIR/.$HOTFIX.new
	if [ ! -d "$R/$STATEDIR" ]; then
		mkdir -p "$R/$STATEDIR" || return 1
		made_statedir=1
	elif [ "$(ls -A "$R/$STATEDIR")" = ".$HOTFIX.new" ]; then
		made_statedir=1		# made by a run killed before here
	else
		made_statedir=
	fi
	rm -rf "$new"
	mkdir -p "$new/backup" || return 1
	: >"$new/added" && : >"$new/replaced" || return 1
	[ -n "$made_statedir" ] && echo "d $STATEDIR" >>"$new/added"
	printf '%s\n' "$PLAN" | while read -r t a b c; do
		# folders this run will create, outermost first
		d=${b%/*} dirs=
		while [ ! -d "$R/$d" ]; do dirs="$d $dirs"; d=${d%/*}; done
		for d in $dirs; do
			grep -qx "d $d" "$new/added" || echo "d $d" >>"$new/added"
		done
		if [ -e "$R/$b" ] || [ -L "$R/$b" ]; then
			mkdir -p "$new/backup/${b%/*}" &&
			cp -P -p "$R/$b" "$new/backup/$b" || exit 1
			echo "$b" >>"$new/replaced"
		else
			echo "$t $b" >>"$new/added"
		fi
	done || return 1
	mkdir -p "$new/backup/etc/sf" &&
	cp -p "$R/etc/sf/patch_history" "$new/backup/etc/sf/patch_history" &&
	mv "$new" "$st"
}

apply() {
	local t a b c
	printf '%s\n' "$PLAN" | while read -r t a b c; do
		mkdir -p "$R/${b%/*}" || exit 1
		case $t in
		f) cmp -s "$P/$a" "$R/$b" &&
		       [ "$(stat -c %a "$R/$b")" = "$c" ] && continue
		   cp "$P/$a" "$R/$b.hotfix-new" &&
		   chmod "$c" "$R/$b.hotfix-new" &&
		   mv -f "$R/$b.hotfix-new" "$R/$b" || exit 1
		   echo "installed /$b";;
		l) [ -L "$R/$b" ] && [ "$(readlink "$R/$b")" = "$a" ] && continue
		   rm -f "$R/$b.hotfix-new" &&
		   ln -s "$a" "$R/$b.hotfix-new" &&
		   mv -f -T "$R/$b.hotfix-new" "$R/$b" || exit 1
		   echo "linked /$b -> $a";;
		esac
	done
}

append_record() {
	local ph=$R/etc/sf/patch_history line
	has_record && return 0
	line="$REL installed=$(date -u '+%Y-%m-%dT%H:%M:%SZ') uuid=$UUID"
	cp -p "$ph" "$ph.hotfix-new" &&
	printf '%s\n' "$line" >>"$ph.hotfix-new" &&
	mv -f "$ph.hotfix-new" "$ph" || return 1
	echo "$line" >"$R/$STATEDIR/$HOTFIX/record"
	echo "recorded in /etc/sf/patch_history: $line"
}

install_here() {
	local st=$R/$STATEDIR/$HOTFIX
	if [ -f "$st/complete" ] && in_place && has_record; then
		say "$HOTFIX is already installed on ${R:-/}: nothing to do"
		return 0
	fi
	log INFO "installing $HOTFIX on ${R:-/} (FMC $UUID, $SWVERSION${HA_ROLE:+, $HA_ROLE})"
	[ "$HA_ROLE" = secondary ] && log INFO "HA order: $ORDER"
	prepare_state || { log ERROR "cannot save what this replaces: nothing changed"; exit 1; }
	if ! apply >"$TMP/done" || ! append_record >>"$TMP/done"; then
		logeach INFO <"$TMP/done"
		log ERROR "install failed: undoing"
		uninstall_here
		exit 1
	fi
	logeach INFO <"$TMP/done"
	[ "$HA_ROLE" = secondary ] && [ -n "$precord" ] &&
	    printf '%s\n' "$precord" >"$st/primary_record"
	: >"$st/complete"
	installed=1
	log INFO "$HOTFIX installed: commands in /$BINDIR (vendor names as links), man pages in /$MANDIR; nothing restarted"
}

# man_hint: how to read the manual pages here (man(1) searches /$MANDIR
# only when /$BINDIR is on the PATH, which a `sudo su` shell may lack)
man_hint() {
	say ""
	say "Manual pages of the commands, on this FMC:"
	say "  man -l $R/$MANDIR/man8/generate_certs.8"
	say "or, for all of them in this shell:"
	say "  export MANPATH=$R/$MANDIR:"
	say "  man generate_certs"
}

# --- uninstall ------------------------------------------------------------------
uninstall_here() {
	local st=$R/$STATEDIR/$HOTFIX ph=$R/etc/sf/patch_history t b made
	if [ ! -d "$st" ]; then
		say "$HOTFIX is not installed on ${R:-/}: nothing to do"
		return 0
	fi
	log INFO "uninstalling $HOTFIX from ${R:-/}"
	# what was there before, back in place (links as links, modes, times)
	while read -r b; do
		[ -n "$b" ] || continue
		rm -f "$R/$b" && cp -P -p "$st/backup/$b" "$R/$b" ||
		    { log ERROR "/$b: cannot restore"; return 1; }
	done <"$st/replaced"
	# what this hotfix added, files first, then folders innermost first
	grep -v '^d ' "$st/added" | while read -r t b; do
		rm -f "$R/$b"
	done
	grep '^d ' "$st/added" | sed 's/^d //' | grep -vx "$STATEDIR" |
	    sort -r | while read -r b; do
		rmdir "$R/$b" 2>/dev/null || true
	done
	made=$(grep -x "d $STATEDIR" "$st/added")
	# patch_history: our line out; the saved copy when nothing else changed
	grep -v "$RECORD_RE" "$ph" >"$ph.hotfix-new"
	if cmp -s "$ph.hotfix-new" "$st/backup/etc/sf/patch_history"; then
		rm -f "$ph.hotfix-new"
		cp -p "$st/backup/etc/sf/patch_history" "$ph"
	else
		chmod "$(stat -c %a "$ph")" "$ph.hotfix-new" &&
		mv -f "$ph.hotfix-new" "$ph"
	fi
	rm -rf "$st"
	[ -n "$made" ] && rmdir "$R/$STATEDIR" 2>/dev/null
	log INFO "$HOTFIX uninstalled: /$BINDIR, /$MANDIR and /etc/sf/patch_history are as before"
}

# --- HA: the secondary ---------------------------------------------------------
secondary_hint() {
	local rec
	rec=$(grep "$RECORD_RE" "$R/etc/sf/patch_history" | tail -n 1)
	say ""
	say "This FMC is the primary of an HA pair: the secondary $PEER_NAME ($PEER_IP) needs $HOTFIX too."
	say "Install it there from here:"
	say "  sh $PROG --secondary $PEER_IP --login admin --password-file FILE"
	say "or copy $REL to $PEER_NAME and run there, as root:"
	say "  tar xf $REL && sh $PROG --primary-record '$rec'"
}

# csv_creds FILE HOST NAME: "login password" of the row for HOST or NAME
csv_creds() {
	awk -F, -v ip="$2" -v n="$3" '
	    /^[ \t]*(#|$)/ { next }
	    { for (i = 1; i <= NF; i++) gsub(/^[ \t]+|[ \t\r]+$/, "", $i) }
	    $2 == ip || $1 == n { print $3, $4; exit }' "$1"
}

install_secondary() {
	local host=$secondary rec cmd rc creds out
	rec=$(grep "$RECORD_RE" "$R/etc/sf/patch_history" | tail -n 1)
	# hfremote puts the copy in a folder of its own (mktemp -d: nothing
	# a local user left in /var/tmp is used), runs it there and removes
	# the folder when the run ends, whatever its outcome
	cmd="sh ./$PROG --primary-record '$rec'"
	set -- "$P/libexec/hfremote" -p "$port" -u "$SELF:$PROG"
	[ -n "$known" ] && set -- "$@" -k "$known"
	[ -n "$acceptnew" ] && set -- "$@" -a
	say "installing on the secondary $PEER_NAME over SSH"
	if [ -n "$hacsv" ]; then
		[ -r "$hacsv" ] || die "$hacsv: cannot read"
		creds=$(csv_creds "$hacsv" "$PEER_IP" "$PEER_NAME")
		[ -n "$creds" ] ||
		    die "$hacsv: no row for the secondary $PEER_NAME ($PEER_IP)"
		host=$PEER_IP
		# the password goes through a pipe, never argv; after "--"
		# an address is an address, even one that starts with "-"
		out=$(printf '%s\n' "${creds#* }" |
		    "$@" -l "${creds%% *}" -P /dev/stdin -- "$host" "$cmd")
		rc=$?
		creds=
	else
		out=$("$@" -l "$login" -P "$pwfile" -- "$host" "$cmd")
		rc=$?
	fi
	[ -n "$out" ] && printf '%s\n' "$out"
	if [ "$rc" -ne 0 ]; then
		log ERROR "the secondary $PEER_NAME ($host): install failed (status $rc); installed here only"
		secondary_hint
		exit 1
	fi
	case $out in
	*"already installed"*) say "the secondary $PEER_NAME ($host) has $HOTFIX";;
	*) log INFO "the secondary $PEER_NAME ($host) has $HOTFIX";;
	esac
}

# --- main -----------------------------------------------------------------------
verify
check_fmc
case $mode in
check)
	check_run
	plan
	readiness
	;;
uninstall)
	[ "$HA_ROLE" = primary ] &&
	    say "note: uninstall from the secondary $PEER_NAME too"
	uninstall_here || exit 1
	;;
install)
	check_run
	check_order
	plan
	install_here
	if [ "$HA_ROLE" = primary ]; then
		if [ -n "$secondary" ] || [ -n "$hacsv" ]; then
			install_secondary
		else
			secondary_hint
		fi
	fi
	# the closing message of an install that changed something
	[ -n "$installed" ] && man_hint
	;;
esac
exit 0
