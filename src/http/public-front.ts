// How the server looks from outside: the one rule for the scheme, host and port of every public URL
// (playlists, status-json, Icecast admin stats, /api/nowplaying, /metrics labels) and for HSTS.
// Pure: the HTTP front feeds it the bound ports and the certificate's names.
import type { Config } from '../config/load.js';

export type Transport = 'http' | 'https';

export interface PublicFront {
  /** The configured public host name (default: the first certificate domain, else localhost). */
  readonly hostname: string;
  /** The port clients reach plain HTTP on. */
  readonly httpPort: number;
  /** The port clients reach HTTPS on, or undefined while HTTPS does not serve (no certificate yet). */
  readonly httpsPort: number | undefined;
  /** Names the serving certificate covers (configured domains first); empty without one. */
  readonly certificateNames: readonly string[];
}

/** The public front from the configuration and what is bound now (bound ports differ under port 0 or forwarding). */
export function publicFront(
  config: Pick<Config, 'publicHostname' | 'publicHttpPort' | 'publicHttpsPort'>,
  bound: { readonly http: number; readonly https?: number | undefined },
  certificateNames: readonly string[] = [],
): PublicFront {
  return {
    hostname: config.publicHostname,
    httpPort: config.publicHttpPort ?? bound.http,
    httpsPort: bound.https === undefined ? undefined : (config.publicHttpsPort ?? bound.https),
    certificateNames,
  };
}

/**
 * `scheme://host[:port]` for a client that came over `transport`. A request over HTTPS gets https URLs on
 * the HTTPS port (a browser on an HTTPS page cannot play http:// audio); a request over plain HTTP keeps
 * http URLs (hardware radios and relay edges that cannot do TLS asked over HTTP for a reason). The host of
 * an https URL is one the certificate names, or the client would refuse the handshake.
 */
export function publicOrigin(f: PublicFront, transport: Transport): string {
  if (transport === 'https' && f.httpsPort !== undefined) {
    const names = f.certificateNames;
    const host = names.length === 0 || covers(names, f.hostname) ? f.hostname : (names.find((n) => !n.startsWith('*.')) ?? f.hostname);
    return `https://${bracket(host)}${f.httpsPort === 443 ? '' : `:${f.httpsPort}`}`;
  }
  return `http://${bracket(f.hostname)}${f.httpPort === 80 ? '' : `:${f.httpPort}`}`;
}

/**
 * Whether HTTPS responses may carry Strict-Transport-Security. A browser that holds it rewrites
 * http://host[:80] to https://host[:443] and http://host:P to https://host:P (RFC 6797 §8.3), so it is
 * safe only when plain HTTP is public on 80 and HTTPS on 443; in any other layout it would send
 * browsers to a port that speaks no TLS (http://host:8000/listen/live.mp3 would stop playing).
 */
export function hstsApplies(f: PublicFront): boolean {
  return f.httpsPort === 443 && f.httpPort === 80;
}

function covers(names: readonly string[], host: string): boolean {
  const h = host.toLowerCase();
  return names.some((n) => n === h || (n.startsWith('*.') && h.split('.').length === n.split('.').length && h.endsWith(n.slice(1))));
}

/** IPv6 literals go in brackets in a URL. */
function bracket(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
