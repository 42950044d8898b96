"""Mutation: every change goes through a mutation with one input and a payload with userErrors."""

from __future__ import annotations

import strawberry

from ..domain import ids
from ..domain.errors import Forbidden
from ..domain.policy import InvitationStatus
from .context import Info
from .inputs import (
    AdjustCreditsInput,
    AdvanceTestClockInput,
    CreateCompanyInput,
    ExtendCreditLotInput,
    FollowCompanyInput,
    FollowUpInvitationInput,
    ImportContactsInput,
    InvitationActionInput,
    PostDiscussionInput,
    ReverseLedgerEntryInput,
    SendInvitationInput,
    SetMemberTierInput,
    SignOutEverywhereInput,
    SignUpInput,
    UnfollowCompanyInput,
    UpdateProfileInput,
)
from .payloads import (
    AdjustCreditsPayload,
    AdvanceTestClockPayload,
    CreateCompanyPayload,
    ExtendCreditLotPayload,
    FollowCompanyPayload,
    ImportContactsPayload,
    InvitationPayload,
    PostDiscussionPayload,
    ReverseLedgerEntryPayload,
    SendInvitationPayload,
    SetMemberTierPayload,
    SignOutEverywherePayload,
    SignUpPayload,
    UnfollowCompanyPayload,
    UpdateProfilePayload,
    attempt,
    signed_out,
)
from .webhooks import (
    CreateWebhookEndpointInput,
    RedeliverEventInput,
    RedeliverEventPayload,
    UpdateWebhookEndpointInput,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointActionInput,
    WebhookEndpointPayload,
    WebhookEndpointSecretPayload,
    refused,
)


