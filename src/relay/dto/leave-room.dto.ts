import { RoomMessageDto } from './room-id.dto.js';

export class LeaveRoomDto extends RoomMessageDto {}
