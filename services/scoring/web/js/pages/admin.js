// #/admin (Administrasi, BKPSDM): enrolment codes, who has not enrolled, rating progress per unit (who has not
// rated whom), closing a period, revoking a lost phone's key, an appeal's dossier and erasing personal data (UU PDP,
// pages/pdp.js). The registrar key signs the registrations, revocations, period closings and erasures on the server;
// each goes through the evidence gate.
import { addText, answerBox, api, errorBox, fmtTime, h, keep, route, t } from "../core.js";
import { problem } from "./tim.js";
import { erasureSection } from "./pdp.js";

addText({
  ad_title: ["Administrasi", "Administration"], ad_only: ["Halaman ini hanya untuk admin BKPSDM.", "This page is for BKPSDM's administrators only."],
  ad_issue: ["Terbitkan kode pendaftaran", "Issue an enrolment code"],
  ad_issue_hint: ["Kode sekali pakai, terikat pada NIP. Berikan tautannya hanya kepada pegawai itu sendiri (misalnya lewat pesan pribadi); ia membukanya di HP-nya.",
    "A single-use code bound to the NIP. Give the link only to that employee (e.g. in a private message); he or she opens it on his or her phone."],
  ad_nip: ["NIP pegawai (18 angka)", "Employee's NIP (18 digits)"], ad_grant: ["Hak tambahan", "Extra grant"],
  ad_grant_none: ["Tidak ada (pegawai biasa)", "None (employee)"], ad_grant_admin: ["Admin BKPSDM", "BKPSDM administrator"],
  ad_grant_auditor: ["Auditor", "Auditor"], ad_hours: ["Berlaku (jam)", "Valid for (hours)"],
  ad_issue_submit: ["Terbitkan kode", "Issue the code"], ad_code: ["Kode", "Code"], ad_link: ["Tautan pendaftaran", "Enrolment link"],
  ad_expires: ["Berlaku sampai {when}", "Valid until {when}"], ad_copy: ["Salin tautan", "Copy the link"],
  ad_not_here: ["Jangan buka tautan ini di perangkat Anda: kirimkan kepada pegawainya.", "Do not open this link on your device: send it to the employee."],
  ad_share: ["Bagikan", "Share"], ad_share_text: ["Tautan pendaftaran Objektif Anda (sekali pakai, jangan diteruskan):", "Your Objektif enrolment link (single use, do not forward):"],
  ad_copied: ["Tautan disalin.", "Link copied."], ad_copy_failed: ["Tidak bisa menyalin otomatis: pilih tautannya lalu salin.", "Could not copy: select the link and copy it."],
  ad_bad_nip: ["NIP harus 18 angka, tanpa spasi atau titik.", "A NIP is 18 digits, without spaces or dots."],
  ad_bad_hours: ["Masa berlaku 1 sampai 720 jam.", "Valid for 1 to 720 hours."],
  ad_roster: ["Pendaftaran pegawai", "Employees' enrolment"], ad_roster_count: ["{done} dari {all} pegawai sudah mendaftar.", "{done} of {all} employees have enrolled."],
  ad_name: ["Nama", "Name"], ad_jabatan: ["Jabatan", "Position"], ad_status: ["Status", "Status"],
  ad_enrolled: ["Sudah mendaftar", "Enrolled"], ad_pending: ["Kode terbit, belum dipakai (sampai {when})", "Code issued, unused (until {when})"],
  ad_not_enrolled: ["Belum mendaftar", "Not enrolled"], ad_for: ["Terbitkan kode untuk {name}", "Issue the code for {name}"],
  ad_progress: ["Kemajuan penilaian perilaku per unit", "Behaviour rating progress per unit"],
  ad_period: ["Periode", "Period"], ad_show: ["Tampilkan", "Show"],
  ad_unit_done: ["{done} dari {expected} penilaian selesai", "{done} of {expected} ratings done"],
  ad_rater_left: ["{rater} belum menyelesaikan {n} penilaian:", "{rater} has {n} ratings left:"],
  ad_missing: ["{ratee} sebagai {relation} ({left} dari 7 nilai belum)", "{ratee} as {relation} ({left} of 7 values left)"],
  ad_enrolled_list: ["Sudah mendaftar ({n})", "Enrolled ({n})"],
  ad_all_done: ["Semua penilaian di unit ini sudah selesai.", "Every rating in this unit is done."],
  rel_atasan: ["atasan", "superior"], rel_rekan: ["rekan kerja", "peer"], rel_bawahan: ["bawahan", "subordinate"], rel_diri: ["diri sendiri", "self"],
  ad_close: ["Tutup periode", "Close a period"],
  ad_close_hint: ["Menutup periode membuat hasil unit itu final (evaluasi periodik). Peristiwa penutupan ditandatangani dan dicatat di ledger.",
    "Closing a period makes the unit's results final (periodic evaluation). The closing is signed and recorded in the ledger."],
  ad_close_unit: ["Unit kerja", "Unit"], ad_close_eval: ["Evaluasi", "Evaluation"], ad_periodik: ["Periodik", "Periodic"], ad_tahunan: ["Tahunan", "Annual"],
  ad_close_submit: ["Tutup periode unit ini", "Close this unit's period"], ad_bad_period: ["Tulis periode, mis. 2025-Q3.", "Write the period, e.g. 2025-Q3."],
  ad_revoke: ["HP hilang: cabut kunci", "Lost phone: revoke the key"],
  ad_revoke_hint: ["Mencabut semua kunci aktif pegawai; sesudah itu terbitkan kode baru agar ia mendaftar di perangkat barunya.",
    "Revokes all the employee's active keys; then issue a new code so he or she enrols on the new device."],
  ad_revoke_reason: ["Alasan", "Reason"], ad_revoke_default: ["HP hilang", "lost phone"], ad_revoke_submit: ["Cabut kunci", "Revoke the key"],
  ad_dossier: ["Berkas banding (audit)", "Appeal dossier (audit)"],
  ad_dossier_hint: ["Semua peristiwa, bukti dan tanda terima ledger atas penilaian satu pegawai pada satu periode, dalam satu berkas.",
    "Every event, evidence and ledger receipt of one employee's appraisal in one period, in one file."],
  ad_dossier_submit: ["Unduh berkas", "Download the dossier"], ad_downloaded: ["Berkas diunduh: {file}", "Dossier downloaded: {file}"],
  ad_busy: ["Sedang diproses…", "Working…"],
});

