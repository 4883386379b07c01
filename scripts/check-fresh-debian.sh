#!/usr/bin/env bash
# Verify the README quickstart on a fresh, minimal Debian 12 (bookworm) system.
#
#   sudo scripts/check-fresh-debian.sh [REPO] [CHROOT_DIR]
#
#   REPO        git repository to clone (default: this repository); its `main`
#               branch is cloned, so only committed work is checked.
#   CHROOT_DIR  where the Debian system lives (default: /tmp/fresh-debian).
#               An existing bootstrapped system there is reused (apt caches and
#               packages already installed in it make reruns faster); delete the
#               directory first for a truly fresh check.
#
# Steps: debootstrap --variant=minbase bookworm, install only `make git` in the
# chroot, clone the repository, then run `make quickstart` and `make test`
# inside it (which install the remaining dependencies via scripts/install-deps.sh).
#
# Requirements: root (debootstrap, chroot, mount), network access to the Debian
# archive, and up to ~15 GB of free disk space. It takes a long time: the
# bootstrap and package downloads take minutes, and a full build of the project
# from scratch takes much longer.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "${1:-$SCRIPT_DIR/..}" && pwd)"
ROOT="${2:-/tmp/fresh-debian}"
MIRROR="http://deb.debian.org/debian"

if [[ "$(id -u)" -ne 0 ]]; then
  echo "check-fresh-debian: must be run as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive

step() { echo; echo "==> [$(date +%T)] $*"; }

# --- mounts, always undone on exit -----------------------------------------
MOUNTS=()
cleanup() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    umount -R "${MOUNTS[i]}" 2>/dev/null || umount -lR "${MOUNTS[i]}" || true
  done
}
trap cleanup EXIT

mount_in() {  # mount_in TARGET MOUNT-ARGS...
  local target="$ROOT$1"; shift
  mkdir -p "$target"
  if ! mountpoint -q "$target"; then
    mount "$@" "$target"
    MOUNTS+=("$target")
  fi
}

in_chroot() {
  chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    DEBIAN_FRONTEND=noninteractive \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    bash -c "$1"
}

# --- bootstrap ---------------------------------------------------------------
if [[ -f "$ROOT/etc/debian_version" ]]; then
  step "reusing existing Debian system in $ROOT ($(cat "$ROOT/etc/debian_version"))"
else
  if ! command -v debootstrap >/dev/null 2>&1; then
    step "installing debootstrap on the host"
    apt-get update
    apt-get install -y --no-install-recommends debootstrap
  fi
  step "debootstrap --variant=minbase bookworm $ROOT"
  time debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR"
fi

cat > "$ROOT/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
SOURCES
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"

mount_in /proc -t proc proc
mount_in /sys -t sysfs sysfs
mount_in /dev --rbind /dev
mount --make-rslave "$ROOT/dev"
mount_in /mnt/src --bind "$REPO"
mount -o remount,bind,ro "$ROOT/mnt/src"

# --- minimal tools, clone, quickstart, tests ---------------------------------
step "installing make git in the chroot"
time in_chroot 'apt-get update && apt-get install -y --no-install-recommends make git'

step "cloning $REPO (branch main) to /root/tailor"
in_chroot 'rm -rf /root/tailor &&
  git -c safe.directory="*" clone --branch main /mnt/src /root/tailor'

step "make quickstart"
time in_chroot 'cd /root/tailor && make quickstart'

step "make test"
time in_chroot 'cd /root/tailor && make test'

step "fresh Debian check passed"
