// The page: wires the drawing pad (or a picture a person gave) to the ml_server. Guesses live while
// drawing (throttled while a stroke grows, quickly once it ends); a newer guess aborts the older
// request and a counter drops any answer that still arrives late, so the page never shows a guess
// for an older drawing. An answer for a drawing that is still changing is provisional: marked as a
// live guess, never announced. Only the final answer (and a lost or regained connection, and a
// saved correction) reaches assistive technology, through the page's one polite live region.
import { ApiError, MlClient, ServerUnreachable } from "./api.js";
import { DrawingPad } from "./drawing.js";
import { Corrections } from "./feedback.js";
import { fitToViewport } from "./layout.js";
import { pictureFileOf, pictureFromFile } from "./picture.js";
import { ProbabilityBars, drawBoxes, drawPreview, listDigits, percent } from "./results.js";

const LIVE_MS = 300; // at most one guess this often while a stroke grows
const SETTLE_MS = 60; // after a stroke ends, undo or clear
const RETRY_MS = 3000; // health check while the ml_server is unreachable
const STORAGE_KEY = "digits.model";

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
const ui = Object.fromEntries(
  [
    "error", "model-select", "canvas", "photo", "boxes", "undo", "clear", "upload", "mode-number", "predict",
    "result", "answer", "prediction", "not-a-digit", "provisional", "confidence", "uncertainty", "answered-by",
    "status", "model-loading", "probabilities", "number-digits", "preview", "feedback", "announcer",
  ].map((id) => [id, byTestId(id)]),
);
const padBox = document.getElementById("pad");
const hint = document.getElementById("hint");
const title = document.getElementById("title");

const client = new MlClient(document.body.dataset.mlServerUrl);
const bars = new ProbabilityBars(ui.probabilities);
const pad = new DrawingPad(ui.canvas, { onStroke: drawingGrows, onChange: drawingChanged });
const corrections = new Corrections(ui.feedback, ui["number-digits"], { client, onUnreachable: goOffline, announce });
const refit = fitToViewport(padBox, padBox.closest(".card"));

let models = new Map(); // name -> entry of GET /list
let timer = 0;
let seq = 0; // one number per request: only the latest one's answer is shown
let version = 0; // one number per change of the drawing
let inflight = null;
let picture = null; // a photo or scan a person gave instead of drawing: { blob, width, height, url }
let offline = false;
let retryTimer = 0;

const isEmpty = () => pad.isEmpty && !picture;
const numberMode = () => ui["mode-number"].checked;

// ---- the one live region ----------------------------------------------------------------------

function announce(text) {
  ui.announcer.textContent = text;
}

// ---- guessing -------------------------------------------------------------------------------

function drawingGrows() {
  if (picture) dropPicture(); // drawing starts a new drawing
  version += 1;
  markChanging();
  if (!timer) timer = setTimeout(guess, LIVE_MS);
}

function drawingChanged() {
  version += 1;
  clearTimeout(timer);
  timer = 0;
  if (isEmpty()) {
    cancelGuess();
    showNothing();
    return;
  }
  markChanging();
  timer = setTimeout(guess, SETTLE_MS);
}

// The drawing no longer matches the answer shown: that answer becomes provisional at best.
function markChanging() {
  hint.hidden = true;
  setBusy(true);
  if (ui.result.dataset.state === "final") setState("provisional");
  corrections.withdraw("busy");
}

function cancelGuess() {
  seq += 1;
  inflight?.abort();
  inflight = null;
}

