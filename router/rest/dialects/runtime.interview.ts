/**
 * The setup interview (002; Ironclad's api/routes/interview.rs), rows of the runtime dialect. The
 * request and answer fields are Ironclad's (`session_key`, `content`, `turn`); where Ironclad's
 * finish only stages personality files awaiting confirmation, ours applies the configuration the
 * conversation proposed through the settings store (admins), as the 002 document's "Finalize".
 */
import { InterviewFinishDocument, InterviewStartDocument, InterviewTurnDocument } from '../generated/graphql';
import { fromBody, required } from '../mapping';
import { route } from '../types';

type Setting = { key: string; value: string };

/** Settings as one JSON object by key (a null-prototype one: keys come from the LLM). */
const settingsObject = (settings: Setting[]) => {
  const object: Record<string, unknown> = Object.create(null);
  for (const { key, value } of settings) object[key] = JSON.parse(value);
  return object;
};

const sessionKey = required(fromBody('session_key'));

export const interviewRoutes = [
  route({
    method: 'POST',
    path: '/api/interview/start',
    summary:
      'Start a setup interview (session_key optional; model optional, else the default model); 409 while one of that key runs',
    operation: InterviewStartDocument,
    variables: { sessionKey: fromBody('session_key'), model: fromBody('model') },
    shape: ({ startInterview: i }) => ({
      session_key: i.sessionKey,
      status: 'started',
      opening: i.opening,
      model: i.model,
    }),
  }),
  route({
    method: 'POST',
    path: '/api/interview/turn',
    summary:
      "Answer the interview: the LLM's next message, and the configuration it proposed as the settings store checks it (503 without an upstream)",
    operation: InterviewTurnDocument,
    variables: { sessionKey, content: required(fromBody('content')) },
    shape: ({ interviewTurn: t }) => ({
      session_key: t.sessionKey,
      content: t.content,
      turn: t.turn,
      proposal: t.proposal && {
        status: t.proposal.valid ? 'valid' : 'invalid',
        settings: settingsObject(t.proposal.settings),
        errors: t.proposal.errors,
      },
    }),
  }),
  route({
    method: 'POST',
    path: '/api/interview/finish',
    summary:
      "Finalize: apply the configuration of the LLM's last answer through the config store (admins; 422 when none or invalid; once)",
    operation: InterviewFinishDocument,
    variables: { sessionKey },
    shape: ({ finishInterview: f }) => ({
      session_key: f.sessionKey,
      status: 'applied',
      settings_applied: f.applied.length,
      applied: settingsObject(f.applied),
    }),
  }),
];
