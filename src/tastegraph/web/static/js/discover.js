// Progressive enhancement for the listening and discovery pages; every link and form works
// without this file.
"use strict";

(() => {
  // Switchers (period, kind, level) marked data-swap-target="ID" load the linked page and
  // replace only the element with that id, keeping the scroll position; the address bar
  // follows, and the back button goes back.
  async function swap(url, targetId, push) {
    const current = document.getElementById(targetId);
    if (!current) return false;
    current.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (!response.ok) return false;
      const html = await response.text();
      const fresh = new DOMParser().parseFromString(html, "text/html").getElementById(targetId);
      if (!fresh) return false;
      current.replaceWith(document.importNode(fresh, true));
      if (push) history.pushState({ swap: targetId }, "", url);
      const chosen = document.getElementById(targetId)
        .querySelector(`a[href="${CSS.escape(new URL(url, location.href).pathname + new URL(url, location.href).search)}"]`);
      if (chosen) chosen.focus();
      return true;
    } catch (error) {
      return false;
    } finally {
      const now = document.getElementById(targetId);
      if (now) now.removeAttribute("aria-busy");
    }
  }

  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
    const nav = link ? link.closest("[data-swap-target]") : null;
    if (!link || !nav) return;
    event.preventDefault();
    swap(link.href, nav.getAttribute("data-swap-target"), true).then((done) => {
      if (!done) location.assign(link.href);
    });
  });

  window.addEventListener("popstate", (event) => {
    if (event.state && event.state.swap) {
      swap(location.href, event.state.swap, false).then((done) => {
        if (!done) location.reload();
      });
    }
  });

  // The first entry of the history needs a state for popstate to swap back to it.
  const region = document.querySelector("[data-swap-region]");
  if (region && !history.state) history.replaceState({ swap: region.id }, "", location.href);
})();
