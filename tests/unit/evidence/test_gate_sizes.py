"""Every event fits an entry of the tiled log (c2sp.org/tlog-tiles prefixes each entry with a uint16 length):
the gate's size limit is chosen so that the largest accepted event and the largest rejection, which carries the
refused bytes in base64 beside its reasons, stay under 65,535 bytes."""

from __future__ import annotations

from datetime import UTC, datetime

from services.audit.domain.tiles import MAX_ENTRY_BYTES
from services.evidence.adapters.store import accepted_bytes, envelope_bytes
from services.evidence.app.intake import rejection_row
from services.evidence.domain import MAX_BYTES, Code, Rejected, decide, initial_state
from services.evidence.domain.parse import MAX_SCHEMA_REASONS
from services.evidence.domain.reasons import MESSAGES, reason

NOW = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)


def test_the_entry_limit_is_the_uint16_length_prefix() -> None:
    assert MAX_ENTRY_BYTES == 2**16 - 1


def test_an_oversize_submission_is_refused_with_a_rejection_that_fits_an_entry() -> None:
    raw = b"\xff" * (10 * MAX_BYTES)  # not even UTF-8: base64 of the kept prefix is as long as it gets
    decision = decide(raw, initial_state(()), received_at=NOW, received_from="http:203.0.113.7")
    assert isinstance(decision, Rejected) and decision.original == raw[:MAX_BYTES]
    body = envelope_bytes(rejection_row(decision, NOW, "http:203.0.113.7").envelope)
    assert len(body) <= MAX_ENTRY_BYTES


def test_the_largest_rejection_the_gate_can_write_fits_an_entry() -> None:
    longest = max(MESSAGES, key=lambda code: max(len(m) for m in MESSAGES[code]))
    reasons = tuple(reason(longest, "d" * 400, path="p" * 200) for _ in range(MAX_SCHEMA_REASONS))
    subject = "s" * 64
    original = b'{"subject": "' + subject.encode() + b'", "pad": "' + b"\\u0000" * (MAX_BYTES // 6) + b'"}'
    original = original[:MAX_BYTES]
    refused = Rejected(None, reasons, original, NOW, "kafka:objektif.submissions.v1/99/9999999999")
    body = envelope_bytes(rejection_row(refused, NOW, refused.received_from).envelope)
    assert len(body) <= MAX_ENTRY_BYTES, len(body)


def test_the_largest_accepted_submission_fits_an_entry() -> None:
    raw = b'{"pad": "' + b"x" * (MAX_BYTES - 11) + b'"}'
    assert len(raw) == MAX_BYTES
    assert len(accepted_bytes(raw, 2**53, NOW)) <= MAX_ENTRY_BYTES


def test_the_oversize_reason_names_both_sizes() -> None:
    decision = decide(b"x" * (MAX_BYTES + 1), initial_state(()), received_at=NOW, received_from="t")
    assert isinstance(decision, Rejected)
    assert [r.code for r in decision.reasons] == [Code.OVERSIZE.value]
    assert f"{MAX_BYTES + 1} > {MAX_BYTES}" in decision.reasons[0].message_en
