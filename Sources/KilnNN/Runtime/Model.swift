import KilnCore

/// A loaded, optimised model: immutable, shareable across threads. Run it with a `Session`.
public final class Model: Sendable {
    /// The graph after load-time folding and fusion.
    public let graph: Graph
    /// Operator counts of the model as exported (before folding and fusion).
    public let exportedOperatorCounts: [(String, Int)]
    let operators: [any Operator]

    public var inputs: [TensorInfo] { graph.inputs }
    public var outputs: [TensorInfo] { graph.outputs }
    public var opset: Int { graph.opset }

    /// Loads an ONNX file. Errors: `io` (unreadable), `format` (not ONNX, truncated, bad wiring),
    /// `unsupported` (an operator, opset or type Kiln does not run, naming the node).
    public convenience init(contentsOf path: String) throws {
        let bytes = try FileIO.read(path)
        do {
            try self.init(onnx: bytes)
        } catch let error as KilnError {
            throw KilnError(error.code, "\(path): \(error.message)")
        }
    }

    /// Loads an ONNX model from memory.
    public convenience init(onnx bytes: [UInt8]) throws {
        try self.init(graph: try ONNXImporter.graph(fromBytes: bytes))
    }

    public init(graph exported: Graph) throws {
        exportedOperatorCounts = exported.operatorCounts
        // Fail on unsupported operators before optimising, naming the node as exported.
        for node in exported.nodes where node.opType != "Constant" { _ = try OperatorRegistry.make(node, opset: exported.opset) }
        let optimized = try GraphOptimizer.optimize(exported)
        operators = try optimized.nodes.map { try OperatorRegistry.make($0, opset: optimized.opset) }
        graph = optimized
    }

    /// Parameters: elements of the float initializers of the model as loaded.
    public var parameterCount: Int { graph.parameterCount }

    /// Concrete input shapes with every symbolic dimension set to `batch` (the first axis) or 1.
    public func concreteInputShapes(batch: Int = 1) -> [[Int]] {
        inputs.map { info in
            info.shape.enumerated().map { axis, dimension in
                if case .fixed(let value) = dimension { return value }
                return axis == 0 ? batch : 1
            }
        }
    }

    /// Checks inputs against the declared names, types and shapes, in declaration order.
    func orderedInputs(_ named: [String: Tensor]) throws -> [Tensor] {
        try ordered(named.mapValues { ($0.dtype, $0.shape) })
        return inputs.map { named[$0.name]! }
    }

    /// Checks (dtype, shape) per input name; returns the shapes in declaration order.
    @discardableResult
    public func ordered(_ named: [String: (dtype: DType, shape: [Int])]) throws -> [[Int]] {
        for name in named.keys where !inputs.contains(where: { $0.name == name }) {
            throw KilnError(.notFound, "the model has no input '\(name)'; its inputs are: \(inputs.map(\.description).joined(separator: "; "))")
        }
        return try inputs.map { info in
            guard let (dtype, shape) = named[info.name] else {
                throw KilnError(.notFound, "input '\(info.name)' is missing (expected \(info))")
            }
            guard dtype == info.dtype else {
                throw KilnError.shapeMismatch("input '\(info.name)' must be \(info.dtype), got \(dtype)")
            }
            return try validatedShape(shape, for: info)
        }
    }

    func validatedShapes(_ shapes: [[Int]]) throws -> [[Int]] {
        guard shapes.count == inputs.count else {
            throw KilnError.invalidArgument("the model has \(inputs.count) inputs, got \(shapes.count)")
        }
        return try zip(inputs, shapes).map { try validatedShape($1, for: $0) }
    }

    private func validatedShape(_ shape: [Int], for info: TensorInfo) throws -> [Int] {
        guard shape.count == info.shape.count else {
            throw KilnError.shapeMismatch("input '\(info.name)' must have rank \(info.shape.count) (\(info)), got shape \(shape)")
        }
        for (axis, dimension) in info.shape.enumerated() {
            if case .fixed(let size) = dimension, shape[axis] != size {
                throw KilnError.shapeMismatch("input '\(info.name)' must have size \(size) on axis \(axis) (\(info)), got shape \(shape)")
            }
            guard shape[axis] > 0 else {
                throw KilnError.shapeMismatch("input '\(info.name)' has an empty axis \(axis): shape \(shape)")
            }
        }
        // Sizes computed from this shape must not overflow (planning multiplies them freely).
        _ = try checkedCount(shape, info.dtype, "input '\(info.name)'")
        return shape
    }

