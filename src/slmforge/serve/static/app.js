// slmforge playground: plain JS, no dependencies, works offline. Talks to the same server's
// /v1/kit (tasks, field schema, catalog) and /v1/copy (stream: true → server-sent events).
"use strict";

const $ = (id) => document.getElementById(id);
let KIT = null;

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

async function loadKit() {
  const r = await fetch("/v1/kit", { headers: headers() });
  if (!r.ok) {
    const body = await r.json().catch(() => ({}));
    status((body.error && body.error.message) || ("HTTP " + r.status), true);
    return;
  }
  KIT = await r.json();
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
    if (f.description || f.type === "list") {
      label.append(el("span", { class: "hint", text: (f.description || "") + (f.type === "list" ? " (separate with " + f.separator + ")" : "") }));
    }
    return label;
  }));
  showTask();
  status("ready: " + KIT.catalog.length + " catalog entries, " + KIT.tasks.length + " tasks");
}

function showTask() {
  const t = KIT.tasks.find((x) => x.id === $("task").value);
  const c = Object.entries(t.constraints).map(([k, v]) => k + "=" + v).join(", ");
  $("task-info").textContent = (t.description ? t.description + " " : "") + (c ? "Constraints: " + c : "");
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
  const card = el("article", { class: "draft", "data-index": index }, el("div", { class: "meta", text: "draft " + (index + 1) }), text);
  return card;
}

function renderDraft(card, d) {
  card.className = "draft " + d.status;
  const badges = el("div", { class: "badges" },
    el("span", { class: "badge status " + (d.status === "passed" ? "pass" : "fail"), text: d.status }));
  for (const [name, r] of Object.entries(d.report.checks)) {
    badges.append(el("span", { class: "badge check " + (r.passed ? "pass" : "fail"), "data-check": name,
      title: "score " + r.score, text: (r.passed ? "✓ " : "✗ ") + name }));
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
  const list = el("ul", { class: "findings" }, ...d.report.findings.map((f) => el("li", { text: f.check + " · " + f.message })));
  card.replaceChildren(meta, badges, text, list);
}

async function runColumn(column, model, body) {
  const cards = {};
  const summary = el("div", { class: "summary", text: "generating…" });
  column.replaceChildren(el("h2", { text: model }), summary);
  const r = await fetch("/v1/copy", { method: "POST", headers: headers(), body: JSON.stringify({ ...body, model, stream: true }) });
  if (!r.ok) {
    const err = await r.json().catch(() => ({}));
    throw new Error((err.error && err.error.message) || ("HTTP " + r.status));
  }
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const line = buffer.slice(0, cut).trim();
      buffer = buffer.slice(cut + 2);
      if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
      const ev = JSON.parse(line.slice(6));
      if (ev.type === "delta" || ev.type === "retry") {
        if (!cards[ev.index]) { cards[ev.index] = draftCard(ev.index); column.append(cards[ev.index]); }
        const t = cards[ev.index].querySelector(".text");
        if (ev.type === "retry") t.textContent = "";
        else t.textContent += ev.text;
        if (ev.type === "retry") cards[ev.index].querySelector(".meta").textContent = "draft " + (ev.index + 1) + " · retrying (failed " + ev.failed_checks.join(", ") + ")";
      } else if (ev.type === "draft") {
        if (!cards[ev.index]) { cards[ev.index] = draftCard(ev.index); column.append(cards[ev.index]); }
        renderDraft(cards[ev.index], ev.draft);
      } else if (ev.type === "done") {
        const s = ev.response.summary;
        summary.textContent = s.passed + " passed · " + s.flagged + " flagged · " + s.blocked + " blocked · " +
          s.regenerations + " regenerations · " + s.latency_s + " s";
      } else if (ev.type === "error" || ev.error) {
        throw new Error((ev.error && ev.error.message) || "generation failed");
      }
    }
  }
}

async function generate(event) {
  event.preventDefault();
  const body = {
    task: $("task").value, subject: subjectFromForm(), n: Number($("n").value),
    temperature: Number($("temperature").value), max_tokens: Number($("max-tokens").value), guard: $("guard").value,
  };
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

window.addEventListener("DOMContentLoaded", () => {
  $("api-key").value = localStorage.getItem("slmforge-api-key") || "";
  $("api-key").addEventListener("change", () => {
    localStorage.setItem("slmforge-api-key", $("api-key").value);
    if (!KIT) loadKit();  // the key only matters until the kit has loaded; later calls read it each time
  });
  $("task").addEventListener("change", showTask);
  $("catalog").addEventListener("change", fillFromCatalog);
  $("compare").addEventListener("change", () => { $("model-b").disabled = !$("compare").checked; });
  $("form").addEventListener("submit", generate);
  loadKit();
});
