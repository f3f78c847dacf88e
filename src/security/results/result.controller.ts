import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Header,
  HttpCode,
  InternalServerErrorException,
  NotFoundException,
  Param,
  Post,
  ServiceUnavailableException,
  UseGuards,
  ValidationPipe,
} from '@nestjs/common';
import { ErrorCode, ID_PATTERN } from '../../protocol/index.js';
import { RelayException } from '../../relay/relay.exception.js';
import { ReportResultDto } from './report-result.dto.js';
import { ResultAuthGuard } from './result-auth.guard.js';
import {
  VerifiedResultService,
  type ResultReceipt,
} from './verified-result.service.js';

/** Validates the result body: known fields only, no type conversion. */
export const RESULT_BODY_PIPE = new ValidationPipe({
  transform: true,
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transformOptions: { enableImplicitConversion: false },
});

/** Server-to-server endpoint where the payment backend reports final results. */
@Controller('rooms')
export class ResultController {
  constructor(private readonly results: VerifiedResultService) {}

  /**
   * Records the provider's verdict in a room and relays it to every member
   * with `verified: true`. Returns 200 with the receipt, also for a repeated
   * `eventId`; 409 once a verified result made the room `PAID`.
   */
  @Post(':roomId/result')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @UseGuards(ResultAuthGuard)
  async report(
    @Param('roomId') roomId: string,
    @Body(RESULT_BODY_PIPE) dto: ReportResultDto,
  ): Promise<ResultReceipt> {
    if (!ID_PATTERN.test(roomId)) {
      throw new BadRequestException(
        'roomId must be 1 to 128 characters of A-Z a-z 0-9 _ -',
      );
    }
    try {
      return await this.results.record(roomId, dto);
    } catch (error) {
      throw toHttpException(error);
    }
  }
}

function toHttpException(error: unknown): Error {
  if (!(error instanceof RelayException)) {
    return error instanceof Error ? error : new Error(String(error));
  }
  switch (error.code) {
    case ErrorCode.INVALID_TRANSITION:
    case ErrorCode.ROOM_FULL:
      return new ConflictException({
        code: error.code,
        message: error.message,
      });
    case ErrorCode.NOT_IN_ROOM:
      return new NotFoundException({
        code: error.code,
        message: 'Room not found, and this room store cannot create it',
      });
    default:
      // `UNAVAILABLE`: a shared room store (Redis) is unreachable right now.
      if (String(error.code) === 'UNAVAILABLE') {
        return new ServiceUnavailableException({
          code: error.code,
          message: 'The room store is unavailable: send the result again later',
        });
      }
      return new InternalServerErrorException();
  }
}
