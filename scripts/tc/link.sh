#!/usr/bin/env bash
# A shaped point-to-point link between two network namespaces (see README.md here).
#
#   link.sh up    NAME [OPTIONS]                 create NAME-a <-> NAME-b
#   link.sh set   NAME [both|a2b|b2a] [OPTIONS]  change rate / delay / loss (tc change)
#   link.sh show  NAME                           state and qdisc counters
#   link.sh down  NAME                           end processes inside, delete everything
#   link.sh plan  NAME [OPTIONS]                 print the tc commands `up` would run
#   link.sh probe                                what this kernel offers (KEY=yes|no ...)
#   (old forms, still accepted: up NAME RATE_KBIT [QUEUE_MS] [BURST_BYTES];
#    set NAME RATE_KBIT [both|a2b|b2a])
#
# OPTIONS (a bare option applies to both directions; --a2b-X / --b2a-X to one):
#   --rate KBIT        capacity, 1 kbit = 1000 bit/s of IP bytes; 0 = outage
#   --delay-ms MS      one-way base delay (netem)       --loss-pct P  random loss (netem)
#   --queue-ms MS      tail-drop queue of MS at the rate (default 100), or
#   --queue-bytes B    a fixed byte limit                           (up only)
#   --burst BYTES      token bucket depth (default max(2 MTU, 5 ms at the rate)) (up only)
#   --qdisc tbf|htb    the shaper (default tbf)                     (up only)
#   --netem            put netem in even with no delay/loss, so `set` can add them (up only)
#
# a -> b traffic leaves through NAME-a's veth, so a2b is shaped on NAME-a's egress and
# b2a on NAME-b's. Queue, burst, qdisc and netem are fixed at `up`; rate, delay and loss
# change with `set` (one `tc -batch` per direction that changed, none if nothing did).
#
# State: /run/tb-link/NAME (KEY=VALUE lines), override the directory with
# TB_LINK_STATE_DIR. TB_LINK_OWNER=PID records the process owning the link, so that
# ShapedLink.sweepStale() (src/emulation/netns.ts) can remove links of dead owners.
# Every failure prints one line `link.sh: ...` on stderr and exits 1 (2 for usage).
set -uo pipefail

STATE_DIR=${TB_LINK_STATE_DIR:-/run/tb-link}
MTU=1500
L2_HEADER=14
# netem's own queue holds the packets in flight on the delay line: never the bottleneck.
NETEM_LIMIT=100000

die() { echo "link.sh: $*" >&2; exit 1; }
usage() {
  echo "usage: link.sh up|plan NAME [--rate K] [--a2b-rate K] [--b2a-rate K] [--delay-ms MS] [--loss-pct P] [--queue-ms MS|--queue-bytes B] [--burst B] [--qdisc tbf|htb] [--netem] | set NAME [both|a2b|b2a] [--rate K] [--delay-ms MS] [--loss-pct P] | show NAME | down NAME | probe" >&2
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
is_decimal() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }

check_env() {
  (( EUID == 0 )) || die "must run as root (uid $EUID): network namespaces and tc need CAP_NET_ADMIN (or run inside 'unshare --user --map-root-user --net --mount', see README.md)"
  command -v ip >/dev/null || die "'ip' not found (apt-get install iproute2)"
  command -v tc >/dev/null || die "'tc' not found (apt-get install iproute2)"
}

