// A read-only field with a value to copy (a link, a command) and its Copy button,
// labelled for screen readers. Used by the home page and the meeting page.

/**
 * @param {string} label what the value is ("Join link", "Command")
 * @param {string} value
 * @returns {HTMLParagraphElement}
 */
export function copyable(label, value) {
  const wrap = document.createElement("p");
  wrap.className = "copyable";
  const id = `copy-${Math.random().toString(36).slice(2)}`;
  const l = document.createElement("label");
  l.htmlFor = id;
  l.textContent = label;
  const input = document.createElement("input");
  input.id = id;
  input.readOnly = true;
  input.value = value;
  input.spellcheck = false;
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Copy";
  button.setAttribute("aria-label", `Copy ${label.toLowerCase()}`);
  button.addEventListener("click", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      document.execCommand("copy");
    }
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy"), 2000);
  });
  wrap.append(l, input, button);
  return wrap;
}
