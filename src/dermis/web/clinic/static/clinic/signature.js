// Drawn signature for the consent form: pointer events on a <canvas>, a clear button, and a
// keyboard alternative (draw the typed name). The PNG goes into a hidden input as a data URL;
// the server checks it is a real, non-blank PNG of a sane size.
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  if (!canvas || !canvas.getContext) { return; }
  var input = document.getElementById(canvas.dataset.input);
  var nameInput = document.getElementById(canvas.dataset.name);
  var status = document.getElementById(canvas.dataset.status);
  var ctx = canvas.getContext("2d");
  var drawing = false;
  var last = null;
  var MAX_RATIO = 2; // sharper on high-density screens, but the PNG stays well under 300 kB

  function say(text) { if (status) { status.textContent = text; } }

  function setup() {
    var ratio = Math.min(window.devicePixelRatio || 1, MAX_RATIO);
    var rect = canvas.getBoundingClientRect();
    var width = rect.width || 600;
    var height = rect.height || 200;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.lineWidth = 2.5;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#1f2933";
    ctx.fillStyle = "#1f2933";
  }

  function point(event) {
    var rect = canvas.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  }

  function save() { input.value = canvas.toDataURL("image/png"); }

  function clear() {
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.restore();
    input.value = "";
  }

  canvas.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    drawing = true;
    last = point(event);
    ctx.beginPath();
    ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, Math.PI * 2);
    ctx.fill();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) { return; }
    var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    if (!events.length) { events = [event]; }
    events.forEach(function (e) {
      var p = point(e);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
    });
  });
  function stop() {
    if (!drawing) { return; }
    drawing = false;
    save();
    say("Signature captured.");
  }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);

  document.getElementById("signature-clear").addEventListener("click", function () {
    clear();
    say("Signature cleared.");
  });

  document.getElementById("signature-typed").addEventListener("click", function () {
    var name = nameInput ? nameInput.value.trim() : "";
    if (!name) {
      say("Type the patient's full name first.");
      if (nameInput) { nameInput.focus(); }
      return;
    }
    clear();
    var width = canvas.getBoundingClientRect().width || 600;
    var size = 40;
    ctx.font = "italic " + size + "px Georgia, 'Times New Roman', serif";
    while (size > 14 && ctx.measureText(name).width > width - 40) {
      size -= 2;
      ctx.font = "italic " + size + "px Georgia, 'Times New Roman', serif";
    }
    ctx.fillText(name, 20, 120);
    save();
    say("Signed with the typed name.");
  });

  setup();
  // After a refused submission the form comes back with the signature still in the input.
  if (input.value.indexOf("data:image/png;base64,") === 0) {
    var image = new Image();
    image.onload = function () {
      var rect = canvas.getBoundingClientRect();
      ctx.drawImage(image, 0, 0, rect.width || 600, rect.height || 200);
      say("Signature kept from the previous attempt.");
    };
    image.src = input.value;
  }
}());
