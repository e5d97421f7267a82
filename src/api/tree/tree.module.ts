import { Module } from '@nestjs/common';
import { ApiSharedModule } from '../shared/api-shared.module.js';
import { TreeController } from './tree.controller.js';

/** Tree snapshots (now or as of a position), node reward ledgers, the G table and its history. */
@Module({
  imports: [ApiSharedModule],
  controllers: [TreeController],
})
export class TreeModule {}
