// fbs monitor: live updates. The dashboard polls the job list; a job page follows its log by
// server-sent events. Text from jobs is only ever set with textContent, never as HTML.
"use strict";

function ago(iso) {
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.floor(s / 60) + " min ago";
  if (s < 86400) return Math.floor(s / 3600) + " h ago";
  return Math.floor(s / 86400) + " d ago";
}

function cell(tr, child) {
  const td = document.createElement("td");
  if (typeof child === "string") td.textContent = child; else td.appendChild(child);
  tr.appendChild(td);
  return td;
}

function badge(state) {
  const b = document.createElement("span");
  b.className = "badge s-" + state;
  b.textContent = state;
  return b;
}

function jobRow(j) {
  const tr = document.createElement("tr");
  tr.dataset.id = j.id;
  const a = document.createElement("a");
  a.href = "/jobs/" + encodeURIComponent(j.id);
  a.textContent = j.id.slice(0, 8) + "…";
  cell(tr, a).className = "id";
  cell(tr, badge(j.state));
  cell(tr, j.type + " " + j.arch + "/" + j.release);
  cell(tr, j.queue);
  cell(tr, j.worker_host || "—");
  cell(tr, j.submitter);
  const t = document.createElement("time");
  t.dateTime = j.created_at;
  t.textContent = ago(j.created_at);
  cell(tr, t);
  return tr;
}

async function pollJobs(tbody) {
  try {
    const r = await fetch(tbody.dataset.poll, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!r.ok) return;
    const page = await r.json();
    tbody.replaceChildren(...page.jobs.map(jobRow));
    const empty = document.getElementById("no-jobs");
    if (empty && page.jobs.length) empty.remove();
  } catch (e) { /* the next poll tries again */ }
}

function followLog(pre) {
  const status = document.getElementById("log-status");
  const es = new EventSource(pre.dataset.follow);
  es.onmessage = (ev) => {
    const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.appendChild(document.createTextNode(ev.data + "\n"));
    if (atEnd) pre.scrollTop = pre.scrollHeight;
  };
  es.addEventListener("end", (ev) => {
    es.close();
    if (status) status.textContent = "The job ended: " + ev.data + ".";
    // Show the final record (artifacts, error) once.
    setTimeout(() => location.reload(), 1500);
  });
  es.addEventListener("error", (ev) => {
    if (ev.data && status) status.textContent = "Log stream failed: " + ev.data;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const tbody = document.querySelector("tbody[data-poll]");
  if (tbody) setInterval(() => pollJobs(tbody), 2000);
  const pre = document.querySelector("pre#log[data-follow]");
  if (pre) followLog(pre);
});
