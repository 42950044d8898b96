// GraphiQL in a real browser, offline: headless Chromium (Debian's) driven by playwright-core.
// Every request that leaves the server under test is refused, so the page must work without internet.
// Run with: API_URL=http://127.0.0.1:PORT SCREENSHOT=path.png node --test graphiql.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launch } from './browser.mjs';

const base = process.env.API_URL;
const screenshot = process.env.SCREENSHOT ?? 'graphiql.png';

test('GraphiQL loads offline and runs a typed policy query', async () => {
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const refused = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(base) || url.startsWith('data:')) return route.continue();
      refused.push(url);
      return route.abort();
    });
    const failures = [];
    page.on('pageerror', (error) => failures.push(String(error)));

    // The page opens on the service's example (several operations); a shared link (?q=) opens on one query.
    const query = encodeURIComponent('{ policy { balanceCap initialCredits } }');
    await page.goto(`${base}/graphql?q=${query}`, { waitUntil: 'networkidle' });
    const editor = page.locator('.graphiql-query-editor .CodeMirror');
    await editor.waitFor({ timeout: 30000 });
    await page.locator('.graphiql-execute-button').click();
    const response = page.locator('.graphiql-response');
    await response.getByText('"balanceCap": 200').waitFor({ timeout: 30000 });
    assert.match(await response.innerText(), /"initialCredits": 15/);
    await page.screenshot({ path: screenshot, fullPage: true });
    assert.deepEqual(refused, [], 'the page asked the internet for something');
    assert.deepEqual(failures, []);
  } finally {
    await browser.close();
  }
});

test('GraphiQL runs a subscription: the balance, then the balance after a send', async () => {
  const gql = async (query, variables, token) => (await (await fetch(`${base}/graphql`, {
    method: 'POST', body: JSON.stringify({ query, variables }),
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  })).json()).data;
  const unique = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const join = async (name) => (await gql('mutation($i: SignUpInput!) { signUp(input: $i) { member { id } token } }',
    { i: { email: `${name}-${unique}@example.com`, name } })).signUp;
  const ann = await join('ann');
  const bob = await join('bob');
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const query = encodeURIComponent('subscription { balanceChanged { available } }');
    const headers = encodeURIComponent(JSON.stringify({ Authorization: `Bearer ${ann.token}` }));
    await page.goto(`${base}/graphql?q=${query}&headers=${headers}`, { waitUntil: 'networkidle' });
    await page.locator('.graphiql-query-editor .CodeMirror').waitFor({ timeout: 30000 });
    await page.locator('.graphiql-execute-button').click();
    const response = page.locator('.graphiql-response');
    await response.getByText('"available": 15').waitFor({ timeout: 30000 });
    const sent = await gql('mutation($i: SendInvitationInput!) { sendInvitation(input: $i) { userErrors { code } } }',
      { i: { inviteeId: bob.member.id } }, ann.token);
    assert.deepEqual(sent.sendInvitation.userErrors, []);
    await response.getByText('"available": 14').waitFor({ timeout: 30000 });
  } finally {
    await browser.close();
  }
});
