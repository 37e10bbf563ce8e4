// workgroup_count: the sum of one u32 per invocation over the workgroup, through an atomic in
// workgroup memory (counts are small and most invocations add nothing, so one atomicAdd per
// non-zero count beats a tree):   workgroup_count(t, mine) = Σ_t' mine_t'
// Every invocation gets the total. t is local_invocation_index. Call once per kernel, from uniform
// control flow. Used by count_mask.wgsl and select_tie_count.wgsl.

var<workgroup> count_total: atomic<u32>;

fn workgroup_count(t: u32, mine: u32) -> u32 {
  if (t == 0u) {
    atomicStore(&count_total, 0u);
  }
  workgroupBarrier();
  if (mine != 0u) {
    atomicAdd(&count_total, mine);
  }
  workgroupBarrier();
  return atomicLoad(&count_total);
}
