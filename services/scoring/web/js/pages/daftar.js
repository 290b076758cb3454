// #/daftar/<CODE>: opening BKPSDM's link enrols by itself: a key made here (not extractable), its public half
// sent with the code (POST /api/enrol), then a sign-in with it. The code lives in the fragment, never in a log.
import { addText, answerBox, api, ensureKey, h, moveKey, route, signIn, t } from "../core.js";

addText({
  daftar_title: ["Pendaftaran", "Enrolment"],
  enrol_busy: ["Membuat kunci di peramban ini dan mendaftarkannya… Jangan tutup halaman ini.",
    "Making a key in this browser and registering it… Do not close this page."],
  enrol_done: ["Selamat datang, {name}. Pendaftaran berhasil dan Anda sudah masuk.",
    "Welcome, {name}. You are enrolled and signed in."],
  enrol_done_key: ["Kunci Anda tersimpan di peramban ini saja. Lain kali cukup buka Objektif di peramban ini dan masuk dengan NIP {nip}.",
    "Your key is kept in this browser only. Next time just open Objektif in this browser and sign in with NIP {nip}."],
  enrol_go_tugas: ["Mulai tugas penilaian", "Start the rating tasks"],
  enrol_what: ["Yang perlu dilakukan:", "What to do:"],
  enrol_code_used: ["Kode ini sudah dipakai. Bila Anda sendiri yang memakainya di peramban ini, cukup masuk dengan NIP Anda. Bila tidak, minta kode baru ke BKPSDM.",
    "This code was already used. If you used it yourself in this browser, just sign in with your NIP. Otherwise ask BKPSDM for a new code."],
  enrol_code_expired: ["Kode ini sudah kedaluwarsa (berlaku 72 jam). Minta kode pendaftaran baru ke BKPSDM.",
    "This code has expired (valid 72 hours). Ask BKPSDM for a new enrolment code."],
  enrol_code_unknown: ["Kode ini tidak dikenal. Periksa bahwa tautan dibuka utuh (contoh: ABCDE-FGHJK); bila tetap gagal, minta kode baru ke BKPSDM.",
    "This code is unknown. Check that the whole link was opened (e.g. ABCDE-FGHJK); if it still fails, ask BKPSDM for a new code."],
  enrol_code_missing: ["Tautan ini tidak berisi kode pendaftaran. Buka tautan lengkap dari BKPSDM.",
    "This link holds no enrolment code. Open the full link from BKPSDM."],
  enrol_rejected: ["Gerbang bukti menolak pendaftaran kunci ini (kode tetap bisa dipakai). Tunjukkan alasan di bawah kepada BKPSDM.",
    "The evidence gate refused to register this key (the code can still be used). Show the reasons below to BKPSDM."],
  enrol_intake_unavailable: ["Layanan bukti sedang tidak menjawab; kode belum terpakai. Coba buka tautan ini lagi beberapa menit lagi.",
    "The evidence service is not answering; the code is still unused. Open this link again in a few minutes."],
  enrol_not_configured: ["Server belum disiapkan untuk pendaftaran (kunci registrar belum diatur). Beri tahu BKPSDM atau pengelola sistem.",
    "The server is not set up for enrolment (no registrar key). Tell BKPSDM or the system operator."],
  enrol_rate_limited: ["Terlalu banyak percobaan dari jaringan ini. Tunggu sebentar lalu muat ulang halaman.",
    "Too many attempts from this network. Wait a moment and reload the page."],
  enrol_csrf: ["Permintaan ditolak karena tidak datang dari halaman Objektif sendiri. Buka tautan langsung di peramban.",
    "The request was refused because it did not come from Objektif's own page. Open the link directly in the browser."],
  enrol_network: ["Server tidak dapat dihubungi. Periksa koneksi internet lalu muat ulang halaman; kode belum terpakai.",
    "The server could not be reached. Check the internet connection and reload the page; the code is still unused."],
  enrol_no_webcrypto: ["Peramban ini tidak dapat membuat kunci Ed25519. Perbarui peramban (Chrome, Edge, Firefox atau Safari terbaru) lalu buka tautan lagi.",
    "This browser cannot make an Ed25519 key. Update the browser (recent Chrome, Edge, Firefox or Safari) and open the link again."],
  enrol_signin_failed: ["Kunci sudah terdaftar, tetapi masuk belum berhasil ({code}). Buka halaman Masuk dan masuk dengan NIP Anda.",
    "The key is registered, but signing in did not work ({code}). Open the sign-in page and sign in with your NIP."],
  enrol_other: ["Pendaftaran gagal ({code}). Muat ulang halaman; bila tetap gagal, hubungi BKPSDM.",
    "Enrolment failed ({code}). Reload the page; if it keeps failing, contact BKPSDM."],
  enrol_go_masuk: ["Ke halaman Masuk", "Go to sign in"],
});

