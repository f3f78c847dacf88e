import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { ID_PATTERN } from '../../protocol/index.js';
import { ID_RULE_MESSAGE, RoomMessageDto } from './room-id.dto.js';

/**
 * Base of every flow event, built-in or registered by an application.
 * `eventId` is the sender's idempotency key; the server makes one up when it is missing.
 */
export class FlowEventDto extends RoomMessageDto {
  @IsOptional()
  @IsString()
  @Matches(ID_PATTERN, { message: ID_RULE_MESSAGE })
  eventId?: string;
}

export class EnteredSummaryDto extends FlowEventDto {}

export class ClickedProceedDto extends FlowEventDto {}

export class PaymentMethodChangedDto extends FlowEventDto {
  /** An upper-case identifier such as `PIX`, `CREDIT_CARD` or `BOLETO`. */
  @IsString()
  @Matches(/^[A-Z][A-Z0-9_]{0,31}$/, {
    message:
      '$property must be an upper-case identifier of at most 32 characters (A-Z, 0-9, _), such as PIX or CREDIT_CARD',
  })
  method!: string;
}

export const MAX_FILLED_FIELDS = 20;

export class DataFilledDto extends FlowEventDto {
  /** Names of the completed form fields, never their values. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_FILLED_FIELDS)
  @IsString({ each: true })
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, {
    each: true,
    message:
      'each value in $property must be a field name of 1 to 64 characters of A-Z a-z 0-9 _ . -',
  })
  fields?: string[];
}

export class ClickedPayDto extends FlowEventDto {}

export class PaymentSuccessDto extends FlowEventDto {
  @IsOptional()
  @IsString()
  @Length(1, 128)
  transactionId?: string;

  /** Amount in minor units (cents). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  amount?: number;

  /** ISO 4217 code, three upper-case letters. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Z]{3}$/, {
    message: '$property must be an ISO 4217 code of three upper-case letters',
  })
  currency?: string;
}

export class PaymentErrorDto extends FlowEventDto {
  @IsString()
  @Length(1, 64)
  code!: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  message?: string;
}
