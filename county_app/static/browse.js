// Keyboard use of the catalogue pages: "/" goes to the search box from anywhere,
// arrow keys move through result lists ([data-keynav]), Enter opens (native links).
(function () {
  "use strict";
  if (window.countyBrowseKeys) return; // included twice (base.html and a page): bind once
  window.countyBrowseKeys = true;
  var script = document.currentScript;
  var searchUrl = (script && script.dataset.searchUrl) || "/search";

  function editable(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var box = document.getElementById("search-q");
    var target = event.target;
    // In a field "/" is a character, except in the empty search box itself,
    // where it can only be the shortcut pressed once more.
    if (editable(target) && !(target === box && box.value === "")) return;
    event.preventDefault();
    if (box) {
      box.focus();
      box.select();
    } else {
      window.location.href = searchUrl;
    }
  });

  function links(list) {
    return Array.prototype.slice.call(list.querySelectorAll("a[href]"));
  }

  document.querySelectorAll("[data-keynav]").forEach(function (list) {
    list.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      var all = links(list);
      var index = all.indexOf(document.activeElement);
      if (index < 0) return;
      var next = index + (event.key === "ArrowDown" ? 1 : -1);
      event.preventDefault();
      if (next < 0) {
        var box = document.getElementById("search-q");
        if (box) box.focus();
      } else if (next < all.length) {
        all[next].focus();
      }
    });
  });

  // From the search box, the down arrow enters the first list of results — of the text in the box: text
  // not yet searched is searched first (the results page then makes its first hit current). Tab enters the
  // results too when the box holds the text they were found for (otherwise it goes on to the button).
  var box = document.getElementById("search-q");
  if (box) {
    box.addEventListener("keydown", function (event) {
      if (event.isComposing || event.ctrlKey || event.altKey || event.metaKey) return;
      var typed = box.value.trim(), searched = box.defaultValue.trim();  // the value the page came with: what was searched
      if (event.key === "Tab" && (event.shiftKey || !typed || typed !== searched)) return;
      if (event.key !== "ArrowDown" && event.key !== "Tab") return;
      if (typed && typed !== searched) {
        event.preventDefault();
        box.form.requestSubmit();
        return;
      }
      var list = document.querySelector("[data-keynav]");
      var first = list && links(list)[0];
      if (first) {
        event.preventDefault();
        first.focus();
      }
    });
  }

  // Browsers honour autofocus on links unevenly; make the first result current.
  var wanted = document.querySelector("a[autofocus]");
  if (wanted && !editable(document.activeElement)) wanted.focus();
})();
