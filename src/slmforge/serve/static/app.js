// slmforge playground: plain JS, no dependencies, works offline. Loaded after api.js (request helper) and
// hints.js (hints in the kit's language), before qa.js (the question–answer chat). Talks to the same server's
// /v1/models, /v1/kit (tasks with their mode, field schema, catalog, length unit, CTA cues), /v1/copy (drafts
// checked against the kit), /v1/legal/ask (qa.js) and /v1/chat/completions (free chat), streaming where it can.
// The page adapts to the kit's task families: a copy task (mode "form") gets the subject + value form and
// drafts with check badges; a question–answer task (mode "chat") gets a chat with history. Picking a task of the
// other kind switches panels. UI chrome is English; hints about the kit's content are in the kit's language.
"use strict";

let KIT = null;
const CHAT = { history: [] };  // the free chat's conversation, sent with every request: {role, content}
const LAST = { form: null, chat: null };  // the task last picked of each mode (what its tab returns to)

const taskById = (id) => KIT.tasks.find((t) => t.id === id);
const tasksOf = (mode) => KIT.tasks.filter((t) => (t.mode || "form") === mode);

// The kit's tasks as options, grouped by mode when the kit has both kinds.
function taskOptions() {
  const option = (t) => el("option", { value: t.id, text: t.id + " (" + t.family + ")" });
  const form = tasksOf("form"), chat = tasksOf("chat");
  if (!form.length || !chat.length) return KIT.tasks.map(option);
  return [el("optgroup", { label: "copy: form" }, ...form.map(option)), el("optgroup", { label: "Q&A: chat" }, ...chat.map(option))];
}

// ---- loading ---------------------------------------------------------------------------------------
async function load() {
  let ids;
  try {
    ids = (await api("/v1/models")).data.map((m) => m.id);
  } catch (e) { status(e.message, true); return; }
  $("chat-model").replaceChildren(...ids.map((m) => el("option", { value: m, text: m })));
  $("chat-model").value = ids[ids.length - 1];
  try {
    KIT = await api("/v1/kit");
  } catch (e) {
    if (e.code === "no_kit") {
      for (const m of ["copy", "qa"]) $("mode-" + m).disabled = true;
      setMode("chat");
      status("ready: chat (this server has no kit, so no copy mode)");
      KIT = { models: ids, language: "en", tasks: [], fields: [], catalog: [] };
    } else status(e.message, true);
    return;
  }
  document.documentElement.lang = KIT.language;
  $("brand").textContent = "— " + KIT.brand + " (" + KIT.language + ")";
  for (const sel of [$("model-a"), $("model-b"), $("qa-model")]) {
    sel.replaceChildren(...KIT.models.map((m) => el("option", { value: m, text: m })));
    sel.value = KIT.models[KIT.models.length - 1];
  }
  $("model-b").value = KIT.models[0];
  for (const sel of [$("task"), $("qa-task")]) sel.replaceChildren(...taskOptions());
  const catalog = $("catalog");
  catalog.replaceChildren(catalog.options[0], ...KIT.catalog.map((c) => el("option", { value: c.id, text: c.id })));
  $("fields").replaceChildren(...KIT.fields.map((f) => {
    const input = el("input", { name: f.name, id: "field-" + f.name, "data-type": f.type });
    if (f.type === "int" || f.type === "float") input.type = "number";
    const label = el("label", { for: "field-" + f.name }, el("span", { class: f.required ? "req" : "", text: f.name }), input);
    const hint = [f.description || "", f.type === "list" ? hints(KIT).separate(f.separator) : ""].filter(Boolean).join(" ");
    if (hint) label.append(el("span", { class: "hint", text: hint }));
    return label;
  }));
  $("value").placeholder = hints(KIT).valuePlaceholder;
  $("value-row").hidden = !KIT.value_field;
  qaLoad();
  $("mode-copy").hidden = !tasksOf("form").length;
  $("mode-qa").hidden = !tasksOf("chat").length;
  pickTask(KIT.tasks[0].id);
  const kinds = [tasksOf("form").length && "copy form", tasksOf("chat").length && "Q&A chat"].filter(Boolean).join(" + ");
  status("ready: " + KIT.catalog.length + " catalog entries, " + KIT.tasks.length + " tasks (" + kinds + ")");
}

// Select task `id` in both task pickers and show the panel of its mode: the form or the Q&A chat.
function pickTask(id) {
  const t = taskById(id);
  LAST[t.mode] = id;
  $("task").value = id;
  $("qa-task").value = id;
  if (t.mode === "chat") {
    showQaTask();
    setMode("qa");
  } else {
    showTask();
    setMode("copy");
  }
}

const currentTask = () => taskById($("task").value);

