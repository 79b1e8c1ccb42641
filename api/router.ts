import { OpenAPIHono } from '@hono/zod-openapi';
import { validationResponse } from './errors.js';

/** Every router shares one validation hook, so each zod failure renders in pgEdge's error format. */
export function createRouter(): OpenAPIHono {
  return new OpenAPIHono({
    defaultHook: (result, c) => (result.success ? undefined : validationResponse(c, result.target, result.error)),
  });
}
