// k_from_budget: k_out[0] = max(0, budget − counter[0]) — how many more elements a dynamic mask
// may still select when `counter` holds the zeros chosen so far (kFromBudget).
//
// Bindings (group 0):
//   #params { budget: u32 }   (the target number of selected elements)
//   #binding counter: array<u32>, read         [1]
//   #binding k_out: array<u32>, read_write   [1]
// Grid: 1 workgroup of 1 invocation.

@compute @workgroup_size(1)
fn main() {
  let c = counter[0];
  k_out[0] = select(p.budget - c, 0u, c >= p.budget);
}
