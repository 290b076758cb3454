// Objektif web page: plain JavaScript, no build step, nothing loaded from elsewhere.
// Every value from the API is put into the page as text (never as HTML).
"use strict";

const TEXT = {
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
};
const PREDIKAT = ["Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang/Misconduct", "Sangat Kurang"];
let lang = localStorage.getItem("objektif.lang") || "id";
const t = (key) => (TEXT[key] || [key, key])[lang === "id" ? 0 : 1];

// --- DOM helpers ------------------------------------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const $ = (id) => document.getElementById(id);
const show = (id, on) => { $(id).hidden = !on; };
const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString(lang === "id" ? "id-ID" : "en-GB",
  { dateStyle: "medium", timeStyle: "short" }) : "—");
const badge = (p) => h("span", { class: "badge " + String(p || "").replace(/[^A-Za-z]/g, ""), "data-testid": "predikat" },
  p || "—");
const kv = (pairs) => h("dl", { class: "kv" }, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));

// --- API --------------------------------------------------------------------------------------------------------
const token = () => sessionStorage.getItem("objektif.token");
class ApiError extends Error { constructor(status, body) { super(body.message || String(status)); this.status = status; } }
async function api(path, options = {}) {
  const res = await fetch(path, { ...options, headers: { ...(options.headers || {}), Authorization: "Bearer " + token() } });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})));
  return res;
}
const getJson = async (path) => (await api(path)).json();

function showError(err) {
  const box = $("error");
  const label = err.status === 403 ? t("forbidden") : err.status === 404 ? t("not_found")
    : err.status === 401 ? t("unauthorised") : "Error";
  box.replaceChildren(h("strong", {}, `${label} (${err.status || "?"})`), h("div", { class: "muted" }, err.message));
  box.dataset.status = String(err.status || "");
  show("error", true);
}

// --- views ------------------------------------------------------------------------------------------------------
let me = null;
async function loadMe() {
  me = await getJson("/api/me");
  show("login", false); show("logout", true); show("me", true);
  $("me-line").replaceChildren(h("strong", {}, me.nip || "—"), " · ", t("role_" + me.role));
  const list = (title, rows, link) => [h("h3", {}, title), rows.length
    ? h("ul", { class: "plain" }, rows.map((r) => h("li", {}, link(r)))) : h("p", { class: "muted" }, t("none"))];
  const appraisalLink = (r) => h("a", { href: `#/appraisal/${r.nip}/${r.period}` },
    `${r.period} — ${r.name || r.nip}`, " ", badge(r.predikat));
  const parts = [...list(t("my_appraisals"), me.appraisals, appraisalLink)];
  if (me.role === "superior") parts.push(...list(t("appraisees"), me.appraisees, appraisalLink));
  parts.push(...list(t("units"), me.units, (u) => h("a", { href: `#/unit/${u.unit_id}/${u.period}` },
    `${u.unit_id} · ${u.period}`)));
  $("me-lists").replaceChildren(...parts);
}

function ratingTable(r) {
  const hk = r.rating_hasil_kerja || {}, pr = r.rating_perilaku || {};
  return h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, t("from_evidence")),
    h("th", {}, t("by_pp")), h("th", {}, t("used")))),
  h("tbody", {},
    h("tr", {}, h("th", {}, t("hasil_kerja")), h("td", {}, hk.evidence || "—"), h("td", {}, hk.pejabat_penilai || "—"),
      h("td", { "data-testid": "rating-hasil-kerja" }, h("strong", {}, hk.used || "—"))),
    h("tr", {}, h("th", {}, t("perilaku")), h("td", {}, pr.multi_rater ? `${pr.multi_rater} (${pr.score})` : "—"),
      h("td", {}, pr.pejabat_penilai || "—"), h("td", { "data-testid": "rating-perilaku" }, h("strong", {}, pr.used || "—")))));
}

