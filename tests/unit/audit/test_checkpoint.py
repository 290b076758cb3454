"""Signed checkpoints: the C2SP note format byte for byte, known answers from other implementations, and
every way a note can be wrong."""

from __future__ import annotations

import base64
import hashlib

import pytest

from services.audit.domain.checkpoint import Checkpoint, NoteSigner, check_successor, open_checkpoint
from services.audit.domain.errors import CheckpointError, NoteError, ProofError
from services.audit.domain.merkle import EMPTY_ROOT, MemoryTree, leaf_hash
from services.audit.domain.note import Ed25519Verifier, open_note, parse_note

SEED = hashlib.sha256(b"objektif test key, not a secret").digest()
ORIGIN = "objektif.example/audit"
ROOT = bytes(range(32))

# From the documentation and tests of golang.org/x/mod/sumdb/note, used as data: Ed25519 is deterministic,
# so the same key and text must give this exact note.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
GO_SIG = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="

# The example of the C2SP signed-note spec ("Verifier keys", "Example").
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n— example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

# A real checkpoint of the Go checksum database with a witness cosignature, under Go's published key.
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTE = (
    "go.sum database tree\n15067302\ngJyioq6dwR9n+NjEWORfYmH+ubeYm3kH42BBQ0bTpYI=\n\n"
    "— sum.golang.org "
    "Az3grp1rvWOs5NKlr/xR4GLN/CDyzzakmt1o61uSxYKpK1SerqOP2ClbX/peKUZjYnyomH5Xz7GZG3TpB7OeKn4E2ww=\n"
    "— test.example.com "
    "qTGhC/xIPQ0AXKHK6Y+9ypRfuvMZWPjRXM8NiOg5M1WREn07VQXyuIXM3NRNav3ieVFLUqDRK77PWDmL6w8w84UqeAw=\n"
)


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner.from_private_bytes(SEED, ORIGIN)


def test_a_checkpoint_body_is_origin_size_and_base64_root_each_on_a_line() -> None:
    checkpoint = Checkpoint(ORIGIN, 1234, ROOT)
    assert (
        checkpoint.body() == b"objektif.example/audit\n1234\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    )


def test_a_signed_checkpoint_matches_the_c2sp_format_byte_for_byte(signer: NoteSigner) -> None:
    checkpoint = Checkpoint(ORIGIN, 1234, ROOT)
    note = signer.sign(checkpoint)
    origin, size, root, blank, sig_line, end = note.split("\n")
    assert (origin, size, root) == (ORIGIN, "1234", base64.b64encode(ROOT).decode())
    assert (blank, end) == ("", "")
    dash, name, blob = sig_line.split(" ")
    assert (dash, name) == ("\u2014", ORIGIN)
    raw = base64.b64decode(blob, validate=True)
    assert (
        raw[:4]
        == signer.key_id
        == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + signer.public_key).digest()[:4]
    )
    assert len(raw) == 4 + 64
    assert Ed25519Verifier(ORIGIN, signer.public_key).verifies(checkpoint.body().decode(), raw[4:])
    assert (
        note.encode()
        == checkpoint.body() + b"\n\xe2\x80\x94 " + ORIGIN.encode() + b" " + blob.encode() + b"\n"
    )


def test_the_verifier_key_names_the_key_id_and_the_typed_public_key(signer: NoteSigner) -> None:
    name, hex_id, material = signer.verifier_key().split("+", 2)
    assert (name, hex_id) == (ORIGIN, signer.key_id.hex())
    assert base64.b64decode(material) == b"\x01" + signer.public_key


def test_a_signed_checkpoint_round_trips(signer: NoteSigner) -> None:
    checkpoint = Checkpoint(ORIGIN, 987654321, ROOT)
    assert open_checkpoint(signer.sign(checkpoint), signer.verifier_key()) == checkpoint
    assert (
        open_checkpoint(signer.sign(checkpoint).encode(), signer.verifier_key(), origin=ORIGIN) == checkpoint
    )


def test_signing_reproduces_the_go_reference_note_exactly() -> None:
    signer = NoteSigner.from_skey(GO_SKEY)
    assert signer.verifier_key() == GO_VKEY
    assert signer.sign_text(GO_TEXT) == GO_TEXT + "\n— PeterNeumann " + GO_SIG + "\n"


def test_the_spec_example_note_verifies_under_the_spec_example_key() -> None:
    assert open_note(SPEC_NOTE, Ed25519Verifier.from_vkey(SPEC_VKEY)) == "This is an example message.\n"


def test_a_real_go_checksum_database_checkpoint_verifies_and_its_cosignature_is_ignored() -> None:
    checkpoint = open_checkpoint(SUMDB_NOTE, SUMDB_VKEY, origin="go.sum database tree")
    assert checkpoint.size == 15067302
    assert base64.b64encode(checkpoint.root).decode() == "gJyioq6dwR9n+NjEWORfYmH+ubeYm3kH42BBQ0bTpYI="
    assert len(parse_note(SUMDB_NOTE).signatures) == 2


