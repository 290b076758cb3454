// #/unit/<id>/<P>: the unit's predicate distribution against the curve (§1.6, §1.7), ported from app.js.
import { api, errorBox, h, kv, me, route, t } from "../core.js";
import { PREDIKAT, badge } from "../appraisal.js";

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

async function renderUnit(main, unitId, period) {
  const res = await api(`/api/units/${encodeURIComponent(unitId)}/${encodeURIComponent(period)}`);
  if (res.status !== 200) { main.replaceChildren(h("h1", {}, t("unit_title")), errorBox(res)); return; }
  const u = res.body, who = await me();
  const k = u.kurva || {};
  const verdict = !k.checked ? t("curve_unchecked") : k.verdict === "ok" ? t("curve_ok")
    : k.verdict === "block" ? t("curve_block") : t("curve_warn");
  const download = async (fmt) => {
    const got = await fetch(`/api/units/${encodeURIComponent(unitId)}/${encodeURIComponent(period)}/export.${fmt}`,
      { credentials: "same-origin" }).catch(() => null);
    if (!got || !got.ok) {
      main.prepend(errorBox({ status: got ? got.status : 0, body: got ? await got.json().catch(() => ({})) : {} }));
      return;
    }
    const a = h("a", { href: URL.createObjectURL(await got.blob()), download: `objektif-${unitId}-${period}.${fmt}` });
    document.body.append(a); a.click(); a.remove();
  };
  const exports = who && who.role !== "employee" ? h("p", {}, t("export"), ": ",
    h("button", { type: "button", class: "link", onclick: () => download("csv") }, "CSV"), " ",
    h("button", { type: "button", class: "link", onclick: () => download("xlsx") }, "XLSX"),
    // docs/siasn.md: a quarter's final results as SIASN kinerjaPeriodik records
    /-Q[1-4]$/.test(period) ? [" ", h("button", { type: "button", class: "link", "data-testid": "export-siasn",
      onclick: () => download("siasn.json") }, "SIASN (JSON)")] : null) : null;
  const members = u.members.length ? h("table", { "data-testid": "unit-members" }, h("thead", {}, h("tr", {},
    h("th", {}, "NIP"), h("th", {}, t("name")), h("th", {}, t("hasil_kerja")), h("th", {}, t("perilaku")),
    h("th", {}, t("predikat")))), h("tbody", {}, u.members.map((m) => h("tr", {},
    h("td", {}, h("a", { href: `#/appraisal/${m.nip}/${u.period}` }, m.nip)), h("td", {}, m.name || "—"),
    h("td", {}, m.rating_hasil_kerja || "—"), h("td", {}, m.rating_perilaku || "—"), h("td", {}, badge(m.predikat)))))) : null;
  main.replaceChildren(h("h1", {}, t("unit_title"), ": ", u.unit_name || u.unit_id),
  h("div", { class: "card", "data-testid": "unit" },
    kv([[t("unit"), u.unit_id], [t("period"), u.period], [t("org_predicate"), u.org_predicate],
      [t("curve"), h("span", { "data-testid": "curve-verdict", "data-verdict": k.verdict }, verdict)]]),
    h("div", { class: "chart" }, chart(u)),
    u.curve_rules.length ? h("ul", { class: "plain" }, u.curve_rules.map((r) => h("li", {}, ruleText(r)))) : null,
    (k.violations || []).length ? h("ul", { class: "plain violations" }, k.violations.map((v) => h("li", {}, v.message))) : null,
    exports),
  members ? h("div", { class: "card" }, h("h2", {}, t("members")), h("div", { class: "scroll", tabindex: 0 }, members)) : "");
}

route("unit", async (main, params) => {
  if (params.length < 2) {
    main.replaceChildren(errorBox({ status: 404, body: { error: "not_found", message: "#/unit/<unit>/<periode>" } }));
    return;
  }
  await renderUnit(main, params[0], params[1]);
});

