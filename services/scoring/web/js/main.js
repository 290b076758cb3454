// Objektif page: the hash router and the navigation (shown by role). Each page is a module under pages/.
import { addText, api, h, lang, me, routes, setLang, signOut, t, errorBox } from "./core.js";

// Each page module is loaded when first opened and registers itself with route(name, render).
//: route name → module (`#/appraisal/<nip>/<P>`, the old link to one appraisal, is drawn by saya.js)
const PAGES = { masuk: "masuk", daftar: "daftar", saya: "saya", appraisal: "saya", tugas: "tugas", tim: "tim",
  keberatan: "keberatan", admin: "admin", unit: "unit" };

addText({
  app_title: ["Objektif", "Objektif"],
  tagline: ["Penilaian kinerja ASN berbasis bukti", "Evidence-based appraisal of civil servants"],
  nav_label: ["Menu utama", "Main menu"],
  nav_saya: ["Penilaian saya", "My appraisal"], nav_tugas: ["Tugas penilaian", "Rating tasks"],
  nav_tim: ["Tim saya", "My team"], nav_keberatan: ["Keberatan", "Objections"],
  nav_admin: ["Administrasi", "Administration"], nav_daftar: ["Pendaftaran", "Enrolment"],
  nav_unit: ["Unit kerja", "Unit"], nav_appraisal: ["Penilaian", "Appraisal"], nav_keluar: ["Keluar", "Sign out"], nav_masuk: ["Masuk", "Sign in"],
  lang_switch: ["English", "Bahasa Indonesia"], lang_label: ["Ganti bahasa ke English", "Switch language to Bahasa Indonesia"],
  skip: ["Langsung ke isi", "Skip to content"],
  footer: ["Setiap angka menunjuk bukti dan peristiwa yang menghasilkannya (PermenPANRB 6/2022).",
    "Every number points to the evidence and events that produced it (PermenPANRB 6/2022)."],
  signed_in_as: ["Masuk sebagai", "Signed in as"],
  page_missing: ["Halaman tidak ditemukan.", "Page not found."],
  loading: ["Memuat…", "Loading…"],
});

const PUBLIC = new Set(["masuk", "daftar"]);
let keberatanFor = null;  // the NIP whose objection list decided whether the nav shows Keberatan

async function showsKeberatan(who) {
  if (keberatanFor && keberatanFor.nip === who.nip) return keberatanFor.show;
  const res = await api("/api/objections?open=false");
  const show = res.status === 200 && (res.body.objections || []).length > 0;
  keberatanFor = { nip: who.nip, show };
  return show;
}

async function nav(who, active) {
  const items = [];
  if (who) {
    items.push("saya", "tugas");
    if (who.role === "superior") items.push("tim");
    if (await showsKeberatan(who)) items.push("keberatan");
    if ((who.grants || []).includes("admin")) items.push("admin");
  } else {
    items.push("masuk");
  }
  const links = items.map((name) => h("li", {}, h("a", { href: `#/${name}`, "data-testid": `nav-${name}`,
    "aria-current": name === active ? "page" : null }, t(`nav_${name}`))));
  if (who) {
    links.push(h("li", {}, h("button", { type: "button", class: "link", "data-testid": "nav-keluar",
      onclick: async () => { await signOut(); keberatanFor = null; location.hash = "#/masuk"; } }, t("nav_keluar"))));
  }
  return h("nav", { "aria-label": t("nav_label") }, h("ul", { class: "nav" }, links));
}

function header(who, active, navEl) {
  return [h("a", { class: "skip", href: "#main", onclick: (ev) => { ev.preventDefault(); document.getElementById("main").focus(); } },
    t("skip")),
  h("div", { class: "bar" },
    h("div", { class: "brand" }, h("p", { class: "name" }, t("app_title")), h("p", { class: "sub" }, t("tagline"))),
    h("button", { type: "button", class: "link lang", lang: lang() === "id" ? "en" : "id", "aria-label": t("lang_label"),
      onclick: () => { setLang(lang() === "id" ? "en" : "id"); render(); } }, t("lang_switch"))),
  who ? h("p", { class: "who" }, `${t("signed_in_as")}: `, h("strong", {}, who.name || who.nip), ` · ${who.nip}`) : null,
  navEl];
}

async function chrome(who, page) {
  const navEl = await nav(who, page);
  document.getElementById("top").replaceChildren(...header(who, page, navEl).filter(Boolean));
  document.getElementById("foot").replaceChildren(h("p", {}, t("footer")));
}

let rendering = 0;
async function render() {
  const mine = ++rendering;
  document.documentElement.lang = lang();
  const [, name = "", ...rest] = location.hash.replace(/^#/, "").split("/");
  const params = rest.map((p) => decodeURIComponent(p));
  const who = await me();
  let page = name;
  if (!page) page = who ? "saya" : "masuk";
  else if (!who && !PUBLIC.has(page)) page = "masuk";
  const main = document.getElementById("main");
  await chrome(who, page);
  if (mine !== rendering) return;
  main.replaceChildren(h("p", { class: "muted", "aria-live": "polite" }, t("loading")));
  if (PAGES[page] && !routes.has(page)) {
    try { await import(`./pages/${PAGES[page]}.js`); } catch (err) {
      main.replaceChildren(errorBox({ status: 0, body: { error: "page", message: String(err.message || err) } }));
      return;
    }
  }
  const draw = routes.get(page);
  if (!draw) { main.replaceChildren(errorBox({ status: 404, body: { error: "not_found", message: t("page_missing") } })); return; }
  document.title = `${t(`nav_${page}`)} — Objektif`;
  try {
    if (mine !== rendering) return;
    // refreshNav: after a sign-in or an act that changes what the nav offers, without redrawing the page
    await draw(main, params, { who, rerender: render,
      refreshNav: async () => { keberatanFor = null; await chrome(await me({ fresh: true }), page); } });
    if (main.firstChild && main.firstChild.textContent === t("loading")) main.firstChild.remove();
  } catch (err) {
    if (mine === rendering) main.replaceChildren(errorBox({ status: 0, body: { error: "page", message: String(err.message || err) } }));
  }
}

window.addEventListener("hashchange", render);
render();
