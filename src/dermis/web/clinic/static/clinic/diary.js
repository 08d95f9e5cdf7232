// The diary's drag-to-move: drop an appointment on a free time in its own column and the
// reschedule page opens with that time, showing what the move does to the series before anything
// is written. Without a pointer, each appointment's page has a "Move" link to the same preview.

const grids = document.querySelectorAll(".diary-grid");
let dragged = null;

function target(event) {
  const slot = event.target.closest(".dg-slot");
  if (!slot || !dragged) return null;
  return slot.dataset.column === dragged.dataset.column ? slot : null;
}

for (const grid of grids) {
  grid.addEventListener("dragstart", (event) => {
    const appt = event.target.closest(".dg-appt[data-move-url]");
    if (!appt) return;
    dragged = appt;
    appt.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", appt.dataset.appointment);
  });
  grid.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("dragging");
    for (const el of document.querySelectorAll(".drop-ok")) el.classList.remove("drop-ok");
    dragged = null;
  });
  grid.addEventListener("dragover", (event) => {
    const slot = target(event);
    if (!slot) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    for (const el of document.querySelectorAll(".drop-ok")) {
      if (el !== slot) el.classList.remove("drop-ok");
    }
    slot.classList.add("drop-ok");
  });
  grid.addEventListener("drop", (event) => {
    const slot = target(event);
    if (!slot) return;
    event.preventDefault();
    const url = new URL(dragged.dataset.moveUrl, window.location.href);
    url.searchParams.set("day", slot.dataset.day);
    url.searchParams.set("time", slot.dataset.time);
    url.searchParams.set("next", window.location.pathname + window.location.search);
    window.location.assign(url.toString());
  });
}
