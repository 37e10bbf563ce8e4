// pack_texture_vec4: pack_texture.wgsl for windows whose offset and leading dimension are
// multiples of 4 (and whose buffer is a 16-byte multiple), reading 4 floats a load: llvmpipe loads
// storage lane by lane, one lane loop per load whatever its width, so vec4 loads are 4x fewer
// loops. Each invocation fills a strip of 4 texels — texel column x, rows y0 .. y0+3 — from 4 vec4
// loads: 4 rows of op(X) (each texel one load), or when TRANS, 4 rows of X (columns 4x .. 4x+3 of
// op(X), each load 4 consecutive rows of op(X)), transposed in registers.
//
//   op(X)[r, c] = X[off + r·ld + c]   (X[off + c·ld + r] when TRANS)
//   t[texel (x, y)] = (op(X)[y, 4x], op(X)[y, 4x + 1], op(X)[y, 4x + 2], op(X)[y, 4x + 3]),
//     each component 0 where y ≥ rows or its column ≥ cols, for x < width and y < height.
// Alignment: off and ld are multiples of 4, so every vec4 starts at a multiple of 4 elements and
// holds at least one element of the window (the loads are skipped when it holds none): inside the
// buffer. Elements of a vec4 past the window's rows or columns are replaced by 0.
//
// #params { rows, cols, off, ld, width, height: u32 }
// #binding x: array<vec4f>, read                               the matrix, 4 floats an element
// #binding t: texture_storage_2d<rgba32float, write>           at least [height, width] texels
// Grid: workgroups of WG_X x WG_Y invocations, one a strip of 4 texels:
//   (ceil(width / WG_X), ceil(height / (4·WG_Y))).

override WG_X: u32 = 8;
override WG_Y: u32 = 8;
override TRANS: bool = false;

// the 4 floats of X from element e (a multiple of 4), those with index ≥ e + live replaced by 0
fn load4(e: u32, live: u32) -> vec4f {
  if (live == 0u) {
    return vec4f(0.0);
  }
  return select(vec4f(0.0), x[e / 4u], vec4u(0u, 1u, 2u, 3u) < vec4u(live));
}

// up to 4 elements left of a run of n starting at s
fn liveOf(s: u32, n: u32) -> u32 {
  return select(min(n - s, 4u), 0u, s >= n);
}

fn grid_item(g: u32, tx: u32) {
  let y0 = 4u * g;
  if (y0 >= p.height || tx >= p.width) {
    return;
  }
  let c0 = 4u * tx;
  var v: array<vec4f, 4>;
  if (TRANS) {
    // v[s] = op(X)[y0 .. y0+4, c0 + s] = X[off + (c0 + s)·ld + y0 ..]; texel row r takes v[s][r]
    let live = liveOf(y0, p.rows);
    for (var s = 0u; s < 4u; s++) {
      v[s] = load4(p.off + (c0 + s) * p.ld + y0, select(live, 0u, c0 + s >= p.cols));
    }
    let m = transpose(mat4x4f(v[0], v[1], v[2], v[3]));
    v = array<vec4f, 4>(m[0], m[1], m[2], m[3]);
  } else {
    let live = liveOf(c0, p.cols);
    for (var r = 0u; r < 4u; r++) {
      v[r] = load4(p.off + (y0 + r) * p.ld + c0, select(live, 0u, y0 + r >= p.rows));
    }
  }
  for (var r = 0u; r < 4u; r++) {
    if (y0 + r < p.height) {
      textureStore(t, vec2u(tx, y0 + r), v[r]);
    }
  }
}

// #include "lib/grid_entry.wgsl"
