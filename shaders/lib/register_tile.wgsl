// register_tile: the body of the register-blocked products, matmul_register.wgsl (scalar loads)
// and matmul_register_vec4.wgsl (vec4 loads), which differ only in how they read a block of the
// operands: each defines
//   loadBlock(i0, j0, kb, av, bv):  av[r][kk] = op(A)[i0 + r, kb + kk], bv[kk·TN4 + q][s] =
//                                   op(B)[kb + kk, j0 + 4q + s] (zero past K)
// and this module holds the rest. Each invocation keeps a TM x TN tile of C in registers:
//   acc[r·TN4 + q][s] = C[i0 + r, j0 + 4q + s]     (TM = TN = 16, TN4 = TN / 4)
// main: the invocation's tile (product_tile, lib/matmul_params.wgsl, then the invocation's place in
//   its workgroup's WG_Y x WG_X grid of tiles), then for each block of 4 steps of k, loadBlock and
//   fmaTile, then storeTile.
//   fmaTile(acc, av, bv):  acc[r·TN4 + q] = fma(av[r][kk], bv[kk·TN4 + q], acc[r·TN4 + q]),
//                          kk = 0 .. 3 outermost, then r, then q
//   storeTile(i0, j0, acc, mirror): storeRow for each row of the tile
//   storeRow(i, j0, row, mirror): lib/matmul_store.wgsl (which the includer includes), so
//                          ACCUMULATE and the mirrored lower triangle of SYMMETRIC apply.
// storeTile calls storeRow with constant indices into acc: a loop over acc that the compiler does
// not unroll fully demotes acc to scratch memory, and the whole kernel runs 1.6x slower on
// llvmpipe (which happened to the accumulate and symmetric variants of a store loop). The tiles
// go to helpers by pointer, never by value: a helper taking acc by value (a copy of the tile) made
// Cholesky up to 2x slower. storeRow's `row` is a copy of 4 vec4s, so its loop indexes the copy.

override WG_X: u32 = 8;
override WG_Y: u32 = 8;

const TM: u32 = 16u; // rows of C per invocation
const TN: u32 = 16u; // columns of C per invocation
const TN4: u32 = TN / 4u;

alias Tile = array<vec4f, TM * TN4>; // acc
alias ABlock = array<vec4f, TM>; // av
alias BBlock = array<vec4f, 4u * TN4>; // bv

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid: vec3u) {
  let tile = product_tile(wid, nwg, TN * WG_X); // (tile column, tile row)
  if (tile.x == NO_TILE) {
    return;
  }
  let i0 = (tile.y * WG_Y + lid.y) * TM;
  let j0 = (tile.x * WG_X + lid.x) * TN;
  if (i0 >= p.M || j0 >= p.N) {
    return;
  }
  var acc: Tile;
  // acc += op(A)[i0 .. i0+TM, kb .. kb+4] · op(B)[kb .. kb+4, j0 .. j0+TN], 4 steps of k at a time
  for (var kb = 0u; kb < p.K; kb += 4u) {
    var av: ABlock;
    var bv: BBlock;
    loadBlock(i0, j0, kb, &av, &bv);
    fmaTile(&acc, &av, &bv);
  }
  storeTile(i0, j0, &acc, SYMMETRIC && tile.x != tile.y);
}

fn fmaTile(acc: ptr<function, Tile>, av: ptr<function, ABlock>, bv: ptr<function, BBlock>) {
  for (var kk = 0u; kk < 4u; kk++) {
    for (var r = 0u; r < TM; r++) {
      for (var q = 0u; q < TN4; q++) {
        (*acc)[r * TN4 + q] = fma(vec4f((*av)[r][kk]), (*bv)[kk * TN4 + q], (*acc)[r * TN4 + q]);
      }
    }
  }
}

fn storeTile(i0: u32, j0: u32, acc: ptr<function, Tile>, mirror: bool) {
  storeRow(i0, j0, array<vec4f, TN4>((*acc)[0], (*acc)[1], (*acc)[2], (*acc)[3]), mirror);
  storeRow(i0 + 1u, j0, array<vec4f, TN4>((*acc)[4], (*acc)[5], (*acc)[6], (*acc)[7]), mirror);
  storeRow(i0 + 2u, j0, array<vec4f, TN4>((*acc)[8], (*acc)[9], (*acc)[10], (*acc)[11]), mirror);
  storeRow(i0 + 3u, j0, array<vec4f, TN4>((*acc)[12], (*acc)[13], (*acc)[14], (*acc)[15]), mirror);
  storeRow(i0 + 4u, j0, array<vec4f, TN4>((*acc)[16], (*acc)[17], (*acc)[18], (*acc)[19]), mirror);
  storeRow(i0 + 5u, j0, array<vec4f, TN4>((*acc)[20], (*acc)[21], (*acc)[22], (*acc)[23]), mirror);
  storeRow(i0 + 6u, j0, array<vec4f, TN4>((*acc)[24], (*acc)[25], (*acc)[26], (*acc)[27]), mirror);
  storeRow(i0 + 7u, j0, array<vec4f, TN4>((*acc)[28], (*acc)[29], (*acc)[30], (*acc)[31]), mirror);
  storeRow(i0 + 8u, j0, array<vec4f, TN4>((*acc)[32], (*acc)[33], (*acc)[34], (*acc)[35]), mirror);
  storeRow(i0 + 9u, j0, array<vec4f, TN4>((*acc)[36], (*acc)[37], (*acc)[38], (*acc)[39]), mirror);
  storeRow(i0 + 10u, j0, array<vec4f, TN4>((*acc)[40], (*acc)[41], (*acc)[42], (*acc)[43]), mirror);
  storeRow(i0 + 11u, j0, array<vec4f, TN4>((*acc)[44], (*acc)[45], (*acc)[46], (*acc)[47]), mirror);
  storeRow(i0 + 12u, j0, array<vec4f, TN4>((*acc)[48], (*acc)[49], (*acc)[50], (*acc)[51]), mirror);
  storeRow(i0 + 13u, j0, array<vec4f, TN4>((*acc)[52], (*acc)[53], (*acc)[54], (*acc)[55]), mirror);
  storeRow(i0 + 14u, j0, array<vec4f, TN4>((*acc)[56], (*acc)[57], (*acc)[58], (*acc)[59]), mirror);
  storeRow(i0 + 15u, j0, array<vec4f, TN4>((*acc)[60], (*acc)[61], (*acc)[62], (*acc)[63]), mirror);
}
