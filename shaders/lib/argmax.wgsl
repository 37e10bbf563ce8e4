// argmax: the largest of one (value, index) pair per invocation over a workgroup of WG invocations
// (tree reduction in workgroup memory, log2(WG) steps; WG a power of two), ties to the smaller
// index, index 0xffffffff meaning "no candidate" (it loses to any candidate):
//   workgroup_argmax(lid, v, i) = (max v, the smallest i holding it), as vec2(bitcast value, index)
// Every invocation gets the result. Needs the includer's `override WG: u32`; call from uniform
// control flow. Used by argmax.wgsl (greedy decoding) and token_logprob.wgsl (lm-eval's greedy check).

var<workgroup> argmax_value: array<f32, WG>;
var<workgroup> argmax_index: array<u32, WG>;

struct ArgMax {
  value: f32,
  index: u32,
}

fn workgroup_argmax(lid: u32, v: f32, i: u32) -> ArgMax {
  argmax_value[lid] = v;
  argmax_index[lid] = i;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      let ov = argmax_value[lid + stride];
      let oi = argmax_index[lid + stride];
      let mine = argmax_index[lid];
      if (oi != 0xffffffffu && (mine == 0xffffffffu || ov > argmax_value[lid] || (ov == argmax_value[lid] && oi < mine))) {
        argmax_value[lid] = ov;
        argmax_index[lid] = oi;
      }
    }
    workgroupBarrier();
  }
  let best = ArgMax(argmax_value[0], argmax_index[0]);
  workgroupBarrier();
  return best;
}
