"""What one family may keep waiting: no exact copy of a document already sent for the same
slot, and at most MAX_PENDING_DOCUMENTS waiting for a check."""

from __future__ import annotations

from datetime import date

from portal.domain.family_file.rules import MAX_PENDING_DOCUMENTS, KeptDocument, quota_error

TODAY = date(2027, 1, 11)


def test_a_copy_for_the_same_slot_is_refused_and_says_why() -> None:
    kept = [KeptDocument(1, 7, "abc", "valid"), KeptDocument(2, None, "def", "refused")]
    assert quota_error(kept, 1, 7, "abc", "Assurance", TODAY) == (
        "Ce fichier a déjà été envoyé pour « Assurance » : il est validé."
    )
    # Another child, another type, or a copy of a refused one: accepted.
    assert quota_error(kept, 1, 8, "abc", "Assurance", TODAY) is None
    assert quota_error(kept, 3, 7, "abc", "Certificat", TODAY) is None
    assert quota_error(kept, 2, None, "def", "CAF", TODAY) is None


def test_waiting_documents_are_bounded() -> None:
    waiting = [KeptDocument(1, None, f"h{n}", "pending") for n in range(MAX_PENDING_DOCUMENTS)]
    refusal = quota_error(waiting, 1, None, "new", "CAF", TODAY)
    assert refusal is not None and "attendent déjà d'être vérifiés" in refusal
    assert quota_error(waiting[:-1], 1, None, "new", "CAF", TODAY) is None


def test_a_copy_of_a_document_whose_validity_ended_renews_it() -> None:
    kept = [KeptDocument(1, 7, "abc", "valid", date(2027, 1, 10))]
    assert quota_error(kept, 1, 7, "abc", "Assurance", TODAY) is None
    still = [KeptDocument(1, 7, "abc", "valid", TODAY)]
    assert quota_error(still, 1, 7, "abc", "Assurance", TODAY) is not None
