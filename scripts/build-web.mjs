// Bundles the dashboard (web/) into dist/web/: one ES module, its CSS and index.html, all from
// npm packages (no CDN, nothing fetched at run time). `npm run build` runs it after tsc and the
// web type-check. Usage: node scripts/build-web.mjs [--watch]
import { build, context } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

const outdir = 'dist/web';
mkdirSync(outdir, { recursive: true });
const options = {
  entryPoints: ['web/src/main.tsx'],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outfile: `${outdir}/app.js`,
  legalComments: 'linked',
  logLevel: 'warning',
};
copyFileSync('web/index.html', `${outdir}/index.html`);
copyFileSync('web/style.css', `${outdir}/style.css`);
if (process.argv.includes('--watch')) await (await context(options)).watch();
else await build(options);
