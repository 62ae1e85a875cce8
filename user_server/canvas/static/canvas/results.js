// Drawing the answers: the ten probability bars, the 28x28 preview, and for numbers the boxes over
// the drawing and the per-digit confidences. Elements are built once and updated in place, so
// nothing on the page moves while guesses stream in.

export const percent = (value) => `${Math.round(value * 100)}%`;

export class ProbabilityBars {
  constructor(container) {
    this.bars = Array.from({ length: 10 }, (_, digit) => {
      const item = document.createElement("div");
      item.className = "bar";
      item.setAttribute("role", "listitem");
      item.dataset.digit = String(digit);
      item.innerHTML =
        '<span class="bar-value"></span><span class="bar-track"><span class="bar-fill"></span>' +
        '<span class="bar-spread"></span></span><span class="bar-label"></span>';
      item.querySelector(".bar-label").textContent = String(digit);
      container.append(item);
      return item;
    });
    this.reset();
  }

  reset() {
    this.bars.forEach((bar, digit) => this.#set(bar, digit, 0, null, false));
  }

  show(probabilities, std, best) {
    this.bars.forEach((bar, digit) => this.#set(bar, digit, probabilities[digit], std?.[digit] ?? null, digit === best));
  }

  #set(bar, digit, probability, spread, isBest) {
    bar.style.setProperty("--p", probability.toFixed(4));
    bar.style.setProperty("--s", (spread ?? 0).toFixed(4));
    bar.classList.toggle("best", isBest);
    bar.classList.toggle("has-spread", spread !== null);
    bar.querySelector(".bar-value").textContent = probability >= 0.005 ? percent(probability) : "";
    const spreadText = spread !== null ? `, plus or minus ${percent(spread)}` : "";
    bar.setAttribute("aria-label", `${digit}: ${percent(probability)}${spreadText}`);
  }
}

// The model's 28x28 input (0..1, white ink on black) drawn one canvas pixel per value; CSS scales
// it up without smoothing so each pixel stays a crisp square.
export function drawPreview(canvas, input) {
  const ctx = canvas.getContext("2d");
  if (!input) {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    return;
  }
  const image = ctx.createImageData(28, 28);
  input.flat().forEach((value, index) => {
    const level = Math.round(Math.min(1, Math.max(0, value)) * 255);
    image.data.set([level, level, level, 255], index * 4);
  });
  ctx.putImageData(image, 0, 0);
}

// Each digit's box ([x, y, w, h] in the sent PNG's pixels) over the drawing, in percentages so the
// boxes stay put when the pad is resized.
export function drawBoxes(container, digits, width, height) {
  container.replaceChildren(
    ...digits.map(({ digit, confidence, box: [x, y, w, h] }) => {
      const box = document.createElement("div");
      box.className = "box";
      box.style.left = `${(100 * x) / width}%`;
      box.style.top = `${(100 * y) / height}%`;
      box.style.width = `${(100 * w) / width}%`;
      box.style.height = `${(100 * h) / height}%`;
      const tag = document.createElement("span");
      tag.textContent = `${digit} · ${percent(confidence)}`;
      tag.classList.toggle("inside", y / height < 0.12); // no room above the box: label it inside
      box.append(tag);
      return box;
    }),
  );
}

// A number's digits as buttons (tap one to correct it). A piece the server doubts is a digit at
// all reads "Not a digit?" with its closest digit small beside it.
export function listDigits(list, digits) {
  list.replaceChildren(
    ...digits.map(({ digit, confidence, not_a_digit: doubtful }, index) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.index = String(index);
      button.setAttribute("aria-pressed", "false");
      button.className = confidence < 0.8 ? "piece unsure" : "piece";
      button.classList.toggle("doubtful", Boolean(doubtful));
      button.innerHTML =
        '<span class="piece-doubt" data-testid="piece-not-a-digit">Not a digit?</span>' +
        '<span class="closest">closest: </span><span class="digit"></span><span class="conf"></span>';
      button.querySelector(".piece-doubt").hidden = !doubtful;
      button.querySelector(".closest").hidden = !doubtful;
      button.querySelector(".digit").textContent = String(digit);
      button.querySelector(".conf").textContent = doubtful ? `, ${percent(confidence)}` : percent(confidence);
      const doubt = doubtful ? "may not be a digit; closest " : "";
      button.setAttribute("aria-label", `Digit ${index + 1}: ${doubt}${digit}, ${percent(confidence)} sure. Tap to correct.`);
      item.append(button);
      return item;
    }),
  );
}
