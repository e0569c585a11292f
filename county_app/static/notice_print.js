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
    // A print counts when the print dialog closes (afterprint), never when the page is opened or switched
    // to large type. The browser raises the same events when its dialog is cancelled, so after each one
    // the clerk may say that nothing came out (没有打出), which takes that print back on the server.
    var mark = document.querySelector("[data-reprint]"), count = document.querySelector("[data-print-count]"),
        status = document.getElementById("print-status"), withdraw = document.getElementById("withdraw-button"),
        printed = parseInt(body.getAttribute("data-printed"), 10) || 0;
    // keepalive: the print is still logged when the clerk closes the window as soon as the dialog is gone.
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
    window.addEventListener("beforeprint", function () {
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
      post(log, {}).then(function (result) {
        if (result.ok) {
          printed = result.ok.print_count;
          status.textContent = result.ok.reprint ? "已记录：补打（第" + printed + "次打印）" : "已记录打印";
          if (withdraw) { withdraw.hidden = false; }
        } else {
          status.textContent = "未能记录本次打印：" + result.error;
        }
      });
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
