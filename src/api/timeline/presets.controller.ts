import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { experimentPresets } from '../../experiments/presets.js';
import { ApiAuthGuard } from '../shared/auth.js';

/** Shown in place of the data directory a preset needs from the user's disk. */
export const DATA_DIR_PLACEHOLDER = '/path/to/data';

/**
 * The ready-made creation requests (`create --preset` on the CLI), as the JSON body
 * `POST /experiments` takes, so a client can start from one and edit it.
 */
@ApiTags('experiments')
@Controller('presets')
@UseGuards(ApiAuthGuard)
export class PresetsController {
  @Get()
  @ApiOperation({ summary: 'Ready-made experiment creation requests (bodies for POST /experiments); `needsDataDir`: replace `dataset.dir`' })
  list() {
    return {
      presets: Object.entries(experimentPresets).map(([name, make]) => {
        let needsDataDir = false;
        try {
          return { name, needsDataDir, request: make({}) };
        } catch {
          needsDataDir = true;
          return { name, needsDataDir, request: make({ dataDir: DATA_DIR_PLACEHOLDER }) };
        }
      }),
    };
  }
}
