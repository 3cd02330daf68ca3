"""After delivery: the receipt's versions and the follow-up (回访) by web survey or phone.
A mixin of OrderWorkflow, kept apart to keep each file readable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.order.types import (
        TERMINAL_STAGES,
        EventInput,
        FollowUpStatus,
        OrderState,
        Stage,
        Survey,
        SystemEventType,
    )


class OrderFollowUp:
    _s: OrderState
    _v2: bool
    _dirty: bool
    _record: Callable[..., None]
    _after_track: Callable[[Stage, datetime], None]
    _open_complaint: Callable[[dict[str, Any], datetime], None]

    # -- the receipt (回单) ---------------------------------------------------------------------

    def _archive_receipt(self, inp: EventInput, at: datetime) -> None:
        """The first receipt ends the receipt track; later ones are new versions of it."""
        s, document = self._s, inp.data["document"]
        receipt = s.receipt  # None: this is the first one
        versions = [] if receipt is None else receipt.get("versions") or []
        versions.append({"version": len(versions) + 1, **document,
                         "returned_at": at.isoformat(), "actor": inp.actor,
                         "previous_sha256": versions[-1]["sha256"] if versions else None})
        if receipt is None:
            s.receipt = {"document": document, "returned_at": at.isoformat(),
                         "versions": versions}
            s.stage_times[Stage.RECEIPT_ARCHIVED.value] = at
            self._after_track(Stage.RECEIPT_ARCHIVED, at)
        else:
            s.receipt = {**receipt, "document": document, "versions": versions}
            self._dirty = True

    def _check_receipt_version(self, inp: EventInput, reject: Callable[..., Exception]) -> None:
        receipt = self._s.receipt or {}
        if not self._v2:
            raise reject("invalid_transition", "the receipt was already returned",
                         current_stage=self._s.stage.value, event_type=inp.type.value)
        if receipt["document"].get("sha256") == inp.data["document"].get("sha256"):
            raise reject("receipt_unchanged", "this document is already the current receipt",
                         sha256=receipt["document"].get("sha256"))

    # -- the follow-up --------------------------------------------------------------------------

    def _answered(self, data: dict[str, Any], channel: str, at: datetime) -> None:
        survey = self._s.survey
        assert survey is not None
        survey.status, survey.outcome = FollowUpStatus.ANSWERED, "answered"
        survey.scores = data["scores"]
        survey.comment = data.get("comment")
        survey.goods_ok = data.get("goods_ok")
        survey.suggestions = data.get("suggestions")
        survey.channel = channel
        survey.answered_at, survey.next_call_at = at, None
        low_max = self._s.policy.complaints.low_score_max
        low = sorted(q for q, v in survey.scores.items() if v <= low_max)
        survey.problems = ([f"low_score:{q}" for q in low]
                           + (["goods_not_ok"] if survey.goods_ok is False else [])
                           + (["suggestion"] if survey.suggestions else []))
        if self._v2 and low:
            self._open_complaint({"scores": survey.scores, "goods_ok": survey.goods_ok,
                                  "suggestions": survey.suggestions, "channel": channel}, at)
        self._after_track(Stage.FOLLOWED_UP, at)

    def _called(self, data: dict[str, Any], actor: str, at: datetime) -> None:
        s = self._s
        survey = s.survey
        assert survey is not None
        survey.calls.append({"at": at.isoformat(), "outcome": data["outcome"], "actor": actor,
                             "note": data.get("note")})
        survey.next_call_at = None
        match data["outcome"]:
            case "answered":
                self._answered(data, "phone", at)
            case "refused":
                self._unsuccessful(survey, "refused", at)
            case "no_answer":
                unanswered = sum(1 for c in survey.calls if c["outcome"] == "no_answer")
                retry = at + timedelta(seconds=s.policy.follow_up.call_retry_after)
                if unanswered <= s.policy.follow_up.call_retries and retry < survey.expires_at:
                    survey.next_call_at = retry
        self._dirty = True

    def _unsuccessful(self, survey: Survey, outcome: str, at: datetime) -> None:
        survey.status, survey.outcome, survey.next_call_at = (
            FollowUpStatus.UNSUCCESSFUL, outcome, None)
        self._record("follow-up-unsuccessful", SystemEventType.FOLLOW_UP_UNSUCCESSFUL, at,
                     {"due_at": survey.due_at.isoformat(), "outcome": outcome})
        self._after_track(Stage.FOLLOWED_UP, at)

    def _advance_follow_up(self, now: datetime) -> None:
        survey = self._s.survey
        if survey is None or self._s.stage in TERMINAL_STAGES:
            return
        if survey.status == FollowUpStatus.PENDING and now >= survey.due_at:
            survey.status = FollowUpStatus.DUE
            self._record("survey-due", SystemEventType.SURVEY_DUE, survey.due_at,
                         {"expires_at": survey.expires_at.isoformat()})
        if survey.status != FollowUpStatus.DUE:
            return
        if survey.remind_at and survey.reminded_at is None and now >= survey.remind_at \
                and now < survey.expires_at:
            survey.reminded_at = survey.remind_at
            self._record("survey-reminder", SystemEventType.SURVEY_REMINDER, survey.remind_at,
                         {"expires_at": survey.expires_at.isoformat()})
        if survey.next_call_at is not None and now >= survey.next_call_at \
                and now < survey.expires_at:
            self._record(f"call-retry-{len(survey.calls)}", SystemEventType.CALL_RETRY_DUE,
                         survey.next_call_at, {"calls_made": len(survey.calls)})
            survey.next_call_at = None
        if now >= survey.expires_at:
            self._unsuccessful(survey, "expired", survey.expires_at)
