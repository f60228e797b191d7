/* Live parts of a page (docs/live_pages.md): when SwitchboardLive (live.js) says a stream
   of the page changed, fetch the page's fragment once and swap in each of its parts.

     window.SwitchboardLiveParts.follow(root)

   root.dataset.live is the token its view signed, root.dataset.liveUrl the fragment's
   address (the page's own query string is added: the workload page's sort and period).
   Every element of the fragment with data-live-part replaces the page's element of the same
   id, except:
   - one whose data-live-key is the same as the page's (the campaign's buttons: swapped
     only when the status changed, so a ticked box stays ticked);
   - one holding the focus (a button about to be pressed): it is swapped once the focus
     leaves it.
   live.js runs at most one refresh at a time and queues one more for what arrives
   meanwhile, so a busy center costs one fetch in flight and one waiting. With JavaScript
   off, or the socket blocked or refused, nothing here runs: the page is right on reload. */
(function () {
  "use strict";

  var HINT_CHECK_MS = 2000;

  function focusedIn(element) {
    var active = document.activeElement;
    return active && active !== document.body && element.contains(active);
  }

  // "· reload for the latest" is true only while the page is not live.
  function showHints() {
    var live = window.SwitchboardLive && window.SwitchboardLive.connected();
    document.querySelectorAll(".live-hint").forEach(function (hint) {
      hint.hidden = Boolean(live);
    });
  }

  function follow(root) {
    if (!root || !root.dataset.live || !root.dataset.liveUrl || !window.SwitchboardLive) {
      return;
    }
    var url = root.dataset.liveUrl;
    var held = false;

    function apply(html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      doc.querySelectorAll("[data-live-part]").forEach(function (fresh) {
        var current = fresh.id && document.getElementById(fresh.id);
        if (!current) {
          return;
        }
        if (fresh.hasAttribute("data-live-key") && fresh.dataset.liveKey === current.dataset.liveKey) {
          return;
        }
        if (focusedIn(current)) {
          held = true;
          return;
        }
        current.replaceWith(document.importNode(fresh, true));
      });
      showHints();
      root.dataset.liveRefreshed = String((parseInt(root.dataset.liveRefreshed || "0", 10) || 0) + 1);
    }

    function refresh() {
      held = false;
      return window.SwitchboardLive.fetchPart(url + window.location.search)
        .then(function (response) {
          // Logged out (the login page) or no longer allowed: leave the page as it is.
          if (response.redirected || !response.ok) {
            return null;
          }
          return response.text();
        })
        .then(function (html) {
          if (html !== null) {
            apply(html);
          }
        })
        .catch(function () {
          /* offline a moment: the reconnect's catch-up fetches again */
        });
    }

    document.addEventListener("focusout", function () {
      if (held) {
        // The part kept for the focus: fetch it once the focus has moved on.
        setTimeout(function () {
          if (held && !root.querySelector(":focus")) {
            refresh();
          }
        }, 0);
      }
    });
    window.SwitchboardLive.watch(root, refresh);
    // The hint comes hidden (without JavaScript a <noscript> says it): it waits one check
    // for the socket (well under a second to connect) before saying the page is not live.
    setTimeout(function () {
      showHints();
      setInterval(showHints, HINT_CHECK_MS);
    }, HINT_CHECK_MS);
    // A slow safety refresh, socket or not (the page's <meta name="live-safety-seconds">):
    // what the demo's worker changes, or a message lost while Redis restarted, shows within it.
    var meta = document.querySelector('meta[name="live-safety-seconds"]');
    var every = meta ? parseInt(meta.content, 10) * 1000 : 0;
    if (every > 0) {
      setInterval(function () {
        if (!document.hidden) {
          refresh();
        }
      }, every);
    }
  }

  window.SwitchboardLiveParts = { follow: follow };
})();
