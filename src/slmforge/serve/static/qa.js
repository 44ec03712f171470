// slmforge playground: the chat of question–answer tasks (mode "chat", e.g. ja-legal's legal_qa family).
// Loaded after app.js (KIT, pickTask, checkBadges, lengthBadge, findingsList, chatMessage). Each question goes to
// /v1/legal/ask in the frame of the picked task and topic (a catalog entry), with the conversation so far; the
// answer comes back with the kit's check report, shown as badges under it, with its length in the kit's unit.
"use strict";

const QA = { history: [] };  // [{role, content}] as the model saw them (user turns are the rendered instructions)
const QA_LIMIT_MS = 180000;

// Fill the Q&A panel's pickers from the kit (called by app.js's load).
function qaLoad() {
  const h = hints(KIT);
  const topic = $("qa-topic");
  topic.replaceChildren(el("option", { value: "", text: h.general }),
    ...KIT.catalog.map((c) => el("option", { value: c.id, text: c.id })));
  $("qa-input").placeholder = h.ask;
  $("qa-disclaimer").textContent = KIT.disclaimer || "";
  $("qa-disclaimer").hidden = !KIT.disclaimer;
}

function qaTask() {
  return taskById($("qa-task").value);
}

function showQaTask() {
  const t = qaTask();
  $("qa-task-info").textContent = [t.description || "", constraintText(KIT, t)].filter(Boolean).join(" ");
  $("qa-task-punct").textContent = punctuationText(KIT, t);
  const d = defaultMaxTokens(KIT, t);
  $("qa-max-tokens").value = d.tokens;
  $("qa-max-tokens-hint").textContent = d.hint;
}

// What is wrong with the question or the settings before anything is sent (null when it can be sent).
function qaProblem(question, maxTokens, temperature) {
  if (!KIT || !tasksOf("chat").length) return "the kit has no question–answer task";
  if (!question) return "type a question first";
  if (!Number.isInteger(maxTokens) || maxTokens < 1) return "Max tokens must be a whole number of at least 1";
  if (!(temperature >= 0 && temperature <= 2)) return "Temperature must be between 0 and 2";
  return null;
}

async function sendQa(event) {
  event.preventDefault();
  const question = $("qa-input").value.trim();
  const maxTokens = Number($("qa-max-tokens").value);
  const temperature = Number($("qa-temperature").value);
  const problem = qaProblem(question, maxTokens, temperature);
  if (problem) { status(problem, true); return; }
  const task = qaTask();
  const log = $("qa-log");
  chatMessage(log, "user", question);
  const reply = chatMessage(log, "assistant", "");
  const out = reply.querySelector(".text");
  out.classList.add("streaming");
  $("qa-input").value = "";
  $("qa-send").disabled = true;
  status("generating…");
  try {
    const a = await api("/v1/legal/ask", { task: task.id, topic: $("qa-topic").value || null, question,
      history: QA.history, model: $("qa-model").value, max_tokens: maxTokens, temperature }, QA_LIMIT_MS);
    reply.classList.add(a.report.passed ? "passed" : "flagged");
    reply.setAttribute("data-task", a.task);
    out.replaceChildren(...(a.answer ? highlighted(a.answer, a.report.findings) : [el("em", { text: "(empty reply)" })]));
    const who = reply.querySelector(".who");
    who.append(" · " + a.task + (a.topic ? " · " + a.topic : "") + " · ", lengthBadge(a.report, a.answer, task));
    reply.append(el("div", { class: "badges" }, ...checkBadges(a.report, a.answer)), findingsList(a.report));
    QA.history.push({ role: "user", content: a.instruction }, { role: "assistant", content: a.answer });
    status("done");
  } catch (e) {
    reply.classList.add("error");
    out.textContent = "error: " + e.message;
    $("qa-input").value = question;  // not in the history: edit and send again
    status(e.message, true);
  } finally {
    out.classList.remove("streaming");
    $("qa-send").disabled = false;
  }
}

function clearQa() {
  QA.history = [];
  $("qa-log").replaceChildren();
  status("new conversation");
}

window.addEventListener("DOMContentLoaded", () => {
  $("qa-form").addEventListener("submit", sendQa);
  $("qa-clear").addEventListener("click", clearQa);
  $("qa-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("qa-form").requestSubmit(); }
  });
});
