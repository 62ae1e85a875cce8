// Pictures as the page sends them: at the resolution the server works at. The server box-averages
// any picture whose shorter side is 224 px or more by a whole factor, keeping that side at least
// 112 px (WORKING_SIDE in digits/preprocess.py), then crops a digit to 20 px. Sending more only
// costs: every pixel is encoded here, carried, decoded and walked there. So the shorter side is
// shrunk to 112 px, the server's working side (a canvas already smaller is sent as drawn); canvas
// drawings exported this way read as well as at full size (README, "The page").
export const MAX_SHORTER_SIDE = 112;

// { blob, width, height } of `source` (a canvas or an ImageBitmap) shrunk as above, as PNG.
export async function shrunkPng(source, width, height) {
  const scale = Math.min(1, MAX_SHORTER_SIDE / Math.min(width, height));
  const out = document.createElement("canvas");
  out.width = Math.max(1, Math.round(width * scale));
  out.height = Math.max(1, Math.round(height * scale));
  const ctx = out.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.fillStyle = "#ffffff"; // a transparent picture reads as ink on white paper, as the server composites it
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(source, 0, 0, out.width, out.height);
  const blob = await new Promise((resolve, reject) =>
    out.toBlob((made) => (made ? resolve(made) : reject(new Error("could not encode the picture"))), "image/png"),
  );
  return { blob, width: out.width, height: out.height };
}

// A file a person gave (picker, drop or paste), decoded by the browser (EXIF rotation applied) and
// shrunk; null when it is not a picture the browser can read.
export async function pictureFromFile(file) {
  if (!file || !file.type.startsWith("image/")) return null;
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return null;
  }
  try {
    return { ...(await shrunkPng(bitmap, bitmap.width, bitmap.height)), url: URL.createObjectURL(file) };
  } finally {
    bitmap.close();
  }
}

// The first picture file of a drop or a paste (a DataTransfer), if any.
export function pictureFileOf(transfer) {
  const files = Array.from(transfer?.files ?? []);
  const items = Array.from(transfer?.items ?? []).filter((item) => item.kind === "file").map((item) => item.getAsFile());
  return [...files, ...items].find((file) => file?.type.startsWith("image/")) ?? null;
}

export function blobToDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}
