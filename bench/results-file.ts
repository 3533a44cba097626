import { readFile, writeFile } from 'node:fs/promises';

const NOTES_START = '<!-- Notes below are written by hand and kept across runs. -->';
const NOTES_END = '<!-- End of the notes written by hand. -->';

/**
 * Writes a benchmark's results file, keeping the notes a person wrote between the two markers of
 * the previous file: the figures are the benchmark's, their reading is not.
 */
export async function writeResults(file: string, figures: string, appendix = ''): Promise<void> {
  const previous = await readFile(file, 'utf8').catch(() => '');
  const start = previous.indexOf(NOTES_START);
  const end = previous.indexOf(NOTES_END);
  const notes =
    start >= 0 && end > start
      ? previous.slice(start, end + NOTES_END.length)
      : `${NOTES_START}\n\n${NOTES_END}`;
  await writeFile(file, [figures.trimEnd(), notes, appendix.trim()].filter(Boolean).join('\n\n') + '\n');
}
