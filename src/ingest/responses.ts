// Replies on the source ports, byte for byte as Icecast 2.4.4 sends them (reference §1.2, §1.6 and the
// captures): clients and scripts written against Icecast parse these exact strings.

export const SOURCE_OK = Buffer.from('HTTP/1.0 200 OK\r\n\r\n', 'latin1');
export const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n', 'latin1');
export const SHOUTCAST_OK = Buffer.from('OK2\r\nicy-caps:11\r\n\r\n', 'latin1');

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Authentication Required',
  403: 'Forbidden',
  404: 'File Not Found',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  503: 'Service Unavailable',
};

/** The header block every Icecast reply other than SOURCE/100/OK2 carries. */
function icecastHeaders(status: number, contentType: string, extra: readonly string[], now: Date): string {
  return [
    `HTTP/1.0 ${status} ${STATUS_TEXT[status] ?? 'Error'}`,
    'Server: Icecast 2.4.4',
    'Connection: Close',
    `Date: ${now.toUTCString()}`,
    `Content-Type: ${contentType}`,
    ...extra.filter((h) => h.startsWith('WWW-Authenticate')),
    'Cache-Control: no-cache, no-store',
    'Expires: Mon, 26 Jul 1997 05:00:00 GMT',
    'Pragma: no-cache',
    'Access-Control-Allow-Origin: *',
    ...extra.filter((h) => !h.startsWith('WWW-Authenticate')),
    '',
    '',
  ].join('\r\n');
}

/** `401 Authentication Required` with Icecast's realm, as libshout's probe expects. */
export function unauthorized(now = new Date()): Buffer {
  return Buffer.from(
    icecastHeaders(401, 'text/plain; charset=utf-8', ['WWW-Authenticate: Basic realm="Icecast2 Server"'], now) +
      'You need to authenticate\r\n',
    'utf8',
  );
}

/** A plain-text error (Icecast's client_send_403 and friends: the message is the whole body). */
export function plainError(status: number, message: string, now = new Date()): Buffer {
  return Buffer.from(icecastHeaders(status, 'text/plain; charset=utf-8', [], now) + message, 'utf8');
}

/** An HTML error page, as Icecast sends for 400 "Unrecognised command" and 404. */
export function htmlError(status: number, message: string, now = new Date()): Buffer {
  const body = `<html><head><title>Error ${status}</title></head><body><b>${status} - ${message}</b></body></html>\r\n`;
  return Buffer.from(icecastHeaders(status, 'text/html; charset=utf-8', [], now) + body, 'utf8');
}

export const notFound = (now = new Date()): Buffer => htmlError(404, 'The file you requested could not be found', now);

/** `/admin/metadata` reply: Icecast's XML with Content-Length. */
export function adminXml(message: string, ok: boolean, now = new Date()): Buffer {
  const body = `<?xml version="1.0"?>\n<iceresponse><message>${message}</message><return>${ok ? 1 : 0}</return></iceresponse>\n`;
  const len = Buffer.byteLength(body, 'utf8');
  return Buffer.from(icecastHeaders(200, 'text/xml; charset=utf-8', [`Content-Length: ${len}`], now) + body, 'utf8');
}

/** `/admin.cgi` (Shoutcast-style) success reply: HTML, no Content-Length. */
export function shoutcastAdminOk(now = new Date()): Buffer {
  const body = '<html><head><title>Admin request successful</title></head><body><p>Metadata update successful</p></body></html>';
  return Buffer.from(icecastHeaders(200, 'text/html; charset=utf-8', [], now) + body, 'utf8');
}
