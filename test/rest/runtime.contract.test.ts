/**
 * The runtime dialect's feedback, model, breaker, provider key, approval, dead-letter and wallet
 * routes against the shapes and statuses of Ironclad's own handlers and tests (robot-accomplice/
 * ironclad, crates/ironclad-server/src/api/routes/…, cited per test). Each expectation is written
 * from that source, not from our answers; where ours adds fields, the test checks Ironclad's.
 */
import { ApprovalsDocument, CreateTaskDocument } from '../generated/graphql';
import { startLlmDouble, useUpstream, type LlmDouble } from '../support/llm-double';
import { startTestPlatform, type Client, type TestPlatform, type User } from '../support/platform';
import { registerAdmin } from '../tasks.support';
import { ISO, rest, type Rest } from './support';

let double: LlmDouble;
let t: TestPlatform;
let ada: User;
let stranger: User;
let admin: Client;
let api: Rest;
let asAdmin: Rest;

beforeAll(async () => {
  double = await startLlmDouble();
  useUpstream(double, { LLM_BREAKER_FAILURES: '3', LLM_BREAKER_COOLDOWN_SECONDS: '120' });
  t = await startTestPlatform();
  [ada, stranger, admin] = [await t.register('Ada'), await t.register('Stranger'), await registerAdmin(t)];
  api = rest(t, ada.credential);
  asAdmin = rest(t, admin.credential);
});
afterAll(async () => {
  await t.close();
  await double.close();
});

/** A turn of Ada's answered by the double. */
async function answeredTurn(content = 'Grade me') {
  const answer = await api('POST', '/runtime/api/agent/message', { body: { content } });
  expect(answer.status).toBe(200);
  return { sessionId: answer.body.session_id as string, turnId: answer.body.turn_id as string };
}

// api/routes/sessions.rs: post_turn_feedback, get_turn_feedback, put_turn_feedback, get_session_feedback;
// ironclad-db/src/sessions.rs record_feedback (an upsert on turn_id), update_feedback.
describe('feedback (sessions.rs)', () => {
  test('POST grades (200, {id, turn_id, grade}), again replaces it; GET reads it; PUT {turn_id, grade, updated}', async () => {
    const { sessionId, turnId } = await answeredTurn();
    const none = await api('GET', `/runtime/api/turns/${turnId}/feedback`);
    expect(none.status).toBe(404); // "no feedback for turn …"
    expect(typeof none.body.error).toBe('string');

    for (const grade of [0, 6]) {
      const refused = await api('POST', `/runtime/api/turns/${turnId}/feedback`, { body: { grade } });
      expect(refused.status).toBe(400); // "grade must be between 1 and 5"
      expect(refused.body.error).toContain('grade');
    }
    const long = await api('POST', `/runtime/api/turns/${turnId}/feedback`, {
      body: { grade: 3, comment: 'x'.repeat(4097) },
    });
    expect(long.status).toBe(400); // comment at most 4096 characters

    const posted = await api('POST', `/runtime/api/turns/${turnId}/feedback`, { body: { grade: 4 } });
    expect(posted.status).toBe(200);
    expect(posted.body).toMatchObject({ id: expect.any(String), turn_id: turnId, grade: 4 });
    const regraded = await api('POST', `/runtime/api/turns/${turnId}/feedback`, {
      body: { grade: 2, comment: 'worse on reflection' },
    });
    expect(regraded.status).toBe(200);
    expect(regraded.body).toMatchObject({ turn_id: turnId, grade: 2 });

    const read = await api('GET', `/runtime/api/turns/${turnId}/feedback`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      id: expect.any(String),
      turn_id: turnId,
      session_id: sessionId,
      grade: 2,
      source: 'dashboard',
      comment: 'worse on reflection',
      created_at: ISO,
    });

    const put = await api('PUT', `/runtime/api/turns/${turnId}/feedback`, { body: { grade: 5 } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ turn_id: turnId, grade: 5, updated: true });

    const listed = await api('GET', `/runtime/api/sessions/${sessionId}/feedback`);
    expect(listed.status).toBe(200);
    expect(listed.body.feedback).toEqual([
      expect.objectContaining({ turn_id: turnId, session_id: sessionId, grade: 5, source: 'dashboard' }),
    ]);
  });

  test("an unknown turn is 404; an unknown session's feedback is an empty list (list_session_feedback)", async () => {
    const missing = await api('POST', '/runtime/api/turns/turn_nonexistent/feedback', { body: { grade: 3 } });
    expect(missing.status).toBe(404);
    expect(typeof missing.body.error).toBe('string');
    const unknown = await api('GET', '/runtime/api/sessions/ses_nonexistent/feedback');
    expect(unknown.status).toBe(200);
    expect(unknown.body.feedback).toEqual([]);
    // Another account's session reads the same as an unknown one: nothing of it.
    const { sessionId } = await answeredTurn('Mine only');
    const foreign = await rest(t, stranger.credential)('GET', `/runtime/api/sessions/${sessionId}/feedback`);
    expect(foreign.body.feedback).toEqual([]);
  });
});

