#!/usr/bin/env bash
# Install the Debian packages listed in deps/apt.txt that are missing; quick when none are.
# Services that packages would start at install time (snmpd, mariadb, postgresql, ...) are kept stopped:
# hospmon starts its own instances on loopback.
set -euo pipefail
list="$(dirname "$0")/apt.txt"
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | grep -v '^$')
missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "run as root or install sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
policy=/usr/sbin/policy-rc.d
made_policy=""
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null && $sudo chmod +x $policy && made_policy=1
fi
cleanup() { if [[ -n "$made_policy" ]]; then $sudo rm -f $policy; fi; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
