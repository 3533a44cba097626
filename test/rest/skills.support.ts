/** A test platform reading its skills from `dir`, with a user, an admin and an anonymous caller. */
import { LoginDocument } from '../generated/graphql';
import { startTestPlatform } from '../support/platform';
import { sql } from '../tasks.support';
import { rest } from './support';

export async function startWithSkills(dir: string) {
  process.env.SKILLS_DIR = dir;
  const t = await startTestPlatform();
  const ada = await t.register('Ada');
  const boss = await t.register('Boss');
  await sql(t, `update "accounts"."account" set "role" = 'ADMIN' where "id" = $1`, [boss.id]);
  const { login } = await t.data(LoginDocument, { input: { email: boss.email, password: boss.password } });
  return { t, ada, adaApi: rest(t, ada.credential), admin: rest(t, login.accessToken), anonymous: rest(t) };
}
