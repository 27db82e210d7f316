// Raw pixel formats the reader hands out, with their frame sizes and the typed array each one reads as.

export type FrameData = Uint8Array | Uint16Array | Float32Array;

export interface FormatInfo {
  /** ffmpeg's name of the format it produces (`-pix_fmt`). */
  ffmpeg: string;
  /** Bytes of one w×h frame. */
  bytes(w: number, h: number): number;
  view(buf: Buffer): FrameData;
  /** Needs even width and height (chroma subsampled 2×2). */
  even: boolean;
  /** For 3 equal planes: where each plane ffmpeg writes goes in the frame (ffmpeg's planar RGB is G, B, R). */
  planeOrder?: [number, number, number];
}

const u8 = (buf: Buffer) => new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
// The reader allocates every frame as its own ArrayBuffer (offset 0), so 16/32-bit views are aligned.
const u16 = (buf: Buffer) => new Uint16Array(buf.buffer, buf.byteOffset, buf.byteLength / 2);
const f32 = (buf: Buffer) => new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const packed = (
  ffmpeg: string,
  channels: number,
  bytesPerSample: number,
  view: FormatInfo['view'],
  planeOrder?: FormatInfo['planeOrder'],
): FormatInfo => ({
  ffmpeg,
  bytes: (w, h) => w * h * channels * bytesPerSample,
  view,
  even: false,
  ...(planeOrder ? { planeOrder } : {}),
});

const GBR_TO_RGB: [number, number, number] = [1, 2, 0];

export const PIXEL_FORMATS = {
  /** Interleaved R, G, B bytes (HWC). */
  rgb24: packed('rgb24', 3, 1, u8),
  bgr24: packed('bgr24', 3, 1, u8),
  rgba: packed('rgba', 4, 1, u8),
  /** Planar R, G, B bytes (CHW, the layout most models take); also the cheapest RGB for ffmpeg to make. */
  rgbp: packed('gbrp', 3, 1, u8, GBR_TO_RGB),
  /** Planar R, G, B float32 in [0, 1] (CHW). */
  rgbpf32: packed('gbrpf32le', 3, 4, f32, GBR_TO_RGB),
  gray: packed('gray', 1, 1, u8),
  gray16le: packed('gray16le', 1, 2, u16),
  /** Luma as float32 in [0, 1]. */
  grayf32le: packed('grayf32le', 1, 4, f32),
  /** Planar Y (w·h) then U and V (w/2·h/2 each): the derivative's own format, no conversion. */
  yuv420p: { ffmpeg: 'yuv420p', bytes: (w: number, h: number) => w * h * 1.5, view: u8, even: true },
} satisfies Record<string, FormatInfo>;

export type PixelFormat = keyof typeof PIXEL_FORMATS;

export function isPixelFormat(name: string): name is PixelFormat {
  return Object.hasOwn(PIXEL_FORMATS, name);
}
