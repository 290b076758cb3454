// #/tim (Tim saya): a Pejabat Penilai's subordinates, the evidence beside his or her own ratings (§1.3, §1.4), the
// rating form (a divergence needs a justification), the dialog kinerja (umpan balik and replies), and delivering
// the period's result (§2.4: the objection deadline counts from it). Every act is signed in this browser.
import { addText, answerBox, api, errorBox, fmtDate, fmtTime, h, keep, kv, lang, route, submit, t } from "../core.js";

addText({
  tim_title: ["Tim saya", "My team"],
  tim_intro: ["Pegawai yang Anda nilai sebagai Pejabat Penilai Kinerja pada periode {period}.",
    "The employees you appraise as Pejabat Penilai in period {period}."],
  tim_none: ["Tidak ada pegawai yang Anda nilai pada periode ini.", "You appraise nobody in this period."],
  tim_open: ["Buka rincian dan penilaian", "Open details and rating"], tim_close: ["Tutup rincian", "Close details"],
  tim_hk_evidence: ["Rating hasil kerja (dari bukti)", "Results rating (from evidence)"],
  tim_p_evidence: ["Rating perilaku (360°)", "Behaviour rating (360°)"],
  tim_pp: ["Rating Pejabat Penilai", "Pejabat Penilai's rating"], tim_pp_none: ["belum diberikan", "not given yet"],
  tim_predikat: ["Predikat kinerja", "Performance predicate"],
  tim_delivered: ["Hasil disampaikan", "Result delivered"], yes: ["sudah", "yes"], not_yet: ["belum", "not yet"],
  tim_objection: ["Keberatan", "Objection"], no_data: ["belum ada", "none yet"],
  obj_st_none: ["tidak ada", "none"], obj_st_filed: ["diajukan, menunggu keputusan", "filed, awaiting decision"],
  obj_st_examined: ["sedang diperiksa", "being examined"], obj_st_decided: ["sudah diputuskan (final)", "decided (final)"],
  obj_st_overdue: ["terlambat diputuskan", "decision overdue"],
  iki_heading: ["Bukti hasil kerja (IKI)", "Evidence of results (IKI)"],
  iki_target: ["Target", "Target"], iki_real: ["Realisasi", "Realisation"], iki_capaian: ["Capaian", "Achievement"],
  iki_none: ["Belum ada bukti.", "No evidence yet."], iki_in_force: ["berlaku", "in force"],
  iki_doc: ["Lihat dokumen", "Open the document"], no_appraisal: ["Belum ada hasil penilaian yang dihitung.", "No result computed yet."],
  agg_heading: ["Perilaku BerAKHLAK: rata-rata 360°", "BerAKHLAK behaviour: 360° means"],
  agg_value: ["Nilai", "Value"], agg_score: ["Skor (1–3)", "Score (1–3)"], agg_by: ["Per penilai", "By raters"],
  agg_raters: ["{n} penilai", "{n} raters"], rel_atasan: ["atasan", "superior"], rel_rekan: ["rekan kerja", "peer"],
  rel_bawahan: ["bawahan", "subordinate"], rel_diri: ["diri sendiri", "self"],
  agg_hidden: ["Jawaban perorangan rekan dan bawahan tidak ditampilkan, hanya rata-ratanya.",
    "Individual peer and subordinate answers are not shown, only their means."],
  pp_heading: ["Rating Pejabat Penilai", "Pejabat Penilai's rating"],
  pp_hint: ["Pilih rating Anda. Bila berbeda dengan rating dari bukti, tuliskan justifikasinya (PermenPANRB 6/2022).",
    "Choose your rating. Where it differs from the evidence rating, write the justification."],
  pp_hasil: ["Rating hasil kerja", "Results rating"], pp_perilaku: ["Rating perilaku", "Behaviour rating"],
  pp_choose: ["— pilih —", "— choose —"], pp_evidence_is: ["Dari bukti: {rating}", "From evidence: {rating}"],
  pp_justification: ["Justifikasi", "Justification"],
  pp_required: ["Rating Anda berbeda dengan rating dari bukti ({which}). Justifikasi wajib diisi sebelum dikirim.",
    "Your rating differs from the evidence rating ({which}). A justification is required before sending."],
  pp_missing: ["Tulis justifikasi dulu: rating Anda berbeda dengan rating dari bukti.",
    "Write the justification first: your rating differs from the evidence rating."],
  pp_pick_one: ["Pilih paling sedikit satu rating.", "Choose at least one rating."],
  pp_submit: ["Tanda tangani dan kirim rating", "Sign and send the rating"],
  fb_heading: ["Dialog kinerja (umpan balik)", "Performance dialogue (feedback)"],
  fb_none: ["Belum ada umpan balik.", "No feedback yet."], fb_reply: ["Tanggapan pegawai", "The employee's reply"],
  fb_someone: ["Rekan/bawahan (tidak ditampilkan)", "A peer or subordinate (not shown)"],
  fb_about: ["Tentang", "About"], fb_refers: ["Umpan balik tentang", "Feedback about"],
  fb_general: ["Umum (tanpa rujukan)", "General (no reference)"], fb_text: ["Umpan balik Anda", "Your feedback"],
  fb_submit: ["Tanda tangani dan kirim umpan balik", "Sign and send the feedback"],
  fb_empty: ["Tulis umpan balik dulu.", "Write the feedback first."],
  dl_heading: ["Penyampaian hasil penilaian", "Delivering the result"],
  dl_hint: ["Setelah disampaikan, pegawai dapat mengajukan keberatan paling lambat 14 hari (PP 30/2019 Pasal 59).",
    "Once delivered, the employee may object within 14 days (PP 30/2019 art. 59)."],
  dl_done: ["Hasil sudah disampaikan kepada pegawai.", "The result has been delivered."],
  dl_submit: ["Tanda tangani dan sampaikan hasil", "Sign and deliver the result"],
  dl_no_result: ["Belum ada hasil untuk disampaikan.", "There is no result to deliver yet."],
  sending: ["Menandatangani dan mengirim…", "Signing and sending…"],
});

