// A frontend's view of the API, through graphql-request: sign up, invite, accept, page the ledger,
// handle userErrors and an UNAUTHENTICATED error. Run with: API_URL=http://.../graphql node --test
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientError, GraphQLClient, gql } from 'graphql-request';

const url = process.env.API_URL;
const client = (token) => new GraphQLClient(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
const unique = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

const SIGN_UP = gql`
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) { member { id name } token userErrors { code message field } }
  }`;
const SEND = gql`
  mutation Send($input: SendInvitationInput!) {
    sendInvitation(input: $input) { invitation { id status } balance { available } userErrors { code field } }
  }`;
const ACCEPT = gql`
  mutation Accept($input: InvitationActionInput!) {
    acceptInvitation(input: $input) { invitation { status } ledgerEntry { reason amount } userErrors { code } }
  }`;
const LEDGER = gql`
  query Ledger($first: Int, $after: String) {
    viewer { ledger(first: $first, after: $after) {
      edges { cursor node { reason amount balanceAfter } }
      pageInfo { hasNextPage endCursor }
    } }
  }`;

async function signUp(name) {
  const { signUp } = await client().request(SIGN_UP, { input: { email: `${name}-${unique}@example.com`, name } });
  assert.deepEqual(signUp.userErrors, []);
  return signUp;
}

test('sign up, invite, accept and page through the ledger', async () => {
  const ann = await signUp('ann');
  const bob = await signUp('bob');
  const sent = (await client(ann.token).request(SEND, { input: { inviteeId: bob.member.id, message: 'Hi Bob' } })).sendInvitation;
  assert.deepEqual(sent.userErrors, []);
  assert.equal(sent.balance.available, 14);
  const accepted = (await client(bob.token).request(ACCEPT, { input: { invitationId: sent.invitation.id } })).acceptInvitation;
  assert.equal(accepted.invitation.status, 'ACCEPTED');
  assert.deepEqual(accepted.ledgerEntry, { reason: 'INVITATION_ACCEPTED', amount: 1 });

  const reasons = [];
  let after = null;
  for (;;) {
    const page = (await client(bob.token).request(LEDGER, { first: 1, after })).viewer.ledger;
    reasons.push(...page.edges.map((e) => e.node.reason));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  assert.deepEqual(reasons, ['INVITATION_ACCEPTED', 'SIGNUP']);
});

test('refusals arrive as userErrors the form can show', async () => {
  const ann = await signUp('carl');
  const taken = (await client().request(SIGN_UP, { input: { email: `carl-${unique}@example.com`, name: 'Again' } })).signUp;
  assert.equal(taken.member, null);
  assert.deepEqual(taken.userErrors.map((e) => [e.code, e.field]), [['EMAIL_TAKEN', ['input', 'email']]]);
  const self = (await client(ann.token).request(SEND, { input: { inviteeId: ann.member.id } })).sendInvitation;
  assert.deepEqual(self.userErrors, [{ code: 'CANNOT_INVITE_SELF', field: ['input', 'inviteeId'] }]);
});

test('a bad token is an UNAUTHENTICATED error', async () => {
  await assert.rejects(client('not-a-token').request(LEDGER, { first: 1 }), (error) => {
    assert.ok(error instanceof ClientError);
    assert.equal(error.response.status, 401);
    assert.equal(error.response.errors[0].extensions.code, 'UNAUTHENTICATED');
    return true;
  });
});
