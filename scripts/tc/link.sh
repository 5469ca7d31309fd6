#!/usr/bin/env bash
# A shaped point-to-point link between two network namespaces (see README.md here).
#
#   link.sh up   NAME RATE_KBIT [QUEUE_MS] [BURST_BYTES]
#   link.sh set  NAME RATE_KBIT [both|a2b|b2a]
#   link.sh down NAME
#   link.sh show NAME
#
# `up` creates namespaces NAME-a and NAME-b joined by a veth pair (interface NAME-a in
# NAME-a, NAME-b in NAME-b) with addresses 10.X.Y.1/30 (a) and 10.X.Y.2/30 (b), X.Y
# derived from NAME, and puts a tbf qdisc on the egress of BOTH veth ends, so each
# direction is a RATE_KBIT tail-drop bottleneck:
#   rate   RATE_KBIT (1 kbit = 1000 bit/s), counting IP bytes (the 14-byte Ethernet
#          header is taken off with a size table, `stab overhead -14`)
#   limit  RATE_KBIT * QUEUE_MS / 8 bytes, at least 2 MTU (QUEUE_MS default 100)
#   burst  max(2 MTU, RATE_KBIT * 5 ms / 8) bytes unless BURST_BYTES is given
# `set` changes the rate (tc qdisc change) keeping the queue in ms and the burst rule.
# `down` ends every process left in the two namespaces and deletes them (which deletes
# the veth and its qdiscs). It only touches links this script made: NAME must start
# with `tb-` and the namespaces must carry our veth or our state file.
#
# State: /run/tb-link/NAME (KEY=VALUE lines), override the directory with
# TB_LINK_STATE_DIR. TB_LINK_OWNER=PID records the process owning the link, so that
# ShapedLink.sweepStale() (src/emulation/netns.ts) can remove links of dead owners.
set -uo pipefail

STATE_DIR=${TB_LINK_STATE_DIR:-/run/tb-link}
MTU=1500
L2_HEADER=14

die() { echo "link.sh: $*" >&2; exit 1; }
usage() {
  echo "usage: link.sh up NAME RATE_KBIT [QUEUE_MS] [BURST_BYTES] | set NAME RATE_KBIT [both|a2b|b2a] | down NAME | show NAME" >&2
  exit 2
}

# Runs a command; on failure prints "link.sh: CMD failed: STDERR" and returns 1.
run() {
  local out
  if ! out=$("$@" 2>&1); then
    echo "link.sh: '$*' failed: ${out//$'\n'/ }" >&2
    return 1
  fi
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

check_env() {
  [[ $(id -u) == 0 ]] || die "must run as root (uid $(id -u)): network namespaces and tc need CAP_NET_ADMIN"
  command -v ip >/dev/null || die "'ip' not found (apt-get install iproute2)"
  command -v tc >/dev/null || die "'tc' not found (apt-get install iproute2)"
  local out
  out=$(ip netns list 2>&1) || die "'ip netns list' failed: $out"
}

check_name() {
  local name=$1
  [[ $name =~ ^tb-[a-z0-9][a-z0-9-]*$ ]] || die "NAME must start with 'tb-' followed by [a-z0-9-] (got '$name')"
  (( ${#name} <= 13 )) || die "NAME '$name' is too long: NAME-a must fit an interface name (13 characters at most)"
}

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$1"; }

# Addresses: 10.X.Y.1/30 and 10.X.Y.2/30 with X.Y from a checksum of NAME.
addresses() {
  local h x y
  h=$(printf '%s' "$1" | cksum | cut -d' ' -f1)
  x=$(( (h >> 8) & 255 )); y=$(( h & 255 ))
  ADDR_A="10.$x.$y.1"; ADDR_B="10.$x.$y.2"
}

limit_bytes() { # RATE_KBIT QUEUE_MS
  local l=$(( $1 * $2 / 8 ))
  (( l < 2 * MTU )) && l=$(( 2 * MTU ))
  echo "$l"
}

burst_bytes() { # RATE_KBIT [BURST_BYTES]
  if [[ -n ${2:-} ]]; then echo "$2"; return; fi
  local b=$(( $1 * 5 / 8 ))
  (( b < 2 * MTU )) && b=$(( 2 * MTU ))
  echo "$b"
}

# tbf on NS's interface DEV (add|change). The size table must be given on every change:
# a `tc qdisc change` without `stab` removes it.
shape() { # add|change NS DEV RATE_KBIT LIMIT BURST
  run tc -n "$2" qdisc "$1" dev "$3" root stab overhead -$L2_HEADER \
    tbf rate "${4}kbit" burst "$6" limit "$5"
}

load_state() { # NAME -> sets QUEUE_MS BURST_ARG RATE_A2B RATE_B2A
  local f="$STATE_DIR/$1"
  [[ -f $f ]] || return 1
  QUEUE_MS=100; BURST_ARG=; RATE_A2B=; RATE_B2A=
  local key val
  while IFS='=' read -r key val; do
    case $key in
      QUEUE_MS) QUEUE_MS=$val ;;
      BURST_BYTES) BURST_ARG=$val ;;
      RATE_A2B_KBIT) RATE_A2B=$val ;;
      RATE_B2A_KBIT) RATE_B2A=$val ;;
    esac
  done < "$f"
}

