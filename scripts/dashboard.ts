/**
 * Builds the live dashboard (dashboard/) into dist/dashboard: one bundled, minified script and its
 * stylesheet under content-hashed names (cached for good), and index.html pointing at them (never
 * cached). Everything the page loads comes from the platform: no CDN.
 */
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { projectRoot } from '../lib/project';

export const dashboardOutput = (root = projectRoot()) => join(root, 'dist', 'dashboard');

export async function buildDashboard(root = projectRoot()): Promise<string> {
  const source = join(root, 'dashboard');
  const out = dashboardOutput(root);
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const result = await build({
    entryPoints: [join(source, 'src', 'main.ts'), join(source, 'style.css')],
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    target: ['chrome120', 'firefox120', 'safari17'],
    entryNames: '[name]-[hash]',
    outdir: out,
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file));
  const script = outputs.find((file) => /^main-\w+\.js$/.test(file));
  const style = outputs.find((file) => /^style-\w+\.css$/.test(file));
  if (!script || !style) throw new Error(`dashboard build produced ${outputs.join(', ')}`);
  const page = (await readFile(join(source, 'index.html'), 'utf8'))
    .replace('__SCRIPT__', `/dashboard/${script}`)
    .replace('__STYLE__', `/dashboard/${style}`);
  await writeFile(join(out, 'index.html'), page);
  return out;
}

if (require.main === module) {
  buildDashboard().then(
    (out) => console.log(`dashboard built into ${out}`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
