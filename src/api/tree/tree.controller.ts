import { Controller, Get, Headers, Param, Query, Res, StreamableFile, UseGuards, UseInterceptors } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { AuditLedger } from '../../experiments/ports.js';
import { gTable, nodeAt, pathError } from '../../tree/queries.js';
import { ApiAuthGuard } from '../shared/auth.js';
import { ExperimentId } from '../shared/experiment-id.decorator.js';
import { ExperimentReads } from '../shared/experiment-reads.js';
import { ApiErrors, ApiExperimentParam } from '../shared/openapi.js';
import { ledgerQuerySchema, nodeParamsSchema, opsQuerySchema, treeQuerySchema } from './requests.js';
import { StreamPositionInterceptor } from '../shared/stream-position.interceptor.js';
import { SnapshotCache, snapshotEtag, snapshotJson, matchesEtag } from './tree-snapshot.js';

const DEFAULT_DEPTH = 2;
const DEFAULT_TOP = 10;
const DEFAULT_LEDGER_PAGE = 100;
const DEFAULT_OPS_PAGE = 200;

@ApiTags('tree')
@Controller('experiments/:id')
@UseGuards(ApiAuthGuard)
@UseInterceptors(StreamPositionInterceptor)
export class TreeController {
  private readonly snapshots = new SnapshotCache();

  constructor(
    private readonly reads: ExperimentReads,
    private readonly audit: AuditLedger,
  ) {}

  @Get('tree')
  @ApiExperimentParam()
  @ApiOperation({
    summary: 'Tree snapshot, now or as of `at`: a subtree under `path` to `depth` levels, top-k leaves, G',
    description:
      'Every node carries n, S, mean reward (qbar), its (layer, op) G and its current training sampling probability among its siblings. ' +
      '`path` is op indices separated by dots or commas (`2.0.1`); `depth` counts levels below it (default 2; the tree depth gives the full subtree).',
  })
  @ApiErrors(400, 404, 409, 422)
  async tree(
    @ExperimentId() id: string,
    @Query({ schema: treeQuerySchema }) query: z.output<typeof treeQuerySchema>,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) response: ServerResponse,
  ): Promise<string | StreamableFile> {
    const snapshot = { path: query.path ?? [], depth: query.depth ?? DEFAULT_DEPTH, top: query.top ?? DEFAULT_TOP, minVisits: query.minVisits ?? 0 };
    const extra = { at: query.at ?? null };
    const answer = await this.reads.view(id, query, (view) => this.snapshots.answer(view, snapshot, extra, ifNoneMatch));
    response.setHeader('Cache-Control', 'no-cache');
    if (answer.kind !== 'stream') {
      response.setHeader('ETag', answer.etag);
      response.setHeader('X-Stream-Position', String(answer.position));
      response.setHeader('X-Stream-Version', String(answer.version));
      // Not modified: an empty body; Express answers 304 because the request's If-None-Match matches the ETag.
      if (answer.kind === 'not-modified') return '';
      response.setHeader('Content-Type', 'application/json; charset=utf-8');
      return answer.json;
    }
    // Too large to render and keep: written in chunks from a copy of the tree that stays valid
    // while the client reads (shared by the readers of one stream version).
    const view = await this.reads.stableView(id, query);
    const etag = snapshotEtag(view, snapshot, extra);
    response.setHeader('ETag', etag);
    response.setHeader('X-Stream-Position', String(view.position));
    response.setHeader('X-Stream-Version', String(view.version));
    if (matchesEtag(ifNoneMatch, etag)) return '';
    return new StreamableFile(Readable.from(snapshotJson(view, snapshot, extra), { objectMode: false }), { type: 'application/json; charset=utf-8' });
  }

  @Get('nodes/:path')
  @ApiExperimentParam()
  @ApiParam({ name: 'path', description: "op indices from the root separated by '.' or ',' (`root` for the root)" })
  @ApiOperation({
    summary: "A node and its reward ledger: every step that touched it, with loss, Ltilde, Q, worker and the checkpoint current then (paged)",
    description: 'The ledger totals (sum of dn and ds over every entry) equal the node n and S at the position the answer states.',
  })
  @ApiErrors(400, 404, 409, 422)
  async node(@Param({ schema: nodeParamsSchema }) params: z.output<typeof nodeParamsSchema>, @Query({ schema: ledgerQuerySchema }) query: z.output<typeof ledgerQuerySchema>) {
    const found = await this.reads.view(params.id, query, (view) => ({ position: view.position, version: view.version, node: nodeAt(view.tree, params.path) }));
    const { position: _position, ...node } = found.node;
    const ledger = await this.audit.ledger(params.id, params.path, found.position, query.after ?? 0, query.limit ?? DEFAULT_LEDGER_PAGE);
    return { experimentId: params.id, position: found.position, version: found.version, at: query.at ?? null, node, ledger };
  }

  @Get('ops')
  @ApiExperimentParam()
  @ApiOperation({
    summary: 'G per (layer, op) now (or as of `at`) and its history from VisitCountsUpdated (paged, filter by layer/op)',
  })
  @ApiErrors(400, 404, 409)
  async ops(@ExperimentId() id: string, @Query({ schema: opsQuerySchema }) query: z.output<typeof opsQuerySchema>) {
    const now = await this.reads.view(id, query, (view) => {
      const g = gTable(view.tree).g;
      if (query.layer !== undefined && query.layer >= g.length) throw pathError(`layer ${query.layer} is out of range (0..${g.length - 1})`);
      const widest = Math.max(...(query.layer !== undefined ? [g[query.layer]!.length] : g.map((row) => row.length)));
      if (query.op !== undefined && query.op >= widest) throw pathError(`op ${query.op} is out of range (0..${widest - 1})`);
      return { position: view.position, version: view.version, g };
    });
    const history = await this.audit.gHistory(id, now.position, { layer: query.layer, op: query.op }, query.after ?? 0, query.limit ?? DEFAULT_OPS_PAGE);
    return { experimentId: id, position: now.position, version: now.version, at: query.at ?? null, g: now.g, history };
  }
}
