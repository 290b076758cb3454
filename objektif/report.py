"""The demo's printed summary: per employee the per-indicator capaian and the result; per unit the curve."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console
from rich.table import Table

from contracts.envelope import Envelope
from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.domain import score_stream


async def _load(admin_dsn: str, kek: bytes | None
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Envelope]]:
    """The read model as stored, the same opened for display (names, comments; `kek`), and the events."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.set_type_codec("jsonb", schema="pg_catalog", encoder=str, decoder=__import__("orjson").loads,
                                  format="text")
        appraisals = [r["result"] for r in await conn.fetch("SELECT result FROM scoring.appraisals ORDER BY nip")]
        events = [Envelope.model_validate(r["body"]) for r in await conn.fetch(
            "SELECT body FROM scoring.events ORDER BY sequence")]
    finally:
        await conn.close()
    from objektif.pdp import opened

    return appraisals, (appraisals if kek is None else await opened(admin_dsn, kek, appraisals)), events


def print_report(console: Console, admin_dsn: str, kek: bytes | None = None) -> dict[str, Any]:
    """Print the appraisals from the read model (their personal values opened with `kek`) and the units' curve
    verdicts; returns the recomputation."""
    stored, appraisals, events = asyncio.run(_load(admin_dsn, kek))
    replay = score_stream(events, load_default_policies()).to_json()
    table = Table(title="Penilaian kinerja ASN — hasil dari bukti (read model layanan scoring)", show_lines=False)
    for col in ("NIP", "Nama", "Unit", "Capaian per IKI", "Capaian HK", "Rating HK", "Rating perilaku", "Predikat"):
        table.add_column(col, overflow="fold")
    for a in appraisals:
        iki = "\n".join(f"{i.get('iki_id')}: {i.get('capaian')}" for i in a.get("iki", []))
        table.add_row(
            a.get("nip", ""), a.get("name") or "", a.get("unit_id") or "", iki or "—",
            str(a.get("capaian_hasil_kerja") or "—"), _used(a.get("rating_hasil_kerja")),
            _used(a.get("rating_perilaku")), str(a.get("predikat") or "—"),
        )
    console.print(table)
    units = Table(title="Kurva distribusi per unit (§1.7)")
    for col in ("Unit", "Periode", "Predikat organisasi", "Sebaran predikat", "Kurva"):
        units.add_column(col, overflow="fold")
    for u in replay.get("units", []):
        counts = ", ".join(f"{k} {v}" for k, v in sorted((u.get("predikat_counts") or {}).items()) if v)
        curve = u.get("kurva") or {}
        problems = "; ".join(f"{v['message']} ({v['share']})" for v in curve.get("violations", []))
        units.add_row(u.get("unit_id", ""), u.get("period", ""), str(u.get("org_predicate") or "—"), counts,
                      f"{curve.get('verdict', '—')}{': ' + problems if problems else ''}")
    console.print(units)
    print_angka_kredit(console, appraisals)
    print_objections(console, appraisals)
    same = sorted(replay.get("appraisals", []), key=lambda a: (a["nip"], a["period"])) == stored  # both sealed
    console.print(f"Read model = pure replay of the evidence: {'ya ✓' if same else 'TIDAK ✗'}"
                  f" ({len(appraisals)} appraisals)")
    return replay


def print_angka_kredit(console: Console, appraisals: list[dict[str, Any]]) -> None:
    """Angka kredit (§5): per jabatan fungsional the credit its predikat earns, and how it was counted."""
    table = Table(title="Angka kredit jabatan fungsional (§5, PermenPANRB 1/2023)")
    for col in ("NIP", "Nama", "Jenjang", "Predikat", "Bulan", "Perhitungan", "Angka kredit", "Kebijakan"):
        table.add_column(col, overflow="fold")
    for a in appraisals:
        ak = a.get("angka_kredit")
        if isinstance(ak, dict):
            policy = ak.get("policy") or {}
            table.add_row(a.get("nip", ""), a.get("name") or "", str(ak.get("jenjang")), str(ak.get("predikat")),
                          str(ak.get("months")), str(ak.get("formula")), str(ak.get("value")),
                          f"{policy.get('id')} {policy.get('version')}")
    if table.row_count:
        console.print(table)
    else:
        console.print("Angka kredit (§5): tidak ada jabatan fungsional dengan jenjang")


def print_objections(console: Console, appraisals: list[dict[str, Any]]) -> None:
    """Keberatan (§2.4): each objection, its decision deadline, outcome, and the predikat before and after."""
    table = Table(title="Keberatan (§2.4) — keputusan Atasan Pejabat Penilai bersifat final")
    for col in ("NIP", "Nama", "Diajukan", "Batas keputusan", "Penjelasan", "Status", "Putusan", "Predikat"):
        table.add_column(col, overflow="fold")
    for a in appraisals:
        o = a.get("objection")
        if not isinstance(o, dict):
            continue
        original = (o.get("original") or {}).get("predikat") or a.get("predikat_computed")
        explained = o.get("explanations") or {}
        outcome = o.get("outcome") or "—"
        if o.get("modified"):
            outcome += " (" + ", ".join(f"{k} → {v}" for k, v in o["modified"].items() if v and k != "realisations")
            outcome += ")"
        table.add_row(a.get("nip", ""), a.get("name") or "", str(o.get("filed_at") or "—")[:10],
                      str(o.get("decision_due") or "—") + (" (terlambat)" if o.get("decided_late") else ""),
                      f"{explained.get('requested', 0)} diminta, {explained.get('given', 0)} diberikan",
                      str(o.get("status")), outcome, f"{original} → {a.get('predikat')} ({a.get('status')})")
    if table.row_count:
        console.print(table)
    else:
        console.print("Keberatan (§2.4): tidak ada")


def _used(rating: Any) -> str:
    if isinstance(rating, dict):
        return str(rating.get("used") or "—")
    return str(rating or "—")


def print_audit(console: Console, admin_dsn: str, data_dir: Path) -> bool:
    """After the run, do what an auditor would: issue a checkpoint, verify the whole ledger against the
    checkpoint key, and replay every published result (issue 9). Returns whether everything held."""
    from datetime import UTC, datetime

    from objektif.commands.audit import CoreScorer, signer_of
    from services.audit.app import checkpoints as cp
    from services.audit.app import replay as replay_app
    from services.audit.app import verify as verify_app

    signer = signer_of(data_dir)

    async def run() -> tuple[Any, Any, list[Any]]:
        conn = await asyncpg.connect(admin_dsn)
        try:
            issued = await cp.issue_checkpoint(conn, signer, datetime.now(UTC)) if signer else None
            report = await verify_app.verify_ledger(conn, [signer.verifier_key()] if signer else [])
            outcomes = await replay_app.replay_all(conn, CoreScorer())
        finally:
            await conn.close()
        return issued, report, outcomes

    issued, report, outcomes = asyncio.run(run())
    differ = [o for o in outcomes if not o.match]
    if issued is not None:
        console.print(f"Audit: checkpoint {issued.to_json()['size']} daun / leaves, root {issued.to_json()['root']}")
    console.print(f"Audit verify: {'utuh / intact ✓' if report.ok else 'RUSAK / TAMPERED ✗'} "
                  f"({report.leaves_checked} leaves, {report.checkpoints_checked} checkpoints); "
                  f"replay: {len(outcomes)} published results, {len(differ)} differ")
    return report.ok and not differ
