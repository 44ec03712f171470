// slmforge playground: plain JS, no dependencies, works offline. Talks to the same server's
// /v1/models, /v1/kit (tasks, field schema, catalog), /v1/copy (drafts checked against the kit) and
// /v1/chat/completions (chat mode), all with stream: true (server-sent events).
// UI chrome is English; hints about the kit's content (field hints, constraints, the max-tokens
// estimate) are written in the kit's language.
"use strict";

const $ = (id) => document.getElementById(id);
let KIT = null;
const CHAT = { history: [] };  // the conversation sent with every chat request: {role, content}

// Rough characters per token of each language in the tokenizers small models ship with (English BPE
// ≈ 4 characters a token; Chinese, Japanese, Korean ≈ 1.5); other languages: 3.
const CHARS_PER_TOKEN = { en: 4, zh: 1.5, ja: 1.5, ko: 1.5 };
const TOKEN_HEADROOM = 1.3;  // 30 % over the estimate: a cut-off draft is worse than one the length check flags
const NO_LIMIT_TOKENS = 256;  // tasks without max_chars

const HINTS = {
  en: {
    separate: (s) => "(separate with " + s + ")",
    constraints: "Constraints: ",
    join: "; ",
    c: {
      min_chars: (n) => "at least " + n + " characters", max_chars: (n) => "at most " + n + " characters",
      min_lines: (n) => "at least " + n + " lines", max_lines: (n) => "at most " + n + " lines",
      cta_required: (v) => v ? "a call to action" : "", emoji_allowed: (v) => v ? "" : "no emoji",
      hashtags_min: (n) => "at least " + n + " hashtags",
      hashtags_max: (n) => n === 0 ? "no hashtags" : "at most " + n + " hashtags",
      newlines_allowed: (v) => v ? "" : "one line", forbidden_chars: (v) => "never " + v.join(" "),
      forbid_markdown_headings: (v) => v ? "no markdown headings" : "",
    },
    tokens: (t, chars, cpt) => "≈ " + t + " tokens: " + chars + " characters at ~" + cpt + " characters a token, +30 %",
    noLimit: (t) => "no length limit in this task: " + t + " tokens",
  },
  zh: {
    separate: (s) => "（用 " + s + " 分隔）",
    constraints: "要求：",
    join: "；",
    c: {
      min_chars: (n) => "至少" + n + "字", max_chars: (n) => "不超过" + n + "字",
      min_lines: (n) => "至少" + n + "行", max_lines: (n) => "最多" + n + "行",
      cta_required: (v) => v ? "需要行动号召" : "", emoji_allowed: (v) => v ? "" : "不用表情符号",
      hashtags_min: (n) => "至少" + n + "个话题标签",
      hashtags_max: (n) => n === 0 ? "不用话题标签" : "最多" + n + "个话题标签",
      newlines_allowed: (v) => v ? "" : "不换行", forbidden_chars: (v) => "不用 " + v.join(" "),
      forbid_markdown_headings: (v) => v ? "不用 Markdown 标题" : "",
    },
    tokens: (t, chars, cpt) => "约 " + t + " 个 token：" + chars + " 字，按每个 token 约 " + cpt + " 字估算，另留 30% 余量",
    noLimit: (t) => "此任务没有字数上限：" + t + " 个 token",
  },
  ja: {
    separate: (s) => "（" + s + " で区切る）",
    constraints: "条件：",
    join: "、",
    c: {
      min_chars: (n) => n + "文字以上", max_chars: (n) => n + "文字以内",
      min_lines: (n) => n + "行以上", max_lines: (n) => n + "行以内",
      cta_required: (v) => v ? "行動喚起を入れる" : "", emoji_allowed: (v) => v ? "" : "絵文字なし",
      hashtags_min: (n) => "ハッシュタグ" + n + "個以上",
      hashtags_max: (n) => n === 0 ? "ハッシュタグなし" : "ハッシュタグ" + n + "個まで",
      newlines_allowed: (v) => v ? "" : "改行なし", forbidden_chars: (v) => "使わない文字 " + v.join(" "),
      forbid_markdown_headings: (v) => v ? "見出しなし" : "",
    },
    tokens: (t, chars, cpt) => "約" + t + "トークン：" + chars + "文字、1トークン約" + cpt + "文字で見積もり、30%の余裕込み",
    noLimit: (t) => "このタスクには文字数の上限がありません：" + t + "トークン",
  },
  ko: {
    separate: (s) => "(" + s + " 로 구분)",
    constraints: "조건: ",
    join: ", ",
    c: {
      min_chars: (n) => n + "자 이상", max_chars: (n) => n + "자 이내",
      min_lines: (n) => n + "줄 이상", max_lines: (n) => n + "줄 이내",
      cta_required: (v) => v ? "행동 유도 문구 필요" : "", emoji_allowed: (v) => v ? "" : "이모지 없음",
      hashtags_min: (n) => "해시태그 " + n + "개 이상",
      hashtags_max: (n) => n === 0 ? "해시태그 없음" : "해시태그 " + n + "개 이하",
      newlines_allowed: (v) => v ? "" : "줄바꿈 없음", forbidden_chars: (v) => "쓰지 않는 문자 " + v.join(" "),
      forbid_markdown_headings: (v) => v ? "마크다운 제목 없음" : "",
    },
    tokens: (t, chars, cpt) => "약 " + t + "토큰: " + chars + "자, 토큰당 약 " + cpt + "자로 추정, 여유 30% 포함",
    noLimit: (t) => "이 작업에는 글자 수 상한이 없어요: " + t + "토큰",
  },
};

