/** IPv4 addresses no host and no VIP may have, as data: each range with why. */
import ipaddr from 'ipaddr.js';

/**
 * Ranges refused as a host address or VIP, first match wins. Loopback addresses other than 127.0.0.1 stay
 * allowed: single-machine tests run every member on 127.0.x.y. Addresses ending in .0 or .255 are not refused:
 * without the hosts' netmask they can be ordinary addresses (10.0.1.0 in a /16).
 */
export const UNUSABLE_ADDRESSES: readonly { cidr: string; why: string }[] = [
  { cidr: '0.0.0.0/8', why: 'an unspecified ("this network") address, not a host address' },
  {
    cidr: '127.0.0.1/32',
    why: "every machine's own loopback address, where etcd, kubelet and the haproxy stats page already listen on each host: use the address other hosts reach it on (single-machine tests may use another loopback address such as 127.0.1.1)",
  },
  { cidr: '255.255.255.255/32', why: 'the broadcast address, not a host address' },
  { cidr: '224.0.0.0/4', why: 'a multicast address, not a host address' },
  { cidr: '240.0.0.0/4', why: 'a reserved address (240.0.0.0/4), not usable by hosts' },
];

/** Why an address cannot be a host address or VIP, or null when it can. */
export function unusableAddress(address: string): string | null {
  const ip = ipaddr.IPv4.parse(address);
  const hit = UNUSABLE_ADDRESSES.find(({ cidr }) => ip.match(ipaddr.IPv4.parseCIDR(cidr)));
  return hit ? `${address} is ${hit.why}` : null;
}
