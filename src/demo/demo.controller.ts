import {
  Controller,
  Get,
  Header,
  Inject,
  NotFoundException,
  Param,
  Query,
  Redirect,
  Req,
  UseGuards,
} from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import QRCode from 'qrcode';
import { ID_PATTERN } from '../protocol/index.js';
import { BrowserModules } from './browser-modules.js';
import { DemoEnabledGuard } from './demo-enabled.guard.js';
import { DEMO_OPTIONS, type DemoOptions } from './demo-options.js';
import { adminPage } from './pages/admin.page.js';
import { creatorPage } from './pages/creator.page.js';
import { DEMO_CSS, DEMO_ICON } from './pages/demo-css.js';
import type { PageSettings } from './pages/layout.js';
import { payerPage } from './pages/payer.page.js';

/**
 * Pages may run only their own module scripts and talk only to this origin
 * (HTTP and WebSocket); QR codes are same-origin SVG images.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const AMOUNT_PATTERN = /^[0-9]{1,9}$/;
const MAX_DESCRIPTION_LENGTH = 60;
const HOST_PATTERN = /^[A-Za-z0-9.:[\]-]{1,255}$/;

interface PaymentQuery {
  amount?: string;
  description?: string;
}

/** Builds the payer link's query from the validated `amount` (in cents) and `description`. */
export function paymentQuery(query: PaymentQuery): string {
  const params = new URLSearchParams();
  if (query.amount !== undefined && AMOUNT_PATTERN.test(query.amount)) {
    params.set('amount', query.amount);
  }
  if (typeof query.description === 'string' && query.description !== '') {
    params.set(
      'description',
      query.description.slice(0, MAX_DESCRIPTION_LENGTH),
    );
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function checkedRoomId(roomId: string): string {
  if (!ID_PATTERN.test(roomId)) {
    throw new NotFoundException(
      'Room id must be 1 to 128 characters of A-Z a-z 0-9 _ -',
    );
  }
  return roomId;
}

/** The demo pages, their scripts and the QR codes, under `/demo`. */
@Controller('demo')
@UseGuards(DemoEnabledGuard)
export class DemoController {
  private readonly settings: PageSettings;

  constructor(
    @Inject(DEMO_OPTIONS) private readonly options: DemoOptions,
    private readonly modules: BrowserModules,
  ) {
    this.settings = {
      wsPath: options.wsPath,
      publicUrl: options.publicUrl ?? '',
    };
  }

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
  creator(): string {
    return creatorPage(this.settings);
  }

  @Get('pay/:roomId')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
  payer(@Param('roomId') roomId: string): string {
    return payerPage(this.settings, checkedRoomId(roomId));
  }

  @Get('admin')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
  admin(): string {
    return adminPage(this.settings);
  }

  @Get('assets/demo.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  stylesheet(): string {
    return DEMO_CSS;
  }

  @Get('assets/icon.svg')
  @Header('Content-Type', 'image/svg+xml')
  icon(): string {
    return DEMO_ICON;
  }

  /** QR code (SVG) of the short payment link of a room. */
  @Get('qr/:roomId')
  @Header('Content-Type', 'image/svg+xml')
  @Header('Cache-Control', 'no-store')
  qrCode(
    @Param('roomId') roomId: string,
    @Query() query: PaymentQuery,
    @Req() request: IncomingMessage,
  ): Promise<string> {
    const link = `${this.originOf(request)}/p/${checkedRoomId(roomId)}${paymentQuery(query)}`;
    return QRCode.toString(link, { type: 'svg', margin: 1 });
  }

  /** ES modules of the pages, the device client library and the protocol. */
  @Get('modules/*path')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  async module(@Req() request: IncomingMessage): Promise<string> {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    const path = pathname.slice('/demo/modules/'.length);
    const code = await this.modules.load(path);
    if (code === undefined) {
      throw new NotFoundException(`Module "${path.slice(0, 200)}" not found`);
    }
    return code;
  }

  /**
   * Origin of payment links: `DEMO_PUBLIC_URL`, or the host the browser used,
   * so that a phone on the same network can open them.
   */
  private originOf(request: IncomingMessage): string {
    if (this.options.publicUrl) {
      return this.options.publicUrl;
    }
    const host = request.headers.host ?? '';
    if (!HOST_PATTERN.test(host)) {
      throw new NotFoundException('Request has no valid Host header');
    }
    return `http://${host}`;
  }
}

/** Short payment links, `/p/:roomId`, that lead to the payer page. */
@Controller('p')
@UseGuards(DemoEnabledGuard)
export class ShortLinkController {
  @Get(':roomId')
  @Redirect()
  open(
    @Param('roomId') roomId: string,
    @Query() query: PaymentQuery,
  ): { url: string; statusCode: number } {
    return {
      url: `/demo/pay/${checkedRoomId(roomId)}${paymentQuery(query)}`,
      statusCode: 302,
    };
  }
}
