import {
  Controller,
  Get,
  NotFoundException,
  Param,
  Query,
  UseGuards,
  ValidationPipe,
} from '@nestjs/common';
import type { Role, RoomStatus } from '../../protocol/index.js';
import { AdminGuard } from '../../security/admin.guard.js';
import { RoomsService } from '../rooms/rooms.service.js';
import { StatsQueryDto } from './stats-query.dto.js';

export interface RoomStatsEntry {
  roomId: string;
  clients: number;
  createdAt: string;
  status: RoomStatus;
}

export interface StatsResponse {
  /** Rooms on every instance that shares the room store. */
  totalRooms: number;
  /** Connections on every instance that shares the room store. */
  totalClients: number;
  /** Live instances that share the room store, this one included. */
  instances: number;
  /** The answering instance's own numbers: rooms where it holds a member, its connections. */
  instance: { instanceId: string; rooms: number; clients: number };
  limit: number;
  offset: number;
  rooms: RoomStatsEntry[];
}

export interface RoomDetailsResponse {
  roomId: string;
  status: RoomStatus;
  seq: number;
  createdAt: string;
  expiresAt?: string;
  closedReason?: string;
  /** `receivedSeq`: the highest contiguous `seq` the member confirmed with `RECEIVED`. */
  members: { clientId: string; role: Role; receivedSeq: number }[];
}

const queryPipe = new ValidationPipe({
  transform: true,
  whitelist: true,
  forbidNonWhitelisted: true,
});

/** Room statistics for administrators, on the HTTP port, behind `ADMIN_TOKEN`. */
@Controller('stats')
@UseGuards(AdminGuard)
export class StatsController {
  constructor(private readonly rooms: RoomsService) {}

  /** Totals and one page of rooms, oldest first. */
  @Get()
  async list(@Query(queryPipe) query: StatsQueryDto): Promise<StatsResponse> {
    const page = await this.rooms.listRooms(query.offset, query.limit);
    return {
      totalRooms: page.totalRooms,
      totalClients: page.totalClients,
      instances: page.instances,
      instance: page.instance,
      limit: query.limit,
      offset: query.offset,
      rooms: page.rooms.map((room) => ({
        roomId: room.roomId,
        clients: room.clients,
        createdAt: new Date(room.createdAt).toISOString(),
        status: room.status,
      })),
    };
  }

  @Get('rooms/:roomId')
  async room(@Param('roomId') roomId: string): Promise<RoomDetailsResponse> {
    const room = await this.rooms.getRoom(roomId);
    if (!room) {
      throw new NotFoundException(`Room "${roomId.slice(0, 128)}" not found`);
    }
    return {
      roomId: room.roomId,
      status: room.status,
      seq: room.seq,
      createdAt: new Date(room.createdAt).toISOString(),
      ...(room.expiresAt !== undefined && {
        expiresAt: new Date(room.expiresAt).toISOString(),
      }),
      ...(room.closedReason && { closedReason: room.closedReason }),
      members: room.members.map(({ clientId, role, receivedSeq }) => ({
        clientId,
        role,
        receivedSeq,
      })),
    };
  }
}
