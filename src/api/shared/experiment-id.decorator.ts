import { Param } from '@nestjs/common';
import { experimentIdSchema, ZodValidationPipe } from './validation.js';

/**
 * The `:id` route parameter, validated as an experiment id (printable text, at most 200
 * characters); a bad one is a 400 naming `param.id`.
 */
export const ExperimentId = (): ParameterDecorator => Param('id', new ZodValidationPipe(experimentIdSchema));
