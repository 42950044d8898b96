"""Descriptions of arguments (by name: they mean the same wherever they appear) and of enum values (the domain's
enums are the schema's, and stay free of GraphQL), applied once to the built schema."""

from __future__ import annotations

from graphql import GraphQLEnumType, GraphQLObjectType, GraphQLSchema

ARGUMENTS = {
    "first": "How many items, 0 to 100 (default 20); outside that the query fails with BAD_USER_INPUT.",
    "after": "Continue after this cursor (a previous page's pageInfo.endCursor); one this connection did not issue "
             "is BAD_USER_INPUT.",
    "id": "A global ID, as the API returned it; anything else names nothing (null).",
    "memberId": "The member (their global ID); omit it for the viewer. Only the member and admins may read it.",
    "input": "The mutation's one input.",
    "search": "Matches the company's name or slug, case-insensitively.",
    "reasons": "Only entries with these reasons; all when omitted.",
    "status": "Only those in this state (invitations, deliveries); all when omitted.",
    "includeSpent": "Also lots that are used up or expired (default false: only lots that still hold credits).",
    "asOf": "The balance as it stood at this instant (not in the future; before the member joined it is 0); omit it "
            "for the balance now.",
    "from": "The first point of the history.",
    "to": "No point is later than this; points after now are the balance if nothing else happens.",
    "types": "Only events of these types; all when omitted.",
    "interval": "The step between two points; MONTH steps by calendar months from `from`.",
}

