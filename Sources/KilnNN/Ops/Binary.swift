import KilnCore

/// Add, Sub, Mul, Div with broadcasting, on float32 (run time) and int64/int32 (shape arithmetic).
struct BinaryOp: Operator {
    enum Kind: String, Sendable { case add = "Add", sub = "Sub", mul = "Mul", div = "Div" }
    let kind: Kind
    let label: String

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let inputs = Inputs(values, label)
        let a = try inputs.required(0, "A").type, b = try inputs.required(1, "B").type
        guard a.dtype == b.dtype else {
            throw KilnError.shapeMismatch("\(label): A is \(a.dtype) and B is \(b.dtype); both must have one type")
        }
        let shape = try broadcastShape(a.shape, b.shape, label)
        let output = ValueType(dtype: a.dtype, shape: shape)
        let walk = BroadcastWalk(output: shape, operands: [a.shape, b.shape])
        let kind = self.kind
        let run: @Sendable ([Buffer?], [Buffer]) throws -> Void
        switch a.dtype {
        case .float32: run = { i, o in BinaryOp.compute(kind, walk, i[0]!.elements(Float.self), i[1]!.elements(Float.self), o[0].elements(Float.self)) }
        case .int64: run = { i, o in BinaryOp.compute(kind, walk, i[0]!.elements(Int64.self), i[1]!.elements(Int64.self), o[0].elements(Int64.self)) }
        case .int32: run = { i, o in BinaryOp.compute(kind, walk, i[0]!.elements(Int32.self), i[1]!.elements(Int32.self), o[0].elements(Int32.self)) }
        case .uint8: throw KilnError.unsupported("\(label): \(kind.rawValue) of uint8/bool tensors")
        }
        return Step(outputs: [output], flops: output.count, kernel: "\(a.dtype)-\(kind.rawValue.lowercased())-broadcast", run: run)
    }

    static func compute<T: BinaryArithmetic>(
        _ kind: Kind, _ walk: BroadcastWalk, _ a: UnsafeMutablePointer<T>, _ b: UnsafeMutablePointer<T>,
        _ c: UnsafeMutablePointer<T>
    ) {
        let (innerA, innerB) = (walk.strides[0].last!, walk.strides[1].last!)
        walk.forEachRun { offsets, outputOffset, count in
            let (x, y, z) = (a + offsets[0], b + offsets[1], c + outputOffset)
            switch kind {
            case .add: loop(x, innerA, y, innerB, z, count, T.add)
            case .sub: loop(x, innerA, y, innerB, z, count, T.subtract)
            case .mul: loop(x, innerA, y, innerB, z, count, T.multiply)
            case .div: loop(x, innerA, y, innerB, z, count, T.divide)
            }
        }
    }

    /// One inner run, with the common stride patterns (both dense, one broadcast) as plain loops
    /// the compiler vectorises.
    @inline(__always)
    static func loop<T>(
        _ x: UnsafeMutablePointer<T>, _ strideX: Int, _ y: UnsafeMutablePointer<T>, _ strideY: Int,
        _ z: UnsafeMutablePointer<T>, _ count: Int, _ f: (T, T) -> T
    ) {
        switch (strideX, strideY) {
        case (1, 1): for i in 0..<count { z[i] = f(x[i], y[i]) }
        case (1, 0): let v = y[0]; for i in 0..<count { z[i] = f(x[i], v) }
        case (0, 1): let v = x[0]; for i in 0..<count { z[i] = f(v, y[i]) }
        default: for i in 0..<count { z[i] = f(x[i * strideX], y[i * strideY]) }
        }
    }
}

/// Element types the binary operators compute on. Integers wrap on overflow and give 0 for a
/// division by zero (ONNX leaves both undefined) rather than trapping.
protocol BinaryArithmetic {
    static func add(_ a: Self, _ b: Self) -> Self
    static func subtract(_ a: Self, _ b: Self) -> Self
    static func multiply(_ a: Self, _ b: Self) -> Self
    static func divide(_ a: Self, _ b: Self) -> Self
}

extension Float: BinaryArithmetic {
    @inline(__always) static func add(_ a: Float, _ b: Float) -> Float { a + b }
    @inline(__always) static func subtract(_ a: Float, _ b: Float) -> Float { a - b }
    @inline(__always) static func multiply(_ a: Float, _ b: Float) -> Float { a * b }
    @inline(__always) static func divide(_ a: Float, _ b: Float) -> Float { a / b }
}

extension FixedWidthInteger {
    @inline(__always) static func add(_ a: Self, _ b: Self) -> Self { a &+ b }
    @inline(__always) static func subtract(_ a: Self, _ b: Self) -> Self { a &- b }
    @inline(__always) static func multiply(_ a: Self, _ b: Self) -> Self { a &* b }
    @inline(__always) static func divide(_ a: Self, _ b: Self) -> Self { b == 0 ? 0 : a.dividedReportingOverflow(by: b).partialValue }
}

extension Int64: BinaryArithmetic {}
extension Int32: BinaryArithmetic {}
