import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { ClientEvent, ID_PATTERN } from '../../protocol/index.js';

export const RESULT_EVENTS = [
  ClientEvent.PAYMENT_SUCCESS,
  ClientEvent.PAYMENT_ERROR,
] as const;
export type ResultEvent = (typeof RESULT_EVENTS)[number];

/** Body of `POST /rooms/:roomId/result`: the payment provider's final verdict. */
export class ReportResultDto {
  @IsIn(RESULT_EVENTS, {
    message: '$property must be PAYMENT_SUCCESS or PAYMENT_ERROR',
  })
  event!: ResultEvent;

  /** The backend's id of this result; a repeat with the same id changes nothing. */
  @IsString()
  @Matches(ID_PATTERN, {
    message: '$property must be 1 to 128 characters of A-Z a-z 0-9 _ -',
  })
  eventId!: string;

  @ValidateIf((dto: ReportResultDto) => dto.event === 'PAYMENT_SUCCESS')
  @IsOptional()
  @IsString()
  @Length(1, 128)
  transactionId?: string;

  /** Amount in minor units (cents). */
  @ValidateIf((dto: ReportResultDto) => dto.event === 'PAYMENT_SUCCESS')
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  amount?: number;

  /** ISO 4217 code, three upper-case letters. */
  @ValidateIf((dto: ReportResultDto) => dto.event === 'PAYMENT_SUCCESS')
  @IsOptional()
  @Matches(/^[A-Z]{3}$/, {
    message: '$property must be an ISO 4217 code of three upper-case letters',
  })
  currency?: string;

  /** The provider's error code; required with `PAYMENT_ERROR`. */
  @ValidateIf((dto: ReportResultDto) => dto.event === 'PAYMENT_ERROR')
  @IsString()
  @Length(1, 64)
  code?: string;

  @ValidateIf((dto: ReportResultDto) => dto.event === 'PAYMENT_ERROR')
  @IsOptional()
  @IsString()
  @MaxLength(500)
  message?: string;
}

/** Returns the fields of a result that are relayed, which depend on its event. */
export function relayedResultFields(
  dto: ReportResultDto,
): Record<string, unknown> {
  if (dto.event === ClientEvent.PAYMENT_SUCCESS) {
    return pickDefined({
      transactionId: dto.transactionId,
      amount: dto.amount,
      currency: dto.currency,
    });
  }
  return pickDefined({ code: dto.code, message: dto.message });
}

function pickDefined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined),
  );
}
