// Objektif page core (ES module, no build step): DOM, text, API with CSRF, the browser key, signed submissions,
// the gate's answer in words, keeping what was typed, routes. Every value from the API goes in as text, never HTML.

// --- text ---------------------------------------------------------------------------------------------------------
const TEXT = {
  error: ["Terjadi kesalahan", "Something went wrong"],
  error_network: ["Server tidak dapat dihubungi. Periksa koneksi lalu coba lagi.",
    "The server could not be reached. Check the connection and try again."],
  answer_accepted: ["Diterima dan dicatat.", "Accepted and recorded."],
  answer_duplicate: ["Sudah tercatat sebelumnya (tidak dicatat dua kali).", "Already recorded (not recorded twice)."],
  answer_rejected: ["Ditolak oleh gerbang bukti:", "Refused by the evidence gate:"],
  answer_error: ["Belum terkirim:", "Not sent:"],
  answer_kept: ["Isian Anda tetap tersimpan di formulir; perbaiki lalu kirim lagi.",
    "What you typed is kept in the form; correct it and send again."],
  no_key: ["Peramban ini belum punya kunci untuk NIP ini.", "This browser has no key for this NIP."],
  no_session: ["Anda belum masuk.", "You are not signed in."],
  no_data_key: ["Kunci data pegawai tidak dapat diambil; coba lagi sebentar lagi. Teks Anda tetap tersimpan di sini.",
    "The employee's data key could not be fetched; try again shortly. Your text is kept here."],
  no_webcrypto: ["Peramban ini tidak mendukung tanda tangan Ed25519. Perbarui peramban (Chrome, Edge, Firefox, Safari terbaru).",
    "This browser does not support Ed25519 signatures. Update the browser (recent Chrome, Edge, Firefox, Safari)."],
};
export function addText(entries) { Object.assign(TEXT, entries); }
let current = (typeof localStorage !== "undefined" && localStorage.getItem("objektif.lang")) || "id";
export const lang = () => current;
export function setLang(value) {
  current = value === "en" ? "en" : "id";
  localStorage.setItem("objektif.lang", current);
  document.documentElement.lang = current;
}
/** The text of `key` in the page's language; `{name}` placeholders are filled from `vars`. */
export function t(key, vars) {
  const pair = TEXT[key];
  let text = pair ? pair[current === "en" ? 1 : 0] : key;
  for (const [k, v] of Object.entries(vars || {})) text = text.split(`{${k}}`).join(String(v));
  return text;
}

// --- DOM ----------------------------------------------------------------------------------------------------------
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
export const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString(current === "id" ? "id-ID" : "en-GB",
  { dateStyle: "medium", timeStyle: "short" }) : "—");
export const fmtDate = (iso) => (iso ? new Date(iso.length === 10 ? iso + "T12:00:00" : iso)
  .toLocaleDateString(current === "id" ? "id-ID" : "en-GB", { dateStyle: "long" }) : "—");
export const kv = (pairs) => h("dl", { class: "kv" },
  pairs.filter(Boolean).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));

