import {
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { bearerToken, secretsEqual } from '../constant-time.js';
import { SECURITY_OPTIONS, type SecurityOptions } from '../security-options.js';
import { pathOf, type HttpRequest } from '../http-request.js';

/** Header with the signing time, seconds since the epoch. */
export const SIGNATURE_TIMESTAMP_HEADER = 'x-relay-timestamp';
/**
 * Header with `sha256=` and the hex HMAC-SHA256 of
 * `timestamp + ".POST./rooms/" + roomId + "/result." + body`.
 */
export const SIGNATURE_HEADER = 'x-relay-signature';

/** Method and path of the result endpoint, as they enter the signed string. */
function resultRequestLine(roomId: string): string {
  return `POST./rooms/${roomId}/result`;
}

/**
 * Computes the signature a payment backend sends with a result: the hex
 * HMAC-SHA256, keyed with `RESULT_SIGNING_SECRET`, of the timestamp, the
 * method `POST`, the path `/rooms/{roomId}/result` and the exact request
 * body, joined with dots. The room id is signed so that a captured request
 * cannot be replayed against another room.
 */
export function signResult(
  secret: string,
  timestamp: number,
  roomId: string,
  body: string | Buffer,
): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestamp}.${resultRequestLine(roomId)}.`);
  hmac.update(body);
  return `sha256=${hmac.digest('hex')}`;
}

/**
 * Authenticates `POST /rooms/:roomId/result`: `Authorization: Bearer
 * <RESULT_API_KEY>` always, and with `RESULT_SIGNING_SECRET` also a
 * signature whose timestamp lies within `RESULT_SIGNATURE_TOLERANCE_S` of
 * the server's clock. Every comparison takes constant time. The signature
 * covers the room id, so a replay inside the window can only target the
 * same room, which already recorded its `eventId`.
 */
@Injectable()
export class ResultAuthGuard implements CanActivate {
  private readonly logger = new Logger(ResultAuthGuard.name);

  constructor(
    @Inject(SECURITY_OPTIONS) private readonly options: SecurityOptions,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const { resultApiKey, resultSigningSecret } = this.options;
    if (resultApiKey === undefined) {
      throw new NotFoundException(
        'The result endpoint is disabled: the server has no RESULT_API_KEY',
      );
    }

    const request = context.switchToHttp().getRequest<HttpRequest>();
    const presented = bearerToken(request.headers.authorization);
    if (presented === undefined || !secretsEqual(presented, resultApiKey)) {
      return this.reject(
        request,
        'Authorization: Bearer <RESULT_API_KEY> is missing or wrong',
      );
    }
    if (resultSigningSecret === undefined) {
      return true;
    }

    const timestampHeader = request.headers[SIGNATURE_TIMESTAMP_HEADER];
    const signature = request.headers[SIGNATURE_HEADER];
    if (typeof timestampHeader !== 'string' || typeof signature !== 'string') {
      return this.reject(
        request,
        `Signed results need the ${SIGNATURE_TIMESTAMP_HEADER} and ${SIGNATURE_HEADER} headers`,
      );
    }
    const timestamp = /^\d{1,12}$/.test(timestampHeader)
      ? Number(timestampHeader)
      : NaN;
    const skew = Math.abs(Date.now() / 1000 - timestamp);
    if (
      !Number.isFinite(skew) ||
      skew > this.options.resultSignatureToleranceSeconds
    ) {
      return this.reject(
        request,
        `${SIGNATURE_TIMESTAMP_HEADER} must be the current time in seconds since the epoch, within ${this.options.resultSignatureToleranceSeconds} s (RESULT_SIGNATURE_TOLERANCE_S)`,
      );
    }
    // Express decodes the path parameter, so `/rooms/%41/result` is signed
    // as room `A`: the signature binds the room that records the result.
    const roomId = request.params?.roomId ?? '';
    const expected = signResult(
      resultSigningSecret,
      timestamp,
      roomId,
      request.rawBody ?? Buffer.alloc(0),
    );
    if (!secretsEqual(signature, expected)) {
      return this.reject(
        request,
        `${SIGNATURE_HEADER} does not match the request: sign "<timestamp>.POST./rooms/<roomId>/result.<body>" with HMAC-SHA256 and RESULT_SIGNING_SECRET`,
      );
    }
    return true;
  }

  private reject(request: HttpRequest, message: string): never {
    this.logger.warn(
      `Result for ${pathOf(request)} from ${request.ip ?? 'unknown'} rejected: ${message}`,
    );
    throw new UnauthorizedException(message);
  }
}
