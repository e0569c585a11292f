// A long job's page (a catalogue check, 立即同步): polls the job's small JSON status (the box's
// data-status-url) and hands it to show(status); once done(status) says so, or the status cannot
// be read, the page (data-page-url) is loaded again and shows the outcome. Works offline.
window.pollProgress = function (box, show, done, firstDelay) {
  var statusUrl = box.getAttribute("data-status-url");
  var pageUrl = box.getAttribute("data-page-url");

  function poll() {
    var request = new XMLHttpRequest();
    request.open("GET", statusUrl);
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      if (request.status !== 200) { window.location.replace(pageUrl); return; }
      var status = JSON.parse(request.responseText);
      if (done(status)) { window.location.replace(pageUrl); return; }
      show(status);
      window.setTimeout(poll, 1000);
    };
    request.onerror = function () { window.setTimeout(poll, 2000); };
    request.send();
  }
  window.setTimeout(poll, firstDelay);
};
