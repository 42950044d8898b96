"""Every number of the rulebook, in one frozen object."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    SIGNUP = "SIGNUP"
    INVITATION_ACCEPTED = "INVITATION_ACCEPTED"
    CONTACTS_IMPORTED = "CONTACTS_IMPORTED"
    COMPANY_FOLLOWED = "COMPANY_FOLLOWED"
    PROFILE_COMPLETED = "PROFILE_COMPLETED"
    DISCUSSION = "DISCUSSION"
    REFERRAL = "REFERRAL"
    INVITATION_SENT = "INVITATION_SENT"
    EXPIRED = "EXPIRED"
    ADMIN_ADJUSTMENT = "ADMIN_ADJUSTMENT"
    REVERSAL = "REVERSAL"
    LOT_EXTENDED = "LOT_EXTENDED"


class AuditAction(StrEnum):
    TIER_CHANGED = "TIER_CHANGED"
    CREDITS_ADJUSTED = "CREDITS_ADJUSTED"
    ENTRY_REVERSED = "ENTRY_REVERSED"
    LOT_EXTENDED = "LOT_EXTENDED"
    COMPANY_CREATED = "COMPANY_CREATED"
    TEST_CLOCK_ADVANCED = "TEST_CLOCK_ADVANCED"
    WEBHOOK_ENDPOINT_CREATED = "WEBHOOK_ENDPOINT_CREATED"
    WEBHOOK_ENDPOINT_UPDATED = "WEBHOOK_ENDPOINT_UPDATED"
    WEBHOOK_ENDPOINT_DELETED = "WEBHOOK_ENDPOINT_DELETED"
    WEBHOOK_SECRET_ROTATED = "WEBHOOK_SECRET_ROTATED"
    EVENT_REDELIVERED = "EVENT_REDELIVERED"
    SIGNED_OUT_EVERYWHERE = "SIGNED_OUT_EVERYWHERE"


class EventType(StrEnum):
    MEMBER_SIGNED_UP = "MEMBER_SIGNED_UP"
    LEDGER_ENTRY_ADDED = "LEDGER_ENTRY_ADDED"
    INVITATION_SENT = "INVITATION_SENT"
    INVITATION_ACCEPTED = "INVITATION_ACCEPTED"
    INVITATION_DECLINED = "INVITATION_DECLINED"
    INVITATION_WITHDRAWN = "INVITATION_WITHDRAWN"
    CREDITS_EXPIRING_SOON = "CREDITS_EXPIRING_SOON"
    MEMBER_TIER_CHANGED = "MEMBER_TIER_CHANGED"


class HistoryInterval(StrEnum):
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


class Period(StrEnum):
    NONE = "NONE"
    ONCE = "ONCE"
    LIFETIME = "LIFETIME"
    MONTH = "MONTH"


class Tier(StrEnum):
    FREE = "FREE"
    PREMIUM = "PREMIUM"
    RECRUITER = "RECRUITER"


class InvitationStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    WITHDRAWN = "WITHDRAWN"


class DiscussionKind(StrEnum):
    POST = "POST"
    COMMENT = "COMMENT"
    ARTICLE = "ARTICLE"


@dataclass(frozen=True)
class EarningLimit:
    """How one reason earns: credits per action, and at most `limit` credits per `period`."""

    reason: Reason
    credits_per_action: int
    period: Period
    limit: int | None


@dataclass(frozen=True)
class Policy:
    initial_credits: int = 15
    initial_credits_academic: int = 30
    balance_cap: int = 200
    credit_lifetime_months: int = 12
    expiring_soon_days: int = 30
    invitation_cost: int = 1
    invitation_accepted_credits: int = 1
    referral_credits: int = 3
    contact_credits: int = 1
    contacts_credit_limit: int = 500
    company_follow_credits: int = 1
    company_follow_credit_limit: int = 50
    profile_completed_credits: int = 15
    profile_completed_credit_limit: int = 15
    discussion_credits: int = 1
    discussion_monthly_credit_limit: int = 10
    message_max_length: int = 300
    follow_up_max_length: int = 300
    name_max_length: int = 100
    headline_max_length: int = 220
    about_max_length: int = 2600
    location_max_length: int = 100
    discussion_body_max_length: int = 3000
    email_max_length: int = 254
    contacts_per_call_max: int = 1000
    profile_list_max_items: int = 50
    profile_item_max_length: int = 100
    profile_skills_for_completion: int = 3
    note_max_length: int = 500
    adjustment_max_abs: int = 1000
    correction_reason_max_length: int = 300
    lot_extension_max_months: int = 24
    history_max_points: int = 1000
    expiry_notice_days: int = 30
    event_retention_days: int = 30
    webhook_url_max_length: int = 2000
    webhook_description_max_length: int = 500
    webhook_secret_overlap_seconds: int = 24 * 3600
    # Endpoints on private and loopback addresses (INVITE_CREDITS_WEBHOOK_ALLOW_PRIVATE): off, against SSRF.
    webhook_allow_private: bool = False
    page_size_max: int = 100
    idempotency_key_max_length: int = 255
    idempotency_retention_seconds: int = 24 * 3600
    academic_label: str = "edu"

    def earning_limits(self, signup_credits: int | None = None) -> list[EarningLimit]:
        """One rule per earning reason; `signup_credits` is the member's own sign-up grant when known."""
        signup = signup_credits if signup_credits is not None else self.initial_credits
        return [
            EarningLimit(Reason.SIGNUP, signup, Period.ONCE, signup),
            EarningLimit(Reason.INVITATION_ACCEPTED, self.invitation_accepted_credits, Period.NONE, None),
            EarningLimit(Reason.CONTACTS_IMPORTED, self.contact_credits, Period.LIFETIME, self.contacts_credit_limit),
            EarningLimit(
                Reason.COMPANY_FOLLOWED, self.company_follow_credits, Period.LIFETIME, self.company_follow_credit_limit
            ),
            EarningLimit(
                Reason.PROFILE_COMPLETED,
                self.profile_completed_credits,
                Period.LIFETIME,
                self.profile_completed_credit_limit,
            ),
            EarningLimit(Reason.DISCUSSION, self.discussion_credits, Period.MONTH, self.discussion_monthly_credit_limit),
            EarningLimit(Reason.REFERRAL, self.referral_credits, Period.NONE, None),
        ]

    def earning_limit(self, reason: Reason) -> EarningLimit:
        for rule in self.earning_limits():
            if rule.reason is reason:
                return rule
        raise KeyError(reason)
