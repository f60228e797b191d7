/* Live pages (docs/live.md): one socket per page to /live/, which says when a part of the
   page has changed; the part then fetches itself again.

     window.SwitchboardLive.watch(element, onChange)

   element.dataset.live holds a token the page's view signed (the streams this part may
   hear). onChange() re-renders the part (it may return a Promise); it is called at most once
   at a time, coalescing the messages that arrive meanwhile, after a random pause within the
   message's "spread" for streams many pages share (so 200 agents do not ask at once), and
   not while the tab is hidden (once when it is shown again). If the socket drops, it
   reconnects with backoff and jitter and calls every onChange once (catch up). Refused
   (code 4403: a stale or foreign token) it stops; the page still works on reload, as it
   does with JavaScript off or the socket blocked. */
(function () {
  "use strict";

  var REFUSED = 4403;
  var COALESCE_MS = 80; // messages of one commit burst come as one refresh
  var BACKOFF_MIN_MS = 500;
  var BACKOFF_MAX_MS = 30000;

  var watchers = [];
  var byStream = {};
  var socket = null;
  var attempts = 0;
  var everOpen = false;
  var stopped = false;
  var reconnectTimer = null;

  function socketUrl() {
    var base = document.body && document.body.dataset.liveUrl;
    if (base) {
      return base;
    }
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/live/";
  }

  function run(watcher) {
    watcher.timer = null;
    if (document.hidden) {
      watcher.dirty = true;
      return;
    }
    if (watcher.running) {
      watcher.again = true;
      return;
    }
    watcher.running = true;
    watcher.dirty = false;
    var done = function () {
      watcher.running = false;
      if (watcher.again) {
        watcher.again = false;
        schedule(watcher, 0);
      }
    };
    try {
      Promise.resolve(watcher.onChange()).then(done, done);
    } catch (error) {
      done();
    }
  }

  function schedule(watcher, spread) {
    if (watcher.timer !== null) {
      return; // already coming: one refresh covers every message until then
    }
    var pause = COALESCE_MS + (spread > 0 ? Math.random() * spread : 0);
    watcher.timer = setTimeout(function () {
      run(watcher);
    }, pause);
  }

  function catchUp() {
    watchers.forEach(function (watcher) {
      schedule(watcher, 0);
    });
  }

  function sendWatch() {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(
        JSON.stringify({
          watch: watchers.map(function (watcher) {
            return watcher.element.dataset.live;
          }),
        })
      );
    }
  }

  function onMessage(event) {
    var data;
    try {
      data = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (data.watching) {
      // One list of streams per token sent, in order.
      byStream = {};
      data.watching.forEach(function (streams, index) {
        var watcher = watchers[index];
        (streams || []).forEach(function (stream) {
          (byStream[stream] = byStream[stream] || []).push(watcher);
        });
      });
      return;
    }
    if (data.stream) {
      (byStream[data.stream] || []).forEach(function (watcher) {
        if (watcher) {
          schedule(watcher, data.spread || 0);
        }
      });
    }
  }

  function reconnectLater() {
    if (stopped || reconnectTimer !== null) {
      return;
    }
    var ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, attempts));
    attempts += 1;
    // Full jitter between half and all of the ceiling: a restarted server is not met by
    // every page in the same instant.
    var pause = ceiling / 2 + Math.random() * (ceiling / 2);
    reconnectTimer = setTimeout(function () {
      reconnectTimer = null;
      connect();
    }, pause);
  }

  function connect() {
    if (stopped || !watchers.length || typeof WebSocket === "undefined") {
      return;
    }
    var reconnecting = everOpen || attempts > 0;
    try {
      socket = new WebSocket(socketUrl());
    } catch (error) {
      reconnectLater();
      return;
    }
    socket.onopen = function () {
      attempts = 0;
      everOpen = true;
      sendWatch();
      if (reconnecting) {
        catchUp(); // what changed while we were away, once
      }
    };
    socket.onmessage = onMessage;
    socket.onclose = function (event) {
      socket = null;
      if (event.code === REFUSED) {
        stopped = true;
        document.documentElement.dataset.live = "refused";
        return;
      }
      reconnectLater();
    };
  }

  function watch(element, onChange) {
    if (!element || !element.dataset.live || typeof onChange !== "function") {
      return;
    }
    watchers.push({
      element: element,
      onChange: onChange,
      timer: null,
      running: false,
      again: false,
      dirty: false,
    });
    if (socket === null && reconnectTimer === null) {
      connect();
    } else {
      sendWatch();
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      watchers.forEach(function (watcher) {
        if (watcher.dirty) {
          schedule(watcher, 0);
        }
      });
    }
  });

  // A part's fetch says which company its page shows (the server answers 409 once the
  // session works in another, switched to in another tab).
  function fetchPart(url) {
    var company = document.body && document.body.dataset.company;
    var headers = { Accept: "text/html" };
    if (company) {
      headers["X-Switchboard-Company"] = company;
    }
    return fetch(url, { credentials: "same-origin", headers: headers }).then(function (response) {
      if (response.status === 409) {
        return response.text().then(function (text) {
          companyChanged(text);
          return response;
        });
      }
      return response;
    });
  }

  // Say so once, above the page, and stop listening: the page stays as it was, its company's.
  function companyChanged(text) {
    stopped = true;
    if (socket !== null) {
      socket.close();
    }
    if (document.getElementById("company-changed")) {
      return;
    }
    var notice = document.createElement("p");
    notice.id = "company-changed";
    notice.className = "notice company-changed";
    notice.setAttribute("role", "alert");
    notice.textContent = text + " ";
    var reload = document.createElement("a");
    reload.href = window.location.href;
    reload.textContent = "Reload";
    notice.appendChild(reload);
    var main = document.querySelector("main") || document.body;
    main.insertBefore(notice, main.firstChild);
  }

  window.SwitchboardLive = {
    watch: watch,
    fetchPart: fetchPart,
    // For tests and the pages' own use: is the socket up now?
    connected: function () {
      return socket !== null && socket.readyState === WebSocket.OPEN;
    },
  };
})();