// admin/config_models_apply.rs get_available_models; sessions.rs list_model_selection_events.
describe('models (config_models_apply.rs, sessions.rs)', () => {
  test('GET /api/models/available: model ids as strings and their count', async () => {
    const available = await api('GET', '/runtime/api/models/available');
    expect(available.status).toBe(200);
    expect(available.body.models.length).toBeGreaterThan(0);
    expect(available.body.models.every((m: unknown) => typeof m === 'string')).toBe(true);
    expect(available.body.count).toBe(available.body.models.length);
  });

  test('GET /api/models/selections: {events: [{event_id, turn_id, session_id, selected_model, …}], count}', async () => {
    const { sessionId, turnId } = await answeredTurn('Which model?');
    const selections = await api('GET', '/runtime/api/models/selections');
    expect(selections.status).toBe(200);
    expect(selections.body.count).toBe(selections.body.events.length);
    const event = selections.body.events.find((e: { turn_id: string }) => e.turn_id === turnId);
    expect(event).toMatchObject({
      event_id: expect.any(String),
      turn_id: turnId,
      session_id: sessionId,
      created_at: ISO,
    });
    for (const field of [
      'agent_id',
      'channel',
      'selected_model',
      'strategy',
      'primary_model',
      'override_model',
      'complexity',
      'user_excerpt',
    ])
      expect(event).toHaveProperty(field);
    expect(Array.isArray(event.candidates)).toBe(true);
  });
});

// admin/runtime_health.rs breaker_status, breaker_reset; mod.rs breaker_reset_unknown_provider_returns_404.
describe('circuit breaker (runtime_health.rs)', () => {
  test('GET /api/breaker/status: {providers: {name: {state, blocked, credit_tripped, operator_forced_open}}, config}', async () => {
    const status = await api('GET', '/runtime/api/breaker/status');
    expect(status.status).toBe(200);
    expect(status.body.providers).toEqual({
      default: { state: 'closed', blocked: false, credit_tripped: false, operator_forced_open: false },
    });
    expect(status.body.config).toMatchObject({ threshold: 3, cooldown_seconds: 120 });
    expect(status.body.config).toHaveProperty('max_cooldown_seconds');
    expect(status.body.config).toHaveProperty('window_seconds');
  });

  test('POST /api/breaker/reset/:provider → {provider, state: closed, reset: true}; unknown → 404', async () => {
    const reset = await asAdmin('POST', '/runtime/api/breaker/reset/default');
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ provider: 'default', state: 'closed', reset: true });
    const unknown = await asAdmin('POST', '/runtime/api/breaker/reset/nonexistent');
    expect(unknown.status).toBe(404);
    expect(typeof unknown.body.error).toBe('string');
  });
});

