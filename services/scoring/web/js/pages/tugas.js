// #/tugas: whom the structure asks me to rate (GET /api/tasks) and the BerAKHLAK form, one signed behaviour.rated
// per value (§1.4, §2.3).
import { addText, answerBox, api, errorBox, fmtDate, h, keep, me, route, submit, t } from "../core.js";

addText({
  tugas_title: ["Tugas penilaian perilaku", "Behaviour rating tasks"],
  tugas_intro: ["Nilai perilaku BerAKHLAK setiap orang di bawah ini. Penilaian rekan dan bawahan tidak ditampilkan kepada yang dinilai satu per satu.",
    "Rate the BerAKHLAK behaviour of each person below. Peer and subordinate answers are never shown one by one to the person rated."],
  tugas_period: ["Periode {period}", "Period {period}"],
  tugas_deadline: ["Batas waktu: {date}", "Deadline: {date}"],
  tugas_none: ["Tidak ada tugas penilaian untuk periode ini.", "No rating tasks for this period."],
  rel_atasan: ["Anda atasannya (Pejabat Penilai)", "You are the appraiser (superior)"],
  rel_rekan: ["Rekan kerja", "Colleague (peer)"],
  rel_bawahan: ["Atasan Anda (Anda bawahannya)", "Your superior (you are the subordinate)"],
  rel_diri: ["Diri sendiri", "Yourself"],
  task_done: ["Selesai: 7 dari 7 nilai", "Done: 7 of 7 values"],
  task_left: ["{done} dari {all} nilai sudah dinilai", "{done} of {all} values rated"],
  task_open: ["Nilai {name}", "Rate {name}"],
  task_open_done: ["Lihat {name}", "View {name}"],
  rate_title: ["Penilaian untuk {name}", "Rating for {name}"],
  rate_score_1: ["1 — Di bawah ekspektasi", "1 — Below expectations"],
  rate_score_2: ["2 — Sesuai ekspektasi", "2 — As expected"],
  rate_score_3: ["3 — Di atas ekspektasi", "3 — Above expectations"],
  rate_comment: ["Catatan untuk {value} (boleh kosong)", "Comment on {value} (optional)"],
  rate_already: ["Sudah dinilai.", "Already rated."],
  rate_indicators: ["Contoh perilaku:", "Behaviour indicators:"],
  rate_submit: ["Kirim penilaian (ditandatangani)", "Send the rating (signed)"],
  rate_choose: ["Pilih skor untuk setidaknya satu nilai.", "Choose a score for at least one value."],
  rate_sending: ["Mengirim dan menandatangani…", "Signing and sending…"],
  rate_all_done: ["Semua nilai untuk orang ini sudah dinilai.", "Every value for this person is rated."],
});

function taskItem(task, onOpen) {
  const all = task.values_done.length + task.values_left.length;
  return h("li", { class: "task card", "data-testid": "task", "data-nip": task.nip, "data-relation": task.relation,
    "data-done": String(Boolean(task.done)) },
  h("h2", {}, task.name || task.nip),
  h("p", {}, h("strong", {}, t(`rel_${task.relation}`)), task.jabatan ? ` · ${task.jabatan}` : ""),
  h("p", { class: task.done ? "ok-text" : "muted" },
    task.done ? t("task_done") : t("task_left", { done: task.values_done.length, all })),
  h("button", { type: "button", "data-testid": "task-open", "aria-expanded": "false",
    onclick: (ev) => onOpen(task, ev.currentTarget) }, t(task.done ? "task_open_done" : "task_open", { name: task.name || task.nip })));
}