// --- API ----------------------------------------------------------------------------------------------------------
let csrf = sessionStorage.getItem("objektif.csrf") || "";
let meCache;  // undefined: not asked yet; null: not signed in
function setCsrf(value) {
  csrf = value || "";
  if (csrf) sessionStorage.setItem("objektif.csrf", csrf); else sessionStorage.removeItem("objektif.csrf");
}
/** JSON request to this service: `{status, body}`; status 0 when the network failed. Never throws. */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-Objektif-CSRF"] = csrf;
  let res;
  try {
    res = await fetch(path, { method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    return { status: 0, body: { error: "network", message: t("error_network") } };
  }
  const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (res.status === 401 && path !== "/api/session") { meCache = null; }
  return { status: res.status, body: data };
}
/** The signed-in person (GET /api/me, cached), or null. */
export async function me({ fresh = false } = {}) {
  if (meCache !== undefined && !fresh) return meCache;
  let res = await api("/api/me");
  // ADR 0007: when this tab's session ended (expired), sign in again by itself with the key: nothing is typed
  const again = sessionStorage.getItem("objektif.auto");
  if (res.status === 401 && again && res.body.error !== "session_revoked") {
    sessionStorage.removeItem("objektif.auto");
    if ((await signIn(again)).status === 200) res = await api("/api/me");
  }
  meCache = res.status === 200 ? res.body : null;
  if (meCache && meCache.csrf) setCsrf(meCache.csrf);
  return meCache;
}
export function forgetMe() { meCache = undefined; }
export async function signOut() {
  await api("/api/session/end", { method: "POST", body: {} });
  meCache = null; setCsrf("");
  sessionStorage.removeItem("objektif.auto");
}

// --- the browser key (WebCrypto Ed25519, not extractable, kept in IndexedDB per NIP) -------------------------------
const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
function db() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("objektif", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("keys");
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}
async function store(mode, work) {
  const conn = await db();
  try {
    return await new Promise((resolve, reject) => {
      const tx = conn.transaction("keys", mode);
      const req = work(tx.objectStore("keys"));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally { conn.close(); }
}
const loadKey = (nip) => store("readonly", (s) => s.get(String(nip)));
export async function hasKey(nip) { return Boolean(await loadKey(nip).catch(() => null)); }
/** A new key pair for `nip` (replacing this browser's old one) → `{publicKey: base64 raw 32 bytes}`. */
export async function ensureKey(nip, { replace = true } = {}) {
  let pair = replace ? null : await loadKey(nip);
  if (!pair) {
    if (!crypto.subtle) throw new Error(t("no_webcrypto"));
    try {
      pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    } catch (err) { throw new Error(t("no_webcrypto")); }
    await store("readwrite", (s) => s.put(pair, String(nip)));
  }
  return { publicKey: b64(await crypto.subtle.exportKey("raw", pair.publicKey)) };
}
/** Keep the key made under `from` (e.g. before the enrolment said whose it is) as `to`'s; `to` null drops it. */
export async function moveKey(from, to) {
  const pair = await loadKey(from);
  if (pair && to) await store("readwrite", (s) => s.put(pair, String(to)));
  await store("readwrite", (s) => s.delete(String(from)));
}
async function sign(nip, bytes) {
  const pair = await loadKey(nip);
  if (!pair) return null;
  return b64(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, bytes));
}

/** Sign in with this browser's key for `nip` → `{status, body}` (body.error `no_key` when there is none). */
export async function signIn(nip) {
  if (!(await hasKey(nip))) return { status: 0, body: { error: "no_key", message: t("no_key") } };
  const ch = await api("/api/session/challenge", { method: "POST", body: { nip } });
  if (ch.status !== 200) return ch;
  const message = `objektif-signin-v1\n${location.host}\n${nip}\n${ch.body.challenge}`;
  const signature = await sign(nip, new TextEncoder().encode(message));
  const res = await api("/api/session", { method: "POST", body: { nip, challenge: ch.body.challenge, signature } });
  if (res.status === 200) {
    setCsrf(res.body.csrf);
    localStorage.setItem("objektif.nip", nip);
    sessionStorage.setItem("objektif.auto", nip);
    meCache = undefined;
  }
  return res;
}

// --- personal data sealed before signing (UU PDP; ADR 0010, contracts/pdp.py) ------------------------------------
const utf8 = (text) => new TextEncoder().encode(text);
const joined = (...parts) => { const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0)); let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; } return out; };
const b64url = (bytes) => b64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
let personalFields = null;  // event type → its personal fields (contracts/pdp.py's one list), asked once per page
const dataKeys = new Map();  // NIP → {public_key, kid}: public, asked once per page
async function fieldsOf(type) {
  if (!personalFields) {
    const res = await api("/api/pdp/fields");
    if (res.status !== 200) return null;
    personalFields = res.body;
  }
  return personalFields[type] || [];
}
async function dataKey(nip) {
  if (!dataKeys.has(nip)) {
    const res = await api(`/api/pdp/keys/${encodeURIComponent(nip)}`);
    if (res.status !== 200) return null;
    dataKeys.set(nip, res.body);
  }
  return dataKeys.get(nip);
}
/** contracts/pdp.py `seal`: X25519 with a fresh key, HKDF-SHA256 (salt: both public keys), AES-256-GCM. */
export async function seal(text, key) {
  const recipient = Uint8Array.from(atob(key.public_key), (c) => c.charCodeAt(0));
  const eph = await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
  const ephPublic = new Uint8Array(await crypto.subtle.exportKey("raw", eph.publicKey));
  const theirs = await crypto.subtle.importKey("raw", recipient, { name: "X25519" }, false, []);
  const shared = await crypto.subtle.deriveBits({ name: "X25519", public: theirs }, eph.privateKey, 256);
  const hkdf = await crypto.subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  const aes = await crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: joined(ephPublic, recipient),
    info: utf8("objektif-pdp1") }, hkdf, { name: "AES-GCM", length: 256 }, false, ["encrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv,
    additionalData: utf8(`objektif-pdp1|${key.kid}`) }, aes, utf8(text)));
  return `pdp1:${key.kid}:${b64url(joined(ephPublic, iv, sealed))}`;
}
/** The payload with its personal fields sealed to the subject's data key; null when that key cannot be had. A
 * submission without personal text (a rating, an erasure) asks for no key. */
async function sealed(type, subject, payload) {
  const fields = await fieldsOf(type);
  if (fields === null) return null;
  const open = fields.filter((f) => typeof payload[f] === "string" && !payload[f].startsWith("pdp1:"));
  if (!open.length) return payload;
  const key = await dataKey(subject);
  if (!key) return null;
  const out = { ...payload };
  for (const f of open) out[f] = await seal(out[f], key);
  return out;
}

