/**
 * The web dashboard (web/, bundled by scripts/build-web.mjs into dist/web/), served from the
 * same process at `/`. Only `/` renders the page (the dashboard routes in the URL fragment), and
 * only files that exist in dist/web are served, so every API path stays the API's.
 */
import { Module } from '@nestjs/common';
import { ServeStaticModule } from '@nestjs/serve-static';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/web beside dist/src (this file compiles to dist/src/dashboard/dashboard.module.js). */
export const DASHBOARD_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../web');

export function dashboardBuilt(): boolean {
  return existsSync(resolve(DASHBOARD_DIR, 'index.html'));
}

@Module({
  imports: [
    ServeStaticModule.forRoot({
      rootPath: DASHBOARD_DIR,
      renderPath: '/',
      serveStaticOptions: { index: false, fallthrough: true, maxAge: 0 },
    }),
  ],
})
export class DashboardModule {}