export const RATINGS = [["di_bawah_ekspektasi", "Di Bawah Ekspektasi", "Below expectations"],
  ["sesuai_ekspektasi", "Sesuai Ekspektasi", "As expected"], ["di_atas_ekspektasi", "Di Atas Ekspektasi", "Above expectations"]];
export const toRating = (key) => (RATINGS.find((r) => r[0] === key) || [])[1] || null;
export const toKey = (rating) => (RATINGS.find((r) => r[1] === rating) || [])[0] || "";
export const ratingWords = (rating) => {
  const r = RATINGS.find((x) => x[1] === rating);
  return r ? (lang() === "en" ? r[2] : r[1]) : t("no_data");
};
export const VALUE_LABELS = { berorientasi_pelayanan: "Berorientasi Pelayanan", akuntabel: "Akuntabel", kompeten: "Kompeten",
  harmonis: "Harmonis", loyal: "Loyal", adaptif: "Adaptif", kolaboratif: "Kolaboratif" };

/** A labelled select of the three ratings (`data-testid` = name), with an empty first choice. */
export function ratingSelect(id, name, label, selected, hint, emptyText) {
  const select = h("select", { id, name, "data-testid": name, "aria-describedby": hint ? `${id}-hint` : null },
    h("option", { value: "" }, emptyText || t("pp_choose")),
    RATINGS.map(([key]) => h("option", { value: key, selected: key === selected }, ratingWords(toRating(key)))));
  return [h("label", { for: id }, label), select, hint ? h("p", { id: `${id}-hint`, class: "muted hint" }, hint) : null];
}

/** Sign and send; disables the button meanwhile, shows the gate's answer in `out`; true when recorded. */
export async function act(button, out, type, subject, payload, opts) {
  button.disabled = true;
  out.replaceChildren(h("p", { class: "muted" }, t("sending")));
  let answer;
  try { answer = await submit(type, subject, payload, opts); } catch (err) {
    answer = { status: "error", reasons: [{ code: "page", message_id: String(err.message || err), message_en: String(err.message || err) }] };
  }
  button.disabled = false;
  out.replaceChildren(answerBox(answer));
  out.querySelector("[data-testid=answer]").focus?.();
  return answer.status === "accepted" || answer.status === "duplicate";
}

/** An inline message under a form (a check the page makes before signing). */
export const problem = (text, id) => h("p", { class: "problem", role: "alert", id }, text);

const summary = (m) => kv([[t("tim_hk_evidence"), ratingWords(m.rating_hasil_kerja_evidence)],
  [t("tim_p_evidence"), ratingWords(m.rating_perilaku_evidence)],
  [t("tim_pp"), m.pp ? `${t("pp_hasil")}: ${ratingWords(m.pp.rating_hasil_kerja)}; ${t("pp_perilaku")}: ${ratingWords(m.pp.rating_perilaku)}`
    : t("tim_pp_none")],
  [t("tim_predikat"), m.predikat || t("no_data")], [t("tim_delivered"), m.delivered ? t("yes") : t("not_yet")],
  [t("tim_objection"), t(`obj_st_${m.objection_status || "none"}`)]]);

