// UU 27/2022 PDP on the pages (issue 18; docs/pdp.md): the person's own copy of his or her data, checked in the
// browser against the signed checkpoint (RFC 6962 with WebCrypto SHA-256), and the Administrasi page's erasure.
import { addText, answerBox, api, errorBox, fmtDate, h, kv, t } from "../core.js";

addText({
  pdp_title: ["Data pribadi saya (UU PDP)", "My personal data (UU PDP)"],
  pdp_hint: ["Unduh semua yang tercatat tentang Anda dan yang Anda tulis: peristiwa, hasil, dan bukti bahwa tiap peristiwa ada di ledger. Berkasnya dapat diperiksa siapa saja.",
    "Download everything recorded about you and everything you wrote: events, results and the proof that each event is in the ledger. Anyone can check the file."],
  pdp_download: ["Unduh data saya", "Download my data"], pdp_busy: ["Sedang disiapkan…", "Preparing…"],
  pdp_done: ["{file} diunduh: {events} peristiwa, {results} hasil, tercatat sampai entri ke-{size} ledger.",
    "{file} downloaded: {events} events, {results} results, recorded up to ledger entry {size}."],
  pdp_proofs_ok: ["Diperiksa di peramban ini: setiap bukti menghasilkan akar checkpoint yang ditandatangani.",
    "Checked in this browser: every proof gives the signed checkpoint's root."],
  pdp_proofs_bad: ["Peringatan: {n} bukti tidak cocok dengan checkpoint. Simpan berkasnya dan hubungi auditor.",
    "Warning: {n} proofs do not match the checkpoint. Keep the file and contact the auditor."],
  pdp_verify_cli: ["Periksa sendiri: objektif pdp verify {file}", "Check it yourself: objektif pdp verify {file}"],
  er_title: ["Hapus data pribadi (UU PDP)", "Erase personal data (UU PDP)"],
  er_hint: ["Menghancurkan kunci data pegawai: semua komentar, umpan balik dan penjelasan tentang dia terbaca “dihapus (UU PDP)”. Nilai, hasil dan ledger tetap utuh. Tidak dapat dibatalkan.",
    "Destroys the employee's data key: every comment, feedback and explanation about him or her reads “dihapus (UU PDP)”. Scores, results and the ledger stay whole. Cannot be undone."],
  er_nip: ["NIP pegawai (18 angka)", "Employee's NIP (18 digits)"], er_check: ["Periksa", "Check"],
  er_keys: ["Kunci data", "Data keys"], er_keys_n: ["{live} aktif, {gone} dihancurkan", "{live} active, {gone} destroyed"],
  er_sealed: ["Isian pribadi tersimpan", "Personal values stored"], er_unreadable: ["Sudah tidak terbaca", "No longer readable"],
  er_retention: ["Masa retensi", "Retention"], er_ended: ["Sudah berakhir", "Ended"],
  er_until: ["Belum berakhir: {n} peristiwa sampai {day}", "Not ended: {n} events until {day}"],
  er_reason: ["Alasan (dicatat pada peristiwa)", "Reason (recorded on the event)"],
  er_order: ["Dasar penghapusan sebelum retensi berakhir (mis. nomor putusan)", "Grounds to erase before retention ends (e.g. an order's number)"],
  er_order_needed: ["Masa retensi belum berakhir: tuliskan dasar penghapusannya.", "Retention has not ended: write the grounds for erasing."],
  er_confirm: ["Saya mengerti penghapusan ini tidak dapat dibatalkan.", "I understand this erasure cannot be undone."],
  er_confirm_needed: ["Centang pernyataan di atas dulu.", "Tick the statement above first."],
  er_reason_needed: ["Tulis alasannya dulu.", "Write the reason first."],
  er_submit: ["Hapus data pribadi", "Erase the personal data"],
  er_done: ["Dihapus: {n} isian kini terbaca “dihapus (UU PDP)”.", "Erased: {n} values now read “dihapus (UU PDP)”."],
  er_bad_nip: ["NIP harus 18 angka, tanpa spasi atau titik.", "A NIP is 18 digits, without spaces or dots."],
});

