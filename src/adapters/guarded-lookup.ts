// The destination policy at DNS time, shared by every outgoing connection Kend makes (HTTP notifications,
// MQTT notifications, forwarded requests): a host name is refused when any address it resolves to is, so a
// name pointing at cloud metadata or a link-local address cannot slip past the check of the URL.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { checkResolvedAddress, type DestinationPolicy } from '../core/destination-policy.ts';

/** Error code of a connection the destination policy refused at DNS time. */
export const DESTINATION_REFUSED = 'EDESTREFUSED';

/** A lookup refusal: the destination policy, not the network, said no. */
export class DestinationRefused extends Error {
  override readonly name = 'DestinationRefused';
  readonly code = DESTINATION_REFUSED;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for net/tls/http that resolves like dns.lookup and refuses what the policy refuses. */
export function guardedLookup(policy: DestinationPolicy) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const a of addresses) {
        const refusal = checkResolvedAddress(policy, a.address, hostname);
        if (refusal !== null) return callback(new DestinationRefused(refusal), []);
      }
      if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      if (options.all === true) return callback(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
