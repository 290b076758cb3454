"""The appeal dossier as one self-contained HTML page: no external file, font or script, readable offline,
in Bahasa Indonesia with English beside it. An optional inline script re-checks every inclusion proof in the
browser (SHA-256 through Web Crypto) from the exact bytes embedded in the page up to the signed root
(RFC 9162 §2.1.3.2).
"""

from __future__ import annotations

import base64
from html import escape
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from services.audit.app.dossier import Dossier, DossierEvent

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#1b1b1b;line-height:1.45}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}
.en{color:#666;font-style:italic}table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.3rem .45rem;vertical-align:top;text-align:left}th{background:#f3f3f3}
code,pre{font-family:ui-monospace,monospace;font-size:.78rem;word-break:break-all;white-space:pre-wrap}
.ok{color:#0a6b2d}.bad{color:#a40000}details summary{cursor:pointer}
"""

# RFC 9162 §2.1.3.2, verbatim in structure; leaf hash = SHA-256(0x00 || bytes),
# node = SHA-256(0x01 || l || r).
_JS = """
const hex=h=>Uint8Array.from(h.match(/../g).map(b=>parseInt(b,16)));
const b64=s=>Uint8Array.from(atob(s),c=>c.charCodeAt(0));
const sha=async b=>new Uint8Array(await crypto.subtle.digest('SHA-256',b));
const cat=(p,...xs)=>{const o=new Uint8Array(1+xs.reduce((n,x)=>n+x.length,0));o[0]=p;let i=1;
  for(const x of xs){o.set(x,i);i+=x.length}return o};
const eq=(a,b)=>a.length===b.length&&a.every((v,i)=>v===b[i]);
async function included(index,size,leaf,proof,root){
  if(index>=size)return false;let fn=index,sn=size-1,r=leaf;
  for(const p of proof){if(sn===0)return false;
    if(fn%2===1||fn===sn){r=await sha(cat(1,p,r));if(fn%2===0){while(fn%2===0&&fn!==0){fn=Math.floor(fn/2);
      sn=Math.floor(sn/2)}}}else{r=await sha(cat(1,r,p))}
    fn=Math.floor(fn/2);sn=Math.floor(sn/2)}
  return sn===0&&eq(r,root)}
async function checkAll(){
  const out=document.getElementById('check-result');
  if(!window.crypto||!crypto.subtle){
    out.textContent='Peramban ini tidak menyediakan Web Crypto / no Web Crypto here';return}
  const rows=document.querySelectorAll('tr[data-proof]');let good=0,bad=0;
  for(const tr of rows){const d=JSON.parse(tr.dataset.proof);
    const leaf=d.body?await sha(cat(0,b64(d.body))):hex(d.leaf_hash);
    const entry=new Uint8Array(42);const v=new DataView(entry.buffer);v.setUint16(0,d.part);
    v.setBigUint64(2,BigInt(d.size));entry.set(hex(d.root),10);
    const ok=eq(leaf,hex(d.leaf_hash))&&await included(d.index,d.size,leaf,d.proof.map(hex),hex(d.root))&&
      await included(d.part,d.count,await sha(cat(0,entry)),d.part_proof.map(hex),hex(d.all_root));
    tr.querySelector('.verdict').textContent=ok?'✓':'✗';tr.querySelector('.verdict').className='verdict '+
      (ok?'ok':'bad');ok?good++:bad++}
  out.textContent=`${good} terbukti / proven, ${bad} gagal / failed`;out.className=bad?'bad':'ok'}
"""


def _leaf_name(part: int, pos: int) -> str:
    """A leaf as the page names it: its index in its partition's tree, after the partition (ADR 0013)."""
    return f"p{part}/{pos}"


def _both(indonesian: str, english: str) -> str:
    return f"{escape(indonesian)} <span class=en>/ {escape(english)}</span>"


def _text(value: Any) -> str:
    return "—" if value is None else escape(str(value))


def _results_table(dossier: Dossier) -> str:
    head = ("<tr><th>Leaf</th><th>Status</th><th>Predikat</th>"
            "<th>Hasil kerja <span class=en>/ work</span></th>"
            "<th>Perilaku <span class=en>/ behaviour</span></th><th>Nilai</th><th>Kebijakan <span class=en>"
            "/ policy</span></th><th>Dasar <span class=en>/ basis</span></th></tr>")
    rows = []
    for r in dossier.results:
        res = r.result
        policy = res.get("policy") or {}
        rows.append(
            f"<tr><td>{_leaf_name(r.partition, r.leaf_index)}</td><td>{_text(res.get('status'))}</td>"
            f"<td><b>{_text(res.get('predikat'))}"
            f"</b></td><td>{_text((res.get('rating_hasil_kerja') or {}).get('used'))}</td>"
            f"<td>{_text((res.get('rating_perilaku') or {}).get('used'))}</td>"
            f"<td>{_text(res.get('nilai'))}</td>"
            f"<td>{_text(policy.get('id') if isinstance(policy, dict) else policy)}</td>"
            f"<td>{len(res.get('basis_event_ids') or ())} peristiwa <span class=en>/ events</span><br>"
            f"<code>{_text(res.get('basis_hash'))}</code></td></tr>")
    if not rows:
        return f"<p>{_both('Belum ada hasil yang diterbitkan.', 'No result was published yet.')}</p>"
    return f"<table>{head}{''.join(rows)}</table>"


_STEPS = {
    "result.delivered": ("Hasil diterima pegawai", "Result delivered"),
    "objection.filed": ("Keberatan diajukan", "Objection filed"),
    "objection.explanation.requested": ("Penjelasan diminta", "Explanation requested"),
    "objection.explanation.given": ("Penjelasan diberikan", "Explanation given"),
    "objection.decided": ("Keputusan Atasan Pejabat Penilai (final)", "Decision of the Atasan (final)"),
}


def _thread_content(payload: dict[str, Any]) -> str:
    """What a step says: reasons, the question and whom it asks, the explanation, the outcome and changes."""
    parts = []
    for key, label in (("outcome", "Putusan / outcome"), ("question", "Pertanyaan / question"),
                       ("from_nips", "Kepada / asked"), ("given_by_nip", "Oleh / by"),
                       ("explanation", "Penjelasan / explanation"), ("reasons", "Alasan / reasons"),
                       ("modified_rating_hasil_kerja", "Rating hasil kerja"),
                       ("modified_rating_perilaku", "Rating perilaku"), ("predikat", "Predikat")):
        value = payload.get(key)
        if value:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            parts.append(f"{escape(label)}: <b>{escape(shown)}</b>")
    for m in payload.get("modified_realisations") or ():
        if isinstance(m, dict):
            parts.append(f"Realisasi / realisation {_text(m.get('iki_id'))}: <b>{_text(m.get('value'))}</b>")
    return "<br>".join(parts) or "—"


def _thread_table(dossier: Dossier) -> str:
    """§2.4: the objection from delivery to the final decision, refusals included, each step a ledger leaf."""
    rows = []
    for event in dossier.thread:
        env = event.envelope or {}
        payload = env.get("payload") or {}
        if event.topic.endswith("rejections.v1"):
            original = orjson.loads(base64.b64decode(str(payload.get("original_b64", ""))))
            codes = ", ".join(str(r.get("code")) for r in payload.get("reasons") or ())
            verdict = f"<span class=bad>{_both('ditolak gerbang', 'refused')}: {escape(codes)}</span>"
            env, payload = original, original.get("payload") or {}
        else:
            verdict = f"<span class=ok>{_both('tercatat', 'recorded')}</span>"
        step = _STEPS.get(str(env.get("type")), (str(env.get("type")), str(env.get("type"))))
        rows.append(
            f"<tr><td>{_leaf_name(event.partition, event.leaf_index)}</td><td>{_text(env.get('occurred_at'))}</td>"
            f"<td>{_both(*step)}<br>"
            f"<code>{_text(env.get('event_id'))}</code></td><td>{_text(env.get('source'))}</td>"
            f"<td>{_thread_content(payload)}</td><td>{verdict}</td></tr>")
    if not rows:
        return f"<p>{_both('Tidak ada keberatan.', 'No objection.')}</p>"
    head = (f"<tr><th>Leaf</th><th>{_both('Waktu', 'When')}</th><th>{_both('Langkah', 'Step')}</th>"
            f"<th>{_both('Sumber', 'Source')}</th><th>{_both('Isi', 'Content')}</th><th>Status</th></tr>")
    return f"<table id=keberatan>{head}{''.join(rows)}</table>"


def _evidence_cell(event: DossierEvent) -> str:
    refs = []
    for ref in event.evidence:
        doc = ref.get("document") or ref.get("url") or ""
        refs.append(f"{_text(ref.get('source_system'))}: <code>{_text(doc)}</code><br><code>"
                    f"{_text(ref.get('content_hash'))}</code>")
    return "<br>".join(refs) or "—"


def _event_row(event: DossierEvent, dossier: Dossier) -> str:
    env = event.envelope or {}
    covered = dossier.covered
    proof_attr = ""
    if event.proof is not None and event.partition_proof is not None and covered is not None:
        over_all, part = covered.over_all, event.partition
        data = {"index": event.leaf_index, "size": over_all.sizes[part], "root": over_all.roots[part].hex(),
                "leaf_hash": event.leaf_hash.hex(), "proof": [h.hex() for h in event.proof],
                "body": None if event.body is None else base64.b64encode(event.body).decode(),
                "part": part, "count": len(over_all.sizes), "all_root": over_all.root.hex(),
                "part_proof": [h.hex() for h in event.partition_proof]}
        proof_attr = f" data-proof='{escape(orjson.dumps(data).decode(), quote=True)}'"
    payload = orjson.dumps(env.get("payload"), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    proof = ("<br>".join(f"<code>{h.hex()}</code>" for h in event.proof) if event.proof is not None
             else _both("belum di bawah checkpoint", "not under a checkpoint yet"))
    return (
        f"<tr{proof_attr}><td>{_leaf_name(event.partition, event.leaf_index)}</td>"
        f"<td>{_text(env.get('occurred_at'))}</td>"
        f"<td><b>{_text(event.type)}</b><br><code>{event.event_id}</code><br>{_text(env.get('source'))}"
        f"{'' if env.get('sequence') is None else '<br>sequence ' + _text(env.get('sequence'))}</td>"
        f"<td>{_evidence_cell(event)}</td>"
        f"<td><details><summary>payload</summary><pre>{escape(payload)}</pre></details></td>"
        f"<td><code>{event.leaf_hash.hex()}</code>"
        f"<details><summary>{_both('bukti', 'proof')}</summary>{proof}"
        f"</details></td><td class=verdict></td></tr>")


_INTRO = _both(
    "Setiap peristiwa tercatat di buku besar audit (satu pohon Merkle RFC 6962 per partisi). Hash leaf = "
    "SHA-256(0x00 ‖ byte persis peristiwa); bukti inklusi mengarah ke root partisinya, lalu ke root checkpoint "
    "atas semua partisi di bawah.",
    "Every event is a leaf of the audit ledger (one RFC 6962 Merkle tree per partition). Leaf hash = "
    "SHA-256(0x00 ‖ the event's exact bytes); each inclusion proof leads to its partition's root, then to the "
    "root of the checkpoint over every partition below.",
)
_SIGNATURE_HELP = _both(
    "Tanda tangan diperiksa dengan format C2SP signed note (Ed25519), mis. golang.org/x/mod/sumdb/note, "
    "atau `objektif audit verify --vkey …`.",
    "Check the signature as a C2SP signed note (Ed25519), e.g. with golang.org/x/mod/sumdb/note, or "
    "`objektif audit verify --vkey …`.",
)
_EVENTS_HEAD = (
    f"<tr><th>Leaf</th><th>{_both('Waktu', 'When')}</th><th>{_both('Peristiwa', 'Event')}</th>"
    f"<th>{_both('Rujukan bukti', 'Evidence references')}</th><th>{_both('Isi', 'Content')}</th>"
    f"<th>{_both('Hash leaf dan bukti inklusi', 'Leaf hash and inclusion proof')}</th><th>✓</th></tr>"
)
_CHECK_BUTTON = (
    f'<button onclick="checkAll()">{_both("Periksa semua bukti di peramban ini", "Check every proof here")}'
    '</button> <span id="check-result"></span>'
)


def _identity(dossier: Dossier) -> str:
    latest = dossier.latest or {}
    return (
        f"<table><tr><th>NIP</th><td>{escape(dossier.nip)}</td><th>{_both('Periode', 'Period')}</th>"
        f"<td>{escape(dossier.period)}</td></tr><tr><th>{_both('Nama', 'Name')}</th>"
        f"<td>{_text(latest.get('name'))}</td><th>{_both('Unit kerja', 'Unit')}</th>"
        f"<td>{_text(latest.get('unit_id'))}</td></tr>"
        f"<tr><th>{_both('Predikat terakhir', 'Latest rating')}</th>"
        f"<td><b>{_text(latest.get('predikat'))}</b></td><th>{_both('Pejabat Penilai', 'Appraiser')}</th>"
        f"<td>{_text(latest.get('pejabat_penilai_nip'))}</td></tr></table>"
    )


def render_html(dossier: Dossier) -> str:
    """The dossier as one HTML document (UTF-8 text)."""
    covered = dossier.covered
    events = "".join(_event_row(e, dossier) for e in dossier.events)
    title = f"Berkas keberatan {escape(dossier.nip)} {escape(dossier.period)}"
    if covered is None:
        size, note = "—", _both("Belum ada checkpoint.", "No checkpoint yet.")
    else:
        c = covered.over_all
        size = f"{sum(c.sizes)} leaf, {len(c.sizes)} partisi / partitions, root <code>{c.root.hex()}</code>"
        used = sorted({e.partition for e in dossier.events if e.proof is not None})
        note = "\n".join(escape(n) for n in [c.note, *(covered.notes[p].note for p in used if p in covered.notes)])
    return f"""<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><title>{title}</title><style>{_CSS}</style></head><body>
<h1>{_both("Berkas Keberatan Penilaian Kinerja", "Appraisal appeal dossier")}</h1>
{_identity(dossier)}
<h2>{_both("Hasil dari waktu ke waktu", "Results over time")}</h2>
{_results_table(dossier)}
<h2>{_both("Keberatan: dari penyampaian hasil sampai keputusan", "Objection: from delivery to decision")}</h2>
{_thread_table(dossier)}
<h2>{_both("Peristiwa dan bukti", "Events and evidence")}</h2>
<p>{_INTRO}</p>
<table>{_EVENTS_HEAD}{events}</table>
<p>{_CHECK_BUTTON}</p>
<h2>Checkpoint</h2>
<p>{size}</p>
<pre>{note}</pre>
<p>{_both("Kunci verifikasi", "Verifier key")}: <code>{_text(dossier.vkey)}</code></p>
<p>{_SIGNATURE_HELP}</p>
<script>{_JS}</script>
</body></html>
"""
