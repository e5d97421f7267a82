// Bundles the compiled service (dist/src/main.js, tsc's output) into dist/server/ for `npm start`:
// Node then reads a few files instead of resolving and loading ~2,200 modules one by one
// (a second start spent about half its time importing). `npm run build` runs it after tsc.
// Dynamic imports stay lazy (code splitting: the training stack and TypeORM load as their own
// chunks when first needed). Left outside the bundle: packages that read files next to their own
// code (PGlite's wasm and data, TensorFlow.js's wasm binaries, swagger-ui-dist's assets) or that
// are optional and absent (Nest's microservices/websockets, pg-native, tfjs-node).
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';

const outdir = resolve('dist/server');

const EXTERNAL = [
  '@electric-sql/pglite',
  '@tensorflow/*',
  'swagger-ui-dist',
  'pg-native',
  '@nestjs/microservices',
  '@nestjs/microservices/*',
  '@nestjs/websockets',
  '@nestjs/websockets/*',
  'class-transformer',
  'class-validator',
  '@fastify/*',
];

/**
 * Our modules locate files relative to themselves (`import.meta.url`: package.json, the
 * dashboard's dist/web, fashion-mnist's data). In the bundle every module would get the bundle's
 * URL, so each one's `import.meta.url` becomes its own original URL, expressed relative to the
 * bundle (the checkout can still move).
 */
const ownModuleUrls = {
  name: 'own-module-urls',
  setup(builder) {
    builder.onLoad({ filter: /[\\/]dist[\\/](src|migrations)[\\/].*\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const fromBundle = relative(outdir, args.path).split('\\').join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`), loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: { main: 'dist/src/main.js' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir,
  // Nest names modules and providers by their class names (logs, tokens): keep them.
  keepNames: true,
  sourcemap: true,
  logLevel: 'warning',
  external: EXTERNAL,
  // CommonJS packages inside an ES module bundle still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  plugins: [ownModuleUrls],
});