const NIP = /^[0-9]{18}$/;
const PERIOD = /^[0-9]{4}(-(Q[1-4]|S[12]|(0[1-9]|1[0-2])))?$/;
const field = (id, label, input, hint) => [h("label", { for: id }, label), input, hint ? h("p", { id: `${id}-hint`, class: "muted hint" }, hint) : null];

function issueSection(onIssued) {
  const nip = h("input", { id: "admin-nip", name: "admin-nip", "data-testid": "admin-nip", inputmode: "numeric", maxlength: 18, autocomplete: "off" });
  const grant = h("select", { id: "admin-grant", name: "admin-grant", "data-testid": "admin-grant" },
    h("option", { value: "" }, t("ad_grant_none")), h("option", { value: "admin" }, t("ad_grant_admin")), h("option", { value: "auditor" }, t("ad_grant_auditor")));
  const hours = h("input", { id: "admin-hours", name: "admin-hours", "data-testid": "admin-hours", type: "number", min: 1, max: 720, value: 72 });
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", "data-testid": "admin-issue" }, t("ad_issue_submit"));
  const form = h("form", { novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const value = nip.value.replace(/[\s.]+/g, "");
    if (!NIP.test(value)) { nip.setAttribute("aria-invalid", "true"); out.replaceChildren(problem(t("ad_bad_nip"))); nip.focus(); return; }
    nip.removeAttribute("aria-invalid");
    const n = Number(hours.value || 72);
    if (!Number.isInteger(n) || n < 1 || n > 720) { out.replaceChildren(problem(t("ad_bad_hours"))); hours.focus(); return; }
    button.disabled = true;
    out.replaceChildren(h("p", { class: "muted" }, t("ad_busy")));
    const res = await api("/api/enrolments", { method: "POST", body: { nip: value, hours: n, ...(grant.value ? { grant: grant.value } : {}) } });
    button.disabled = false;
    if (res.status !== 201) { out.replaceChildren(errorBox(res)); return; }
    keep.clear("admin.issue");
    const status = h("p", { role: "status", class: "muted" });
    out.replaceChildren(h("div", { class: "issued", role: "status" },
      h("p", {}, `${t("ad_code")} (NIP ${res.body.nip}): `, h("code", { class: "code", "data-testid": "admin-code" }, res.body.code)),
      // not a link: opened here, it would enrol this (the admin's) browser as the employee
      h("p", {}, `${t("ad_link")}: `, h("code", { "data-testid": "admin-link", class: "link-text" }, res.body.link)),
      h("p", { class: "muted" }, t("ad_not_here")),
      h("p", { class: "muted" }, t("ad_expires", { when: fmtTime(res.body.expires_at) })),
      h("button", { type: "button", class: "secondary", "data-testid": "admin-copy", onclick: async () => {
        try { await navigator.clipboard.writeText(res.body.link); status.textContent = t("ad_copied"); } catch (err) { status.textContent = t("ad_copy_failed"); }
      } }, t("ad_copy")), " ",
      navigator.share ? h("button", { type: "button", class: "secondary", onclick: () => navigator.share({ title: "Objektif",
        text: t("ad_share_text"), url: res.body.link }).catch(() => {}) }, t("ad_share")) : null, status));
    onIssued();
  } }, field("admin-nip", t("ad_nip"), nip), field("admin-grant", t("ad_grant"), grant), field("admin-hours", t("ad_hours"), hours), button);
  keep(form, "admin.issue");
  return { el: h("section", { class: "card", "aria-labelledby": "ad-issue" }, h("h2", { id: "ad-issue" }, t("ad_issue")),
    h("p", { class: "muted" }, t("ad_issue_hint")), form, out), nip, button, form };
}

