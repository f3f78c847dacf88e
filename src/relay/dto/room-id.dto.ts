import { IsString, Matches } from 'class-validator';
import { ID_PATTERN } from '../../protocol/index.js';

export const ID_RULE_MESSAGE =
  '$property must be 1 to 128 characters of A-Z a-z 0-9 _ -';

/** Base of every message that names a room. */
export class RoomMessageDto {
  @IsString()
  @Matches(ID_PATTERN, { message: ID_RULE_MESSAGE })
  roomId!: string;
}
