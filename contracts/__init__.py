"""Objektif's contracts: the envelope, the typed payloads, topics and canonical bytes. Schemas, not behaviour;
the only package the three services share (ARCHITECTURE.md)."""

from contracts.envelope import Envelope
from contracts.registry import PAYLOADS, parse_payload

__all__ = ["PAYLOADS", "Envelope", "parse_payload"]
