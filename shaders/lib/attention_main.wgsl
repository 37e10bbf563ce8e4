// The body of attention.wgsl and attention_texture.wgsl (see attention.wgsl for the math, the
// grid and the key ranges): everything but how a key or value row is read. The including file
// defines
//   fn k4(row: u32, g: u32, d: u32) -> vec4f   k[row, g·HEAD_DIM + d .. + 3] of the view, 0 past the head
//   fn v4(row: u32, g: u32, d: u32) -> vec4f   the same of v
// and the bindings q, out, state, flags and the params the body reads (batchHeads, seqLen, heads,
// kvHeads, qOffset, qLd, outLd, keyBegin, keyEnd, scale, slot). When CHECK, every normalised output
// that is NaN or ±Inf records flags[slot] = max(flags[slot], 0xffffffff − its index in out).
//
// and the shape of the per-query arrays qs and acc as two consts, ATT_ROWS and ATT_COLS:
//   (1, 64)  any head dimension: one row, indexed r·hd4 + d4 (QB·hd4 ≤ 64, attentionQueryBlock);
//   (QB, hd4) exactly, for a kernel specialised to one head dimension: qs[r][d4].
// Why: on llvmpipe (Mesa 22.3) arrays indexed by loop variables live in scratch memory, every access a
// per-lane scalar load or store (the JIT code is full of vpinsrd / vextractps on the stack). With
// dimensions equal to the loops' trip counts Mesa unrolls the loops and keeps both arrays in
// registers: the same bits, and at HEAD_DIM 32 (16 windows of 256, 8/4 heads) the kernel's CPU time
// 148–200 ms against 188–255 (alternating runs, ~1.25x; attention_texture_hd32.wgsl). Only as a
// specialisation: at HEAD_DIM 64 the exact two-dimensional arrays took LLVM ~40 s to compile (6.7 s
// for the one-row form, Mesa's shader cache off), and a fixed array<array<vec4f, 16>, 4> with a
// `break` at hd4 gained nothing at 32.

override WG: u32 = 8;
override HEAD_DIM: u32 = 64;
override QB: u32 = 4;
override CHECK: bool = false;

// where (r, d4) of a per-query array is: [slot_row(r)][slot_col(r, d4, hd4)] (constant-folded)
fn slot_row(r: u32) -> u32 {
  if (ATT_ROWS == 1u) {
    return 0u;
  }
  return r;
}
fn slot_col(r: u32, d4: u32, hd4: u32) -> u32 {
  if (ATT_ROWS == 1u) {
    return r * hd4 + d4;
  }
  return d4;
}
const MAX_QB: u32 = 4u;
const MASKED: f32 = -3.0e38;

