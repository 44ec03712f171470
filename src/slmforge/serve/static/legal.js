// slmforge legal assistant: plain JS, no dependencies, works offline; the request helper (api, el, status) is
// static/api.js, loaded first. Talks to the same server's
// /v1/kit (tasks, topics), /v1/legal (disclaimer, drafting kinds, models), /v1/legal/ask (one question with the
// conversation so far), /v1/review (a contract, clause by clause) and /v1/legal/draft. Every call has a time
// limit: a model that never answers ends in an error state, not a spinner.
"use strict";

const LIMIT_MS = { ask: 120000, review: 300000, draft: 120000 };
const TIMEOUT = (s) => "時間内に応答がありませんでした（" + s + " 秒）";
let KIT = null;
let LEGAL = null;
let HISTORY = [];  // [{role, content}] as the model saw them (user turns are the rendered instructions)

function badges(report) {
  const box = el("div", { class: "badges" });
  if (!report) return box;
  for (const [name, r] of Object.entries(report.checks)) {
    box.append(el("span", { class: "badge check " + (r.passed ? "pass" : "fail"), "data-check": name,
      title: "score " + r.score, text: (r.passed ? "✓ " : "✗ ") + name }));
  }
  return box;
}

// Findings that are not info, one line per check and code (「× 3」 when a finding repeats).
function findingsList(report) {
  const lines = new Map();
  for (const f of report ? report.findings.filter((x) => x.severity !== "info") : []) {
    const key = f.check + ":" + f.code;
    if (lines.has(key)) lines.get(key).n += 1; else lines.set(key, { f, n: 1 });
  }
  return el("ul", { class: "findings" }, ...[...lines.values()].map(({ f, n }) =>
    el("li", { text: f.check + " · " + f.message + (n > 1 ? " × " + n : "") })));
}

async function load() {
  try {
    LEGAL = await api("/v1/legal", undefined, 0, TIMEOUT);
  } catch (e) {
    status(e.message, true);
    return;
  }
  $("model").replaceChildren(...LEGAL.models.map((m) => el("option", { value: m, text: m })));
  $("model").value = LEGAL.models[LEGAL.models.length - 1];
  $("draft-kind").replaceChildren(...LEGAL.drafting.map((d) => el("option", { value: d.id, text: d.label })));
  $("disclaimer").textContent = LEGAL.disclaimer || "本ページの出力は一般的な情報提供であり、個別の法的助言ではありません。";
  try {
    KIT = await api("/v1/kit", undefined, 0, TIMEOUT);
  } catch (e) {
    KIT = null;
    $("ask").disabled = true;
    status("契約書レビューと文書作成のみ使えます（法律相談には --kit が必要です: " + e.message + "）", true);
    return;
  }
  $("brand").textContent = "— " + KIT.brand;
  $("task").replaceChildren(...KIT.tasks.map((t) => el("option", { value: t.id, text: (t.description || t.id).split("（")[0] })));
  const topic = $("topic");
  topic.replaceChildren(topic.options[0], ...KIT.catalog.map((c) => el("option", { value: c.id, text: c.id })));
  status("準備完了: " + KIT.tasks.length + " 種類の相談、" + KIT.catalog.length + " 分野");
}

function showMode(mode) {
  for (const b of document.querySelectorAll("nav.tabs button")) b.setAttribute("aria-selected", String(b.dataset.mode === mode));
  for (const s of document.querySelectorAll("section.mode")) s.hidden = s.id !== "mode-" + mode;
}

// ---- 法律相談: a chat whose earlier turns go with every question ------------------------------------------
function turn(role, text, cls) {
  return el("li", { class: "turn " + role + (cls ? " " + cls : "") }, el("span", { class: "who", text: role === "user" ? "あなた" : "アシスタント" }),
    el("span", { class: "text", text }));
}

async function ask(event) {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question) { status("質問を入力してください", true); return; }
  const list = $("history");
  list.append(turn("user", question));
  const pending = turn("assistant", "回答を生成しています", "pending");
  list.append(pending);
  $("ask").disabled = true;
  status("回答を生成しています…");
  try {
    const body = { task: $("task").value, topic: $("topic").value || null, question, history: HISTORY,
      model: $("model").value, max_tokens: Number($("chat-max-tokens").value) };
    const a = await api("/v1/legal/ask", body, LIMIT_MS.ask, TIMEOUT);
    const done = turn("assistant", a.answer || "（空の回答）", a.report.passed ? "passed" : "flagged");
    done.append(badges(a.report), findingsList(a.report));
    pending.replaceWith(done);
    HISTORY.push({ role: "user", content: a.instruction }, { role: "assistant", content: a.answer });
    $("question").value = "";
    status("回答しました（" + a.latency_s + " 秒" + (a.report.passed ? "" : "、チェックに通らない点があります") + "）");
  } catch (e) {
    pending.replaceWith(turn("assistant", "エラー: " + e.message, "error"));
    status(e.message, true);
  } finally {
    $("ask").disabled = !KIT;
  }
}

function clearChat() {
  HISTORY = [];
  $("history").replaceChildren();
  status("会話をクリアしました");
}

