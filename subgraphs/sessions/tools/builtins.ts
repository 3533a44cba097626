/**
 * The platform's own plugins, one list: a new built-in (a browser, a search) is one more entry.
 * Each answers without leaving the process, so it needs no configuration.
 */
import { projectVersion } from '../../../lib';
import { browserPlugin } from '../browser/browser.plugin';
import type { Plugin, ToolOutcome } from './plugin';

const json = (value: Record<string, unknown>): ToolOutcome => ({
  success: true,
  output: JSON.stringify(value),
  metadata: value,
});

/** The time now, in UTC and in the IANA time zone asked for: models do not know what time it is. */
const clock: Plugin = {
  name: 'clock',
  kind: 'builtin',
  description: 'The current date and time, in UTC and in any IANA time zone',
  version: projectVersion,
  tools: () =>
    Promise.resolve([
      {
        name: 'now',
        description: 'The current date and time (UTC, and local time in `timezone` when given)',
        inputSchema: {
          type: 'object',
          properties: {
            timezone: {
              type: 'string',
              maxLength: 64,
              description: 'An IANA time zone such as Europe/Paris; default UTC',
            },
          },
          additionalProperties: false,
        },
      },
    ]),
  call(_tool, args) {
    const now = new Date();
    const timezone = typeof args.timezone === 'string' ? args.timezone : 'UTC';
    let local: string;
    try {
      // sv-SE writes dates as ISO does (2026-12-07 20:01:02).
      local = new Intl.DateTimeFormat('sv-SE', {
        timeZone: timezone,
        dateStyle: 'short',
        timeStyle: 'medium',
      }).format(now);
    } catch {
      return Promise.resolve({ success: false, output: `unknown time zone: ${timezone}`, metadata: null });
    }
    return Promise.resolve(
      json({ utc: now.toISOString(), unix: Math.floor(now.getTime() / 1000), timezone, local }),
    );
  },
};

/** Every built-in plugin; their names are reserved (an MCP server may not take one). */
export const BUILTIN_PLUGINS: readonly Plugin[] = [clock, browserPlugin];