function lang() {
  return ((KIT && KIT.language) || "en").split("-")[0].toLowerCase();
}

function hints() {
  return HINTS[lang()] || HINTS.en;
}

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

function status(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

async function errorText(r) {
  const body = await r.json().catch(() => ({}));
  return (body.error && body.error.message) || ("HTTP " + r.status);
}

// Read a server-sent-event response, calling onEvent with each JSON event; true when [DONE] arrived.
async function readEvents(r, onEvent) {
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const line = buffer.slice(0, cut).trim();
      buffer = buffer.slice(cut + 2);
      if (line === "data: [DONE]") return true;
      if (line.startsWith("data: ")) onEvent(JSON.parse(line.slice(6)));
    }
  }
}

// ---- loading ---------------------------------------------------------------------------------------
async function load() {
  const models = await fetch("/v1/models", { headers: headers() });
  if (!models.ok) { status(await errorText(models), true); return; }
  const ids = (await models.json()).data.map((m) => m.id);
  $("chat-model").replaceChildren(...ids.map((m) => el("option", { value: m, text: m })));
  $("chat-model").value = ids[ids.length - 1];
  const r = await fetch("/v1/kit", { headers: headers() });
  if (!r.ok) {
    const body = await r.json().catch(() => ({}));
    if (body.error && body.error.code === "no_kit") {
      $("mode-copy").disabled = true;
      setMode("chat");
      status("ready: chat (this server has no kit, so no copy mode)");
      KIT = { models: ids, language: "en", tasks: [], fields: [], catalog: [] };
      return;
    }
    status((body.error && body.error.message) || ("HTTP " + r.status), true);
    return;
  }
  KIT = await r.json();
  document.documentElement.lang = KIT.language;
  $("brand").textContent = "— " + KIT.brand + " (" + KIT.language + ")";
  for (const sel of [$("model-a"), $("model-b")]) {
    sel.replaceChildren(...KIT.models.map((m) => el("option", { value: m, text: m })));
  }
  $("model-a").value = KIT.models[KIT.models.length - 1];
  $("task").replaceChildren(...KIT.tasks.map((t) => el("option", { value: t.id, text: t.id + " (" + t.family + ")" })));
  const catalog = $("catalog");
  catalog.replaceChildren(catalog.options[0], ...KIT.catalog.map((c) => el("option", { value: c.id, text: c.id })));
  $("fields").replaceChildren(...KIT.fields.map((f) => {
    const input = el("input", { name: f.name, id: "field-" + f.name, "data-type": f.type });
    if (f.type === "int" || f.type === "float") input.type = "number";
    const label = el("label", { for: "field-" + f.name }, el("span", { class: f.required ? "req" : "", text: f.name }), input);
    const hint = [f.description || "", f.type === "list" ? hints().separate(f.separator) : ""].filter(Boolean).join(" ");
    if (hint) label.append(el("span", { class: "hint", text: hint }));
    return label;
  }));
  showTask();
  status("ready: " + KIT.catalog.length + " catalog entries, " + KIT.tasks.length + " tasks");
}

