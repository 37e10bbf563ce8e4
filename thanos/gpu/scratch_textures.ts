/**
 * Scratch textures that kernels fill and read within one recorded sequence (matmul_texture.wgsl's
 * packed operands): one rgba32float texture per role, reused by every launch and grown when a
 * launch needs more texels. Reuse across launches is safe because the queue runs recorded commands
 * in order (a later pack writes the texture only after the product before it has read it). A
 * texture replaced by a larger one may still be read by recorded work, so it is destroyed only at
 * the next {@link ScratchTextures.collect} (called by `Gpu.sync()`, after the queue is idle).
 *
 * @module
 */

/** A scratch texture and the view kernels bind. */
export interface ScratchTexture {
  readonly texture: GPUTexture;
  readonly view: GPUTextureView;
}

/** The rgba32float scratch textures of one device, by role. */
export class ScratchTextures {
  readonly #device: GPUDevice;
  readonly #current = new Map<string, ScratchTexture>();
  #retired: GPUTexture[] = [];

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /**
   * A view of the `role` texture, at least `width` x `height` texels (a new, larger texture when
   * the current one is smaller in either dimension; sizes grow to the larger of old and new).
   */
  view(role: string, width: number, height: number): GPUTextureView {
    return this.get(role, width, height).view;
  }

  /** {@link view}, with the texture itself (the target of a buffer-to-texture copy). */
  get(role: string, width: number, height: number): ScratchTexture {
    const max = this.#device.limits.maxTextureDimension2D;
    if (!(width >= 1 && height >= 1 && width <= max && height <= max)) {
      throw new RangeError(`ScratchTextures: ${role} texture of ${width} x ${height} texels; expected 1..${max} each`);
    }
    const cur = this.#current.get(role);
    if (cur && cur.texture.width >= width && cur.texture.height >= height) return cur;
    const w = Math.max(width, cur?.texture.width ?? 0), h = Math.max(height, cur?.texture.height ?? 0);
    const texture = this.#device.createTexture({
      size: [w, h],
      format: "rgba32float",
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_DST,
      label: `scratch ${role}`,
    });
    if (cur) this.#retired.push(cur.texture);
    const entry = { texture, view: texture.createView() };
    this.#current.set(role, entry);
    return entry;
  }

  /** [width, height] in texels of the `role` texture, or undefined before its first use. */
  size(role: string): [number, number] | undefined {
    const cur = this.#current.get(role);
    return cur ? [cur.texture.width, cur.texture.height] : undefined;
  }

  /** Bytes of the textures held now (current and not yet destroyed). */
  get bytes(): number {
    let n = 0;
    for (const t of [...[...this.#current.values()].map((c) => c.texture), ...this.#retired]) {
      n += t.width * t.height * 16;
    }
    return n;
  }

  /** Destroys replaced textures; call only when no recorded work can still read them. */
  collect(): void {
    for (const t of this.#retired) t.destroy();
    this.#retired = [];
  }
}
