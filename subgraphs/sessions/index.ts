import { ownedEntity, reportResource, SETTINGS_TOPIC, type SubgraphDefinition } from '../../lib';
import { ChannelInbound, ChannelOutbound } from './channels/channel.entities';
import { ChannelResolver } from './channels/channel.resolver';
import { BrowserResolver, browserSessionCount, browserSettings, runBrowserSessions } from './browser';
import { Feedback, Message, Turn, UsageRecord } from './chat.entities';
import { ChatResolver } from './chat.resolver';
import {
  chatSettings,
  gatewayProbe,
  loadLiveSettings,
  loadProviderKeys,
  PROBE_INTERVAL_MS,
  PROVIDER_KEYS_TOPIC,
} from './chat.providers';
import {
  abortAllTurns,
  abortLocalTurn,
  CANCEL_TOPIC,
  runningTurnCount,
  sweepAbandonedTurns,
} from './chat.turns';
import { GatewayResolver } from './gateway.resolver';
import { SessionsInit } from './migrations/0001-init';
import { SessionsChat } from './migrations/0002-chat';
import { SessionsProviders } from './migrations/0003-providers';
import { SessionsIdempotency } from './migrations/0004-idempotency';
import { SessionsBilling } from './migrations/0005-billing';
import { SessionsClientKey } from './migrations/0006-client-key';
import { SessionsObservatoryStats } from './migrations/0007-observatory-stats';
import { billingSettings, reconcileSettlements } from './chat.billing';
import { MeteringResolver } from './metering.resolver';
import { ObservatoryResolver } from './observatory.resolver';
import { SessionsRelayCalls } from './migrations/0008-relay-calls';
import { SessionsRelayCharges } from './migrations/0009-relay-charges';
import { SessionsChannels } from './migrations/0011-channels';
import { SessionsInterview } from './migrations/0013-interview';
import { InterviewResolver } from './interview/interview.resolver';
import { RelayResolver } from './relay.resolver';
import { Session } from './session.entity';
import { SessionResolver } from './session.resolver';
import { SessionStorageResolver } from './workspace/session-storage.resolver';

import { SessionsTools } from './migrations/0010-tools';
import { closeToolRegistry, toolRegistry } from './tools/registry';
import { ToolCall } from './tools/tool-call.entity';
import { applyMcpControl, MCP_CONTROL_TOPIC, ToolsResolver, TurnToolsResolver } from './tools/tools.resolver';