// --- signed submissions -------------------------------------------------------------------------------------------
/** docs/signing.md §2: sorted keys, no whitespace, strings as JSON.stringify writes them (= RFC 8785 here). */
export function canonical(value) {
  if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
  if (value && typeof value === "object") {
    return "{" + Object.keys(value).sort().filter((k) => value[k] !== undefined)
      .map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
  }
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new Error(`not an integer in a signed submission: ${value}`);
  }
  return JSON.stringify(value);
}
const failure = (code, message, extra) => ({ event_id: null, status: "error",
  reasons: [{ code, message_id: message, message_en: message, path: null }], answer: extra || null });
/**
 * Build, sign and send one envelope (contracts/envelope.py): `opts.period` is required; `opts.schema_version`
 * (1), `opts.supersedes`, `opts.correlation_id` optional. → `{event_id, status, reasons, answer}`; status `error`
 * (one reason) when it never reached the gate (no session, no key, network, 403/503).
 */
export async function submit(type, subject, payload, opts = {}) {
  const who = await me();
  if (!who) return failure("no_session", t("no_session"));
  if (!opts.period) throw new Error("submit: opts.period is required");
  payload = await sealed(type, String(subject), payload);  // sealed, then signed: the signature covers the ciphertext
  if (!payload) return failure("no_data_key", t("no_data_key"));
  const envelope = { event_id: crypto.randomUUID(), type, schema_version: opts.schema_version || 1,
    occurred_at: new Date().toISOString(), source: `nip:${who.nip}`, subject: String(subject),
    period: opts.period, payload };
  if (opts.supersedes) envelope.supersedes = opts.supersedes;
  if (opts.correlation_id) envelope.correlation_id = opts.correlation_id;
  const signature = await sign(who.nip, new TextEncoder().encode(canonical(envelope)));
  if (!signature) return failure("no_key", t("no_key"));
  envelope.signature = signature;
  const res = await api("/api/submissions", { method: "POST", body: envelope });
  const b = res.body || {};
  if (["accepted", "duplicate", "rejected"].includes(b.status)) {
    return { event_id: b.event_id || envelope.event_id, status: b.status, reasons: b.reasons || [],
      answer: b.answer ?? null, http: res.status };
  }
  return { ...failure(b.error || `http_${res.status}`, b.message || t("error"), b), event_id: envelope.event_id,
    http: res.status };
}

// --- the gate's answer and errors in words ------------------------------------------------------------------------
/** The gate's answer as an element: `answer` with `data-status`, one `answer-reason` (`data-code`) per reason. */
export function answerBox(answer) {
  const status = answer.status || "error";
  const ok = status === "accepted" || status === "duplicate";
  const reasons = answer.reasons || [];
  return h("div", { class: `answer ${ok ? "ok" : "bad"}`, "data-testid": "answer", "data-status": status,
    role: ok ? "status" : "alert" },
  h("strong", {}, t("answer_" + status)),
  reasons.length ? h("ul", {}, reasons.map((r) => h("li", { "data-testid": "answer-reason", "data-code": r.code },
    (current === "en" ? r.message_en : r.message_id) || r.message_id || r.code))) : null,
  ok ? null : h("p", { class: "muted" }, t("answer_kept")));
}
/** A failed read `{status, body}` as an `error` element. */
export function errorBox(res, what) {
  const b = res.body || {};
  return h("div", { class: "card error", role: "alert", "data-testid": "error", "data-code": b.error || "",
    "data-status": String(res.status) }, h("strong", {}, what || t("error")),
  h("p", {}, b.message || `HTTP ${res.status}`));
}

// --- keeping what was typed (sessionStorage) until accepted --------------------------------------------------------
const keyOf = (name) => `objektif.keep.${name}`;
export function keep(form, name) {
  const saved = JSON.parse(sessionStorage.getItem(keyOf(name)) || "{}");
  for (const el of form.elements) {
    if (!el.name || !(el.name in saved)) continue;
    if (el.type === "radio") el.checked = saved[el.name] === el.value;
    else if (el.type === "checkbox") el.checked = Boolean(saved[el.name]);
    else el.value = saved[el.name];
  }
  const save = () => {
    const data = {};
    for (const el of form.elements) {
      if (!el.name || el.type === "submit" || el.type === "button") continue;
      if (el.type === "radio") { if (el.checked) data[el.name] = el.value; } else if (el.type === "checkbox") data[el.name] = el.checked;
      else data[el.name] = el.value;
    }
    sessionStorage.setItem(keyOf(name), JSON.stringify(data));
  };
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  return form;
}
keep.clear = (name) => sessionStorage.removeItem(keyOf(name));

// --- routes -------------------------------------------------------------------------------------------------------
export const routes = new Map();
/** Register page `name` (the first part of `#/name/...`); `render(main, params)` is async and fills `main`. */
export function route(name, render) { routes.set(name, render); }
