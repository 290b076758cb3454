// #/keberatan[/<nip>/<P>]: the Atasan Pejabat Penilai's queue of objections with each decision deadline (§2.4),
// one objection opened: its reasons, the appraisal, asking both sides for explanations, reading them, and the
// final decision (ditolak / diterima with modified ratings or realisations). A Pejabat Penilai asked for an
// explanation gives it here; the employee files and answers on #/saya.
import { addText, api, errorBox, fmtDate, fmtTime, h, keep, kv, route, t } from "../core.js";
import { act, problem, ratingSelect, ratingWords, toRating } from "./tim.js";

addText({
  kb_title: ["Keberatan", "Objections"],
  kb_intro: ["Keberatan pegawai yang Anda putuskan sebagai Atasan Pejabat Penilai, atau yang Anda ikuti. Keputusan Atasan bersifat final (PP 30/2019 Pasal 59).",
    "Objections you decide as Atasan Pejabat Penilai, or follow. The Atasan's decision is final (PP 30/2019 art. 59)."],
  kb_queue: ["Daftar keberatan", "Objection queue"], kb_none: ["Tidak ada keberatan.", "No objections."],
  kb_filed: ["Diajukan", "Filed"], kb_due: ["Batas keputusan", "Decision deadline"],
  kb_days_left: ["{n} hari lagi", "{n} days left"], kb_today: ["hari ini", "today"],
  kb_overdue: ["Terlambat {n} hari: batas keputusan sudah lewat", "{n} days overdue: the decision deadline has passed"],
  kb_st_filed: ["Menunggu keputusan", "Awaiting decision"], kb_st_overdue: ["Terlambat diputuskan", "Decision overdue"],
  kb_st_decided: ["Sudah diputuskan (final)", "Decided (final)"], kb_st_examined: ["Sedang diperiksa", "Being examined"],
  kb_outcome_ditolak: ["Ditolak: hasil penilaian tetap", "Rejected: the result stands"],
  kb_outcome_diterima: ["Diterima: hasil penilaian diubah", "Accepted: the result is changed"],
  kb_back: ["Kembali ke daftar keberatan", "Back to the objection queue"],
  kb_of: ["Keberatan {name}", "Objection of {name}"], kb_period: ["Periode", "Period"],
  kb_reasons: ["Alasan keberatan pegawai", "The employee's reasons"], kb_delivered: ["Hasil disampaikan", "Result delivered"],
  kb_result: ["Hasil penilaian yang diajukan keberatan", "The result objected to"],
  kb_result_now: ["Hasil penilaian sekarang (sesudah keputusan)", "The result now (after the decision)"],
  kb_before: ["Sebelum keputusan", "Before the decision"],
  kb_hk: ["Rating hasil kerja", "Results rating"], kb_p: ["Rating perilaku", "Behaviour rating"],
  kb_evidence: ["dari bukti", "from evidence"], kb_pp: ["Pejabat Penilai", "Pejabat Penilai"], kb_used: ["dipakai", "used"],
  kb_justification: ["Justifikasi Pejabat Penilai", "The Pejabat Penilai's justification"],
  kb_predikat: ["Predikat kinerja", "Performance predicate"],
  kb_explanations: ["Pemeriksaan: permintaan dan penjelasan", "Examination: requests and explanations"],
  kb_no_expl: ["Belum ada permintaan penjelasan.", "No explanation asked for yet."],
  kb_asked: ["{by} meminta penjelasan dari {to}", "{by} asked {to} to explain"], kb_gave: ["Penjelasan dari {by}", "Explanation by {by}"],
  role_employee: ["Pegawai", "Employee"], role_pp: ["Pejabat Penilai", "Pejabat Penilai"], role_atasan: ["Atasan Pejabat Penilai", "Atasan Pejabat Penilai"],
  kb_ask: ["Minta penjelasan", "Ask for an explanation"], kb_ask_of: ["Minta penjelasan dari", "Ask"],
  kb_ask_both: ["Pegawai dan Pejabat Penilai", "The employee and the Pejabat Penilai"],
  kb_question: ["Pertanyaan", "Question"], kb_ask_submit: ["Tanda tangani dan kirim permintaan", "Sign and send the request"],
  kb_question_empty: ["Tulis pertanyaannya dulu.", "Write the question first."],
  kb_explain_heading: ["Penjelasan diminta dari Anda", "An explanation is asked of you"],
  kb_explain: ["Penjelasan Anda", "Your explanation"], kb_explain_for: ["Atasan Pejabat Penilai bertanya kepada Anda: “{q}”", "The Atasan asks you: “{q}”"],
  kb_explain_submit: ["Tanda tangani dan kirim penjelasan", "Sign and send the explanation"],
  kb_explain_empty: ["Tulis penjelasannya dulu.", "Write the explanation first."],
  kb_decide: ["Keputusan atas keberatan", "Decision on the objection"],
  kb_decide_hint: ["Keputusan bersifat final dan tidak dapat diubah setelah dikirim.", "The decision is final and cannot be changed once sent."],
  kb_outcome: ["Keputusan", "Decision"], kb_ditolak: ["Ditolak (hasil penilaian tetap)", "Rejected (the result stands)"],
  kb_diterima: ["Diterima (hasil penilaian diubah)", "Accepted (the result is changed)"],
  kb_modified: ["Hasil yang ditetapkan", "The result as set"], kb_unchanged: ["— tidak diubah —", "— unchanged —"],
  kb_realisasi: ["Realisasi {iki} (kosongkan bila tidak diubah; sekarang {now})", "Realisation of {iki} (empty: unchanged; now {now})"],
  kb_reason: ["Alasan keputusan", "Reasons for the decision"],
  kb_decide_submit: ["Tanda tangani dan kirim keputusan (final)", "Sign and send the decision (final)"],
  kb_reason_empty: ["Tulis alasan keputusan dulu.", "Write the reasons first."],
  kb_nothing_changed: ["Keputusan diterima harus mengubah rating atau realisasi: pilih yang diubah.",
    "An accepted objection changes a rating or a realisation: choose what changes."],
  kb_bad_number: ["Realisasi {iki} harus angka, mis. 98,5.", "The realisation of {iki} must be a number, e.g. 98.5."],
  kb_decided: ["Keputusan: {outcome} ({when})", "Decision: {outcome} ({when})"],
  kb_decided_late: ["Keputusan diberikan setelah batas waktunya.", "The decision came after its deadline."],
  kb_after: ["Hasil akhir sesudah keputusan", "The final result after the decision"],
});