async function guess() {
  clearTimeout(timer);
  timer = 0;
  cancelGuess();
  if (isEmpty()) {
    showNothing("Draw a digit first.");
    return;
  }
  setBusy(true);
  const id = seq;
  const drawn = version;
  const controller = (inflight = new AbortController());
  const asNumber = numberMode();
  const model = ui["model-select"].value || undefined;
  const loading = model !== undefined && models.get(model)?.loaded === false;
  if (loading) showLoading(model);
  try {
    const sent = picture ?? (await pad.toPng());
    const answer = asNumber
      ? await client.predictNumber(sent.blob, model, controller.signal)
      : await client.predictDigit(sent.blob, model, controller.signal);
    if (id !== seq) return;
    if (models.has(answer.model)) models.get(answer.model).loaded = true;
    backOnline();
    const final = drawn === version && !pad.isDrawing; // else a live answer for a drawing still growing
    if (asNumber) showNumber(answer, sent, final);
    else showDigit(answer, sent, final);
  } catch (error) {
    if (id !== seq || controller.signal.aborted) return;
    showProblem(error);
  } finally {
    if (inflight === controller) inflight = null;
    if (id === seq) ui["model-loading"].hidden = true;
  }
}

// ---- showing answers ------------------------------------------------------------------------

function setBusy(busy) {
  ui.result.setAttribute("aria-busy", String(busy));
  padBox.classList.toggle("stale", busy); // boxes of the last answer no longer match the drawing
}

// "empty" (nothing to show), "provisional" (a live guess for a drawing still changing), "final".
function setState(state) {
  ui.result.dataset.state = state;
  ui.provisional.hidden = state !== "provisional";
}

function settle(final, spoken) {
  setState(final ? "final" : "provisional");
  setBusy(!final);
  if (final) announce(spoken);
}

function showDigit(answer, sent, final) {
  const doubtful = Boolean(answer.not_a_digit);
  ui.prediction.textContent = String(answer.digit);
  ui.answer.classList.toggle("doubtful", doubtful);
  ui["not-a-digit"].hidden = !doubtful;
  ui.confidence.textContent = doubtful ? percent(answer.confidence) : `${percent(answer.confidence)} sure`;
  const entropy = answer.uncertainty?.predictive_entropy;
  ui.uncertainty.textContent = entropy === undefined ? "" : `Uncertainty: ${entropy.toFixed(2)} nats (Monte-Carlo)`;
  showAnsweredBy(answer.model);
  ui.status.textContent = "";
  bars.show(answer.probabilities, answer.uncertainty?.std, answer.digit);
  drawPreview(ui.preview, answer.input);
  const spoken = doubtful
    ? `Not a digit? Closest: ${answer.digit}, ${percent(answer.confidence)}.`
    : `${answer.digit}, ${percent(answer.confidence)} sure.`;
  settle(final, spoken);
  if (final) corrections.offerDigit({ digit: answer.digit, model: answer.model, picture: sent.blob });
}

function showNumber(answer, sent, final) {
  ui.prediction.textContent = answer.number;
  ui.answer.classList.remove("doubtful");
  ui["not-a-digit"].hidden = true;
  const lowest = Math.min(...answer.digits.map((digit) => digit.confidence));
  const count = answer.digits.length;
  const doubts = answer.digits.filter((digit) => digit.not_a_digit).length;
  ui.confidence.textContent = `${count} digit${count === 1 ? "" : "s"} · lowest ${percent(lowest)}`;
  ui.uncertainty.textContent = "";
  showAnsweredBy(answer.model);
  ui.status.textContent = doubts ? `${doubts} of the pieces may not be digits.` : "";
  listDigits(ui["number-digits"], answer.digits);
  placeBoxes(sent);
  drawBoxes(ui.boxes, answer.digits, sent.width, sent.height);
  settle(final, `Number ${answer.number}. ${ui.status.textContent}`.trim());
  if (final) corrections.offerNumber({ digits: answer.digits, model: answer.model, picture: sent.blob });
}

// The boxes' frame: the whole pad for a drawing, the picture's shown area for a photo.
function placeBoxes(sent) {
  const frame = { left: 0, top: 0, width: 100, height: 100 };
  if (picture) {
    const ratio = sent.width / sent.height / (padBox.clientWidth / padBox.clientHeight);
    if (ratio > 1) Object.assign(frame, { top: (100 - 100 / ratio) / 2, height: 100 / ratio });
    else Object.assign(frame, { left: (100 - 100 * ratio) / 2, width: 100 * ratio });
  }
  for (const [key, value] of Object.entries(frame)) ui.boxes.style[key] = `${value}%`;
}

