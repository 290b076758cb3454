// The appraisal's parts as the read API explains them (ported from the first page, app.js): ratings, IKI and
// evidence, behaviour aggregates, the objection's state and what a decision changed (§1.3, §1.4, §2.4).
import { addText, fmtTime, h, kv, lang, t } from "./core.js";

addText({
  tagline: ["Penilaian kinerja ASN berbasis bukti", "Evidence-based appraisal of civil servants"],
  logout: ["Keluar", "Sign out"],
  login_title: ["Masuk", "Sign in"],
  login_hint: ["Tempelkan token akses Anda (dibuat dengan objektif token).",
    "Paste your access token (made with objektif token)."],
  token: ["Token", "Token"],
  login_button: ["Masuk", "Sign in"],
  me_title: ["Akun", "Account"],
  footer: ["Setiap angka menunjuk bukti dan peristiwa yang menghasilkannya (PermenPANRB 6/2022).",
    "Every number points to the evidence and events that produced it (PermenPANRB 6/2022)."],
  role_employee: ["Pegawai", "Employee"], role_superior: ["Atasan (Pejabat Penilai)", "Superior (appraiser)"],
  role_auditor: ["Auditor", "Auditor"],
  my_appraisals: ["Penilaian saya", "My appraisals"], appraisees: ["Pegawai yang saya nilai", "People I appraise"],
  units: ["Unit kerja", "Units"], none: ["Belum ada.", "None yet."],
  period: ["Periode", "Period"], unit: ["Unit", "Unit"], jabatan: ["Jabatan", "Position"],
  pejabat_penilai: ["Pejabat Penilai", "Appraiser"], status: ["Status", "Status"], policy: ["Kebijakan", "Policy"],
  predikat: ["Predikat kinerja", "Performance predicate"],
  hasil_kerja: ["Rating hasil kerja", "Results rating"], perilaku: ["Rating perilaku", "Behaviour rating"],
  from_evidence: ["Dari bukti", "From evidence"], by_pp: ["Oleh Pejabat Penilai", "By the appraiser"],
  used: ["Dipakai", "Used"], multi_rater: ["Multi-penilai", "Multi-rater"],
  capaian_total: ["Capaian hasil kerja", "Results achievement"],
  iki_title: ["Indikator kinerja (IKI)", "Performance indicators (IKI)"],
  target: ["Target", "Target"], realisasi: ["Realisasi", "Realisation"], capaian: ["Capaian", "Achievement"],
  evidence: ["Bukti dukung", "Evidence"], no_evidence: ["Belum ada bukti.", "No evidence yet."],
  in_force: ["berlaku", "in force"], superseded: ["tidak berlaku lagi", "no longer in force"],
  source: ["Sumber", "Source"], occurred: ["Terjadi", "Occurred"], recorded: ["Dicatat", "Recorded"],
  document: ["Dokumen", "Document"], receipt: ["Tanda terima ledger", "Ledger receipt"],
  divergence: ["Perbedaan penilaian", "Divergence"], justification: ["Justifikasi", "Justification"],
  justification_missing: ["Justifikasi belum ada", "Justification missing"],
  behaviour_title: ["Perilaku BerAKHLAK (agregat)", "BerAKHLAK behaviour (aggregates)"],
  value: ["Nilai", "Value"], score: ["Skor", "Score"], raters: ["penilai", "raters"],
  hidden_relations: ["disembunyikan (kurang dari 2 penilai)", "hidden (fewer than 2 raters)"],
  withheld: ["jawaban individual rekan/bawahan tidak ditampilkan", "individual peer/subordinate answers withheld"],
  feedback: ["Umpan balik", "Feedback"],
  objection: ["Keberatan", "Objection"], obj_none: ["Belum ada keberatan.", "No objection."],
  obj_filed: ["Keberatan diajukan, menunggu keputusan Atasan Pejabat Penilai.",
    "Objection filed, awaiting the decision of the appraiser's superior."],
  obj_decided: ["Keberatan telah diputuskan (final).", "The objection has been decided (final)."],
  obj_examined: ["Keberatan sedang diperiksa: penjelasan diminta atau diberikan.",
    "The objection is being examined: explanations asked for or given."],
  delivered: ["Hasil diterima", "Result delivered"], last_day: ["Batas keberatan", "Objection deadline"],
  obj_reasons: ["Alasan keberatan", "Reasons"], obj_key: ["Kunci tanda tangan Anda (base64)", "Your signing key (base64)"],
  obj_key_hint: ["Kunci tidak dikirim: keberatan ditandatangani di peramban ini.",
    "The key is not sent: the objection is signed in this browser."],
  obj_button: ["Ajukan keberatan", "File an objection"],
  obj_sent: ["Keberatan terkirim ke gerbang bukti; statusnya muncul setelah diterima.",
    "Objection sent to the evidence gate; its status appears once accepted."],
  obj_accepted: ["Keberatan diterima gerbang bukti dan dicatat.", "The evidence gate accepted and recorded the objection."],
  obj_rejected: ["Keberatan ditolak gerbang bukti:", "The evidence gate rejected the objection:"],
  decision_due: ["Batas keputusan Atasan", "Decision deadline"],
  obj_overdue: ["Terlambat: batas waktu keputusan Atasan Pejabat Penilai telah lewat tanpa keputusan.",
    "Overdue: the deadline for the decision of the appraiser's superior has passed without a decision."],
  obj_decided_late: ["Keputusan diberikan setelah batas waktunya (terlambat).",
    "The decision was given after its deadline (late)."],
  obj_modified: ["Diubah oleh keputusan", "Changed by the decision"],
  obj_before: ["Sebelum keputusan", "Before the decision"],
  obj_after: ["Hasil akhir (final)", "Final result"],
  obj_from_decision: ["Hasil akhir ditetapkan oleh keputusan Atasan Pejabat Penilai atas keberatan (final, §2.4).",
    "The final result was set by the decision of the appraiser's superior on the objection (final, §2.4)."],
  outcome_diterima: ["Diterima", "Accepted"], outcome_ditolak: ["Ditolak", "Rejected"],
  unit_title: ["Distribusi predikat unit", "Unit predicate distribution"],
  org_predicate: ["Predikat organisasi", "Organisation predicate"], curve: ["Kurva distribusi", "Distribution curve"],
  curve_ok: ["Sesuai kurva", "Within the curve"], curve_unchecked: ["Belum dapat diperiksa", "Not checkable yet"],
  curve_warn: ["Peringatan: di luar kurva", "Warning: outside the curve"],
  curve_block: ["Diblokir: di luar kurva, predikat final belum dapat diterbitkan",
    "Blocked: outside the curve, final predicates cannot be issued"],
  final: ["Final", "Final"], provisional: ["Sementara", "Provisional"], members: ["Pegawai", "Employees"],
  name: ["Nama", "Name"], export: ["Unduh", "Download"], open: ["Buka", "Open"], back: ["Kembali", "Back"],
  view_unit: ["Lihat distribusi unit", "View the unit's distribution"],
  forbidden: ["Akses ditolak", "Access denied"], not_found: ["Tidak ditemukan", "Not found"],
  unauthorised: ["Token tidak sah atau kedaluwarsa", "Invalid or expired token"],
  max: ["maks", "max"], min: ["min", "min"], largest: ["terbesar", "largest"],
});
export const PREDIKAT = ["Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang/Misconduct", "Sangat Kurang"];
export const badge = (p) => h("span", { class: "badge " + String(p || "").replace(/[^A-Za-z]/g, ""),
  "data-testid": "predikat" }, p || "—");

