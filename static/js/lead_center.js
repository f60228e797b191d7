/* The Lead Center and the contact page update themselves when told to (docs/live.md).

   static/js/live.js holds one socket per page; when a stream of this page changes (a text
   to Mine or Active, an offer, a claim, a take, a change of owner) the part fetches itself
   again and swaps in what the agent reads: the Lead Center its tabs and inbox (the live
   fragment), the contact page its card (owner, Re-Assign in progress), interactions and
   timeline (the page itself). No polling: a slow safety refresh (data-safety-seconds) only
   covers a message lost while the socket or Redis was down. Nothing is fetched while the
   tab is hidden; it catches up when shown. Without JavaScript, or with the socket blocked,
   the page works as it is and a reload shows the news. */
(function () {
  "use strict";

  function setTitle(waiting) {
    var bare = document.title.replace(/^\(\d+\)\s+/, "");
    document.title = waiting > 0 ? "(" + waiting + ") " + bare : bare;
  }

  // Swap in a part unless the agent is using one of its buttons or fields (next time).
  function swap(id, doc) {
    var current = document.getElementById(id);
    var fresh = doc.getElementById(id);
    if (!current || !fresh || current.contains(document.activeElement)) {
      return false;
    }
    // Compare what the agent reads, not the markup (each render has a fresh CSRF token).
    if (current.textContent !== fresh.textContent) {
      current.replaceWith(document.importNode(fresh, true));
    }
    return true;
  }

  function counted(root) {
    root.dataset.refreshes = String(parseInt(root.dataset.refreshes || "0", 10) + 1);
  }

  // One part: its refresh on every message of its streams, and a slow safety refresh.
  function live(root, fetchAndApply) {
    var stopped = false;
    var last = Date.now();

    function refresh() {
      if (stopped) {
        return null;
      }
      last = Date.now();
      return window.SwitchboardLive.fetchPart(fetchAndApply.url())
        .then(function (response) {
          // Logged out, no longer allowed, or the session now works in another company (the
          // page says so): stop rather than keep asking.
          if (response.redirected || [401, 403, 404, 409].indexOf(response.status) !== -1) {
            stopped = true;
            return null;
          }
          // A server error or a 429 is for a moment: the next message or safety refresh
          // tries again.
          if (!response.ok) {
            return null;
          }
          return response.text();
        })
        .then(function (html) {
          if (html) {
            fetchAndApply.apply(new DOMParser().parseFromString(html, "text/html"));
            counted(root);
          }
        })
        .catch(function () {
          /* offline for a moment: the next message or safety refresh tries again */
        });
    }

    if (window.SwitchboardLive && root.dataset.live) {
      window.SwitchboardLive.watch(root, refresh);
    }
    // The page's <meta name="live-safety-seconds"> (base.html), as live_parts.js reads it.
    var meta = document.querySelector('meta[name="live-safety-seconds"]');
    var every = meta ? parseInt(meta.content, 10) * 1000 : 0;
    if (every > 0) {
      setInterval(function () {
        if (!document.hidden && Date.now() - last >= every) {
          refresh();
        }
      }, Math.min(every, 10000));
    }
  }

  var center = document.getElementById("lead-center");
  if (center && center.dataset.liveUrl) {
    live(center, {
      url: function () {
        return center.dataset.liveUrl;
      },
      apply: function (doc) {
        var fresh = doc.getElementById("lc-live");
        if (!fresh) {
          return;
        }
        setTitle(parseInt(fresh.dataset.waiting || "0", 10));
        // The counts in place, so a focused tab link keeps its focus.
        ["tab-mine", "tab-active", "tab-offers"].forEach(function (id) {
          var count = doc.querySelector("#" + id + " .count");
          var current = document.querySelector("#" + id + " .count");
          if (count && current && current.textContent !== count.textContent) {
            current.textContent = count.textContent;
          }
        });
        swap("inbox", doc);
      },
    });
  }

  var contact = document.getElementById("contact-page");
  if (contact) {
    live(contact, {
      url: function () {
        return location.pathname + location.search;
      },
      apply: function (doc) {
        ["contact-card", "contact-interactions", "contact-timeline"].forEach(function (id) {
          swap(id, doc);
        });
      },
    });
  }
})();