function rateForm(data, task, after) {
  const who = data.who;
  const answers = h("div", { "aria-live": "polite" });
  const groups = data.values.map((v) => {
    const done = task.values_done.includes(v.value);
    return h("fieldset", { class: "value" }, h("legend", {}, v.label || v.value),
      (v.indicators || []).length ? h("div", { class: "muted" }, t("rate_indicators"),
        h("ul", {}, v.indicators.map((i) => h("li", {}, i)))) : null,
      done ? h("p", { class: "ok-text" }, t("rate_already")) : [
        h("div", { class: "scores" }, [1, 2, 3].map((n) => h("label", { class: "choice" },
          h("input", { type: "radio", name: `score-${v.value}`, value: String(n), "data-testid": `rate-${v.value}-${n}` }),
          " ", t(`rate_score_${n}`)))),
        h("label", { for: `rate-comment-${task.nip}-${v.value}` }, t("rate_comment", { value: v.label || v.value })),
        h("textarea", { id: `rate-comment-${task.nip}-${v.value}`, name: `comment-${v.value}`, rows: 2, maxlength: 2000,
          "data-testid": `rate-comment-${v.value}` })]);
  });
  const name = `rate-${data.period}-${task.nip}`;
  const button = h("button", { type: "submit", "data-testid": "rate-submit" }, t("rate_submit"));
  const form = h("form", { class: "card", "data-testid": "rate-form", "data-nip": task.nip, "aria-labelledby": `rate-h-${task.nip}`,
    onsubmit: async (ev) => {
      ev.preventDefault();
      const chosen = task.values_left.map((value) => [value, form.elements[`score-${value}`]])
        .filter(([, radios]) => radios && radios.value);
      if (!chosen.length) {
        answers.replaceChildren(answerBox({ status: "error", reasons: [{ code: "no_score", message_id: t("rate_choose"),
          message_en: t("rate_choose") }] }));
        return;
      }
      button.disabled = true;
      answers.replaceChildren(h("p", { class: "muted" }, t("rate_sending")));
      const boxes = [];
      let allOk = true;
      const accepted = [];
      for (const [value, radios] of chosen) {
        const comment = (form.elements[`comment-${value}`].value || "").trim();
        const payload = { rater_nip: who.nip, relation: task.relation, value, score: Number(radios.value) };
        if (comment) payload.feedback = comment;
        const answer = await submit("behaviour.rated", task.nip, payload, { period: data.period });
        allOk = allOk && answer.status !== "rejected" && answer.status !== "error";
        if (answer.status === "accepted" || answer.status === "duplicate") accepted.push(value);
        const label = (data.values.find((v) => v.value === value) || {}).label || value;
        boxes.push(h("div", { class: "per-value" }, h("h3", {}, label), answerBox(answer)));
      }
      button.disabled = false;
      if (allOk) keep.clear(name);
      answers.replaceChildren(...boxes);
      await after(answers, accepted);
    } },
  h("h2", { id: `rate-h-${task.nip}` }, t("rate_title", { name: task.name || task.nip })),
  h("p", {}, t(`rel_${task.relation}`)),
  groups, task.values_left.length ? button : h("p", {}, t("rate_all_done")), answers);
  keep(form, name);
  return form;
}

async function load(period) {
  return api(`/api/tasks${period ? `?period=${encodeURIComponent(period)}` : ""}`);
}

route("tugas", async (main, params) => {
  const who = await me();
  const period = params[0] || "";
  const res = await load(period);
  if (res.status !== 200) { main.replaceChildren(h("h1", {}, t("tugas_title")), errorBox(res)); return; }
  const data = { ...res.body, who };
  const list = h("ul", { class: "tasks plain-list", "data-testid": "tasks" });
  const slot = h("div", {});
  let openNip = null;
  const draw = () => {
    list.replaceChildren(...data.tasks.map((task) => taskItem(task, open)));
    for (const b of list.querySelectorAll("[data-testid=task-open]")) {
      b.setAttribute("aria-expanded", String(b.closest("[data-testid=task]").dataset.nip === openNip));
    }
  };
  const open = (task) => {
    openNip = task.nip;
    draw();
    const form = rateForm(data, task, async (answers, sent) => {
      // refresh what is done and left once the read model has the accepted ratings; the answers stay shown
      let again;
      for (let i = 0; i < 20; i++) {
        again = await load(data.period);
        const now = again.status === 200 && again.body.tasks.find((x) => x.nip === task.nip);
        if (!now || sent.every((v) => now.values_done.includes(v))) break;
        await new Promise((ok) => setTimeout(ok, 500));
      }
      if (again.status === 200) {
        Object.assign(data, again.body);
        draw();
        const fresh = data.tasks.find((x) => x.nip === task.nip);
        if (fresh) { const f = rateForm(data, fresh, async () => {}); f.append(answers); slot.replaceChildren(f); }
      }
    });
    slot.replaceChildren(form);
    form.querySelector("h2").setAttribute("tabindex", "-1");
    form.querySelector("h2").focus();
  };
  draw();
  main.replaceChildren(h("h1", {}, t("tugas_title")),
    h("p", {}, t("tugas_period", { period: data.period }), data.deadline ? ` · ${t("tugas_deadline", { date: fmtDate(data.deadline) })}` : ""),
    h("p", { class: "muted" }, t("tugas_intro")),
    data.tasks.length ? list : h("p", { "data-testid": "tasks" }, t("tugas_none")), slot);
});
