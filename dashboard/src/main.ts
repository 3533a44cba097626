/**
 * The live dashboard: sign in with e-mail and password (the login mutation) or an API key, then
 * panels fed by GraphQL subscriptions over one graphql-ws connection that resumes after a drop.
 */
import { Api, ApiError } from './api';
import { Credential, fromAuthPayload } from './credential';
import { chatFeed, memoryFeed, taskFeed, walletFeed } from './feeds';
import { LiveConnection, type ConnectionState } from './live';
import { LOGIN, ME } from './operations';
import { startStatus } from './status';

interface Account {
  id: string;
  displayName: string;
  role: 'USER' | 'ADMIN';
}

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;

function showSignIn(message = ''): void {
  $('#board').hidden = true;
  $('#sign-in').hidden = false;
  $('#sign-in-error').textContent = message;
}

async function signIn(form: HTMLFormElement): Promise<Credential> {
  const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
  if (value('apiKey')) return Credential.keep({ token: value('apiKey') });
  const { login } = await new Api().request<{
    login: { accessToken: string; refreshToken: string; expiresIn: number };
  }>(LOGIN, { input: { email: value('email'), password: value('password') } });
  return Credential.keep(fromAuthPayload(login));
}

async function open(credential: Credential): Promise<void> {
  const api = new Api(() => credential.token);
  const { me } = await api.request<{ me: Account }>(ME).catch((error: Error) => {
    credential.forget();
    throw error;
  });
  $('#sign-in').hidden = true;
  const board = $('#board');
  board.hidden = false;
  $('#who').textContent = `${me.displayName}${me.role === 'ADMIN' ? ' (admin)' : ''}`;

  const state = $('#connection');
  const live = new LiveConnection(
    `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    () => credential.token,
    (next: ConnectionState, detail?: string) => {
      state.dataset.state = next;
      state.textContent = detail ? `${next} · ${detail}` : next;
      if (next === 'refused') signOut('The platform refused this credential; sign in again.');
    },
  );
  const stopStatus = startStatus(board, api, me.role === 'ADMIN');
  const signOut = (message = '') => {
    live.stop();
    stopStatus();
    credential.forget();
    // A fresh page drops every panel's rows and listeners at once.
    if (message) showSignIn(message);
    else location.reload();
  };
  $('#sign-out').onclick = () => signOut();

  for (const feed of [chatFeed(board, live), taskFeed(board), walletFeed(board, api), memoryFeed(board, api)])
    live.add(feed);
  credential.keepFresh(
    api,
    () => live.renew(),
    () => signOut('Your sign-in has ended; sign in again.'),
  );
  live.start();
}

function main(): void {
  const form = $<HTMLFormElement>('#sign-in-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    $('#sign-in-error').textContent = '';
    signIn(form)
      .then(open)
      .catch((error: Error) =>
        showSignIn(
          error instanceof ApiError ? error.message : `Could not reach the platform: ${error.message}`,
        ),
      );
  });
  const saved = Credential.saved();
  if (saved) open(saved).catch(() => showSignIn('Your sign-in has expired; sign in again.'));
  else showSignIn();
}

main();
