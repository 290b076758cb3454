// #/saya (Penilaian saya) and #/appraisal/<nip>/<P>: the appraisal explained, the dialog kinerja thread with
// replies, the objection (filed, examined, decided) and the explanation asked of the employee; every act signed.
import { addText, answerBox, api, errorBox, fmtTime, h, keep, kv, me, route, submit, t } from "../core.js";
import { angkaKreditCard, badge, behaviourBlock, evidenceList, objectionState, ratingTable } from "../appraisal.js";
import { myDataCard } from "./pdp.js";

addText({
  saya_title: ["Penilaian saya", "My appraisal"],
  saya_none: ["Belum ada penilaian untuk Anda. Hasil muncul setelah bukti kinerja dan penilaian perilaku masuk.",
    "No appraisal of yours yet. It appears once performance evidence and behaviour ratings come in."],
  saya_periods: ["Periode lain", "Other periods"], saya_go_tugas: ["Buka tugas penilaian", "Open the rating tasks"],
  thread_title: ["Dialog kinerja (umpan balik)", "Performance dialogue (feedback)"],
  thread_none: ["Belum ada umpan balik.", "No feedback yet."],
  thread_about: ["Tentang", "About"],
  reply_label: ["Tanggapan Anda", "Your reply"], reply_submit: ["Kirim tanggapan", "Send the reply"],
  reply_empty: ["Tulis tanggapan dulu.", "Write a reply first."],
  obj_submit: ["Ajukan keberatan (ditandatangani)", "File the objection (signed)"],
  obj_hint: ["Keberatan ditandatangani dengan kunci di peramban ini dan diputuskan oleh Atasan Pejabat Penilai (§2.4).",
    "The objection is signed with this browser's key and decided by the appraiser's superior (§2.4)."],
  obj_empty: ["Tulis alasan keberatan dulu.", "Write the reasons first."],
  explain_title: ["Penjelasan diminta dari Anda", "An explanation is asked of you"],
  explain_label: ["Penjelasan Anda", "Your explanation"], explain_submit: ["Kirim penjelasan", "Send the explanation"],
  refreshing: ["Diterima; tampilan diperbarui begitu hasil baru dihitung.", "Accepted; the view updates once the new result is computed."],
});

const enc = encodeURIComponent;
let flash = null;  // {section, el}: an accepted answer kept on top of its section after the page is drawn again

function actForm({ name, testid, textId, textTestid, label, button, hint, empty, rows = 4, send }) {
  const text = h("textarea", { id: textId, name: "text", rows, maxlength: 2000, "data-testid": textTestid, required: true });
  const out = h("div", { "aria-live": "polite" });
  const submitBtn = h("button", { type: "submit", "data-testid": button[0] }, button[1]);
  const form = h("form", { "data-testid": testid, novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const value = text.value.trim();
    if (!value) {
      out.replaceChildren(answerBox({ status: "error", reasons: [{ code: "empty", message_id: empty, message_en: empty }] }));
      text.focus();
      return;
    }
    submitBtn.disabled = true;
    const answer = await send(value);
    submitBtn.disabled = false;
    out.replaceChildren(answerBox(answer));
    if (answer.status === "accepted" || answer.status === "duplicate") { keep.clear(name); await answer.after?.(); }
  } }, h("label", { for: textId }, label), text, hint ? h("p", { class: "muted" }, hint) : null, submitBtn, out);
  keep(form, name);
  return form;
}