function showTask() {
  const t = currentTask();
  $("task-info").textContent = [t.description || "", constraintText(KIT, t)].filter(Boolean).join(" ");
  $("task-punct").textContent = punctuationText(KIT, t);
  const d = defaultMaxTokens(KIT, t);
  $("max-tokens").value = d.tokens;
  $("max-tokens-hint").textContent = d.hint;
}

function fillFromCatalog() {
  const entry = KIT.catalog.find((c) => c.id === $("catalog").value);
  for (const f of KIT.fields) {
    const v = entry ? entry.fields[f.name] : "";
    $("field-" + f.name).value = Array.isArray(v) ? v.join(f.separator) : (v === null || v === undefined ? "" : v);
  }
  fillValues();
}

// The value picker offers the subject's own values (the kit's value field, as typed in the form).
function fillValues() {
  if (!KIT.value_field) return;
  const f = KIT.fields.find((x) => x.name === KIT.value_field);
  const items = $("field-" + f.name).value.split(f.separator).map((v) => v.trim()).filter(Boolean);
  $("value-options").replaceChildren(...items.map((v) => el("option", { value: v })));
  if ($("value").value && !items.includes($("value").value)) $("value").value = "";
}

function subjectFromForm() {
  const subject = {};
  for (const f of KIT.fields) {
    const raw = $("field-" + f.name).value.trim();
    if (raw !== "") subject[f.name] = raw;
  }
  return subject;
}

// What is wrong with the form before anything is sent (null when it can be sent).
function formProblem(subject, body) {
  if (!KIT || !KIT.tasks.length) return "the kit has not loaded yet";
  if (!Object.keys(subject).length) return "the subject is empty: pick a catalog entry or fill in its fields";
  const missing = KIT.fields.filter((f) => f.required && !(f.name in subject)).map((f) => f.name);
  if (missing.length) return "fill in the required subject fields: " + missing.join(", ") + " (or pick a catalog entry)";
  if (!Number.isInteger(body.n) || body.n < 1) return "Drafts must be a whole number of at least 1";
  if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) return "Max tokens must be a whole number of at least 1";
  if (!(body.temperature >= 0 && body.temperature <= 2)) return "Temperature must be between 0 and 2";
  if ("seed" in body && !Number.isSafeInteger(body.seed)) return "Seed must be a whole number (or empty for a random draw)";
  return null;
}

// ---- check badges (drafts here, answers in qa.js) ------------------------------------------------------------
// Text with findings highlighted by their character offsets (non-overlapping, first wins).
// Offsets count UTF-16 code units in JS and code points in Python; Array.from keeps them aligned.
function highlighted(text, findings) {
  const chars = Array.from(text);
  const spans = findings.filter((f) => f.start !== null && f.end !== null && f.end > f.start)
    .sort((a, b) => a.start - b.start);
  const out = [];
  let pos = 0;
  for (const f of spans) {
    if (f.start < pos || f.start >= chars.length) continue;
    out.push(chars.slice(pos, f.start).join(""));
    out.push(el("mark", { class: "finding " + f.severity, title: f.check + ": " + f.message, "data-check": f.check },
      chars.slice(f.start, f.end).join("")));
    pos = f.end;
  }
  out.push(chars.slice(pos).join(""));
  return out;
}

const MARK = { pass: "✓ ", warn: "⚠ ", fail: "✗ " };
const SEVERITY_MARK = { error: "✗", warning: "⚠", info: "ℹ" };

// A check's badge agrees with its findings: ✗ failed, ⚠ passed with warnings (or errors), ✓ only when the
// check found nothing but information (e.g. the call to action it recognised).
function badgeState(result, findings) {
  if (!result.passed) return "fail";
  return findings.some((f) => f.severity !== "info") ? "warn" : "pass";
}

// One badge per check of a report; the cta badge names the call to action the check found in `text`.
function checkBadges(report, text) {
  return Object.entries(report.checks).map(([name, r]) => {
    const own = report.findings.filter((f) => f.check === name);
    const state = badgeState(r, own);
    const counts = own.filter((f) => f.severity !== "info").length;
    const badge = el("span", { class: "badge check " + state, "data-check": name, "data-state": state,
      title: "score " + r.score + (counts ? " · " + counts + " finding(s)" : ""), text: MARK[state] + name });
    const cta = own.find((f) => f.code === "cta" && f.start !== null && f.end !== null);
    if (name === "cta" && cta && text) {
      const found = Array.from(text).slice(cta.start, cta.end).join("");
      badge.setAttribute("data-cta", found);  // shown after the name by style.css
      badge.title += " · " + found;
    }
    return badge;
  });
}

