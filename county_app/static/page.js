// The keys and drafts of every page, and the helpers intake.js uses (window.countyPage).
// Everything here is a convenience: every form also works by plain posts, without this file.
// - Every page: Alt+letter runs the element marked data-shortcut="letter" (新办件 Alt+N, 办件查询
//   Alt+C, 受理 Alt+A …). Not the accesskey attribute: browsers differ in its modifier keys, and a
//   native accesskey plus this handler would press a button twice.
// - Digits 1–9 pick an option of a radio group marked data-digits (questions, 准予/不予, 送达方式)
//   and stay on it: moving on is Enter's job. In a 多选 field (data-digits="multi") digit N ticks
//   or unticks option N.
// - Case page: in a checklist row O/C/S/E/T log the material, U undoes it, ↑/↓ change rows; in the
//   rating pad (Alt+E) 5…1 pick a rating and Enter goes to 提交评价 (a 差评 is confirmed on its
//   own). What was typed in a case form is kept in this tab's sessionStorage until it is saved, so
//   a login that timed out loses nothing: the form refills itself. The page of a case just
//   registered drops the intake's draft and notes which form it came from (Back then says so).
(function () {
  "use strict";
  if (window.countyPage) return;
  var INTAKE_KEY = "county-intake-draft";
  var DONE_KEY = "county-intake-registered";
  var FORM_KEY = "county-form:";
  var DRAFT_MAX_AGE = 12 * 3600 * 1000;

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $$(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }
  function editable(el) {
    return el && (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
      (el.tagName === "INPUT" && !/^(radio|checkbox|button|submit|file)$/.test(el.type)));
  }
  function csrf() { var t = $('input[name="csrf_token"]'); return t ? t.value : ""; }
  function store(key, value) { try { sessionStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* full or off */ } }
  function load(key) { try { return JSON.parse(sessionStorage.getItem(key) || "null"); } catch (e) { return null; } }
  function drop(key) { try { sessionStorage.removeItem(key); } catch (e) { /* off */ } }

  function entries(form) {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && name !== "csrf_token" && name !== "action") out.push([name, value]);
    });
    return out;
  }

  // Fill ``form`` with ``pairs``; gives whether anything changed. Hidden fields keep the server's values.
  function refill(form, pairs) {
    var changed = false;
    pairs.forEach(function (pair) {
      $$("[name]", form).forEach(function (el) {
        if (el.name !== pair[0] || el.type === "hidden" || el.type === "file") return;
        if (el.type === "radio" || el.type === "checkbox") {
          if (el.value === pair[1] && !el.checked) { el.checked = true; changed = true; }
        } else if (el.value !== pair[1]) { el.value = pair[1]; changed = true; }
      });
    });
    return changed;
  }

  function focusInside(el) {
    if (!el) return;
    if (/^(INPUT|SELECT|TEXTAREA|BUTTON|A)$/.test(el.tagName)) { el.focus(); return; }
    var inner = $("input:checked:not([type=hidden]), input:not([type=hidden]):not(:disabled), select, textarea, button", el);
    if (inner) inner.focus();
  }

  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var letter = /^Key([A-Z])$/.exec(event.code || "");  // the key, whatever an input method makes of it
    if (!letter) return;
    var target = $$('[data-shortcut="' + letter[1].toLowerCase() + '"]').filter(function (el) {
      return el.offsetParent !== null && !el.disabled;
    })[0];
    if (!target) return;
    event.preventDefault();
    if (editable(target)) target.focus();
    else if (target.tagName === "FIELDSET") focusInside(target);  // enters a group (the rating pad), picks nothing
    else target.click();
  });

  // ---------------------------------------------------------------- case forms: keep what was typed
  $$("form[data-draft][data-version]").forEach(function (form) {
    var key = FORM_KEY + form.dataset.draft, saved = load(key);
    drop(key);
    if (saved && saved.version === form.dataset.version && refill(form, saved.entries)) {
      var note = document.createElement("p");
      note.className = "flash";
      note.setAttribute("role", "status");
      note.textContent = "上次提交没有完成（可能登录已过期），已恢复您填写的内容，请核对后再提交。";
      form.appendChild(note);
      var details = form.closest("details");
      if (details) details.open = true;
    }
    form.addEventListener("submit", function () {
      store(key, {version: form.dataset.version, entries: entries(form)});
    });
  });

  var caseBox = $("#case");
  if (caseBox && caseBox.hasAttribute("data-clear-intake-draft")) {
    drop(INTAKE_KEY);
    store(DONE_KEY, {key: caseBox.dataset.registeredKey, caseNo: caseBox.dataset.case, url: location.pathname,
                     at: Date.now()});
  }

  // ---------------------------------------------------------------- case page keys
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    var t = event.target, row = t.closest && t.closest("tr[data-row]");
    if (row && !editable(t)) {
      var button = $('button[data-key="' + event.key.toLowerCase() + '"]', row);
      if (button) {
        event.preventDefault();
        var licence = $('input[name="licence_no"]', button.form);
        if (licence && !licence.value.trim()) licence.focus(); else button.click();
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        var first = function (r) { return $$("button, summary", r).filter(function (el) { return el.offsetParent !== null; })[0]; };
        var rows = $$("tr[data-row]").filter(first);
        var next = rows[rows.indexOf(row) + (event.key === "ArrowDown" ? 1 : -1)];
        if (next) { event.preventDefault(); first(next).focus(); }
        return;
      }
    }
    // The rating pad answers keys only once the clerk is in it (Alt+E, Tab or a click): a digit picks
    // that rating, Enter goes to 提交评价 — never a submission by itself.
    var rating = t.closest && t.closest("fieldset[data-rating]");
    if (rating && /^[1-5]$/.test(event.key)) {
      var choice = $('input[value="' + event.key + '"]', rating);
      event.preventDefault();
      choice.checked = true;
      choice.focus();
      choice.dispatchEvent(new Event("change", {bubbles: true}));
    } else if (rating && event.key === "Enter") {
      event.preventDefault();
      var submit = $("#rating-submit", rating.form);
      if (submit) submit.focus();
    }
  });
  document.addEventListener("change", function (event) {
    var t = event.target, shown = $("#rating-chosen");
    if (!shown || !t.closest || !t.closest("fieldset[data-rating]")) return;
    shown.textContent = "已选：";
    var word = document.createElement("strong");
    word.textContent = t.closest("label").querySelector(".rate-word").textContent;
    shown.appendChild(word);
    var bad = Number(t.value) <= Number(t.closest("fieldset[data-rating]").dataset.badRating);
    shown.append(bad ? "（差评：提交后须再确认一次）" : "（按 Enter 到“提交评价”，再按 Enter 提交）");
  });

  // A digit picks an option and stays there: moving on is Enter's job, so that the clerk sees
  // each question answered. In a 多选 group (data-digits="multi") it ticks or unticks option N.
  function choose(t, key) {
    var group = t.closest("[data-digits]");
    if (!group) return false;
    var multi = group.dataset.digits === "multi";
    var option = $$(multi ? 'input[type="checkbox"]' : 'input[type="radio"]', group)[Number(key) - 1];
    if (option && (multi || !option.checked)) {
      option.checked = multi ? !option.checked : true;
      option.dispatchEvent(new Event("change", {bubbles: true}));
    }
    if (option) option.focus();
    return true;  // a digit beyond the options does nothing, rather than scroll or type
  }
  document.addEventListener("keydown", function (event) {
    var t = event.target;
    if (!/^(radio|checkbox)$/.test(t.type) || !/^[1-9]$/.test(event.key) || event.ctrlKey || event.altKey ||
        event.metaKey) return;
    if (choose(t, event.key)) event.preventDefault();
  });


  // ---------------------------------------------------------------- the intake's draft (新办件 pages)
  function showDraftBanner() {
    var draft = load(INTAKE_KEY);
    var banner = $("#draft-banner");
    if (!banner || !draft || Date.now() - draft.saved > DRAFT_MAX_AGE) return;
    if (draft.cutOff) { restoreDraft(draft); return; }  // its 登记 or refresh met an ended login: back to it
    var name = (draft.entries.filter(function (p) { return /^[pc]\.name$/.test(p[0]) && p[1]; })[0] || [])[1];
    banner.innerHTML = "";
    var text = document.createElement("span");
    text.textContent = "有一份没有登记的新办件：" + (draft.title || "") + (name ? "，申请人 " + name : "") +
      "（" + new Date(draft.saved).toLocaleTimeString("zh-CN") + " 保存）。";
    var restore = document.createElement("button"), discard = document.createElement("button");
    restore.type = discard.type = "button";
    restore.textContent = "恢复填写";
    discard.textContent = "放弃";
    discard.className = "secondary";
    restore.addEventListener("click", function () { restoreDraft(draft); });
    discard.addEventListener("click", function () { drop(INTAKE_KEY); banner.hidden = true; });
    banner.append(text, restore, " ", discard);
    banner.hidden = false;
  }

  function restoreDraft(draft) {
    draft.cutOff = false;
    store(INTAKE_KEY, draft);  // restored once: a failure of the restore itself does not loop
    var form = document.createElement("form");
    form.method = "post";
    form.action = draft.action;
    draft.entries.concat([["csrf_token", csrf()], ["action", "refresh"]]).forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  window.countyPage = {$: $, $$: $$, editable: editable, csrf: csrf, store: store, load: load, drop: drop,
                       entries: entries, refill: refill, focusInside: focusInside, choose: choose,
                       showDraftBanner: showDraftBanner,
                       INTAKE_KEY: INTAKE_KEY, DONE_KEY: DONE_KEY};
})();
