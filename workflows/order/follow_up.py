"""After delivery: the receipt's versions and the follow-up (回访) by web survey or phone.
A part of OrderWorkflow, kept apart to keep each file readable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.order.context import OrderContext
    from workflows.order.event_data import FollowUpCallData, ReceiptData
    from workflows.order.records import FollowUpCall, Receipt, ReceiptVersion
    from workflows.order.types import (
        TERMINAL_STAGES,
        EventInput,
        FollowUpStatus,
        Stage,
        Survey,
        SystemEventType,
    )

# Opens a complaint from low scores: (scores, goods_ok, suggestions, channel, at).
OpenComplaint = Callable[[dict[str, int], bool | None, str | None, str, datetime], None]


class OrderFollowUp:
    def __init__(self, case: OrderContext, open_complaint: OpenComplaint) -> None:
        self._case = case
        self._open_complaint = open_complaint

    # -- the receipt (回单) ---------------------------------------------------------------------

    def archive_receipt(self, inp: EventInput, data: ReceiptData, at: datetime) -> None:
        """The first receipt ends the receipt track; later ones are new versions of it."""
        s, document = self._case.order, data.document
        first = s.receipt is None
        versions = [] if s.receipt is None else list(s.receipt.versions)
        versions.append(ReceiptVersion(
            version=len(versions) + 1, ref=document.ref, sha256=document.sha256,
            content_type=document.content_type, size=document.size,
            filename=document.filename, returned_at=at.isoformat(), actor=inp.actor,
            previous_sha256=versions[-1].sha256 if versions else None))
        if s.receipt is None:
            s.receipt = Receipt(document=document, returned_at=at.isoformat(),
                                versions=tuple(versions))
        else:
            s.receipt = Receipt(document=document, returned_at=s.receipt.returned_at,
                                versions=tuple(versions))
        if first:
            s.stage_times[Stage.RECEIPT_ARCHIVED.value] = at
            self._case.after_track(Stage.RECEIPT_ARCHIVED, at)
        else:
            self._case.touch()

    # -- the follow-up --------------------------------------------------------------------------

    def answered(self, scores: dict[str, int], comment: str | None, goods_ok: bool | None,
                 suggestions: str | None, channel: str, at: datetime) -> None:
        s = self._case.order
        survey = s.survey
        assert survey is not None
        survey.status, survey.outcome = FollowUpStatus.ANSWERED, "answered"
        survey.scores = scores
        survey.comment = comment
        survey.goods_ok = goods_ok
        survey.suggestions = suggestions
        survey.channel = channel
        survey.answered_at, survey.next_call_at = at, None
        low_max = s.policy.complaints.low_score_max
        low = sorted(q for q, v in scores.items() if v <= low_max)
        survey.problems = ([f"low_score:{q}" for q in low]
                           + (["goods_not_ok"] if goods_ok is False else [])
                           + (["suggestion"] if suggestions else []))
        if self._case.v2 and low:
            self._open_complaint(scores, goods_ok, suggestions, channel, at)
        self._case.after_track(Stage.FOLLOWED_UP, at)

    def called(self, data: FollowUpCallData, actor: str, at: datetime) -> None:
        s = self._case.order
        survey = s.survey
        assert survey is not None
        survey.calls.append(FollowUpCall(at=at.isoformat(), outcome=data.outcome, actor=actor,
                                         note=data.note))
        survey.next_call_at = None
        match data.outcome:
            case "answered":
                assert data.scores is not None  # an answered call carries the answers
                self.answered(data.scores, data.comment, data.goods_ok, data.suggestions,
                              "phone", at)
            case "refused":
                self._unsuccessful(survey, "refused", at)
            case "no_answer":
                unanswered = sum(1 for c in survey.calls if c.outcome == "no_answer")
                retry = at + timedelta(seconds=s.policy.follow_up.call_retry_after)
                if unanswered <= s.policy.follow_up.call_retries and retry < survey.expires_at:
                    survey.next_call_at = retry
        self._case.touch()

    def _unsuccessful(self, survey: Survey, outcome: str, at: datetime) -> None:
        survey.status, survey.outcome, survey.next_call_at = (
            FollowUpStatus.UNSUCCESSFUL, outcome, None)
        self._case.record("follow-up-unsuccessful", SystemEventType.FOLLOW_UP_UNSUCCESSFUL, at,
                          {"due_at": survey.due_at.isoformat(), "outcome": outcome})
        self._case.after_track(Stage.FOLLOWED_UP, at)

    def advance(self, now: datetime) -> None:
        """Move the follow-up on for the time that passed: due, reminder, call retry, expiry."""
        s = self._case.order
        survey = s.survey
        if survey is None or s.stage in TERMINAL_STAGES:
            return
        if survey.status == FollowUpStatus.PENDING and now >= survey.due_at:
            survey.status = FollowUpStatus.DUE
            self._case.record("survey-due", SystemEventType.SURVEY_DUE, survey.due_at,
                              {"expires_at": survey.expires_at.isoformat()})
        if survey.status != FollowUpStatus.DUE:
            return
        if survey.remind_at and survey.reminded_at is None and now >= survey.remind_at \
                and now < survey.expires_at:
            survey.reminded_at = survey.remind_at
            self._case.record("survey-reminder", SystemEventType.SURVEY_REMINDER,
                              survey.remind_at, {"expires_at": survey.expires_at.isoformat()})
        if survey.next_call_at is not None and now >= survey.next_call_at \
                and now < survey.expires_at:
            self._case.record(f"call-retry-{len(survey.calls)}", SystemEventType.CALL_RETRY_DUE,
                              survey.next_call_at, {"calls_made": len(survey.calls)})
            survey.next_call_at = None
        if now >= survey.expires_at:
            self._unsuccessful(survey, "expired", survey.expires_at)
