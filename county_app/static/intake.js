// Keyboard help for the intake form (/intake/new), on the helpers of page.js (loaded first).
// Everything here is a convenience: every form also works by plain posts, without this file.
// - Enter moves to the next field (past fields filled in from the applicant, and past the
//   agent's fields when no agent is named), never past a situation question not yet answered;
//   digits 1–9 pick an option of a question and stay on it (page.js; the hint: 数字键选择，Enter
//   到下一题); in a 多选 field they tick or untick option N, and Enter goes on to the next field,
//   not box by box. When Enter has to wait for the lists to refresh (an answer may show another
//   question), keys typed meanwhile are held and replayed where the focus lands, so a date typed
//   ahead never picks an option of the question left behind. Answers,
//   ticks, the applicant's kind and an agent typed in or cleared (materials may hinge on them)
//   refresh the questions, matters, materials and form in the background; ID numbers, credit
//   codes and phones are checked on Enter (typed full-width or with spaces, they are shown in ASCII);
//   fields with a 预填来源 follow the applicant, the agent or another field until changed by hand;
//   Ctrl+Enter registers.
// - What was typed is kept in this tab's sessionStorage until it is saved, so a login that timed
//   out loses nothing: after the new login the intake page restores a form whose 登记 was cut
//   off (else offers to). A refused 登记 comes back as a GET of its server-side draft (?draft=):
//   reloading it lays what was corrected since over it. A form that became a case, shown again
//   by Back, says so instead of offering itself to be registered again.
(function () {
  "use strict";
  if (window.countyIntakeKeys || !window.countyPage) return;
  window.countyIntakeKeys = true;
  var P = window.countyPage;
  var $ = P.$, $$ = P.$$, editable = P.editable, csrf = P.csrf, store = P.store, load = P.load, drop = P.drop;
  var entries = P.entries, refill = P.refill, focusInside = P.focusInside, choose = P.choose;
  var INTAKE_KEY = P.INTAKE_KEY, DONE_KEY = P.DONE_KEY;
  var showDraftBanner = P.showDraftBanner;

  var intake = $("form#intake");
  var banner = $("#draft-banner");
  var pending = null, sequence = 0;
  var typedAhead = null;  // keys pressed while a move waits for the lists, replayed where it lands

  function settled(then) { (pending || Promise.resolve()).then(then, then); }

  // Move on from ``el`` once the lists are refreshed; keys typed meanwhile go where the move lands.
  function moveWhenSettled(el) {
    var id = el.id, name = el.name;
    typedAhead = typedAhead || [];
    settled(function () {
      var from = (id && document.getElementById(id)) || (name && $('[name="' + name + '"]', intake)) || el;
      var keys = typedAhead;
      typedAhead = null;
      if (from.isConnected) moveFrom(from); else { var first = fields()[0]; if (first) first.focus(); }
      replay(keys || []);
    });
  }

  function replay(keys) {
    while (keys.length) {
      if (typedAhead) { typedAhead.push.apply(typedAhead, keys); return; }  // a replayed Enter waits again
      press(keys.shift(), document.activeElement);
    }
  }

  // One held key, as it would have acted on ``el``.
  function press(key, el) {
    if (!el || !intake.contains(el)) return;
    if (key === "Enter") { enter(el); return; }
    if ((el.type === "radio" || el.type === "checkbox") && /^[1-9]$/.test(key)) { choose(el, key); return; }
    if (el.type === "checkbox" && key === " ") { el.click(); return; }
    if (!editable(el) || el.tagName === "SELECT") return;
    var start = el.selectionStart, end = el.selectionEnd;
    if (key === "Backspace") {
      if (start === end && start > 0) start -= 1;
      el.setRangeText("", start, end, "end");
    } else if (key.length === 1) {
      el.setRangeText(key, start, end, "end");
    } else {
      return;
    }
    el.dispatchEvent(new Event("input", {bubbles: true}));
  }

  document.addEventListener("keydown", function (event) {
    if (!typedAhead || event.isComposing || event.ctrlKey || event.altKey || event.metaKey) return;
    if (event.key === "Enter" || event.key === "Backspace" || event.key.length === 1) {
      event.preventDefault();
      event.stopImmediatePropagation();
      typedAhead.push(event.key);
    }
  }, true);

  if (!intake) { showDraftBanner(); return; }
  // The page starts at its first question or error (autofocus), not where an earlier visit was scrolled.
  if ("scrollRestoration" in history) history.scrollRestoration = "manual";

  var checkUrl = intake.dataset.checkUrl;
  // ``cutOff``: sent, and no page came back for it yet (the login had ended): restored after logging in.
  function saveDraft(cutOff) {
    store(INTAKE_KEY, {saved: Date.now(), action: intake.getAttribute("action"), title: intake.dataset.title,
                       token: intake.dataset.draftToken || "", cutOff: cutOff === true, entries: entries(intake)});
  }

  // This very form already became a case (Back, or the browser's page cache, shows it again).
  function registeredForm() {
    var done = load(DONE_KEY), key = $('input[name="request_key"]', intake);
    if (!done || !key || done.key !== key.value) return false;
    banner.innerHTML = "";
    var text = document.createElement("strong"), link = document.createElement("a");
    text.textContent = "这份新办件已经登记，办件编号 " + done.caseNo + "。";
    link.href = done.url;
    link.textContent = "打开办件";
    banner.append(text, " ", link);
    banner.hidden = false;
    $$("#register, .action-bar button", intake).forEach(function (b) { b.disabled = true; });
    link.focus();
    return true;
  }

  // Back to a fresh intake page right after 登记: say where the last one went.
  function justRegistered() {
    var done = load(DONE_KEY), how = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    if (!done || !how || how.type !== "back_forward" || Date.now() - done.at > 3600 * 1000) return;
    var link = document.createElement("a");
    link.href = done.url;
    link.textContent = done.caseNo;
    intake.reset();  // the browser may have put back choices of the registered form: this one is new
    banner.innerHTML = "";
    banner.append("上一份新办件已登记为 ", link, "（点击打开）；下面是一份新的空白表。");
    banner.hidden = false;
    window.scrollTo(0, 0);
    link.focus();
  }

  // A refused 登记's page, loaded again (reload, Back): lay over it what was corrected here since.
  function laterCorrections() {
    var draft = load(INTAKE_KEY), token = intake.dataset.draftToken;
    if (!token || !draft || draft.token !== token || draft.saved <= Number(intake.dataset.savedAt || 0)) return;
    var lists = function () {  // what the questions, matters and materials follow
      return JSON.stringify(entries(intake).filter(function (p) { return /^(q\.|g\.|matters$|kind$)/.test(p[0]); }));
    };
    var before = lists();
    if (!refill(intake, draft.entries)) return;
    var note = document.createElement("p");
    note.className = "flash";
    note.setAttribute("role", "status");
    note.textContent = "已恢复您在本页改正的内容（重新载入不会丢失），请核对后再登记。";
    intake.insertBefore(note, intake.firstChild);
    if (lists() !== before) refresh();  // else the problems stay listed as the server gave them
  }

  window.addEventListener("pageshow", function (event) { if (event.persisted) registeredForm(); });
  if (registeredForm()) return;
  if (intake.dataset.fresh === "1") { showDraftBanner(); justRegistered(); } else { laterCorrections(); saveDraft(); }

  function fields() {
    return $$("input:not([type=hidden]), select, textarea, button#register", intake).filter(function (el) {
      return !el.disabled && el.offsetParent !== null && el.tabIndex >= 0;
    });
  }

  // Enter passes over what needs no keys: form fields still holding what was filled in from the
  // applicant (Tab still stops there to correct them), and the agent's other fields when no agent
  // name was typed.
  function passedOver(from, next) {
    if (next.dataset.filled && next.value === next.dataset.filled) return true;
    var agent = $("#g-name", intake);
    return agent && agent.value.trim() === "" && from.name && from.name.indexOf("g.") === 0 &&
      next.name && next.name.indexOf("g.") === 0;
  }

  // A situation question decides which matters apply: Enter does not leave it unanswered.
  function unanswered(el) {
    var question = el.type === "radio" && el.closest("fieldset.question");
    if (!question || $('input[type="radio"]:checked', question)) return false;
    var count = $$('input[type="radio"]', question).length;
    var note = $(".question-note", question);
    if (!note) {
      note = document.createElement("p");
      note.className = "field-error question-note";
      note.setAttribute("role", "alert");
      question.appendChild(note);
    }
    note.textContent = "请先回答本题：按数字键 1–" + Math.min(count, 9) + " 选择，再按 Enter 到下一题。";
    return true;
  }

  function moveFrom(el) {
    if (unanswered(el)) { el.focus(); return null; }
    return moveNext(el);
  }

  // A 多选 field is one stop for Enter (its digits tick the options); the matters list is not: Enter
  // shows each matter in turn.
  function inMulti(el) { return el.type === "checkbox" && !!el.closest('[data-digits="multi"]'); }

  function moveNext(el) {
    if (!el) return null;
    var all = fields(), i = all.indexOf(el);
    for (var j = i + 1; j < all.length; j++) {
      var next = all[j];
      if (next.name === el.name && (next.type === "radio" || inMulti(next))) continue;  // one stop per group
      if (passedOver(el, next)) continue;
      if (next.type === "radio") next = $('input[name="' + next.name + '"]:checked', intake) || next;
      next.focus();
      if (next.select && editable(next)) next.select();
      return next;
    }
    return null;
  }

  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var activeId = document.activeElement && document.activeElement.id;
    ["guide-part", "fields-part"].forEach(function (id) {
      var old = document.getElementById(id), fresh = doc.getElementById(id);
      if (!old || !fresh) return;
      refill(fresh, entries(intake).filter(function (pair) {
        return $$("[name]", old).some(function (el) { return el.name === pair[0] && el.type !== "hidden"; });
      }));
      // what was filled in stays marked as such, so that it keeps following its source
      $$("input[data-prefill]", fresh).forEach(function (input) {
        var before = $$("input[data-filled]", old).filter(function (el) { return el.name === input.name; })[0];
        if (before && input.value === before.dataset.filled) input.dataset.filled = before.dataset.filled;
      });
      // a box ticked on screen but unticked in the answer: keep the screen's choice
      $$('input[type="checkbox"]', fresh).forEach(function (box) {
        var before = $$('input[type="checkbox"]', old).filter(function (b) { return b.name === box.name && b.value === box.value; })[0];
        if (before) box.checked = before.checked;
      });
      old.replaceWith(document.adoptNode(fresh));
    });
    var problems = $("#problems"), freshProblems = doc.getElementById("problems");
    if (problems && !freshProblems) problems.remove();
    prefill();
    if (activeId && document.getElementById(activeId)) document.getElementById(activeId).focus();
  }

  var answerUrl = "";  // the login page a refresh was sent to, with its ``next``
  function refresh() {
    var mine = ++sequence, body = new FormData(intake);
    body.set("action", "refresh");
    intake.classList.add("is-refreshing");
    pending = fetch(intake.getAttribute("action"), {method: "POST", body: body, credentials: "same-origin"})
      .then(function (answer) {
        if (/\/login/.test(answer.url)) { answerUrl = answer.url; throw new Error("login"); }
        return answer.text();
      })
      .then(function (html) { if (mine === sequence) swap(html); })
      .catch(function (error) {
        saveDraft(error.message === "login");
        if (error.message !== "login") { alert("无法连接服务器，清单没有更新；填写的内容仍在页面上。"); return; }
        alert("登录已过期。填写的内容已保存在本机，重新登录后回到这份新办件。");
        location.href = answerUrl;
      })
      .then(function () { if (mine === sequence) { intake.classList.remove("is-refreshing"); pending = null; } });
  }

  function note(input, text, ok) {
    var hint = document.getElementById(input.id + "-hint"), error = document.getElementById(input.id + "-error");
    if (ok) {
      if (error) error.remove();
      input.removeAttribute("aria-invalid");
      if (!hint) {
        hint = document.createElement("span");
        hint.className = "field-hint";
        hint.id = input.id + "-hint";
        input.insertAdjacentElement("afterend", hint);
      }
      hint.textContent = text;
      hint.classList.add("is-ok");
      return;
    }
    if (!error) {
      error = document.createElement("p");
      error.className = "field-error";
      error.id = input.id + "-error";
      input.parentNode.appendChild(error);
    }
    error.textContent = text;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", error.id);
  }

  // A number as the server reads it (identity.compact): a Chinese input method or an ID-card reader
  // typing into one gives full-width digits and letters, people type spaces and dashes. The box shows
  // the canonical form at once, also when the message that comes back says what is still wrong.
  function compactNumber(value) {
    return value.normalize("NFKC").replace(/[\s\p{Pd}\u2212]/gu, "").toUpperCase();
  }

  function check(input) {
    var value = compactNumber(input.value);
    if (!value) return Promise.resolve(true);
    if (value !== input.value) input.value = value;
    var body = new FormData();
    body.set("kind", input.dataset.check);
    body.set("value", value);
    return fetch(checkUrl, {method: "POST", body: body, credentials: "same-origin", headers: {"X-CSRFToken": csrf()}})
      .then(function (answer) { return answer.json(); })
      .then(function (answer) {
        if (!answer.ok) { note(input, answer.message, false); return false; }
        input.value = answer.value;
        note(input, answer.sex ? "✓ " + answer.sex + " · " + answer.birth_date + " 出生" : "✓ 号码正确", true);
        prefill();
        return true;
      }, function () { return true; });
  }

  // What a 预填来源 (data-prefill) may name, by its code: the applicant's details ("name" …), the
  // agent's ("agent.name" …) and every field of the form ("form.XSEXM"), as on screen now.
  function sources() {
    var values = {}, box = $("fieldset.applicant:not([disabled])", intake);
    $$("[data-applicant]", box || intake).forEach(function (el) { values[el.dataset.applicant] = el.value.trim(); });
    $$("[data-agent]", intake).forEach(function (el) { values["agent." + el.dataset.agent] = el.value.trim(); });
    $$('[name^="f."]', intake).forEach(function (el) {
      var key = "form." + el.name.slice(2);
      if (!(key in values)) values[key] = "";
      if ((el.type !== "radio" && el.type !== "checkbox") || el.checked) {
        values[key] = values[key] ? values[key] + "|" + el.value.trim() : el.value.trim();
      }
    });
    return values;
  }

  // Fill each field with a 预填来源 from its source, unless the clerk typed something else into it
  // (data-filled remembers what was filled in). A field may fill from a field that fills from
  // another: repeat while something changes (the catalogue refuses cycles; the bound is a guard).
  function prefill() {
    for (var pass = 0; pass < 5; pass++) {
      var values = sources(), changed = false;
      $$("input[data-prefill]", intake).forEach(function (input) {
        var value = values[input.dataset.prefill];
        if (value === undefined) return;
        if (input.value === "" || input.value === input.dataset.filled) {
          if (input.value !== value) changed = true;
          input.value = value;
          input.dataset.filled = value;
        }
      });
      if (!changed) return;
    }
  }

  function normaliseDate(input) {
    var v = input.value.trim(), m = /^(\d{4})(\d{2})(\d{2})$/.exec(v) || /^(\d{4})[.\/年-](\d{1,2})[.\/月-](\d{1,2})日?$/.exec(v);
    if (m) input.value = m[1] + "-" + ("0" + m[2]).slice(-2) + "-" + ("0" + m[3]).slice(-2);
  }

  // Whether the agent section names an agent: the 授权委托书 and the agent's ID card hinge on it.
  function agentTyped() {  // as intake/facts.py agent_named: any value filled in
    return $$('input[name^="g."]', intake).some(function (el) { return el.value.trim() !== ""; });
  }
  var hadAgent = agentTyped();
  function agentChanged() {
    var now = agentTyped();
    if (now === hadAgent) return false;
    hadAgent = now;
    return true;
  }

  intake.addEventListener("change", function (event) {
    var t = event.target;
    if (t.name === "kind") {
      $$("fieldset.applicant", intake).forEach(function (box) {
        var on = box.dataset.kind === t.value;
        box.hidden = !on;
        box.disabled = !on;
      });
      prefill();
    }
    if (/^q\./.test(t.name) || t.name === "matters" || t.name === "kind" || (/^g\./.test(t.name) && agentChanged())) refresh();
    if (t.hasAttribute("data-date")) normaliseDate(t);
    if (/^f\./.test(t.name || "")) prefill();  // a date normalised, an option picked by a digit key
    if (t.dataset.check) check(t);
    saveDraft();
  });
  intake.addEventListener("input", function (event) {
    var t = event.target;
    if (t.hasAttribute("data-applicant") || t.hasAttribute("data-agent") || /^f\./.test(t.name || "")) prefill();
    if (/^g\./.test(event.target.name || "") && agentChanged()) refresh();
    saveDraft();
  });
  intake.addEventListener("submit", function () { saveDraft(true); });

  intake.addEventListener("keydown", function (event) {
    var t = event.target;
    if (event.key !== "Enter" || event.altKey || event.shiftKey) return;
    if (event.ctrlKey || event.metaKey) {
      event.preventDefault();
      settled(function () { $("#register").click(); });
      return;
    }
    if (!/^(INPUT|SELECT)$/.test(t.tagName) || /^(submit|button|file)$/.test(t.type)) return;
    event.preventDefault();
    enter(t);
  });

  function enter(t) {
    if (t.dataset.check) {
      // Move on at once (a card reader or a fast clerk types ahead); come back only if the
      // number is wrong and nothing has been typed in the next field yet.
      var next = moveNext(t), before = next && next.value;
      check(t).then(function (ok) {
        if (!ok && document.activeElement === next && next.value === before) { t.focus(); t.select(); }
      });
      return;
    }
    if (t.hasAttribute("data-date")) normaliseDate(t);
    // Only the questions and matters wait for the lists (an answer may show the next question);
    // elsewhere what comes next is already on the page, and text typed ahead (an input method's
    // too, which sends no keys to hold) must find its field at once.
    var part = $("#guide-part");
    if (!typedAhead && (!pending || !(part && part.contains(t)))) { moveFrom(t); return; }
    moveWhenSettled(t);
  }

  var known = sources();
  $$("input[data-prefill]", intake).forEach(function (input) {
    if (input.value && input.value === known[input.dataset.prefill]) input.dataset.filled = input.value;
  });
  prefill();
  var start = intake.dataset.focus && document.getElementById(intake.dataset.focus);
  if (start && document.activeElement === document.body) focusInside(start);
})();