function currentTask() {
  return KIT.tasks.find((x) => x.id === $("task").value);
}

function constraintText(constraints) {
  const h = hints();
  const parts = Object.entries(constraints).map(([k, v]) => (h.c[k] ? h.c[k](v) : k + "=" + v)).filter(Boolean);
  return parts.length ? h.constraints + parts.join(h.join) : "";
}

// Default max tokens of a task: its max_chars at the language's characters per token, with headroom.
function defaultMaxTokens(task) {
  const cpt = CHARS_PER_TOKEN[lang()] || 3;
  const chars = task.constraints.max_chars;
  if (!chars) return { tokens: NO_LIMIT_TOKENS, hint: hints().noLimit(NO_LIMIT_TOKENS) };
  const tokens = Math.min(2048, Math.max(16, Math.ceil((chars / cpt) * TOKEN_HEADROOM)));
  return { tokens, hint: hints().tokens(tokens, chars, cpt) };
}

function showTask() {
  const t = currentTask();
  $("task-info").textContent = [t.description || "", constraintText(t.constraints)].filter(Boolean).join(" ");
  const d = defaultMaxTokens(t);
  $("max-tokens").value = d.tokens;
  $("max-tokens-hint").textContent = d.hint;
}

function fillFromCatalog() {
  const entry = KIT.catalog.find((c) => c.id === $("catalog").value);
  for (const f of KIT.fields) {
    const v = entry ? entry.fields[f.name] : "";
    $("field-" + f.name).value = Array.isArray(v) ? v.join(f.separator) : (v === null || v === undefined ? "" : v);
  }
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
  return null;
}

// ---- copy mode ---------------------------------------------------------------------------------------
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

function draftCard(index) {
  const text = el("div", { class: "text streaming" });
  return el("article", { class: "draft", "data-index": index }, el("div", { class: "meta", text: "draft " + (index + 1) }), text);
}

const MARK = { pass: "✓ ", warn: "⚠ ", fail: "✗ " };
const SEVERITY_MARK = { error: "✗", warning: "⚠", info: "ℹ" };

// A check's badge agrees with its findings: ✗ failed, ⚠ passed with warnings (or errors), ✓ only when the
// check found nothing but information (e.g. the call to action it recognised).
function badgeState(result, findings) {
  if (!result.passed) return "fail";
  return findings.some((f) => f.severity !== "info") ? "warn" : "pass";
}

function renderDraft(card, d) {
  card.className = "draft " + d.status;
  const badges = el("div", { class: "badges" },
    el("span", { class: "badge status " + (d.status === "passed" ? "pass" : "fail"), text: d.status }));
  for (const [name, r] of Object.entries(d.report.checks)) {
    const own = d.report.findings.filter((f) => f.check === name);
    const state = badgeState(r, own);
    const counts = own.filter((f) => f.severity !== "info").length;
    badges.append(el("span", { class: "badge check " + state, "data-check": name, "data-state": state,
      title: "score " + r.score + (counts ? " · " + counts + " finding(s)" : ""), text: MARK[state] + name }));
  }
  const copyBtn = el("button", { type: "button", class: "copy", text: "Copy" });
  copyBtn.disabled = d.text === null;
  copyBtn.onclick = async () => {
    try { await navigator.clipboard.writeText(d.text); copyBtn.textContent = "Copied"; }
    catch (e) { copyBtn.textContent = "Select + Ctrl-C"; }
  };
  const meta = el("div", { class: "meta" }, el("span", { text: "draft " + (d.index + 1) + " · score " + d.report.score +
    " · " + d.attempts + (d.attempts > 1 ? " attempts" : " attempt") }), copyBtn);
  const text = el("div", { class: "text" }, ...(d.text === null
    ? [el("em", { text: "withheld: failed " + d.failed_checks.join(", ") })]
    : highlighted(d.text, d.report.findings)));
  const list = el("ul", { class: "findings" }, ...d.report.findings.map((f) => el("li",
    { class: f.severity, "data-check": f.check, text: (SEVERITY_MARK[f.severity] || "") + " " + f.check + " · " + f.message })));
  card.replaceChildren(meta, badges, text, list);
}

