// The catalogue job page: shows the job's progress (progress_poll.js); once the job is done,
// the page is loaded again and shows the answer.
(function () {
  var box = document.getElementById("job-progress");
  if (!box) return;
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

  window.pollProgress(box, show, function (status) { return status.state === "done"; }, 500);
})();
