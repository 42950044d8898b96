// A web app on another origin calls the API from headless Chromium (Debian's, driven by playwright-core):
// with its origin listed in INVITE_CREDITS_CORS_ORIGINS it gets data; from an origin not listed, the browser
// refuses the answer (a CORS failure), as it must.
// Run with: PAGE_URL=http://127.0.0.1:P1/ OTHER_PAGE_URL=http://127.0.0.1:P2/ API_URL=http://127.0.0.1:P3/graphql
//           node --test cors.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launch } from './browser.mjs';

const api = process.env.API_URL;

async function callFrom(browser, pageUrl) {
  const page = await browser.newPage();
  await page.goto(pageUrl);
  // A token in Authorization makes this a preflighted request, as a real app's is.
  return page.evaluate(async (url) => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer not-needed-for-policy' },
        body: JSON.stringify({ query: '{ policy { balanceCap } }' }),
      });
      return { status: response.status, body: await response.json(), requestId: response.headers.get('x-request-id') };
    } catch (error) {
      return { error: String(error) };
    }
  }, api);
}

test('a listed origin gets data, another origin a CORS failure', async () => {
  const browser = await launch();
  try {
    const listed = await callFrom(browser, process.env.PAGE_URL);
    assert.equal(listed.error, undefined, JSON.stringify(listed));
    // The bad token is refused by the API itself (401), and the page can read that answer: CORS let it through.
    assert.equal(listed.status, 401, JSON.stringify(listed));
    assert.equal(listed.body.errors[0].extensions.code, 'UNAUTHENTICATED');
    assert.ok(listed.requestId, 'x-request-id is exposed to the page');
    const unlisted = await callFrom(browser, process.env.OTHER_PAGE_URL);
    assert.match(unlisted.error ?? '', /Failed to fetch/, JSON.stringify(unlisted));
  } finally {
    await browser.close();
  }
});

test('a listed origin reads data without a token', async () => {
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(process.env.PAGE_URL);
    const data = await page.evaluate(async (url) => {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ policy { balanceCap } }' }) });
      return response.json();
    }, api);
    assert.deepEqual(data, { data: { policy: { balanceCap: 200 } } });
  } finally {
    await browser.close();
  }
});
