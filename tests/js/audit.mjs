// The GraphQL-over-HTTP spec's own audit suite against a live server: every audit must be ok.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://127.0.0.1:PORT/graphql');
  process.exit(2);
}
const results = await auditServer({ url });
const notOk = results.filter((r) => r.status !== 'ok');
for (const r of notOk) console.log(`${r.status.toUpperCase()} ${r.id} ${r.name}: ${r.reason}`);
console.log(`audit: ${results.length - notOk.length} ok, ${notOk.length} not ok of ${results.length}`);
process.exit(notOk.length ? 1 : 0);