def test_a_modified_body_fails(signer: NoteSigner) -> None:
    note = signer.sign(Checkpoint(ORIGIN, 1234, ROOT))
    for forged in (note.replace("\n1234\n", "\n1235\n"), note.replace("AAEC", "AQEC"), "x" + note):
        with pytest.raises(CheckpointError):
            open_checkpoint(forged, signer.verifier_key())


def test_a_note_signed_by_another_key_fails(signer: NoteSigner) -> None:
    other = NoteSigner.from_private_bytes(hashlib.sha256(b"another key").digest(), ORIGIN)
    note = other.sign(Checkpoint(ORIGIN, 1234, ROOT))
    with pytest.raises(NoteError, match="no signature"):
        open_checkpoint(note, signer.verifier_key())


def test_a_failing_signature_by_the_known_key_rejects_the_note_even_beside_a_good_one(
    signer: NoteSigner,
) -> None:
    note = signer.sign(Checkpoint(ORIGIN, 1234, ROOT))
    text, good = note.rsplit("\n\n", 1)
    blob = bytearray(base64.b64decode(good.split(" ")[2]))
    blob[-1] ^= 1
    bad = f"— {ORIGIN} {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(NoteError, match="does not verify"):
        open_checkpoint(text + "\n\n" + good + bad, signer.verifier_key())


def test_the_expected_origin_is_enforced_when_given(signer: NoteSigner) -> None:
    note = signer.sign(Checkpoint("someone.else/log", 1, ROOT))
    with pytest.raises(CheckpointError, match="origin"):
        open_checkpoint(note, signer.verifier_key(), origin=ORIGIN)


@pytest.mark.parametrize(
    "body",
    [
        "objektif.example/audit\n1234\n",  # no root
        "objektif.example/audit\n01234\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",  # leading zero
        "objektif.example/audit\n-1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "objektif.example/audit\n١٢\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",  # non-ASCII digits
        "objektif.example/audit\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n",  # 31-byte root
        "objektif.example/audit\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",  # no padding
        "\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",  # empty origin
        "objektif.example/audit\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\nextension after a gap\n",
    ],
)
def test_a_validly_signed_note_that_is_not_a_checkpoint_is_refused(signer: NoteSigner, body: str) -> None:
    with pytest.raises(CheckpointError):
        open_checkpoint(signer.sign_text(body), signer.verifier_key())


def test_extension_lines_are_read_and_signed_with_the_body(signer: NoteSigner) -> None:
    checkpoint = Checkpoint(ORIGIN, 5, ROOT, ("extension one",))
    assert open_checkpoint(signer.sign(checkpoint), signer.verifier_key()) == checkpoint


@pytest.mark.parametrize(
    "note",
    [
        "text without blank line\n— a AAAAAAAAAA==\n",
        "text\n\n— a AAAAAAAAAA==",  # no final newline
        "text\n\n- a AAAAAAAAAA==\n",  # hyphen, not em dash
        "text\n\n— a+b AAAAAAAAAA==\n",  # plus in key name
        "text\n\n— a AAAAAAAAAA== extra\n",
        "text\n\n— a not*base64\n",
        "text\n\n— a AAAA\n",  # shorter than a key ID and one byte
        "te\x07xt\n\n— a AAAAAAAAAA==\n",  # control character
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(NoteError):
        parse_note(note)


@pytest.mark.parametrize(
    "vkey",
    [
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # wrong key ID
        "example.com/foo+530d903a+AkyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # truncated key
        "example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # not type 0x01
        "example.com/foo+530d903a",
    ],
)
def test_malformed_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        Ed25519Verifier.from_vkey(vkey)


def test_signer_keys_are_checked() -> None:
    with pytest.raises(CheckpointError):
        NoteSigner.from_private_bytes(b"short", ORIGIN)
    with pytest.raises(NoteError):
        NoteSigner.from_private_bytes(SEED, "has space")
    with pytest.raises(CheckpointError):
        NoteSigner.from_skey(GO_SKEY.replace("c74f20a3", "c74f20a4"))


def test_a_successor_checkpoint_must_extend_its_predecessor() -> None:
    hashes = [leaf_hash(bytes([i])) for i in range(20)]
    tree = MemoryTree(hashes)
    empty, at_7, at_20 = (Checkpoint(ORIGIN, n, tree.root(n)) for n in (0, 7, 20))
    assert empty.root == EMPTY_ROOT
    check_successor(empty, at_7, [])
    check_successor(at_7, at_20, tree.consistency_proof(7, 20))
    check_successor(at_20, at_20, [])
    forked = Checkpoint(ORIGIN, 20, MemoryTree([*hashes[:3], leaf_hash(b"x"), *hashes[4:]]).root())
    with pytest.raises(ProofError):
        check_successor(at_7, forked, tree.consistency_proof(7, 20))
    with pytest.raises(ProofError):
        check_successor(at_20, at_7, [])
    with pytest.raises(ProofError):
        check_successor(Checkpoint(ORIGIN, 0, ROOT), at_7, [])
    with pytest.raises(CheckpointError):
        check_successor(at_7, Checkpoint("other", 20, at_20.root), tree.consistency_proof(7, 20))
