/* The Lead Center updates itself: every few seconds it fetches the tabs and the inbox as an
   HTML fragment and swaps them in, so new texts, forms and offers appear without a reload.
   It pauses while the tab is hidden and catches up as soon as it is shown again. */
(function () {
  "use strict";

  var EVERY_MS = 4000;
  var root = document.getElementById("lead-center");
  if (!root || !root.dataset.liveUrl) {
    return;
  }
  var url = root.dataset.liveUrl;
  var timer = null;
  var busy = false;
  // Compare what the agent reads (not the markup: each render carries a fresh CSRF token).
  var shown = document.getElementById("inbox");
  var lastInbox = shown ? shown.textContent : null;

  function setTitle(waiting) {
    var bare = document.title.replace(/^\(\d+\)\s+/, "");
    document.title = waiting > 0 ? "(" + waiting + ") " + bare : bare;
  }

  function swap(id, fresh) {
    var current = document.getElementById(id);
    if (!current || !fresh) {
      return false;
    }
    // Leave the inbox alone while the agent is using one of its buttons.
    if (current.contains(document.activeElement)) {
      return false;
    }
    current.replaceWith(fresh);
    return true;
  }

  function apply(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var live = doc.getElementById("lc-live");
    if (!live) {
      return;
    }
    setTitle(parseInt(live.dataset.waiting || "0", 10));
    // Update the counts in place, so a focused tab link keeps its focus.
    ["tab-mine", "tab-active", "tab-offers"].forEach(function (id) {
      var fresh = doc.querySelector("#" + id + " .count");
      var current = document.querySelector("#" + id + " .count");
      if (fresh && current && current.textContent !== fresh.textContent) {
        current.textContent = fresh.textContent;
      }
    });
    var inbox = doc.getElementById("inbox");
    if (inbox && inbox.textContent !== lastInbox) {
      if (swap("inbox", document.importNode(inbox, true))) {
        lastInbox = inbox.textContent;
      }
    }
  }

  function poll() {
    if (busy || document.hidden) {
      return;
    }
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        // Logged out or no longer allowed: stop rather than keep asking.
        if (response.redirected || !response.ok) {
          stop();
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (html) {
          apply(html);
        }
      })
      .catch(function () {
        /* offline for a moment: the next poll tries again */
      })
      .then(function () {
        busy = false;
      });
  }

  function start() {
    if (timer === null) {
      timer = setInterval(poll, EVERY_MS);
    }
  }

  function stop() {
    if (timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      stop();
    } else {
      poll();
      start();
    }
  });

  start();
})();
