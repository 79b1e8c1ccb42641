// Calls on the API app in the test process, as a client would make them: app.request() with a JSON body, the answer
// parsed. One shape for every tier, so a test reads `(await call('GET', path)).body` wherever it runs.
import type { createApp } from '../../api/app.js';

type App = ReturnType<typeof createApp>;

export interface ApiResponse { status: number; body: any; text: string; headers: Headers }
export type ApiCall = (method: string, path: string, body?: unknown) => Promise<ApiResponse>;

/** A string body is sent as it is (for malformed-payload tests), anything else as JSON; an empty answer is null. */
export function apiClient(app: App): ApiCall {
  return async (method, path, body) => {
    const res = await app.request(path, {
      method,
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, text, headers: res.headers };
  };
}

export function getJson(app: App, path: string): Promise<ApiResponse> {
  return apiClient(app)('GET', path);
}