    /// A plan for these input shapes (validated): what `Session` caches and `kiln nn info` reports.
    func plan(for shapes: [[Int]]) throws -> Plan {
        try Plan(graph: graph, operators: operators,
                 inputTypes: zip(inputs, shapes).map { ValueType(dtype: $0.dtype, shape: $1) })
    }

    /// Floating-point operations for one run at `batch` (symbolic dimensions 1 otherwise).
    public func flops(batch: Int = 1) throws -> Int {
        try plan(for: concreteInputShapes(batch: batch)).flops
    }

    /// Which kernel runs each node, for one run at `batch`.
    public func kernels(batch: Int = 1) throws -> [(node: String, kernel: String, flops: Int)] {
        try plan(for: concreteInputShapes(batch: batch)).kernelReport
    }
}

/// Options of a `Session`.
public struct SessionOptions: Sendable {
    /// Threads Kiln computes with, GEMMs included. The count is process-wide (`Threads.setCount`): a value
    /// here sets it for every session; nil keeps the count in force.
    public var threads: Int?

    public init(threads: Int? = nil) { self.threads = threads }
}

/// Runs a `Model`. Plans are built once per set of input shapes and cached, so repeated runs
/// allocate only their output tensors. One session per thread: a session is not thread-safe,
/// a `Model` is, so many sessions can share one model.
public final class Session {
    public let model: Model
    private var plans: [[[Int]]: Plan] = [:]
    private var recent: [[[Int]]] = []
    private static let planCacheSize = 4

    public init(model: Model, options: SessionOptions = SessionOptions()) throws {
        self.model = model
        if let threads = options.threads { try Threads.setCount(threads) }
    }

    /// Runs the model. Inputs by name; returns every graph output by name.
    public func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        let ordered = try model.orderedInputs(inputs)
        let plan = try self.plan(for: ordered.map(\.shape))
        let results = try plan.run(ordered)
        return Dictionary(uniqueKeysWithValues: zip(model.outputs.map(\.name), results))
    }

    /// Runs the model with its outputs in declaration order.
    public func run(orderedInputs inputs: [String: Tensor]) throws -> [Tensor] {
        let ordered = try model.orderedInputs(inputs)
        return try plan(for: ordered.map(\.shape)).run(ordered)
    }

    /// Runs once and times every kernel: (node, kernel, milliseconds).
    public func profile(_ inputs: [String: Tensor]) throws -> [(node: String, kernel: String, milliseconds: Double)] {
        let ordered = try model.orderedInputs(inputs)
        return try plan(for: ordered.map(\.shape)).profile(ordered)
    }

    /// Output dtypes and shapes for inputs of these shapes (in declaration order), without running.
    public func outputTypes(forInputShapes shapes: [[Int]]) throws -> [(dtype: DType, shape: [Int])] {
        try plan(for: try model.validatedShapes(shapes)).outputs.map { ($0.buffer.type.dtype, $0.buffer.type.shape) }
    }

    /// Runs on caller memory, for the C ABI: dense inputs in declaration order with the given
    /// shapes, outputs written to buffers the caller sized with `outputTypes`. Allocates nothing
    /// once the plan for these shapes exists.
    public func run(inputShapes shapes: [[Int]], inputs: [UnsafeRawPointer], outputs: [UnsafeMutableRawPointer]) throws {
        let plan = try self.plan(for: try model.validatedShapes(shapes))
        try plan.run(inputs: inputs, outputs: outputs)
    }

    private func plan(for shapes: [[Int]]) throws -> Plan {
        if let plan = plans[shapes] { return plan }
        let plan = try model.plan(for: shapes)
        plans[shapes] = plan
        recent.append(shapes)
        if recent.count > Session.planCacheSize { plans[recent.removeFirst()] = nil }
        return plan
    }
}
