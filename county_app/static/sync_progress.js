// The sync page while 立即同步 runs: shows the run's counts as they grow (progress_poll.js);
// once the run is done, the page is loaded again and shows the outcome. Without this file
// the page refreshes itself (noscript) instead.
(function () {
  var box = document.getElementById("sync-progress");
  if (!box || !box.hasAttribute("data-running")) return;
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

  window.pollProgress(box, show, function (status) { return !status.running; }, 1000);
})();