function showAnsweredBy(name) {
  ui["answered-by"].dataset.model = name;
  ui["answered-by"].textContent = `by ${models.get(name)?.display_name ?? name}`;
}

function showNothing(status = "") {
  setBusy(false);
  setState("empty");
  hint.hidden = !isEmpty();
  ui.prediction.textContent = "";
  ui.answer.classList.remove("doubtful");
  ui["not-a-digit"].hidden = true;
  ui.confidence.textContent = numberMode() ? "Write a number to get it read." : "Draw something to get a guess.";
  ui.uncertainty.textContent = "";
  ui["answered-by"].textContent = "";
  delete ui["answered-by"].dataset.model;
  ui.status.textContent = status;
  bars.reset();
  drawPreview(ui.preview, null);
  listDigits(ui["number-digits"], []);
  ui.boxes.replaceChildren();
  corrections.withdraw(numberMode() ? "emptyNumber" : "empty");
}

function showLoading(name) {
  showNothing();
  setBusy(true);
  const label = ui["model-loading"].lastElementChild;
  label.textContent = `Loading ${models.get(name)?.display_name ?? name}… its first guess takes a few seconds.`;
  ui["model-loading"].hidden = false;
}

function showProblem(error) {
  setBusy(false);
  if (error instanceof ServerUnreachable) {
    showNothing();
    ui.confidence.textContent = "Waiting for the recognition service…";
    goOffline();
    return;
  }
  const messages = {
    empty_image: "Draw a bit more: the canvas looks empty.",
    too_many_digits: "That is too many pieces for a number; try fewer, clearer digits.",
    model_unavailable: "This model could not be loaded; please pick another one.",
    throttled: "Too many guesses at once; slow down a moment.",
  };
  ui.status.textContent = messages[error.code] ?? (error instanceof ApiError ? error.message : "Something went wrong.");
  if (ui.result.dataset.state !== "provisional") announce(ui.status.textContent);
  if (!(error instanceof ApiError)) console.warn(error);
}

// ---- pictures: a file picker (camera on phones), drag and drop, paste -------------------------

async function usePicture(file) {
  const given = await pictureFromFile(file);
  if (!given) {
    ui.status.textContent = "That file is not a picture this browser can read; try a PNG or JPEG.";
    announce(ui.status.textContent);
    return;
  }
  pad.clear(); // the picture replaces the drawing
  dropPicture();
  picture = given;
  ui.photo.src = given.url;
  ui.photo.hidden = false;
  hint.hidden = true;
  version += 1;
  guess();
}

function dropPicture() {
  if (!picture) return;
  URL.revokeObjectURL(picture.url);
  picture = null;
  ui.photo.hidden = true;
  ui.photo.removeAttribute("src");
  placeBoxes({});
}

function listenForPictures() {
  ui.upload.addEventListener("change", () => {
    const [file] = ui.upload.files;
    ui.upload.value = ""; // the same file picked again is read again
    if (file) usePicture(file);
  });
  const dragsFiles = (event) => Array.from(event.dataTransfer?.types ?? []).includes("Files");
  document.addEventListener("dragover", (event) => {
    if (!dragsFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    padBox.classList.add("dropping");
  });
  document.addEventListener("dragleave", (event) => {
    if (event.relatedTarget === null) padBox.classList.remove("dropping");
  });
  document.addEventListener("drop", (event) => {
    padBox.classList.remove("dropping");
    const file = pictureFileOf(event.dataTransfer);
    if (!file) return;
    event.preventDefault();
    usePicture(file);
  });
  document.addEventListener("paste", (event) => {
    const file = pictureFileOf(event.clipboardData);
    if (!file) return;
    event.preventDefault();
    usePicture(file);
  });
}

// ---- models -------------------------------------------------------------------------------

function storedModel() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: the default model it is
  }
}