// elements d .. d+3 of a row starting at `base`, 0 past the head (HEAD_DIM not a multiple of 4)
fn q4(base: u32, d: u32) -> vec4f {
  let inside = vec4u(d, d + 1u, d + 2u, d + 3u) < vec4u(HEAD_DIM);
  return select(vec4f(0.0), vec4f(q[base + d], q[base + d + 1u], q[base + d + 2u], q[base + d + 3u]), inside);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= p.batchHeads) {
    return;
  }
  let hd4 = (HEAD_DIM + 3u) / 4u;
  let h = gid.x % p.heads;
  let row0 = (gid.x / p.heads) * p.seqLen; // first token of this window
  let g = h / (p.heads / p.kvHeads);
  let i0 = (p.keyBegin / QB + gid.y) * QB; // first query of the block
  let iLast = min(i0 + QB, p.seqLen) - 1u; // last query of the block inside the window
  let resume = p.keyBegin > 0u; // earlier keys were folded in by earlier dispatches

  var qs: array<array<vec4f, ATT_COLS>, ATT_ROWS>; // (r, d4): scale · q[i0 + r, 4·d4 .. 4·d4+3]
  var acc: array<array<vec4f, ATT_COLS>, ATT_ROWS>; // (r, d4): Σ_j exp(s_j − m_r) · v[j, 4·d4 .. 4·d4+3]
  var m: array<f32, MAX_QB>;
  var l: array<f32, MAX_QB>;
  for (var r = 0u; r < QB; r++) {
    let i = min(i0 + r, iLast); // rows past the window repeat the last query (not stored)
    let qBase = p.qOffset + (row0 + i) * p.qLd + h * HEAD_DIM;
    let oBase = (row0 + i) * p.outLd + h * HEAD_DIM;
    for (var d4 = 0u; d4 < hd4; d4++) {
      qs[slot_row(r)][slot_col(r, d4, hd4)] = q4(qBase, 4u * d4) * p.scale;
      acc[slot_row(r)][slot_col(r, d4, hd4)] = vec4f(0.0);
      if (resume) {
        for (var c = 0u; c < 4u; c++) {
          if (4u * d4 + c < HEAD_DIM) {
            acc[slot_row(r)][slot_col(r, d4, hd4)][c] = out[oBase + 4u * d4 + c];
          }
        }
      }
    }
    let sBase = ((row0 + i) * p.heads + h) * 2u;
    m[r] = select(MASKED, state[sBase], resume);
    l[r] = select(0.0, state[sBase + 1u], resume);
  }

  let keyEnd = min(p.keyEnd, iLast + 1u);
  for (var j0 = p.keyBegin; j0 < keyEnd; j0 += 4u) {
    // the four keys' rows (clamped inside the range; masked below)
    let jl = vec4u(j0, j0 + 1u, j0 + 2u, j0 + 3u);
    let jc = min(jl, vec4u(keyEnd - 1u));
    let rows = row0 + jc;
    var s: array<vec4f, MAX_QB>; // s[r][t] = scale · q_{i0+r} · k_{j0+t}
    for (var r = 0u; r < QB; r++) {
      s[r] = vec4f(0.0); // explicitly: naga declares a loop's variables once, for the whole function
    }
    for (var d4 = 0u; d4 < hd4; d4++) {
      let d = 4u * d4;
      let k0 = k4(rows.x, g, d);
      let k1 = k4(rows.y, g, d);
      let k2 = k4(rows.z, g, d);
      let k3 = k4(rows.w, g, d);
      for (var r = 0u; r < QB; r++) {
        let qr = qs[slot_row(r)][slot_col(r, d4, hd4)];
        s[r] += vec4f(dot(qr, k0), dot(qr, k1), dot(qr, k2), dot(qr, k3));
      }
    }
    var e: array<vec4f, MAX_QB>; // exp(s − m') of the block's keys, 0 where masked
    var c: array<f32, MAX_QB>; // exp(m − m'), the rescale of what came before
    for (var r = 0u; r < QB; r++) {
      let sr = select(vec4f(MASKED), s[r], jl <= vec4u(i0 + r) & jl < vec4u(keyEnd));
      let mNew = max(m[r], max(max(sr.x, sr.y), max(sr.z, sr.w)));
      c[r] = exp(m[r] - mNew);
      e[r] = exp(sr - vec4f(mNew));
      l[r] = l[r] * c[r] + (e[r].x + e[r].y + e[r].z + e[r].w);
      m[r] = mNew;
    }
    for (var d4 = 0u; d4 < hd4; d4++) {
      let d = 4u * d4;
      let v0 = v4(rows.x, g, d);
      let v1 = v4(rows.y, g, d);
      let v2 = v4(rows.z, g, d);
      let v3 = v4(rows.w, g, d);
      for (var r = 0u; r < QB; r++) {
        let er = e[r];
        acc[slot_row(r)][slot_col(r, d4, hd4)] = acc[slot_row(r)][slot_col(r, d4, hd4)] * c[r] + er.x * v0 + er.y * v1 + er.z * v2 + er.w * v3;
      }
    }
  }

  for (var r = 0u; r < QB; r++) {
    let i = i0 + r;
    if (i < p.keyBegin || i > iLast) {
      continue; // finished by an earlier dispatch, or past the window
    }
    let oBase = (row0 + i) * p.outLd + h * HEAD_DIM;
    let last = i < p.keyEnd; // key i, the query's last, was in this range: normalise
    let scaleOut = select(1.0, 1.0 / l[r], last);
    for (var d = 0u; d < HEAD_DIM; d++) {
      let o = acc[slot_row(r)][slot_col(r, d / 4u, hd4)][d % 4u] * scaleOut;
      if (CHECK && last && (bitcast<u32>(o) & 0x7f800000u) == 0x7f800000u) {
        atomicMax(&flags[p.slot], 0xffffffffu - (oBase + d));
      }
      out[oBase + d] = o;
    }
    if (!last) {
      let sBase = ((row0 + i) * p.heads + h) * 2u;
      state[sBase] = m[r];
      state[sBase + 1u] = l[r];
    }
  }
}
