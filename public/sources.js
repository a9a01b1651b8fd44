// spec-agent: the source panel beside the chat shows what the user clicked, and nothing else.
//
// Chainlit 2.11+ opens the side panel by itself whenever display="side" elements arrive
// (MessagesContainer sets the side view to *every* side element of the conversation, titled
// after the last one to arrive; Chainlit issue #2979). After a second answer the panel opened
// with the first answer's clause and PDF page under another chip's name, and a chip clicked
// while an answer's elements were still arriving was overwritten by the next one.
//
// This script notes the chip clicked last. When the panel changes without a click, it shows
// that chip again (by clicking it), or closes the panel if no chip was clicked or the user
// closed it. ui/server.py loads it (Chainlit's custom_js); tests/e2e/test_chat_conversation.py
// tests it.
(function () {
  "use strict";

  let wanted = null; // the chip clicked last: {message: id of its message, name: its text}
  let opened = false; // the panel was seen open since that click
  let replaying = false;
  let replays = 0; // clicks replayed since the panel last showed the wanted chip
  const MAX_REPLAYS = 20; // then give up and close: a chip that does not open its source

  function chipOf(node) {
    return node && node.closest ? node.closest("a.element-link") : null;
  }

  document.addEventListener("click", function (event) {
    if (replaying) return;
    const chip = chipOf(event.target);
    if (chip) {
      const message = chip.closest('[id^="step-"]');
      wanted = { message: message ? message.id : null, name: chip.textContent.trim() };
      opened = false;
    }
  }, true);

  function showsWanted(title) {
    const content = document.getElementById("side-view-content");
    return wanted !== null && title.textContent.trim() === wanted.name &&
      content !== null && content.children.length === 1;
  }

  function wantedChip() {
    const scope = wanted.message ? document.getElementById(wanted.message) : document;
    if (!scope) return null;
    return Array.from(scope.querySelectorAll("a.element-link"))
      .find(function (a) { return a.textContent.trim() === wanted.name; }) || null;
  }

  function close(title) {
    const back = title.querySelector("button");
    if (back) {
      back.click();
    } else { // the small-screen sheet closes on Escape
      document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    }
  }

  function check() {
    const title = document.getElementById("side-view-title");
    if (title === null) { // closed (by the user, or because there is nothing to show)
      if (opened) wanted = null;
      opened = false;
      return;
    }
    opened = true;
    if (showsWanted(title)) {
      replays = 0;
      return;
    }
    const chip = wanted !== null ? wantedChip() : null;
    if (chip !== null && replays < MAX_REPLAYS) {
      replays += 1;
      replaying = true;
      try { chip.click(); } finally { replaying = false; }
      return;
    }
    wanted = null;
    replays = 0;
    close(title);
  }

  new MutationObserver(check).observe(document.documentElement,
    { childList: true, subtree: true, characterData: true });
})();
