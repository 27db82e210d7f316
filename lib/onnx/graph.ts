// Small helpers to build ONNX models in TypeScript (serialized with onnx-proto's protobufjs types), so the
// project ships its compute graphs as code instead of binary model files.

import type { onnx as P } from 'onnx-proto';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const OPSET = 17;
/** IR version 8 pairs with opset 17 (ONNX 1.12+). */
const IR_VERSION = 8;

export type ElemType = 'float32' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8';

const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
  uint8: onnx.TensorProto.DataType.UINT8,
  int8: onnx.TensorProto.DataType.INT8,
};

/** onnxruntime's contrib operators (e.g. MatMulIntegerToFloat) live in this domain, version 1. */
export const MS_DOMAIN = 'com.microsoft';

/** A dimension: a fixed size or a symbolic name (dynamic). */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  type: ElemType;
  shape: Dim[];
}

export type AttrValue = number | number[] | string | { int: number };

export interface NodeSpec {
  op: string;
  /** Operator domain; default the standard ONNX one. */
  domain?: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
}

export interface Initializer {
  name: string;
  type: 'float32' | 'int64';
  dims: number[];
  values: number[] | Float32Array;
}

export interface GraphSpec {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: NodeSpec[];
  initializers?: Initializer[];
}

function valueInfo(v: ValueInfo): P.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ELEM[v.type],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttrValue): P.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if (typeof value === 'object') return { name, type: T.INT, i: value.int };
  // A plain number is an int when integral, a float otherwise; use {int} to force an int.
  return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
}

function initializer(t: Initializer): P.ITensorProto {
  const base = { name: t.name, dims: t.dims, dataType: ELEM[t.type] };
  return t.type === 'float32'
    ? { ...base, floatData: Array.from(t.values) }
    : { ...base, int64Data: Array.from(t.values) };
}

/** Serializes a graph as an ONNX model (opset 17) ready for `InferenceSession.create(bytes)`. */
export function buildModel(spec: GraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'mediamesh',
    opsetImport: [
      { domain: '', version: OPSET },
      ...[...new Set(spec.nodes.flatMap((n) => (n.domain ? [n.domain] : [])))].map((domain) => ({
        domain,
        version: 1,
      })),
    ],
    graph: {
      name: spec.name,
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: (spec.initializers ?? []).map(initializer),
      node: spec.nodes.map((n, i) => ({
        name: `${n.op.toLowerCase()}_${i}`,
        opType: n.op,
        ...(n.domain ? { domain: n.domain } : {}),
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
