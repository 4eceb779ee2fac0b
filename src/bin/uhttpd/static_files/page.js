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
  // One PUT per file, its progress shown; resolves to whether it worked.
  function put(file, path) {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = path;
    const bar = document.createElement("progress");
    bar.max = file.size || 1;
    bar.value = 0;
    const result = document.createElement("span");
    li.append(name, bar, result);
    li.dataset.progressEvents = "0";
    $("#progress").append(li);
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", target(path));
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (e) => {
        li.dataset.progressEvents = String(Number(li.dataset.progressEvents) + 1);
        if (e.lengthComputable) { bar.max = e.total || 1; bar.value = e.loaded; }
      });
      xhr.addEventListener("load", () => {
        let why = "";
        try { why = JSON.parse(xhr.responseText).error || ""; } catch (_) { why = ""; }
        const ok = xhr.status === 201;
        if (ok) bar.value = bar.max;
        result.textContent = ok ? "done" : xhr.status + " " + why;
        li.className = ok ? "ok" : "failed";
        resolve(ok);
      });
      xhr.addEventListener("error", () => { result.textContent = "failed"; li.className = "failed"; resolve(false); });
      xhr.send(file);
    });
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