function evidenceList(items, auditUrl) {
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

function behaviourBlock(doc) {
  const pv = (doc.result.rating_perilaku || {}).per_value || [];
  const rows = pv.map((v) => h("tr", {}, h("td", {}, v.value), h("td", {}, v.score ?? "—"),
    h("td", {}, Object.entries(v.by_relation || {}).map(([rel, a]) => `${rel} ${a.mean} (${a.raters} ${t("raters")})`)
      .join(" · "), v.hidden_relations && v.hidden_relations.length
      ? h("div", { class: "muted" }, `${v.hidden_relations.join(", ")}: ${t("hidden_relations")}`) : null)));
  return [h("h3", {}, t("behaviour_title")), pv.length ? h("div", { class: "scroll" }, h("table", {}, h("thead", {},
    h("tr", {}, h("th", {}, t("value")), h("th", {}, t("score")), h("th", {}, t("raters")))), h("tbody", {}, rows)))
    : h("p", { class: "muted" }, t("none")),
  doc.behaviour_answers_withheld ? h("p", { class: "muted" }, `${doc.behaviour_answers_withheld} ${t("withheld")}`) : null];
}

function objectionBlock(doc) {
  const o = doc.objection, r = doc.result;
  const status = { none: t("obj_none"), filed: t("obj_filed"), examined: t("obj_examined"),
    decided: t("obj_decided") }[o.status];
  const parts = [h("h3", {}, t("objection")), h("p", { "data-testid": "objection-status", "data-status": o.status }, status),
    o.overdue ? h("p", { class: "alert", "data-testid": "objection-overdue" }, t("obj_overdue")) : null,
    kv([[t("delivered"), fmtTime(o.delivered_at)], [t("last_day"), o.last_day],
      ...(o.decision_due ? [[t("decision_due"), o.decision_due]] : [])])];
  for (const x of o.examination || []) {
    parts.push(h("p", { class: "muted" }, `${fmtTime(x.occurred_at)} · ${x.by_nip}: ${x.text}`));
  }
  for (const d of o.decisions) {
    parts.push(h("p", {}, h("strong", {}, t("outcome_" + d.outcome)), ` (${fmtTime(d.occurred_at)}): ${d.reasons}`));
  }
  if (o.decided_late) parts.push(h("p", { class: "alert", "data-testid": "objection-decided-late" }, t("obj_decided_late")));
  parts.push(...decisionChanges(o));
  // §2.4: the appraised employee, once the result was delivered, until the last day (the gate decides for sure)
  const open = o.delivered_at && o.last_day && new Date().toISOString().slice(0, 10) <= o.last_day;
  if (me && me.nip === r.nip && o.status === "none" && open) {
    const reasons = h("textarea", { id: "objection-reasons", rows: 3, required: true });
    const key = h("input", { id: "objection-key", type: "password", autocomplete: "off", required: true });
    const note = h("p", { class: "muted", id: "objection-note" }, t("obj_key_hint"));
    parts.push(h("form", { id: "objection-form", onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const filed = await fileObjection(r, reasons.value.trim(), key.value.trim());
        key.value = "";
        note.dataset.sent = filed.status || "";
        if (filed.status === "rejected") {  // the gate's answer, with its reasons in both languages
          note.textContent = t("obj_rejected") + " " + (filed.answer.reasons || [])
            .map((x) => (lang === "id" ? x.message_id : x.message_en)).join("; ");
        } else {
          note.textContent = filed.via === "http" ? t("obj_accepted") : t("obj_sent");
        }
      } catch (err) { showError(err); }
    } }, h("label", { for: "objection-reasons" }, t("obj_reasons")), reasons,
    h("label", { for: "objection-key" }, t("obj_key")), key, note,
    h("button", { type: "submit", id: "objection-button", class: "secondary" }, t("obj_button"))));
  }
  return parts;
}

