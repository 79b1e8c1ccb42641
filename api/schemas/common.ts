import { z } from '@hono/zod-openapi';
import { messages } from '../errors.js';

export const identifierPattern = /^[a-z0-9](?:[a-z0-9-]{0,34}[a-z0-9])?$/;

/** pgEdge's Identifier: Goa checks the length, the app checks the pattern (an invalid_input with its own text). */
export const IdentifierSchema = z
  .string()
  .min(1)
  .max(36)
  .superRefine((v, ctx) => {
    if (!identifierPattern.test(v) || v.includes('--')) ctx.addIssue({ code: 'custom', message: messages.invalidId });
  });

export const ErrorSchema = z
  .object({ name: z.string().openapi({ example: 'not_found' }), message: z.string() })
  .openapi('APIError');

export const errorResponses = {
  400: { description: 'Invalid input', content: { 'application/json': { schema: ErrorSchema } } },
  403: { description: 'Host header not answered here (DNS rebinding), or a mutating request from another origin', content: { 'application/json': { schema: ErrorSchema } } },
  404: { description: 'Not found', content: { 'application/json': { schema: ErrorSchema } } },
  409: { description: 'Conflict', content: { 'application/json': { schema: ErrorSchema } } },
  413: { description: 'Request body too large', content: { 'application/json': { schema: ErrorSchema } } },
  415: { description: 'Not sent as application/json (an operation without a body may also be sent with no body and no Content-Type)', content: { 'application/json': { schema: ErrorSchema } } },
  500: { description: 'Server error', content: { 'application/json': { schema: ErrorSchema } } },
} as const;

export function jsonResponse<T extends z.ZodType>(schema: T, description: string): {
  200: { description: string; content: { 'application/json': { schema: T } } };
} {
  return { 200: { description, content: { 'application/json': { schema } } } };
}

/** A required JSON request body, for a route's `request`. */
export function jsonBody<T extends z.ZodType>(schema: T): { body: { required: true; content: { 'application/json': { schema: T } } } } {
  return { body: { required: true, content: { 'application/json': { schema } } } };
}
