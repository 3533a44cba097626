/**
 * Per dialect: every route its reference documents name and whether a table row serves it, with
 * totals. Exits non-zero when a row's operation does not validate against schema/api.graphql.
 */
import { DIALECTS } from '../router/rest/dialects';
import { coverageOf, operationProblems, readDocumentedRoutes } from '../router/rest/coverage';
import { loadApiSchema } from '../router/rest/variables';

function main(): number {
  const documented = readDocumentedRoutes();
  let served = 0;
  let total = 0;
  for (const dialect of DIALECTS) {
    const report = coverageOf(dialect, documented[dialect.name] ?? []);
    console.log(`\n${dialect.name} (${dialect.title}; reference ${dialect.references.join(', ')})`);
    for (const route of report.routes) {
      const mark = route.served ? 'served' : '  -   ';
      const note = route.note ? `  (${route.note})` : '';
      console.log(
        `  ${mark}  ${route.method.padEnd(6)} ${route.path.padEnd(44)} ${route.refs.join(',')}${note}`,
      );
    }
    for (const extra of report.undocumented)
      console.log(`  extra   ${extra} (not in the reference documents)`);
    console.log(`  ${dialect.name}: ${report.served} of ${report.total} documented routes served`);
    served += report.served;
    total += report.total;
  }
  console.log(`\nall dialects: ${served} of ${total} documented routes served`);

  const problems = operationProblems(DIALECTS, loadApiSchema());
  const rows = DIALECTS.reduce((n, d) => n + d.routes.length + (d.sockets?.length ?? 0), 0);
  if (problems.length) {
    console.error(`\n${problems.length} operation problem(s) against schema/api.graphql:`);
    for (const problem of problems) console.error(`  ${problem}`);
    return 1;
  }
  console.log(`operations: all ${rows} rows validate against schema/api.graphql`);
  return 0;
}

process.exit(main());