// admin/advanced_provider_a2a.rs set_provider_key, delete_provider_key.
describe('provider keys (advanced_provider_a2a.rs)', () => {
  test('PUT {api_key} → {stored, provider, keystore_entry}; empty → 400; unknown → 404; DELETE → {removed, …}', async () => {
    const empty = await asAdmin('PUT', '/runtime/api/providers/default/key', { body: { api_key: '   ' } });
    expect(empty.status).toBe(400);
    const unknown = await asAdmin('PUT', '/runtime/api/providers/nonexistent/key', {
      body: { api_key: 'sk-x' },
    });
    expect(unknown.status).toBe(404);

    const stored = await asAdmin('PUT', '/runtime/api/providers/default/key', {
      body: { api_key: 'sk-contract' },
    });
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({
      stored: true,
      provider: 'default',
      keystore_entry: 'default_api_key',
    });
    expect(stored.text).not.toContain('sk-contract');

    const removed = await asAdmin('DELETE', '/runtime/api/providers/default/key');
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({
      removed: true,
      provider: 'default',
      keystore_entry: 'default_api_key',
    });
    // Nothing set through the API any more: nothing removed.
    const again = await asAdmin('DELETE', '/runtime/api/providers/default/key');
    expect(again.body).toMatchObject({ removed: false, provider: 'default' });
    expect((await asAdmin('DELETE', '/runtime/api/providers/nonexistent/key')).status).toBe(404);
  });
});

// admin/approvals.rs list_approvals, approve_request, deny_request; ironclad-agent/src/approvals.rs.
describe('approvals (admin/approvals.rs)', () => {
  async function pendingRequest(title: string) {
    const { createTask } = await ada.data(CreateTaskDocument, { input: { title, requiresApproval: true } });
    const { approvals } = await ada.data(ApprovalsDocument, { state: 'PENDING' });
    return approvals.nodes.find((node) => node.taskId === createTask.id)!.id;
  }

  test('GET {pending: [...], total}; approve → {approval, replay_queued}; deny → the request; unknown → 404', async () => {
    const [first, second] = [await pendingRequest('approve me'), await pendingRequest('deny me')];
    const list = await api('GET', '/runtime/api/approvals');
    expect(list.status).toBe(200);
    expect(list.body.pending.map((a: { id: string }) => a.id)).toEqual(
      expect.arrayContaining([first, second]),
    );
    expect(typeof list.body.total).toBe('number');
    for (const request of list.body.pending)
      expect(request).toMatchObject({
        id: expect.any(String),
        tool_name: expect.any(String),
        tool_input: expect.any(String),
        status: 'Pending',
        decided_by: null,
        decided_at: null,
        created_at: ISO,
      });

    const approved = await api('POST', `/runtime/api/approvals/${first}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body.approval).toMatchObject({
      id: first,
      status: 'Approved',
      decided_by: ada.id,
      decided_at: ISO,
    });
    expect(typeof approved.body.replay_queued).toBe('boolean');

    const denied = await api('POST', `/runtime/api/approvals/${second}/deny`, {
      body: { reason: 'not now' },
    });
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({ id: second, status: 'Denied', decided_by: ada.id });

    const unknown = await api('POST', '/runtime/api/approvals/apr_nonexistent/approve');
    expect(unknown.status).toBe(404);
    expect(typeof unknown.body.error).toBe('string');
  });
});

// channels.rs get_dead_letters, replay_dead_letter; mod.rs dead_letters_empty, replay_dead_letter_not_found.
// The items of a failed delivery are checked in test/rest/webhooks.test.ts.
describe('dead letters (channels.rs)', () => {
  test('GET → {items: [], count: 0} when none; replay of an unknown id → 404', async () => {
    const empty = await api('GET', '/runtime/api/channels/dead-letter');
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ items: [], count: 0 });
    const missing = await api(
      'POST',
      '/runtime/api/channels/dead-letter/msg_01jzzzzzzzzzzzzzzzzzzzzzzz/replay',
    );
    expect(missing.status).toBe(404);
    expect(typeof missing.body.error).toBe('string');
  });
});

// admin/operator_tools.rs wallet_balance, wallet_address; mod.rs wallet_balance_returns_fields,
// wallet_address_returns_fields.
describe('wallet (operator_tools.rs)', () => {
  test('GET /api/wallet/balance: balance as a string and currency', async () => {
    const balance = await api('GET', '/runtime/api/wallet/balance');
    expect(balance.status).toBe(200);
    expect(balance.body).toMatchObject({ balance: '0.00', currency: 'USDC' });
    expect(balance.body).toHaveProperty('address');
  });

  test('GET /api/wallet/address: the address field', async () => {
    const address = await api('GET', '/runtime/api/wallet/address');
    expect(address.status).toBe(200);
    expect(address.body).toHaveProperty('address');
  });
});
