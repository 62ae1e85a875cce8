// The page: wires the drawing pad to the ml_server. Guesses live while drawing (throttled while a
// stroke grows, quickly once it ends); a newer guess aborts the older request and a counter drops
// any answer that still arrives late, so the page never shows a guess for an older drawing. The
// result is aria-busy until the answer for the drawing as it stands now is shown.
import { ApiError, MlClient, ServerUnreachable } from "./api.js";
import { DrawingPad } from "./drawing.js";
import { ProbabilityBars, drawBoxes, drawPreview, listDigits, percent } from "./results.js";

const LIVE_MS = 300; // at most one guess this often while a stroke grows
const SETTLE_MS = 60; // after a stroke ends, undo or clear
const RETRY_MS = 3000; // health check while the ml_server is unreachable
const STORAGE_KEY = "digits.model";

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
const ui = Object.fromEntries(
  [
    "error", "model-select", "canvas", "boxes", "undo", "clear", "mode-number", "predict", "result", "prediction",
    "confidence", "uncertainty", "answered-by", "status", "probabilities", "number-digits", "preview",
    "feedback", "feedback-note",
  ].map((id) => [id, byTestId(id)]),
);
const padBox = document.getElementById("pad");
const hint = document.getElementById("hint");
const title = document.getElementById("title");

const client = new MlClient(document.body.dataset.mlServerUrl);
const bars = new ProbabilityBars(ui.probabilities);
const pad = new DrawingPad(ui.canvas, { onStroke: drawingGrows, onChange: drawingChanged });
const feedbackButtons = makeFeedbackButtons();

let models = new Map(); // name -> entry of GET /list
let timer = 0;
let seq = 0; // one number per request: only the latest one's answer is shown
let version = 0; // one number per change of the drawing
let inflight = null;
let lastGuess = null; // { digit, model } of the answer now shown, for feedback
let retryTimer = 0;

// ---- guessing -------------------------------------------------------------------------------

function drawingGrows() {
  version += 1;
  setBusy(true);
  hint.hidden = true;
  forgetGuess();
  if (!timer) timer = setTimeout(guess, LIVE_MS);
}

function drawingChanged() {
  version += 1;
  setBusy(!pad.isEmpty);
  hint.hidden = !pad.isEmpty;
  forgetGuess();
  clearTimeout(timer);
  timer = pad.isEmpty ? 0 : setTimeout(guess, SETTLE_MS);
  if (pad.isEmpty) {
    cancelGuess();
    showNothing();
  }
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
  if (pad.isEmpty) {
    showNothing("Draw a digit first.");
    return;
  }
  setBusy(true);
  const id = seq;
  const drawn = version;
  const controller = (inflight = new AbortController());
  const numberMode = ui["mode-number"].checked;
  const model = ui["model-select"].value || undefined;
  const size = { width: ui.canvas.width, height: ui.canvas.height };
  try {
    const png = await pad.toPng();
    const answer = numberMode
      ? await client.predictNumber(png, model, controller.signal)
      : await client.predictDigit(png, model, controller.signal);
    if (id !== seq) return;
    backOnline();
    const current = drawn === version; // else a live answer for a drawing that has grown since
    if (numberMode) showNumber(answer, size);
    else showDigit(answer, current);
    setBusy(!current);
  } catch (error) {
    if (id !== seq || controller.signal.aborted) return;
    showProblem(error);
    setBusy(false);
  } finally {
    if (inflight === controller) inflight = null;
  }
}

// ---- showing answers ------------------------------------------------------------------------

function setBusy(busy) {
  ui.result.setAttribute("aria-busy", String(busy));
  padBox.classList.toggle("stale", busy); // boxes of the last answer no longer match the drawing
}

function showDigit(answer, current) {
  ui.prediction.textContent = String(answer.digit);
  ui.confidence.textContent = `${percent(answer.confidence)} sure`;
  const entropy = answer.uncertainty?.predictive_entropy;
  ui.uncertainty.textContent = entropy === undefined ? "" : `Uncertainty: ${entropy.toFixed(2)} nats (Monte-Carlo)`;
  showAnsweredBy(answer.model);
  ui.status.textContent = answer.not_a_digit ? "Hmm, this may not be a digit at all." : "";
  bars.show(answer.probabilities, answer.uncertainty?.std, answer.digit);
  drawPreview(ui.preview, answer.input);
  if (current) {
    lastGuess = { digit: answer.digit, model: answer.model };
    setFeedbackEnabled(true);
  }
}