function rememberModel(name) {
  try {
    localStorage.setItem(STORAGE_KEY, name);
  } catch {
    // storage disabled: the choice lasts for this visit only
  }
}

function modelLabel(entry) {
  const accuracy = entry.metrics?.mnist_test_accuracy;
  const parts = [entry.display_name ?? entry.name];
  if (typeof accuracy === "number") parts.push(`${(accuracy * 100).toFixed(1)}%`);
  if (entry.uncertainty) parts.push("with uncertainty");
  return parts.join(" · ");
}

async function loadModels() {
  const listing = await client.listModels();
  models = new Map(listing.models.map((entry) => [entry.name, entry]));
  const select = ui["model-select"];
  select.replaceChildren(
    ...listing.models.map((entry) => {
      const option = new Option(modelLabel(entry), entry.name);
      option.title = `${entry.name}: MNIST test accuracy ${entry.metrics?.mnist_test_accuracy ?? "unknown"}`;
      return option;
    }),
  );
  const wanted = [storedModel(), listing.default, listing.models[0]?.name].find((name) => models.has(name));
  select.value = wanted ?? "";
  select.disabled = models.size === 0;
}

function modelChanged() {
  const name = ui["model-select"].value;
  rememberModel(name);
  cancelGuess();
  if (isEmpty()) return;
  showNothing(); // the old model's answer is not the new one's
  guess(); // shows the new model loading, if it is not yet
}

// ---- reachability -------------------------------------------------------------------------

function goOffline() {
  ui.error.hidden = false;
  ui.result.classList.add("offline");
  if (!offline) announce("The recognition service can’t be reached; the page keeps trying.");
  offline = true;
  if (!retryTimer) retryTimer = setTimeout(checkHealth, RETRY_MS);
}

function backOnline() {
  ui.error.hidden = true;
  ui.result.classList.remove("offline");
  offline = false;
  clearTimeout(retryTimer);
  retryTimer = 0;
}

// While offline: once the server answers again, the kept drawing is guessed, and the banner goes
// when that answer arrives (or at once when there is nothing to guess).
async function checkHealth() {
  retryTimer = 0;
  try {
    await client.health();
    if (models.size === 0) await loadModels();
  } catch {
    goOffline();
    return;
  }
  if (isEmpty()) backOnline();
  else guess();
}

async function start() {
  try {
    await loadModels();
  } catch (error) {
    showProblem(error);
  }
}

// ---- controls -----------------------------------------------------------------------------

function modeChanged() {
  const asNumber = numberMode();
  padBox.classList.toggle("number", asNumber);
  document.body.classList.toggle("number-mode", asNumber);
  ui.probabilities.hidden = asNumber;
  ui["number-digits"].hidden = !asNumber;
  hint.firstElementChild.textContent = asNumber ? "Write a number here" : "Draw here";
  title.textContent = asNumber ? "Write a number" : "Draw a digit";
  ui.canvas.setAttribute(
    "aria-label",
    `Drawing area: draw ${asNumber ? "a number" : "a digit"} with a mouse, a finger or a pen`,
  );
  refit();
  if (picture) {
    guess(); // the same picture, read the other way
  } else {
    pad.clear();
  }
}

function clearAll() {
  dropPicture();
  pad.clear();
}

function undo() {
  if (pad.isEmpty && picture) clearAll();
  else pad.undo();
}

ui.undo.addEventListener("click", undo);
ui.clear.addEventListener("click", clearAll);
ui.predict.addEventListener("click", () => guess());
ui["model-select"].addEventListener("change", modelChanged);
ui["mode-number"].addEventListener("change", modeChanged);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && event.target.tagName !== "SELECT") {
    clearAll();
  } else if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
    event.preventDefault();
    undo();
  }
});

listenForPictures();
showNothing();
start();