async function rosterSection(box, issue) {
  const res = await api("/api/enrolments");
  if (res.status !== 200) { box.replaceChildren(errorBox(res)); return; }
  const people = res.body.people;
  const done = people.filter((p) => p.enrolled).length;
  const status = (p) => (p.enrolled ? t("ad_enrolled") : p.code_pending ? t("ad_pending", { when: fmtTime(p.code_expires_at) }) : t("ad_not_enrolled"));
  const row = (p) => h("li", { class: `row ${p.enrolled ? "done" : "todo"}`, "data-testid": p.enrolled ? "enrolled" : "not-enrolled", "data-nip": p.nip },
    h("p", {}, h("strong", {}, p.name || p.nip), ` · NIP ${p.nip}`), h("p", { class: "muted" }, `${p.jabatan || "—"} · ${p.unit_id || "—"}`),
    h("p", { class: p.enrolled ? "ok-note" : "todo-note" }, status(p)),
    p.enrolled ? null : h("button", { type: "button", class: "secondary", "aria-label": t("ad_for", { name: p.name || p.nip }),
      onclick: () => { issue.nip.value = p.nip; issue.nip.dispatchEvent(new Event("input", { bubbles: true })); issue.form.requestSubmit();
        issue.el.scrollIntoView({ block: "start" }); } }, t("ad_issue_submit")));
  const enrolled = people.filter((p) => p.enrolled);
  box.replaceChildren(h("h2", { id: "ad-roster" }, t("ad_roster")), h("p", {}, t("ad_roster_count", { done, all: people.length })),
    h("div", { "data-testid": "roster" }, h("ul", { class: "rows" }, people.filter((p) => !p.enrolled).map(row)),
      enrolled.length ? h("details", {}, h("summary", {}, t("ad_enrolled_list", { n: enrolled.length })), h("ul", { class: "rows" }, enrolled.map(row))) : null));
}

