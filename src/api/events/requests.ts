/** The request schemas of the event history and live stream endpoints. */
import { z } from 'zod';
import { type EventType, eventTypes } from '../../events/catalog.js';
import { parseCheckpoint } from '../../events/stored-event.js';
import { consistencyQuery, csvEnum, experimentIdSchema, positionQuery, queryInteger } from '../shared/validation.js';

const typeList = csvEnum(eventTypes as [EventType, ...EventType[]]);

export const eventsQuerySchema = z
  .object({
    type: typeList.optional(),
    fromStep: positionQuery.optional(),
    toStep: positionQuery.optional(),
    after: queryInteger(0, 2 ** 31 - 1).optional(),
    limit: queryInteger(1, 1000).optional(),
    ...consistencyQuery,
  })
  .strict();

export const checkpointSchema = z
  .string()
  .max(64)
  .transform((text, ctx) => {
    try {
      return parseCheckpoint(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

export const streamQuerySchema = z
  .object({
    type: typeList.optional(),
    /** for clients that cannot set the Last-Event-ID header; the header wins */
    lastEventId: checkpointSchema.optional(),
    /** a read ticket (POST /auth/sse-ticket); checked by the auth guard */
    ticket: z.string().max(1024).optional(),
  })
  .strict();

export const ticketRequestSchema = z.object({ experimentId: experimentIdSchema }).strict();
