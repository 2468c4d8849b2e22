#!/usr/bin/env bash
# imds-block.sh: drop traffic from bridged pods to IMDS on a self-managed EKS node.
#
# Inserts, once, at the top of the filter FORWARD chain:
#   iptables -I FORWARD 1 -i eni+ -d 169.254.169.254/32 -j DROP
# and installs imds-block.service, a systemd oneshot unit that re-applies the
# rule at every boot before the kubelet starts. Safe to run any number of times.
#
# Why FORWARD: traffic from a pod's veth is routed through the host, so it
# crosses FORWARD. The node's own IMDS calls (kubelet, aws-node, SSM agent) and
# hostNetwork pods are local traffic (OUTPUT) and are NOT affected, so they keep
# working, and they are NOT protected either (see README.md).
#
# Why a full DROP to the /32, not just tcp/80: nothing else legitimate lives at
# that address, and a port match would miss any future IMDS port.
#
# Usage: imds-block.sh [--dry-run] [--apply-only]
#   --dry-run     print the commands that would change the node; run only
#                 read-only checks (iptables -C, systemctl is-enabled).
#                 Same as DRY_RUN=1.
#   --apply-only  apply the rule, skip installing the systemd unit (the unit
#                 itself runs this).
#
# Environment (defaults in brackets):
#   IMDS_IFACE    input interface pattern of pod traffic [eni+]; VPC CNI names
#                 pod veths eni*, Calico cali*, Cilium lxc*
#   IPTABLES      iptables command [iptables]; tests point it at a fake
#   SYSTEMCTL     systemctl command [systemctl]
#   SYSTEMD_DIR   where the unit is written [/etc/systemd/system]
#   SCRIPT_DEST   where this script is installed for the unit [/usr/local/sbin/imds-block.sh]
#   DRY_RUN       1 = dry run [0]
set -euo pipefail

readonly IMDS_CIDR="169.254.169.254/32"
readonly UNIT_NAME="imds-block.service"

IMDS_IFACE="${IMDS_IFACE:-eni+}"
IPTABLES="${IPTABLES:-iptables}"
SYSTEMCTL="${SYSTEMCTL:-systemctl}"
SYSTEMD_DIR="${SYSTEMD_DIR:-/etc/systemd/system}"
SCRIPT_DEST="${SCRIPT_DEST:-/usr/local/sbin/imds-block.sh}"
DRY_RUN="${DRY_RUN:-0}"
APPLY_ONLY=0

log() { printf 'imds-block: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,/^set -euo pipefail/{/^set /d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

# Run a command that changes the node, or print it in dry-run mode.
run() {
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '[dry-run]'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

parse_args() {
  while (($#)); do
    case "$1" in
      --dry-run) DRY_RUN=1 ;;
      --apply-only | --no-install) APPLY_ONLY=1 ;;
      -h | --help) usage; exit 0 ;;
      *) usage >&2; die "unknown argument: $1" ;;
    esac
    shift
  done
  [[ "$DRY_RUN" == 0 || "$DRY_RUN" == 1 ]] || die "DRY_RUN must be 0 or 1, got '$DRY_RUN'"
  # Interface names are at most 15 characters; a trailing `+` is iptables'
  # wildcard. Validated strictly because the value is also written into the unit.
  [[ "$IMDS_IFACE" =~ ^[A-Za-z0-9_.-]+\+?$ && ${#IMDS_IFACE} -le 15 ]] ||
    die "IMDS_IFACE must be an interface name or prefix+ (e.g. eni+), got '$IMDS_IFACE'"
  # ExecStart= needs an absolute path without spaces.
  [[ "$SCRIPT_DEST" =~ ^/[A-Za-z0-9_./-]+$ ]] ||
    die "SCRIPT_DEST must be an absolute path without spaces, got '$SCRIPT_DEST'"
}

# The rule, without the chain/position. Exactly the same spec for -C and -I,
# otherwise -C never matches and every run inserts a duplicate.
rule_spec() {
  RULE=(-i "$IMDS_IFACE" -d "$IMDS_CIDR" -j DROP)
}

apply_rule() {
  rule_spec
  command -v "$IPTABLES" >/dev/null 2>&1 || {
    [[ "$DRY_RUN" == 1 ]] || die "iptables command not found: $IPTABLES"
  }
  # -w: wait for the xtables lock instead of failing while kube-proxy or the
  # CNI is writing rules. -C exits 0 if present, 1 if absent, other = error.
  local rc=0
  "$IPTABLES" -w 5 -C FORWARD "${RULE[@]}" >/dev/null 2>&1 || rc=$?
  case "$rc" in
    0)
      log "rule already present: FORWARD ${RULE[*]}"
      ;;
    1)
      log "inserting rule at FORWARD position 1: ${RULE[*]}"
      run "$IPTABLES" -w 5 -I FORWARD 1 "${RULE[@]}"
      ;;
    *)
      # In dry-run the check may be impossible (no iptables, not root):
      # show what would be done rather than failing.
      [[ "$DRY_RUN" == 1 ]] || die "'$IPTABLES -C FORWARD' failed with exit code $rc"
      log "could not check the rule (exit $rc); assuming absent"
      run "$IPTABLES" -w 5 -I FORWARD 1 "${RULE[@]}"
      ;;
  esac
}