function ikiSection(doc) {
  if (!doc) return h("p", { class: "muted" }, t("no_appraisal"));
  return h("section", { class: "block" }, h("h3", {}, t("iki_heading")), doc.iki.length ? doc.iki.map((i) =>
    h("div", { class: "iki" }, h("p", {}, h("strong", {}, i.name || i.iki_id)),
      kv([[t("iki_target"), `${i.target.low}–${i.target.high} ${i.unit || ""}`], [t("iki_real"), i.realisasi ?? "—"],
        [t("iki_capaian"), i.capaian]]),
      i.evidence.length ? h("ul", { class: "evidence" }, i.evidence.map((e) => h("li", { class: e.in_force ? "in-force" : "" },
        `${e.value} · ${fmtTime(e.occurred_at)} · ${e.source_system || e.source}`, e.in_force ? ` (${t("iki_in_force")})` : "",
        e.link ? [" · ", h("a", { href: e.link, rel: "noopener noreferrer", target: "_blank" }, t("iki_doc"))] : null)))
        : h("p", { class: "muted" }, t("iki_none")))) : h("p", { class: "muted" }, t("iki_none")));
}

function aggregates(doc) {
  const values = (doc && doc.result.rating_perilaku && doc.result.rating_perilaku.per_value) || [];
  if (!values.length) return null;
  return h("section", { class: "block" }, h("h3", {}, t("agg_heading")), h("div", { class: "scroll" }, h("table", {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("agg_value")), h("th", { scope: "col" }, t("agg_score")),
      h("th", { scope: "col" }, t("agg_by")))),
    h("tbody", {}, values.map((v) => h("tr", {}, h("th", { scope: "row" }, VALUE_LABELS[v.value] || v.value), h("td", {}, v.score ?? "—"),
      h("td", {}, Object.entries(v.by_relation || {}).map(([rel, x]) => `${t(`rel_${rel}`)}: ${x.mean} (${t("agg_raters", { n: x.raters })})`).join("; ") || "—")))))),
  h("p", { class: "muted" }, t("agg_hidden")));
}

function ppForm(m, period, who, refresh) {
  const ev = { hasil: m.rating_hasil_kerja_evidence, perilaku: m.rating_perilaku_evidence };
  const pre = (k, own) => toKey(own) || toKey(ev[k]);
  const base = `pp-${m.nip}`;
  const [lh, hasil, hh] = ratingSelect(`${base}-hasil`, "pp-hasil", t("pp_hasil"), pre("hasil", m.pp && m.pp.rating_hasil_kerja),
    t("pp_evidence_is", { rating: ratingWords(ev.hasil) }));
  const [lp, perilaku, hp] = ratingSelect(`${base}-perilaku`, "pp-perilaku", t("pp_perilaku"),
    pre("perilaku", m.pp && m.pp.rating_perilaku), t("pp_evidence_is", { rating: ratingWords(ev.perilaku) }));
  const justification = h("textarea", { id: `${base}-just`, name: "pp-justification", "data-testid": "pp-justification",
    rows: 4, maxlength: 4000, "aria-describedby": `${base}-req` }, (m.pp && m.pp.justification) || "");
  const required = h("p", { id: `${base}-req`, class: "required-note", "data-testid": "pp-justification-required", hidden: true });
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", "data-testid": "pp-submit" }, t("pp_submit"));
  const diverging = () => [["hasil", hasil, t("pp_hasil")], ["perilaku", perilaku, t("pp_perilaku")]]
    .filter(([k, sel]) => sel.value && ev[k] && toRating(sel.value) !== ev[k]).map((x) => x[2]);
  const update = () => {
    const which = diverging();
    required.hidden = !which.length;
    required.textContent = which.length ? t("pp_required", { which: which.join(", ") }) : "";
    justification.required = which.length > 0;
    justification.setAttribute("aria-required", String(which.length > 0));
  };
  const form = h("form", { "data-testid": "pp-form", "data-nip": m.nip, novalidate: true, onchange: update, onsubmit: async (e) => {
    e.preventDefault();
    if (!hasil.value && !perilaku.value) { out.replaceChildren(problem(t("pp_pick_one"))); hasil.focus(); return; }
    if (diverging().length && !justification.value.trim()) {
      justification.setAttribute("aria-invalid", "true");
      out.replaceChildren(problem(t("pp_missing")));
      justification.focus();
      return;
    }
    justification.removeAttribute("aria-invalid");
    const text = justification.value.trim();
    const ok = await act(button, out, "rating.pejabat_penilai", m.nip, { rater_nip: who.nip,
      rating_hasil_kerja: toRating(hasil.value), rating_perilaku: toRating(perilaku.value), justification: text || null }, { period });
    if (ok) { keep.clear(`pp.${m.nip}.${period}`); refresh((row) => Boolean(row.pp)); }
  } }, h("p", { class: "muted" }, t("pp_hint")), h("div", { class: "pair" }, h("div", {}, lh, hasil, hh), h("div", {}, lp, perilaku, hp)),
  h("label", { for: `${base}-just` }, t("pp_justification")), required, justification, button);
  keep(form, `pp.${m.nip}.${period}`);
  update();
  return h("section", { class: "block" }, h("h3", {}, t("pp_heading")), form, out);
}