const enc = encodeURIComponent;
let redraw = async () => {};  // set by the route: redraws the open objection once the read model shows `done`
async function settled(out, done) {
  for (let i = 0; i < 12; i++) {
    await new Promise((r) => setTimeout(r, 600));
    if (await redraw(out, done)) return;
  }
}
function deadline(row) {
  if (row.status === "decided" || row.days_left === null || row.days_left === undefined) return row.decision_due ? fmtDate(row.decision_due) : "—";
  if (row.days_left < 0) return h("strong", { class: "overdue" }, `${fmtDate(row.decision_due)} — ${t("kb_overdue", { n: -row.days_left })}`);
  return `${fmtDate(row.decision_due)} (${row.days_left === 0 ? t("kb_today") : t("kb_days_left", { n: row.days_left })})`;
}

function queue(rows, active) {
  if (!rows.length) return h("p", { class: "card", "data-testid": "queue" }, t("kb_none"));
  return h("ul", { class: "queue", "data-testid": "queue" }, rows.map((r) => h("li", {},
    h("a", { class: `card item ${r.status}`, href: `#/keberatan/${enc(r.nip)}/${enc(r.period)}`, "data-testid": "objection-item",
      "data-nip": r.nip, "data-period": r.period, "data-status": r.status,
      "aria-current": active && active[0] === r.nip && active[1] === r.period ? "true" : null },
    h("span", { class: "title" }, `${r.name || r.nip} · ${r.period}`),
    h("span", { class: `badge st-${r.status}` }, t(`kb_st_${r.status}`)),
    h("span", { class: "line" }, `${t("kb_filed")}: ${fmtDate(r.filed_at)}`),
    h("span", { class: "line" }, `${t("kb_due")}: `, deadline(r)),
    r.outcome ? h("span", { class: "line" }, t(`kb_outcome_${r.outcome}`)) : null))));
}

