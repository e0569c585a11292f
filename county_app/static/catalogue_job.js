// The catalogue job page: polls the job's small JSON status and shows its progress;
// once the job is done, the page is loaded again and shows the answer. Works offline.
(function () {
  var box = document.getElementById("job-progress");
  if (!box) return;
  var statusUrl = box.getAttribute("data-status-url");
  var pageUrl = box.getAttribute("data-page-url");
  var stage = document.getElementById("job-stage");
  var count = document.getElementById("job-count");
  var position = document.getElementById("job-position");
  var bar = document.getElementById("job-bar");
  var seconds = document.getElementById("job-seconds");

  function show(status) {
    stage.textContent = status.stage;
    count.textContent = status.total ? status.done + " / " + status.total : "";
    position.textContent = status.position ? "（排队中，前面还有 " + status.position + " 个文件）" : "";
    if (status.total) {
      bar.max = status.total;
      bar.value = Math.min(status.done, status.total);
    } else {
      bar.removeAttribute("value");  // indeterminate while there is nothing to count
    }
    seconds.textContent = status.seconds;
  }

  function poll() {
    var request = new XMLHttpRequest();
    request.open("GET", statusUrl);
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      if (request.status !== 200) { window.location.replace(pageUrl); return; }
      var status = JSON.parse(request.responseText);
      if (status.state === "done") { window.location.replace(pageUrl); return; }
      show(status);
      window.setTimeout(poll, 1000);
    };
    request.onerror = function () { window.setTimeout(poll, 2000); };
    request.send();
  }

  window.setTimeout(poll, 500);
})();
