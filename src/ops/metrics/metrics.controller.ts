import { Controller, Get, Header } from '@nestjs/common';
import { prometheusContentType } from 'prom-client';
import { RelayMetrics } from './relay-metrics.service.js';

/** Prometheus scrape endpoint. It exposes no ids, so it takes no token. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: RelayMetrics) {}

  @Get()
  @Header('Content-Type', prometheusContentType)
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