function roleOf(nip, doc) {
  const [pp, atasan] = doc.superiors || [];
  const who = nip === doc.result.nip ? t("role_employee") : nip === pp ? t("role_pp") : nip === atasan ? t("role_atasan") : null;
  if (!who) return nip;
  return nip === doc.result.nip ? `${who} (${doc.result.name || nip})` : who;
}

function resultPart(doc) {
  const r = doc.result, hk = r.rating_hasil_kerja || {}, p = r.rating_perilaku || {};
  const line = (ev, pp, used) => `${t("kb_evidence")}: ${ratingWords(ev)} · ${t("kb_pp")}: ${ratingWords(pp)} · ${t("kb_used")}: ${ratingWords(used)}`;
  const before = doc.objection.original;
  return h("section", { class: "block" }, h("h3", {}, before ? t("kb_result_now") : t("kb_result")), kv([
    before ? [t("kb_before"), `${before.predikat || "—"} (${t("kb_hk")}: ${ratingWords(before.rating_hasil_kerja)}; ${t("kb_p")}: ${ratingWords(before.rating_perilaku)})`] : null,
    [t("kb_predikat"), r.predikat || "—"],
    [t("kb_hk"), line(hk.evidence, hk.pejabat_penilai, hk.used)], [t("kb_p"), line(p.multi_rater, p.pejabat_penilai, p.used)],
    r.divergence && r.divergence.justification ? [t("kb_justification"), r.divergence.justification] : null,
    ...doc.iki.map((i) => [`IKI ${i.name || i.iki_id}`, `${i.realisasi ?? "—"} / ${i.target.low}–${i.target.high} ${i.unit || ""} → ${i.capaian}`])]));
}

function explanations(doc) {
  const items = doc.objection.examination || [];
  return h("section", { class: "block", "data-testid": "explanations" }, h("h3", {}, t("kb_explanations")),
    items.length ? h("ul", { class: "thread" }, items.map((x) => h("li", { class: "item", "data-type": x.type, "data-event": x.event_id },
      h("p", { class: "meta" }, h("strong", {}, x.type === "objection.explanation.requested"
        ? t("kb_asked", { by: roleOf(x.by_nip, doc), to: x.from_nips.map((n) => roleOf(n, doc)).join(", ") })
        : t("kb_gave", { by: roleOf(x.by_nip, doc) })), ` · ${fmtTime(x.occurred_at)}`),
      h("p", { class: "text" }, x.text)))) : h("p", { class: "muted" }, t("kb_no_expl")));
}

/** The first request that asks `nip` and that he or she has not answered yet (answers pair with requests in order). */
function openRequest(doc, nip) {
  const items = doc.objection.examination || [];
  const asked = items.filter((x) => x.type === "objection.explanation.requested" && x.from_nips.includes(nip));
  const given = items.filter((x) => x.type === "objection.explanation.given" && x.by_nip === nip).length;
  return asked[given] || null;
}

function textForm(doc, testid, names, label, empty, submitText, send, keepName) {
  const id = `${testid}-text`;
  const text = h("textarea", { id, name: names.text, "data-testid": names.text, rows: 4, maxlength: 2000 });
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", "data-testid": names.submit }, submitText);
  const form = h("form", { "data-testid": testid, novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    if (!text.value.trim()) { text.setAttribute("aria-invalid", "true"); out.replaceChildren(problem(empty)); text.focus(); return; }
    text.removeAttribute("aria-invalid");
    if (await send(button, out, text.value.trim())) {
      keep.clear(keepName); text.value = "";
      const before = (doc.objection.examination || []).length;
      settled(out, (d) => (d.objection.examination || []).length > before);
    }
  } }, names.before || null, h("label", { for: id }, label), text, button);
  keep(form, keepName);
  return [form, out];
}

function askForm(doc, who, objectionId, period) {
  const nip = doc.result.nip, pp = (doc.superiors || [])[0];
  const of = h("select", { id: "ask-of", name: "ask-of", "data-testid": "ask-of" },
    h("option", { value: "employee" }, `${t("role_employee")}: ${doc.result.name || nip}`),
    h("option", { value: "pejabat_penilai" }, t("role_pp")), h("option", { value: "both" }, t("kb_ask_both")));
  const [form, out] = textForm(doc, "ask-form", { text: "ask-question", submit: "ask-submit",
    before: [h("label", { for: "ask-of" }, t("kb_ask_of")), of] }, t("kb_question"), t("kb_question_empty"), t("kb_ask_submit"),
  (button, out2, question) => act(button, out2, "objection.explanation.requested", nip, { objection_event_id: objectionId,
    requested_by_nip: who.nip, question,
    from_nips: of.value === "employee" ? [nip] : of.value === "pejabat_penilai" ? [pp] : [nip, pp] }, { period }), `ask.${nip}.${period}`);
  return h("section", { class: "block" }, h("h3", {}, t("kb_ask")), form, out);
}