// The text's length as the constraints check counted it (its details), in the kit's unit, against the task's range.
function lengthBadge(report, text, task) {
  const details = report && report.checks.constraints && report.checks.constraints.details;
  const chars = details && Number.isInteger(details.chars) ? details.chars : graphemes(text);
  const info = lengthInfo(KIT, task, chars);
  return el("span", { class: "len " + info.state, "data-chars": String(chars), text: info.text });
}

function findingsList(report) {
  return el("ul", { class: "findings" }, ...report.findings.map((f) => el("li",
    { class: f.severity, "data-check": f.check, text: (SEVERITY_MARK[f.severity] || "") + " " + f.check + " · " + f.message })));
}

// ---- copy mode ---------------------------------------------------------------------------------------
function draftCard(index) {
  const text = el("div", { class: "text streaming" });
  return el("article", { class: "draft", "data-index": index }, el("div", { class: "meta", text: "draft " + (index + 1) }), text);
}

function renderDraft(card, d) {
  card.className = "draft " + d.status;
  const badges = el("div", { class: "badges" },
    el("span", { class: "badge status " + (d.status === "passed" ? "pass" : "fail"), text: d.status }),
    ...checkBadges(d.report, d.text));
  const copyBtn = el("button", { type: "button", class: "copy", text: "Copy" });
  copyBtn.disabled = d.text === null;
  copyBtn.onclick = async () => {
    try { await navigator.clipboard.writeText(d.text); copyBtn.textContent = "Copied"; }
    catch (e) { copyBtn.textContent = "Select + Ctrl-C"; }
  };
  const meta = el("div", { class: "meta" }, el("span", { text: "draft " + (d.index + 1) + " · score " + d.report.score +
    " · " + d.attempts + (d.attempts > 1 ? " attempts" : " attempt") }));
  if (d.text !== null) meta.append(lengthBadge(d.report, d.text, currentTask()));
  meta.append(copyBtn);
  const text = el("div", { class: "text" }, ...(d.text === null
    ? [el("em", { text: "withheld: failed " + d.failed_checks.join(", ") })]
    : highlighted(d.text, d.report.findings)));
  card.replaceChildren(meta, badges, text, findingsList(d.report));
}

async function runColumn(column, model, body) {
  const cards = {};
  const summary = el("div", { class: "summary", text: "generating…" });
  column.replaceChildren(el("h2", { text: model }), summary);
  const card = (i) => {
    if (!cards[i]) { cards[i] = draftCard(i); column.append(cards[i]); }
    return cards[i];
  };
  try {
    const r = await request("/v1/copy", { ...body, model, stream: true }, 600000);
    if (!r.ok) throw new Error(await errorText(r));
    let finished = false;
    await readEvents(r, (ev) => {
      if (ev.type === "delta" || ev.type === "retry") {
        const c = card(ev.index), t = c.querySelector(".text"), meta = c.querySelector(".meta");
        if (ev.type === "retry") {
          t.textContent = "";
          meta.textContent = "draft " + (ev.index + 1) + " · retrying (failed " + ev.failed_checks.join(", ") + ")";
        } else {
          t.textContent += ev.text;
          meta.textContent = "draft " + (ev.index + 1) + " · " + lengthInfo(KIT, taskById(body.task), graphemes(t.textContent)).text;
        }
      } else if (ev.type === "draft") {
        renderDraft(card(ev.index), ev.draft);
      } else if (ev.type === "done") {
        const s = ev.response.summary;
        finished = true;
        summary.textContent = s.passed + " passed · " + s.flagged + " flagged · " + s.blocked + " blocked · " +
          s.regenerations + " regenerations · " + s.latency_s + " s";
      } else if (ev.type === "error" || ev.error) {
        throw new Error((ev.error && ev.error.message) || "generation failed");
      }
    });
    if (!finished) throw new Error("the server closed the stream before the drafts were done");
  } catch (e) {
    summary.textContent = "error: " + e.message;
    summary.classList.add("error");
    for (const t of column.querySelectorAll(".text.streaming")) t.classList.remove("streaming");
    throw e;
  }
}

async function generate(event) {
  event.preventDefault();
  const subject = KIT ? subjectFromForm() : {};
  const body = {
    task: $("task").value, subject, n: Number($("n").value),
    temperature: Number($("temperature").value), max_tokens: Number($("max-tokens").value), guard: $("guard").value,
  };
  const value = $("value").value.trim();
  if (value && KIT.value_field) body.value = value;
  if ($("seed").value.trim() !== "") body.seed = Number($("seed").value);  // the same seed draws the same drafts
  const problem = formProblem(subject, body);
  if (problem) {
    $("results").replaceChildren(el("p", { class: "form-error", text: problem }));
    status(problem, true);
    return;
  }
  const models = [$("model-a").value];
  if ($("compare").checked) models.push($("model-b").value);
  const columns = models.map((m) => el("div", { class: "column", "data-model": m }));
  $("results").replaceChildren(...columns);
  $("generate").disabled = true;
  status("generating…");
  try {
    // One model after the other: the server generates one request at a time anyway.
    for (let i = 0; i < models.length; i++) await runColumn(columns[i], models[i], body);
    status("done");
  } catch (e) {
    status(e.message, true);
  } finally {
    $("generate").disabled = false;
  }
}

