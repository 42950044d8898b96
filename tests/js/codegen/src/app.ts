// What a frontend writes: documents typed by codegen. `tsc --noEmit` proves the generated types fit.
import { graphql } from './gql';
import type { ResultOf } from '@graphql-typed-document-node/core';

export const ViewerBalance = graphql(`
  query ViewerBalance {
    viewer { id name balance { id available expiringSoon nextExpiryAt asOf } }
  }
`);

export const Send = graphql(`
  mutation Send($input: SendInvitationInput!) {
    sendInvitation(input: $input) {
      invitation { id status sentAt }
      balance { id available }
      userErrors { code message field }
    }
  }
`);

type Viewer = NonNullable<ResultOf<typeof ViewerBalance>['viewer']>;

export function nextExpiry(viewer: Viewer): Date | null {
  const at: string | null | undefined = viewer.balance?.nextExpiryAt;  // DateTime comes out as string
  return at ? new Date(at) : null;
}

export function refused(result: ResultOf<typeof Send>): string[] {
  return result.sendInvitation.userErrors.map((error) => `${error.code}: ${error.message}`);
}
