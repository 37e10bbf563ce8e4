// order_key4: lib/order_key.wgsl's order key of each component of a vec4 of f32 bits (numeric
// order as u32, −0 ties with +0, NaN after +Inf); used by the vec4 walks of the global select.

// #include "lib/order_key.wgsl"

// order_key of each component (lib/order_key.wgsl, vectorised)
fn order_key4(bits: vec4u) -> vec4u {
  let nan = (bits & vec4u(0x7fffffffu)) > vec4u(0x7f800000u);
  let negative = ((bits & vec4u(0x80000000u)) != vec4u(0u)) & (bits != vec4u(0x80000000u));
  return select(select(bits | vec4u(0x80000000u), ~bits, negative), vec4u(0xffffffffu), nan);
}
