/* The print switches of a notice page (templates/notices/notice_base.html): 打印, 大字, the dialog opened on
 load (unless ?noprint=1), and for a case notice the count of its prints (see views/notices.py). */
(function () {
  var body = document.body, large = document.getElementById("large-button");
  document.getElementById("print-button").addEventListener("click", function () { window.print(); });
  large.addEventListener("click", function () {
    var on = body.classList.toggle("large"), query = new URLSearchParams(location.search);
    if (on) { query.set("large", "1"); } else { query.delete("large"); }
    query.set("noprint", "1");  // a reload after switching shows the page without opening the dialog again
    history.replaceState(null, "", location.pathname + "?" + query.toString());
    large.textContent = on ? "标准字" : "大字";
    large.setAttribute("aria-pressed", on ? "true" : "false");
  });
  var log = body.getAttribute("data-print-log");
  if (log) {
    // Browsers raise the same beforeprint/afterprint for a print and for a cancelled dialog, so the page cannot
    // tell them apart: when the dialog closes it asks 「打印出来了吗？」, and only 已打印 (Enter) counts the print
    // (and makes the next paper a 补打). 没有打出 (Esc), or no answer, counts nothing. Opening the page or
    // switching to large type raises nothing. A print answered 已打印 by mistake can still be taken back.
    var mark = document.querySelector("[data-reprint]"), count = document.querySelector("[data-print-count]"),
        status = document.getElementById("print-status"), withdraw = document.getElementById("withdraw-button"),
        question = document.getElementById("print-question"), yes = document.getElementById("printed-yes"),
        no = document.getElementById("printed-no"),
        printed = parseInt(body.getAttribute("data-printed"), 10) || 0;
    // keepalive: the print is still logged when the clerk closes the window as soon as it is answered.
    var post = function (url, data) {
      var failed = {error: "请刷新本页后再试；如已打出，请告知系统管理员"};
      return fetch(url, {method: "POST", keepalive: true, credentials: "same-origin", body: JSON.stringify(data),
                         headers: {"Content-Type": "application/json", "Accept": "application/json",
                                   "X-CSRFToken": body.getAttribute("data-csrf")}})
        .then(function (response) {
          // a page instead of JSON means the login expired
          return response.json().then(function (answer) {
            return response.ok ? {ok: answer} : {error: answer.error ? answer.error.message : failed.error};
          }, function () { return failed; });
        }, function () { return failed; });
    };
    var show = function () {  // the 补打 mark the next paper carries
      mark.hidden = printed === 0;
      count.textContent = printed + 1;
    };
    var ask = function (open) {
      question.hidden = !open;
      if (open) { yes.focus(); }
    };
    window.addEventListener("beforeprint", function () {
      ask(false);  // a question left unanswered counted nothing
      if (withdraw) { withdraw.hidden = true; }
      // Synchronous on purpose: the mark must be on the page before the browser lays it out for paper.
      // Another clerk may have printed meanwhile; without an answer the page's own count decides.
      var request = new XMLHttpRequest();
      try {
        request.open("GET", log, false);
        request.setRequestHeader("Accept", "application/json");
        request.send();
        if (request.status === 200) { printed = JSON.parse(request.responseText).print_count; }
      } catch (error) { /* keep the page's count */ }
      show();
    });
    window.addEventListener("afterprint", function () {
      status.textContent = "";
      ask(true);
    });
    yes.addEventListener("click", function () {
      ask(false);
      post(log, {}).then(function (result) {
        if (result.ok) {
          printed = result.ok.print_count;
          status.textContent = result.ok.reprint ? "已记录：补打（第" + printed + "次打印）" : "已记录打印";
          if (withdraw) { withdraw.hidden = false; }
          show();
        } else {
          status.textContent = "未能记录本次打印：" + result.error;
        }
      });
    });
    no.addEventListener("click", function () {
      ask(false);
      status.textContent = "没有打出：不计打印";
      document.getElementById("print-button").focus();
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !question.hidden) {
        event.preventDefault();
        no.click();
      }
    });
    if (withdraw) {
      withdraw.addEventListener("click", function () {
        post(withdraw.getAttribute("data-url"), {print_count: printed}).then(function (result) {
          if (result.ok) {
            printed = result.ok.print_count;
            withdraw.hidden = true;
            status.textContent = "已撤销：这次没有打出，不计打印" + (printed ? "（已打印 " + printed + " 次）" : "");
            show();
          } else {
            status.textContent = "未能撤销：" + result.error;
          }
        });
      });
    }
  }
  if (body.hasAttribute("data-autoprint")) { window.addEventListener("load", function () { window.print(); }); }
})();
