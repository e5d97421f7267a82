import { readFileSync } from 'node:fs';

/** The package version, recorded in every event's metadata. */
export const codeVersion: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
