#!/usr/bin/env bash
# Install the Debian packages ntm needs to build and test, only those that
# are missing.  Idempotent; prints what it installs.  Needs root (or sudo).
set -eu
pkgs=(
	build-essential pkg-config clang libclang-rt-14-dev valgrind
	libcmocka-dev libpcap-dev libsnmp-dev libevent-dev
	snmp snmpd smitools tshark tcpdump tcpreplay iproute2
	libdpdk-dev dpdk
	time softflowd pmacct
	chromium
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no, quietly.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "deps: installed ${missing[*]}"