addText({
  ak_title: ["Angka kredit (jabatan fungsional)", "Credit points (functional position)"],
  ak_jenjang: ["Jenjang", "Level"], ak_months: ["Masa dinilai", "Months counted"], ak_months_n: ["{n} bulan", "{n} months"],
  ak_percentage: ["Persentase dari predikat", "Percentage from the predikat"], ak_koefisien: ["Koefisien tahunan", "Annual coefficient"],
  ak_value: ["Angka kredit", "Credit points"], ak_how: ["Cara menghitung", "How it is computed"],
  ak_rule: ["Predikat dikonversi ke angka kredit: Sangat Baik 150%, Baik 100%, Butuh Perbaikan 75%, Kurang/Misconduct 50%, Sangat Kurang 25% dari koefisien tahunan jenjang, sebanding jumlah bulan (PermenPANRB 1/2023, PerBKN 3/2023).",
    "The predikat converts to credit: Sangat Baik 150%, Baik 100%, Butuh Perbaikan 75%, Kurang/Misconduct 50%, Sangat Kurang 25% of the level's annual coefficient, pro rata by months (PermenPANRB 1/2023, PerBKN 3/2023)."],
  ak_policy: ["Kebijakan", "Policy"],
});

/** REGULATION.md §5: the credit a jabatan fungsional earns from this result, and how (null: none). */
export function angkaKreditCard(ak) {
  if (!ak) return null;
  const koef = ak.stretches.map((s) => (ak.stretches.length > 1 ? `${s.jenjang} ${s.koefisien} (${s.from} – ${s.to})` : s.koefisien)).join("; ");
  return h("section", { class: "card", "data-testid": "angka-kredit" }, h("h2", {}, t("ak_title")),
    kv([[t("ak_jenjang"), ak.jenjang], [t("ak_months"), t("ak_months_n", { n: ak.months })],
      [t("ak_percentage"), `${ak.percentage}% (${ak.predikat})`], [t("ak_koefisien"), koef],
      [t("ak_value"), h("strong", { class: "num", "data-testid": "angka-kredit-value" }, ak.value)]]),
    h("h3", {}, t("ak_how")), h("p", {}, h("code", { "data-testid": "angka-kredit-formula" }, ak.formula)),
    h("p", { class: "muted" }, t("ak_rule")),
    h("p", { class: "muted" }, `${t("ak_policy")}: ${ak.policy.id} ${ak.policy.version}`));
}

