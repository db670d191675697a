import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { TuttiError } from '@tutti/protocol';

/** HTTP error body: `{ error: <stable code>, message }`. */
export interface HttpErrorBody {
  error: string;
  message: string;
}

/** Root error handler: TuttiError → its status + `{ error: code, message }`. */
export function httpErrorHandler(
  err: FastifyError | Error,
  req: FastifyRequest,
  reply: FastifyReply,
): void {
  if (err instanceof TuttiError) {
    void reply
      .status(err.status)
      .send({ error: err.code, message: err.message } satisfies HttpErrorBody);
    return;
  }
  const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 500) req.log.error({ err }, 'request failed');
  const code =
    status === 413
      ? 'PAYLOAD_TOO_LARGE'
      : status === 415
        ? 'UNSUPPORTED_TYPE'
        : status < 500
          ? 'INVALID_REQUEST'
          : 'INTERNAL';
  void reply.status(status).send({
    error: code,
    message: status < 500 ? err.message : 'internal error',
  } satisfies HttpErrorBody);
}
