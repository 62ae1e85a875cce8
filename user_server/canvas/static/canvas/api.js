// The ml_server HTTP API as the page uses it (README.md, "The API"; the OpenAPI schema at /schema). Two kinds of failure:
// ServerUnreachable (nothing answered: the page shows its banner and retries) and
// ApiError (the server answered with the contract's {"error": {code, message}}).

const TIMEOUT_MS = 15000;

export class ServerUnreachable extends Error {}

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export class MlClient {
  constructor(baseUrl) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  health(signal) {
    return this.#request("GET", "/health", { signal });
  }

  listModels(signal) {
    return this.#request("GET", "/list", { signal });
  }

  // One digit: the PNG as drawn (see picture.js), plus the 28x28 input the model saw.
  predictDigit(png, model, signal) {
    const form = new FormData();
    form.append("image", png, "drawing.png");
    if (model) form.append("model", model);
    form.append("return_input", "true");
    return this.#request("POST", "/predict", { body: form, signal });
  }

  predictNumber(png, model, signal) {
    const form = new FormData();
    form.append("image", png, "drawing.png");
    if (model) form.append("model", model);
    return this.#request("POST", "/predict/number", { body: form, signal });
  }

  sendFeedback({ image, label, predicted, model }) {
    const body = JSON.stringify({ image, label, predicted, model });
    return this.#request("POST", "/feedback", { body, json: true });
  }

  // A whole number: for each digit its box (as /predict/number gave it), the right digit and the guess.
  sendNumberFeedback({ image, digits, model }) {
    const body = JSON.stringify({ image, digits, model });
    return this.#request("POST", "/feedback/number", { body, json: true });
  }

  async #request(method, path, { body, json = false, signal } = {}) {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new ServerUnreachable("timed out")), TIMEOUT_MS);
    const signals = signal ? [signal, timeout.signal] : [timeout.signal];
    let response;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        body,
        headers: json ? { "Content-Type": "application/json", Accept: "application/json" } : { Accept: "application/json" },
        signal: AbortSignal.any(signals),
        mode: "cors",
        credentials: "omit",
      });
    } catch (error) {
      if (signal?.aborted) throw error; // superseded by a newer request: the caller ignores it
      throw new ServerUnreachable(error.message);
    } finally {
      clearTimeout(timer);
    }
    const payload = await response.json().catch(() => null);
    if (!response.ok) {
      const detail = payload?.error ?? {};
      throw new ApiError(detail.code ?? "http_" + response.status, detail.message ?? response.statusText, response.status);
    }
    return payload;
  }
}