export function ratingTable(r) {
  const hk = r.rating_hasil_kerja || {}, pr = r.rating_perilaku || {};
  return h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, t("from_evidence")),
    h("th", {}, t("by_pp")), h("th", {}, t("used")))),
  h("tbody", {},
    h("tr", {}, h("th", {}, t("hasil_kerja")), h("td", {}, hk.evidence || "—"), h("td", {}, hk.pejabat_penilai || "—"),
      h("td", { "data-testid": "rating-hasil-kerja" }, h("strong", {}, hk.used || "—"))),
    h("tr", {}, h("th", {}, t("perilaku")), h("td", {}, pr.multi_rater ? `${pr.multi_rater} (${pr.score})` : "—"),
      h("td", {}, pr.pejabat_penilai || "—"), h("td", { "data-testid": "rating-perilaku" }, h("strong", {}, pr.used || "—")))));
}

export function evidenceList(items, auditUrl) {
  if (!items.length) return h("p", { class: "muted" }, t("no_evidence"));
  return h("ul", { class: "evidence" }, items.map((e) => h("li", { class: e.in_force ? "in-force" : "" },
    h("div", {}, h("strong", {}, e.value ?? "—"), " · ", e.in_force ? t("in_force") : t("superseded")),
    h("div", {}, `${t("source")}: ${e.source_system || e.source}`),
    h("div", {}, `${t("occurred")}: ${fmtTime(e.occurred_at)} · ${t("recorded")}: ${fmtTime(e.recorded_at)}`),
    h("div", {}, `${t("document")}: `, e.link
      ? h("a", { href: e.link, target: "_blank", rel: "noopener noreferrer", "data-testid": "evidence-link" }, e.document)
      : h("code", {}, e.document || "—")),
    auditUrl ? h("div", {}, h("a", { href: `${auditUrl}/receipts/${e.event_id}`, target: "_blank",
      rel: "noopener noreferrer", "data-testid": "receipt-link" }, t("receipt"))) : null,
    h("div", { class: "muted" }, h("code", {}, e.content_hash || "")))));
}