// §2.4: what the Atasan Pejabat Penilai's decision set, and the result before it beside the final one.
function decisionChanges(o) {
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
    out.push(h("div", { class: "scroll" }, h("table", { class: "compare", "data-testid": "objection-compare" },
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

async function renderAppraisal(nip, period) {
  const doc = await getJson(`/api/appraisals/${encodeURIComponent(nip)}/${encodeURIComponent(period)}`);
  const r = doc.result, d = r.divergence || {};
  const ikis = doc.iki.map((i) => h("div", { class: "iki", "data-testid": "iki" },
    h("strong", {}, i.name), h("div", { class: "muted" }, i.iki_id),
    h("div", { class: "grid" },
      h("div", {}, t("target"), h("div", { class: "num" }, i.target.low === i.target.high ? i.target.low
        : `${i.target.low}–${i.target.high}`, " ", i.unit)),
      h("div", {}, t("realisasi"), h("div", { class: "num" }, i.realisasi ?? "—")),
      h("div", {}, t("capaian"), h("div", { class: "num", "data-testid": "capaian" }, i.capaian))),
    i.note ? h("p", { class: "muted" }, i.note) : null,
    h("h3", {}, t("evidence")), evidenceList(i.evidence, me && me.audit_url)));
  const divergence = (d.hasil_kerja || d.perilaku) ? h("div", { class: "divergence" }, h("strong", {}, t("divergence")),
    h("p", {}, d.justification ? `${t("justification")}: ${d.justification}` : t("justification_missing")),
    d.note ? h("p", { class: "muted" }, d.note) : null) : null;
  const feedback = doc.feedback.length ? [h("h3", {}, t("feedback")), h("ul", { class: "plain" },
    doc.feedback.map((f) => h("li", {}, `${f.from_nip}: ${f.text}`)))] : [];
  $("appraisal").replaceChildren(h("div", { class: "card", "data-testid": "appraisal" },
    h("h2", {}, r.name || r.nip, " ", badge(r.predikat)),
    kv([["NIP", r.nip], [t("period"), `${r.period} (${r.evaluation})`], [t("jabatan"), r.jabatan],
      [t("unit"), r.unit_id ? h("a", { href: `#/unit/${r.unit_id}/${r.period}` }, r.unit_id) : "—"],
      [t("pejabat_penilai"), r.pejabat_penilai_nip], [t("status"), t(r.status)], [t("capaian_total"), r.capaian_hasil_kerja],
      [t("policy"), `${r.policy.id} ${r.policy.version}`]]),
    h("h3", {}, t("predikat")), ratingTable(r), divergence,
    doc.objection.final ? h("p", { class: "decision-note" }, t("obj_from_decision")) : null),
  h("div", { class: "card" }, h("h2", {}, t("iki_title")), ikis),
  h("div", { class: "card" }, behaviourBlock(doc), ...feedback),
  h("div", { class: "card" }, objectionBlock(doc)));
  show("appraisal", true);
}

// The unit's distribution as an inline SVG bar chart, with the curve's limits drawn on the bars they concern.
function chart(u) {
  const total = u.final || 0, W = 360, H = 232, left = 34, top = 14, bottom = 190, bw = 52, gap = 10;
  const y = (share) => bottom - (bottom - top) * share;
  const ns = "http://www.w3.org/2000/svg";
  const s = (tag, attrs, text) => {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    return el;
  };
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "data-testid": "unit-chart",
    "aria-label": `${t("unit_title")}: ${u.unit_id}` });
  for (const p of [0, 0.5, 1]) {
    svg.append(s("line", { x1: left, x2: W - 4, y1: y(p), y2: y(p), stroke: "#d9dee4" }));
    svg.append(s("text", { x: 2, y: y(p) + 4, "font-size": 10, fill: "#5b6570" }, `${p * 100}%`));
  }
  PREDIKAT.forEach((label, i) => {
    const n = (u.predikat_counts || {})[label] || 0, share = total ? n / total : 0, x = left + 6 + i * (bw + gap);
    svg.append(s("rect", { x, y: y(share), width: bw, height: bottom - y(share), fill: "#0b5cad", rx: 2,
      "data-label": label, "data-count": n }));
    svg.append(s("text", { x: x + bw / 2, y: y(share) - 3, "text-anchor": "middle", "font-size": 11 }, String(n)));
    const name = s("text", { x: x + bw / 2, y: bottom + 12, "text-anchor": "middle", "font-size": 9 });
    label.replace("/", "/ ").split(" ").reduce((lines, word) => {  // at most two lines under each bar
      if (lines.length < 2 && (lines.length === 0 || lines[lines.length - 1].length + word.length > 9)) lines.push(word);
      else lines[lines.length - 1] += (lines[lines.length - 1].endsWith("/") ? "" : " ") + word;
      return lines;
    }, []).forEach((line, n) => name.append(s("tspan", { x: x + bw / 2, dy: n ? 10 : 0 }, line)));
    svg.append(name);
    for (const rule of u.curve_rules || []) {
      if (rule.labels.length !== 1 || rule.labels[0] !== label || rule.value === null) continue;
      if (rule.check !== "at_most" && rule.check !== "at_least") continue;
      const color = rule.check === "at_most" ? "#b42318" : "#1d7a3a", ly = y(rule.value / 100);
      svg.append(s("line", { x1: x - 3, x2: x + bw + 3, y1: ly, y2: ly, stroke: color, "stroke-width": 2,
        "stroke-dasharray": "4 2" }));
      svg.append(s("text", { x: x + bw / 2, y: ly - 3, "text-anchor": "middle", "font-size": 9, fill: color,
        stroke: "#fff", "stroke-width": 3, "paint-order": "stroke", "font-weight": 700 },
        `${rule.check === "at_most" ? t("max") : t("min")} ${rule.value}%`));
    }
  });
  svg.append(s("text", { x: W / 2, y: H - 2, "text-anchor": "middle", "font-size": 10, fill: "#5b6570" },
    `${t("final")}: ${total} · ${t("provisional")}: ${u.provisional}`));
  return svg;
}

function ruleText(rule) {
  const labels = rule.labels.join(" + ");
  if (rule.check === "largest") return `${labels}: ${t("largest")}`;
  if (rule.check === "min_count") return `${labels}: ≥ ${rule.value}`;
  return `${labels}: ${rule.check === "at_most" ? "≤" : "≥"} ${rule.value}%`;
}

async function renderUnit(unitId, period) {
  const u = await getJson(`/api/units/${encodeURIComponent(unitId)}/${encodeURIComponent(period)}`);
  const k = u.kurva || {};
  const verdict = !k.checked ? t("curve_unchecked") : k.verdict === "ok" ? t("curve_ok")
    : k.verdict === "block" ? t("curve_block") : t("curve_warn");
  const download = async (fmt) => {
    try {
      const blob = await (await api(`/api/units/${encodeURIComponent(unitId)}/${encodeURIComponent(period)}/export.${fmt}`)).blob();
      const a = h("a", { href: URL.createObjectURL(blob), download: `objektif-${unitId}-${period}.${fmt}` });
      document.body.append(a); a.click(); a.remove();
    } catch (err) { showError(err); }
  };
  const exports = me && me.role !== "employee" ? h("p", {}, t("export"), ": ",
    h("button", { type: "button", class: "link", onclick: () => download("csv") }, "CSV"), " ",
    h("button", { type: "button", class: "link", onclick: () => download("xlsx") }, "XLSX")) : null;
  const members = u.members.length ? h("table", { "data-testid": "unit-members" }, h("thead", {}, h("tr", {},
    h("th", {}, "NIP"), h("th", {}, t("name")), h("th", {}, t("hasil_kerja")), h("th", {}, t("perilaku")),
    h("th", {}, t("predikat")))), h("tbody", {}, u.members.map((m) => h("tr", {},
    h("td", {}, h("a", { href: `#/appraisal/${m.nip}/${u.period}` }, m.nip)), h("td", {}, m.name || "—"),
    h("td", {}, m.rating_hasil_kerja || "—"), h("td", {}, m.rating_perilaku || "—"), h("td", {}, badge(m.predikat)))))) : null;
  $("unit").replaceChildren(h("div", { class: "card", "data-testid": "unit" },
    h("h2", {}, t("unit_title"), ": ", u.unit_name || u.unit_id),
    kv([[t("unit"), u.unit_id], [t("period"), u.period], [t("org_predicate"), u.org_predicate],
      [t("curve"), h("span", { "data-testid": "curve-verdict", "data-verdict": k.verdict }, verdict)]]),
    h("div", { class: "chart" }, chart(u)),
    u.curve_rules.length ? h("ul", { class: "plain" }, u.curve_rules.map((r) => h("li", {}, ruleText(r)))) : null,
    (k.violations || []).length ? h("ul", { class: "plain violations" }, k.violations.map((v) => h("li", {}, v.message))) : null,
    exports),
  members ? h("div", { class: "card" }, h("h2", {}, t("members")), h("div", { class: "scroll" }, members)) : "");
  show("unit", true);
}

// --- objections: signed here with the employee's own Ed25519 key (WebCrypto), sent to the intake -------------
function canonical(value) {
  if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
  if (value && typeof value === "object") {
    return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
  }
  return JSON.stringify(value);
}
const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
async function fileObjection(result, reasons, seedB64) {
  const seed = unb64(seedB64);
  if (seed.length !== 32) throw new ApiError(400, { message: "the key must be a base64 Ed25519 seed of 32 bytes" });
  const pkcs8 = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
    0x04, 0x20, ...seed]);
  const key = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
  const envelope = { event_id: crypto.randomUUID(), type: "objection.filed", schema_version: 1,
    occurred_at: new Date().toISOString(), source: `nip:${result.nip}`, subject: result.nip, period: result.period,
    payload: { reasons } };
  const signature = await crypto.subtle.sign({ name: "Ed25519" }, key, new TextEncoder().encode(canonical(envelope)));
  envelope.signature = b64(signature);
  const res = await fetch("/api/objections", { method: "POST", body: JSON.stringify(envelope),
    headers: { "Content-Type": "application/json", Authorization: "Bearer " + token() } });
  const answer = await res.json().catch(() => ({}));
  if (res.status === 202) return answer;
  if (answer.via === "http" && answer.answer) return { ...answer, status: "rejected" };
  throw new ApiError(res.status, answer);
}

