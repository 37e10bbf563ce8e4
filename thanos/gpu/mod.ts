/**
 * GPU layer: device, buffer pool, pipeline cache, tensors and kernel launch.
 * The only code in the project that touches `navigator.gpu`.
 * @module
 */
export { type AdapterSummary, getGpu, Gpu } from "./device.ts";
export { BufferPool, TENSOR_USAGE } from "./pool.ts";
export { type Constants, type Kernel, PipelineCache, shaderInterface, shaderSource } from "./pipelines.ts";
export { Recorder } from "./recorder.ts";
export { type DType, empty, numel, readAll, Tensor, tensor, type TypedArrayOf, upload, zeros } from "./tensor.ts";
export { type Bindings, grid1d, launch, type LaunchOptions, type ParamRecord } from "./launch.ts";
export { type BindingDecl, type ParamField, parseShaderInterface, type ShaderInterface } from "./shader_interface.ts";
export { budgetRanges, checkLoopBudget, LOOP_BUDGET, LOOP_LIMIT, loopCost } from "./loop_budget.ts";