function referenceOptions(doc) {
  const out = [];
  for (const i of (doc && doc.iki) || []) {
    const inForce = i.evidence.find((e) => e.in_force) || i.evidence[i.evidence.length - 1];
    if (inForce) out.push({ key: `iki:${i.iki_id}`, label: `IKI: ${i.name || i.iki_id}`, ref: { event_id: inForce.event_id, iki_id: i.iki_id } });
  }
  for (const i of (doc && doc.iki) || []) {
    for (const e of i.evidence) {
      out.push({ key: `event:${e.event_id}`, label: `${t("fb_about")} ${i.iki_id}: ${e.value} (${fmtDate(e.occurred_at)})`,
        ref: { event_id: e.event_id, iki_id: i.iki_id } });
    }
  }
  return out;
}

function thread(items, m, doc) {
  const names = Object.fromEntries(((doc && doc.iki) || []).map((i) => [i.iki_id, i.name || i.iki_id]));
  const author = (x) => (x.from_nip ? `${x.from_name || x.from_nip}` : t("fb_someone"));
  const item = (x, reply) => h("li", { class: reply ? "reply" : "item", "data-testid": reply ? "feedback-reply" : "feedback-item", "data-event": x.event_id },
    h("p", { class: "meta" }, reply ? `${t("fb_reply")} · ` : "", h("strong", {}, author(x)), ` · ${fmtTime(x.occurred_at)}`),
    x.refers_to.some((r) => r.iki_id) ? h("p", { class: "muted" }, `${t("fb_about")}: ${x.refers_to.map((r) => names[r.iki_id] || r.iki_id).filter(Boolean).join(", ")}`) : null,
    h("p", { class: "text" }, x.text),
    x.replies.length ? h("ul", { class: "replies" }, x.replies.map((r) => item(r, true))) : null);
  return items.length ? h("ul", { class: "thread", "data-testid": "feedback-thread", "data-nip": m.nip }, items.map((x) => item(x, false)))
    : h("p", { class: "muted", "data-testid": "feedback-thread", "data-nip": m.nip }, t("fb_none"));
}

function feedbackSection(m, doc, items, period, who, reload) {
  const refs = referenceOptions(doc);
  const base = `fb-${m.nip}`;
  const select = h("select", { id: `${base}-refers`, name: "feedback-refers", "data-testid": "feedback-refers" },
    refs.map((r) => h("option", { value: r.key }, r.label)), h("option", { value: "" }, t("fb_general")));
  const text = h("textarea", { id: `${base}-text`, name: "feedback-text", "data-testid": "feedback-text", rows: 3, maxlength: 2000 });
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", "data-testid": "feedback-submit" }, t("fb_submit"));
  const form = h("form", { "data-testid": "feedback-form", "data-nip": m.nip, novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    if (!text.value.trim()) { text.setAttribute("aria-invalid", "true"); out.replaceChildren(problem(t("fb_empty"))); text.focus(); return; }
    text.removeAttribute("aria-invalid");
    const chosen = refs.find((r) => r.key === select.value);
    const ok = await act(button, out, "feedback.given", m.nip, { from_nip: who.nip, text: text.value.trim(),
      refers_to: chosen ? [chosen.ref] : [] }, { period, schema_version: 2 });
    if (ok) { keep.clear(`fb.${m.nip}.${period}`); text.value = ""; reload(); }
  } }, h("label", { for: `${base}-refers` }, t("fb_refers")), select,
  h("label", { for: `${base}-text` }, t("fb_text")), text, button);
  keep(form, `fb.${m.nip}.${period}`);
  const list = h("div", {}, thread(items, m, doc));
  return { el: h("section", { class: "block" }, h("h3", {}, t("fb_heading")), list, form, out), list };
}

