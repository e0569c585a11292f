// The sync page while 立即同步 runs: polls the run's small JSON status and shows its counts;
// once the run is done, the page is loaded again and shows the outcome. Without this file
// the page refreshes itself (noscript) instead.
(function () {
  var box = document.getElementById("sync-progress");
  if (!box || !box.hasAttribute("data-running")) return;
  var statusUrl = box.getAttribute("data-status-url");
  var pageUrl = box.getAttribute("data-page-url");
  var stages = { push: "正在上传", scans: "正在上传扫描件", pull: "正在下载", reconcile: "正在与汇聚中心核对" };

  function set(id, text) { var el = document.getElementById(id); if (el) el.textContent = text; }

  function show(status) {
    set("sync-stage", stages[status.stage] || "正在连接");
    set("sync-pushed", status.pushed);
    set("sync-to-push", status.to_push);
    set("sync-pulled", status.pulled);
    var bar = document.getElementById("sync-bar");
    if (bar && status.to_push) { bar.max = status.to_push; bar.value = Math.min(status.pushed, status.to_push); }
  }

  function poll() {
    var request = new XMLHttpRequest();
    request.open("GET", statusUrl);
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      if (request.status !== 200) { window.location.replace(pageUrl); return; }
      var status = JSON.parse(request.responseText);
      if (!status.running) { window.location.replace(pageUrl); return; }
      show(status);
      window.setTimeout(poll, 1000);
    };
    request.onerror = function () { window.setTimeout(poll, 2000); };
    request.send();
  }
  window.setTimeout(poll, 1000);
})();