write_state() { # NAME
  mkdir -p "$STATE_DIR" && cat > "$STATE_DIR/$1.tmp" <<STATE && mv "$STATE_DIR/$1.tmp" "$STATE_DIR/$1"
NAME=$1
NS_A=$1-a
NS_B=$1-b
IF_A=$1-a
IF_B=$1-b
ADDR_A=$ADDR_A
ADDR_B=$ADDR_B
PREFIX_LEN=30
RATE_A2B_KBIT=$RATE_A2B
RATE_B2A_KBIT=$RATE_B2A
QUEUE_MS=$QUEUE_MS
BURST_BYTES=$BURST_ARG
OWNER_PID=${TB_LINK_OWNER:-}
STATE
}

# Ours: state file present, or namespace NAME-a holds our veth NAME-a.
is_ours() {
  [[ -f $STATE_DIR/$1 ]] && return 0
  ns_exists "$1-a" && ip -n "$1-a" -o link show dev "$1-a" 2>/dev/null | grep -q 'veth\|link/ether'
}

# Running and not a zombie (an orphan's zombie waits for a reaper that may be slow).
alive_pid() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [[ ${stat##*) } != Z* ]]
}

kill_ns_pids() { # NS...
  local ns pids=() i
  for ns in "$@"; do
    ns_exists "$ns" || continue
    mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$ns" 2>/dev/null | grep -vx -e "$$" -e "$BASHPID")
  done
  (( ${#pids[@]} )) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null
  for i in $(seq 10); do
    local alive=()
    for p in "${pids[@]}"; do alive_pid "$p" && alive+=("$p"); done
    (( ${#alive[@]} )) || return 0
    sleep 0.1
  done
  kill -KILL "${alive[@]}" 2>/dev/null
  return 0
}

cmd_down() {
  local name=$1
  check_name "$name"
  if ! ns_exists "$name-a" && ! ns_exists "$name-b"; then
    rm -f "$STATE_DIR/$name"
    echo "link $name: not up"
    return 0
  fi
  is_ours "$name" || die "refusing to remove $name-a/$name-b: not created by link.sh (no state file $STATE_DIR/$name, no veth $name-a)"
  kill_ns_pids "$name-a" "$name-b"
  local ok=0 ns
  for ns in "$name-a" "$name-b"; do
    if ns_exists "$ns"; then run ip netns delete "$ns" || ok=1; fi
  done
  rm -f "$STATE_DIR/$name"
  (( ok == 0 )) || exit 1
  echo "link $name down"
}

cmd_up() {
  local name=$1 rate=$2 queue_ms=${3:-100} burst_arg=${4:-}
  check_name "$name"
  is_uint "$rate" && (( rate > 0 )) || die "RATE_KBIT must be a positive integer (got '$rate')"
  is_uint "$queue_ms" || die "QUEUE_MS must be a non-negative integer (got '$queue_ms')"
  if [[ -n $burst_arg ]]; then
    is_uint "$burst_arg" && (( burst_arg >= MTU )) || die "BURST_BYTES must be an integer >= $MTU (got '$burst_arg')"
  fi
  if ns_exists "$name-a" || ns_exists "$name-b"; then die "link $name already exists (link.sh down $name)"; fi
  addresses "$name"
  local limit burst
  limit=$(limit_bytes "$rate" "$queue_ms")
  burst=$(burst_bytes "$rate" "$burst_arg")

  # From here on, undo on failure what this invocation created (and only that).
  CREATED=()
  trap 'for ns in "${CREATED[@]}"; do ip netns delete "$ns" 2>/dev/null; done' EXIT
  run ip netns add "$name-a" || exit 1
  CREATED+=("$name-a")
  run ip netns add "$name-b" || exit 1
  CREATED+=("$name-b")
  run ip link add "$name-a" netns "$name-a" mtu $MTU type veth peer name "$name-b" netns "$name-b" mtu $MTU || exit 1
  local side ns addr
  for side in a b; do
    ns=$name-$side
    [[ $side == a ]] && addr=$ADDR_A || addr=$ADDR_B
    # IPv4 only: no IPv6 router solicitations or DAD sharing the bottleneck.
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ns.disable_ipv6=1" >/dev/null 2>&1
    run ip -n "$ns" addr add "$addr/30" dev "$ns" || exit 1
    run ip -n "$ns" link set lo up || exit 1
    run ip -n "$ns" link set "$ns" up || exit 1
    shape add "$ns" "$ns" "$rate" "$limit" "$burst" || exit 1
  done
  RATE_A2B=$rate; RATE_B2A=$rate; QUEUE_MS=$queue_ms; BURST_ARG=$burst_arg
  write_state "$name" || die "cannot write state file $STATE_DIR/$name"
  trap - EXIT
  echo "link $name up: $name-a $ADDR_A/30 <-> $name-b $ADDR_B/30, ${rate} kbit/s each way (IP bytes), tail-drop queue $limit B (${queue_ms} ms), burst $burst B"
}

cmd_set() {
  local name=$1 rate=$2 dir=${3:-both}
  check_name "$name"
  is_uint "$rate" && (( rate > 0 )) || die "RATE_KBIT must be a positive integer (got '$rate')"
  [[ $dir == both || $dir == a2b || $dir == b2a ]] || die "direction must be both, a2b or b2a (got '$dir')"
  ns_exists "$name-a" && ns_exists "$name-b" || die "link $name is not up"
  load_state "$name" || die "link $name has no state file $STATE_DIR/$name: not created by link.sh"
  local limit burst
  limit=$(limit_bytes "$rate" "$QUEUE_MS")
  burst=$(burst_bytes "$rate" "$BURST_ARG")
  # a -> b traffic leaves through a's veth, b -> a through b's.
  if [[ $dir != b2a ]]; then shape change "$name-a" "$name-a" "$rate" "$limit" "$burst" || exit 1; RATE_A2B=$rate; fi
  if [[ $dir != a2b ]]; then shape change "$name-b" "$name-b" "$rate" "$limit" "$burst" || exit 1; RATE_B2A=$rate; fi
  local OWNER_KEEP
  OWNER_KEEP=$(sed -n 's/^OWNER_PID=//p' "$STATE_DIR/$name")
  addresses "$name"
  TB_LINK_OWNER=$OWNER_KEEP write_state "$name" || die "cannot write state file $STATE_DIR/$name"
  echo "link $name: $dir ${rate} kbit/s, tail-drop queue $limit B (${QUEUE_MS} ms), burst $burst B"
}

cmd_show() {
  local name=$1
  check_name "$name"
  ns_exists "$name-a" || die "link $name is not up"
  [[ -f $STATE_DIR/$name ]] && cat "$STATE_DIR/$name"
  echo "# a -> b ($name-a egress)"; tc -n "$name-a" -d -s qdisc show dev "$name-a"
  echo "# b -> a ($name-b egress)"; tc -n "$name-b" -d -s qdisc show dev "$name-b"
}

(( $# >= 1 )) || usage
cmd=$1; shift
case $cmd in
  up)   (( $# >= 2 && $# <= 4 )) || usage; check_env; cmd_up "$@" ;;
  set)  (( $# >= 2 && $# <= 3 )) || usage; check_env; cmd_set "$@" ;;
  down) (( $# == 1 )) || usage; check_env; cmd_down "$1" ;;
  show) (( $# == 1 )) || usage; check_env; cmd_show "$1" ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
