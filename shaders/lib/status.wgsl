// status: how a factorisation kernel reports a failed pivot into the includer's
// `status: array<atomic<u32>>` [3] binding, for the operation number Params `op`
// (layout and reading: thanos/linalg/status.ts). The first failing operation wins; within it the
// smallest key (pivot index), whose pivot value is kept:
//   status[0] = max(~op), status[1] = max(~key), status[2] = bits of that key's pivot.
// Used by chol_panel.wgsl and gathered_solve.wgsl.

fn report(key: u32, pivot: f32) {
  let op = ~p.op;
  let prevOp = atomicMax(&status[0], op);
  if (prevOp > op) {
    return; // an earlier operation failed first
  }
  let k = ~key;
  let prevKey = atomicMax(&status[1], k);
  if (prevKey < k) {
    atomicStore(&status[2], bitcast<u32>(pivot));
  }
}
