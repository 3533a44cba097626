/** 002's (the agent runtime's) error body, shared by the hermes dialect and its capability files. */
import type { ErrorStyle } from '../types';

export const runtime: ErrorStyle = {
  invalidInput: 400,
  wrongContentType: 415,
  body: ({ message }) => ({ error: message }),
};