// ---- 契約書レビュー: findings per clause -----------------------------------------------------------------
const SAMPLE = "業務委託契約書\n\n株式会社甲（以下「甲」という。）と株式会社乙（以下「乙」という。）は、次のとおり業務委託契約を締結する。\n\n" +
  "第1条（目的）\n甲は、甲のウェブサイトの制作業務を乙に委託し、乙はこれを受託する。\n\n" +
  "第2条（委託料）\n甲は、乙に対し、委託料として金100万円を、成果物の検収後30日以内に支払う。\n\n" +
  "第3条（損害賠償）\n乙は、本契約に関して甲に生じた一切の損害を賠償する。\n\n" +
  "第4条（解除）\n甲は、乙が本契約に違反したときは、催告を要せず直ちに本契約を解除できる。\n";

function clauseCard(r) {
  const c = r.clause;
  const level = r.status === "ok" ? r.risk : (r.status === "skipped" ? "skipped" : "error");
  const label = r.status === "ok" ? "リスク " + r.risk_label : (r.status === "skipped" ? "未評価" : "読み取りエラー");
  const card = el("article", { class: "clause " + level, "data-number": c.number, "data-status": r.status },
    el("h3", {}, el("span", { text: c.heading }), el("span", { class: "risk " + level, text: label })),
    el("div", { class: "body", text: c.text }));
  if (r.status === "ok") card.append(el("p", { class: "reason", text: r.reason }));
  if (r.status === "unparsed") {
    card.classList.add("error");
    card.append(el("p", { class: "reason", text: r.error }), el("div", { class: "raw", text: r.raw.trim() ? r.raw.trim() : "（出力なし）" }));
  }
  if (r.hints.length) card.append(el("ul", { class: "hints" }, ...r.hints.map((h) => el("li", { "data-hint": h.code, text: h.message }))));
  return card;
}

async function review(event) {
  event.preventDefault();
  const banner = $("review-banner");
  banner.className = "";
  banner.textContent = "レビューしています…（条項ごとにモデルが答えます）";
  $("clauses").replaceChildren();
  $("review").disabled = true;
  status("レビューしています…");
  try {
    const body = { contract: $("contract").value, model: $("model").value, max_tokens: Number($("review-max-tokens").value) };
    const res = await api("/v1/review", body, LIMIT_MS.review, TIMEOUT);
    const s = res.summary;
    $("clauses").replaceChildren(...res.clauses.map(clauseCard));
    if (s.parsed === 0) {
      banner.className = "error";
      banner.textContent = "モデルがどの条項にも JSON 形式で答えられませんでした（" + s.unparsed + "/" + s.clauses +
        " 条）。キーワードによる注意点だけを表示しています。より大きなモデルかファインチューニング済みのモデルを選んでください。";
    } else if (s.unparsed > 0) {
      banner.className = "warn";
      banner.textContent = s.clauses + " 条のうち " + s.unparsed + " 条はモデルの出力を読み取れませんでした。";
    } else {
      banner.className = "ok";
      banner.textContent = s.clauses + " 条をレビューしました（高 " + s.high + "・中 " + s.medium + "・低 " + s.low + "）。";
    }
    status("レビュー完了（" + s.latency_s + " 秒）");
  } catch (e) {
    banner.className = "error";
    banner.textContent = "レビューできませんでした: " + e.message;
    status(e.message, true);
  } finally {
    $("review").disabled = false;
  }
}

// ---- 文書作成 -----------------------------------------------------------------------------------------------
async function draft(event) {
  event.preventDefault();
  const out = $("draft-output");
  out.className = "answer pending";
  out.textContent = "作成しています…";
  $("draft").disabled = true;
  status("作成しています…");
  try {
    const d = await api("/v1/legal/draft", { kind: $("draft-kind").value, points: $("points").value.trim(),
      model: $("model").value, max_tokens: Number($("draft-max-tokens").value) }, LIMIT_MS.draft, TIMEOUT);
    out.className = "answer" + (d.report && !d.report.passed ? " flagged" : "");
    out.replaceChildren(el("div", { class: "text", text: d.text || "（空の出力）" }), badges(d.report), findingsList(d.report));
    status(d.label + "の案を作成しました");
  } catch (e) {
    out.className = "answer error";
    out.textContent = "作成できませんでした: " + e.message;
    status(e.message, true);
  } finally {
    $("draft").disabled = false;
  }
}

window.addEventListener("DOMContentLoaded", () => {
  $("api-key").value = localStorage.getItem("slmforge-api-key") || "";
  $("api-key").addEventListener("change", () => {
    localStorage.setItem("slmforge-api-key", $("api-key").value);
    if (!LEGAL || !KIT) load();
  });
  for (const b of document.querySelectorAll("nav.tabs button")) b.addEventListener("click", () => showMode(b.dataset.mode));
  $("chat-form").addEventListener("submit", ask);
  $("clear").addEventListener("click", clearChat);
  $("review-form").addEventListener("submit", review);
  $("sample").addEventListener("click", () => { $("contract").value = SAMPLE; });
  $("draft-form").addEventListener("submit", draft);
  load();
});