unit_content() {
  cat <<EOF
# Installed by imds-block.sh (imds-guard). Re-applies the IMDS drop rule at boot.
[Unit]
Description=imds-guard: drop pod traffic to IMDS (${IMDS_CIDR}) in iptables FORWARD
Wants=network-online.target
After=network-online.target containerd.service
Before=kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
Environment=IMDS_IFACE=${IMDS_IFACE}
ExecStart=${SCRIPT_DEST} --apply-only

[Install]
WantedBy=multi-user.target
EOF
}

install_unit() {
  local self unit changed=0
  self="$(readlink -f "${BASH_SOURCE[0]}" 2>/dev/null || true)"
  unit="${SYSTEMD_DIR}/${UNIT_NAME}"

  # The unit runs a stable copy of this script, not the cloud-init temp file.
  if [[ "$self" != "$(readlink -f "$SCRIPT_DEST" 2>/dev/null || true)" ]]; then
    [[ -f "$self" ]] || die "cannot install: script source not found (piped to bash?)"
    if ! cmp -s "$self" "$SCRIPT_DEST"; then
      run install -D -m 0755 "$self" "$SCRIPT_DEST"
    fi
  fi

  if [[ "$(cat "$unit" 2>/dev/null || true)" != "$(unit_content)" ]]; then
    changed=1
    if [[ "$DRY_RUN" == 1 ]]; then
      printf '[dry-run] write %s:\n' "$unit"
      unit_content | sed 's/^/    /'
    else
      mkdir -p "$SYSTEMD_DIR"
      unit_content >"${unit}.tmp"
      mv -f "${unit}.tmp" "$unit"
      log "wrote $unit"
    fi
  fi

  if [[ "$DRY_RUN" == 0 ]]; then
    command -v "$SYSTEMCTL" >/dev/null 2>&1 ||
      die "systemctl not found: rule applied but it will NOT survive a reboot"
  fi
  if ((changed)); then
    run "$SYSTEMCTL" daemon-reload
  fi
  if ! "$SYSTEMCTL" is-enabled --quiet "$UNIT_NAME" >/dev/null 2>&1; then
    # enable, not --now: the rule was applied above; the unit is for reboots.
    run "$SYSTEMCTL" enable "$UNIT_NAME"
  fi
}

main() {
  parse_args "$@"
  if [[ "$DRY_RUN" == 1 ]]; then
    log "dry run: printing commands instead of changing the node"
  fi
  apply_rule
  if [[ "$APPLY_ONLY" == 0 ]]; then
    install_unit
  fi
}

main "$@"