export function behaviourBlock(doc) {
  const pv = (doc.result.rating_perilaku || {}).per_value || [];
  const rows = pv.map((v) => h("tr", {}, h("td", {}, v.value), h("td", {}, v.score ?? "—"),
    h("td", {}, Object.entries(v.by_relation || {}).map(([rel, a]) => `${rel} ${a.mean} (${a.raters} ${t("raters")})`)
      .join(" · "), v.hidden_relations && v.hidden_relations.length
      ? h("div", { class: "muted" }, `${v.hidden_relations.join(", ")}: ${t("hidden_relations")}`) : null)));
  return [h("h3", {}, t("behaviour_title")), pv.length ? h("div", { class: "scroll", tabindex: 0 }, h("table", {}, h("thead", {},
    h("tr", {}, h("th", {}, t("value")), h("th", {}, t("score")), h("th", {}, t("raters")))), h("tbody", {}, rows)))
    : h("p", { class: "muted" }, t("none")),
  doc.behaviour_answers_withheld ? h("p", { class: "muted" }, `${doc.behaviour_answers_withheld} ${t("withheld")}`) : null];
}

export function objectionState(o) {
  const status = { none: t("obj_none"), filed: t("obj_filed"), examined: t("obj_examined"),
    decided: t("obj_decided") }[o.status];
  const parts = [h("p", { "data-testid": "objection-status", "data-status": o.status }, status),
    o.overdue ? h("p", { class: "alert", "data-testid": "objection-overdue" }, t("obj_overdue")) : null,
    kv([[t("delivered"), fmtTime(o.delivered_at)], [t("last_day"), o.last_day],
      ...(o.decision_due ? [[t("decision_due"), o.decision_due]] : [])])];
  for (const x of o.examination || []) {
    parts.push(h("p", { class: "muted" }, `${fmtTime(x.occurred_at)} · ${x.by_nip}: ${x.text}`));
  }
  for (const d of o.decisions || []) {
    parts.push(h("p", {}, h("strong", {}, t("outcome_" + d.outcome)), ` (${fmtTime(d.occurred_at)}): ${d.reasons}`));
  }
  if (o.decided_late) parts.push(h("p", { class: "alert", "data-testid": "objection-decided-late" }, t("obj_decided_late")));
  parts.push(...decisionChanges(o));
  return parts;
}

// §2.4: what the Atasan Pejabat Penilai's decision set, and the result before it beside the final one.
export function decisionChanges(o) {
  const out = [], m = o.modified;
  if (m) {
    const items = [m.rating_hasil_kerja && `${t("hasil_kerja")}: ${m.rating_hasil_kerja}`,
      m.rating_perilaku && `${t("perilaku")}: ${m.rating_perilaku}`,
      ...(m.realisations || []).map((x) => `${t("realisasi")} ${x.iki_id}: ${x.value}`)].filter(Boolean);
    const direct = (o.decisions || []).map((d) => d.predikat).filter(Boolean);
    items.push(...direct.map((p) => `${t("predikat")}: ${p}`));
    if (items.length) {
      out.push(h("h3", {}, t("obj_modified")),
        h("ul", { class: "plain", "data-testid": "objection-modified" }, items.map((x) => h("li", {}, x))));
    }
  }
  if (o.original && o.final) {
    const a = o.original, b = o.final;
    const row = (label, x, y, id) => h("tr", {}, h("th", {}, label), h("td", id ? { "data-testid": `objection-original-${id}` } : {}, x ?? "—"),
      h("td", id ? { "data-testid": `objection-final-${id}` } : {}, h("strong", {}, y ?? "—")));
    const ikiBefore = Object.fromEntries((a.iki || []).map((i) => [i.iki_id, i]));
    out.push(h("div", { class: "scroll", tabindex: 0 }, h("table", { class: "compare", "data-testid": "objection-compare" },
      h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, t("obj_before")), h("th", {}, t("obj_after")))),
      h("tbody", {}, row(t("predikat"), a.predikat, b.predikat, "predikat"),
        row(t("hasil_kerja"), a.rating_hasil_kerja, b.rating_hasil_kerja),
        row(t("perilaku"), a.rating_perilaku, b.rating_perilaku),
        row(t("capaian_total"), a.capaian_hasil_kerja, b.capaian_hasil_kerja),
        a.nilai || b.nilai ? row(t("value"), a.nilai, b.nilai) : null,
        ...(b.iki || []).map((i) => row(`${t("realisasi")} ${i.iki_id}`, (ikiBefore[i.iki_id] || {}).realisasi,
          i.realisasi))))),
    h("p", { class: "decision-note", "data-testid": "objection-from-decision" }, t("obj_from_decision")));
  }
  return out;
}