async function thread(who, r, redraw) {
  const res = await api(`/api/feedback/${enc(r.nip)}/${enc(r.period)}`);
  const card = h("section", { class: "card", "data-testid": "feedback-thread", "aria-labelledby": "thread-h" },
    h("h2", { id: "thread-h" }, t("thread_title")));
  if (res.status !== 200) { card.append(errorBox(res)); return card; }
  const items = res.body.items || [];
  if (!items.length) card.append(h("p", { class: "muted" }, t("thread_none")));
  const mine = who.nip === r.nip;
  for (const item of items) {
    const about = (item.refers_to || []).map((x) => x.iki_id || x.value).filter(Boolean);
    const li = h("article", { class: "feedback", "data-testid": "feedback-item", "data-event": item.event_id },
      h("p", {}, h("strong", {}, item.from_name || item.from_nip), h("span", { class: "muted" }, ` · ${fmtTime(item.occurred_at)}`)),
      about.length ? h("p", { class: "muted" }, `${t("thread_about")}: ${about.join(", ")}`) : null,
      h("p", { class: "text" }, item.text),
      (item.replies || []).length ? h("ul", { class: "replies" }, item.replies.map((x) => h("li", {},
        h("strong", {}, x.from_name || x.from_nip), ` (${fmtTime(x.occurred_at)}): `, x.text))) : null);
    if (mine) {
      li.append(actForm({ name: `reply-${item.event_id}`, testid: "reply-form", textId: `reply-${item.event_id}`,
        textTestid: "reply-text", label: t("reply_label"), button: ["reply-submit", t("reply_submit")], rows: 2,
        empty: t("reply_empty"), send: async (text) => {
          const answer = await submit("feedback.given", r.nip, { from_nip: who.nip, text,
            refers_to: [{ event_id: item.event_id }] }, { period: r.period, schema_version: 2 });
          answer.after = () => redraw("thread", answer, () => api(`/api/feedback/${enc(r.nip)}/${enc(r.period)}`)
            .then((x) => JSON.stringify(x.body).includes(answer.event_id)));
          return answer;
        } }));
    }
    card.append(li);
  }
  return card;
}

function objectionCard(who, doc, redraw) {
  const o = doc.objection, r = doc.result;
  const card = h("section", { class: "card", "aria-labelledby": "obj-h" }, h("h2", { id: "obj-h" }, t("objection")),
    ...objectionState(o));
  const again = (before) => () => api(`/api/appraisals/${enc(r.nip)}/${enc(r.period)}`)
    .then((res) => JSON.stringify(res.body.objection || {}) !== before);
  const before = JSON.stringify(o);
  const open = o.delivered_at && o.last_day && new Date().toISOString().slice(0, 10) <= o.last_day;
  if (who.nip === r.nip && o.status === "none" && open) {
    card.append(actForm({ name: `objection-${r.period}`, testid: "objection-form", textId: "objection-reasons",
      textTestid: "objection-reasons", label: t("obj_reasons"), button: ["objection-submit", t("obj_submit")],
      hint: t("obj_hint"), empty: t("obj_empty"), send: async (reasons) => {
        const answer = await submit("objection.filed", r.nip, { reasons }, { period: r.period });
        answer.after = () => redraw("objection", answer, again(before));
        return answer;
      } }));
  }
  // §2.4: an explanation asked of the employee, not yet given by him or her after it
  const exam = o.examination || [];
  const asked = exam.filter((x, i) => x.type === "objection.explanation.requested" && (x.from_nips || []).includes(who.nip)
    && !exam.slice(i + 1).some((y) => y.type === "objection.explanation.given" && y.by_nip === who.nip));
  for (const request of asked) {
    card.append(h("h3", {}, t("explain_title")), h("p", {}, request.text),
      actForm({ name: `explain-${request.event_id}`, testid: "explain-form", textId: `explain-${request.event_id}`,
        textTestid: "explain-text", label: t("explain_label"), button: ["explain-submit", t("explain_submit")],
        empty: t("reply_empty"), send: async (explanation) => {
          const answer = await submit("objection.explanation.given", r.nip, { request_event_id: request.event_id,
            given_by_nip: who.nip, explanation }, { period: r.period });
          answer.after = () => redraw("objection", answer, again(before));
          return answer;
        } }));
  }
  return card;
}

