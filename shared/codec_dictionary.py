"""zlib's preset dictionary for Waybill's payloads (shared/codec.py, format 1).

A payload is a few hundred bytes of JSON whose keys and enum values repeat from payload to
payload but seldom within one, so zlib alone finds little to refer back to; primed with these
strings it finds most of them. Measured on the committed happy-path history's 34 payloads:
24,844 bytes in clear, 11,386 compressed by zlib alone, 8,040 with this dictionary.

The strings are the JSON keys and enum-like values of the payloads in tests/histories/ (least
frequent first: zlib reaches the nearest ones most cheaply), led by a payload's own framing.

FROZEN. A sealed payload names this dictionary by its format byte, and cannot be read with any
other: changing a byte of it makes every payload compressed with it unreadable
(tests/shared/test_codec.py pins its hash). A better dictionary is a new constant beside this
one, with a new format byte; this one stays for reading.
"""

from __future__ import annotations

_STRINGS = (
    # a serialized Payload's start: metadata {"encoding": "json/plain"}
    '\n\x16\n\x08encoding\x12\njson/plain'
    '"accepted""basis_changes":"by":"follow_up_unsuccessful""new":"old":"resolve""role":'
    '"route""satisfaction_requested""step_late""call_retry_due""calls_made":"cancelled":'
    '"claim_closed""claim_opened""complaint_opened""completeness""decision_late"'
    '"decision_required""goods_not_ok""low_scores":"note""override":"phone""replied"'
    '"reported_at":"score":"suggestion""arrived""claim_step_late""delivery_late"'
    '"notify_order":"payout_issued""satisfaction":"unsuccessful""api""available":'
    '"delivery_exception""document_added""event_hashes":"last_event":"shortage_decision"'
    '"shown_stage":"compensation_set""history_limit_bytes":"liability_decided""resume":'
    '"weight""actor_role":"created_by":"created_by_role":"due_kind":"evidence_collected"'
    '"first_reply_at":"not_resolved""reply":"routed_at":"satisfaction_at":'
    '"satisfaction_comment":"satisfaction_requested_at":"sorry""first_reply":"resolve":'
    '"route":"satisfaction_outcome":"satisfaction_score":"snooze_ended""warehouse""carrier"'
    '"department":"first_reply""follow_up_call""plan":"promised_by":"satisfaction"'
    '"sla_breach""arrival":"breach_cleared""delivery_note""payout_issued":"routed""service":'
    '"snoozed""accident_report""called""category":"customer_informed""low_survey_score""mgr"'
    '"no_answer""note":"survey_due""until":"awaiting":"cap_basis":"cap_minor":'
    '"compensation_set":"complaint_id":"delayed""desk":"opened":"opened_by":"override_by":'
    '"override_reason":"reassigned""step_times":"cancelled""documents":"followed_up":'
    '"order_created""pick_late""ship_late""survey""acknowledged""liability":'
    '"liability_decided":"amount_minor":"closed":"due""survey_response""survey_window"'
    '"voucher":"added_at":"added_by":"fine""paid""evidence_collected":"received_at":"web"'
    '"deadlines":"deprecated":"customer_contacted""customer_contacted":"recorded_by":'
    '"shipped""storm""weather""pending""completeness":"cause":"closed_at":"decided_by":'
    '"delivery""order_stage":"partial""short_pick""description":"outbox_id":"answered"'
    '"content_type":"filename":"size":"versions":"claim_id":"courtesy":"receipt_returned"'
    '"timeliness":"declared_value_minor":"followed_up""weight_kg":"code":"late_risk"'
    '"receipt_archived":"origin":"calls":"next_call_at":"problems":"remind_at":"reminded_at":'
    '"subject":"cleared_by":"renotified""step":"open""cleared_at":"damaged""desk"'
    '"receipt_late""heard_at":"sup""picked""seen_at":"clock_skew_seconds":"intact"'
    '"answered_at":"receipt_archived""condition_cleared""confirmed""catch_up_grace":'
    '"not_acknowledged""operator""channel":"eta":"suggestions":"acknowledged_at":'
    '"acknowledged_by":"changed":"latest_eta":"level_since":"next_step_at":"receipt_due_at":'
    '"resolution_code":"resolved_by":"snoozed_until":"assignee":"customer_name":"document":'
    '"closed""goods_ok":"climbed""expires_at":"driver":"resolved_at":"resolution":"text":'
    '"decisions":"exceptions":"lost":"repick_since":"condition":"pod":"signature""signer":'
    '"confirm_late""opened""received""in_transit":"resolved""from":"returned_at":"to":'
    '"customer_id":"customer_tier":"tracking_scan""scores":"system""carrier":"outcome":'
    '"tracking_no":"vehicle":"opened_at":"call_retries":"call_retry_after":'
    '"cap_per_kg_minor":"compensation_within":"contact_within":"decision":"decision_within":'
    '"evidence_within":"first_reply_within":"follow_up":"liability_within":"low_score_max":'
    '"payout_within":"route_within":"satisfaction_within":"steps":"departed""cancel_reason":'
    '"confirmed":"delivery":"on_time":"receipt":"shipment":"in_full":"qty":"delivered"'
    '"currency":"scan_gap""reason":"location":"request_id":"address":"city":"contact":'
    '"destination":"received":"stage_times":"survey":"breaches":"calendar":"confirm_within":'
    '"escalation":"pick_within":"promised_ship_by":"receipt_within":"scan_gap":'
    '"survey_after":"survey_window":"notified""escalation_id":"detected_at":"customer":'
    '"email":"language":"phone":"tier":"key_account_start_level":"levels":"repeat_every":'
    '"snooze_max":"start_level":"next_deadline":"scans":"agreed":"key_account_manager":'
    '"entries":"breach_id":"complaints":"policy":"claims":"promised_delivery_by":"ref":'
    '"state":"lines":"in_transit""version":"id":"recorded_at":"status":"ordered":'
    '"integration""supervisor""cs_manager""ops_desk""delivered":"order_id":"name":"shipped":'
    '"picked":"sku":"data":"type":"source":"standard""occurred_at":"action":"body_hash":'
    '"detail":"due_at":"stage":"kind":"ack_within":"at":"comment":"waybill""event_id":'
    '"resolve_within":"seq":"recipients":"actor":"level":'
)

ZDICT_V1 = "".join(_STRINGS).encode()