export const sessions: SubgraphDefinition = {
  name: 'sessions',
  entities: [Session, Message, Turn, Feedback, UsageRecord, ChannelInbound, ChannelOutbound, ToolCall],
  migrations: [
    { name: '0001-init', class: SessionsInit },
    { name: '0002-chat', class: SessionsChat },
    { name: '0003-providers', class: SessionsProviders },
    { name: '0004-idempotency', class: SessionsIdempotency },
    { name: '0005-billing', class: SessionsBilling },
    { name: '0006-client-key', class: SessionsClientKey },
    { name: '0007-observatory-stats', class: SessionsObservatoryStats },
    { name: '0008-relay-calls', class: SessionsRelayCalls },
    { name: '0009-relay-charges', class: SessionsRelayCharges },
    { name: '0010-tools', class: SessionsTools },
    { name: '0011-channels', class: SessionsChannels },
    { name: '0013-interview', class: SessionsInterview },
  ],
  resolvers: [
    SessionResolver,
    ChatResolver,
    GatewayResolver,
    MeteringResolver,
    ObservatoryResolver,
    RelayResolver,
    ChannelResolver,
    InterviewResolver,
    BrowserResolver,
    SessionStorageResolver,
    ToolsResolver,
    TurnToolsResolver,
  ],
  entityTypes: { Session: ownedEntity(Session, (session) => session.ownerId) },
  upstream: async () => {
    const probe = await gatewayProbe();
    return {
      llm: {
        status: probe.connected ? 'connected' : 'disconnected',
        mode: probe.mode.toLowerCase(),
        providers: probe.providers.map(({ name, reachable }) => ({ name, reachable })),
        probedAt: probe.probedAt.toISOString(),
      },
    };
  },
  // Cancels may reach any replica; the one running the turn aborts it. Provider keys and platform
  // settings changed on one replica are reloaded by all. Turns whose replica died are swept. At shutdown every local
  // turn is aborted and recorded as interrupted before the database closes.
  background: async ({ orm, pubsub, log, jwtSecret, peers }) => {
    const em = orm.em.fork();
    const listen = (topic: string, handle: (message: unknown) => unknown) => {
      const messages = pubsub.subscribe(topic);
      void (async () => {
        for await (const message of messages) await handle(message);
      })().catch((error: unknown) => log.error({ err: error, topic }, 'listener stopped'));
      return messages;
    };
    const reloadKeys = () =>
      loadProviderKeys(em.fork(), jwtSecret, log).catch((error: unknown) =>
        log.error({ err: error }, 'provider keys not loaded'),
      );
    // Settings changed on any replica's accounts subgraph are read again, one load at a time; until
    // the first load succeeds (accounts may start later) it is retried.
    let settingsLoad: Promise<unknown> = Promise.resolve();
    let settingsRetry: NodeJS.Timeout | undefined;
    let stopped = false;
    const reloadSettings = (): Promise<unknown> =>
      (settingsLoad = settingsLoad.then(() =>
        loadLiveSettings(peers).catch((error: unknown) => {
          if (stopped) return;
          log.warn({ err: error }, 'platform settings not loaded; retrying in 5 s');
          stopped = true;
          clearTimeout(settingsRetry);
          settingsRetry = setTimeout(() => void reloadSettings(), 5000);
        }),
      ));
    const listeners = [
      listen(CANCEL_TOPIC, (message) => abortLocalTurn((message as { turnId: string }).turnId)),
      listen(PROVIDER_KEYS_TOPIC, reloadKeys),
      listen(SETTINGS_TOPIC, reloadSettings),
      listen(MCP_CONTROL_TOPIC, (message) => applyMcpControl(message, toolRegistry(log))),
    ];
    await Promise.all([reloadKeys(), reloadSettings()]);
    const settings = chatSettings();
    const sweep = () =>
      sweepAbandonedTurns({ em, pubsub, log }, settings.maxTurnSilenceMs, settings.pricesOf)
        .then((ended) => ended && log.warn({ ended }, 'ended turns abandoned by a stopped server'))
        .catch((error: unknown) => log.error({ err: error }, 'abandoned turn sweep failed'));
    void sweep();
    const sweeper = setInterval(sweep, Math.min(60_000, settings.maxTurnSilenceMs));
    // Holds of turns that ended while their process stopped before settling them (README "Billing").
    const { reconcileMs } = billingSettings();
    const reconcile = () =>
      reconcileSettlements({ em, peers, log }, reconcileMs)
        .then(
          (settled) => settled && log.warn({ settled }, 'settled turn holds left open by a stopped server'),
        )
        .catch((error: unknown) => log.error({ err: error }, 'turn settlement reconciler failed'));
    const reconciler = setInterval(reconcile, reconcileMs);
    // Capabilities are probed at start and then kept fresh, so status answers never wait on a probe.
    const probe = () => void gatewayProbe().catch(() => undefined);
    probe();
    const prober = setInterval(probe, PROBE_INTERVAL_MS);
    // Answers streaming from this process (no platform limit: each holds one upstream request).
    const stopReporting = reportResource('sessions.running_turns', () => ({
      used: runningTurnCount(),
      limit: null,
      waiting: 0,
    }));
    // Browser sessions of this process: idle ones closed, all of them at shutdown.
    const browsers = runBrowserSessions(log);
    const stopReportingBrowsers = reportResource('sessions.browser_sessions', () => ({
      used: browserSessionCount(),
      limit: browserSettings().maxSessions,
      waiting: 0,
    }));
    return {
      async stop() {
        clearInterval(sweeper);
        clearInterval(reconciler);
        clearInterval(prober);
        stopReporting();
        stopReportingBrowsers();
        stopped = true;
        clearTimeout(settingsRetry);
        await Promise.all(listeners.map((messages) => messages.return?.()));
        await abortAllTurns();
        await browsers.stop();
        // After the turns, which may still be calling tools; stops stdio MCP servers.
        await closeToolRegistry();
      },
    };
  },
};
