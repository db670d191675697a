// Upload tokens (?token=…), download tokens (?t=…) and whatever a later route adds travel
// in query strings; the request log must not keep them. Every query value is replaced (the
// parameter names stay, for debugging; a bare `?x` counts as a value): a rule that needs no list of sensitive names.

const REDACTED = '[redacted]';

/** `url` with every query parameter's value replaced by "[redacted]". */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      // A bare `?abc` may be a value too.
      return eq < 0 ? REDACTED : `${pair.slice(0, eq)}=${REDACTED}`;
    })
    .join('&');
  return `${url.slice(0, q)}?${redacted}`;
}

/** What the request serializer reads: a FastifyRequest (typed loosely, as Fastify does). */
interface LoggedRequest {
  method?: string;
  url?: string;
  headers?: Record<string, string | string[] | undefined>;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** Fastify's own request serializer, with the URL redacted. */
export function serializeRequest(req: LoggedRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: req.url === undefined ? undefined : redactUrl(req.url),
    version: req.headers?.['accept-version'],
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

type WithRedaction<T> = T & { serializers: { req: typeof serializeRequest } };

/** The Fastify `logger` option with the redacting request serializer added (false stays off). */
export function withLogRedaction<T extends object>(
  logger: boolean | T,
): false | WithRedaction<T | object> {
  if (logger === false) return false;
  const base: object = logger === true ? {} : logger;
  const existing = (base as { serializers?: object }).serializers;
  return { ...base, serializers: { ...existing, req: serializeRequest } };
}
