// The drawing pad sized to the room the controls leave: its height is at most what the viewport
// has below the header, less the card's padding and the toolbar (under the pad, or beside it on a
// short landscape screen), so Undo, Clear and Guess are never pushed off-screen, where a swipe on
// the pad (which draws) could not scroll to them. CSS reads the room as --room.
const MIN_ROOM = 150; // px: below this the pad would be too small to draw in; the page scrolls instead
const MARGIN = 8; // px of air under the card

export function fitToViewport(pad, card) {
  const update = () => {
    const padBox = pad.getBoundingClientRect();
    const below = card.getBoundingClientRect().bottom - padBox.bottom; // toolbar and padding under the pad
    const room = window.innerHeight - (padBox.top + window.scrollY) - below - MARGIN;
    pad.style.setProperty("--room", `${Math.max(MIN_ROOM, Math.floor(room))}px`);
  };
  window.addEventListener("resize", update);
  new ResizeObserver(update).observe(document.querySelector("header"));
  update();
  return update;
}