async function runColumn(column, model, body) {
  const cards = {};
  const summary = el("div", { class: "summary", text: "generating…" });
  column.replaceChildren(el("h2", { text: model }), summary);
  try {
    const r = await fetch("/v1/copy", { method: "POST", headers: headers(), body: JSON.stringify({ ...body, model, stream: true }) });
    if (!r.ok) throw new Error(await errorText(r));
    let finished = false;
    await readEvents(r, (ev) => {
      if (ev.type === "delta" || ev.type === "retry") {
        if (!cards[ev.index]) { cards[ev.index] = draftCard(ev.index); column.append(cards[ev.index]); }
        const t = cards[ev.index].querySelector(".text");
        if (ev.type === "retry") {
          t.textContent = "";
          cards[ev.index].querySelector(".meta").textContent = "draft " + (ev.index + 1) + " · retrying (failed " + ev.failed_checks.join(", ") + ")";
        } else t.textContent += ev.text;
      } else if (ev.type === "draft") {
        if (!cards[ev.index]) { cards[ev.index] = draftCard(ev.index); column.append(cards[ev.index]); }
        renderDraft(cards[ev.index], ev.draft);
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

// ---- chat mode ---------------------------------------------------------------------------------------
function chatMessage(role, text) {
  const node = el("div", { class: "msg " + role, "data-role": role }, el("div", { class: "who", text: role }),
    el("div", { class: "text", text }));
  $("chat-log").append(node);
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
  chatMessage("user", text);
  const reply = chatMessage("assistant", "");
  const out = reply.querySelector(".text");
  out.classList.add("streaming");
  $("chat-input").value = "";
  $("chat-send").disabled = true;
  status("generating…");
  try {
    const r = await fetch("/v1/chat/completions", { method: "POST", headers: headers(), body: JSON.stringify({
      model: $("chat-model").value, messages, stream: true, temperature, max_tokens: maxTokens }) });
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

function setMode(mode) {
  for (const m of ["copy", "chat"]) {
    $(m + "-panel").hidden = m !== mode;
    $("mode-" + m).classList.toggle("active", m === mode);
    $("mode-" + m).setAttribute("aria-selected", String(m === mode));
  }
}

window.addEventListener("DOMContentLoaded", () => {
  $("api-key").value = localStorage.getItem("slmforge-api-key") || "";
  $("api-key").addEventListener("change", () => {
    localStorage.setItem("slmforge-api-key", $("api-key").value);
    if (!KIT) load();  // the key only matters until the kit has loaded; later calls read it each time
  });
  $("task").addEventListener("change", showTask);
  $("catalog").addEventListener("change", fillFromCatalog);
  $("compare").addEventListener("change", () => { $("model-b").disabled = !$("compare").checked; });
  $("form").addEventListener("submit", generate);
  $("mode-copy").addEventListener("click", () => setMode("copy"));
  $("mode-chat").addEventListener("click", () => setMode("chat"));
  $("chat-form").addEventListener("submit", sendChat);
  $("chat-clear").addEventListener("click", clearChat);
  $("chat-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("chat-form").requestSubmit(); }
  });
  load();
});
