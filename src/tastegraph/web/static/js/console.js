// The advertiser console's enhancements. Every form works without this file: the segment
// builder has "Estimate" and "Add a condition" buttons that post the form, and all fields
// show. With it, the estimate follows every change, fields show only where they apply,
// and conditions are added and removed in place. Texts come from the page (translated there).
"use strict";

(() => {
  const DEBOUNCE_MS = 350;

  function showFor(container, attribute, value) {
    for (const part of container.querySelectorAll(`[${attribute}]`)) {
      const wanted = part.getAttribute(attribute).split(" ");
      part.hidden = !wanted.includes(value);
    }
  }

  // -- segment builder --------------------------------------------------------------------

  function setUpCondition(row, form) {
    const type = row.querySelector("[data-cond-type]");
    const hint = row.querySelector("[data-hint-target]");
    const update = () => {
      showFor(row, "data-for", type.value);
      const option = type.selectedOptions[0];
      if (hint && option && option.dataset.hint) hint.textContent = option.dataset.hint;
    };
    type.addEventListener("change", update);
    update();
    const remove = row.querySelector("[data-remove-condition]");
    if (remove) {
      remove.hidden = false;
      remove.addEventListener("click", () => {
        const rows = form.querySelectorAll("[data-condition]");
        if (rows.length > 1) {
          row.remove();
        } else {
          for (const field of row.querySelectorAll("input, select")) field.value = "";
          update();
        }
        form.dispatchEvent(new Event("input"));
      });
    }
  }

  function renderEstimate(box, answer) {
    box.replaceChildren();
    if (answer.size !== null && answer.size !== undefined) {
      const size = document.createElement("p");
      size.className = "estimate-size" + (answer.targetable ? "" : " below-floor");
      const strong = document.createElement("strong");
      strong.dataset.estimateSize = "";
      strong.textContent = answer.size_text;
      size.append(strong);
      box.append(size);
    }
    const summary = document.createElement("p");
    summary.dataset.estimateSummary = "";
    summary.textContent = answer.summary;
    box.append(summary);
    if (answer.errors.length) {
      const list = document.createElement("ul");
      list.className = "rule-errors";
      for (const error of answer.errors) {
        const item = document.createElement("li");
        const where = document.createElement("strong");
        where.textContent = error.label;
        const path = document.createElement("code");
        path.textContent = error.path;
        const message = document.createElement("span");
        message.lang = "en";
        message.textContent = error.message;
        item.append(where, " ", path, ": ", message);
        list.append(item);
      }
      box.append(list);
    }
  }

  function setUpBuilder(form) {
    const box = form.querySelector("[data-estimate]");
    const json = form.querySelector("textarea[name=rule_json]");
    const conditions = form.querySelector("[data-conditions]");
    const template = document.getElementById("condition-template");
    const editors = form.querySelectorAll("input[data-editor]");
    let timer = 0;
    let sequence = 0;

    const editor = () => {
      const chosen = form.querySelector("input[data-editor]:checked");
      return chosen ? chosen.value : "builder";
    };
    const showEditor = () => showFor(form, "data-editor-pane", editor());

    async function estimate() {
      const mine = ++sequence;
      box.setAttribute("aria-busy", "true");
      const data = new FormData(form);
      data.set("action", "estimate");
      try {
        const response = await fetch(form.dataset.estimateUrl, {
          method: "POST",
          body: data,
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (!response.ok || mine !== sequence) return;
        const answer = await response.json();
        renderEstimate(box, answer);
        if (editor() === "builder" && json && document.activeElement !== json) {
          json.value = answer.rule_json;
        }
      } finally {
        if (mine === sequence) box.removeAttribute("aria-busy");
      }
    }

    const soon = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(estimate, DEBOUNCE_MS);
    };

    for (const row of form.querySelectorAll("[data-condition]")) setUpCondition(row, form);
    form.addEventListener("input", (event) => {
      const name = event.target && event.target.name;
      if (["name", "description", "lookup", "active"].includes(name)) return;
      soon();
    });
    form.addEventListener("change", (event) => {
      if (event.target && event.target.matches("select")) soon();
    });

    const add = form.querySelector("[data-add-condition]");
    if (add && template && conditions) {
      add.addEventListener("click", (event) => {
        event.preventDefault();
        const number = conditions.querySelectorAll("[data-condition]").length + 1;
        const holder = document.createElement("div");
        holder.innerHTML = template.innerHTML.replaceAll("__N__", String(number));
        const row = holder.firstElementChild;
        conditions.append(row);
        setUpCondition(row, form);
        row.querySelector("[data-cond-type]").focus();
      });
    }

    // Switching editors asks the server to carry the rule across (JSON <-> rows).
    for (const radio of editors) {
      radio.addEventListener("change", () => {
        const button = form.querySelector("[data-estimate-button]");
        form.requestSubmit(button || undefined);
      });
    }
    showEditor();
  }

  // -- creatives --------------------------------------------------------------------------

  function setUpCreativeForm(form) {
    const select = form.querySelector("[data-format-select]");
    const hidden = form.querySelector("input[name=format][type=hidden]");
    const update = () => showFor(form, "data-formats", select ? select.value : hidden.value);
    if (select) select.addEventListener("change", update);
    update();
  }

  // -- confirmations ----------------------------------------------------------------------

  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll("form[data-segment-builder]")) setUpBuilder(form);
    for (const form of document.querySelectorAll("form[data-creative-form]")) setUpCreativeForm(form);
  });
})();
