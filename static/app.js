/* Behaviour of the pages. Loaded with `defer` from base.html; there is no inline script
   anywhere (Content-Security-Policy: script-src 'self'). Every page works without it. */
(function () {
  "use strict";

  var NETWORK_ERROR = "网络连接失败，请检查网络后重试。";
  var TIMEOUT_ERROR = "服务器响应超时，请稍后重试。";

  function alertBar() {
    return document.getElementById("alerts");
  }

  function showAlert(message, kind) {
    var bar = alertBar();
    if (!bar) { return; }
    var p = document.createElement("p");
    p.className = "alert alert-" + (kind || "error");
    p.setAttribute("role", "alert");
    p.textContent = message;
    bar.replaceChildren(p);
    bar.scrollIntoView({ block: "nearest" });
  }

  /* The Chinese message of an error page (error.html marks it with data-error-message). */
  function messageOf(xhr) {
    var fallback = "请求失败（状态 " + xhr.status + "），请稍后重试。";
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
      var node = doc.querySelector("[data-error-message]");
      return node && node.textContent.trim() ? node.textContent.trim() : fallback;
    } catch (e) {
      return fallback;
    }
  }

  /* Browser-native validation speaks the browser's language (English in many installs): each
     field left invalid says so in the product's Chinese instead. `data-invalid-message` on a
     field overrides the wording; the server checks everything again and answers in Chinese. */
  function labelOf(el) {
    var label = el.labels && el.labels.length ? el.labels[0] : null;
    var text = label ? label.textContent.replace(/[（(].*$/, "").replace(/\s+/g, "").replace(/[*：:]$/, "") : "";
    return text ? "“" + text + "”" : "此项";
  }

  function chineseValidity(el) {
    var v = el.validity;
    if (el.dataset.invalidMessage) { return el.dataset.invalidMessage; }
    if (v.valueMissing) {
      if (el.type === "file") { return "请选择文件"; }
      if (el.tagName === "SELECT" || el.type === "radio" || el.type === "checkbox") { return "请选择" + labelOf(el); }
      return "请填写" + labelOf(el);
    }
    if (v.typeMismatch) { return el.type === "email" ? "请输入有效的邮箱地址，如 name@example.com" : "格式不正确"; }
    if (v.badInput) { return el.type === "number" ? "请输入数字" : "请输入有效的" + (el.type === "date" ? "日期" : "值"); }
    if (v.rangeUnderflow) { return labelOf(el) + "不能小于 " + el.min; }
    if (v.rangeOverflow) { return labelOf(el) + "不能大于 " + el.max; }
    if (v.stepMismatch) { return "请输入有效的数值"; }
    if (v.tooShort) { return labelOf(el) + "至少 " + el.minLength + " 个字符"; }
    if (v.tooLong) { return labelOf(el) + "最多 " + el.maxLength + " 个字符"; }
    if (v.patternMismatch) { return el.title || (labelOf(el) + "格式不正确"); }
    return "请检查" + labelOf(el);
  }

  document.addEventListener("invalid", function (evt) {
    var el = evt.target;
    if (!el.setCustomValidity) { return; }
    el.setCustomValidity("");
    if (!el.validity.valid) { el.setCustomValidity(chineseValidity(el)); }
  }, true);   /* `invalid` does not bubble: listen in the capture phase */

  function clearValidity(evt) {
    if (evt.target && evt.target.setCustomValidity) { evt.target.setCustomValidity(""); }
  }
  document.addEventListener("input", clearValidity, true);
  document.addEventListener("change", clearValidity, true);

  document.addEventListener("htmx:responseError", function (evt) {
    showAlert(messageOf(evt.detail.xhr), "error");
  });
  document.addEventListener("htmx:sendError", function () { showAlert(NETWORK_ERROR, "error"); });
  document.addEventListener("htmx:timeout", function () { showAlert(TIMEOUT_ERROR, "error"); });

  /* A new request clears the previous request's error. */
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var bar = alertBar();
    if (bar && evt.detail.requestConfig && evt.detail.requestConfig.verb !== "get") {
      bar.replaceChildren();
    }
  });

  /* Upload progress: htmx re-dispatches the XHR's progress events (upload and download)
     on the form as htmx:xhr:progress; the upload is the part worth showing. */
  document.addEventListener("htmx:xhr:progress", function (evt) {
    var form = evt.target && evt.target.closest ? evt.target.closest("form") : null;
    var bar = form && form.querySelector("progress.upload-progress");
    var detail = evt.detail || {};
    if (!bar || !detail.lengthComputable || !detail.total) { return; }
    var percent = Math.min(100, Math.round(detail.loaded / detail.total * 100));
    bar.value = percent;
    var label = form.querySelector(".upload-percent");
    if (label) {
      label.textContent = percent < 100 ? "正在上传 " + percent + "%" : "上传完成，正在开始解析…";
    }
  });

  /* Plain (non-htmx) forms: one click, one request; the server refuses a second confirm
     anyway, this only spares the user the surprise. */
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (form.hasAttribute("hx-post") || form.hasAttribute("hx-get")) { return; }
    var button = evt.submitter;
    if (button && form.method === "post") {
      window.setTimeout(function () { button.disabled = true; }, 0);
    }
  });
  /* Role and scope (the admin's user forms): show only the select that belongs to the
     chosen role. Without JavaScript all show, and the server uses only the right one. */
  function showScopeFor(select) {
    var form = select.form;
    if (!form) { return; }
    form.querySelectorAll("[data-for-role]").forEach(function (field) {
      field.hidden = field.getAttribute("data-for-role") !== select.value;
    });
  }
  document.querySelectorAll("select[data-role-select]").forEach(showScopeFor);
  document.addEventListener("change", function (evt) {
    if (evt.target.matches && evt.target.matches("select[data-role-select]")) { showScopeFor(evt.target); }
  });

  /* Signing out: forget htmx's copies of pages (none are kept, see base.html; this clears
     any left from before). */
  document.addEventListener("submit", function (evt) {
    if (evt.target.classList && evt.target.classList.contains("logout")) {
      try { window.localStorage.removeItem("htmx-history-cache"); } catch (e) { /* storage off */ }
    }
  });

  /* With JavaScript, a select marked data-autosubmit sends its form on change (the period of the
     entry rows, an indicator's measure); its "查看"/"改" button (.js-hidden) is only for pages
     without JavaScript. */
  document.documentElement.classList.add("js");
  document.addEventListener("change", function (evt) {
    var el = evt.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) {
      if (el.form.requestSubmit) { el.form.requestSubmit(); } else { el.form.submit(); }
    }
  });

  /* 全年预计 is in the unit chosen for the actual value: the unit shown beside it follows that
     select (without JavaScript it shows the unit the row was drawn with). */
  document.addEventListener("change", function (evt) {
    var el = evt.target;
    if (!el.matches || !el.matches("select") || !el.id) { return; }
    document.querySelectorAll("[data-unit-of]").forEach(function (span) {
      if (span.getAttribute("data-unit-of") === el.id) { span.textContent = el.value; }
    });
  });

  /* A fragment that comes back with an error (422/409) puts the cursor on the first field
     the message is about, so the user sees what to fix. */
  document.addEventListener("htmx:load", function (evt) {
    var root = evt.target;
    if (!root || !root.querySelector || root === document.body) { return; }
    var bad = root.querySelector("input[aria-invalid=true], select[aria-invalid=true], fieldset[aria-invalid=true] input");
    if (bad && bad.focus) { bad.focus({ preventScroll: false }); }
  });

  /* The light counts above the entry rows follow the rows as htmx swaps them (each row's
     <tbody> carries its light as class entry-<light>). */
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-light-count]").forEach(function (span) {
      var name = span.getAttribute("data-light-count");
      span.textContent = String(document.querySelectorAll("tbody.entry.entry-" + name).length);
    });
  });

  /* Coming back with the browser's Back button must not leave buttons disabled. */
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[method=post] button[disabled]:not([data-keep-disabled])")
      .forEach(function (b) { b.disabled = false; });
  });
})();

/* The printable tables (templates/print_*.html): their 打印 button opens the print dialog. */
(function () {
  "use strict";
  document.addEventListener("click", function (evt) {
    var el = evt.target;
    if (el && el.closest && el.closest("[data-print]")) { window.print(); }
  });
})();
