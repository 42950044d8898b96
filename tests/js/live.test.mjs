// The balance live over graphql-transport-ws (the graphql-ws client): subscribed on one server process, changed
// through another process on the same database. Run with: API_URL=... OTHER_URL=... node --test
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const url = process.env.API_URL;
const other = process.env.OTHER_URL;
const unique = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

async function gql(target, query, variables, token) {
  const response = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ query, variables }) });
  return (await response.json()).data;
}

async function signUp(name) {
  const data = await gql(url, `mutation($i: SignUpInput!) { signUp(input: $i) { member { id } token } }`,
    { i: { email: `${name}-${unique}@example.com`, name } });
  return data.signUp;
}

test('a send made through another process reaches the subscriber', async () => {
  const ann = await signUp('ann');
  const bob = await signUp('bob');
  const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: true,
    connectionParams: { Authorization: `Bearer ${ann.token}` } });
  const seen = [];
  const failures = [];
  let wake;
  const unsubscribe = client.subscribe({ query: 'subscription { balanceChanged { id available } }' }, {
    next: (message) => { seen.push(message.data.balanceChanged.available); if (wake) wake(); },
    error: (error) => failures.push(error), complete: () => {} });
  const waitFor = async (n) => {
    const deadline = Date.now() + 10_000;
    while (seen.length < n && Date.now() < deadline) await new Promise((resolve) => { wake = resolve; setTimeout(resolve, 200); });
  };
  await waitFor(1);
  assert.deepEqual(seen, [15]);
  const sent = await gql(other, `mutation($i: SendInvitationInput!) { sendInvitation(input: $i) { userErrors { code } } }`,
    { i: { inviteeId: bob.member.id } }, ann.token);
  assert.deepEqual(sent.sendInvitation.userErrors, []);
  await waitFor(2);
  assert.deepEqual(seen, [15, 14]);
  assert.deepEqual(failures, []);
  unsubscribe();
  await client.dispose();
});

test('a bad token closes the socket with 4403', async () => {
  const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0,
    connectionParams: { Authorization: 'Bearer nope' } });
  const closed = await new Promise((resolve) => {
    client.subscribe({ query: 'subscription { balanceChanged { available } }' }, {
      next: () => {}, error: (error) => resolve(error), complete: () => resolve(null) });
  });
  assert.equal(closed?.code, 4403);
  await client.dispose();
});
