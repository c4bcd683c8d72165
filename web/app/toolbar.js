// The meeting toolbar on a phone: one row. The tools people use less (zoom, full
// screen, invite, sound, leave, end) move into a "More" menu below 700 px, and back
// into the row when the window is wide again; they keep their own click handlers.

/**
 * @param {{tools: HTMLElement, more: HTMLButtonElement, menu: HTMLElement}} els
 * @param {MediaQueryList} phone
 */
export function fitToolbar(els, phone) {
  const { tools, more, menu } = els;
  /** The row as the page's HTML has it, to put back in that order. */
  const order = [...tools.children];
  const secondary = order.filter((b) => b.classList.contains("secondary-tool"));
  const close = () => {
    menu.hidden = true;
    more.setAttribute("aria-expanded", "false");
  };
  const place = () => {
    close();
    if (phone.matches) menu.append(...secondary);
    else tools.append(...order);
  };
  more.addEventListener("click", () => {
    menu.hidden = !menu.hidden;
    more.setAttribute("aria-expanded", String(!menu.hidden));
    if (!menu.hidden) /** @type {HTMLElement | undefined} */ ([...menu.children].find((b) => !(/** @type {HTMLElement} */ (b)).hidden))?.focus();
  });
  // A choice made, a click elsewhere or Escape closes the menu.
  menu.addEventListener("click", () => setTimeout(close));
  document.addEventListener("click", (ev) => {
    if (!menu.hidden && !menu.contains(/** @type {Node} */ (ev.target)) && ev.target !== more) close();
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && !menu.hidden) {
      close();
      more.focus();
    }
  });
  phone.addEventListener("change", place);
  place();
}
