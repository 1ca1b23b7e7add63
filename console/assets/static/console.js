// Strata console: the little script the pages need. No framework, no
// inline code (the Content-Security-Policy allows only this file).
"use strict";

// Forms with data-confirm ask before they are sent.
document.addEventListener("submit", (ev) => {
  const f = ev.target;
  if (f.dataset && f.dataset.confirm && !window.confirm(f.dataset.confirm)) {
    ev.preventDefault();
  }
});

document.addEventListener("click", (ev) => {
  const t = ev.target;
  if (!(t instanceof HTMLElement)) return;
  if (t.hasAttribute("data-back")) {
    ev.preventDefault();
    history.back();
  }
  if (t.dataset.copy) {
    const el = document.getElementById(t.dataset.copy);
    el.select();
    navigator.clipboard.writeText(el.value).then(
      () => { t.textContent = "Copied"; },
      () => { t.textContent = "Select and copy the link"; });
  }
  if (t.dataset.format) {
    const el = document.getElementById(t.dataset.format);
    try { el.value = JSON.stringify(JSON.parse(el.value), null, 2); } catch (e) { /* the hint says why */ }
    checkJSON(el);
  }
});

// JSON editors say at once when the text is not JSON; the server's own
// validation message appears next to the editor after saving.
function checkJSON(el) {
  const hint = el.form && el.form.querySelector(".json-hint");
  if (!hint) return;
  if (el.value.trim() === "") { hint.textContent = ""; hint.classList.remove("bad"); return; }
  try {
    JSON.parse(el.value);
    hint.textContent = "Valid JSON (the server checks the policy itself when you save).";
    hint.classList.remove("bad");
  } catch (e) {
    hint.textContent = "Not valid JSON yet: " + e.message;
    hint.classList.add("bad");
  }
}
document.querySelectorAll("textarea[data-json]").forEach((el) => {
  el.addEventListener("input", () => checkJSON(el));
});

// Pages with data-refresh reload themselves.
const refresh = document.querySelector("[data-refresh]");
if (refresh) {
  setTimeout(() => location.reload(), Number(refresh.dataset.refresh) * 1000);
}

// Uploads: each file goes to the console in parts (one request each),
// which streams them to S3 with the session's keys.
const uploadForm = document.getElementById("upload");
if (uploadForm) {
  uploadForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = document.getElementById("files");
    const button = document.getElementById("upload-button");
    const files = Array.from(input.files);
    if (files.length === 0) return;
    button.disabled = true;
    let failed = 0;
    for (const file of files) {
      if (!(await uploadFile(uploadForm.dataset, file))) failed++;
    }
    button.disabled = false;
    input.value = "";
    if (failed === 0) {
      const done = document.createElement("p");
      done.className = "flash ok";
      done.setAttribute("role", "status");
      done.id = "upload-done";
      done.textContent = files.length + (files.length === 1 ? " file" : " files") + " uploaded. ";
      const a = document.createElement("a");
      a.href = location.href;
      a.textContent = "Refresh the listing";
      done.appendChild(a);
      document.getElementById("upload-progress").appendChild(done);
    }
  });
}

class ConsoleError extends Error {
  constructor(code, message, requestId) {
    super(message);
    this.code = code;
    this.requestId = requestId;
  }
}

// call sends one request to the console with the session's CSRF token and
// returns its JSON answer, or throws a ConsoleError with the S3 error.
function call(csrf, method, path, body, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path);
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      let v = {};
      try { v = JSON.parse(xhr.responseText); } catch (e) { v = { code: "HTTP " + xhr.status, message: xhr.statusText }; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(v);
      else reject(new ConsoleError(v.code || ("HTTP " + xhr.status), v.message || "", v.requestId));
    };
    xhr.onerror = () => reject(new ConsoleError("NetworkError", "The console could not be reached."));
    if (body instanceof Blob) {
      xhr.send(body);
    } else if (body !== undefined) {
      xhr.setRequestHeader("Content-Type", "application/json");
      xhr.send(JSON.stringify(body));
    } else {
      xhr.send();
    }
  });
}

function q(params) {
  return new URLSearchParams(params).toString();
}

async function uploadFile(ds, file) {
  const key = ds.prefix + file.name;
  const row = document.createElement("div");
  row.className = "upload-item";
  const name = document.createElement("span");
  name.textContent = key;
  const bar = document.createElement("progress");
  bar.max = file.size || 1;
  bar.value = 0;
  bar.setAttribute("aria-label", "Upload of " + key);
  const status = document.createElement("span");
  status.className = "status";
  status.textContent = "starting";
  row.append(name, bar, status);
  document.getElementById("upload-progress").appendChild(row);

  const csrf = ds.csrf;
  let plan;
  try {
    plan = await call(csrf, "POST", "/console/api/upload/start", { bucket: ds.bucket, key: key, size: file.size, contentType: file.type });
    if (plan.mode === "single") {
      await call(csrf, "PUT", "/console/api/upload/object?" + q({ bucket: ds.bucket, key: key, type: file.type }), file,
        (n) => { bar.value = n; status.textContent = Math.floor(100 * n / (file.size || 1)) + "%"; });
    } else {
      const parts = [];
      let sent = 0;
      for (let n = 1, off = 0; off < file.size; n++, off += plan.partSize) {
        const chunk = file.slice(off, Math.min(off + plan.partSize, file.size));
        const r = await call(csrf, "PUT", "/console/api/upload/part?" + q({ bucket: ds.bucket, key: key, uploadId: plan.uploadId, partNumber: n }), chunk,
          (loaded) => { bar.value = sent + loaded; status.textContent = Math.floor(100 * (sent + loaded) / file.size) + "%"; });
        sent += chunk.size;
        parts.push({ partNumber: n, etag: r.etag });
      }
      status.textContent = "completing";
      await call(csrf, "POST", "/console/api/upload/complete", { bucket: ds.bucket, key: key, uploadId: plan.uploadId, parts: parts });
    }
    bar.value = bar.max;
    status.textContent = "done";
    status.classList.add("done");
    return true;
  } catch (e) {
    status.className = "status error";
    status.setAttribute("role", "alert");
    status.textContent = (e.code || "Error") + ": " + (e.message || e) + (e.requestId ? " (request id " + e.requestId + ")" : "");
    if (plan && plan.uploadId) {
      call(csrf, "POST", "/console/api/upload/abort", { bucket: ds.bucket, key: key, uploadId: plan.uploadId }).catch(() => {});
    }
    return false;
  }
}