@strawberry.type(description="Every change goes through a mutation with one input and a payload with userErrors.")
class Mutation:
    @strawberry.mutation(description="Join the network: 15 credits, or 30 for an academic (.edu) email.")
    async def sign_up(self, info: Info, input: SignUpInput) -> SignUpPayload:
        if not info.context.signup_enabled:
            raise Forbidden("Sign-up is switched off: members join through the identity provider.")
        ctx = info.context
        result = await attempt(SignUpPayload, ctx.service.sign_up(ctx.actor, input.to_command(), input.idempotency_key), input)
        if result.outcome is not None and result.outcome.member_id is not None:
            ctx.also_readable.add(result.outcome.member_id)
        return result

    @strawberry.mutation(description="Edit your profile; completing it the first time earns credits.")
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> UpdateProfilePayload:
        ctx = info.context
        return await attempt(UpdateProfilePayload, ctx.service.update_profile(ctx.actor, input.to_command(),
                                                                              input.idempotency_key), input)

    @strawberry.mutation(description="Import up to 1,000 contacts; each new one earns a credit, 500 for life.")
    async def import_contacts(self, info: Info, input: ImportContactsInput) -> ImportContactsPayload:
        ctx = info.context
        return await attempt(ImportContactsPayload, ctx.service.import_contacts(ctx.actor, input.to_command(),
                                                                                input.idempotency_key), input)

    @strawberry.mutation(description="Follow a company; the first follow of each company earns a credit, 50 for life.")
    async def follow_company(self, info: Info, input: FollowCompanyInput) -> FollowCompanyPayload:
        ctx = info.context
        return await attempt(FollowCompanyPayload, ctx.service.follow_company(ctx.actor, input.to_command(),
                                                                              input.idempotency_key), input)

    @strawberry.mutation(description="Stop following a company.")
    async def unfollow_company(self, info: Info, input: UnfollowCompanyInput) -> UnfollowCompanyPayload:
        ctx = info.context
        return await attempt(UnfollowCompanyPayload, ctx.service.unfollow_company(ctx.actor, input.to_command(),
                                                                                  input.idempotency_key), input)

    @strawberry.mutation(description="Post, comment or publish an article; each earns a credit, 10 a month.")
    async def post_discussion(self, info: Info, input: PostDiscussionInput) -> PostDiscussionPayload:
        ctx = info.context
        return await attempt(PostDiscussionPayload, ctx.service.post_discussion(ctx.actor, input.to_command(),
                                                                                input.idempotency_key), input)

    @strawberry.mutation(description="Invite a member to connect: 1 credit (free for recruiters).")
    async def send_invitation(self, info: Info, input: SendInvitationInput) -> SendInvitationPayload:
        ctx = info.context
        return await attempt(SendInvitationPayload, ctx.service.send_invitation(ctx.actor, input.to_command(),
                                                                                input.idempotency_key), input)

    @strawberry.mutation(description="Accept an invitation sent to you: you connect and earn a credit.")
    async def accept_invitation(self, info: Info, input: InvitationActionInput) -> InvitationPayload:
        return await _answer(info, input, InvitationStatus.ACCEPTED)

    @strawberry.mutation(description="Decline an invitation sent to you.")
    async def decline_invitation(self, info: Info, input: InvitationActionInput) -> InvitationPayload:
        return await _answer(info, input, InvitationStatus.DECLINED)

    @strawberry.mutation(description="Withdraw an invitation you sent. The credit is not refunded.")
    async def withdraw_invitation(self, info: Info, input: InvitationActionInput) -> InvitationPayload:
        return await _answer(info, input, InvitationStatus.WITHDRAWN)

    @strawberry.mutation(description="Add one follow-up message to a pending invitation you sent.")
    async def follow_up_invitation(self, info: Info, input: FollowUpInvitationInput) -> InvitationPayload:
        ctx = info.context
        return await attempt(InvitationPayload, ctx.service.follow_up_invitation(ctx.actor, input.to_command(),
                                                                                 input.idempotency_key), input)

    @strawberry.mutation(description="Admin only.")
    async def set_member_tier(self, info: Info, input: SetMemberTierInput) -> SetMemberTierPayload:
        ctx = info.context
        return await attempt(SetMemberTierPayload, ctx.service.set_member_tier(ctx.actor, input.to_command(),
                                                                               input.idempotency_key), input)

    @strawberry.mutation(description="Admin only.")
    async def adjust_credits(self, info: Info, input: AdjustCreditsInput) -> AdjustCreditsPayload:
        ctx = info.context
        return await attempt(AdjustCreditsPayload, ctx.service.adjust_credits(ctx.actor, input.to_command(),
                                                                              input.idempotency_key), input)

    @strawberry.mutation(description="Admin only.")
    async def create_company(self, info: Info, input: CreateCompanyInput) -> CreateCompanyPayload:
        ctx = info.context
        return await attempt(CreateCompanyPayload, ctx.service.create_company(ctx.actor, input.to_command(),
                                                                              input.idempotency_key), input)

    @strawberry.mutation(description="Admin only, and only when the test clock is switched on.")
    async def advance_test_clock(self, info: Info, input: AdvanceTestClockInput) -> AdvanceTestClockPayload:
        ctx = info.context
        return await attempt(AdvanceTestClockPayload, ctx.service.advance_test_clock(ctx.actor, input.to_command()), input)

    @strawberry.mutation(description="Admin only. Reverse a grant or a spend with one REVERSAL entry linked to it: "
                                     "a grant's lot loses what is left of it, a spend's credits come back.")
    async def reverse_ledger_entry(self, info: Info, input: ReverseLedgerEntryInput) -> ReverseLedgerEntryPayload:
        ctx = info.context
        return await attempt(ReverseLedgerEntryPayload, ctx.service.reverse_ledger_entry(
            ctx.actor, input.to_command(), input.idempotency_key), input)

    @strawberry.mutation(description="Admin only. Move a lot's expiry later (at most 24 months after its grant), with "
                                     "a LOT_EXTENDED entry of amount 0.")
    async def extend_credit_lot(self, info: Info, input: ExtendCreditLotInput) -> ExtendCreditLotPayload:
        ctx = info.context
        return await attempt(ExtendCreditLotPayload, ctx.service.extend_credit_lot(
            ctx.actor, input.to_command(), input.idempotency_key), input)

    @strawberry.mutation(description="Admin only. A webhook endpoint for these event types; the payload shows its "
                                     "signing secret, once.")
    async def create_webhook_endpoint(self, info: Info,
                                      input: CreateWebhookEndpointInput) -> WebhookEndpointSecretPayload:
        ctx = info.context
        done, errors = await refused(ctx.service.create_endpoint(
            ctx.actor, input.url, [t.value for t in input.event_types], input.description, input.idempotency_key),
            input)
        return WebhookEndpointSecretPayload(endpoint=WebhookEndpoint.of(done[0]) if done else None,
                                            secret=done[1] if done else None, user_errors=errors)

    @strawberry.mutation(description="Admin only. Change an endpoint's URL, types, description, or switch it off.")
    async def update_webhook_endpoint(self, info: Info, input: UpdateWebhookEndpointInput) -> WebhookEndpointPayload:
        ctx = info.context
        done, errors = await refused(ctx.service.update_endpoint(
            ctx.actor, ids.decode("WebhookEndpoint", input.endpoint_id), input.url,
            [t.value for t in input.event_types] if input.event_types is not None else None, input.enabled,
            input.description), input)
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(done) if done else None, user_errors=errors)

    @strawberry.mutation(description="Admin only. Retire an endpoint: nothing more is sent to it.")
    async def delete_webhook_endpoint(self, info: Info, input: WebhookEndpointActionInput) -> WebhookEndpointPayload:
        ctx = info.context
        done, errors = await refused(ctx.service.delete_endpoint(
            ctx.actor, ids.decode("WebhookEndpoint", input.endpoint_id)), input)
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(done) if done else None, user_errors=errors)

    @strawberry.mutation(description="Admin only. A new signing secret, shown once; the old one keeps signing too "
                                     "for 24 hours.")
    async def rotate_webhook_secret(self, info: Info,
                                    input: WebhookEndpointActionInput) -> WebhookEndpointSecretPayload:
        ctx = info.context
        done, errors = await refused(ctx.service.rotate_secret(
            ctx.actor, ids.decode("WebhookEndpoint", input.endpoint_id)), input)
        return WebhookEndpointSecretPayload(endpoint=WebhookEndpoint.of(done[0]) if done else None,
                                            secret=done[1] if done else None, user_errors=errors)

    @strawberry.mutation(description="Admin only. Send an event to an endpoint again, as a new delivery.")
    async def redeliver_event(self, info: Info, input: RedeliverEventInput) -> RedeliverEventPayload:
        ctx = info.context
        done, errors = await refused(ctx.service.redeliver(
            ctx.actor, ids.decode("WebhookEndpoint", input.endpoint_id), ids.decode("Event", input.event_id)), input)
        return RedeliverEventPayload(delivery=WebhookDelivery.of(done) if done else None, user_errors=errors)

    @strawberry.mutation(description="End every session of a member (yourself, or anyone for an admin): every token "
                                     "issued before is refused from now on, on every server process.")
    async def sign_out_everywhere(self, info: Info, input: SignOutEverywhereInput) -> SignOutEverywherePayload:
        ctx = info.context
        return await signed_out(ctx.service.sign_out_everywhere(ctx.actor, input.to_command()), input)


async def _answer(info: Info, input: InvitationActionInput, status: InvitationStatus) -> InvitationPayload:
    ctx = info.context
    return await attempt(InvitationPayload, ctx.service.answer_invitation(ctx.actor, input.to_command(status),
                                                                          input.idempotency_key), input)
