// Community pages, progressive enhancement only: without this file a live room has a link
// that reloads it and an import page a link that shows how far the import got.
"use strict";

const POLL_TIMEOUT_MS = 10000;

async function getJSON(url) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), POLL_TIMEOUT_MS);
  try {
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: controller.signal,
    });
    return response.ok ? await response.json() : null;
  } finally {
    clearTimeout(timer);
  }
}

// A live room: new messages and the audience every few seconds, and posting without leaving
// the page. The server renders (and escapes) the messages; they are added as they come.
function liveRoom(list) {
  let latest = Number(list.dataset.latest || 0);
  const seconds = Math.max(2, Number(list.dataset.seconds || 5));
  const audience = document.getElementById("room-audience");
  let busy = false;

  async function poll() {
    if (busy) return;
    busy = true;
    let more = false;
    try {
      const data = await getJSON(`${list.dataset.poll}?since=${latest}`);
      if (data) {
        if (data.count > 0) {
          list.insertAdjacentHTML("beforeend", data.messages);
          const empty = document.getElementById("room-empty");
          if (empty) empty.remove();
        }
        latest = data.latest;
        if (audience) audience.innerHTML = data.audience;
        more = data.more;
      }
    } catch (error) {
      // Offline for a moment, or the server restarts: the next tick tries again.
    } finally {
      busy = false;
    }
    if (more) await poll();
  }

  setInterval(poll, seconds * 1000);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) poll();
  });

  const form = document.querySelector("[data-room-form] form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = form.querySelector("textarea");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      });
      if (response.status === 201) {
        text.value = "";
        await poll();
        text.focus();
      } else {
        form.submit(); // the server's page says what went wrong
      }
    } catch (error) {
      form.submit();
    } finally {
      button.disabled = false;
    }
  });
}

// An import running on the server: its progress bar and counts, then the report.
function importProgress(box) {
  const bar = document.getElementById("import-bar");
  const counts = document.getElementById("import-counts");

  async function poll() {
    try {
      const data = await getJSON(box.dataset.progress);
      if (data) {
        if (data.percent === null) {
          bar.removeAttribute("value");
        } else {
          bar.value = data.percent;
          bar.textContent = `${data.percent} %`;
        }
        counts.textContent = data.text;
        if (data.state !== "running") {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // Try again below.
    }
    setTimeout(poll, 1000);
  }

  setTimeout(poll, 500);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const element of document.querySelectorAll(".no-script-only")) element.hidden = true;
  const list = document.getElementById("room-messages");
  if (list && list.dataset.poll) liveRoom(list);
  const progress = document.getElementById("import-progress");
  if (progress && progress.dataset.progress) importProgress(progress);
});