const NIP = /^[0-9]{18}$/;
const hex = (bytes) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (text) => Uint8Array.from(text.match(/../g) || [], (b) => parseInt(b, 16));
const sha256 = async (...parts) => {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0; for (const p of parts) { all.set(p, at); at += p.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
};

/** RFC 9162 §2.1.3.2: the root an inclusion proof gives, as contracts/merkle.py `root_from_inclusion`. */
async function rootFromInclusion(leaf, index, size, path) {
  if (index >= size) return null;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(Uint8Array.of(1), p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await sha256(Uint8Array.of(1), r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

/** A partition's leaf in the tree over every partition (ADR 0013): u16 part || u64 size || root. */
function partitionEntry(part, size, root) {
  const entry = new Uint8Array(42);
  const view = new DataView(entry.buffer);
  view.setUint16(0, part);
  view.setBigUint64(2, BigInt(size));
  entry.set(root, 10);
  return entry;
}

/** How many of an export's events fail their proof (objektif/pdp.py `verify_export`, in the browser): the leaf
 * up to its partition's root, then that partition up to the root of the checkpoint over every partition. */
async function failedProofs(doc) {
  const root = hex(unhex(doc.checkpoint.root));
  const trees = new Map(doc.checkpoint.partitions.map((p) => [p.part, p]));
  let failed = 0;
  for (const e of doc.events) {
    const tree = trees.get(e.partition);
    const leaf = unhex(e.leaf_hash);
    const bytes = e.leaf_bytes_b64 ? Uint8Array.from(atob(e.leaf_bytes_b64), (c) => c.charCodeAt(0)) : null;
    const bytesOk = !bytes || hex(await sha256(Uint8Array.of(0), bytes)) === hex(leaf);
    const got = tree && e.inclusion_proof && await rootFromInclusion(leaf, e.leaf_index, tree.size, e.inclusion_proof.map(unhex));
    const treeOk = got && hex(got) === tree.root;
    const entry = treeOk && await sha256(Uint8Array.of(0), partitionEntry(e.partition, tree.size, got));
    const all = entry && await rootFromInclusion(entry, e.partition, doc.checkpoint.count, e.partition_proof.map(unhex));
    if (!bytesOk || !all || hex(all) !== root) failed += 1;
  }
  return failed;
}

/** The employee's card: download his or her own copy, checked here against the checkpoint. */
export function myDataCard(nip) {
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "button", class: "secondary", "data-testid": "pdp-download", onclick: async () => {
    button.disabled = true;
    out.replaceChildren(h("p", { class: "muted" }, t("pdp_busy")));
    let res = null;
    try { res = await fetch("/api/pdp/export", { credentials: "same-origin", headers: { Accept: "application/json" } }); } catch (err) { res = null; }
    const text = res ? await res.text() : "";
    button.disabled = false;
    if (!res || res.status !== 200) {
      let body = { error: "network", message: t("error_network") };
      try { body = JSON.parse(text); } catch (err) { /* not JSON: keep the network message */ }
      out.replaceChildren(errorBox({ status: res ? res.status : 0, body }));
      return;
    }
    const doc = JSON.parse(text);
    const file = `data-saya-${nip}.json`;
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const a = h("a", { href: url, download: file, hidden: true });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    const failed = await failedProofs(doc);
    out.replaceChildren(
      h("p", { role: "status", class: "ok-note", "data-testid": "pdp-downloaded" },
        t("pdp_done", { file, events: doc.events.length, results: doc.results.length, size: doc.checkpoint.size })),
      h("p", { "data-testid": "pdp-proofs", "data-failed": String(failed), class: failed ? "error" : "ok-note" },
        failed ? t("pdp_proofs_bad", { n: failed }) : t("pdp_proofs_ok")),
      h("p", { class: "muted" }, h("code", {}, t("pdp_verify_cli", { file }))));
  } }, t("pdp_download"));
  return h("section", { class: "card", "aria-labelledby": "pdp-title", "data-testid": "pdp-card" },
    h("h2", { id: "pdp-title" }, t("pdp_title")), h("p", { class: "muted" }, t("pdp_hint")), button, out);
}

function stateList(s) {
  const live = s.data_keys.filter((k) => !k.destroyed).length;
  const r = s.retention;
  return kv([[t("er_keys"), t("er_keys_n", { live, gone: s.data_keys.length - live })],
    [t("er_sealed"), String(s.sealed_values)], [t("er_unreadable"), String(s.unreadable.length)],
    [t("er_retention"), r.ended ? t("er_ended") : t("er_until", { n: r.within, day: fmtDate(r.last_day) })]]);
}

/** The Administrasi page's erasure: check the person's state, then erase with a reason (and an order while
 * retention runs), confirmed; the answer and what became unreadable are shown. */
export function erasureSection(problem) {
  const field = (id, label, input) => [h("label", { for: id }, label), input];
  const nip = h("input", { id: "erase-nip", name: "erase-nip", "data-testid": "erase-nip", inputmode: "numeric", maxlength: 18, autocomplete: "off" });
  const state = h("div", { "data-testid": "erase-state", "aria-live": "polite" });
  const reason = h("textarea", { id: "erase-reason", name: "erase-reason", "data-testid": "erase-reason", rows: 2, maxlength: 1500 });
  const order = h("input", { id: "erase-order", name: "erase-order", "data-testid": "erase-order", maxlength: 300, autocomplete: "off" });
  const confirm = h("input", { id: "erase-confirm", type: "checkbox", "data-testid": "erase-confirm" });
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "danger", "data-testid": "erase-submit" }, t("er_submit"));
  let known = null;
  const value = () => nip.value.replace(/[\s.]+/g, "");
  const check = async () => {
    if (!NIP.test(value())) { nip.setAttribute("aria-invalid", "true"); out.replaceChildren(problem(t("er_bad_nip"))); nip.focus(); return null; }
    nip.removeAttribute("aria-invalid");
    const res = await api(`/api/admin/pdp/${value()}`);
    known = res.status === 200 ? res.body : null;
    state.replaceChildren(known ? stateList(known) : errorBox(res));
    return known;
  };
  const checkBtn = h("button", { type: "button", class: "secondary", "data-testid": "erase-check", onclick: () => { out.replaceChildren(); check(); } }, t("er_check"));
  const form = h("form", { novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const s = known && known.nip === value() ? known : await check();
    if (!s) return;
    if (!reason.value.trim()) { out.replaceChildren(problem(t("er_reason_needed"))); reason.focus(); return; }
    if (!s.retention.ended && !order.value.trim()) { out.replaceChildren(problem(t("er_order_needed"))); order.focus(); return; }
    if (!confirm.checked) { out.replaceChildren(problem(t("er_confirm_needed"))); confirm.focus(); return; }
    button.disabled = true;
    const res = await api(`/api/admin/pdp/${value()}/erase`, { method: "POST", body: { reason: reason.value.trim(), order: order.value.trim() } });
    button.disabled = false;
    const b = res.body || {};
    if (!b.status) { out.replaceChildren(errorBox(res)); return; }
    confirm.checked = false;
    if (b.after) { known = b.after; state.replaceChildren(stateList(b.after)); }
    out.replaceChildren(answerBox(b), b.status === "accepted" && b.after
      ? h("p", { role: "status", class: "ok-note", "data-testid": "erase-done" }, t("er_done", { n: b.after.unreadable.length })) : "");
  } }, h("p", { class: "muted" }, t("er_hint")), field("erase-nip", t("er_nip"), nip), checkBtn, state,
  field("erase-reason", t("er_reason"), reason), field("erase-order", t("er_order"), order),
  h("label", { class: "choice confirm", for: "erase-confirm" }, confirm, t("er_confirm")), button);
  return h("section", { class: "card", "aria-labelledby": "ad-erase" }, h("h2", { id: "ad-erase" }, t("er_title")), form, out);
}
