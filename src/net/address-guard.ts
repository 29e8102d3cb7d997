import ipaddr from 'ipaddr.js';

/**
 * Which addresses an outbound fetch may reach. Only globally routable unicast addresses pass:
 * loopback, private, link-local (cloud metadata), CGNAT, multicast, broadcast, unspecified,
 * documentation, benchmarking and other reserved ranges are refused, in IPv4 and IPv6, and IPv6
 * forms that embed an IPv4 address (mapped, NAT64, 6to4, Teredo) are judged by that address.
 */
export class AddressGuard {
  private readonly allowed: [ipaddr.IPv4 | ipaddr.IPv6, number][];

  /** @param allowNetworks CIDRs let through despite the rules (e.g. `127.0.0.1/32` in tests). */
  constructor(allowNetworks: readonly string[] = []) {
    this.allowed = allowNetworks.map((cidr) => ipaddr.parseCIDR(cidr));
  }

  /** Why the address is refused, or `undefined` when it may be reached. */
  refusal(address: string): string | undefined {
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      parsed = ipaddr.parse(address);
    } catch {
      return 'not an IP address';
    }
    for (const [network, bits] of this.allowed) {
      if (parsed.kind() === network.kind() && parsed.match(network, bits)) return undefined;
    }
    if (parsed.kind() === 'ipv6') {
      const v6 = parsed as ipaddr.IPv6;
      const embedded = embeddedIPv4(v6);
      if (embedded !== undefined) return this.refusal(embedded.toString());
    }
    const range = parsed.range();
    return range === 'unicast' ? undefined : range;
  }
}

/** The IPv4 address inside IPv4-mapped, NAT64 (64:ff9b::/96), 6to4 (2002::/16) or Teredo forms. */
function embeddedIPv4(v6: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = v6.range();
  const parts = v6.parts;
  if (range === 'ipv4Mapped') return v6.toIPv4Address();
  if (range === 'rfc6052' || range === 'rfc6145') {
    return ipaddr.fromByteArray([
      parts[6]! >> 8,
      parts[6]! & 0xff,
      parts[7]! >> 8,
      parts[7]! & 0xff,
    ]) as ipaddr.IPv4;
  }
  if (range === '6to4')
    return ipaddr.fromByteArray([
      parts[1]! >> 8,
      parts[1]! & 0xff,
      parts[2]! >> 8,
      parts[2]! & 0xff,
    ]) as ipaddr.IPv4;
  if (range === 'teredo') {
    const a = parts[6]! ^ 0xffff;
    const b = parts[7]! ^ 0xffff;
    return ipaddr.fromByteArray([a >> 8, a & 0xff, b >> 8, b & 0xff]) as ipaddr.IPv4;
  }
  return undefined;
}
