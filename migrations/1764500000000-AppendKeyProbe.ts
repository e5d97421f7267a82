import type { MigrationInterface, QueryRunner } from 'typeorm';
import { appendFunctionSql } from './append-function.js';

/**
 * `mctnas_append` looks idempotency keys up with one index probe per appended event instead
 * of a hash join over every keyed event of the stream (append-function.ts): on PGlite a
 * per-step append took 20 ms at 9,000 events and grew with the stream.
 */
export class AppendKeyProbe1764500000000 implements MigrationInterface {
  name = 'AppendKeyProbe1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(appendFunctionSql('CREATE OR REPLACE', 'probe'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(appendFunctionSql('CREATE OR REPLACE', 'join'));
  }
}
