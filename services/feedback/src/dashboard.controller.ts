import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header, Inject, Query, Sse, type MessageEvent } from '@nestjs/common';
import { Observable, from, interval, map, startWith, switchMap } from 'rxjs';
import { FeedbackQueries } from './queries';

export const DASHBOARD_REFRESH_MS = Symbol('DASHBOARD_REFRESH_MS');

const PUBLIC = join(__dirname, '..', 'public');

/** Static files, read once: the page, its script and style, and uPlot from node_modules (no CDN). */
const ASSETS = {
  html: readFileSync(join(PUBLIC, 'index.html'), 'utf8'),
  script: readFileSync(join(PUBLIC, 'dashboard.js'), 'utf8'),
  style: readFileSync(join(PUBLIC, 'dashboard.css'), 'utf8'),
  uplot: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
  uplotStyle: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
};

@Controller()
export class DashboardController {
  constructor(
    @Inject(FeedbackQueries) private readonly queries: FeedbackQueries,
    @Inject(DASHBOARD_REFRESH_MS) private readonly refreshMs: number,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return ASSETS.html;
  }

  @Get('assets/dashboard.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  script(): string {
    return ASSETS.script;
  }

  @Get('assets/dashboard.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  style(): string {
    return ASSETS.style;
  }

  @Get('assets/uPlot.iife.min.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=86400')
  uplot(): string {
    return ASSETS.uplot;
  }

  @Get('assets/uPlot.min.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=86400')
  uplotStyle(): string {
    return ASSETS.uplotStyle;
  }

  /** Per model version and arm over the sliding window (?window=minutes): rates with intervals, arm comparisons. */
  @Get('api/metrics')
  metrics(@Query('window') window?: string) {
    return this.queries.metrics(this.queries.windowMinutes(window));
  }

  @Get('api/timeseries')
  timeseries(@Query('window') window?: string) {
    return this.queries.timeseries(this.queries.windowMinutes(window));
  }

  @Get('api/models')
  models() {
    return { models: this.queries.models() };
  }

  @Get('api/ops')
  ops() {
    return { services: this.queries.ops() };
  }

  @Get('api/dashboard')
  dashboard(@Query('window') window?: string) {
    return this.queries.dashboard(this.queries.windowMinutes(window));
  }

  /** Server-sent events: the dashboard view every FEEDBACK_DASHBOARD_REFRESH_SECONDS. */
  @Sse('api/stream')
  stream(@Query('window') window?: string): Observable<MessageEvent> {
    const minutes = this.queries.windowMinutes(window);
    return interval(this.refreshMs).pipe(
      startWith(0),
      switchMap(() => from(this.queries.dashboard(minutes))),
      map((data) => ({ data })),
    );
  }
}