check_name() {
  local name=$1
  [[ $name =~ ^tb-[a-z0-9][a-z0-9-]*$ ]] || die "NAME must start with 'tb-' followed by [a-z0-9-] (got '$name')"
  (( ${#name} <= 13 )) || die "NAME '$name' is too long: NAME-a must fit an interface name (13 characters at most)"
}

# `ip netns add` makes /run/netns/NS; testing the file saves an exec per call.
ns_exists() { [[ -e /run/netns/$1 ]]; }

# Addresses: 10.X.Y.1/30 and 10.X.Y.2/30 with X.Y from a checksum of NAME.
addresses() {
  local h x y
  h=$(printf '%s' "$1" | cksum | cut -d' ' -f1)
  x=$(( (h >> 8) & 255 )); y=$(( h & 255 ))
  ADDR_A="10.$x.$y.1"; ADDR_B="10.$x.$y.2"
}

# Sets LIMIT (queue bytes) and BURST for RATE_KBIT: QUEUE_BYTES if set, else RATE × QUEUE_MS
# (≥ 2 MTU); BURST_ARG if set, else max(2 MTU, 5 ms at the rate). Globals, not $(...):
# `set` runs for every trace step, and each subshell is a fork.
sizes() { # RATE_KBIT
  if [[ -n $QUEUE_BYTES ]]; then LIMIT=$QUEUE_BYTES; else
    LIMIT=$(( $1 * QUEUE_MS / 8 ))
    (( LIMIT < 2 * MTU )) && LIMIT=$(( 2 * MTU ))
  fi
  if [[ -n $BURST_ARG ]]; then BURST=$BURST_ARG; else
    BURST=$(( $1 * 5 / 8 ))
    (( BURST < 2 * MTU )) && BURST=$(( 2 * MTU ))
  fi
  return 0
}

# Sets LINES to the tc batch lines (tc -n NS -batch -) that put one direction in a state.
#   dir_lines add|change DEV RATE DELAY LOSS NETEM_TOO
# Layout, handles fixed so that `change` finds what `add` made:
#   without netem: root 1: = shaper (stab on it)
#   with netem:    root 1: = netem (stab on it) -> parent 1:1 = shaper 2:
#   shaper tbf:    tbf's own byte-limited fifo is the queue
#   shaper htb:    class S:1 (rate = ceil) -> leaf bfifo S0: (the queue) or, in an
#                  outage, leaf blackhole S1:
# Outage (rate 0), which neither tbf nor htb accepts as a rate:
#   tbf: rate 8bit and burst 1 byte. Every packet is longer than the bucket, so tbf
#        drops each arrival (counted in `drops`) and never sends the packets already
#        queued; they leave when the rate comes back.
#   htb: the leaf is swapped for a blackhole qdisc, which drops every arrival; the
#        packets queued at the swap are discarded (counted as drops). A tiny htb rate
#        would let one packet through and charge it as a debt of many seconds that
#        blocks the class after the outage.
# A `tc qdisc change` without `stab` removes the size table: every root line has it.
dir_lines() {
  local action=$1 dev=$2 rate=$3 delay=$4 loss=$5 netem_too=$6
  local stab="stab overhead -$L2_HEADER" parent s
  sizes "$rate"
  local limit=$LIMIT burst=$BURST
  LINES=
  if (( NETEM )); then
    if (( netem_too )); then
      LINES+="qdisc $action dev $dev root handle 1: $stab netem limit $NETEM_LIMIT delay ${delay}ms loss ${loss}%"$'\n'
    fi
    parent="parent 1:1 handle 2:"; s=2
  else
    parent="root handle 1: $stab"; s=1
  fi
  if [[ $QDISC == tbf ]]; then
    if (( rate == 0 )); then
      LINES+="qdisc $action dev $dev $parent tbf rate 8bit burst 1 limit $limit"$'\n'
    else
      LINES+="qdisc $action dev $dev $parent tbf rate ${rate}kbit burst $burst limit $limit"$'\n'
    fi
    return
  fi
  # htb. The class needs a positive rate even when it starts in an outage.
  local crate=$rate
  (( crate == 0 )) && crate=1
  if [[ $action == add ]]; then
    LINES+="qdisc add dev $dev $parent htb default 1"$'\n'
    LINES+="class add dev $dev parent $s: classid $s:1 htb rate ${crate}kbit ceil ${crate}kbit burst $burst cburst $burst quantum $MTU"$'\n'
  elif (( rate > 0 )); then
    LINES+="class change dev $dev parent $s: classid $s:1 htb rate ${rate}kbit ceil ${rate}kbit burst $burst cburst $burst quantum $MTU"$'\n'
  fi
  # `replace` changes the bfifo in place (its packets stay) or swaps the leaf's kind.
  if (( rate == 0 )); then
    LINES+="qdisc replace dev $dev parent $s:1 handle ${s}1: blackhole"$'\n'
  else
    LINES+="qdisc replace dev $dev parent $s:1 handle ${s}0: bfifo limit $limit"$'\n'
  fi
}

# Applies lines to NS with one tc exec; names a missing netem/htb clearly.
apply_lines() { # NS LINES
  local out
  if ! out=$(tc -n "$1" -batch - <<< "$2" 2>&1); then
    out=${out//$'\n'/ }
    if [[ $out == *"kind is unknown"* ]]; then
      (( NETEM )) && [[ $2 == *netem* ]] && { echo "link.sh: netem is not available in this kernel ($out): cannot emulate delay or random loss; bring the link up without --delay-ms/--loss-pct/--netem" >&2; return 1; }
      echo "link.sh: qdisc $QDISC is not available in this kernel ($out)" >&2; return 1
    fi
    echo "link.sh: tc -n $1 -batch failed: $out" >&2
    return 1
  fi
}

# ---------------------------------------------------------------------------------
# Options

# Sets OPT_<FIELD>_<A2B|B2A> (RATE, DELAY, LOSS) and the up-only OPT_QUEUE_MS,
# OPT_QUEUE_BYTES, OPT_BURST, OPT_QDISC, OPT_NETEM from "$@" (empty = not given).
parse_opts() { # ALLOW_UP_ONLY ARGS...
  local up_only=$1; shift
  OPT_RATE_A2B=; OPT_RATE_B2A=; OPT_DELAY_A2B=; OPT_DELAY_B2A=; OPT_LOSS_A2B=; OPT_LOSS_B2A=
  OPT_QUEUE_MS=; OPT_QUEUE_BYTES=; OPT_BURST=; OPT_QDISC=; OPT_NETEM=0
  while (( $# )); do
    local opt=$1 val=${2:-} dirs field
    case $opt in
      --netem) (( up_only )) || die "--netem is fixed at 'up'"; OPT_NETEM=1; shift; continue ;;
      --queue-ms|--queue-bytes|--burst|--qdisc)
        (( up_only )) || die "$opt is fixed at 'up' (link.sh down, then up again)"
        (( $# >= 2 )) || die "$opt needs a value"
        case $opt in
          --queue-ms) is_uint "$val" || die "--queue-ms must be a non-negative integer (got '$val')"; OPT_QUEUE_MS=$val ;;
          --queue-bytes) is_uint "$val" && (( val >= MTU )) || die "--queue-bytes must be an integer >= $MTU (got '$val')"; OPT_QUEUE_BYTES=$val ;;
          --burst) is_uint "$val" && (( val >= MTU )) || die "--burst must be an integer >= $MTU (got '$val')"; OPT_BURST=$val ;;
          --qdisc) [[ $val == tbf || $val == htb ]] || die "--qdisc must be tbf or htb (got '$val')"; OPT_QDISC=$val ;;
        esac
        shift 2; continue ;;
    esac
    case $opt in
      --a2b-*) dirs=A2B; field=${opt#--a2b-} ;;
      --b2a-*) dirs="B2A"; field=${opt#--b2a-} ;;
      --*) dirs="A2B B2A"; field=${opt#--} ;;
      *) die "unexpected argument '$opt'" ;;
    esac
    (( $# >= 2 )) || die "$opt needs a value"
    case $field in
      rate) is_uint "$val" || die "$opt must be a non-negative integer kbit/s (got '$val')"; field=RATE ;;
      delay-ms) is_decimal "$val" || die "$opt must be a non-negative number of ms (got '$val')"; field=DELAY ;;
      loss-pct) is_decimal "$val" && awk -v p="$val" 'BEGIN { exit !(p <= 100) }' || die "$opt must be a percentage 0-100 (got '$val')"; field=LOSS ;;
      *) die "unknown option '$opt'" ;;
    esac
    local d
    for d in $dirs; do printf -v "OPT_${field}_$d" '%s' "$val"; done
    shift 2
  done
  [[ -z $OPT_QUEUE_MS || -z $OPT_QUEUE_BYTES ]] || die "give --queue-ms or --queue-bytes, not both"
}