ENUM_VALUES: dict[str, dict[str, str]] = {
    "Tier": {
        "FREE": "The default: invitations cost a credit; premium members and recruiters only when known.",
        "PREMIUM": "A paying member: invitations cost a credit; reaches anyone.",
        "RECRUITER": "Sends cost nothing, write no ledger entry and are never refused for lack of credits.",
    },
    "LedgerReason": {
        "SIGNUP": "Joining: 15 credits, or 30 with an academic (.edu) email.",
        "INVITATION_ACCEPTED": "Accepting an invitation: 1 credit to the member who accepts.",
        "CONTACTS_IMPORTED": "1 credit per newly imported contact, 500 for life.",
        "COMPANY_FOLLOWED": "1 credit per company followed for the first time, 50 for life.",
        "PROFILE_COMPLETED": "15 credits when the profile first reaches 100%.",
        "DISCUSSION": "1 credit per post, comment or article, 10 per calendar month (UTC).",
        "REFERRAL": "3 credits to the referrer when a new member signs up with their code.",
        "INVITATION_SENT": "The credit an invitation cost.",
        "EXPIRED": "Credits of a lot left unused 12 months after it was granted.",
        "ADMIN_ADJUSTMENT": "Credits an admin added or took, with a note.",
        "REVERSAL": "An admin reversed an entry (see reverses): what is left of a grant's lot taken back, or a "
                    "spend's credits given back.",
        "LOT_EXTENDED": "An admin moved a lot's expiry later (amount 0; the note says why).",
    },
    "EventType": {
        "MEMBER_SIGNED_UP": "A member joined.",
        "LEDGER_ENTRY_ADDED": "A ledger entry was written (every entry: grants, spends, expiry, corrections).",
        "INVITATION_SENT": "An invitation was sent.",
        "INVITATION_ACCEPTED": "An invitation was accepted: the two members are connected.",
        "INVITATION_DECLINED": "An invitation was declined.",
        "INVITATION_WITHDRAWN": "An invitation was withdrawn.",
        "CREDITS_EXPIRING_SOON": "A lot with credits left expires within the notice days (once per lot and expiry "
                                 "date).",
        "MEMBER_TIER_CHANGED": "An admin changed a member's tier.",
    },
    "DeliveryStatus": {
        "PENDING": "To be attempted (again) at nextAttemptAt.",
        "SUCCEEDED": "The receiver answered 2xx within 10 seconds.",
        "FAILED": "The retry schedule ran out, or the endpoint was deleted or disabled.",
    },
    "HistoryInterval": {
        "HOUR": "One point an hour.",
        "DAY": "One point a day (24 hours).",
        "WEEK": "One point a week (7 days).",
        "MONTH": "One point a calendar month, on the day of `from` (or the month's last day).",
    },
    "AuditAction": {
        "TIER_CHANGED": "setMemberTier.",
        "CREDITS_ADJUSTED": "adjustCredits.",
        "ENTRY_REVERSED": "reverseLedgerEntry.",
        "LOT_EXTENDED": "extendCreditLot.",
        "COMPANY_CREATED": "createCompany.",
        "TEST_CLOCK_ADVANCED": "advanceTestClock.",
        "WEBHOOK_ENDPOINT_CREATED": "A webhook endpoint was created.",
        "WEBHOOK_ENDPOINT_UPDATED": "A webhook endpoint was changed.",
        "WEBHOOK_ENDPOINT_DELETED": "A webhook endpoint was deleted.",
        "WEBHOOK_SECRET_ROTATED": "A webhook endpoint's secret was rotated.",
        "EVENT_REDELIVERED": "An event was sent again to a webhook endpoint.",
        "SIGNED_OUT_EVERYWHERE": "signOutEverywhere: every session of the member ended.",
    },
    "LimitPeriod": {
        "NONE": "No limit.",
        "ONCE": "Once per member.",
        "LIFETIME": "The limit counts over the member's whole life.",
        "MONTH": "The limit counts per calendar month (UTC).",
    },
    "InvitationStatus": {
        "PENDING": "Sent, not yet answered: the invitee may accept or decline, the inviter withdraw or follow up.",
        "ACCEPTED": "The invitee accepted: the two are connected.",
        "DECLINED": "The invitee declined.",
        "WITHDRAWN": "The inviter withdrew it. The credit is not refunded.",
    },
    "DiscussionKind": {
        "POST": "A post of one's own.",
        "COMMENT": "A comment on a discussion.",
        "ARTICLE": "A longer article.",
    },
    "UserErrorCode": {
        "INVALID_INPUT": "A value breaks its rule (malformed email, blank or too long text, too many items).",
        "NOT_FOUND": "The ID names nothing you may see, or is not an ID at all.",
        "EMAIL_TAKEN": "Another member signed up with this email.",
        "INVALID_REFERRAL_CODE": "No member has this referral code.",
        "INSUFFICIENT_CREDITS": "No available credit to send an invitation.",
        "CANNOT_INVITE_SELF": "The invitee is you.",
        "ALREADY_CONNECTED": "You are connected already.",
        "INVITATION_ALREADY_PENDING": "A pending invitation between you exists, in either direction.",
        "PREMIUM_MEMBER_NOT_REACHABLE": "A free member invites premium members and recruiters only when they know "
                                        "them (an imported contact, or a shared connection).",
        "MESSAGE_TOO_LONG": "A message or follow-up is over 300 characters.",
        "INVITATION_NOT_PENDING": "The invitation was already accepted, declined or withdrawn.",
        "FOLLOW_UP_ALREADY_SENT": "The one follow-up of this invitation was sent.",
        "IDEMPOTENCY_KEY_REUSED": "This idempotency key was used for another request.",
        "TEST_CLOCK_DISABLED": "The test clock is switched off.",
        "TEST_CLOCK_BACKWARDS": "The test clock only moves forward.",
        "ALREADY_REVERSED": "This ledger entry was reversed already.",
        "NOT_REVERSIBLE": "EXPIRED, REVERSAL and LOT_EXTENDED entries are not reversed.",
        "EXPIRY_NOT_LATER": "The new expiry is not later than the lot's current one.",
        "LOT_EXPIRED": "The lot has expired or has no credits left.",
        "FORBIDDEN": "A party to the invitation acting out of role (only the invitee accepts, only the inviter "
                     "withdraws or follows up).",
    },
}


def describe(schema: GraphQLSchema) -> None:
    """Give every argument and enum value that has none its description."""
    for name, graphql_type in schema.type_map.items():
        if isinstance(graphql_type, GraphQLObjectType):
            for field in graphql_type.fields.values():
                for arg_name, arg in field.args.items():
                    if not arg.description and arg_name in ARGUMENTS:
                        arg.description = ARGUMENTS[arg_name]
        elif isinstance(graphql_type, GraphQLEnumType):
            for value_name, value in graphql_type.values.items():
                if not value.description and value_name in ENUM_VALUES.get(name, {}):
                    value.description = ENUM_VALUES[name][value_name]
