// The drawing pad: Pointer Events (mouse, touch, pen) into strokes, rendered as smooth round ink
// on white paper at the screen's real pixel density. Strokes are kept in fractions of the pad's
// size, so a resize (phone rotation, number mode) redraws them crisply instead of stretching.

import { shrunkPng } from "./picture.js";

const PAPER = "#ffffff";
const INK = "#111111";
const STROKE_RATIO = 0.065; // stroke width as a fraction of the pad's height

export class DrawingPad {
  constructor(canvas, { onChange = () => {}, onStroke = () => {} } = {}) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.strokes = [];
    this.active = null; // { pointerId, points }
    this.onChange = onChange; // after a stroke ends, undo or clear
    this.onStroke = onStroke; // while a stroke grows
    this.frame = 0;
    this.#listen();
    new ResizeObserver(() => this.#resize()).observe(canvas);
    this.#resize();
  }

  get isEmpty() {
    return this.strokes.length === 0 && !this.active;
  }

  get isDrawing() {
    return Boolean(this.active);
  }

  undo() {
    if (this.active) this.active = null;
    else this.strokes.pop();
    this.#render();
    this.onChange();
  }

  clear() {
    this.strokes = [];
    this.active = null;
    this.#render();
    this.onChange();
  }

  // The drawing as shown, shrunk to the server's working resolution, as { blob, width, height }
  // (the server does all the normalizing).
  toPng() {
    this.#flush();
    return shrunkPng(this.canvas, this.canvas.width, this.canvas.height);
  }

  #listen() {
    const canvas = this.canvas;
    canvas.addEventListener("pointerdown", (event) => this.#down(event));
    canvas.addEventListener("pointermove", (event) => this.#move(event));
    canvas.addEventListener("pointerup", (event) => this.#up(event));
    canvas.addEventListener("pointercancel", (event) => this.#up(event));
    canvas.addEventListener("lostpointercapture", (event) => this.#up(event));
    canvas.addEventListener("contextmenu", (event) => event.preventDefault());
  }

  #point(event) {
    const rect = this.canvas.getBoundingClientRect();
    return [(event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height];
  }

  #down(event) {
    if (this.active || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    this.canvas.dataset.pointer = event.pointerType; // which device drew last: handy for tests and styling
    this.canvas.setPointerCapture?.(event.pointerId);
    this.active = { pointerId: event.pointerId, points: [this.#point(event)] };
    this.#schedule();
    this.onStroke();
  }

  #move(event) {
    if (!this.active || event.pointerId !== this.active.pointerId) return;
    event.preventDefault();
    const events = event.getCoalescedEvents?.() ?? [];
    for (const each of events.length ? events : [event]) this.active.points.push(this.#point(each));
    this.#schedule();
    this.onStroke();
  }

  #up(event) {
    if (!this.active || event.pointerId !== this.active.pointerId) return;
    this.strokes.push(this.active.points);
    this.active = null;
    this.#schedule();
    this.onChange();
  }

  #resize() {
    const rect = this.canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(rect.width * ratio));
    const height = Math.max(1, Math.round(rect.height * ratio));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    this.#render();
  }

  #schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.#render());
  }

  #flush() {
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.#render();
    }
  }

  #render() {
    this.frame = 0;
    const { context: ctx, canvas } = this;
    ctx.fillStyle = PAPER;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = INK;
    ctx.fillStyle = INK;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = Math.max(2, canvas.height * STROKE_RATIO);
    const strokes = this.active ? [...this.strokes, this.active.points] : this.strokes;
    for (const stroke of strokes) this.#drawStroke(stroke.map(([x, y]) => [x * canvas.width, y * canvas.height]));
  }

  // Quadratic curves through the midpoints of successive points: smooth without lagging the pen.
  #drawStroke(points) {
    const ctx = this.context;
    if (points.length === 1) {
      ctx.beginPath();
      ctx.arc(points[0][0], points[0][1], ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
      return;
    }
    ctx.beginPath();
    ctx.moveTo(...points[0]);
    for (let i = 1; i < points.length - 1; i++) {
      const [x, y] = points[i];
      const [nx, ny] = points[i + 1];
      ctx.quadraticCurveTo(x, y, (x + nx) / 2, (y + ny) / 2);
    }
    ctx.lineTo(...points[points.length - 1]);
    ctx.stroke();
  }
}
