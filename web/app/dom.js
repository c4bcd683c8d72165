// Small DOM helpers shared by the page's modules.

/** An element that the page's HTML must have. @param {string} id @returns {HTMLElement} */
export function el(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e;
}