function explainForm(doc, who, request, period) {
  const nip = doc.result.nip;
  const [form, out] = textForm(doc, "explain-form", { text: "explain-text", submit: "explain-submit",
    before: h("p", { class: "quote" }, t("kb_explain_for", { q: request.text })) }, t("kb_explain"), t("kb_explain_empty"),
  t("kb_explain_submit"), (button, out2, explanation) => act(button, out2, "objection.explanation.given", nip,
    { request_event_id: request.event_id, given_by_nip: who.nip, explanation }, { period }), `explain.${request.event_id}`);
  return h("section", { class: "block" }, h("h3", {}, t("kb_explain_heading")), form, out);
}

function decideForm(doc, who, objectionId, period) {
  const nip = doc.result.nip;
  const outcome = h("select", { id: "decide-outcome", name: "decide-outcome", "data-testid": "decide-outcome" },
    h("option", { value: "ditolak" }, t("kb_ditolak")), h("option", { value: "diterima" }, t("kb_diterima")));
  const [lh, hasil] = ratingSelect("decide-hasil", "decide-hasil", t("kb_hk"), "", null, t("kb_unchanged"));
  const [lp, perilaku] = ratingSelect("decide-perilaku", "decide-perilaku", t("kb_p"), "", null, t("kb_unchanged"));
  const reals = doc.iki.map((i) => {
    const id = `decide-realisasi-${i.iki_id.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    const input = h("input", { id, name: id, "data-testid": id, "data-iki": i.iki_id, inputmode: "decimal", autocomplete: "off" });
    return { iki: i.iki_id, input, el: [h("label", { for: id }, t("kb_realisasi", { iki: i.name || i.iki_id, now: i.realisasi ?? "—" })), input] };
  });
  const modified = h("fieldset", { class: "modified", hidden: true }, h("legend", {}, t("kb_modified")), lh, hasil, lp, perilaku,
    reals.map((r) => r.el));
  const reason = h("textarea", { id: "decide-reason", name: "decide-reason", "data-testid": "decide-reason", rows: 4, maxlength: 2000 });
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", "data-testid": "decide-submit" }, t("kb_decide_submit"));
  const show = () => { modified.hidden = outcome.value !== "diterima"; };
  const form = h("form", { "data-testid": "decide-form", novalidate: true, onchange: show, onsubmit: async (e) => {
    e.preventDefault();
    const accepted = outcome.value === "diterima";
    const realisations = [];
    for (const r of accepted ? reals : []) {
      const v = r.input.value.trim().replace(",", ".");
      if (!v) continue;
      if (!/^[0-9]+(\.[0-9]+)?$/.test(v)) { out.replaceChildren(problem(t("kb_bad_number", { iki: r.iki }))); r.input.focus(); return; }
      realisations.push({ iki_id: r.iki, value: v });
    }
    if (accepted && !hasil.value && !perilaku.value && !realisations.length) { out.replaceChildren(problem(t("kb_nothing_changed"))); hasil.focus(); return; }
    if (!reason.value.trim()) { reason.setAttribute("aria-invalid", "true"); out.replaceChildren(problem(t("kb_reason_empty"))); reason.focus(); return; }
    reason.removeAttribute("aria-invalid");
    const payload = { objection_event_id: objectionId, decided_by_nip: who.nip, outcome: outcome.value, reasons: reason.value.trim() };
    if (accepted) {
      payload.modified_rating_hasil_kerja = toRating(hasil.value);
      payload.modified_rating_perilaku = toRating(perilaku.value);
      payload.modified_realisations = realisations;
    }
    if (await act(button, out, "objection.decided", nip, payload, { period, schema_version: 2 })) {
      keep.clear(`decide.${objectionId}`);
      settled(out, (d) => d.objection.status === "decided");
    }
  } }, h("p", { class: "muted" }, t("kb_decide_hint")), h("label", { for: "decide-outcome" }, t("kb_outcome")), outcome, modified,
  h("label", { for: "decide-reason" }, t("kb_reason")), reason, button);
  keep(form, `decide.${objectionId}`);
  show();
  return h("section", { class: "block" }, h("h3", {}, t("kb_decide")), form, out);
}

function decisionPart(doc) {
  const d = (doc.objection.decisions || []).slice(-1)[0];
  if (!d) return null;
  const fin = doc.objection.final;
  return h("section", { class: "block decision-note", "data-testid": "decision", "data-outcome": d.outcome },
    h("h3", {}, t("kb_decided", { outcome: t(`kb_outcome_${d.outcome}`), when: fmtTime(d.occurred_at) })), h("p", {}, d.reasons),
    doc.objection.decided_late ? h("p", { class: "overdue" }, t("kb_decided_late")) : null,
    fin ? kv([[t("kb_after"), fin.predikat], [t("kb_hk"), ratingWords(fin.rating_hasil_kerja)], [t("kb_p"), ratingWords(fin.rating_perilaku)]]) : null);
}

async function detail(nip, period, who, row, res) {
  if (res.status !== 200) return errorBox(res);
  const doc = res.body, o = doc.objection;
  const filed = o.filed.slice(-1)[0];
  const objectionId = (row && row.objection_event_id) || (filed && filed.event_id);
  const [pp, atasan] = doc.superiors || [];
  const open = o.status !== "decided" && !(row && row.status === "decided");
  const request = open ? openRequest(doc, who.nip) : null;
  return h("section", { class: "card objection", "aria-labelledby": "kb-detail" },
    h("p", {}, h("a", { href: "#/keberatan" }, t("kb_back"))),
    h("h2", { id: "kb-detail", tabindex: "-1" }, t("kb_of", { name: doc.result.name || nip })),
    kv([["NIP", nip], [t("kb_period"), period], [t("kb_delivered"), fmtTime(o.delivered_at)],
      [t("kb_due"), row ? deadline(row) : fmtDate(o.decision_due)]]),
    h("section", { class: "block" }, h("h3", {}, t("kb_reasons")), o.filed.map((f) => h("blockquote", { class: "quote" },
      h("p", {}, f.reasons), h("p", { class: "muted" }, `${t("kb_filed")}: ${fmtTime(f.occurred_at)}`)))),
    resultPart(doc), explanations(doc),
    request && (who.nip === pp || who.nip === nip) ? explainForm(doc, who, request, period) : null,
    open && who.nip === atasan && objectionId ? [askForm(doc, who, objectionId, period), decideForm(doc, who, objectionId, period)] : null,
    decisionPart(doc));
}

route("keberatan", async (main, params, ctx) => {
  const res = await api("/api/objections?open=false");
  if (res.status !== 200) { main.replaceChildren(h("h1", {}, t("kb_title")), errorBox(res)); return; }
  const rows = res.body.objections || [];
  const active = params.length >= 2 ? params.slice(0, 2) : null;
  const top = [h("h1", {}, t("kb_title")), h("p", { class: "muted" }, t("kb_intro"))];
  const list = h("section", { "aria-labelledby": "kb-queue" }, h("h2", { id: "kb-queue" }, t("kb_queue")), queue(rows, active));
  if (!active) { main.replaceChildren(...top, list); return; }
  const row = rows.find((r) => r.nip === active[0] && r.period === active[1]);
  const read = () => api(`/api/appraisals/${enc(active[0])}/${enc(active[1])}`);
  const holder = h("div", {}, await detail(active[0], active[1], ctx.who, row, await read()));
  redraw = async (out, done) => {
    const res = await read();
    if (res.status !== 200 || !done(res.body)) return false;
    const again = await detail(active[0], active[1], ctx.who, row, res);
    again.querySelector("#kb-detail")?.after(out);
    holder.replaceChildren(again);
    const fresh = await api("/api/objections?open=false");
    if (fresh.status === 200) list.replaceChildren(h("h2", { id: "kb-queue" }, t("kb_queue")), queue(fresh.body.objections || [], active));
    return true;
  };
  main.replaceChildren(...top, holder, list);
  main.querySelector("#kb-detail")?.focus();
});
