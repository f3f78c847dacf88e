import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
} from 'class-validator';
import { ID_PATTERN, ROLES, type Role } from '../../protocol/index.js';
import { ID_RULE_MESSAGE, RoomMessageDto } from './room-id.dto.js';

export class JoinRoomDto extends RoomMessageDto {
  @IsIn(ROLES, { message: '$property must be one of: CREATOR, PAYER' })
  role!: Role;

  @IsOptional()
  @IsString()
  @Matches(ID_PATTERN, { message: ID_RULE_MESSAGE })
  clientId?: string;

  /** Highest `seq` the device has seen; `missed` then holds only newer events. */
  @IsOptional()
  @IsInt()
  @Min(0)
  lastSeq?: number;

  /** When the payment link expires (creator only), ISO 8601 with a time zone. */
  @IsOptional()
  @IsString()
  @IsISO8601({ strict: true, strictSeparator: true })
  @Matches(/T.*(Z|[+-]\d{2}:?\d{2})$/, {
    message:
      '$property must be a date and time with a time zone, such as 2030-01-31T23:59:00Z or 2030-01-31T20:59:00-03:00',
  })
  expiresAt?: string;

  /**
   * Join token signed by the merchant backend, required when
   * `AUTH_MODE=jwt` unless the upgrade request carried one.
   */
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  token?: string;
}
