import KilnCore
import SwiftProtobuf

/// Reads an ONNX model (protobuf bytes) into a `Graph`, checking what Kiln depends on:
/// the opset range, the operator domain, tensor types and the graph's wiring.
public enum ONNXImporter {
    /// Default-domain opsets Kiln reads.
    public static let supportedOpsets = 11...21

    public static func graph(fromBytes bytes: [UInt8]) throws -> Graph {
        guard !bytes.isEmpty else { throw KilnError.format("not an ONNX model: the input is empty") }
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: bytes)
        } catch {
            throw KilnError.format("not a valid ONNX model (protobuf decoding failed: \(error)); is the file truncated?")
        }
        guard model.hasGraph else { throw KilnError.format("not a valid ONNX model: it has no graph") }
        let opset = try defaultOpset(model)
        let proto = model.graph
        var initializers: [String: Tensor] = [:]
        for tensor in proto.initializer {
            initializers[tensor.name] = try self.tensor(tensor)
        }
        let nodes = try proto.node.enumerated().map { index, node in try self.node(node, index: index) }
        let inputs = try proto.input.filter { initializers[$0.name] == nil }.map(tensorInfo)
        let outputs = try proto.output.map(tensorInfo)
        let graph = Graph(nodes: nodes, initializers: initializers, inputs: inputs, outputs: outputs, opset: opset)
        try checkWiring(graph)
        return graph
    }

    private static func defaultOpset(_ model: Onnx_ModelProto) throws -> Int {
        guard let entry = model.opsetImport.first(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }) else {
            throw KilnError.format("the model imports no default-domain (ai.onnx) opset")
        }
        let version = Int(entry.version)
        guard supportedOpsets.contains(version) else {
            throw KilnError.unsupported("opset \(version); Kiln reads opsets \(supportedOpsets.lowerBound) to \(supportedOpsets.upperBound) (re-export with one of those)")
        }
        return version
    }

    private static func node(_ proto: Onnx_NodeProto, index: Int) throws -> Node {
        let name = proto.name.isEmpty ? "\(proto.opType)_\(index)" : proto.name
        guard proto.domain.isEmpty || proto.domain == "ai.onnx" else {
            throw KilnError.unsupported("operator '\(proto.opType)' of domain '\(proto.domain)' (node '\(name)'): Kiln supports the default ONNX domain only")
        }
        var attributes: [String: Attribute] = [:]
        for attribute in proto.attribute {
            attributes[attribute.name] = try self.attribute(attribute, node: name)
        }
        return Node(name: name, opType: proto.opType, inputs: proto.input, outputs: proto.output, attributes: attributes)
    }

    private static func attribute(_ proto: Onnx_AttributeProto, node: String) throws -> Attribute {
        switch proto.type {
        case .int: return .int(Int(proto.i))
        case .float: return .float(proto.f)
        case .string: return .string(String(decoding: proto.s, as: UTF8.self))
        case .ints: return .ints(proto.ints.map { Int($0) })
        case .floats: return .floats(proto.floats)
        case .strings: return .strings(proto.strings.map { String(decoding: $0, as: UTF8.self) })
        case .tensor: return .tensor(try tensor(proto.t))
        default:
            // Old exporters leave `type` unset; infer it from the field that is present.
            if proto.hasI { return .int(Int(proto.i)) }
            if proto.hasF { return .float(proto.f) }
            if proto.hasS { return .string(String(decoding: proto.s, as: UTF8.self)) }
            if proto.hasT { return .tensor(try tensor(proto.t)) }
            if !proto.ints.isEmpty { return .ints(proto.ints.map { Int($0) }) }
            if !proto.floats.isEmpty { return .floats(proto.floats) }
            throw KilnError.unsupported("attribute '\(proto.name)' of node '\(node)' has type \(proto.type) (graphs and sparse tensors are not supported)")
        }
    }

    /// ONNX element type code → Kiln dtype (bool is stored as uint8).
    static func dtype(forElementType code: Int32, of what: String) throws -> DType {
        switch code {
        case 1: return .float32
        case 2, 9: return .uint8
        case 6: return .int32
        case 7: return .int64
        default:
            let names: [Int32: String] = [3: "int8", 4: "uint16", 5: "int16", 8: "string", 10: "float16", 11: "double",
                                          12: "uint32", 13: "uint64", 16: "bfloat16"]
            throw KilnError.unsupported("\(what) has element type \(names[code] ?? "#\(code)") (Kiln supports float32, uint8, bool, int32 and int64)")
        }
    }

    static func tensor(_ proto: Onnx_TensorProto) throws -> Tensor {
        let what = "tensor '\(proto.name)'"
        guard proto.dataLocation != .external else {
            throw KilnError.unsupported("\(what) keeps its data in an external file; save the model with the weights inside")
        }
        let shape = proto.dims.map { Int($0) }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw KilnError.format("\(what) has a negative dimension: \(shape)") }
        if proto.dataType == 11 {  // double constants are rare; read them as float32
            let values = proto.hasRawData ? try littleEndian(proto.rawData, as: Double.self, what: what) : proto.doubleData
            return try Tensor(shape: shape, values: try valuesFilling(values.map { Float($0) }, shape, what))
        }
        let dtype = try dtype(forElementType: proto.dataType, of: what)
        if proto.hasRawData {
            switch dtype {
            case .float32: return try Tensor(shape: shape, values: try valuesFilling(littleEndian(proto.rawData, as: Float.self, what: what), shape, what))
            case .uint8: return try Tensor(shape: shape, values: try valuesFilling(Array(proto.rawData), shape, what))
            case .int32: return try Tensor(shape: shape, values: try valuesFilling(littleEndian(proto.rawData, as: Int32.self, what: what), shape, what))
            case .int64: return try Tensor(shape: shape, values: try valuesFilling(littleEndian(proto.rawData, as: Int64.self, what: what), shape, what))
            }
        }
        switch dtype {
        case .float32: return try Tensor(shape: shape, values: try valuesFilling(proto.floatData, shape, what))
        case .uint8: return try Tensor(shape: shape, values: try valuesFilling(proto.int32Data.map { UInt8(truncatingIfNeeded: $0) }, shape, what))
        case .int32: return try Tensor(shape: shape, values: try valuesFilling(proto.int32Data, shape, what))
        case .int64: return try Tensor(shape: shape, values: try valuesFilling(proto.int64Data, shape, what))
        }
    }

    /// The values, if there are exactly as many as `shape` holds.
    private static func valuesFilling<T>(_ values: [T], _ shape: [Int], _ what: String) throws -> [T] {
        let expected = shape.reduce(1, *)
        guard values.count == expected else {
            throw KilnError.format("\(what) of shape \(shape) needs \(expected) values, the file has \(values.count)")
        }
        return values
    }

    private static func littleEndian<T: BitwiseCopyable>(_ data: some Collection<UInt8>, as type: T.Type, what: String) throws -> [T] {
        let size = MemoryLayout<T>.size
        guard data.count % size == 0 else { throw KilnError.format("\(what): raw data of \(data.count) bytes is not a whole number of \(size)-byte values") }
        let bytes = Array(data)
        return [T](unsafeUninitializedCapacity: bytes.count / size) { buffer, count in
            bytes.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
            }
            count = bytes.count / size
        }
    }

    private static func tensorInfo(_ proto: Onnx_ValueInfoProto) throws -> TensorInfo {
        guard proto.hasType, case .tensorType(let type)? = proto.type.value else {
            throw KilnError.unsupported("graph input/output '\(proto.name)' is not a tensor (sequences and maps are not supported)")
        }
        let dtype = try dtype(forElementType: type.elemType, of: "graph input/output '\(proto.name)'")
        let shape: [Dimension] = type.shape.dim.map { dimension in
            switch dimension.value {
            case .dimValue(let value)?: value > 0 ? .fixed(Int(value)) : .symbolic("")
            case .dimParam(let name)?: .symbolic(name)
            case nil: .symbolic("")
            }
        }
        return TensorInfo(name: proto.name, dtype: dtype, shape: shape)
    }

    /// Every value a node reads is a graph input, an initializer or an earlier node's output.
    private static func checkWiring(_ graph: Graph) throws {
        var known = Set(graph.inputs.map(\.name)).union(graph.initializers.keys)
        for node in graph.nodes {
            for input in node.inputs where !input.isEmpty && !known.contains(input) {
                throw KilnError.format("\(node.label) reads '\(input)', which no input, initializer or earlier node provides (missing initializer, or nodes out of order)")
            }
            known.formUnion(node.outputs.filter { !$0.isEmpty })
        }
        for output in graph.outputs where !known.contains(output.name) {
            throw KilnError.format("graph output '\(output.name)' is never produced")
        }
    }
}