# ---------------------------------------------------------------------------------
# State

load_state() { # NAME -> the variables write_state writes
  local f="$STATE_DIR/$1"
  [[ -f $f ]] || return 1
  QUEUE_MS=100; QUEUE_BYTES=; BURST_ARG=; QDISC=tbf; NETEM=0; OWNER_PID=
  RATE_A2B=; RATE_B2A=; DELAY_A2B=0; DELAY_B2A=0; LOSS_A2B=0; LOSS_B2A=0
  local key val
  while IFS='=' read -r key val; do
    case $key in
      QUEUE_MS) QUEUE_MS=$val ;;
      QUEUE_BYTES) QUEUE_BYTES=$val ;;
      BURST_BYTES) BURST_ARG=$val ;;
      QDISC) QDISC=$val ;;
      NETEM) NETEM=$val ;;
      OWNER_PID) OWNER_PID=$val ;;
      ADDR_A) ADDR_A=$val ;;
      ADDR_B) ADDR_B=$val ;;
      RATE_A2B_KBIT) RATE_A2B=$val ;;
      RATE_B2A_KBIT) RATE_B2A=$val ;;
      DELAY_A2B_MS) DELAY_A2B=$val ;;
      DELAY_B2A_MS) DELAY_B2A=$val ;;
      LOSS_A2B_PCT) LOSS_A2B=$val ;;
      LOSS_B2A_PCT) LOSS_B2A=$val ;;
    esac
  done < "$f"
}