function missingByRater(missing) {
  const groups = new Map();
  for (const m of missing) {
    if (!groups.has(m.rater_nip)) groups.set(m.rater_nip, { name: m.rater_name || m.rater_nip, rows: [] });
    groups.get(m.rater_nip).rows.push(m);
  }
  return h("ul", { class: "groups" }, [...groups.values()].map((g) => h("li", {},
    h("p", { class: "rater" }, t("ad_rater_left", { rater: g.name, n: g.rows.length })),
    h("ul", { class: "rows compact" }, g.rows.map((m) => h("li", { class: "row", "data-testid": "progress-missing",
      "data-rater": m.rater_nip, "data-ratee": m.ratee_nip, "data-relation": m.relation },
    t("ad_missing", { ratee: m.ratee_name || m.ratee_nip, relation: t(`rel_${m.relation}`), left: m.values_left.length })))))));
}

function progressUnits(body) {
  return h("div", { "data-testid": "progress", "data-period": body.period }, body.units.map((u) => h("section", { class: "unit", "data-testid": "progress-unit", "data-unit": u.unit_id || "" },
    h("h3", {}, u.name || u.unit_id || "—"),
    h("p", {}, h("label", { for: `pg-${u.unit_id}` }, t("ad_unit_done", { done: u.done, expected: u.expected })),
      h("progress", { id: `pg-${u.unit_id}`, max: u.expected || 1, value: u.done })),
    u.missing.length ? missingByRater(u.missing) : h("p", { class: "ok-note" }, t("ad_all_done")))));
}

function closeSection(units, period) {
  const input = h("input", { id: "close-period", name: "close-period", "data-testid": "close-period", value: period, autocomplete: "off" });
  const unit = h("select", { id: "close-unit", name: "close-unit", "data-testid": "close-unit" },
    units.filter((u) => u.unit_id).map((u) => h("option", { value: u.unit_id }, u.name || u.unit_id)));
  const evaluation = h("select", { id: "close-eval", name: "close-eval" }, h("option", { value: "periodik" }, t("ad_periodik")), h("option", { value: "tahunan" }, t("ad_tahunan")));
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", "data-testid": "close-submit" }, t("ad_close_submit"));
  const form = h("form", { novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const p = input.value.trim();
    if (!PERIOD.test(p)) { input.setAttribute("aria-invalid", "true"); out.replaceChildren(problem(t("ad_bad_period"))); input.focus(); return; }
    input.removeAttribute("aria-invalid");
    button.disabled = true;
    out.replaceChildren(h("p", { class: "muted" }, t("ad_busy")));
    const res = await api(`/api/admin/periods/${encodeURIComponent(p)}/close`, { method: "POST", body: { unit_id: unit.value, evaluation: evaluation.value } });
    button.disabled = false;
    out.replaceChildren(["accepted", "duplicate", "rejected"].includes(res.body.status) ? answerBox(res.body) : errorBox(res));
  } }, h("p", { class: "muted" }, t("ad_close_hint")), field("close-period", t("ad_period"), input), field("close-unit", t("ad_close_unit"), unit),
  field("close-eval", t("ad_close_eval"), evaluation), button);
  return h("section", { class: "card", "aria-labelledby": "ad-close" }, h("h2", { id: "ad-close" }, t("ad_close")), form, out);
}

async function progressSection(box, closeBox, period) {
  const res = await api(`/api/admin/progress${period ? `?period=${encodeURIComponent(period)}` : ""}`);
  const input = h("input", { id: "progress-period", name: "progress-period", "data-testid": "progress-period", value: period || (res.body && res.body.period) || "" });
  const form = h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); progressSection(box, closeBox, input.value.trim()); } },
    field("progress-period", t("ad_period"), input), h("button", { type: "submit", class: "secondary" }, t("ad_show")));
  box.replaceChildren(h("h2", { id: "ad-progress" }, t("ad_progress")), form, res.status === 200 ? progressUnits(res.body) : errorBox(res));
  if (res.status === 200) closeBox.replaceChildren(closeSection(res.body.units, res.body.period));
  return res.status === 200 ? res.body.period : period;
}