// ---- free chat mode ------------------------------------------------------------------------------------
function chatMessage(log, role, text) {
  const node = el("div", { class: "msg " + role, "data-role": role }, el("div", { class: "who", text: role }),
    el("div", { class: "text", text }));
  log.append(node);
  node.scrollIntoView({ block: "end" });
  return node;
}

async function sendChat(event) {
  event.preventDefault();
  const text = $("chat-input").value.trim();
  const maxTokens = Number($("chat-max-tokens").value);
  const temperature = Number($("chat-temperature").value);
  let problem = null;
  if (!text) problem = "type a message first";
  else if (!$("chat-model").value) problem = "no model to chat with (the model list has not loaded)";
  else if (!Number.isInteger(maxTokens) || maxTokens < 1) problem = "Max tokens must be a whole number of at least 1";
  else if (!(temperature >= 0 && temperature <= 2)) problem = "Temperature must be between 0 and 2";
  if (problem) { status(problem, true); return; }
  const user = { role: "user", content: text };
  const system = $("chat-system").value.trim();
  const messages = [...(system ? [{ role: "system", content: system }] : []), ...CHAT.history, user];
  chatMessage($("chat-log"), "user", text);
  const reply = chatMessage($("chat-log"), "assistant", "");
  const out = reply.querySelector(".text");
  out.classList.add("streaming");
  $("chat-input").value = "";
  $("chat-send").disabled = true;
  status("generating…");
  try {
    const r = await request("/v1/chat/completions", { model: $("chat-model").value, messages, stream: true,
      temperature, max_tokens: maxTokens }, 600000);
    if (!r.ok) throw new Error(await errorText(r));
    let answer = "";
    const done = await readEvents(r, (ev) => {
      if (ev.error) throw new Error(ev.error.message || "generation failed");
      const choice = ev.choices && ev.choices[0];
      if (choice && choice.delta && choice.delta.content) { answer += choice.delta.content; out.textContent = answer; }
    });
    if (!done) throw new Error("the server closed the stream before the reply was done");
    if (!answer) out.append(el("em", { text: "(empty reply)" }));
    CHAT.history.push(user, { role: "assistant", content: answer });
    status("done");
  } catch (e) {
    reply.classList.add("error");
    out.textContent = "error: " + e.message;
    $("chat-input").value = text;  // not in the history: edit and send again
    status(e.message, true);
  } finally {
    out.classList.remove("streaming");
    $("chat-send").disabled = false;
  }
}

function clearChat() {
  CHAT.history = [];
  $("chat-log").replaceChildren();
  status("new chat");
}

// Show one panel: copy (the form), qa (the question–answer chat) or chat (free chat with any model).
function setMode(mode) {
  for (const m of ["copy", "qa", "chat"]) {
    $(m + "-panel").hidden = m !== mode;
    $("mode-" + m).classList.toggle("active", m === mode);
    $("mode-" + m).setAttribute("aria-selected", String(m === mode));
  }
}

// A tab click: the copy and Q&A tabs return to the task of their kind picked last, else take the first one.
function openTab(mode) {
  if (mode === "chat" || !KIT || !KIT.tasks.length) { setMode(mode); return; }
  const want = mode === "qa" ? "chat" : "form";
  pickTask(LAST[want] || tasksOf(want)[0].id);
}

window.addEventListener("DOMContentLoaded", () => {
  $("api-key").value = localStorage.getItem("slmforge-api-key") || "";
  $("api-key").addEventListener("change", () => {
    localStorage.setItem("slmforge-api-key", $("api-key").value);
    if (!KIT) load();  // the key only matters until the kit has loaded; later calls read it each time
  });
  $("task").addEventListener("change", () => pickTask($("task").value));
  $("qa-task").addEventListener("change", () => pickTask($("qa-task").value));
  $("catalog").addEventListener("change", fillFromCatalog);
  $("compare").addEventListener("change", () => { $("model-b").disabled = !$("compare").checked; });
  $("form").addEventListener("submit", generate);
  $("fields").addEventListener("change", fillValues);
  for (const m of ["copy", "qa", "chat"]) $("mode-" + m).addEventListener("click", () => openTab(m));
  $("chat-form").addEventListener("submit", sendChat);
  $("chat-clear").addEventListener("click", clearChat);
  $("chat-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("chat-form").requestSubmit(); }
  });
  load();
});