const CODES = ["code_used", "code_expired", "code_unknown", "code_missing", "rejected", "intake_unavailable",
  "not_configured", "rate_limited", "csrf", "network", "no_webcrypto"];
//: each code's outcome, so that drawing the page again (a language switch) does not enrol twice
const outcomes = new Map();

async function enrol(code) {
  const pending = `pending:${code}`;
  let key;
  try { key = await ensureKey(pending); } catch (err) { return { ok: false, code: "no_webcrypto" }; }
  const res = await api("/api/enrol", { method: "POST", body: { code, public_key: key.publicKey } });
  if (res.status !== 202) {
    await moveKey(pending, null);
    const b = res.body || {};
    return { ok: false, code: b.status === "rejected" ? "rejected" : b.error || `http_${res.status}`, body: b };
  }
  await moveKey(pending, res.body.nip);
  const signed = await signIn(res.body.nip);
  if (signed.status !== 200) {
    return { ok: false, code: "signin_failed", detail: (signed.body && signed.body.error) || signed.status, body: res.body };
  }
  return { ok: true, nip: res.body.nip, name: signed.body.name || res.body.name || res.body.nip };
}

function done(o) {
  return h("section", { class: "card ok", role: "status", "data-testid": "enrol-done" },
    h("h2", {}, t("enrol_done", { name: o.name })), h("p", {}, t("enrol_done_key", { nip: o.nip })),
    h("p", {}, h("a", { class: "button", href: "#/tugas" }, t("enrol_go_tugas"))));
}

function failed(o) {
  const text = o.code === "signin_failed" ? t("enrol_signin_failed", { code: o.detail })
    : CODES.includes(o.code) ? t(`enrol_${o.code}`) : t("enrol_other", { code: o.code });
  return h("section", { class: "card error", role: "alert", "data-testid": "enrol-error", "data-code": o.code },
    h("h2", {}, t("enrol_what")), h("p", {}, text),
    o.code === "rejected" && o.body && o.body.answer ? answerBox({ status: "rejected", ...o.body.answer }) : null,
    h("p", {}, h("a", { href: "#/masuk" }, t("enrol_go_masuk"))));
}

route("daftar", async (main, params, ctx) => {
  const code = String(params[0] || "").trim().toUpperCase();
  main.replaceChildren(h("h1", {}, t("daftar_title")));
  if (!code) { main.append(failed({ code: "code_missing" })); return; }
  if (!outcomes.has(code)) {
    main.append(h("p", { class: "card", role: "status", "data-testid": "enrol-busy" }, t("enrol_busy")));
    outcomes.set(code, enrol(code));
  }
  const o = await outcomes.get(code);
  if (!o.ok && o.code !== "code_used" && o.code !== "signin_failed") outcomes.delete(code);  // a retry may work
  main.replaceChildren(h("h1", {}, t("daftar_title")), o.ok ? done(o) : failed(o));
  if (o.ok) await ctx.refreshNav();
});
