// Corrections: "That's right" or the right digit, for one digit or for each digit of a number, sent
// to the ml_server's /feedback (/feedback/number for a whole number). Nothing can be sent until
// there is an answer for the drawing as it stands, and the panel says why.
import { ApiError, ServerUnreachable } from "./api.js";
import { blobToDataUrl } from "./picture.js";

const WHY_NOT_YET = {
  empty: "Draw a digit first; then tell whether the guess is right.",
  emptyNumber: "Write a number first; then tell whether it was read right.",
  busy: "Wait for the guess to finish.",
};

export class Corrections {
  // root: the feedback group; pieces: the list of a number's digits; client: MlClient;
  // onUnreachable: called when the server cannot be reached; announce: the page's live region.
  constructor(root, pieces, { client, onUnreachable, announce }) {
    this.title = root.querySelector("#feedback-title");
    this.confirmButton = root.querySelector('[data-testid="confirm"]');
    this.note = root.querySelector('[data-testid="feedback-note"]');
    this.pieces = pieces;
    this.client = client;
    this.onUnreachable = onUnreachable;
    this.announce = announce;
    this.answer = null; // { kind: "digit"|"number", model, picture, digits: [{digit, box}] }
    this.labels = []; // the right digit of each piece, as corrected so far
    this.selected = -1; // the piece being corrected (number mode)
    this.buttons = this.#makeDigitButtons(root.querySelector(".digit-buttons"));
    this.confirmButton.addEventListener("click", () => this.#confirm());
    pieces.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-index]");
      if (button && this.answer?.kind === "number") this.#select(Number(button.dataset.index));
    });
    this.withdraw("empty");
  }

  // No answer to correct (yet): everything off, and the reason shown.
  withdraw(reason) {
    this.#start(null);
    this.title.textContent = WHY_NOT_YET[reason];
    this.#enableDigits(false);
  }

  offerDigit({ digit, model, picture }) {
    this.#start({ kind: "digit", model, picture, digits: [{ digit }] });
    this.title.textContent = `Is it a ${digit}?`;
    this.#enableDigits(true);
  }

  offerNumber({ digits, model, picture }) {
    this.#start({ kind: "number", model, picture, digits });
    this.title.textContent = "Is the number right? Tap a digit of it to correct that digit.";
    this.#enableDigits(false);
  }

  // A new answer to correct, or none: nothing picked yet, the confirm button as new.
  #start(answer) {
    this.answer = answer;
    this.labels = answer === null ? [] : answer.digits.map(({ digit }) => digit);
    this.selected = -1;
    this.confirmButton.disabled = answer === null;
    this.confirmButton.textContent = "That’s right";
    this.note.textContent = "";
  }

  #makeDigitButtons(holder) {
    return Array.from({ length: 10 }, (_, digit) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = String(digit);
      button.dataset.digit = String(digit);
      button.setAttribute("aria-label", `The right digit is ${digit}`);
      button.addEventListener("click", () => this.#correct(digit));
      holder.append(button);
      return button;
    });
  }

  #enableDigits(enabled) {
    for (const button of this.buttons) button.disabled = !enabled;
  }

  #select(index) {
    this.selected = index;
    for (const button of this.pieces.querySelectorAll("button[data-index]")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.index) === index));
    }
    this.title.textContent = `Digit ${index + 1} of the number: tap its right digit below.`;
    this.#enableDigits(true);
    this.note.textContent = "";
  }

  #correct(digit) {
    if (!this.answer) return;
    if (this.answer.kind === "digit") {
      this.labels = [digit];
      this.#send();
      return;
    }
    if (this.selected < 0) return;
    this.labels[this.selected] = digit;
    const piece = this.pieces.querySelector(`button[data-index="${this.selected}"]`);
    piece.querySelector(".digit").textContent = String(digit);
    piece.classList.toggle("corrected", digit !== this.answer.digits[this.selected].digit);
    piece.setAttribute("aria-pressed", "false");
    this.selected = -1;
    this.#enableDigits(false);
    const changed = this.labels.some((label, i) => label !== this.answer.digits[i].digit);
    this.confirmButton.textContent = changed ? `Save ${this.labels.join("")} as right` : "That’s right";
    this.title.textContent = "Correct another digit, or save the number.";
  }

  #confirm() {
    if (this.answer) this.#send();
  }

  async #send() {
    const answer = this.answer;
    const labels = [...this.labels];
    const said = labels.join("");
    this.confirmButton.disabled = true;
    this.#enableDigits(false);
    this.note.textContent = "Sending…";
    try {
      const image = await blobToDataUrl(answer.picture);
      if (answer.kind === "digit") {
        await this.client.sendFeedback({ image, label: labels[0], predicted: answer.digits[0].digit, model: answer.model });
      } else {
        const digits = answer.digits.map(({ digit, box }, i) => ({ label: labels[i], predicted: digit, box }));
        await this.client.sendNumberFeedback({ image, digits, model: answer.model });
      }
      if (this.answer !== answer) return; // the drawing changed meanwhile: its panel is someone else's
      this.answer = null;
      this.note.textContent = `Thank you! Saved as ${answer.kind === "digit" ? "a " : ""}${said}.`;
      this.announce(this.note.textContent);
    } catch (error) {
      if (error instanceof ServerUnreachable) this.onUnreachable();
      if (this.answer !== answer) return;
      this.note.textContent = `Could not send it: ${error instanceof ApiError ? error.message : "no connection"}.`;
      this.announce(this.note.textContent);
      this.confirmButton.disabled = false;
      this.#enableDigits(answer.kind === "digit");
    }
  }
}
