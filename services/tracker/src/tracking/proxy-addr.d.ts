// Minimal types for proxy-addr, the module express computes req.ip with (it ships none).
declare module 'proxy-addr' {
  import type { IncomingMessage } from 'node:http';
  namespace proxyaddr {
    type TrustFunction = (addr: string, index: number) => boolean;
  }
  function proxyaddr(req: IncomingMessage, trust: proxyaddr.TrustFunction): string;
  export = proxyaddr;
}
