import {
  Controller,
  Get,
  Sse,
  UseGuards,
  type MessageEvent,
} from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { AdminGuard } from '../../security/admin.guard.js';
import {
  AdminLiveService,
  type AdminStreamEvent,
} from './admin-live.service.js';

/**
 * Admin routes on the HTTP port: every route an operator needs lives in this
 * one controller, so one guard decorator on the class protects them all.
 */
@Controller('admin')
@UseGuards(AdminGuard)
export class AdminController {
  constructor(private readonly liveStats: AdminLiveService) {}

  /**
   * Server-sent events: a `snapshot` first, then `rooms` (changed rooms and
   * totals) and `totals` events as the relay works.
   */
  @Sse('live')
  live(): Observable<MessageEvent> {
    return this.liveStats
      .stream()
      .pipe(map((event) => ({ type: event.type, data: event.data })));
  }

  /** Returns the snapshot the stream starts with, for scripts. */
  @Get('snapshot')
  async snapshot(): Promise<AdminStreamEvent['data']> {
    return (await this.liveStats.snapshot()).data;
  }
}
