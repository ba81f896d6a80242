#!/bin/bash
# Check that tests send nothing off loopback (or outside namespaces they make themselves): run a command in a
# network namespace of its own whose only way out is a veth into a sink namespace that forwards nothing;
# nftables counts every packet routed there, by destination, protocol and port. Nothing leaves the machine.
# The kernel's own IPv6 link-local multicast on that veth (router solicitation, MLD) is not counted.
#   sudo tests/offloopback.sh "$PWD" .venv/bin/python -m pytest -q --deselect tests/test_demo.py \
#        --deselect tests/deploy/test_demo_dashboards.py
# Needs root, iproute2 and nftables (apt-get install nftables).
set -e
NS=hmaudit$$
SINK=hmsink$$
ip netns add $NS
ip netns add $SINK
trap 'ip netns del $NS; ip netns del $SINK' EXIT
ip -n $NS link set lo up
# The only way out leads into a sink namespace of our own, which forwards nothing.
ip -n $NS link add out0 type veth peer name in0 netns $SINK
ip -n $NS addr add 198.18.0.2/24 dev out0
ip -n $NS -6 addr add fd00:18::2/64 dev out0 nodad
ip -n $SINK addr add 198.18.0.1/24 dev in0
ip -n $SINK -6 addr add fd00:18::1/64 dev in0 nodad
ip -n $SINK link set in0 up
ip -n $NS link set out0 up
ip -n $NS route add default via 198.18.0.1 dev out0
ip -n $NS -6 route add default via fd00:18::1 dev out0
ip netns exec $NS nft -f - <<'NFT'
table inet audit {
  set v4 { type ipv4_addr . inet_proto . inet_service; flags dynamic; counter; }
  set v6 { type ipv6_addr . inet_proto . inet_service; flags dynamic; counter; }
  set v4other { type ipv4_addr . inet_proto; flags dynamic; counter; }
  set v6other { type ipv6_addr . inet_proto; flags dynamic; counter; }
  chain out {
    type filter hook output priority 0; policy accept;
    oifname "out0" meta l4proto { tcp, udp } add @v4 { ip daddr . meta l4proto . th dport }
    oifname "out0" meta l4proto { tcp, udp } add @v6 { ip6 daddr . meta l4proto . th dport }
    oifname "out0" meta l4proto != { tcp, udp } add @v4other { ip daddr . meta l4proto }
    oifname "out0" ip6 daddr != ff02::/16 meta l4proto != { tcp, udp } add @v6other { ip6 daddr . meta l4proto }
  }
}
NFT
cd "$1"; shift
set +e
ip netns exec $NS "$@"
rc=$?
echo "== pytest exit $rc"
echo "== packets routed off loopback (out0) by destination"
ip netns exec $NS nft list table inet audit
ip netns exec $NS cat /sys/class/net/out0/statistics/tx_packets | sed 's/^/out0 tx_packets: /'
