// Progressive enhancement only: every form works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // A select marked data-autosubmit sends its form on change; its button then is not needed.
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    const form = select.form;
    const button = form && form.querySelector("button[type=submit]");
    if (button) button.classList.add("visually-hidden");
    select.addEventListener("change", () => form && form.requestSubmit());
  }
});
