/* The header search box: "/" or Ctrl+K (Cmd+K) focuses it; the type-ahead's suggestions
   (fetched by htmx into #search-suggestions) are walked with the arrow keys, followed with
   Enter, and closed with Escape. (A static file: the pages carry no inline scripts.) */
(function () {
  "use strict";

  function box() { return document.getElementById("global-q"); }
  function list() { return document.getElementById("search-suggestions"); }
  function options() { var l = list(); return l ? Array.prototype.slice.call(l.querySelectorAll("a[role=option]")) : []; }

  function setOpen(open) {
    var input = box(), l = list();
    if (!input || !l) return;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    l.hidden = !open;
  }

  function typingInAField(target) {
    var tag = (target && target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || (target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    var input = box();
    if (!input) return;
    var isShortcut = (event.key === "k" || event.key === "K") && (event.ctrlKey || event.metaKey);
    if ((event.key === "/" && !typingInAField(event.target)) || isShortcut) {
      event.preventDefault();
      input.focus();
      input.select();
      return;
    }
    var items = options();
    var current = items.indexOf(document.activeElement);
    var inSearch = document.activeElement === input || current !== -1;
    if (!inSearch || !items.length) return;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      items[Math.min(current + 1, items.length - 1)].focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      if (current <= 0) { input.focus(); } else { items[current - 1].focus(); }
    } else if (event.key === "Escape") {
      setOpen(false);
      input.focus();
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "search-suggestions") {
      setOpen(options().length > 0);
    }
  });

  document.addEventListener("click", function (event) {
    var l = list();
    if (l && !l.contains(event.target) && event.target !== box()) setOpen(false);
  });
})();