function deliverSection(m, doc, period, refresh) {
  const out = h("div", { "aria-live": "polite" });
  if (!doc) return h("section", { class: "block" }, h("h3", {}, t("dl_heading")), h("p", { class: "muted" }, t("dl_no_result")));
  const button = h("button", { type: "button", "data-testid": "deliver-submit", onclick: async () => {
    const resultId = doc.result_event_id || doc.result.result_event_id || doc.result.score_event_id || null;
    if (await act(button, out, "result.delivered", m.nip, { result_event_id: resultId, evaluation: doc.result.evaluation || "periodik" },
      { period })) refresh((row) => row.delivered);
  } }, t("dl_submit"));
  return h("section", { class: "block" }, h("h3", {}, t("dl_heading")),
    m.delivered ? h("p", { class: "ok-note" }, t("dl_done")) : null, h("p", { class: "muted" }, t("dl_hint")),
    h("p", {}, h("strong", {}, `${t("tim_predikat")}: `), doc.result.predikat || t("no_data")), button, out);
}

async function openMember(box, m, period, who, refreshRow) {
  box.replaceChildren(h("p", { class: "muted" }, t("loading")));
  const [docRes, fbRes] = await Promise.all([api(`/api/appraisals/${m.nip}/${encodeURIComponent(period)}`),
    api(`/api/feedback/${m.nip}/${encodeURIComponent(period)}`)]);
  const doc = docRes.status === 200 ? docRes.body : null;
  if (docRes.status !== 200 && docRes.status !== 404) { box.replaceChildren(errorBox(docRes)); return; }
  const fb = feedbackSection(m, doc, fbRes.status === 200 ? fbRes.body.items : [], period, who, async () => {
    for (let i = 0; i < 10; i++) {  // the read model records the accepted feedback a moment later
      await new Promise((r) => setTimeout(r, 700));
      const again = await api(`/api/feedback/${m.nip}/${encodeURIComponent(period)}`);
      if (again.status === 200) fb.list.replaceChildren(thread(again.body.items, m, doc));
      if (again.status === 200 && again.body.items.length > (fbRes.body.items || []).length) return;
    }
  });
  box.replaceChildren(ikiSection(doc), aggregates(doc) || "", ppForm(m, period, who, refreshRow), fb.el, deliverSection(m, doc, period, refreshRow));
  if (fbRes.status !== 200) box.append(errorBox(fbRes));
}

route("tim", async (main, params, ctx) => {
  const asked = params[0] ? `?period=${encodeURIComponent(params[0])}` : "";
  const res = await api(`/api/team${asked}`);
  if (res.status !== 200) { main.replaceChildren(h("h1", {}, t("tim_title")), errorBox(res)); return; }
  const { period, members } = res.body;
  const list = h("ul", { class: "members", "data-testid": "team", "data-period": period });
  for (const m of members) {
    const box = h("div", { id: `detail-${m.nip}`, class: "detail", hidden: true });
    const sum = h("div", {}, summary(m));
    const refreshRow = async (done) => {
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 700));
        const again = await api(`/api/team?period=${encodeURIComponent(period)}`);
        const row = again.status === 200 && again.body.members.find((x) => x.nip === m.nip);
        if (row) { Object.assign(m, row); sum.replaceChildren(summary(m)); if (done(row)) return; }
      }
    };
    const open = h("button", { type: "button", class: "secondary", "data-testid": "member-open", "aria-expanded": "false",
      "aria-controls": box.id, onclick: async () => {
        const opening = box.hidden;
        box.hidden = !opening;
        open.setAttribute("aria-expanded", String(opening));
        open.textContent = opening ? t("tim_close") : t("tim_open");
        if (opening) await openMember(box, m, period, ctx.who, refreshRow);
      } }, t("tim_open"));
    list.append(h("li", { class: "card member", "data-testid": "member", "data-nip": m.nip },
      h("h2", {}, m.name || m.nip), h("p", { class: "muted" }, `${m.jabatan || ""} · NIP ${m.nip}`), sum, open, box));
  }
  main.replaceChildren(h("h1", {}, t("tim_title")), h("p", { class: "muted" }, t("tim_intro", { period })),
    members.length ? list : h("p", { class: "card", "data-testid": "team" }, t("tim_none")));
});
