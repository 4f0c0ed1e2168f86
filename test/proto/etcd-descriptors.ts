// Reads the protobuf file descriptors that a Go binary (etcd) registers at start-up.
// Go's protobuf runtime embeds each .proto file as a gzipped FileDescriptorProto, so the
// installed etcd binary itself is the ground truth for the wire contract we claim to match.
import { readFileSync } from 'fs';
import { gunzipSync, constants } from 'zlib';
import * as protobuf from 'protobufjs';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const descriptor = require('protobufjs/ext/descriptor');

export interface FieldShape {
  name: string;
  number: number;
  type: string; // scalar name, or fully qualified message/enum name without the leading dot
  repeated: boolean;
  oneof?: string;
}

/** A flat description of a proto file's contents, comparable between sources. */
export interface Shape {
  messages: Map<string, FieldShape[]>;
  enums: Map<string, Record<string, number>>;
  methods: Map<string, string>; // "pkg.Service/Method" -> "[stream ]In -> [stream ]Out"
}

const SCALARS: Record<number, string> = {
  1: 'double',
  2: 'float',
  3: 'int64',
  4: 'uint64',
  5: 'int32',
  6: 'fixed64',
  7: 'fixed32',
  8: 'bool',
  9: 'string',
  12: 'bytes',
  13: 'uint32',
  15: 'sfixed32',
  16: 'sfixed64',
  17: 'sint32',
  18: 'sint64',
};

/** Every gzipped FileDescriptorProto in the binary, keyed by the file's name. */
export function embeddedDescriptors(binaryPath: string): Map<string, any> {
  const bin = readFileSync(binaryPath);
  const found = new Map<string, any>();
  for (let i = bin.indexOf(0x1f); i >= 0 && i < bin.length - 3; i = bin.indexOf(0x1f, i + 1)) {
    if (bin[i + 1] !== 0x8b || bin[i + 2] !== 8) continue;
    let raw: Buffer;
    try {
      // Sync flush lets us inflate without knowing where the member ends.
      raw = gunzipSync(bin.subarray(i, i + (1 << 20)), { finishFlush: constants.Z_SYNC_FLUSH });
    } catch {
      continue;
    }
    if (raw[0] !== 0x0a) continue; // field 1 (name), length-delimited
    try {
      const fd = descriptor.FileDescriptorProto.decode(raw);
      if (typeof fd.name === 'string' && fd.name.endsWith('.proto')) found.set(fd.name, fd);
    } catch {
      // not a descriptor after all
    }
  }
  return found;
}

/** Shape of one FileDescriptorProto. */
export function shapeOfDescriptor(fd: any): Shape {
  const shape: Shape = { messages: new Map(), enums: new Map(), methods: new Map() };
  const pkg: string = fd.package;
  const addEnum = (prefix: string, e: any) =>
    shape.enums.set(`${prefix}.${e.name}`, Object.fromEntries(e.value.map((v: any) => [v.name, v.number])));
  const addMessage = (prefix: string, m: any) => {
    const full = `${prefix}.${m.name}`;
    const fields: FieldShape[] = m.field.map((f: any) => ({
      name: f.name,
      number: f.number,
      type: f.typeName ? String(f.typeName).replace(/^\./, '') : SCALARS[f.type],
      repeated: f.label === 3,
      ...(Object.prototype.hasOwnProperty.call(f, 'oneofIndex')
        ? { oneof: m.oneofDecl[f.oneofIndex].name }
        : {}),
    }));
    shape.messages.set(
      full,
      fields.sort((a, b) => a.number - b.number),
    );
    m.enumType.forEach((e: any) => addEnum(full, e));
    m.nestedType.forEach((n: any) => addMessage(full, n));
  };
  fd.enumType.forEach((e: any) => addEnum(pkg, e));
  fd.messageType.forEach((m: any) => addMessage(pkg, m));
  for (const s of fd.service) {
    for (const r of s.method) {
      const sig = `${r.clientStreaming ? 'stream ' : ''}${r.inputType.replace(/^\./, '')} -> ${
        r.serverStreaming ? 'stream ' : ''
      }${r.outputType.replace(/^\./, '')}`;
      shape.methods.set(`${pkg}.${s.name}/${r.name}`, sig);
    }
  }
  return shape;
}

/** Shape of the definitions that protobufjs parsed from our own .proto files, for one package. */
export function shapeOfRoot(root: protobuf.Root, pkg: string): Shape {
  const shape: Shape = { messages: new Map(), enums: new Map(), methods: new Map() };
  const visit = (ns: protobuf.NamespaceBase) => {
    for (const obj of ns.nestedArray) {
      const full = obj.fullName.replace(/^\./, '');
      if (obj instanceof protobuf.Type) {
        const fields: FieldShape[] = obj.fieldsArray.map((f) => {
          f.resolve();
          const t = f.resolvedType ? f.resolvedType.fullName.replace(/^\./, '') : f.type;
          return {
            name: f.name,
            number: f.id,
            type: t,
            repeated: f.repeated,
            ...(f.partOf ? { oneof: f.partOf.name } : {}),
          };
        });
        shape.messages.set(
          full,
          fields.sort((a, b) => a.number - b.number),
        );
      } else if (obj instanceof protobuf.Enum) {
        shape.enums.set(full, { ...obj.values });
      } else if (obj instanceof protobuf.Service) {
        for (const m of obj.methodsArray) {
          m.resolve();
          const sig = `${m.requestStream ? 'stream ' : ''}${m.resolvedRequestType!.fullName.replace(/^\./, '')} -> ${
            m.responseStream ? 'stream ' : ''
          }${m.resolvedResponseType!.fullName.replace(/^\./, '')}`;
          shape.methods.set(`${full.replace(/\.[^.]+$/, '')}.${obj.name}/${m.name}`, sig);
        }
      }
      if (obj instanceof protobuf.Namespace || obj instanceof protobuf.Type)
        visit(obj as protobuf.NamespaceBase);
    }
  };
  const ns = root.lookup(pkg);
  if (ns) visit(ns as protobuf.NamespaceBase);
  return shape;
}