function showNumber(answer, size) {
  ui.prediction.textContent = answer.number;
  const lowest = Math.min(...answer.digits.map((digit) => digit.confidence));
  const count = answer.digits.length;
  ui.confidence.textContent = `${count} digit${count === 1 ? "" : "s"} · lowest ${percent(lowest)}`;
  ui.uncertainty.textContent = "";
  showAnsweredBy(answer.model);
  ui.status.textContent = "";
  listDigits(ui["number-digits"], answer.digits);
  drawBoxes(ui.boxes, answer.digits, size.width, size.height);
}

function showAnsweredBy(name) {
  ui["answered-by"].dataset.model = name;
  ui["answered-by"].textContent = `by ${models.get(name)?.display_name ?? name}`;
}

function showNothing(status = "") {
  setBusy(false);
  ui.prediction.textContent = "";
  ui.confidence.textContent = "Draw something to get a guess.";
  ui.uncertainty.textContent = "";
  ui["answered-by"].textContent = "";
  delete ui["answered-by"].dataset.model;
  ui.status.textContent = status;
  bars.reset();
  drawPreview(ui.preview, null);
  listDigits(ui["number-digits"], []);
  ui.boxes.replaceChildren();
}

function showProblem(error) {
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
  if (!(error instanceof ApiError)) console.warn(error);
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
  rememberModel(ui["model-select"].value);
  forgetGuess();
  if (!pad.isEmpty) guess();
}

// ---- feedback -----------------------------------------------------------------------------

function makeFeedbackButtons() {
  const holder = ui.feedback.querySelector(".digit-buttons");
  return Array.from({ length: 10 }, (_, digit) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = String(digit);
    button.dataset.digit = String(digit);
    button.setAttribute("aria-label", `The right digit is ${digit}`);
    button.addEventListener("click", () => sendFeedback(digit));
    holder.append(button);
    return button;
  });
}

function setFeedbackEnabled(enabled) {
  for (const button of feedbackButtons) {
    button.disabled = !enabled;
    button.classList.toggle("guessed", enabled && Number(button.dataset.digit) === lastGuess?.digit);
  }
  if (enabled) ui["feedback-note"].textContent = "";
}

function forgetGuess() {
  lastGuess = null;
  setFeedbackEnabled(false);
}

async function sendFeedback(label) {
  if (!lastGuess) return;
  const { digit: predicted, model } = lastGuess;
  setFeedbackEnabled(false);
  ui["feedback-note"].textContent = "Sending…";
  try {
    await client.sendFeedback({ image: pad.toDataUrl(), label, predicted, model });
    ui["feedback-note"].textContent = `Thank you! Saved as a ${label}.`;
  } catch (error) {
    if (error instanceof ServerUnreachable) goOffline();
    ui["feedback-note"].textContent = `Could not send it: ${error instanceof ApiError ? error.message : "no connection"}.`;
    lastGuess = { digit: predicted, model };
    setFeedbackEnabled(true);
  }
}

// ---- reachability -------------------------------------------------------------------------

function goOffline() {
  ui.error.hidden = false;
  if (!retryTimer) retryTimer = setTimeout(checkHealth, RETRY_MS);
}

function backOnline() {
  ui.error.hidden = true;
  clearTimeout(retryTimer);
  retryTimer = 0;
}

async function checkHealth() {
  retryTimer = 0;
  try {
    await client.health();
    if (models.size === 0) await loadModels();
  } catch {
    goOffline();
    return;
  }
  backOnline();
  if (!pad.isEmpty) guess();
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
  const numberMode = ui["mode-number"].checked;
  padBox.classList.toggle("number", numberMode);
  document.body.classList.toggle("number-mode", numberMode);
  ui.probabilities.hidden = numberMode;
  ui["number-digits"].hidden = !numberMode;
  hint.textContent = numberMode ? "Write a number here" : "Draw here";
  title.textContent = numberMode ? "Write a number" : "Draw a digit";
  ui.canvas.setAttribute(
    "aria-label",
    `Drawing area: draw ${numberMode ? "a number" : "a digit"} with a mouse, a finger or a pen`,
  );
  pad.clear();
}

ui.undo.addEventListener("click", () => pad.undo());
ui.clear.addEventListener("click", () => pad.clear());
ui.predict.addEventListener("click", () => guess());
ui["model-select"].addEventListener("change", modelChanged);
ui["mode-number"].addEventListener("change", modeChanged);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && event.target.tagName !== "SELECT") {
    pad.clear();
  } else if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
    event.preventDefault();
    pad.undo();
  }
});

showNothing();
start();
