import { ConfigError, loadConfig, subgraphUrl } from '../lib';

test('defaults run with nothing configured', () => {
  const config = loadConfig({});
  expect(config).toMatchObject({ PORT: 4000, HOST: '127.0.0.1', DATA_DIR: '.data', LOG_LEVEL: 'info' });
  expect(config.DATABASE_URL).toBeUndefined();
  expect(subgraphUrl(config, 'tasks')).toBe('http://127.0.0.1:4005/graphql');
});

test.each([
  ['PORT', { PORT: '70000' }],
  ['PORT', { PORT: 'eighty' }],
  ['DATABASE_URL', { DATABASE_URL: 'mysql://localhost/db' }],
  ['REDIS_URL', { REDIS_URL: 'not a url' }],
  ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
  ['TASKS_URL', { TASKS_URL: 'ftp://tasks' }],
])('a bad %s is refused with its name', (name, env) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(new RegExp(`${name}: `));
});

test('configured values win and empty ones fall back to defaults', () => {
  const config = loadConfig({ PORT: '8080', TASKS_URL: 'http://tasks:4000/graphql', LOG_LEVEL: '' });
  expect(config.PORT).toBe(8080);
  expect(config.LOG_LEVEL).toBe('info');
  expect(subgraphUrl(config, 'tasks')).toBe('http://tasks:4000/graphql');
});
