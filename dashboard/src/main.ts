/**
 * The live dashboard: sign in with e-mail and password (the login mutation) or an API key, then
 * panels fed by GraphQL subscriptions over one graphql-ws connection that resumes after a drop.
 * The credential stays in this tab's sessionStorage only.
 */
import { Api, ApiError } from './api';
import { chatFeed, memoryFeed, taskFeed, walletFeed } from './feeds';
import { LiveConnection, type ConnectionState } from './live';
import { LOGIN, ME } from './operations';
import { startStatus } from './status';

const STORAGE_KEY = 'agentry.dashboard.credential';

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

async function signIn(form: HTMLFormElement): Promise<string> {
  const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
  if (value('apiKey')) return value('apiKey');
  const { login } = await new Api().request<{ login: { accessToken: string } }>(LOGIN, {
    input: { email: value('email'), password: value('password') },
  });
  return login.accessToken;
}

async function open(credential: string): Promise<void> {
  const api = new Api(credential);
  const { me } = await api.request<{ me: Account }>(ME);
  sessionStorage.setItem(STORAGE_KEY, credential);
  $('#sign-in').hidden = true;
  const board = $('#board');
  board.hidden = false;
  $('#who').textContent = `${me.displayName}${me.role === 'ADMIN' ? ' (admin)' : ''}`;

  const state = $('#connection');
  const live = new LiveConnection(
    `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    credential,
    (next: ConnectionState, detail?: string) => {
      state.dataset.state = next;
      state.textContent = detail ? `${next} · ${detail}` : next;
      if (next === 'refused') signOut('The platform refused this credential; sign in again.');
    },
  );
  for (const feed of [chatFeed(board, live), taskFeed(board), walletFeed(board, api), memoryFeed(board, api)])
    live.add(feed);
  const stopStatus = startStatus(board, api, me.role === 'ADMIN');
  live.start();

  const signOut = (message = '') => {
    live.stop();
    stopStatus();
    sessionStorage.removeItem(STORAGE_KEY);
    location.hash = '';
    // A fresh page drops every panel's rows and listeners at once.
    if (message) showSignIn(message);
    else location.reload();
  };
  $('#sign-out').onclick = () => signOut();
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
  const saved = sessionStorage.getItem(STORAGE_KEY);
  if (saved) open(saved).catch(() => showSignIn('Your sign-in has expired; sign in again.'));
  else showSignIn();
}

main();
