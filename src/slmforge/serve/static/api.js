// slmforge pages' shared helpers (the playground at / and the legal assistant at /legal load this file first):
// DOM shortcuts, the status line, and the request helper — JSON requests with the page's API key and a time
// limit, OpenAI-style error bodies read into readable messages, server-sent events read one JSON event at a time.
"use strict";

const $ = (id) => document.getElementById(id);

// Request headers: JSON, and the API key typed into the page's #api-key box, if any.
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

// An element with attributes (class, text, anything else as an attribute) and children.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

// The message of an error response (an OpenAI-style {error: {message}} body), else "HTTP <status>".
async function errorText(r) {
  const body = await r.json().catch(() => ({}));
  return (body.error && body.error.message) || ("HTTP " + r.status);
}

const API_LIMIT_MS = 30000;

// Run fn(signal) under a time limit (limitMs, default 30 s): past it the request is aborted and the promise
// rejects with a readable Error (timeoutText(seconds) words it; default English).
async function withLimit(limitMs, timeoutText, fn) {
  const ms = limitMs || API_LIMIT_MS;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), ms);
  try {
    return await fn(ctrl.signal);
  } catch (e) {
    if (e.name !== "AbortError") throw e;
    const s = Math.round(ms / 1000);
    throw new Error(timeoutText ? timeoutText(s) : "no answer within " + s + " s");
  } finally {
    clearTimeout(timer);
  }
}

function requestInit(body, signal) {
  return body === undefined ? { headers: headers(), signal }
    : { method: "POST", headers: headers(), body: JSON.stringify(body), signal };
}

// fetch() with the page's headers: GET when body is undefined, else a JSON POST; the limit covers the wait for
// the response's headers (a stream is then read with readEvents). Resolves to the Response, ok or not: read an
// error with errorText.
async function request(path, body, limitMs, timeoutText) {
  return withLimit(limitMs, timeoutText, (signal) => fetch(path, requestInit(body, signal)));
}

// A JSON request whose limit covers the whole answer: resolves to the parsed body; when the response is not ok,
// rejects with the server's error message (err.code and err.status from the OpenAI-style error body).
async function api(path, body, limitMs, timeoutText) {
  return withLimit(limitMs, timeoutText, async (signal) => {
    const r = await fetch(path, requestInit(body, signal));
    const data = await r.json().catch((e) => { if (e.name === "AbortError") throw e; return {}; });
    if (!r.ok) {
      const err = new Error((data.error && data.error.message) || ("HTTP " + r.status));
      err.code = data.error && data.error.code;
      err.status = r.status;
      throw err;
    }
    return data;
  });
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