write_state() { # NAME (bash builtins only: `set` runs this for every trace step)
  [[ -d $STATE_DIR ]] || mkdir -p "$STATE_DIR" || return 1
  printf '%s\n' "NAME=$1" "NS_A=$1-a" "NS_B=$1-b" "IF_A=$1-a" "IF_B=$1-b" \
    "ADDR_A=$ADDR_A" "ADDR_B=$ADDR_B" "PREFIX_LEN=30" "QDISC=$QDISC" "NETEM=$NETEM" \
    "RATE_A2B_KBIT=$RATE_A2B" "RATE_B2A_KBIT=$RATE_B2A" "DELAY_A2B_MS=$DELAY_A2B" "DELAY_B2A_MS=$DELAY_B2A" \
    "LOSS_A2B_PCT=$LOSS_A2B" "LOSS_B2A_PCT=$LOSS_B2A" "QUEUE_MS=$QUEUE_MS" "QUEUE_BYTES=$QUEUE_BYTES" \
    "BURST_BYTES=$BURST_ARG" "OWNER_PID=$OWNER_PID" > "$STATE_DIR/$1.tmp" || return 1
  mv "$STATE_DIR/$1.tmp" "$STATE_DIR/$1"
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

# ---------------------------------------------------------------------------------
# Commands

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

# From parsed options: the link's fixed parameters and each direction's first state.
settle_up_opts() {
  [[ -n $OPT_RATE_A2B && -n $OPT_RATE_B2A ]] || die "give --rate KBIT (or --a2b-rate and --b2a-rate)"
  QDISC=${OPT_QDISC:-tbf}
  QUEUE_BYTES=$OPT_QUEUE_BYTES; QUEUE_MS=${OPT_QUEUE_MS:-100}; BURST_ARG=$OPT_BURST
  RATE_A2B=$OPT_RATE_A2B; RATE_B2A=$OPT_RATE_B2A
  DELAY_A2B=${OPT_DELAY_A2B:-0}; DELAY_B2A=${OPT_DELAY_B2A:-0}
  LOSS_A2B=${OPT_LOSS_A2B:-0}; LOSS_B2A=${OPT_LOSS_B2A:-0}
  NETEM=$OPT_NETEM
  [[ -n $OPT_DELAY_A2B$OPT_DELAY_B2A$OPT_LOSS_A2B$OPT_LOSS_B2A ]] && NETEM=1
  return 0
}

# The old positional form `up NAME RATE [QUEUE_MS] [BURST]` as options.
legacy_up_args() { # RATE [QUEUE_MS] [BURST]
  LEGACY=(--rate "$1")
  [[ -n ${2:-} ]] && LEGACY+=(--queue-ms "$2")
  [[ -n ${3:-} ]] && LEGACY+=(--burst "$3")
  (( $# <= 3 )) || usage
}

describe() { # DIR RATE DELAY LOSS
  local what
  if (( $2 == 0 )); then what="outage"; else what="$2 kbit/s"; fi
  (( NETEM )) && what+=", delay $3 ms, loss $4 %"
  echo "$1 $what"
}

queue_text() {
  if [[ -n $QUEUE_BYTES ]]; then echo "tail-drop queue $QUEUE_BYTES B"; else echo "tail-drop queue of $QUEUE_MS ms"; fi
}

cmd_up() {
  local name=$1; shift
  check_name "$name"
  if [[ ${1:-} =~ ^[0-9]+$ ]]; then legacy_up_args "$@"; set -- "${LEGACY[@]}"; fi
  parse_opts 1 "$@"
  settle_up_opts
  if ns_exists "$name-a" || ns_exists "$name-b"; then die "link $name already exists (link.sh down $name)"; fi
  addresses "$name"
  OWNER_PID=${TB_LINK_OWNER:-}

  # From here on, undo on failure what this invocation created (and only that).
  CREATED=()
  trap 'for ns in "${CREATED[@]}"; do ip netns delete "$ns" 2>/dev/null; done' EXIT
  run ip netns add "$name-a" || exit 1
  CREATED+=("$name-a")
  run ip netns add "$name-b" || exit 1
  CREATED+=("$name-b")
  run ip link add "$name-a" netns "$name-a" mtu $MTU type veth peer name "$name-b" netns "$name-b" mtu $MTU || exit 1
  local side ns addr mac_a mac_b
  for side in a b; do
    ns=$name-$side
    [[ $side == a ]] && addr=$ADDR_A || addr=$ADDR_B
    # IPv4 only: no IPv6 router solicitations or DAD sharing the bottleneck.
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ns.disable_ipv6=1" >/dev/null 2>&1
    run ip -n "$ns" addr add "$addr/30" dev "$ns" || exit 1
    run ip -n "$ns" link set lo up || exit 1
    run ip -n "$ns" link set "$ns" up || exit 1
  done
  # Permanent neighbour entries: no ARP on the bottleneck, and an outage longer than
  # the neighbour timeouts does not turn into "host unreachable" errors at the sender.
  mac_b=$(ip -n "$name-b" -o link show dev "$name-b" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
  mac_a=$(ip -n "$name-a" -o link show dev "$name-a" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
  [[ -n $mac_a && -n $mac_b ]] || die "cannot read the veth MAC addresses"
  run ip -n "$name-a" neigh replace "$ADDR_B" lladdr "$mac_b" dev "$name-a" nud permanent || exit 1
  run ip -n "$name-b" neigh replace "$ADDR_A" lladdr "$mac_a" dev "$name-b" nud permanent || exit 1
  dir_lines add "$name-a" "$RATE_A2B" "$DELAY_A2B" "$LOSS_A2B" 1
  apply_lines "$name-a" "$LINES" || exit 1
  dir_lines add "$name-b" "$RATE_B2A" "$DELAY_B2A" "$LOSS_B2A" 1
  apply_lines "$name-b" "$LINES" || exit 1
  write_state "$name" || die "cannot write state file $STATE_DIR/$name"
  trap - EXIT
  echo "link $name up: $name-a $ADDR_A/30 <-> $name-b $ADDR_B/30, $QDISC, $(describe a2b "$RATE_A2B" "$DELAY_A2B" "$LOSS_A2B"); $(describe b2a "$RATE_B2A" "$DELAY_B2A" "$LOSS_B2A"); $(queue_text) (IP bytes)"
}

cmd_set() {
  local name=$1; shift
  check_name "$name"
  local dir=both
  if [[ ${1:-} =~ ^[0-9]+$ ]]; then # old form: set NAME RATE [DIR]
    local rate=$1; dir=${2:-both}; (( $# <= 2 )) || usage
    set -- --rate "$rate"
  elif [[ ${1:-} == both || ${1:-} == a2b || ${1:-} == b2a ]]; then
    dir=$1; shift
  fi
  [[ $dir == both || $dir == a2b || $dir == b2a ]] || die "direction must be both, a2b or b2a (got '$dir')"
  parse_opts 0 "$@"
  ns_exists "$name-a" && ns_exists "$name-b" || die "link $name is not up"
  load_state "$name" || die "link $name has no state file $STATE_DIR/$name: not created by link.sh"
  if [[ -n $OPT_DELAY_A2B$OPT_DELAY_B2A$OPT_LOSS_A2B$OPT_LOSS_B2A ]] && (( ! NETEM )); then
    die "link $name was brought up without netem: delay and loss cannot be set (up with --netem or --delay-ms 0)"
  fi
  local d summary=() changed=0
  for d in A2B B2A; do
    [[ $dir == both || ${dir^^} == "$d" ]] || continue
    local rv="RATE_$d" dv="DELAY_$d" lv="LOSS_$d" orv="OPT_RATE_$d" odv="OPT_DELAY_$d" olv="OPT_LOSS_$d"
    local rate=${!orv:-${!rv}} delay=${!odv:-${!dv}} loss=${!olv:-${!lv}}
    local netem_too=0
    [[ $delay != "${!dv}" || $loss != "${!lv}" ]] && netem_too=1
    # Nothing to do: tbf would refill its bucket for nothing.
    [[ $rate == "${!rv}" ]] && (( ! netem_too )) && continue
    local ns=$name-a
    [[ $d == B2A ]] && ns=$name-b
    dir_lines change "$ns" "$rate" "$delay" "$loss" "$netem_too"
    apply_lines "$ns" "$LINES" || exit 1
    printf -v "$rv" '%s' "$rate"; printf -v "$dv" '%s' "$delay"; printf -v "$lv" '%s' "$loss"
    summary+=("$(describe "${d,,}" "$rate" "$delay" "$loss")")
    changed=1
  done
  if (( changed )); then
    write_state "$name" || die "cannot write state file $STATE_DIR/$name"
    local IFS=';'
    echo "link $name: ${summary[*]}"
  else
    echo "link $name: unchanged"
  fi
}

cmd_plan() {
  local name=$1; shift
  check_name "$name"
  parse_opts 1 "$@"
  settle_up_opts
  echo "# $(describe a2b "$RATE_A2B" "$DELAY_A2B" "$LOSS_A2B"), $QDISC, $(queue_text)"
  dir_lines add "$name-a" "$RATE_A2B" "$DELAY_A2B" "$LOSS_A2B" 1
  printf '%s' "$LINES" | sed "s/^/tc -n $name-a /"
  echo "# $(describe b2a "$RATE_B2A" "$DELAY_B2A" "$LOSS_B2A"), $QDISC, $(queue_text)"
  dir_lines add "$name-b" "$RATE_B2A" "$DELAY_B2A" "$LOSS_B2A" 1
  printf '%s' "$LINES" | sed "s/^/tc -n $name-b /"
}

cmd_show() {
  local name=$1
  check_name "$name"
  ns_exists "$name-a" || die "link $name is not up"
  [[ -f $STATE_DIR/$name ]] && cat "$STATE_DIR/$name"
  echo "# a -> b ($name-a egress)"; tc -n "$name-a" -d -s qdisc show dev "$name-a"
  echo "# b -> a ($name-b egress)"; tc -n "$name-b" -d -s qdisc show dev "$name-b"
}

# What the kernel offers, one KEY=yes|no[ reason] line each, probed in a throwaway pair
# of namespaces: namespaces, veth, tbf, htb (with a bfifo leaf), blackhole (htb's
# outage), netem. Run as root, or inside an unprivileged user namespace (README.md).
cmd_probe() {
  PROBE=tb-q$$
  local p=$PROBE out
  report() { if [[ $2 == 0 ]]; then echo "$1=yes"; else echo "$1=no ${3//$'\n'/ }"; fi; }
  ip netns delete "$p-a" 2>/dev/null; ip netns delete "$p-b" 2>/dev/null
  out=$(ip netns add "$p-a" 2>&1 && ip netns add "$p-b" 2>&1); local rc=$?
  report namespaces $rc "$out"
  if (( rc != 0 )); then
    ip netns delete "$p-a" 2>/dev/null
    for k in veth tbf htb blackhole netem; do echo "$k=no needs namespaces"; done
    return 0
  fi
  trap 'ip netns delete "$PROBE-a" 2>/dev/null; ip netns delete "$PROBE-b" 2>/dev/null' EXIT
  out=$(ip link add "$p-a" netns "$p-a" type veth peer name "$p-b" netns "$p-b" 2>&1); rc=$?
  report veth $rc "$out"
  local dev=lo
  (( rc == 0 )) && dev=$p-a
  out=$(tc -n "$p-a" qdisc add dev "$dev" root handle 1: stab overhead -14 tbf rate 1000kbit burst 3000 limit 12500 2>&1 &&
        tc -n "$p-a" qdisc change dev "$dev" root handle 1: stab overhead -14 tbf rate 8bit burst 1 limit 12500 2>&1); rc=$?
  report tbf $rc "$out"
  tc -n "$p-a" qdisc del dev "$dev" root 2>/dev/null
  out=$(printf '%s\n' "qdisc add dev $dev root handle 1: htb default 1" "class add dev $dev parent 1: classid 1:1 htb rate 1000kbit ceil 1000kbit burst 3000 cburst 3000 quantum $MTU" "qdisc add dev $dev parent 1:1 handle 10: bfifo limit 12500" | tc -n "$p-a" -batch - 2>&1); rc=$?
  report htb $rc "$out"
  if (( rc == 0 )); then
    out=$(tc -n "$p-a" qdisc replace dev "$dev" parent 1:1 handle 11: blackhole 2>&1); rc=$?
    report blackhole $rc "$out"
  else
    echo "blackhole=no needs htb"
  fi
  tc -n "$p-a" qdisc del dev "$dev" root 2>/dev/null
  out=$(tc -n "$p-a" qdisc add dev lo root netem delay 1ms loss 1% 2>&1); rc=$?
  report netem $rc "$out"
  return 0
}

(( $# >= 1 )) || usage
cmd=$1; shift
case $cmd in
  up)    (( $# >= 2 )) || usage; check_env; cmd_up "$@" ;;
  set)   (( $# >= 2 )) || usage; check_env; cmd_set "$@" ;;
  down)  (( $# == 1 )) || usage; check_env; cmd_down "$1" ;;
  show)  (( $# == 1 )) || usage; check_env; cmd_show "$1" ;;
  plan)  (( $# >= 2 )) || usage; cmd_plan "$@" ;;
  probe) (( $# == 0 )) || usage; check_env; cmd_probe ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