// --- routing ----------------------------------------------------------------------------------------------------
async function route() {
  show("error", false); show("appraisal", false); show("unit", false);
  if (!token()) { show("login", true); show("me", false); show("logout", false); return; }
  try {
    if (!me) await loadMe();
    const [, kind, a, b] = location.hash.split("/");
    if (kind === "appraisal" && a && b) await renderAppraisal(decodeURIComponent(a), decodeURIComponent(b));
    else if (kind === "unit" && a && b) await renderUnit(decodeURIComponent(a), decodeURIComponent(b));
  } catch (err) {
    if (err.status === 401) { sessionStorage.removeItem("objektif.token"); me = null; show("login", true); }
    showError(err);
  }
}

function applyLanguage() {
  document.documentElement.lang = lang;
  $("lang").textContent = lang === "id" ? "EN" : "ID";
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
}

document.addEventListener("DOMContentLoaded", () => {
  applyLanguage();
  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem("objektif.token", $("token").value.trim());
    $("token").value = ""; me = null; route();
  });
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem("objektif.token"); me = null; location.hash = ""; route();
  });
  $("lang").addEventListener("click", () => {
    lang = lang === "id" ? "en" : "id"; localStorage.setItem("objektif.lang", lang); applyLanguage(); me = null; route();
  });
  window.addEventListener("hashchange", route);
  route();
});
