/** 002's (the agent runtime's) error body, shared by the runtime dialect and its capability files. */
import type { ErrorStyle } from '../types';

/**
 * `{"error": …}` as Ironclad's handlers and its json_error_layer write it (api/routes/mod.rs); a
 * refused credential as its API key middleware does (auth.rs): `{"error": "unauthorized", "message"}`.
 */
export const runtime: ErrorStyle = {
  invalidInput: 400,
  wrongContentType: 415,
  body: ({ status, message }) => (status === 401 ? { error: 'unauthorized', message } : { error: message }),
};
