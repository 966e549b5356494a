// Socket refusals (docs/protocol.md): 4401 not signed in, 4403 a page of another site,
// 4404 no such thing or not yours. Reconnecting cannot change them, so each page's socket
// client asks here first: on a refusal it stops and the page says why (role=alert).
(function () {
  "use strict";
  var texts = null;

  // True (and the reason shown) when `code` is a refusal; false for anything else.
  window.socketRefused = function (code) {
    if (texts === null) {
      var node = document.getElementById("socket-refusals");
      texts = node ? JSON.parse(node.textContent) : {};
    }
    var message = texts[String(code)];
    if (!message) return false;
    var box = document.getElementById("socket-refused");
    if (box) {
      box.textContent = message;
      box.hidden = false;
    }
    return true;
  };
})();
