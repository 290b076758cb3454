// #/masuk: sign in with the key this browser holds for a NIP (nothing secret is typed: the key signs a challenge).
import { addText, h, hasKey, keep, route, signIn, t } from "../core.js";

addText({
  masuk_title: ["Masuk", "Sign in"],
  masuk_intro: ["Masukkan NIP Anda. Peramban ini menandatangani masuk dengan kunci yang dibuat saat pendaftaran; tidak ada kata sandi.",
    "Enter your NIP. This browser signs you in with the key made when you enrolled; there is no password."],
  masuk_nip: ["NIP (18 angka)", "NIP (18 digits)"],
  masuk_submit: ["Masuk dengan kunci peramban ini", "Sign in with this browser's key"],
  masuk_busy: ["Sedang masuk…", "Signing in…"],
  masuk_done: ["Anda sudah masuk sebagai {name}.", "You are signed in as {name}."],
  masuk_already: ["Anda sudah masuk sebagai {name}.", "You are already signed in as {name}."],
  masuk_go_tugas: ["Buka tugas penilaian", "Open rating tasks"],
  masuk_go_saya: ["Lihat penilaian saya", "See my appraisal"],
  signin_bad_nip: ["NIP harus 18 angka, tanpa spasi atau titik.", "A NIP is 18 digits, without spaces or dots."],
  signin_no_key: ["Peramban ini belum punya kunci untuk NIP {nip}. Kunci dibuat saat Anda membuka tautan pendaftaran dari BKPSDM di peramban ini. Minta tautan pendaftaran (kode) ke BKPSDM, lalu buka tautan itu di HP atau komputer ini.",
    "This browser has no key for NIP {nip}. The key is made when you open BKPSDM's enrolment link in this browser. Ask BKPSDM for an enrolment link (code), then open it on this phone or computer."],
  signin_not_enrolled: ["NIP ini belum terdaftar, atau kuncinya sudah dicabut. Minta tautan pendaftaran baru ke BKPSDM.",
    "This NIP is not enrolled, or its key was revoked. Ask BKPSDM for a new enrolment link."],
  signin_signature_invalid: ["Kunci di peramban ini tidak lagi berlaku untuk NIP ini (mungkin Anda sudah mendaftar di perangkat lain). Masuk di perangkat itu, atau minta tautan pendaftaran baru ke BKPSDM.",
    "The key in this browser is no longer valid for this NIP (perhaps you enrolled on another device). Sign in there, or ask BKPSDM for a new enrolment link."],
  signin_challenge_expired: ["Waktu masuk habis. Tekan Masuk sekali lagi.", "The sign-in took too long. Press Sign in again."],
  signin_challenge_used: ["Permintaan masuk ini sudah dipakai. Tekan Masuk sekali lagi.", "This sign-in request was already used. Press Sign in again."],
  signin_challenge_invalid: ["Permintaan masuk tidak sah. Muat ulang halaman lalu coba lagi.", "Invalid sign-in request. Reload the page and try again."],
  signin_rate_limited: ["Terlalu banyak percobaan dari jaringan ini. Tunggu sebentar lalu coba lagi.", "Too many attempts from this network. Wait a moment and try again."],
  signin_keys_unavailable: ["Layanan bukti sedang tidak menjawab, jadi kunci Anda belum bisa diperiksa. Coba lagi beberapa menit lagi.",
    "The evidence service is not answering, so your key cannot be checked. Try again in a few minutes."],
  signin_network: ["Server tidak dapat dihubungi. Periksa koneksi internet lalu coba lagi.", "The server could not be reached. Check the internet connection and try again."],
  signin_other: ["Masuk gagal ({code}). Coba lagi; bila tetap gagal, hubungi BKPSDM.", "Sign-in failed ({code}). Try again; if it keeps failing, contact BKPSDM."],
  lost_title: ["HP hilang, diganti, atau data peramban terhapus?", "Phone lost, replaced, or browser data wiped?"],
  lost_text: ["Kunci Anda hanya ada di peramban tempat Anda mendaftar dan tidak bisa disalin. Hubungi BKPSDM (admin kepegawaian): minta kunci lama dicabut dan kode pendaftaran baru diterbitkan. Buka tautan baru itu di perangkat baru; kunci lama langsung tidak berlaku di mana pun.",
    "Your key exists only in the browser where you enrolled and cannot be copied. Contact BKPSDM (the personnel office): ask them to revoke the old key and issue a new enrolment code. Open the new link on the new device; the old key stops working everywhere at once."],
  lost_never: ["Jangan pernah mengirim kode pendaftaran atau tautan Anda kepada orang lain.", "Never send your enrolment code or link to anyone else."],
});

const NIP = /^[0-9]{18}$/;

function signinError(code, vars) {
  const known = ["bad_nip", "no_key", "not_enrolled", "signature_invalid", "challenge_expired", "challenge_used", "challenge_invalid",
    "rate_limited", "keys_unavailable", "network"];
  const text = known.includes(code) ? t(`signin_${code}`, vars) : t("signin_other", { code });
  return h("div", { class: "card error", role: "alert", "data-testid": "signin-error", "data-code": code }, h("p", {}, text));
}

function lostPhone() {
  return h("section", { class: "card", "data-testid": "lost-phone", "aria-labelledby": "lost-title" },
    h("h2", { id: "lost-title" }, t("lost_title")), h("p", {}, t("lost_text")), h("p", { class: "muted" }, t("lost_never")));
}

route("masuk", async (main, _params, ctx) => {
  const who = ctx.who;
  const status = h("div", { "aria-live": "polite" });
  const nip = h("input", { id: "signin-nip", name: "nip", "data-testid": "signin-nip", inputmode: "numeric",
    autocomplete: "username", maxlength: 18, required: true, "aria-describedby": "signin-nip-hint",
    value: localStorage.getItem("objektif.nip") || "" });
  const button = h("button", { type: "submit", "data-testid": "signin-submit" }, t("masuk_submit"));
  const form = h("form", { novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const value = nip.value.replace(/\s+/g, "");
    if (!NIP.test(value)) {
      nip.setAttribute("aria-invalid", "true");
      status.replaceChildren(signinError("bad_nip"));
      nip.focus();
      return;
    }
    nip.removeAttribute("aria-invalid");
    if (!(await hasKey(value))) { status.replaceChildren(signinError("no_key", { nip: value })); return; }
    button.disabled = true;
    status.replaceChildren(h("p", { class: "muted" }, t("masuk_busy")));
    const res = await signIn(value);
    button.disabled = false;
    if (res.status !== 200) { status.replaceChildren(signinError((res.body && res.body.error) || `http_${res.status}`)); return; }
    status.replaceChildren(h("div", { class: "card ok", role: "status", "data-testid": "signin-done" },
      h("p", {}, t("masuk_done", { name: res.body.name || res.body.nip })),
      h("p", { class: "actions" }, h("a", { class: "button", href: "#/tugas" }, t("masuk_go_tugas")), " ",
        h("a", { class: "button secondary", href: "#/saya" }, t("masuk_go_saya")))));
    await ctx.refreshNav();
  } },
  h("label", { for: "signin-nip" }, t("masuk_nip")), nip,
  h("p", { id: "signin-nip-hint", class: "muted" }, t("masuk_intro")), button);
  keep(form, "masuk");
  main.replaceChildren(...[h("h1", {}, t("masuk_title")),
    who ? h("p", { class: "card ok", role: "status" }, t("masuk_already", { name: who.name || who.nip || who.role })) : null,
    h("section", { class: "card" }, form, status), lostPhone()].filter(Boolean));
});