function appraisalCards(doc, who) {
  const r = doc.result, d = r.divergence || {};
  const ikis = doc.iki.map((i) => h("div", { class: "iki", "data-testid": "iki" },
    h("h3", {}, i.name), h("div", { class: "muted" }, i.iki_id),
    h("div", { class: "grid" },
      h("div", {}, t("target"), h("div", { class: "num" }, i.target.low === i.target.high ? i.target.low
        : `${i.target.low}–${i.target.high}`, " ", i.unit)),
      h("div", {}, t("realisasi"), h("div", { class: "num" }, i.realisasi ?? "—")),
      h("div", {}, t("capaian"), h("div", { class: "num", "data-testid": "capaian" }, i.capaian))),
    i.note ? h("p", { class: "muted" }, i.note) : null,
    h("h4", {}, t("evidence")), evidenceList(i.evidence, who && who.audit_url)));
  const divergence = (d.hasil_kerja || d.perilaku) ? h("div", { class: "divergence" }, h("strong", {}, t("divergence")),
    h("p", {}, d.justification ? `${t("justification")}: ${d.justification}` : t("justification_missing")),
    d.note ? h("p", { class: "muted" }, d.note) : null) : null;
  return [h("section", { class: "card", "data-testid": "appraisal" },
    h("h2", {}, r.name || r.nip, " ", badge(r.predikat)),
    kv([["NIP", r.nip], [t("period"), `${r.period} (${r.evaluation})`], [t("jabatan"), r.jabatan],
      [t("unit"), r.unit_id ? h("a", { href: `#/unit/${r.unit_id}/${r.period}` }, r.unit_id) : "—"],
      [t("pejabat_penilai"), r.pejabat_penilai_nip], [t("status"), t(r.status)], [t("capaian_total"), r.capaian_hasil_kerja],
      [t("policy"), `${r.policy.id} ${r.policy.version}`]]),
    h("h3", {}, t("predikat")), h("div", { class: "scroll", tabindex: 0 }, ratingTable(r)), divergence,
    doc.objection.final ? h("p", { class: "decision-note" }, t("obj_from_decision")) : null),
  angkaKreditCard(doc.angka_kredit),
  h("section", { class: "card" }, h("h2", {}, t("iki_title")), ikis),
  h("section", { class: "card" }, behaviourBlock(doc).map((x) => (x && x.tagName === "H3" ? h("h2", {}, x.textContent) : x)))];
}

async function draw(main, nip, period, ctx) {
  const who = await me();
  const periods = (who.appraisals || []).filter((a) => a.nip === who.nip);
  if (!nip) {
    const chosen = periods.find((a) => a.period === period) || periods[0];
    if (!chosen) {
      main.replaceChildren(h("h1", {}, t("saya_title")), h("p", { class: "card" }, t("saya_none")),
        h("p", {}, h("a", { class: "button", href: "#/tugas" }, t("saya_go_tugas"))), unitsList(who) || "",
        myDataCard(who.nip));
      return;
    }
    nip = who.nip; period = chosen.period;
  }
  const res = await api(`/api/appraisals/${enc(nip)}/${enc(period)}`);
  if (res.status !== 200) { main.replaceChildren(h("h1", {}, t("saya_title")), errorBox(res)); return; }
  const doc = res.body;
  const redraw = async (section, answer, changed) => {
    flash = { section, el: answerBox(answer) };
    for (let i = 0; i < 20 && !(await changed().catch(() => false)); i++) await new Promise((ok) => setTimeout(ok, 500));
    await draw(main, nip, period, ctx);
  };
  const withFlash = (section, card) => {
    if (flash && flash.section === section) { card.insertBefore(flash.el, card.children[1] || null); flash = null; }
    return card;
  };
  main.replaceChildren(...[h("h1", {}, nip === who.nip ? t("saya_title") : t("nav_appraisal")),
    ...appraisalCards(doc, who),
    withFlash("thread", await thread(who, doc.result, redraw)),
    withFlash("objection", objectionCard(who, doc, redraw)),
    periods.length > 1 ? h("section", { class: "card" }, h("h2", {}, t("saya_periods")), h("ul", { class: "plain" },
      periods.map((a) => h("li", {}, h("a", { href: `#/saya/${a.period}` }, a.period), " ", badge(a.predikat))))) : null,
    unitsList(who), nip === who.nip ? myDataCard(who.nip) : null].filter(Boolean));
}

function unitsList(who) {
  const units = who.units || [];
  if (!units.length) return null;
  return h("section", { class: "card" }, h("h2", {}, t("units")), h("ul", { class: "plain" },
    units.map((u) => h("li", {}, h("a", { href: `#/unit/${u.unit_id}/${u.period}` }, `${u.unit_id} · ${u.period}`)))));
}

route("saya", (main, params, ctx) => draw(main, null, params[0], ctx));
route("appraisal", (main, params, ctx) => draw(main, params[0], params[1], ctx));
