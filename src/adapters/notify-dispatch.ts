// Notification transport that routes each endpoint by URI scheme: http/https → HTTP, mqtt/mqtts → MQTT (guide §14.4–14.5).
import { deliveryFailure, type DeliveryMessage, type DeliveryOutcome, type NotificationTransport } from '../ports/notifier.ts';

export interface DispatchTransports {
  http: NotificationTransport;
  mqtt: NotificationTransport;
}

/** The scheme of an endpoint URI in lower case, without the colon; null when there is none. */
function schemeOf(endpoint: string): string | null {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(endpoint);
  return m ? m[1]!.toLowerCase() : null;
}

export function createDispatchTransport(transports: DispatchTransports): NotificationTransport {
  return {
    deliver(endpoint: string, message: DeliveryMessage, opts: { timeoutMs: number }): Promise<DeliveryOutcome> {
      const scheme = schemeOf(endpoint);
      if (scheme === 'http' || scheme === 'https') return transports.http.deliver(endpoint, message, opts);
      if (scheme === 'mqtt' || scheme === 'mqtts') return transports.mqtt.deliver(endpoint, message, opts);
      return Promise.resolve(deliveryFailure(`no notification transport for ${scheme === null ? 'endpoint ' + endpoint : `scheme ${scheme}:`}`, false));
    },
    async close(): Promise<void> {
      await Promise.all([transports.http.close(), transports.mqtt.close()]);
    },
  };
}
