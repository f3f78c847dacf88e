import { IsInt, Max, Min } from 'class-validator';
import { RoomMessageDto } from './room-id.dto.js';

/** `RECEIVED`: the highest contiguous `seq` the device handed to its app. */
export class ReceivedDto extends RoomMessageDto {
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  seq!: number;
}
