/**
 * The browser as a built-in plugin, so a model can read the web in a chat turn: the text-only
 * actions (open, read, click, type, back) of the caller's own browser session, started on first
 * use. Screenshots and scripts stay with the REST routes: a model reads text.
 */
import { projectVersion } from '../../../lib';
import type { Plugin, ToolDefinition } from '../tools/plugin';
import { browserAction, type BrowserActionName } from './browser.actions';
import { browserSettings } from './browser.settings';
import { openSession } from './browser.sessions';

const selector = {
  type: 'string',
  minLength: 1,
  maxLength: 500,
  description: 'A CSS selector; its first match',
};

const TOOLS: (ToolDefinition & { name: BrowserActionName })[] = [
  {
    name: 'navigate',
    description: 'Open a public web page (http or https) in your browser session',
    inputSchema: {
      type: 'object',
      properties: { url: { type: 'string', minLength: 1, maxLength: 2048 } },
      required: ['url'],
      additionalProperties: false,
    },
  },
  {
    name: 'read_page',
    description: "The open page's title, address and visible text",
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  },
  {
    name: 'click',
    description: 'Click an element of the open page',
    inputSchema: {
      type: 'object',
      properties: { selector },
      required: ['selector'],
      additionalProperties: false,
    },
  },
  {
    name: 'type',
    description: 'Type text into an input of the open page',
    inputSchema: {
      type: 'object',
      properties: { selector, text: { type: 'string', maxLength: 10_000 } },
      required: ['selector', 'text'],
      additionalProperties: false,
    },
  },
  {
    name: 'go_back',
    description: 'Go back to the previous page',
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  },
];

export const browserPlugin: Plugin = {
  name: 'browser',
  kind: 'builtin',
  description: 'A headless Chromium of your own: open public pages, read them, click and type',
  version: projectVersion,
  // Offered only where a browser is installed; elsewhere the plugin lists as unavailable.
  tools: () =>
    browserSettings().executable
      ? Promise.resolve(TOOLS)
      : Promise.reject(new Error(browserSettings().missing)),
  async call(tool, args, { ownerId }) {
    const known = TOOLS.find((candidate) => candidate.name === tool);
    if (!known) return { success: false, output: `unknown tool: ${tool}`, metadata: null };
    try {
      await openSession(ownerId);
    } catch (error) {
      return { success: false, output: (error as Error).message, metadata: null };
    }
    const result = await browserAction(ownerId, { ...args, action: known.name });
    return {
      success: result.success,
      output: result.success ? JSON.stringify(result.data) : (result.error ?? 'the action failed'),
      metadata: result.data ?? null,
    };
  },
};
