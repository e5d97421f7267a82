import { Module } from '@nestjs/common';
import { ApiSharedModule } from '../shared/api-shared.module.js';
import { SearchController } from './search.controller.js';

/** Starting a search on the attached trainer, the recorded searches, the what-if replay. */
@Module({
  imports: [ApiSharedModule],
  controllers: [SearchController],
})
export class SearchModule {}
