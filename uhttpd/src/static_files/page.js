"use strict";
(function () {
  const $ = (s) => document.querySelector(s);
  // Times in the reader's own zone, with its name.
  function localTimes(root) {
    for (const t of root.querySelectorAll("time[datetime]")) {
      const d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) continue;
      t.title = t.textContent;
      t.textContent = d.toLocaleString(undefined, {
        year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", timeZoneName: "short",
      });
    }
  }
  // Typing filters the rows shown; Enter searches below this folder.
  const filter = $("#filter");
  function applyFilter() {
    const q = filter.value.trim().toLowerCase();
    for (const tr of document.querySelectorAll("#listing tbody tr:not(.up)")) {
      const name = tr.querySelector("td.n").textContent.toLowerCase();
      tr.hidden = q !== "" && !name.includes(q);
    }
  }
  if (filter && !new URLSearchParams(location.search).get("q")) {
    filter.addEventListener("input", applyFilter);
  }
  localTimes(document);
  const section = $("#upload");
  if (!section) return;
  const status = $("#status");
  function say(text) { status.textContent = text; status.hidden = false; }
  // Reloads the table in place, so the page stays where it is.
  async function refresh() {
    const response = await fetch(location.pathname + location.search, { headers: { Accept: "text/html" } });
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    $("#listing").replaceWith(fresh.querySelector("#listing"));
    localTimes(document);
    if (filter) applyFilter();
  }
  const here = section.dataset.dir;
  const inHere = section.querySelector("form.mkdir") !== null;
  function target(path) {
    const rel = path.split("/").filter((s) => s !== "").map(encodeURIComponent).join("/");
    return "/upload/" + (inHere && here ? here + "/" : "") + rel;
  }
  // Resumable uploads (IETF draft, interop version 8): the upload is
  // created empty, then sent in pieces by PATCH; a dropped connection is
  // retried with backoff from the offset the server reports (HEAD), and
  // the upload's URL is kept in localStorage, so the same file chosen
  // again after a reload continues where it stood.
  const PIECE = 8 * 1024 * 1024;
  const DRAFT = { "Upload-Draft-Interop-Version": "8", Accept: "application/json" };
  function remembered(url, file) { return "uhttpd-upload " + url + " " + file.size + " " + file.lastModified; }
  // One request; resolves to the XHR once answered, or null when it
  // failed or was aborted.
  function send(job, method, url, headers, body, onProgress) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      if (onProgress) xhr.upload.addEventListener("progress", (e) => onProgress(e.loaded));
      xhr.addEventListener("load", () => resolve(xhr));
      xhr.addEventListener("error", () => resolve(null));
      xhr.addEventListener("abort", () => resolve(null));
      job.xhr = xhr;
      xhr.send(body);
    });
  }
  // Sleeps `ms`, or less when the network comes back or the job is
  // resumed.
  function pause(job, ms) {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); window.removeEventListener("online", done); job.wake = null; resolve(); };
      const timer = ms === null ? null : setTimeout(done, ms);
      if (ms !== null) window.addEventListener("online", done);
      job.wake = done;
    });
  }
  function offsetOf(xhr) {
    const value = Number(xhr.getResponseHeader("Upload-Offset"));
    return Number.isSafeInteger(value) && value >= 0 ? value : null;
  }
  function reason(xhr) {
    let answer = null;
    try { answer = JSON.parse(xhr.responseText); } catch (_) { answer = null; }
    const why = (answer && (answer.error || answer.title)) || "";
    return xhr.status + (why ? " " + why : "");
  }
  // One file, its progress shown with a pause / resume button; resolves
  // to whether it was stored.
  async function put(file, path) {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = path;
    const bar = document.createElement("progress");
    bar.max = file.size || 1;
    bar.value = 0;
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "pause";
    toggle.textContent = "Pause";
    const result = document.createElement("span");
    result.className = "result";
    li.append(name, bar, toggle, result);
    li.dataset.progressEvents = "0";
    li.dataset.retries = "0";
    $("#progress").append(li);
    const job = { xhr: null, paused: false, wake: null };
    toggle.addEventListener("click", () => {
      job.paused = !job.paused;
      toggle.textContent = job.paused ? "Resume" : "Pause";
      li.classList.toggle("paused", job.paused);
      if (job.paused && job.xhr) job.xhr.abort();
      if (!job.paused && job.wake) job.wake();
    });
    const creation = target(path);
    const key = remembered(creation, file);
    let url = localStorage.getItem(key);
    // null: to be asked of the server.
    let offset = url === null ? 0 : null;
    let failures = 0;
    const finish = (ok, text) => {
      toggle.remove();
      if (ok) bar.value = bar.max;
      result.textContent = text;
      li.className = ok ? "ok" : "failed";
      return ok;
    };
    for (;;) {
      if (job.paused) {
        result.textContent = "paused";
        await pause(job, null);
        offset = url === null ? 0 : null;
        continue;
      }
      result.textContent = "";
      let xhr;
      if (url === null) {
        const whole = file.size === 0;
        xhr = await send(job, "POST", creation, {
          ...DRAFT, "Upload-Complete": whole ? "?1" : "?0", "Upload-Length": String(file.size),
        }, null);
        if (xhr && xhr.status === 201 && !whole) {
          url = xhr.getResponseHeader("Location");
          offset = offsetOf(xhr) || 0;
          if (url === null) return finish(false, "no upload URL");
          localStorage.setItem(key, url);
          failures = 0;
          continue;
        }
      } else if (offset === null) {
        xhr = await send(job, "HEAD", url, DRAFT, null);
        if (xhr && xhr.status === 204 && offsetOf(xhr) !== null) {
          offset = offsetOf(xhr);
          if (li.dataset.resumedFrom === undefined) li.dataset.resumedFrom = String(offset);
          bar.value = offset;
          if (xhr.getResponseHeader("Upload-Complete") === "?1") {
            localStorage.removeItem(key);
            return finish(true, "done");
          }
          failures = 0;
          continue;
        }
        if (xhr && xhr.status === 404) {
          // Expired or cancelled: start again.
          localStorage.removeItem(key);
          url = null;
          offset = 0;
          continue;
        }
      } else {
        const start = offset;
        const end = Math.min(start + PIECE, file.size);
        xhr = await send(job, "PATCH", url, {
          ...DRAFT, "Content-Type": "application/partial-upload",
          "Upload-Offset": String(start), "Upload-Complete": end === file.size ? "?1" : "?0",
        }, file.slice(start, end), (loaded) => {
          li.dataset.progressEvents = String(Number(li.dataset.progressEvents) + 1);
          bar.value = start + loaded;
        });
        if (xhr && xhr.status === 204 && offsetOf(xhr) !== null) {
          offset = offsetOf(xhr);
          bar.value = offset;
          failures = 0;
          continue;
        }
        if (xhr && xhr.status === 409 && offsetOf(xhr) !== null) {
          offset = offsetOf(xhr);
          continue;
        }
      }
      if (xhr && xhr.status === 201) {
        localStorage.removeItem(key);
        return finish(true, "done");
      }
      if (job.paused) continue;
      if (xhr === null || xhr.status === 423 || xhr.status >= 500) {
        // The network or the server is away for now: ask the offset again
        // after a while, longer each time (0.5 s doubling to 30 s).
        failures += 1;
        li.dataset.retries = String(Number(li.dataset.retries) + 1);
        const delay = Math.min(500 * 2 ** Math.min(failures - 1, 6), 30000);
        result.textContent = "retrying in " + Math.ceil(delay / 1000) + " s";
        await pause(job, delay);
        if (url !== null) offset = null;
        continue;
      }
      if (url !== null) localStorage.removeItem(key);
      return finish(false, reason(xhr));
    }
  }
  async function upload(items) {
    if (items.length === 0) return;
    say("Uploading " + items.length + " file" + (items.length === 1 ? "" : "s") + "\u2026");
    let done = 0;
    for (const { file, path } of items) {
      if (await put(file, path)) done += 1;
    }
    await refresh();
    const failed = items.length - done;
    say(done + " file" + (done === 1 ? "" : "s") + " uploaded" + (failed ? ", " + failed + " failed" : "") + ".");
  }
  const filesForm = section.querySelector("form.files");
  filesForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const items = [];
    for (const input of filesForm.querySelectorAll("input[type=file]")) {
      for (const file of input.files) items.push({ file, path: file.webkitRelativePath || file.name });
      input.value = "";
    }
    upload(items);
  });
  const mkdir = section.querySelector("form.mkdir");
  if (mkdir) {
    mkdir.addEventListener("submit", async (e) => {
      e.preventDefault();
      const response = await fetch(mkdir.action, { method: "POST", body: new FormData(mkdir), headers: { Accept: "application/json" } });
      const answer = await response.json().catch(() => ({}));
      const name = mkdir.elements.mkdir.value;
      if (response.status === 201) {
        mkdir.reset();
        await refresh();
        say("Folder \u201c" + name + "\u201d created.");
      } else {
        say("Cannot create \u201c" + name + "\u201d: " + (answer.error || response.status));
      }
    });
  }
  // Drag and drop anywhere, folders included.
  function readAll(reader) {
    return new Promise((resolve) => {
      const all = [];
      const next = () => reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all); else { all.push(...batch); next(); }
      }, () => resolve(all));
      next();
    });
  }
  async function walk(entry, prefix, out) {
    if (entry.isFile) {
      const file = await new Promise((resolve) => entry.file(resolve, () => resolve(null)));
      if (file) out.push({ file, path: prefix + file.name });
    } else if (entry.isDirectory) {
      for (const child of await readAll(entry.createReader())) await walk(child, prefix + entry.name + "/", out);
    }
  }
  document.addEventListener("dragover", (e) => { e.preventDefault(); section.classList.add("over"); });
  document.addEventListener("dragleave", (e) => { if (!e.relatedTarget) section.classList.remove("over"); });
  document.addEventListener("drop", async (e) => {
    e.preventDefault();
    section.classList.remove("over");
    const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    const items = [];
    if (entries.length > 0) {
      for (const entry of entries) await walk(entry, "", items);
    } else {
      for (const file of e.dataTransfer.files) items.push({ file, path: file.name });
    }
    upload(items);
  });
})();
