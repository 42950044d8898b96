// A frontend's normalized cache stays right: after each mutation that changes credits, a cache-only read of the
// viewer shows the new balance (Balance.id), and after updateProfile the member's fields; no refetch.
// Apollo Client 4 with InMemoryCache and PersistedQueryLink, and urql's graphcache.
// Run with: API_URL=http://.../graphql ADMIN_TOKEN=... node --test
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { Client, fetchExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';

const url = process.env.API_URL;
const adminToken = process.env.ADMIN_TOKEN;
const unique = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

function apollo(token, { persisted = false, log = null } = {}) {
  const fetchLogged = async (input, init) => {
    if (log) log.push(init?.method === 'GET' ? new URL(input).searchParams : JSON.parse(init.body));
    return fetch(input, init);
  };
  const http = new HttpLink({ uri: url, fetch: fetchLogged, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const link = persisted ? new PersistedQueryLink({ sha256 }).concat(http) : http;
  return new ApolloClient({ link, cache: new InMemoryCache() });
}

const SIGN_UP = gql`mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) { member { id name } token userErrors { code } } }`;
const VIEWER = gql`query Viewer { viewer { id name headline balance { id available } } }`;
const BALANCE = 'balance { id available }';

async function signUp(name) {
  const { data } = await apollo().mutate({ mutation: SIGN_UP, variables: { input: { email: `${name}-${unique}@example.com`, name } } });
  assert.deepEqual(data.signUp.userErrors, []);
  return data.signUp;
}

async function cachedViewer(client) {
  const { data } = await client.query({ query: VIEWER, fetchPolicy: 'cache-only' });
  return data.viewer;
}

test('every credit-changing mutation updates the cached viewer balance (Apollo InMemoryCache)', async () => {
  const ann = await signUp('ann');
  const bob = await signUp('bob');
  const annClient = apollo(ann.token);
  const bobClient = apollo(bob.token);
  assert.equal((await annClient.query({ query: VIEWER })).data.viewer.balance.available, 15);
  assert.equal((await bobClient.query({ query: VIEWER })).data.viewer.balance.available, 15);

  const mutate = async (client, text, variables) => {
    const { data } = await client.mutate({ mutation: gql(text), variables });
    const payload = Object.values(data)[0];
    assert.deepEqual(payload.userErrors, []);
    return payload;
  };

  const sent = await mutate(annClient, `mutation($i: SendInvitationInput!) { sendInvitation(input: $i) {
    invitation { id } ${BALANCE} userErrors { code } } }`, { i: { inviteeId: bob.member.id } });
  assert.equal((await cachedViewer(annClient)).balance.available, 14, 'send');

  await mutate(bobClient, `mutation($i: InvitationActionInput!) { acceptInvitation(input: $i) {
    ${BALANCE} userErrors { code } } }`, { i: { invitationId: sent.invitation.id } });
  assert.equal((await cachedViewer(bobClient)).balance.available, 16, 'accept');

  await mutate(annClient, `mutation($i: ImportContactsInput!) { importContacts(input: $i) { ${BALANCE} userErrors { code } } }`,
    { i: { contacts: [1, 2, 3].map((n) => ({ email: `contact${n}-${unique}@example.org` })) } });
  assert.equal((await cachedViewer(annClient)).balance.available, 17, 'import');

  const company = (await apollo(adminToken).mutate({ mutation: gql`mutation($i: CreateCompanyInput!) {
    createCompany(input: $i) { company { id } userErrors { code } } }`,
  variables: { i: { name: 'Acme', slug: `acme-${unique}`.replace(/[^a-z0-9-]/g, '') } } })).data.createCompany.company;
  await mutate(annClient, `mutation($i: FollowCompanyInput!) { followCompany(input: $i) { ${BALANCE} userErrors { code } } }`,
    { i: { companyId: company.id } });
  assert.equal((await cachedViewer(annClient)).balance.available, 18, 'follow');

  await mutate(annClient, `mutation($i: PostDiscussionInput!) { postDiscussion(input: $i) { ${BALANCE} userErrors { code } } }`,
    { i: { kind: 'POST', body: 'Hello' } });
  assert.equal((await cachedViewer(annClient)).balance.available, 19, 'post');

  await mutate(annClient, `mutation($i: UpdateProfileInput!) { updateProfile(input: $i) {
    member { id name headline } ${BALANCE} userErrors { code } } }`, { i: {
    name: 'Ann Renamed', headline: 'Engineer', about: 'About', location: 'Oslo',
    experience: [{ title: 'Dev', organization: 'Acme' }], education: [{ school: 'NTNU' }], skills: ['a', 'b', 'c'] } });
  const edited = await cachedViewer(annClient);
  assert.deepEqual([edited.name, edited.headline, edited.balance.available], ['Ann Renamed', 'Engineer', 34], 'profile');

  const admin = apollo(adminToken);
  const MEMBER = gql`query($id: ID!) { member(id: $id) { id ${BALANCE} } }`;
  assert.equal((await admin.query({ query: MEMBER, variables: { id: ann.member.id } })).data.member.balance.available, 34);
  await mutate(admin, `mutation($i: AdjustCreditsInput!) { adjustCredits(input: $i) { ${BALANCE} userErrors { code } } }`,
    { i: { memberId: ann.member.id, amount: 5, note: 'bonus' } });
  const cached = await admin.query({ query: MEMBER, variables: { id: ann.member.id }, fetchPolicy: 'cache-only' });
  assert.equal(cached.data.member.balance.available, 39, 'admin adjust');
});

test('automatic persisted queries: hash only, then the document once, then the hash only (POST and GET)', async () => {
  const ann = await signUp('apq');
  for (const useGETForHashedQueries of [false, true]) {
    const log = [];
    const fetchLogged = async (input, init) => {
      log.push(init?.method === 'GET' ? Object.fromEntries(new URL(input).searchParams) : JSON.parse(init.body));
      return fetch(input, init);
    };
    const http = new HttpLink({ uri: url, fetch: fetchLogged, headers: { authorization: `Bearer ${ann.token}` } });
    const link = new PersistedQueryLink({ sha256, useGETForHashedQueries }).concat(http);
    const query = gql`query Apq${useGETForHashedQueries ? 'Get' : 'Post'} { viewer { id balance { id available } } }`;
    for (let i = 0; i < 2; i++) {
      const client = new ApolloClient({ link, cache: new InMemoryCache() });
      assert.equal((await client.query({ query })).data.viewer.balance.available, 15);
    }
    const sentQuery = log.map((request) => Boolean(request.query));
    assert.deepEqual(sentQuery, [false, true, false], JSON.stringify(log));
  }
});

test('urql graphcache: the payload balance updates the cached viewer', async () => {
  const ann = await signUp('urql');
  const bob = await signUp('urql-bob');
  const client = new Client({ url, exchanges: [cacheExchange({}), fetchExchange],
    fetchOptions: { headers: { authorization: `Bearer ${ann.token}` } } });
  const viewer = 'query { viewer { id balance { id available } } }';
  assert.equal((await client.query(viewer, {}).toPromise()).data.viewer.balance.available, 15);
  const sent = await client.mutation(`mutation($i: SendInvitationInput!) { sendInvitation(input: $i) {
    balance { id available } userErrors { code } } }`, { i: { inviteeId: bob.member.id } }).toPromise();
  assert.deepEqual(sent.data.sendInvitation.userErrors, []);
  const cached = await client.query(viewer, {}, { requestPolicy: 'cache-only' }).toPromise();
  assert.equal(cached.data.viewer.balance.available, 14);
});
