// reduce: the sum or the maximum of one f32 per invocation over a workgroup of WG invocations
// (tree reduction in workgroup memory, log2(WG) steps; WG a power of two).
//   workgroup_sum(lid, v) = Σ_lid' v_lid'        workgroup_max(lid, v) = max_lid' v_lid'
// Every invocation gets the result. Needs the includer's `override WG: u32`; lid is
// local_invocation_index. Call from uniform control flow; calls may follow one another (the last
// barrier lets the next call reuse the buffer).

var<workgroup> reduce_partial: array<f32, WG>;

fn workgroup_sum(lid: u32, v: f32) -> f32 {
  reduce_partial[lid] = v;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      reduce_partial[lid] += reduce_partial[lid + stride];
    }
    workgroupBarrier();
  }
  let total = reduce_partial[0];
  workgroupBarrier();
  return total;
}

fn workgroup_max(lid: u32, v: f32) -> f32 {
  reduce_partial[lid] = v;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      reduce_partial[lid] = max(reduce_partial[lid], reduce_partial[lid + stride]);
    }
    workgroupBarrier();
  }
  let total = reduce_partial[0];
  workgroupBarrier();
  return total;
}