function revokeSection() {
  const nip = h("input", { id: "revoke-nip", name: "revoke-nip", "data-testid": "revoke-nip", inputmode: "numeric", maxlength: 18, autocomplete: "off" });
  const reason = h("input", { id: "revoke-reason", name: "revoke-reason", "data-testid": "revoke-reason", value: t("ad_revoke_default"), maxlength: 2000 });
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "danger", "data-testid": "revoke-submit" }, t("ad_revoke_submit"));
  const form = h("form", { novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const value = nip.value.replace(/[\s.]+/g, "");
    if (!NIP.test(value)) { nip.setAttribute("aria-invalid", "true"); out.replaceChildren(problem(t("ad_bad_nip"))); nip.focus(); return; }
    nip.removeAttribute("aria-invalid");
    button.disabled = true;
    const res = await api("/api/keys/revoke", { method: "POST", body: { nip: value, reason: reason.value.trim() || t("ad_revoke_default") } });
    button.disabled = false;
    const b = res.body || {};
    out.replaceChildren(b.answers ? answerBox({ status: b.status, reasons: b.answers.flatMap((a) => a.reasons || []) }) : errorBox(res));
  } }, h("p", { class: "muted" }, t("ad_revoke_hint")), field("revoke-nip", t("ad_nip"), nip), field("revoke-reason", t("ad_revoke_reason"), reason), button);
  return h("section", { class: "card", "aria-labelledby": "ad-revoke" }, h("h2", { id: "ad-revoke" }, t("ad_revoke")), form, out);
}

function dossierSection(period) {
  const nip = h("input", { id: "dossier-nip", name: "dossier-nip", "data-testid": "dossier-nip", inputmode: "numeric", maxlength: 18, autocomplete: "off" });
  const per = h("input", { id: "dossier-period", name: "dossier-period", "data-testid": "dossier-period", value: period || "", autocomplete: "off" });
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", "data-testid": "dossier-download" }, t("ad_dossier_submit"));
  const form = h("form", { novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const value = nip.value.replace(/[\s.]+/g, ""), p = per.value.trim();
    if (!NIP.test(value)) { out.replaceChildren(problem(t("ad_bad_nip"))); nip.focus(); return; }
    if (!PERIOD.test(p)) { out.replaceChildren(problem(t("ad_bad_period"))); per.focus(); return; }
    button.disabled = true;
    out.replaceChildren(h("p", { class: "muted" }, t("ad_busy")));
    let res;
    try { res = await fetch(`/api/admin/dossier/${value}/${encodeURIComponent(p)}`, { credentials: "same-origin" }); } catch (err) { res = null; }
    button.disabled = false;
    if (!res || res.status !== 200) {
      const body = res ? await res.json().catch(() => ({})) : { error: "network", message: t("error_network") };
      out.replaceChildren(errorBox({ status: res ? res.status : 0, body }));
      return;
    }
    const file = `berkas-keberatan-${value}-${p}.html`;
    const url = URL.createObjectURL(await res.blob());
    const a = h("a", { href: url, download: file, hidden: true });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    out.replaceChildren(h("p", { role: "status", class: "ok-note" }, t("ad_downloaded", { file })));
  } }, h("p", { class: "muted" }, t("ad_dossier_hint")), field("dossier-nip", t("ad_nip"), nip), field("dossier-period", t("ad_period"), per), button);
  return h("section", { class: "card", "aria-labelledby": "ad-dossier" }, h("h2", { id: "ad-dossier" }, t("ad_dossier")), form, out);
}

route("admin", async (main, params, ctx) => {
  if (!(ctx.who.grants || []).includes("admin")) {
    main.replaceChildren(h("h1", {}, t("ad_title")), errorBox({ status: 403, body: { error: "forbidden", message: t("ad_only") } }));
    return;
  }
  const roster = h("section", { class: "card", "aria-labelledby": "ad-roster" });
  const issue = issueSection(() => rosterSection(roster, issue));
  const progress = h("section", { class: "card", "aria-labelledby": "ad-progress" });
  const close = h("div", {});
  const dossier = h("div", {});
  main.replaceChildren(h("h1", {}, t("ad_title")), issue.el, roster, progress, close, revokeSection(), dossier,
    erasureSection(problem));
  const [, period] = await Promise.all([rosterSection(roster, issue), progressSection(progress, close, params[0] || "")]);
  dossier.replaceChildren(dossierSection(period));
});
